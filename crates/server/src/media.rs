//! Media types: what a request body is (`Content-Type`) and what the client accepts.

use axum::body::Bytes;
use axum::http::{header, HeaderMap};
use serde_json::Value;

use crate::error::ApiError;

/// PostgREST's media type for a single JSON object.
pub const OBJECT_JSON: &str = "application/vnd.pgrst.object+json";

/// The response shape a client accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accept {
    /// A JSON array of rows.
    Json,
    /// Exactly one row as a JSON object.
    Object,
}

/// Reads the `Accept` header: the first supported type in the list wins. Missing means
/// JSON; a list of only unsupported types is a 406.
pub fn accept(headers: &HeaderMap) -> Result<Accept, ApiError> {
    let Some(value) = headers.get(header::ACCEPT) else {
        return Ok(Accept::Json);
    };
    let text = value.to_str().map_err(|_| ApiError::NotAcceptable {
        accept: "(not valid header text)".into(),
    })?;
    if text.trim().is_empty() {
        return Ok(Accept::Json);
    }
    for item in text.split(',') {
        let essence = item
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            OBJECT_JSON => return Ok(Accept::Object),
            "application/json" | "*/*" | "application/*" | "application/vnd.pgrst.array+json" => {
                return Ok(Accept::Json)
            }
            _ => {}
        }
    }
    Err(ApiError::NotAcceptable {
        accept: text.to_owned(),
    })
}

/// The bounds on the shape of a JSON body (its size is bounded before it is read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonLimits {
    /// Deepest nesting of arrays and objects.
    pub max_depth: usize,
    /// Most rows (elements of a top-level array).
    pub max_rows: usize,
    /// Most members of one row object (the top-level object, or an element of the
    /// top-level array).
    pub max_keys: usize,
}

impl JsonLimits {
    pub fn new(config: &crate::ServerConfig) -> JsonLimits {
        JsonLimits {
            max_depth: config.max_json_depth,
            max_rows: config.max_body_rows,
            max_keys: config.max_body_keys,
        }
    }
}

impl Default for JsonLimits {
    fn default() -> Self {
        JsonLimits::new(&crate::ServerConfig::default())
    }
}

/// Checks the body's `Content-Type` and parses it as JSON within `limits`: a body nested
/// too deep, with too many rows or a row with too many members is refused before it is
/// parsed. A missing content type is taken as JSON (as PostgREST does).
pub fn json_body(
    headers: &HeaderMap,
    body: &Bytes,
    limits: &JsonLimits,
) -> Result<Value, ApiError> {
    if let Some(value) = headers.get(header::CONTENT_TYPE) {
        let text = value.to_str().unwrap_or("(not valid header text)");
        let essence = text
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !matches!(essence.as_str(), "application/json" | OBJECT_JSON) {
            return Err(ApiError::UnsupportedMediaType {
                content_type: text.to_owned(),
            });
        }
    }
    shape(body, limits)?;
    serde_json::from_slice(body).map_err(|error| {
        ApiError::bad_request("PGRST102", "Empty or invalid json")
            .with_details(format!("{error}"))
            .with_hint("Send a JSON object or an array of objects")
    })
}

