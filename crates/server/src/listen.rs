//! The connection loop: accepts TCP connections and serves HTTP/1.1 on them with hyper,
//! under a deadline for each request's headers (which also closes idle keep-alive
//! connections and connections that never send anything), and shuts down gracefully.
//!
//! `axum::serve` exposes no header deadline, so a client sending its headers one byte at
//! a time could hold a connection forever; hyper-util's connection builder does. The
//! builder is HTTP/1 only: detecting HTTP/2 without TLS (prior knowledge) reads the first
//! bytes of a connection with no deadline at all, which would let an idle or dribbling
//! client hold a connection forever. HTTP/2 belongs to a TLS-terminating proxy in front.

use std::future::Future;
use std::io;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use crate::config::ServerConfig;

/// Serves `router` on `listener` until `shutdown` completes; the requests in flight then
/// finish before this returns.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    config: &ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let mut builder = Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .max_headers(config.header_count_parser_limit())
        .max_buf_size(config.head_buffer_limit());
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    accept_failed(&error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Small JSON answers: send them at once rather than waiting to fill a packet.
        let _ = stream.set_nodelay(true);
        let builder = builder.clone();
        let router = router.clone();
        let watcher = graceful.watcher();
        let first_bytes = config.header_read_timeout;
        tokio::spawn(async move {
            // hyper's header deadline does not cover a connection that sends nothing at
            // all: such a connection is closed here.
            let mut first = [0u8; 1];
            if !matches!(
                tokio::time::timeout(first_bytes, stream.peek(&mut first)).await,
                Ok(Ok(1))
            ) {
                return;
            }
            let service = TowerToHyperService::new(router);
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            if let Err(error) = watcher.watch(connection).await {
                // Clients hanging up, sending garbage or too slowly: theirs, not ours.
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// After a failed accept: errors of one connection are ignored; others (out of file
/// descriptors) are logged and accepting pauses a moment, so as not to spin.
async fn accept_failed(error: &io::Error) {
    if matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "accepting a connection failed");
    tokio::time::sleep(Duration::from_millis(100)).await;
}
