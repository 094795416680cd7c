//! An in-process server on a free local port, for tests here and in the crates that serve
//! through this one.

use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Serves `router` on a free port of 127.0.0.1 in a background task, with the default
/// connection settings. Answers the address and the server's stop: sending on it or
/// dropping it shuts the server down (requests in flight finish).
pub async fn spawn(router: Router) -> std::io::Result<(SocketAddr, oneshot::Sender<()>)> {
    spawn_with(router, &crate::ServerConfig::default()).await
}

/// Like [`spawn`], with the connection settings (such as the header deadline) of
/// `config`.
pub async fn spawn_with(
    router: Router,
    config: &crate::ServerConfig,
) -> std::io::Result<(SocketAddr, oneshot::Sender<()>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let config = config.clone();
    tokio::spawn(async move {
        crate::serve(listener, router, &config, async move {
            let _ = stopped.await;
        })
        .await
    });
    Ok((addr, stop))
}
