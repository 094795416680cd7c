//! `POST /rest/v1/{model}/publish?filters` with `{"from": "dev", "to": "stage"}`: publish
//! the environment content of the one row the filters select (such as a project) to the
//! next environment. Answers the publish log row (200); a failed run answers the error
//! (409, 422, ...) and stays recorded in the log with status `failed`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde_json::Value;
use tessera_runtime::{Caller, PublishRequest, ScopeRow};

use super::media;
use super::{filtered_write_query, json_response};
use crate::error::ApiError;
use crate::extract::json_request_body;
use crate::state::AppState;

pub async fn publish(
    State(state): State<AppState>,
    Path(model): Path<String>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    media::accept(&headers)?;
    let query = filtered_write_query(&state, &uri, "publish")?;
    let body = json_request_body(&state, &headers, body)?;
    let from = environment(&body, "from")?;
    let to = environment(&body, "to")?;
    let request = PublishRequest {
        scope_model: model,
        scope: ScopeRow::Matching(query.filter),
        from: from.to_owned(),
        to: to.to_owned(),
    };
    let log = state.engine.publish(&caller, &request).await?;
    Ok(json_response(
        StatusCode::OK,
        &log,
        "application/json; charset=utf-8",
        HeaderMap::new(),
    ))
}

/// A required string member of the body.
fn environment<'b>(body: &'b Value, key: &str) -> Result<&'b str, ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "PGRST102",
            "The publish body must be a JSON object such as {\"from\": \"dev\", \"to\": \"stage\"}",
        ));
    }
    body.get(key).and_then(Value::as_str).ok_or_else(|| {
        ApiError::bad_request(
            "PGRST102",
            format!("The publish body needs \"{key}\": the name of an environment"),
        )
        .with_hint("Send {\"from\": \"dev\", \"to\": \"stage\"}")
    })
}
