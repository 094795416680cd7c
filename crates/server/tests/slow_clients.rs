//! Slow clients, timeouts and hang-ups at every stage of a request: the server enforces
//! its deadlines and keeps serving everyone else. Real sockets against a real server, on
//! SQLite and PostgreSQL.

mod common;

use std::time::{Duration, Instant};

use common::reliability::{count_slugs, insert_request, pool_settles};
use common::{send, TestServer, KEY};
use serde_json::json;
use tessera_server::ServerConfig;
use tessera_testkit::{engine_tests, Database};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest a deadline of 1 s may take to show: a margin for a loaded machine. Longer is
/// a deadline not enforced.
const DEADLINE_BOUND: Duration = Duration::from_secs(8);

/// Short deadlines, so that the tests see them fire.
fn short_deadlines() -> ServerConfig {
    ServerConfig {
        header_read_timeout: Duration::from_secs(1),
        body_read_timeout: Duration::from_secs(1),
        ..ServerConfig::default()
    }
}

/// Reads until the server closes the connection (or `DEADLINE_BOUND` passes); answers
/// what was read and when the connection ended, `None` if it did not.
async fn read_until_closed(stream: &mut TcpStream) -> (String, Option<Duration>) {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match tokio::time::timeout_at((started + DEADLINE_BOUND).into(), stream.read(&mut buffer))
            .await
        {
            Ok(Ok(0)) | Ok(Err(_)) => {
                return (
                    String::from_utf8_lossy(&received).into_owned(),
                    Some(started.elapsed()),
                )
            }
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
            Err(_) => return (String::from_utf8_lossy(&received).into_owned(), None),
        }
    }
}

/// Sends a request's headers one byte every `pause`, ignoring write errors (the server
/// may close first).
async fn dribble_headers(mut stream: TcpStream, pause: Duration) -> TcpStream {
    let head = format!("GET /rest/v1/projects HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {KEY}\r\nx-padding: {}\r\n\r\n", "p".repeat(200));
    for byte in head.as_bytes() {
        if stream.write_all(&[*byte]).await.is_err() {
            break;
        }
        tokio::time::sleep(pause).await;
    }
    stream
}

/// A write of two rows in one request (one transaction), marked by `slug`'s prefix.
fn pair(prefix: &str) -> serde_json::Value {
    json!([
        { "name": "First of a pair", "slug": format!("{prefix}-a") },
        { "name": "Second of a pair", "slug": format!("{prefix}-b") },
    ])
}

/// Asserts that no pooled connection is left busy and that writes succeed.
async fn serves_normally(server: &TestServer, prefix: &str) {
    let (open, idle) = pool_settles(server).await;
    assert_eq!(
        open, idle,
        "pooled connections still busy: {open} open, {idle} idle"
    );
    for i in 0..3 {
        let (status, _, body) = send(
            server
                .post("/rest/v1/projects")
                .json(&json!({ "name": "Afterwards", "slug": format!("{prefix}-after-{i}") })),
        )
        .await;
        assert_eq!(status, 201, "a write afterwards: {body}");
    }
}

