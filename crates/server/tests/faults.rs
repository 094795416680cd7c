//! Database faults under load: PostgreSQL restarted or crashed, its connections killed,
//! SQLite's disk full or read-only. Real servers on real ports over real databases.
//!
//! The bar: while the database cannot serve, requests are answered — 503 with
//! `Retry-After` (507 for a full disk) and PostgREST's error body, never a 500, never a
//! hang; `/ready` says not-ready; nothing acknowledged is lost; and once the database is
//! back the server serves again on its own.
//!
//! The PostgreSQL restarts run on a private cluster of the test's own, never on the shared
//! server. Short by default; `scripts/reliability.d/faults.sh` runs the long form through
//! the `TESSERA_RELIABILITY_*` parameters.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::reliability::{bounded_client, param, pool_settles, report};
use common::{tour_builder_schema, TestServer, KEY};
use serde_json::{json, Value};
use tessera_server::ServerConfig;
use tessera_testkit::Database;

/// Longest any answer may take while the database is away: the pool's wait for a
/// connection (5 s) and a margin. Longer is a hang.
const ANSWER_BOUND: Duration = Duration::from_secs(15);

/// What the load clients saw.
#[derive(Default)]
struct Tally {
    /// Answers by status.
    statuses: BTreeMap<u16, usize>,
    /// Slugs whose insert was acknowledged (201).
    acknowledged: Vec<String>,
    /// Answers that break the bar: a 500, a status outside 2xx/503/507, a 503 without
    /// `Retry-After` or PostgREST's body, no answer at all.
    bad: Vec<String>,
    slowest: Duration,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        for (status, n) in other.statuses {
            *self.statuses.entry(status).or_default() += n;
        }
        self.acknowledged.extend(other.acknowledged);
        self.bad.extend(other.bad);
        self.slowest = self.slowest.max(other.slowest);
    }

    fn operations(&self) -> usize {
        self.statuses.values().sum()
    }

    fn count(&self, status: u16) -> usize {
        self.statuses.get(&status).copied().unwrap_or_default()
    }

    /// Checks one answer against the bar.
    fn record(&mut self, what: &str, answer: Result<(u16, bool, Value), String>, took: Duration) {
        self.slowest = self.slowest.max(took);
        let (status, retry_after, body) = match answer {
            Ok(answer) => answer,
            Err(error) => {
                self.bad
                    .push(format!("{what}: no answer after {took:?}: {error}"));
                return;
            }
        };
        *self.statuses.entry(status).or_default() += 1;
        let postgrest_body = body["code"].is_string() && body["message"].is_string();
        match status {
            200..=299 => {}
            503 if retry_after && postgrest_body => {}
            507 if postgrest_body => {}
            _ => self.bad.push(format!(
                "{what}: {status} (Retry-After: {retry_after}) {body}"
            )),
        }
    }
}

/// One request: status, whether `Retry-After` came with it, the JSON body.
async fn answer(request: reqwest::RequestBuilder) -> Result<(u16, bool, Value), String> {
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let retry_after = response.headers().contains_key("retry-after");
    let text = response.text().await.map_err(|e| e.to_string())?;
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Ok((status, retry_after, body))
}

/// Inserts and reads in a loop until `stop`, tallying every answer.
async fn drive(base: String, prefix: String, stop: Arc<AtomicBool>) -> Tally {
    let client = bounded_client(30);
    let mut tally = Tally::default();
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        let slug = format!("{prefix}-{i}");
        i += 1;
        let started = Instant::now();
        let insert = answer(
            client
                .post(format!("{base}/rest/v1/projects"))
                .bearer_auth(KEY)
                .json(&json!({ "name": "Under fault", "slug": slug })),
        )
        .await;
        if matches!(insert, Ok((201, _, _))) {
            tally.acknowledged.push(slug.clone());
        }
        tally.record("insert", insert, started.elapsed());
        let started = Instant::now();
        let read = answer(
            client
                .get(format!("{base}/rest/v1/projects?select=id,slug&limit=5"))
                .bearer_auth(KEY),
        )
        .await;
        tally.record("read", read, started.elapsed());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tally
}

