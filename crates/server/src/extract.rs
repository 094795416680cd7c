//! Reading requests: query parameters and JSON bodies, with PostgREST's errors for what
//! cannot be read. Shared by the data API and the account routes.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode, Uri};
use serde_json::Value;

use crate::error::ApiError;
use crate::media;
use crate::state::AppState;

/// The query string as name/value pairs, percent- and `+`-decoded, in order.
pub fn query_params(uri: &Uri) -> Result<Vec<(String, String)>, ApiError> {
    Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map(|Query(pairs)| pairs)
        .map_err(|error| {
            ApiError::bad_request("PGRST100", "The query string cannot be decoded")
                .with_details(error.body_text())
        })
}

/// The request body, or 413 when it is over the limit.
pub fn body_bytes(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        if let Some(timed_out) = crate::limits::BodyTimedOut::find(&rejection) {
            ApiError::BodyTimeout {
                limit: timed_out.limit,
            }
        } else if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge { limit }
        } else {
            ApiError::bad_request("PGRST102", "The request body cannot be read")
                .with_details(rejection.body_text())
        }
    })
}

/// Removes the parameters named `name` from `params`, returning the last value.
pub fn take_param(params: &mut Vec<(String, String)>, name: &str) -> Option<String> {
    let mut found = None;
    params.retain(|(key, value)| {
        if key == name {
            found = Some(value.clone());
            false
        } else {
            true
        }
    });
    found
}

/// The JSON request body, read within the configured limits (size, nesting, rows and
/// members).
pub fn json_request_body(
    state: &AppState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Value, ApiError> {
    let bytes = body_bytes(body, state.config.body_limit)?;
    media::json_body(headers, &bytes, &media::JsonLimits::new(&state.config))
}
