//! The Tessera HTTP server.
//!
//! [`router`] builds the whole application from an [`AppState`]; [`serve`] runs it on a
//! listener until a shutdown signal, letting in-flight requests finish.
//!
//! Routes:
//!
//! | route | what |
//! |---|---|
//! | `GET/HEAD/POST/PATCH/DELETE /rest/v1/{model}` | the data API, in PostgREST's conventions |
//! | `POST /rest/v1/{model}/restore` | restore soft-deleted rows matching the filters |
//! | `POST /rest/v1/{model}/publish` | publish a scope row's environment content |
//! | `POST /auth/v1/signup` | create an account of the `@@auth` model and sign in |
//! | `POST /auth/v1/token?grant_type=password\|refresh_token` | sign in, or renew a session |
//! | `GET /auth/v1/user` | the signed-in user's account |
//! | `PUT /auth/v1/user` | the signed-in user changes their email, password or profile |
//! | `POST /auth/v1/logout` | end the user's sessions |
//! | `GET /openapi.json` | the OpenAPI 3.1 document of the schema |
//! | `GET /docs` | a page rendering that document |
//! | `GET /health` | liveness: the process answers |
//! | `GET /ready` | readiness: the database answers |
//! | `GET /metrics` | Prometheus metrics |
//!
//! Layers, outermost first: request id, tracing span, panic catcher (a 500 with a generic
//! body), CORS, metrics, the request head's limits (414 for a long URL, 431 for too many
//! or too large headers), load shedding (503 beyond `max_concurrent_requests`), request
//! timeout (504), body deadline (408). The connection loop ([`serve`]) adds the deadline
//! for a request's headers. The REST routes resolve the caller (service key, a user's
//! token, or anonymous; see [`auth`]) and the runtime applies the schema's access rules.

#![forbid(unsafe_code)]

pub mod auth;
pub mod config;
pub mod error;
mod extract;
mod handlers;
pub mod identity;
pub mod keys;
pub mod limits;
mod listen;
pub mod media;
pub mod migrate;
mod rest;
pub mod settings;
pub mod state;
pub mod telemetry;
pub mod testing;
pub mod tokens;

use std::sync::Arc;

use axum::http::{HeaderValue, Method};
use axum::routing::get;
use axum::Router;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use config::ServerConfig;
pub use error::ApiError;
pub use keys::{Keys, ServiceKey, SERVICE_KEY_ENV};
pub use limits::{Load, LoadFigures};
pub use listen::serve;
pub use state::AppState;
pub use telemetry::Metrics;
pub use tokens::{TokenSigner, TOKEN_SECRET_ENV};

/// Builds the state of a server over `engine`.
pub fn state(engine: tessera_runtime::Engine, keys: Keys, config: ServerConfig) -> AppState {
    let openapi = tessera_interop::openapi(engine.schema());
    AppState {
        engine,
        keys: Arc::new(keys),
        config: Arc::new(config),
        metrics: Metrics::global(),
        openapi: Arc::new(openapi),
    }
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let config = state.config.clone();
    let api = rest::router(state.clone());
    let identity = identity::router(state.clone());
    let open = Router::new()
        .route("/health", get(handlers::health::health))
        .route("/ready", get(handlers::ready::ready))
        .route("/metrics", get(handlers::metrics::metrics))
        .route("/openapi.json", get(handlers::openapi::openapi))
        .route("/docs", get(handlers::docs::docs))
        .with_state(state);
    let app = Router::new()
        .merge(open)
        .merge(api)
        .merge(identity)
        .fallback(handlers::not_found::not_found);
    with_layers(app, &config)
}

/// Wraps `router` in the server's layers: request id, tracing span, panic catcher, CORS,
/// metrics, and the request limits (the request head's bounds, load shedding, request
/// timeout, body deadline; see [`limits::LimitsLayer`]). The handlers find the server's
/// [`Load`] as a request extension.
///
/// They are one stack added at once: axum wraps each route in every layer added to a
/// router, and clones what a route wraps for each request, so each added layer costs
/// every request a copy of the layers under it.
pub fn with_layers(router: Router, config: &ServerConfig) -> Router {
    let load = Arc::new(Load::new(config));
    router.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(
                telemetry::REQUEST_ID_HEADER.clone(),
                MakeRequestUuid,
            ))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(telemetry::request_span)
                    .on_response(DefaultOnResponse::new().level(Level::INFO)),
            )
            .layer(PropagateRequestIdLayer::new(
                telemetry::REQUEST_ID_HEADER.clone(),
            ))
            .layer(CatchPanicLayer::custom(
                |panic: Box<dyn std::any::Any + Send>| {
                    let detail = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                        .unwrap_or_else(|| "unknown panic".to_owned());
                    error::panic_response(detail)
                },
            ))
            .layer(cors(config))
            .layer(axum::middleware::from_fn(telemetry::track))
            .layer(limits::LimitsLayer::new(config, load)),
    )
}

fn cors(config: &ServerConfig) -> CorsLayer {
    let layer = CorsLayer::new()
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers(Any)
        .expose_headers(Any)
        .max_age(std::time::Duration::from_secs(3600));
    match &config.cors_origins {
        None => layer.allow_origin(Any),
        Some(origins) => layer.allow_origin(AllowOrigin::list(
            origins
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok()),
        )),
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}
