//! `POST /auth/v1/token?grant_type=password` with `{"email", "password"}` signs in;
//! `?grant_type=refresh_token` with `{"refresh_token"}` renews a session (the refresh
//! token is spent and a new one answered). Both answer a session (200).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};

use super::{refresh_lifetime, session_body, text_member};
use crate::error::ApiError;
use crate::extract::{json_request_body, query_params, take_param};
use crate::state::AppState;

pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let mut params = query_params(&uri)?;
    let grant = take_param(&mut params, "grant_type");
    let body = json_request_body(&state, &headers, body)?;
    let session = match grant.as_deref() {
        Some("password") => {
            let email = text_member(&body, "email")?;
            let password = text_member(&body, "password")?;
            let account = state
                .engine
                .sign_in(email, password, &state.config.sign_in_lockout)
                .await?;
            state
                .engine
                .start_session(account, refresh_lifetime(&state))
                .await?
        }
        Some("refresh_token") => {
            let token = text_member(&body, "refresh_token")?;
            state
                .engine
                .refresh_session(token, refresh_lifetime(&state))
                .await?
        }
        other => {
            return Err(ApiError::bad_request(
                "unsupported_grant_type",
                match other {
                    Some(grant) => format!("grant_type={grant} is not supported"),
                    None => "grant_type is required".to_owned(),
                },
            )
            .with_hint("Use grant_type=password or grant_type=refresh_token"))
        }
    };
    Ok(axum::Json(session_body(&state, session).await?).into_response())
}
