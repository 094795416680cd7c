//! `POST /auth/v1/logout`: ends every session of the signed-in user (their refresh tokens
//! stop working; access tokens already issued run out at their expiry). Answers 204.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::user::signed_in_user;
use crate::error::ApiError;
use crate::state::AppState;

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = signed_in_user(&state, &headers)?;
    state.engine.end_sessions(&id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
