//! `GET /health`: liveness. Answers as long as the process serves requests.

use axum::Json;
use serde_json::{json, Value};

pub async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}
