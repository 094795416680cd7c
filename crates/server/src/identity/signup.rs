//! `POST /auth/v1/signup` with `{"email": ..., "password": ..., "data": {...}}`: creates an
//! account of the `@@auth` model and answers a session (200). `data` (or top-level
//! members) may set the fields the schema's `@@auth(signup: [...])` lists; the account's
//! validations, trimming and hashing apply as to any insert.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{account_fields, refresh_lifetime, session_body};
use crate::error::ApiError;
use crate::extract::json_request_body;
use crate::state::AppState;

pub async fn signup(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    if !state.config.signup {
        return Err(ApiError::client(
            StatusCode::FORBIDDEN,
            "signup_disabled",
            "Sign-ups are disabled on this server",
        )
        .with_hint("Ask an administrator to create the account"));
    }
    let body = json_request_body(&state, &headers, body)?;
    let row = account_fields(body)?;
    let created = state.engine.sign_up(&row).await?;
    // An account that starts disabled (awaiting approval) is created but not signed in.
    let account = state.engine.account(&created.id).await?;
    let session = state
        .engine
        .start_session(account, refresh_lifetime(&state))
        .await?;
    Ok(axum::Json(session_body(&state, session).await?).into_response())
}
