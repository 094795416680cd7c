//! `GET /auth/v1/user`: the signed-in user's account row (secrets left out).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use tessera_runtime::Role;

use crate::auth::authenticate;
use crate::error::ApiError;
use crate::state::AppState;

pub async fn user(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let id = signed_in_user(&state, &headers)?;
    let row = state.engine.account_row_json(&id).await?;
    Ok(axum::Json(row).into_response())
}

/// The id of the user whose access token the request carries.
pub(super) fn signed_in_user(state: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    match authenticate(&state.keys, headers)?.role {
        Role::User(id) => Ok(id),
        Role::Service | Role::Anonymous => Err(ApiError::MissingKey),
    }
}
