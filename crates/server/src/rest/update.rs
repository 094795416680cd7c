//! `PATCH /rest/v1/{model}?filters`: update every live row matching the filters (a
//! filter is required).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tessera_runtime::{Context, UpdateRequest};

use super::media;
use super::prefer::{Prefer, Return};
use super::{
    body_bytes, filter_required, json_response, preference_applied, query_params, rows_body,
    write_query,
};
use crate::error::ApiError;
use crate::state::AppState;

pub async fn update(
    State(state): State<AppState>,
    Path(model): Path<String>,
    Extension(context): Extension<Context>,
    headers: HeaderMap,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let accept = media::accept(&headers)?;
    let prefer = Prefer::from_headers(&headers);
    let params = query_params(&uri)?;
    let query = write_query(&state, &model, &params)?;
    if query.filter.is_empty() {
        return Err(filter_required("PATCH"));
    }
    let bytes = body_bytes(body, state.config.body_limit)?;
    let body = media::json_body(&headers, &bytes)?;
    let request = UpdateRequest {
        model,
        filter: query.filter,
        body,
        json_merge: prefer.json_merge,
        select: query.select,
    };
    let rows = state.engine.update(&context, &request).await?;
    let out = preference_applied(&prefer);
    if prefer.return_ == Some(Return::Representation) {
        let (body, content_type) = rows_body(rows, accept)?;
        Ok(json_response(StatusCode::OK, &body, content_type, out))
    } else {
        Ok((StatusCode::NO_CONTENT, out).into_response())
    }
}
