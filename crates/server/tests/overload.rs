//! Overload: beyond its limit of requests at once the server sheds load with 503 and
//! `Retry-After` instead of letting queues and latency grow without bound; `/health`,
//! `/ready` and `/metrics` still answer and report it; service is normal afterwards.
//! Real sockets against a real server, on SQLite and PostgreSQL.
//!
//! Short by default; `scripts/reliability.d/overload.sh` runs the long form through the
//! `TESSERA_RELIABILITY_*` parameters.

mod common;

use std::time::{Duration, Instant};

use common::reliability::{bounded_client, param, percentile, pool_settles, report};
use common::{send, TestServer, KEY};
use serde_json::{json, Value};
use tessera_server::ServerConfig;
use tessera_testkit::{engine_tests, Database};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Longest an answer may take under overload: the queue timeout, the pool's wait for a
/// connection (5 s) and a margin. Longer means queues grow without bound.
const ANSWER_BOUND: Duration = Duration::from_secs(10);

/// Starts a POST whose body never finishes: its request holds a slot while the handler
/// waits for the rest.
async fn hold_a_slot(server: &TestServer) -> TcpStream {
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    let head = format!(
        "POST /rest/v1/projects HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {KEY}\r\n\
         content-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"name\""
    );
    stream.write_all(head.as_bytes()).await.expect("send");
    stream
}

/// The server's load figures from `/health`.
async fn load(server: &TestServer) -> Value {
    let (status, _, body) = send(server.client.get(server.url("/health"))).await;
    assert_eq!(status, 200, "/health: {body}");
    body["requests"].clone()
}

/// A metric's value from `/metrics`.
async fn metric(server: &TestServer, name: &str) -> f64 {
    let (_, _, body) = send(server.client.get(server.url("/metrics"))).await;
    body.as_str()
        .unwrap_or_default()
        .lines()
        .find(|line| line.starts_with(name))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
        .unwrap_or(-1.0)
}

/// One flood client: reads and inserts until `until`; answers (status, latency) pairs and
/// the failures (no answer, or a 503 without `Retry-After`).
async fn flood_client(
    base: String,
    client: usize,
    until: Instant,
) -> (Vec<(u16, Duration)>, Vec<String>) {
    let http = bounded_client(30);
    let mut answers = Vec::new();
    let mut failures = Vec::new();
    let mut i = 0;
    while Instant::now() < until {
        i += 1;
        let request = if i % 4 == 0 {
            http.post(format!("{base}/rest/v1/projects"))
                .json(&json!({ "name": "Flood", "slug": format!("flood-{client}-{i}") }))
        } else {
            http.get(format!("{base}/rest/v1/projects?select=id,name&limit=10"))
        };
        let started = Instant::now();
        match request.bearer_auth(KEY).send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                if status == 503 && !response.headers().contains_key("retry-after") {
                    failures.push("a 503 without Retry-After".to_owned());
                }
                let _ = response.bytes().await;
                answers.push((status, started.elapsed()));
            }
            Err(error) => {
                failures.push(format!("no answer after {:?}: {error}", started.elapsed()))
            }
        }
    }
    (answers, failures)
}

