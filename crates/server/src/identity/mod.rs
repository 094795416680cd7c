//! Accounts and sessions under `/auth/v1`, shaped like Supabase Auth (GoTrue) so that its
//! clients can sign up, sign in and renew sessions: one handler per file.
//!
//! A session answer is `{access_token, token_type, expires_in, expires_at,
//! refresh_token, user}`: the access token is a JWT ([`crate::tokens`]) sent as
//! `Authorization: Bearer` to the data API, the refresh token (kept by the runtime, used
//! once) renews it.

mod logout;
mod signup;
mod token;
mod user;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use tessera_runtime::Session;

use crate::error::ApiError;
use crate::state::AppState;

/// The routes of accounts and sessions; they need no key.
pub fn router(state: AppState) -> Router {
    let limit = state.config.body_limit;
    Router::new()
        .route("/auth/v1/signup", post(signup::signup))
        .route("/auth/v1/token", post(token::token))
        .route("/auth/v1/user", get(user::user).put(user::update_user))
        .route("/auth/v1/logout", post(logout::logout))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// The answer to a successful sign-up, sign-in or renewal.
async fn session_body(state: &AppState, session: Session) -> Result<Value, ApiError> {
    let lifetime = i64::try_from(state.config.access_token_lifetime.as_secs()).unwrap_or(i64::MAX);
    let (access_token, expires_at) = state
        .keys
        .tokens
        .issue(&session.account, lifetime)
        .map_err(|e| ApiError::Internal(format!("cannot sign a token: {e}")))?;
    let user = state.engine.account_row_json(&session.account.id).await?;
    Ok(json!({
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": lifetime,
        "expires_at": expires_at,
        "refresh_token": session.refresh_token,
        "user": user,
    }))
}

fn refresh_lifetime(state: &AppState) -> i64 {
    i64::try_from(state.config.refresh_token_lifetime.as_secs()).unwrap_or(i64::MAX)
}

/// A required string member of a JSON object body.
fn text_member<'b>(body: &'b Value, key: &str) -> Result<&'b str, ApiError> {
    body.get(key).and_then(Value::as_str).ok_or_else(|| {
        ApiError::bad_request("PGRST102", format!("The body needs \"{key}\" as a string"))
    })
}

/// The account's fields: the body's members with `data` (Supabase's user metadata)
/// flattened into them.
pub(super) fn account_fields(body: Value) -> Result<Value, ApiError> {
    let Value::Object(mut members) = body else {
        return Err(ApiError::bad_request(
            "PGRST102",
            "The body must be a JSON object of account fields",
        ));
    };
    // Supabase clients send their captcha token here; no captcha is configured.
    members.remove("gotrue_meta_security");
    for pkce in ["code_challenge", "code_challenge_method"] {
        if members.remove(pkce).is_some_and(|v| !v.is_null()) {
            return Err(ApiError::bad_request(
                "PGRST102",
                "The PKCE flow is not supported: sign-up answers the session directly",
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
