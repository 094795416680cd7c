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

/// Checks the body's `Content-Type` and parses it as JSON. A missing content type is
/// taken as JSON (as PostgREST does).
pub fn json_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, ApiError> {
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
    serde_json::from_slice(body).map_err(|error| {
        ApiError::bad_request("PGRST102", "Empty or invalid json")
            .with_details(format!("{error}"))
            .with_hint("Send a JSON object or an array of objects")
    })
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
        assert!(json_body(&HeaderMap::new(), &body).is_ok());
        assert!(json_body(
            &with(header::CONTENT_TYPE, "application/json; charset=utf-8"),
            &body
        )
        .is_ok());
        assert!(matches!(
            json_body(&with(header::CONTENT_TYPE, "text/csv"), &body),
            Err(ApiError::UnsupportedMediaType { .. })
        ));
        assert!(json_body(&HeaderMap::new(), &Bytes::from_static(b"{")).is_err());
    }
}