engine_tests! {
    /// With every slot taken, a request is answered 503 with `Retry-After` and
    /// PostgREST's body after the short queue wait, while `/health` (200, with the
    /// figures), `/ready` (503 "overloaded") and `/metrics` still answer; once the slots
    /// free, service is normal.
    async fn requests_beyond_the_limit_get_503_while_health_and_ready_answer(db: Database) {
        let config = ServerConfig {
            max_concurrent_requests: 2,
            queue_timeout: Duration::from_millis(100),
            body_read_timeout: Duration::from_secs(30),
            ..ServerConfig::default()
        };
        let server = TestServer::start_with(&db, config).await;
        let mut held = [hold_a_slot(&server).await, hold_a_slot(&server).await];
        let deadline = Instant::now() + Duration::from_secs(10);
        while load(&server).await["in_flight"] != 2 {
            assert!(Instant::now() < deadline, "the slots were not taken: {}", load(&server).await);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (status, headers, body) = send(server.get("/rest/v1/projects")).await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
        assert_eq!(body["code"], "PGRST503", "{body}");
        let figures = load(&server).await;
        assert_eq!((figures["in_flight"].as_u64(), figures["limit"].as_u64()), (Some(2), Some(2)), "{figures}");
        assert!(figures["shed"].as_u64() >= Some(1), "{figures}");
        let (status, headers, body) = send(server.client.get(server.url("/ready"))).await;
        assert_eq!((status, body["status"].as_str()), (503, Some("overloaded")), "{body}");
        assert!(headers.contains_key("retry-after"));
        assert!(metric(&server, "tessera_http_requests_shed_total").await >= 1.0);
        assert_eq!(metric(&server, "tessera_http_requests_in_flight").await, 2.0);
        // The held requests finish; service is normal again.
        for (i, stream) in held.iter_mut().enumerate() {
            let rest = format!(":\"Held\",\"slug\":\"held-{i}\"}}");
            let padding = 100 - "{\"name\"".len() - rest.len();
            stream.write_all(format!("{rest}{}", " ".repeat(padding)).as_bytes()).await.expect("finish the body");
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while load(&server).await["in_flight"] != 0 {
            assert!(Instant::now() < deadline, "the slots were not freed");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (status, _, body) = send(server.get("/rest/v1/projects?slug=like.held-*")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body.as_array().map(Vec::len), Some(2), "the held writes: {body}");
        let (status, _, _) = send(server.client.get(server.url("/ready"))).await;
        assert_eq!(status, 200);
    }

    /// A flood of far more concurrent clients than the limit: some requests are shed with
    /// 503, every request is answered within a bounded time (none hangs in a queue), none
    /// fails otherwise, and service is normal afterwards.
    async fn a_flood_far_beyond_the_limit_is_shed_with_bounded_latency(db: Database) {
        let limit = 8;
        let config = ServerConfig {
            max_concurrent_requests: limit,
            queue_timeout: Duration::from_millis(200),
            ..ServerConfig::default()
        };
        let server = TestServer::start_with(&db, config).await;
        let clients = param("OVERLOAD_CLIENTS", 200) as usize;
        let seconds = param("OVERLOAD_SECONDS", 3);
        let until = Instant::now() + Duration::from_secs(seconds);
        let flood: Vec<_> = (0..clients)
            .map(|c| tokio::spawn(flood_client(server.url(""), c, until)))
            .collect();
        let mut answers = Vec::new();
        let mut failures = Vec::new();
        for client in flood {
            let (a, f) = client.await.expect("flood client");
            answers.extend(a);
            failures.extend(f);
        }
        assert!(failures.is_empty(), "{} failures, first: {:?}", failures.len(), failures.first());
        let unexpected: Vec<_> = answers.iter().filter(|(s, _)| ![200, 201, 503].contains(s)).collect();
        assert!(unexpected.is_empty(), "unexpected answers: {:?}", &unexpected[..unexpected.len().min(5)]);
        let mut served: Vec<Duration> = answers.iter().filter(|(s, _)| *s != 503).map(|(_, d)| *d).collect();
        let mut shed: Vec<Duration> = answers.iter().filter(|(s, _)| *s == 503).map(|(_, d)| *d).collect();
        assert!(!shed.is_empty(), "{clients} clients over a limit of {limit}: nothing was shed");
        assert!(!served.is_empty(), "nothing was served");
        let slowest = answers.iter().map(|(_, d)| *d).max().unwrap_or_default();
        assert!(slowest < ANSWER_BOUND, "an answer took {slowest:?}");
        // Afterwards: normal service.
        let (open, idle) = pool_settles(&server).await;
        assert_eq!(open, idle, "pooled connections still busy");
        for i in 0..10 {
            let (status, _, body) = send(server.post("/rest/v1/projects").json(&json!({ "name": "After", "slug": format!("after-flood-{i}") }))).await;
            assert_eq!(status, 201, "after the flood: {body}");
        }
        let figures = load(&server).await;
        report(&format!(
            "| {} | {clients} | {limit} | {seconds} | {} | {} | {} | {:.1} | {:.1} | {:.1} | {} | 0 |",
            db.engine(),
            answers.len(),
            served.len(),
            shed.len(),
            percentile(&mut served, 50.0),
            percentile(&mut served, 99.0),
            percentile(&mut shed, 99.0),
            slowest.as_millis(),
        ));
        assert!(figures["shed"].as_u64() >= Some(shed.len() as u64), "{figures}");
    }
}