/// Load from `clients` concurrent clients until the returned flag is set.
struct Load {
    stop: Arc<AtomicBool>,
    clients: Vec<tokio::task::JoinHandle<Tally>>,
}

impl Load {
    fn start(server: &TestServer, prefix: &str, clients: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let clients = (0..clients)
            .map(|c| {
                tokio::spawn(drive(
                    server.url(""),
                    format!("{prefix}-c{c}"),
                    stop.clone(),
                ))
            })
            .collect();
        Load { stop, clients }
    }

    async fn finish(self) -> Tally {
        self.stop.store(true, Ordering::Relaxed);
        let mut tally = Tally::default();
        for client in self.clients {
            tally.merge(client.await.expect("load client"));
        }
        tally
    }
}

/// Every slug stored under `prefix`, read through the API.
async fn stored_slugs(server: &TestServer, prefix: &str) -> BTreeSet<String> {
    let client = bounded_client(60);
    let (status, _, body) = answer(
        client
            .get(server.url(&format!(
                "/rest/v1/projects?select=slug&slug=like.{prefix}*"
            )))
            .bearer_auth(KEY),
    )
    .await
    .expect("the stored rows are read");
    assert_eq!(status, 200, "reading the stored rows: {body}");
    body.as_array()
        .into_iter()
        .flatten()
        .filter_map(|row| row["slug"].as_str().map(str::to_owned))
        .collect()
}

/// The acknowledged writes missing from the database.
async fn lost_writes(server: &TestServer, prefix: &str, tally: &Tally) -> Vec<String> {
    let stored = stored_slugs(server, prefix).await;
    tally
        .acknowledged
        .iter()
        .filter(|slug| !stored.contains(*slug))
        .cloned()
        .collect()
}

