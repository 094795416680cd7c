//! `GET /auth/v1/user`: the signed-in user's account row (secrets left out).
//! `PUT /auth/v1/user` with `{"email"?, "password"?, "data"?: {...}}`: the user changes
//! their own email, password or sign-up fields (Supabase's `updateUser`), whatever the
//! access rules say of the account model; answers the account row.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::account_fields;
use crate::auth::authenticate;
use crate::error::ApiError;
use crate::extract::json_request_body;
use crate::state::AppState;

pub async fn user(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let id = signed_in_user(&state, &headers)?;
    let row = state.engine.account_row_json(&id).await?;
    Ok(axum::Json(row).into_response())
}

pub async fn update_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let id = signed_in_user(&state, &headers)?;
    let body = json_request_body(&state, &headers, body)?;
    let changes = account_fields(body)?;
    let row = state.engine.update_account(&id, &changes).await?;
    Ok(axum::Json(row).into_response())
}

/// The id of the user whose access token the request carries.
pub(super) fn signed_in_user(state: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    authenticate(&state.keys, headers)?
        .user_id()
        .map(str::to_owned)
        .ok_or(ApiError::MissingKey)
}
