//! Hostile input over HTTP: every limit answers its 4xx in PostgREST's body shape, at the
//! exact boundary (at the limit served, one past it refused), on SQLite and PostgreSQL.
//! Requests are written byte for byte on a TCP socket where a client library would add
//! headers of its own.

mod common;

use std::net::SocketAddr;

use common::{send, TestServer, KEY};
use serde_json::{json, Value};
use tessera_server::ServerConfig;
use tessera_testkit::{engine_tests, Database};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Sends `head` (the request line and headers, without the blank line) and `body` on a
/// new connection, and reads the answer to its end: (status, JSON body or Null).
async fn raw(addr: SocketAddr, head: &str, body: &[u8]) -> (u16, Value) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut request = format!("{head}\r\n\r\n").into_bytes();
    request.extend_from_slice(body);
    // The server may answer and close before it has read everything: that is fine.
    let _ = stream.write_all(&request).await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.trim())
        .filter(|body| !body.is_empty())
        .and_then(|body| serde_json::from_str(body).ok())
        .unwrap_or(Value::Null);
    (status, body)
}

/// The head of a GET of `target` with `extra` header lines, each `name: value`.
fn get_head(addr: SocketAddr, target: &str, extra: &[String]) -> String {
    let mut head = format!(
        "GET {target} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\nauthorization: Bearer {KEY}"
    );
    for line in extra {
        head.push_str("\r\n");
        head.push_str(line);
    }
    head
}

/// Asserts PostgREST's error body with `code`.
fn assert_error(status: u16, body: &Value, want_status: u16, code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    for member in ["message", "details", "hint"] {
        assert!(body.get(member).is_some(), "{member} missing: {body}");
    }
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
}

/// A target of exactly `length` bytes reading projects.
fn target_of(length: usize) -> String {
    let base = "/rest/v1/projects?name=neq.";
    format!("{base}{}", "a".repeat(length - base.len()))
}

/// `count` header lines in all (with the three of [`get_head`]).
fn headers_counting(count: usize) -> Vec<String> {
    (0..count - 3).map(|i| format!("x-pad-{i}: v")).collect()
}

