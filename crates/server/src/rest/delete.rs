//! `DELETE /rest/v1/{model}?filters`: delete every live row matching the filters (a filter
//! is required). Soft-deletes models with `@@soft_delete`; `_hard=true` deletes
//! permanently where the schema allows it (`@@hard_delete`).

use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use tessera_runtime::{Caller, DeleteRequest};

use super::media;
use super::prefer::Prefer;
use super::{filtered_write_query, returning, written_rows};
use crate::error::ApiError;
use crate::state::AppState;

pub async fn delete(
    State(state): State<AppState>,
    Path(model): Path<String>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    let accept = media::accept(&headers)?;
    let prefer = Prefer::from_headers(&headers);
    let query = filtered_write_query(&state, &uri, "DELETE")?;
    let request = DeleteRequest {
        model,
        filter: query.filter,
        hard: query.hard,
        select: query.select,
        returning: returning(&prefer, false),
        single: accept == media::Accept::Object,
    };
    let rows = state.engine.delete(&caller, &request).await?;
    written_rows(rows, accept, &prefer, request.returning)
}
