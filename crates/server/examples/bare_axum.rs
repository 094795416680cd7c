//! The physical limit of the HTTP stack: an axum handler returning a constant, no database.
//! Used by `bench/run.sh`.
//!
//! Usage: cargo run --release -p tessera-server --example bare_axum -- 127.0.0.1:8091

use axum::routing::get;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8091".to_owned());
    let app = axum::Router::new().route(
        "/",
        get(|| async {
            (
                [("content-type", "application/json")],
                r#"[{"id":"00000000-0000-4000-8000-000000000000","name":"constant"}]"#,
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    axum::serve(listener, app).await
}
