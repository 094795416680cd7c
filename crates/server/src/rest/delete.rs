//! `DELETE /rest/v1/{model}?filters`: delete every live row matching the filters (a filter
//! is required). Soft-deletes models with `@@soft_delete`; `_hard=true` deletes
//! permanently where the schema allows it (`@@hard_delete`).

use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tessera_runtime::{Context, DeleteRequest};

use super::media;
use super::prefer::{Prefer, Return};
use super::{
    filter_required, json_response, preference_applied, query_params, rows_body, write_query,
};
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
    let params = query_params(&uri)?;
    let query = write_query(&state, &model, &params)?;
    if query.filter.is_empty() {
        return Err(filter_required("DELETE"));
    }
    let request = DeleteRequest {
        model,
        filter: query.filter,
        hard: query.hard,
        select: query.select,
    };
    let rows = state.engine.delete(&context, &request).await?;
    let out = preference_applied(&prefer);
    if prefer.return_ == Some(Return::Representation) {
        let (body, content_type) = rows_body(rows, accept)?;
        Ok(json_response(StatusCode::OK, &body, content_type, out))
    } else {
        Ok((StatusCode::NO_CONTENT, out).into_response())
    }
}