/// Polls `/ready` until it answers `want`, or `within` has passed; answers whether it did.
async fn ready_becomes(server: &TestServer, want: u16, within: Duration) -> bool {
    let client = bounded_client(10);
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Ok((status, _, _)) = answer(client.get(server.url("/ready"))).await {
            if status == want {
                return true;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Inserts until one is acknowledged; answers how long that took, or `None` after
/// `within`.
async fn writes_again(server: &TestServer, prefix: &str, within: Duration) -> Option<Duration> {
    let client = bounded_client(30);
    let started = Instant::now();
    let mut i = 0;
    while started.elapsed() < within {
        i += 1;
        let written = answer(
            client
                .post(server.url("/rest/v1/projects"))
                .bearer_auth(KEY)
                .json(&json!({ "name": "Back", "slug": format!("{prefix}-back-{i}") })),
        )
        .await;
        if matches!(written, Ok((201, _, _))) {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

fn ms(duration: Duration) -> u128 {
    duration.as_millis()
}

/// PostgreSQL stopped under load (a clean restart, then a crash, alternately): while it
/// is down every request is answered 503 with `Retry-After` within a bounded time and
/// `/ready` is 503; once it is back the server writes again without a restart, and no
/// acknowledged write is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarts_under_load_answer_503_then_recover() {
    let Some(cluster) = tessera_testkit::private_cluster().await else {
        return;
    };
    let db = Database::Postgres(cluster.create_database().await.expect("database"));
    let server = TestServer::start(&db).await;
    let trials = param("FAULT_TRIALS", 2);
    let downtime = Duration::from_secs(param("FAULT_DOWNTIME_SECONDS", 6));
    let mut rows = Vec::new();
    for trial in 0..trials {
        let crash = trial % 2 == 1;
        let prefix = format!("restart{trial}");
        let load = Load::start(&server, &prefix, 4);
        tokio::time::sleep(Duration::from_millis(500)).await;
        if crash {
            cluster.crash().await.expect("crash PostgreSQL");
        } else {
            cluster.stop().await.expect("stop PostgreSQL");
        }
        let down = Instant::now();
        assert!(
            ready_becomes(&server, 503, Duration::from_secs(10)).await,
            "trial {trial}: /ready still says ready with PostgreSQL down"
        );
        // A request sent while the database is down is answered, with 503.
        let client = bounded_client(30);
        let probe_started = Instant::now();
        let probe = answer(
            client
                .get(server.url("/rest/v1/projects?limit=1"))
                .bearer_auth(KEY),
        )
        .await
        .expect("a request while PostgreSQL is down is answered");
        let probe_took = probe_started.elapsed();
        assert_eq!(probe.0, 503, "trial {trial}: while down: {probe:?}");
        assert!(probe.1, "trial {trial}: a 503 without Retry-After");
        assert_eq!(probe.2["code"], "PGRST003", "{}", probe.2);
        assert!(probe_took < ANSWER_BOUND, "answered after {probe_took:?}");
        if let Some(rest) = downtime.checked_sub(down.elapsed()) {
            tokio::time::sleep(rest).await;
        }
        cluster.start_again().await.expect("start PostgreSQL again");
        let back = Instant::now();
        let recovered = writes_again(&server, &prefix, Duration::from_secs(30))
            .await
            .unwrap_or_else(|| panic!("trial {trial}: no write succeeded 30 s after the restart"));
        assert!(
            ready_becomes(&server, 200, Duration::from_secs(10)).await,
            "trial {trial}: /ready not ready again"
        );
        let tally = load.finish().await;
        assert!(tally.bad.is_empty(), "trial {trial}: {:#?}", tally.bad);
        assert!(
            tally.slowest < ANSWER_BOUND,
            "an answer took {:?}",
            tally.slowest
        );
        assert!(
            tally.count(503) > 0,
            "trial {trial}: no 503 while PostgreSQL was down"
        );
        let lost = lost_writes(&server, &prefix, &tally).await;
        assert!(
            lost.is_empty(),
            "trial {trial}: acknowledged writes lost: {lost:?}"
        );
        rows.push(format!(
            "| {trial} | {} | {} | {} | {} | 0 | {} | {} | {} |",
            if crash {
                "crash (immediate)"
            } else {
                "restart (fast)"
            },
            tally.operations(),
            tally.acknowledged.len(),
            tally.count(503),
            tally.bad.len(),
            ms(tally.slowest),
            ms(back.elapsed().min(recovered)),
        ));
    }
    report(&format!(
        "#### PostgreSQL stopped under load (private cluster, {} s down each time, 4 clients)\n\n\
         | trial | how | answers | writes acknowledged | 503 | 500 | lost writes | slowest answer (ms) | first write after the restart (ms) |\n\
         |---|---|---|---|---|---|---|---|---|\n{}\n",
        downtime.as_secs(),
        rows.join("\n")
    ));
}

/// Connections killed with `pg_terminate_backend` under load: requests caught by a kill
/// get 503 (never 500), the pool replaces the dead connections, and afterwards every
/// request succeeds; no acknowledged write is lost. Only this test's database's
/// connections are killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_connections_answer_503_and_are_replaced() {
    let Some(pg) = tessera_testkit::postgres().await else {
        return;
    };
    let name = pg.name().to_owned();
    let db = Database::Postgres(pg);
    let server = TestServer::start(&db).await;
    let seconds = param("FAULT_KILL_SECONDS", 4);
    let options: sqlx::postgres::PgConnectOptions = db.url().parse().expect("URL");
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options.application_name("tessera-test-admin"))
        .await
        .expect("admin pool");
    let load = Load::start(&server, "killed", 4);
    let started = Instant::now();
    let mut killed = 0i64;
    while started.elapsed() < Duration::from_secs(seconds) {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend' \
             AND application_name <> 'tessera-test-admin'",
        )
        .bind(&name)
        .fetch_one(&admin)
        .await
        .unwrap_or(0);
        killed += n;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let tally = load.finish().await;
    assert!(tally.bad.is_empty(), "{:#?}", tally.bad);
    assert!(killed > 0, "no connection was killed");
    // Every later request succeeds: the dead connections were replaced.
    let after = Load::start(&server, "after-kills", 2);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = after.finish().await;
    assert!(after.bad.is_empty(), "{:#?}", after.bad);
    assert_eq!(
        after.count(503),
        0,
        "503s after the kills stopped: {:?}",
        after.statuses
    );
    let lost = lost_writes(&server, "killed", &tally).await;
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
    let (open, idle) = pool_settles(&server).await;
    assert_eq!(open, idle, "pooled connections still busy");
    report(&format!(
        "#### PostgreSQL connections killed under load ({seconds} s, 4 clients)\n\n\
         | connections killed | answers | writes acknowledged | 503 | 500 | lost writes | slowest answer (ms) | 503 after the kills |\n\
         |---|---|---|---|---|---|---|---|\n\
         | {killed} | {} | {} | {} | 0 | 0 | {} | 0 |\n",
        tally.operations(),
        tally.acknowledged.len(),
        tally.count(503),
        ms(tally.slowest),
    ));
}

/// A SQLite server over a small disk of its own.
async fn sqlite_on(disk: &tessera_testkit::SmallDisk) -> TestServer {
    let url = format!(
        "sqlite://{}?mode=rwc",
        disk.path().join("tessera.db").display()
    );
    TestServer::start_url(&url, tour_builder_schema(), ServerConfig::default()).await
}

/// SQLite on a full disk: writes are answered 507 with PostgREST's body and a clear
/// message (never 500), reads go on, nothing already stored is lost, and once space is
/// freed writes work again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_answers_507_and_loses_nothing() {
    let Some(disk) = tessera_testkit::small_disk(8 * 1024 * 1024) else {
        return;
    };
    let server = sqlite_on(&disk).await;
    let trials = param("FAULT_TRIALS", 2);
    let client = bounded_client(30);
    let mut tally = Tally::default();
    let mut rows = Vec::new();
    for trial in 0..trials {
        let prefix = format!("full{trial}");
        for i in 0..20 {
            let slug = format!("{prefix}-before-{i}");
            let written = answer(
                client
                    .post(server.url("/rest/v1/projects"))
                    .bearer_auth(KEY)
                    .json(&json!({ "name": "Stored", "slug": slug })),
            )
            .await;
            assert!(matches!(written, Ok((201, _, _))), "{written:?}");
            tally.acknowledged.push(slug);
        }
        let filled = disk.fill().expect("fill the disk");
        // Writes until the disk refuses them (the database's free pages may take a few).
        let mut refused = None;
        for i in 0..500 {
            let slug = format!("{prefix}-full-{i}-{}", "x".repeat(200));
            let started = Instant::now();
            let written = answer(
                client
                    .post(server.url("/rest/v1/projects"))
                    .bearer_auth(KEY)
                    .json(&json!({ "name": "On a full disk", "slug": slug })),
            )
            .await;
            if matches!(written, Ok((201, _, _))) {
                tally.acknowledged.push(slug);
            }
            if let Ok((507, _, body)) = &written {
                refused = Some(body.clone());
            }
            tally.record("insert on a full disk", written, started.elapsed());
            if refused.is_some() {
                break;
            }
        }
        let refused = refused.expect("no write was refused on a full disk");
        assert_eq!(refused["code"], "53100", "{refused}");
        assert!(
            refused["message"]
                .as_str()
                .unwrap_or_default()
                .contains("disk is full"),
            "{refused}"
        );
        // Reads go on.
        let read = answer(
            client
                .get(server.url("/rest/v1/projects?limit=5"))
                .bearer_auth(KEY),
        )
        .await;
        assert!(
            matches!(read, Ok((200, _, _))),
            "a read on a full disk: {read:?}"
        );
        disk.free().expect("free the disk");
        let recovered = writes_again(&server, &prefix, Duration::from_secs(20))
            .await
            .expect("writes work again once space is freed");
        rows.push(format!(
            "| {trial} | {} KiB | {} | 0 | {} |",
            filled / 1024,
            tally.count(507),
            ms(recovered)
        ));
    }
    assert!(tally.bad.is_empty(), "{:#?}", tally.bad);
    let stored = stored_slugs(&server, "full").await;
    let lost: Vec<_> = tally
        .acknowledged
        .iter()
        .filter(|slug| !stored.contains(*slug))
        .collect();
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
    let (open, idle) = pool_settles(&server).await;
    assert_eq!(open, idle, "pooled connections still busy");
    report(&format!(
        "#### SQLite on a full disk (8 MiB tmpfs)\n\n\
         | trial | filler | 507 so far | 500 | first write after freeing (ms) |\n\
         |---|---|---|---|---|\n{}\n\nWrites acknowledged: {}; lost: 0.\n",
        rows.join("\n"),
        tally.acknowledged.len()
    ));
}

/// SQLite opened read-only (a write-protected file, a snapshot, `?mode=ro`): writes are
/// answered 503 with a clear message (never 500), reads go on, and once the server opens
/// the file writable again every row stored before is there and writes work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_database_answers_503_and_reads_go_on() {
    let db = tessera_testkit::sqlite();
    let client = bounded_client(30);
    let mut tally = Tally::default();
    let path = db.path().display().to_string();
    let server = TestServer::start_url(
        &format!("sqlite://{path}?mode=rwc"),
        tour_builder_schema(),
        ServerConfig::default(),
    )
    .await;
    for i in 0..10 {
        let slug = format!("ro-before-{i}");
        let written = answer(
            server
                .post("/rest/v1/projects")
                .json(&json!({ "name": "Stored", "slug": slug })),
        )
        .await;
        assert!(matches!(written, Ok((201, _, _))), "{written:?}");
        tally.acknowledged.push(slug);
    }
    drop(server);
    let read_only = TestServer::serve_url(
        &format!("sqlite://{path}?mode=ro"),
        tour_builder_schema(),
        ServerConfig::default(),
    )
    .await;
    let started = Instant::now();
    let refused = answer(
        client
            .post(read_only.url("/rest/v1/projects"))
            .bearer_auth(KEY)
            .json(&json!({ "name": "Read-only", "slug": "ro-refused" })),
    )
    .await;
    tally.record(
        "insert into a read-only database",
        refused.clone(),
        started.elapsed(),
    );
    let (refused_status, _, body) = refused.expect("answered");
    assert_eq!(refused_status, 503, "{body}");
    assert_eq!(body["code"], "25006", "{body}");
    let message = body["message"].as_str().unwrap_or_default().to_owned();
    assert!(message.contains("read-only"), "{body}");
    let started = Instant::now();
    let read = answer(
        client
            .get(read_only.url("/rest/v1/projects?select=slug&slug=like.ro-*"))
            .bearer_auth(KEY),
    )
    .await;
    tally.record(
        "read from a read-only database",
        read.clone(),
        started.elapsed(),
    );
    let (status, _, rows) = read.expect("answered");
    assert_eq!(status, 200, "{rows}");
    assert_eq!(rows.as_array().map(Vec::len), Some(10), "{rows}");
    drop(read_only);
    let server = TestServer::serve_url(
        &format!("sqlite://{path}?mode=rwc"),
        tour_builder_schema(),
        ServerConfig::default(),
    )
    .await;
    writes_again(&server, "ro", Duration::from_secs(20))
        .await
        .expect("writes work again once the database is writable");
    assert!(tally.bad.is_empty(), "{:#?}", tally.bad);
    let stored = stored_slugs(&server, "ro-before").await;
    assert_eq!(stored.len(), 10, "rows lost: {stored:?}");
    report(&format!(
        "#### SQLite opened read-only\n\n\
         Writes refused with {refused_status} `{}` (\"{message}\"); reads answered 200; \
         0 lost, 0 × 500; writes resumed once opened writable.\n",
        body["code"].as_str().unwrap_or_default()
    ));
}