engine_tests! {
    async fn urls_to_the_limit_are_served_and_longer_ones_get_414(db: Database) {
        let server = TestServer::start(&db).await;
        let limit = ServerConfig::default().max_url_length;
        let (status, body) = raw(server.addr, &get_head(server.addr, &target_of(limit), &[]), b"").await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = raw(server.addr, &get_head(server.addr, &target_of(limit + 1), &[]), b"").await;
        assert_error(status, &body, 414, "PGRST414");
        // 50 KB: still a 414 with the body.
        let (status, body) = raw(server.addr, &get_head(server.addr, &target_of(50_000), &[]), b"").await;
        assert_error(status, &body, 414, "PGRST414");
        // The server serves on.
        let (status, _, _) = send(server.get("/rest/v1/projects")).await;
        assert_eq!(status, 200);
    }

    async fn header_fields_to_the_limit_are_served_and_more_get_431(db: Database) {
        let server = TestServer::start(&db).await;
        let limit = ServerConfig::default().max_header_count;
        let (status, body) = raw(server.addr, &get_head(server.addr, "/rest/v1/projects", &headers_counting(limit)), b"").await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = raw(server.addr, &get_head(server.addr, "/rest/v1/projects", &headers_counting(limit + 1)), b"").await;
        assert_error(status, &body, 431, "PGRST431");
        // Beyond twice the limit the HTTP parser refuses the request itself, without a body.
        let (status, _) = raw(server.addr, &get_head(server.addr, "/rest/v1/projects", &headers_counting(10_000)), b"").await;
        assert_eq!(status, 431);
        let (status, _, _) = send(server.get("/rest/v1/projects")).await;
        assert_eq!(status, 200);
    }

    async fn header_bytes_to_the_limit_are_served_and_more_get_431(db: Database) {
        let server = TestServer::start(&db).await;
        let limit = ServerConfig::default().max_header_bytes;
        let base = get_head(server.addr, "/rest/v1/projects", &[]);
        // The bytes of names and values the three base headers take.
        let used: usize = base
            .lines()
            .skip(1)
            .filter_map(|line| line.split_once(": "))
            .map(|(name, value)| name.len() + value.trim_end().len())
            .sum();
        let pad = |total: usize| vec![format!("x-pad: {}", "v".repeat(total - used - "x-pad".len()))];
        let (status, body) = raw(server.addr, &get_head(server.addr, "/rest/v1/projects", &pad(limit)), b"").await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = raw(server.addr, &get_head(server.addr, "/rest/v1/projects", &pad(limit + 1)), b"").await;
        assert_error(status, &body, 431, "PGRST431");
    }

    async fn the_query_grammar_limits_answer_400_with_the_limit_named(db: Database) {
        let server = TestServer::start(&db).await;
        let nested_or = |depth: usize| format!("({}name.eq.a{})", "or(".repeat(depth - 1), ")".repeat(depth - 1));
        let (status, _, body) = send(server.get("/rest/v1/projects").query(&[("or", nested_or(16))])).await;
        assert_eq!(status, 200, "{body}");
        let (status, _, body) = send(server.get("/rest/v1/projects").query(&[("or", nested_or(17))])).await;
        assert_error(status, &body, 400, "PGRST100");
        assert!(body["details"].as_str().is_some_and(|d| d.contains("16")), "{body}");
        let (status, _, body) = send(server.get("/rest/v1/projects").query(&[("or", nested_or(1000))])).await;
        assert_error(status, &body, 400, "PGRST100");

        // Embeds nested past the depth limit, before any relation is looked up.
        let nested_embed = |depth: usize| format!("id,{}id{}", "x(".repeat(depth), ")".repeat(depth));
        let (status, _, body) = send(server.get("/rest/v1/projects").query(&[("select", nested_embed(9))])).await;
        assert_error(status, &body, 400, "PGRST100");
        // Within the limit the names are resolved: x is no relation.
        let (status, _, body) = send(server.get("/rest/v1/projects").query(&[("select", nested_embed(8))])).await;
        assert_eq!(status, 404, "{body}");

        let list = |n: usize| (0..n).map(|i| format!("n{i}")).collect::<Vec<_>>().join(",");
        let (status, _, body) = send(server.get("/rest/v1/projects").query(&[("name", format!("in.({})", list(1000)))])).await;
        assert_eq!(status, 200, "{body}");
        let (status, _, body) = send(server.get("/rest/v1/projects").query(&[("name", format!("in.({})", list(1001)))])).await;
        assert_error(status, &body, 400, "PGRST100");

        // Writes parse their query strings within the same limits.
        let (status, _, body) = send(server.patch("/rest/v1/projects").query(&[("or", nested_or(17))]).json(&json!({"name": "x"}))).await;
        assert_error(status, &body, 400, "PGRST100");
    }

    async fn json_bodies_nested_to_the_limit_are_read_and_deeper_ones_get_400(db: Database) {
        let server = TestServer::start(&db).await;
        let limit = ServerConfig::default().max_json_depth;
        // The object and a JSON field's value nested inside it.
        let body = |depth: usize| format!(
            "{{\"name\":\"n\",\"slug\":\"s{depth}\",\"settings\":{}1{}}}",
            "[".repeat(depth - 1),
            "]".repeat(depth - 1)
        );
        let post = |text: String| server.post("/rest/v1/projects").header("content-type", "application/json").body(text);
        let (status, _, answer) = send(post(body(limit))).await;
        assert_ne!(answer["code"], "PGRST102", "{answer}");
        assert!(status < 500, "{answer}");
        let (status, _, answer) = send(post(body(limit + 1))).await;
        assert_error(status, &answer, 400, "PGRST102");
        // A megabyte of brackets.
        let (status, _, answer) = send(post("[".repeat(1024 * 1024 - 1))).await;
        assert_error(status, &answer, 400, "PGRST102");
    }

    async fn bodies_with_rows_to_the_limit_are_read_and_more_get_413(db: Database) {
        let config = ServerConfig {
            max_body_rows: 3,
            ..ServerConfig::default()
        };
        let server = TestServer::start_with(&db, config).await;
        let rows = |n: usize| (0..n).map(|i| json!({"name": "n", "slug": format!("s{i}")})).collect::<Vec<_>>();
        let (status, _, body) = send(server.post("/rest/v1/projects").json(&rows(3))).await;
        assert_eq!(status, 201, "{body}");
        let (status, _, body) = send(server.post("/rest/v1/projects").json(&rows(4))).await;
        assert_error(status, &body, 413, "PGRST413");
        let (status, _, body) = send(server.get("/rest/v1/projects").header("prefer", "count=exact")).await;
        assert_eq!((status, body.as_array().map(Vec::len)), (200, Some(3)), "nothing of the refused body was written");
    }

    async fn bodies_over_the_size_limit_get_413(db: Database) {
        let server = TestServer::start(&db).await;
        let big = vec![b' '; 50 * 1024 * 1024];
        let (status, _, body) = send(server.post("/rest/v1/projects").header("content-type", "application/json").body(big)).await;
        assert_error(status, &body, 413, "PGRST413");
    }

    async fn limits_are_set_by_the_configuration(db: Database) {
        let config = ServerConfig {
            max_url_length: 2048,
            query_limits: tessera_runtime::QueryLimits {
                max_in_items: 2,
                ..tessera_runtime::QueryLimits::default()
            },
            ..ServerConfig::default()
        };
        let server = TestServer::start_with(&db, config).await;
        let (status, body) = raw(server.addr, &get_head(server.addr, &target_of(2049), &[]), b"").await;
        assert_error(status, &body, 414, "PGRST414");
        let (status, _, body) = send(server.get("/rest/v1/projects?name=in.(a,b)")).await;
        assert_eq!(status, 200, "{body}");
        let (status, _, body) = send(server.get("/rest/v1/projects?name=in.(a,b,c)")).await;
        assert_error(status, &body, 400, "PGRST100");
    }

    /// Regression: limits, offsets and ranges past the largest signed 64-bit integer
    /// failed the bind of the statement (a 500).
    async fn counts_past_the_largest_signed_integer_are_served(db: Database) {
        let server = TestServer::start(&db).await;
        common::project(&server, "P", "p").await;
        let max = u64::MAX.to_string();
        for query in [
            format!("limit={max}"),
            format!("offset={max}"),
            format!("limit={}", i64::MAX as u64 + 1),
            format!("select=id,tour_pages(id)&tour_pages.limit={max}&tour_pages.offset={max}"),
        ] {
            let (status, _, body) = send(server.get(&format!("/rest/v1/projects?{query}"))).await;
            assert_eq!(status, 200, "{query}: {body}");
        }
        for range in [format!("0-{max}"), format!("{}-{max}", u64::MAX - 1)] {
            let (status, _, body) = send(server.get("/rest/v1/projects").header("range", range.as_str())).await;
            assert!(status == 200 || status == 206, "{range}: {status} {body}");
        }
        let (status, _, body) = send(server.get("/rest/v1/projects").header("range", format!("0-{max}").as_str()).header("prefer", "count=exact")).await;
        assert_eq!(status, 200, "{body}");
    }
}

