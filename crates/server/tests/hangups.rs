//! Clients that hang up in the middle of a request: the server keeps serving. Real sockets
//! against a real server, on SQLite and PostgreSQL.
//!
//! A write whose client goes away must still end its transaction (commit or roll back);
//! a connection left inside a transaction would keep SQLite's write lock and fail every
//! later write.

mod common;

use std::time::Duration;

use common::{send, TestServer, KEY};
use serde_json::json;
use tessera_testkit::{engine_tests, Database};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Concurrent clients in the storm.
const CLIENTS: usize = 32;
/// How long each client keeps sending and hanging up.
const STORM: Duration = Duration::from_secs(3);

/// A POST of one project, written by hand so that the socket can be closed at any moment.
fn insert_request(slug: &str) -> Vec<u8> {
    let body = json!({ "name": "Hang-up", "slug": slug }).to_string();
    format!(
        "POST /rest/v1/projects HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {KEY}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Sends inserts and closes each socket after 0 to 49 ms, whether or not it was answered.
async fn hang_up_repeatedly(addr: std::net::SocketAddr, client: usize) -> usize {
    let deadline = tokio::time::Instant::now() + STORM;
    let mut sent = 0;
    while tokio::time::Instant::now() < deadline {
        let Ok(mut stream) = TcpStream::connect(addr).await else {
            continue;
        };
        let request = insert_request(&format!("c{client}-{sent}"));
        if stream.write_all(&request).await.is_ok() {
            sent += 1;
        }
        let wait = (client * 7919 + sent * 104_729) % 50;
        tokio::time::sleep(Duration::from_millis(wait as u64)).await;
        // Dropping the stream closes the socket with the answer possibly still pending.
        drop(stream);
    }
    sent
}

/// Polls until every pooled database connection is idle again, or the time is up.
async fn pool_settles(server: &TestServer) -> (u32, u32) {
    let mut gauges = (0, 0);
    for _ in 0..100 {
        let (_, _, body) = send(server.client.get(server.url("/metrics"))).await;
        let text = body.as_str().unwrap_or_default();
        let gauge = |state: &str| {
            text.lines()
                .find(|l| l.starts_with("tessera_db_pool_connections") && l.contains(state))
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(-1.0) as u32
        };
        gauges = (gauge("state=\"size\""), gauge("state=\"idle\""));
        if gauges.0 == gauges.1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    gauges
}

engine_tests! {
    /// After many clients hang up in the middle of their writes, every later write
    /// succeeds and no pooled connection is left busy.
    async fn writes_succeed_after_clients_hang_up_mid_request(db: Database) {
        let server = TestServer::start(&db).await;
        let storm: Vec<_> = (0..CLIENTS)
            .map(|client| tokio::spawn(hang_up_repeatedly(server.addr, client)))
            .collect();
        let mut sent = 0;
        for client in storm {
            sent += client.await.expect("client task");
        }
        assert!(sent > CLIENTS, "the storm sent only {sent} requests");
        let (open, idle) = pool_settles(&server).await;
        assert_eq!(open, idle, "pooled connections still busy: {open} open, {idle} idle");
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client");
        for i in 0..5 {
            let (status, _, body) = send(
                client
                    .post(server.url("/rest/v1/projects"))
                    .bearer_auth(KEY)
                    .json(&json!({ "name": "After", "slug": format!("after-{i}") })),
            )
            .await;
            assert_eq!(status, 201, "write {i} after the hang-ups: {body}");
        }
    }
}
