//! `POST /rest/v1/{model}/restore?filters`: restore soft-deleted rows matching the filters
//! (a filter is required), with the rows their delete cascaded to. Answers the restored
//! rows (200) unless `Prefer: return=minimal` (204).

use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use tessera_runtime::{Caller, RestoreRequest};

use super::media;
use super::prefer::Prefer;
use super::{filtered_write_query, returning, written_rows};
use crate::error::ApiError;
use crate::state::AppState;

pub async fn restore(
    State(state): State<AppState>,
    Path(model): Path<String>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    let accept = media::accept(&headers)?;
    let prefer = Prefer::from_headers(&headers);
    let query = filtered_write_query(&state, &uri, "restore")?;
    let request = RestoreRequest {
        model,
        filter: query.filter,
        select: query.select,
        returning: returning(&prefer, true),
    };
    let rows = state.engine.restore(&caller, &request).await?;
    written_rows(rows, accept, &prefer, request.returning)
}
