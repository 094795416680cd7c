//! `GET /metrics`: Prometheus text exposition of request counts, latencies and the
//! database pool.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::state::AppState;

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let pool = state.engine.pool_stats();
    metrics::gauge!("tessera_db_pool_connections", "state" => "size").set(pool.size as f64);
    metrics::gauge!("tessera_db_pool_connections", "state" => "idle").set(pool.idle as f64);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
