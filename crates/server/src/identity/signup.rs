//! `POST /auth/v1/signup` with `{"email": ..., "password": ..., "data": {...}}`: creates an
//! account of the `@@auth` model and answers a session (200). `data` (or top-level
//! members) may set the fields the schema's `@@auth(signup: [...])` lists; the account's
//! validations, trimming and hashing apply as to any insert.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::{ready, refresh_lifetime, session_body};
use crate::error::ApiError;
use crate::rest::json_request_body;
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
    ready(&state).await?;
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

/// The account's fields: the body's members with `data` (Supabase's user metadata)
/// flattened into them.
fn account_fields(body: Value) -> Result<Value, ApiError> {
    let Value::Object(mut members) = body else {
        return Err(ApiError::bad_request(
            "PGRST102",
            "The sign-up body must be a JSON object with email and password",
        ));
    };
    // Supabase clients send their captcha token here; no captcha is configured.
    members.remove("gotrue_meta_security");
    for pkce in ["code_challenge", "code_challenge_method"] {
        if members.remove(pkce).is_some_and(|v| !v.is_null()) {
            return Err(ApiError::bad_request(
                "PGRST102",
                "PKCE sign-up is not supported: sign-up answers the session directly",
            )
            .with_hint("Use the implicit flow (flowType: 'implicit' in supabase-js)"));
        }
    }
    match members.remove("data") {
        None | Some(Value::Null) => {}
        Some(Value::Object(data)) => {
            for (key, value) in data {
                if members.contains_key(&key) {
                    return Err(ApiError::bad_request(
                        "PGRST102",
                        format!("\"{key}\" is given both in the body and in \"data\""),
                    ));
                }
                members.insert(key, value);
            }
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "PGRST102",
                "\"data\" must be a JSON object of account fields",
            ))
        }
    }
    Ok(Value::Object(members))
}
