//! `DELETE /rest/v1/{model}?filters`: delete every live row matching the filters (a filter
//! is required). Soft-deletes models with `@@soft_delete`; `_hard=true` deletes
//! permanently where the schema allows it (`@@hard_delete`).

use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use tessera_runtime::{Context, DeleteRequest};

use super::media;
use super::prefer::{Prefer, Return};
use super::{filtered_write_query, written_rows};
use crate::error::ApiError;
use crate::state::AppState;

pub async fn delete(
    State(state): State<AppState>,
    Path(model): Path<String>,
    Extension(context): Extension<Context>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    let accept = media::accept(&headers)?;
    let prefer = Prefer::from_headers(&headers);
    let query = filtered_write_query(&state, &model, &uri, "DELETE")?;
    let request = DeleteRequest {
        model,
        filter: query.filter,
        hard: query.hard,
        select: query.select,
        single: accept == media::Accept::Object,
    };
    let rows = state.engine.delete(&context, &request).await?;
    written_rows(
        rows,
        accept,
        &prefer,
        prefer.return_ == Some(Return::Representation),
    )
}
