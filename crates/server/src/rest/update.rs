//! `PATCH /rest/v1/{model}?filters`: update every live row matching the filters (a
//! filter is required).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use tessera_runtime::{Caller, UpdateRequest};

use super::media;
use super::prefer::Prefer;
use super::{filtered_write_query, returning, written_rows};
use crate::error::ApiError;
use crate::extract::json_request_body;
use crate::state::AppState;

pub async fn update(
    State(state): State<AppState>,
    Path(model): Path<String>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let accept = media::accept(&headers)?;
    let prefer = Prefer::from_headers(&headers);
    let query = filtered_write_query(&state, &uri, "PATCH")?;
    let body = json_request_body(&state, &headers, body)?;
    let request = UpdateRequest {
        model,
        filter: query.filter,
        body,
        json_merge: prefer.json_merge,
        select: query.select,
        returning: returning(&prefer, false),
        single: accept == media::Accept::Object,
    };
    let rows = state.engine.update(&caller, &request).await?;
    written_rows(rows, accept, &prefer, request.returning)
}
