//! `POST /rest/v1/{model}`: insert one object or an array of objects (in one
//! transaction); upsert with `on_conflict=` and `Prefer: resolution=...`; `columns=` to
//! take only the listed keys of each object.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tessera_runtime::{Caller, InsertRequest, Resolution, Returning};

use super::media;
use super::prefer::{self, Prefer, Return};
use super::{json_response, preference_applied, rows_body};
use crate::error::ApiError;
use crate::extract::{json_request_body, query_params, take_param};
use crate::state::AppState;

pub async fn insert(
    State(state): State<AppState>,
    Path(model): Path<String>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let accept = media::accept(&headers)?;
    let prefer = Prefer::from_headers(&headers);
    let mut params = query_params(&uri)?;
    let columns = take_param(&mut params, "columns").map(|c| parse_columns(&c));
    let query = tessera_runtime::parse_write_query_within(&params, &state.config.query_limits)?;
    let mut body = json_request_body(&state, &headers, body)?;
    if let Some(columns) = &columns {
        keep_columns(&mut body, columns);
    }
    let single_object = body.is_object();
    let request = InsertRequest {
        model: model.clone(),
        body,
        resolution: prefer.resolution.map(|r| match r {
            prefer::Resolution::MergeDuplicates => Resolution::MergeDuplicates,
            prefer::Resolution::IgnoreDuplicates => Resolution::IgnoreDuplicates,
        }),
        on_conflict: query.on_conflict,
        select: query.select,
        returning: match prefer.return_ {
            Some(Return::Representation) => Returning::Representation,
            // The key of a single row inserted makes its Location.
            Some(Return::HeadersOnly | Return::Minimal) if single_object => Returning::Keys,
            _ => Returning::Nothing,
        },
        single: accept == media::Accept::Object && prefer.return_ == Some(Return::Representation),
    };
    let rows = state.engine.insert(&caller, &request).await?;

    let mut out = preference_applied(&prefer);
    match prefer.return_ {
        Some(Return::Representation) => {
            let (body, content_type) = rows_body(rows, accept)?;
            Ok(json_response(StatusCode::CREATED, &body, content_type, out))
        }
        Some(Return::HeadersOnly) | Some(Return::Minimal) | None => {
            if single_object && rows.len() == 1 && prefer.return_.is_some() {
                if let Some(location) = location(&state, &model, &rows[0]) {
                    out.insert(header::LOCATION, location);
                }
            }
            Ok((StatusCode::CREATED, out).into_response())
        }
    }
}

/// `columns=a,b` or `columns="a","b"` (as postgrest-js sends it).
fn parse_columns(text: &str) -> Vec<String> {
    text.split(',')
        .map(|c| c.trim().trim_matches('"').to_owned())
        .filter(|c| !c.is_empty())
        .collect()
}

/// Keeps only `columns` in each object of `body`.
fn keep_columns(body: &mut Value, columns: &[String]) {
    let keep = |object: &mut serde_json::Map<String, Value>| {
        object.retain(|key, _| columns.iter().any(|c| c == key));
    };
    match body {
        Value::Object(object) => keep(object),
        Value::Array(items) => {
            for item in items {
                if let Value::Object(object) = item {
                    keep(object);
                }
            }
        }
        _ => {}
    }
}

/// `Location: /rest/v1/{model}?key=eq.value` for an inserted row whose key is known.
fn location(state: &AppState, model: &str, row: &Value) -> Option<HeaderValue> {
    let schema = state.engine.schema();
    let found = schema
        .models
        .iter()
        .find(|m| m.name == model)
        .or_else(|| schema.models.iter().find(|m| m.table == model))?;
    let mut url = format!("/rest/v1/{model}?");
    for (i, key) in found.primary_key.iter().enumerate() {
        let value = match row.get(key)? {
            Value::String(s) => s.clone(),
            Value::Null => return None,
            other => other.to_string(),
        };
        if i > 0 {
            url.push('&');
        }
        url.push_str(&percent_encoding::utf8_percent_encode(key, QUERY).to_string());
        url.push_str("=eq.");
        url.push_str(&percent_encoding::utf8_percent_encode(&value, QUERY).to_string());
    }
    HeaderValue::from_str(&url).ok()
}

const QUERY: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn columns_keep_only_the_listed_keys() {
        let mut body = json!([{"a": 1, "b": 2}, {"b": 3, "c": 4}]);
        keep_columns(&mut body, &parse_columns("\"a\",\"b\""));
        assert_eq!(body, json!([{"a": 1, "b": 2}, {"b": 3}]));
    }
}
