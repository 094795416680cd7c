//! `GET /metrics`: Prometheus text exposition of request counts, latencies, the load
//! (requests in flight, waiting, shed) and the database pool.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Extension;

use crate::limits::Load;
use crate::state::AppState;

pub async fn metrics(
    State(state): State<AppState>,
    load: Option<Extension<Arc<Load>>>,
) -> impl IntoResponse {
    let pool = state.engine.pool_stats();
    metrics::gauge!("tessera_db_pool_connections", "state" => "size").set(pool.size as f64);
    metrics::gauge!("tessera_db_pool_connections", "state" => "idle").set(pool.idle as f64);
    if let Some(Extension(load)) = load {
        let figures = load.figures();
        metrics::gauge!("tessera_http_requests_in_flight").set(figures.in_flight as f64);
        metrics::gauge!("tessera_http_requests_waiting").set(figures.waiting as f64);
        metrics::gauge!("tessera_http_requests_limit").set(figures.limit as f64);
        metrics::counter!("tessera_http_requests_shed_total").absolute(figures.shed);
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
