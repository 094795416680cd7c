//! `POST /rest/v1/{model}/restore?filters`: restore soft-deleted rows matching the filters
//! (a filter is required), with the rows their delete cascaded to. Answers the restored
//! rows (200) unless `Prefer: return=minimal` (204).

use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tessera_runtime::{Context, RestoreRequest};

use super::media;
use super::prefer::{Prefer, Return};
use super::{
    filter_required, json_response, preference_applied, query_params, rows_body, write_query,
};
use crate::error::ApiError;
use crate::state::AppState;

pub async fn restore(
    State(state): State<AppState>,
    Path(model): Path<String>,
    Extension(context): Extension<Context>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    let accept = media::accept(&headers)?;
    let prefer = Prefer::from_headers(&headers);
    let params = query_params(&uri)?;
    let query = write_query(&state, &model, &params)?;
    if query.filter.is_empty() {
        return Err(filter_required("restore"));
    }
    let request = RestoreRequest {
        model,
        filter: query.filter,
        select: query.select,
    };
    let rows = state.engine.restore(&context, &request).await?;
    let out = preference_applied(&prefer);
    if matches!(
        prefer.return_,
        Some(Return::Minimal) | Some(Return::HeadersOnly)
    ) {
        Ok((StatusCode::NO_CONTENT, out).into_response())
    } else {
        let (body, content_type) = rows_body(rows, accept)?;
        Ok(json_response(StatusCode::OK, &body, content_type, out))
    }
}