/// The limits are checked before any database work: with the database stopped, requests
/// over a limit still get their 4xx at once, while a request within the limits gets 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_are_checked_before_any_database_work() {
    let Some(cluster) = tessera_testkit::private_cluster().await else {
        return;
    };
    let db = Database::Postgres(cluster.create_database().await.expect("database"));
    let server = TestServer::start(&db).await;
    cluster.stop().await.expect("stop PostgreSQL");
    let (status, _, body) = send(server.get("/rest/v1/projects?limit=1")).await;
    assert_eq!(status, 503, "the database is down: {body}");
    let limit = ServerConfig::default().max_url_length;
    let (status, body) = raw(
        server.addr,
        &get_head(server.addr, &target_of(limit + 1), &[]),
        b"",
    )
    .await;
    assert_error(status, &body, 414, "PGRST414");
    let (status, body) = raw(
        server.addr,
        &get_head(server.addr, "/rest/v1/projects", &headers_counting(101)),
        b"",
    )
    .await;
    assert_error(status, &body, 431, "PGRST431");
    let deep = format!("({}a.eq.1{})", "or(".repeat(16), ")".repeat(16));
    let (status, _, body) = send(server.get("/rest/v1/projects").query(&[("or", deep)])).await;
    assert_error(status, &body, 400, "PGRST100");
    let (status, _, body) = send(
        server
            .post("/rest/v1/projects")
            .header("content-type", "application/json")
            .body("[".repeat(65)),
    )
    .await;
    assert_error(status, &body, 400, "PGRST102");
    let rows = format!("[{}]", vec!["{}"; 10_001].join(","));
    let (status, _, body) = send(
        server
            .post("/rest/v1/projects")
            .header("content-type", "application/json")
            .body(rows),
    )
    .await;
    assert_error(status, &body, 413, "PGRST413");
    cluster.start_again().await.expect("start PostgreSQL again");
}
