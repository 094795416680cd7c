//! `GET /openapi.json`: the OpenAPI 3.1 document of the schema.

use axum::extract::State;
use axum::Json;
use serde_json::Value;

use crate::state::AppState;

pub async fn openapi(State(state): State<AppState>) -> Json<Value> {
    Json((*state.openapi).clone())
}