engine_tests! {
    /// Clients sending their headers one byte at a time (slowloris) are cut off at the
    /// header deadline, and everyone else is served meanwhile.
    async fn headers_sent_byte_by_byte_are_cut_off_and_others_are_served(db: Database) {
        let server = TestServer::start_with(&db, short_deadlines()).await;
        let slow: Vec<_> = (0..50)
            .map(|_| {
                let addr = server.addr;
                tokio::spawn(async move {
                    let stream = TcpStream::connect(addr).await.expect("connect");
                    let mut stream = dribble_headers(stream, Duration::from_millis(100)).await;
                    read_until_closed(&mut stream).await
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(300)).await;
        for i in 0..10 {
            let (status, _, body) = send(server.get("/rest/v1/projects?limit=1")).await;
            assert_eq!(status, 200, "request {i} beside the slow clients: {body}");
        }
        for client in slow {
            let (received, closed) = client.await.expect("slow client");
            let closed = closed.expect("a connection sending its headers byte by byte was not closed");
            assert!(closed < DEADLINE_BOUND, "closed after {closed:?}");
            assert!(!received.contains("200 OK"), "a request whose headers came too slowly was served");
        }
    }

    /// A connection that sends nothing is closed at the header deadline, and so is a
    /// keep-alive connection left idle after its request.
    async fn idle_connections_are_closed(db: Database) {
        let server = TestServer::start_with(&db, short_deadlines()).await;
        let mut idle = TcpStream::connect(server.addr).await.expect("connect");
        let (_, closed) = read_until_closed(&mut idle).await;
        assert!(closed.is_some(), "a connection that sent nothing was kept open");
        let mut kept_alive = TcpStream::connect(server.addr).await.expect("connect");
        kept_alive.write_all(b"GET /health HTTP/1.1\r\nhost: localhost\r\n\r\n").await.expect("send");
        let (answer, closed) = read_until_closed(&mut kept_alive).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(closed.is_some(), "an idle keep-alive connection was kept open");
    }

    /// A body that never finishes is answered 408 at the body deadline, nothing is
    /// written, and the server goes on serving.
    async fn a_body_that_never_finishes_gets_408(db: Database) {
        let server = TestServer::start_with(&db, short_deadlines()).await;
        let mut stream = TcpStream::connect(server.addr).await.expect("connect");
        let request = insert_request("never-finished");
        stream.write_all(&request[..request.len() - 10]).await.expect("send");
        let (answer, closed) = read_until_closed(&mut stream).await;
        assert!(closed.is_some(), "the connection was kept open");
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("PGRST408"), "{answer}");
        assert_eq!(count_slugs(&server, "never-finished").await, 0);
        serves_normally(&server, "after-408").await;
    }

    /// A request timeout that fires while a write waits for a lock in the middle of its
    /// transaction: the client gets 504 with PostgREST's body; the write is then applied
    /// in full or not at all (never one row of two); no connection or lock is left behind.
    async fn a_timeout_mid_transaction_writes_all_or_nothing(db: Database) {
        let config = ServerConfig { request_timeout: Duration::from_secs(1), ..ServerConfig::default() };
        let server = TestServer::start_with(&db, config).await;
        // Another session holds a lock the write will wait for: on PostgreSQL an
        // uncommitted row with the second slug (the unique check waits for it); on SQLite
        // the write lock itself.
        let blocker = db.pool().await.expect("pool");
        let lock = match &blocker {
            tessera_testkit::Pool::Postgres(pool) => {
                let mut tx = pool.begin().await.expect("begin");
                sqlx::query(r#"INSERT INTO projects (id, name, slug, "createdAt", "updatedAt") VALUES (gen_random_uuid(), 'Blocker', 'timed-b', now(), now())"#)
                    .execute(&mut *tx).await.expect("blocking row");
                Lock::Postgres(tx)
            }
            tessera_testkit::Pool::Sqlite(pool) => {
                let mut conn = pool.acquire().await.expect("connection");
                sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await.expect("write lock");
                Lock::Sqlite(conn)
            }
        };
        let started = Instant::now();
        let (status, _, body) = send(server.post("/rest/v1/projects").json(&pair("timed"))).await;
        assert_eq!(status, 504, "{body}");
        assert_eq!(body["code"], "PGRST504", "{body}");
        assert!(started.elapsed() < DEADLINE_BOUND, "answered after {:?}", started.elapsed());
        // The lock goes away (the other session rolls back); the write ends on its own.
        lock.release().await;
        let (open, idle) = pool_settles(&server).await;
        assert_eq!(open, idle, "pooled connections still busy");
        let written = count_slugs(&server, "timed-").await;
        assert!(written == 0 || written == 2, "half a write is visible: {written} of 2 rows");
        serves_normally(&server, "after-timeout").await;
    }

    /// Clients hanging up at every stage — during the headers, after the headers before
    /// the body, in the middle of the body, after the body while the write runs — leave
    /// no write half-done and no connection busy, and the server serves on.
    async fn clients_hanging_up_at_every_stage_leave_the_server_serving(db: Database) {
        let server = TestServer::start(&db).await;
        let mut tasks = Vec::new();
        for round in 0..8 {
            for stage in 0..4 {
                let addr = server.addr;
                tasks.push(tokio::spawn(async move {
                    let prefix = format!("hang{stage}-{round}");
                    let body = pair(&prefix).to_string();
                    let head = format!(
                        "POST /rest/v1/projects HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {KEY}\r\n\
                         content-type: application/json\r\ncontent-length: {}\r\n\r\n",
                        body.len()
                    );
                    let Ok(mut stream) = TcpStream::connect(addr).await else { return };
                    let sent: Vec<u8> = match stage {
                        0 => head.as_bytes()[..head.len() / 2].to_vec(),
                        1 => head.clone().into_bytes(),
                        2 => format!("{head}{}", &body[..body.len() / 2]).into_bytes(),
                        _ => format!("{head}{body}").into_bytes(),
                    };
                    let _ = stream.write_all(&sent).await;
                    tokio::time::sleep(Duration::from_millis((round * 3) as u64)).await;
                    drop(stream);
                }));
            }
        }
        for task in tasks {
            task.await.expect("client");
        }
        let (open, idle) = pool_settles(&server).await;
        assert_eq!(open, idle, "pooled connections still busy");
        for round in 0..8 {
            for stage in 0..4 {
                let written = count_slugs(&server, &format!("hang{stage}-{round}-")).await;
                let whole = if stage < 3 { written == 0 } else { written == 0 || written == 2 };
                assert!(whole, "stage {stage}, round {round}: {written} of 2 rows written");
            }
        }
        serves_normally(&server, "after-hang-ups").await;
    }
}

/// A lock held by another session, released by rolling back.
enum Lock {
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
}

impl Lock {
    async fn release(self) {
        match self {
            Lock::Postgres(tx) => tx.rollback().await.expect("rollback"),
            Lock::Sqlite(mut conn) => {
                sqlx::query("ROLLBACK")
                    .execute(&mut *conn)
                    .await
                    .expect("rollback");
            }
        }
    }
}
