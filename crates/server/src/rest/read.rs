//! `GET /rest/v1/{model}` (and `HEAD`, answered by the same handler without a body):
//! rows in PostgREST's query grammar, with `Range` headers, `Prefer: count=exact` and
//! single-object responses.

use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::Response;
use tessera_runtime::Caller;

use super::prefer::Prefer;
use super::{json_response, preference_applied, range, rows_body};
use crate::error::ApiError;
use crate::extract::query_params;
use crate::media::{self, Accept};
use crate::state::AppState;

pub async fn read(
    State(state): State<AppState>,
    Path(model): Path<String>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    let accept = media::accept(&headers)?;
    let prefer = Prefer::from_headers(&headers);
    let params = query_params(&uri)?;
    let mut request =
        tessera_runtime::parse_read_within(&model, &params, &state.config.query_limits)?;
    let rows_wanted = range::combine(range::requested(&headers), request.offset, request.limit);
    request.offset = (rows_wanted.offset > 0).then_some(rows_wanted.offset);
    request.limit = rows_wanted.limit;
    request.count = prefer.count;
    let result = state.engine.read(&caller, &request).await?;

    let offset = rows_wanted.offset;
    let returned = result.rows.len();
    if let Some(total) = result.total {
        if returned == 0 && offset > 0 && offset >= total {
            return Err(ApiError::client(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "PGRST103",
                "Requested range not satisfiable",
            )
            .with_details(format!(
                "An offset of {offset} was requested, but there are only {total} rows."
            )));
        }
    }
    let partial = result
        .total
        .is_some_and(|total| offset > 0 || offset.saturating_add(returned as u64) < total);
    let status = if partial && accept == Accept::Json {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let mut out = preference_applied(&prefer);
    if let Ok(value) = HeaderValue::from_str(&range::content_range(offset, returned, result.total))
    {
        out.insert("content-range", value);
    }
    let (body, content_type) = rows_body(result.rows, accept)?;
    Ok(json_response(status, &body, content_type, out))
}
