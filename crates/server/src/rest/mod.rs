//! The data API under `/rest/v1`, in PostgREST's HTTP conventions so that PostgREST
//! clients (`@supabase/postgrest-js`) work unchanged. One handler per file; the helpers
//! here turn requests into the runtime's requests and rows into responses.

mod delete;
mod insert;
pub mod prefer;
mod publish;
pub mod range;
mod read;
mod restore;
mod update;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;

use crate::error::ApiError;
use crate::extract::query_params;
use crate::media::{self, Accept};
use crate::state::AppState;

/// The routes of the data API; each request runs as the caller its credentials name.
pub fn router(state: AppState) -> Router {
    let limit = state.config.body_limit;
    Router::new()
        .route(
            "/rest/v1/{model}",
            get(read::read)
                .post(insert::insert)
                .patch(update::update)
                .delete(delete::delete),
        )
        .route("/rest/v1/{model}/restore", post(restore::restore))
        .route("/rest/v1/{model}/publish", post(publish::publish))
        // As PostgREST does, the root of the API describes it.
        .route("/rest/v1", get(crate::handlers::openapi::openapi))
        .route("/rest/v1/", get(crate::handlers::openapi::openapi))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::identify,
        ))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// The error PostgREST answers when a single object was asked for and the result has
/// another number of rows.
pub fn not_one_row(rows: usize) -> ApiError {
    ApiError::client(
        StatusCode::NOT_ACCEPTABLE,
        "PGRST116",
        "JSON object requested, multiple (or no) rows returned",
    )
    .with_details(format!("The result contains {rows} rows"))
}

/// The JSON body of rows: an array, or the one object for [`Accept::Object`] (406 when
/// there is not exactly one row).
pub fn rows_body(rows: Vec<Value>, accept: Accept) -> Result<(Value, &'static str), ApiError> {
    match accept {
        Accept::Json => Ok((Value::Array(rows), "application/json; charset=utf-8")),
        Accept::Object => {
            if rows.len() != 1 {
                return Err(not_one_row(rows.len()));
            }
            let row = rows.into_iter().next().unwrap_or(Value::Null);
            Ok((row, "application/vnd.pgrst.object+json; charset=utf-8"))
        }
    }
}

/// A JSON response with a status and extra headers.
pub fn json_response(
    status: StatusCode,
    body: &Value,
    content_type: &'static str,
    headers: HeaderMap,
) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"null".to_vec());
    let mut response = (status, headers, bytes).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Headers for the `Preference-Applied` answer, when anything was applied.
pub fn preference_applied(prefer: &prefer::Prefer) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(applied) = prefer.applied() {
        if let Ok(value) = HeaderValue::from_str(&applied) {
            headers.insert("preference-applied", value);
        }
    }
    headers
}

/// The error for a write without a filter.
pub fn filter_required(method: &str) -> ApiError {
    ApiError::bad_request("21000", format!("{method} requires a filter"))
        .with_hint("Add a filter such as ?id=eq.VALUE; to address every row use a filter every row matches, such as ?id=not.is.null")
}

/// The query parameters of a write that must be filtered (`PATCH`, `DELETE`, restore,
/// publish), refused without a filter (`method` names the operation in the error).
pub fn filtered_write_query(
    state: &AppState,
    uri: &Uri,
    method: &str,
) -> Result<tessera_runtime::WriteQuery, ApiError> {
    let params = query_params(uri)?;
    let query = tessera_runtime::parse_write_query_within(&params, &state.config.query_limits)?;
    if query.filter.is_empty() {
        return Err(filter_required(method));
    }
    Ok(query)
}

/// What a write answers with: the rows with `Prefer: return=representation` (or, where
/// `by_default`, without a `return` preference), otherwise nothing.
pub fn returning(prefer: &prefer::Prefer, by_default: bool) -> tessera_runtime::Returning {
    match prefer.return_ {
        Some(prefer::Return::Representation) => tessera_runtime::Returning::Representation,
        None if by_default => tessera_runtime::Returning::Representation,
        _ => tessera_runtime::Returning::Nothing,
    }
}

/// The answer to a write of `rows`: the rows (200, an array or the one object `accept`
/// asks for) when they were asked for, otherwise 204; both with `Preference-Applied`.
pub fn written_rows(
    rows: Vec<Value>,
    accept: Accept,
    prefer: &prefer::Prefer,
    returned: tessera_runtime::Returning,
) -> Result<Response, ApiError> {
    let out = preference_applied(prefer);
    if returned == tessera_runtime::Returning::Representation {
        let (body, content_type) = rows_body(rows, accept)?;
        Ok(json_response(StatusCode::OK, &body, content_type, out))
    } else {
        Ok((StatusCode::NO_CONTENT, out).into_response())
    }
}
