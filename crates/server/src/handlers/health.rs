//! `GET /health`: liveness. Answers 200 as long as the process serves requests, also when
//! it is overloaded (restarting an overloaded process would not help), with the figures of
//! its load: requests in flight, waiting, the limit, and how many were turned away.

use std::sync::Arc;

use axum::{Extension, Json};
use serde_json::{json, Value};

use crate::limits::Load;

pub async fn health(load: Option<Extension<Arc<Load>>>) -> Json<Value> {
    match load {
        Some(Extension(load)) => Json(json!({ "status": "ok", "requests": load.figures() })),
        None => Json(json!({ "status": "ok" })),
    }
}
