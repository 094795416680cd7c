//! What every handler shares.

use std::sync::Arc;

use tessera_runtime::Engine;

use crate::config::ServerConfig;
use crate::keys::Keys;
use crate::telemetry::Metrics;

/// The shared state of the server. Cheap to clone, as every layer above a handler
/// clones it for each request: it holds handles only.
#[derive(Clone)]
pub struct AppState {
    pub engine: Engine,
    pub keys: Arc<Keys>,
    pub config: Arc<ServerConfig>,
    pub metrics: Metrics,
    /// The OpenAPI document, generated once from the schema.
    pub openapi: Arc<serde_json::Value>,
}
