//! `GET /ready`: readiness. 200 when the database answers a ping within two seconds and
//! the server has a free slot for a request; 503 with `Retry-After` otherwise, naming the
//! reason (`the database does not answer`, `overloaded`), so that a load balancer sends
//! traffic elsewhere meanwhile.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::json;

use crate::error::OVERLOAD_RETRY_AFTER;
use crate::error::UNAVAILABLE_RETRY_AFTER;
use crate::limits::Load;
use crate::state::AppState;

/// How long the database may take to answer the readiness ping.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn ready(State(state): State<AppState>, load: Option<Extension<Arc<Load>>>) -> Response {
    let database = match tokio::time::timeout(PING_TIMEOUT, state.engine.ping()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(error.message),
        Err(_) => Err(format!("no answer within {} s", PING_TIMEOUT.as_secs())),
    };
    if let Err(error) = database {
        tracing::warn!(%error, "database ping failed");
        return not_ready(
            "unavailable",
            "the database does not answer",
            UNAVAILABLE_RETRY_AFTER,
        );
    }
    if let Some(Extension(load)) = load {
        if load.at_limit() {
            return not_ready(
                "overloaded",
                "the server is serving as many requests as it may at once",
                OVERLOAD_RETRY_AFTER,
            );
        }
    }
    (StatusCode::OK, Json(json!({ "status": "ready" }))).into_response()
}

fn not_ready(status: &str, reason: &str, retry_after: u64) -> Response {
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "status": status, "reason": reason })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    response
}