/// Checks a JSON text's shape against `limits` in one pass over its bytes, without
/// parsing it (brackets and commas inside strings do not count): the nesting of arrays
/// and objects, the rows of a top-level array (its elements) and the members of each row
/// object (the top-level object, or an object element of the top-level array). A text
/// that is not JSON passes, for the parser to refuse.
fn shape(body: &[u8], limits: &JsonLimits) -> Result<(), ApiError> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    // The kinds of the containers at depths 1 and 2 (the top level and its elements).
    let mut kinds = [0u8; 2];
    // Commas seen directly in the top-level array, and in the current row object.
    let mut row_commas = 0usize;
    let mut member_commas = 0usize;
    for (offset, &byte) in body.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limits.max_depth {
                    return Err(ApiError::bad_request(
                        "PGRST102",
                        "The JSON body is nested too deep",
                    )
                    .with_details(format!(
                        "arrays and objects nested deeper than {} levels (at byte {offset})",
                        limits.max_depth
                    ))
                    .with_hint("Send a JSON object or an array of objects"));
                }
                if depth <= 2 {
                    kinds[depth - 1] = byte;
                }
                let opens_row = byte == b'{' && (depth == 1 || (depth == 2 && kinds[0] == b'['));
                if opens_row {
                    member_commas = 0;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' => {
                let in_rows = depth == 1 && kinds[0] == b'[';
                let in_row = (depth == 1 && kinds[0] == b'{')
                    || (depth == 2 && kinds[0] == b'[' && kinds[1] == b'{');
                if in_rows {
                    row_commas += 1;
                    if row_commas >= limits.max_rows {
                        return Err(ApiError::TooManyRows {
                            limit: limits.max_rows,
                        });
                    }
                } else if in_row {
                    member_commas += 1;
                    if member_commas >= limits.max_keys {
                        return Err(ApiError::bad_request(
                            "PGRST102",
                            "A row of the JSON body has too many members",
                        )
                        .with_details(format!(
                            "row {row_commas} has more than {} members",
                            limits.max_keys
                        ))
                        .with_hint("Send only the fields of the model"));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(name: header::HeaderName, value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn accept_picks_the_first_supported_type() {
        assert_eq!(accept(&HeaderMap::new()).ok(), Some(Accept::Json));
        assert_eq!(
            accept(&with(header::ACCEPT, "application/vnd.pgrst.object+json")).ok(),
            Some(Accept::Object)
        );
        assert_eq!(
            accept(&with(header::ACCEPT, "text/html, */*;q=0.8")).ok(),
            Some(Accept::Json)
        );
        assert!(accept(&with(header::ACCEPT, "text/csv")).is_err());
    }

    #[test]
    fn bodies_must_be_json() {
        let body = Bytes::from_static(b"{\"a\":1}");
        let limits = JsonLimits::default();
        assert!(json_body(&HeaderMap::new(), &body, &limits).is_ok());
        assert!(json_body(
            &with(header::CONTENT_TYPE, "application/json; charset=utf-8"),
            &body,
            &limits
        )
        .is_ok());
        assert!(matches!(
            json_body(&with(header::CONTENT_TYPE, "text/csv"), &body, &limits),
            Err(ApiError::UnsupportedMediaType { .. })
        ));
        assert!(json_body(&HeaderMap::new(), &Bytes::from_static(b"{"), &limits).is_err());
    }

    fn body_of(text: String) -> Bytes {
        Bytes::from(text)
    }

    fn nested(depth: usize) -> String {
        format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
    }

    fn code(result: Result<Value, ApiError>) -> (u16, String) {
        let error = result.expect_err("refused");
        let body = error.body();
        (
            error.status().as_u16(),
            body["code"].as_str().unwrap_or_default().to_owned(),
        )
    }

    #[test]
    fn bodies_nested_to_the_limit_are_read_and_deeper_ones_refused() {
        let limits = JsonLimits::default();
        let headers = HeaderMap::new();
        assert!(json_body(&headers, &body_of(nested(64)), &limits).is_ok());
        assert_eq!(
            code(json_body(&headers, &body_of(nested(65)), &limits)),
            (400, "PGRST102".into())
        );
        // A million brackets are refused at the 65th, without recursion.
        assert_eq!(
            code(json_body(
                &headers,
                &body_of("[".repeat(1_000_000)),
                &limits
            )),
            (400, "PGRST102".into())
        );
        // Brackets inside strings, escaped quotes included, are text.
        let text = format!("{{\"a\": \"\\\"{}\"}}", "[".repeat(100));
        assert!(json_body(&headers, &body_of(text), &limits).is_ok());
    }

    #[test]
    fn bodies_with_rows_to_the_limit_are_read_and_more_refused() {
        let limits = JsonLimits::default();
        let headers = HeaderMap::new();
        let rows = |n: usize| format!("[{}]", vec!["{}"; n].join(","));
        assert!(json_body(&headers, &body_of(rows(10_000)), &limits).is_ok());
        assert_eq!(
            code(json_body(&headers, &body_of(rows(10_001)), &limits)),
            (413, "PGRST413".into())
        );
    }

    #[test]
    fn rows_with_members_to_the_limit_are_read_and_more_refused() {
        let limits = JsonLimits::default();
        let headers = HeaderMap::new();
        let row = |n: usize| {
            format!(
                "{{{}}}",
                (0..n)
                    .map(|i| format!("\"k{i}\":1"))
                    .collect::<Vec<_>>()
                    .join(",")
            )
        };
        assert!(json_body(&headers, &body_of(row(1000)), &limits).is_ok());
        assert_eq!(
            code(json_body(&headers, &body_of(row(1001)), &limits)),
            (400, "PGRST102".into())
        );
        assert_eq!(
            code(json_body(
                &headers,
                &body_of(format!("[{{}},{}]", row(1001))),
                &limits
            )),
            (400, "PGRST102".into())
        );
        // Members of a row are counted across the objects nested in it.
        let members = row(1000);
        let nested = format!(
            "{{\"x\":{{\"y\":1,\"z\":2}},{}}}",
            &members[1..members.len() - 1]
        );
        assert_eq!(
            code(json_body(&headers, &body_of(nested), &limits)),
            (400, "PGRST102".into())
        );
    }
}
