//! Soak: a real `tessera serve` process under mixed reads and writes for a long time,
//! on SQLite and PostgreSQL. Its memory (RSS from /proc/PID/status) and open file
//! descriptors stay flat, its p99 latency stays stable, no request fails and no
//! acknowledged write is lost.
//!
//! Short by default (`TESSERA_RELIABILITY_SOAK_SECONDS`, 12 s per engine);
//! `scripts/reliability.d/soak.sh` runs the 30-minute form and records the figures.

mod support;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::report;
use tessera_testkit::{engine_tests, Database};

const KEY: &str = "soak-service-key-0123456789abcdef";
/// Concurrent clients.
const CLIENTS: usize = 8;
/// Windows the run is cut into for the figures over time.
const WINDOWS: usize = 6;

fn param(name: &str, default: u64) -> u64 {
    std::env::var(format!("TESSERA_RELIABILITY_{name}"))
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn schema_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../apps/tour-builder/schema.tsr")
}

/// The `tessera serve` process; killed when dropped.
struct Serve {
    child: Child,
    port: u16,
}

impl Serve {
    fn start(database_url: &str) -> Serve {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let child = Command::new(env!("CARGO_BIN_EXE_tessera"))
            .arg("serve")
            .arg(schema_path())
            .args(["--database-url", database_url])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env("TESSERA_SERVICE_KEY", KEY)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tessera serve starts");
        Serve { child, port }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// (RSS in KiB, open file descriptors) of the process.
    fn resources(&self) -> (u64, usize) {
        let pid = self.child.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let rss = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|d| d.count())
            .unwrap_or(0);
        (rss, fds)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one client did in one window.
#[derive(Default)]
struct Window {
    latencies: Vec<Duration>,
    errors: Vec<String>,
}

/// What one client did over the whole run.
#[derive(Default)]
struct Client {
    windows: Vec<Window>,
    /// Slugs inserted and not deleted (each acknowledged).
    live: HashSet<String>,
}

/// Mixed work until the end: inserts, reads of lists and of one row, updates, deletes.
async fn client(base: String, id: usize, start: Instant, window: Duration) -> Client {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let mut me = Client::default();
    me.windows.resize_with(WINDOWS, Window::default);
    let mut mine: Vec<(String, String)> = Vec::new(); // (slug, id)
    let mut i = 0usize;
    loop {
        let w = (start.elapsed().as_secs_f64() / window.as_secs_f64()) as usize;
        if w >= WINDOWS {
            break;
        }
        i += 1;
        let op = i % 20;
        let started = Instant::now();
        let outcome: Result<(), String> = async {
            if op < 5 || mine.is_empty() {
                let slug = format!("soak-{id}-{i}");
                let response = http
                    .post(format!("{base}/rest/v1/projects"))
                    .bearer_auth(KEY)
                    .header("prefer", "return=representation")
                    .json(&json!({ "name": "Soak", "slug": slug }))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let status = response.status().as_u16();
                let body: Value = response.json().await.map_err(|e| e.to_string())?;
                if status != 201 {
                    return Err(format!("insert: {status} {body}"));
                }
                let row_id = body[0]["id"].as_str().unwrap_or_default().to_owned();
                me.live.insert(slug.clone());
                mine.push((slug, row_id));
            } else if op < 15 {
                let path = if op.is_multiple_of(2) {
                    "/rest/v1/projects?select=id,name,slug&limit=20&order=createdAt.desc".to_owned()
                } else {
                    let (_, row_id) = &mine[i % mine.len()];
                    format!("/rest/v1/projects?id=eq.{row_id}")
                };
                let response = http
                    .get(format!("{base}{path}"))
                    .bearer_auth(KEY)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let status = response.status().as_u16();
                let _ = response.bytes().await;
                if status != 200 {
                    return Err(format!("read {path}: {status}"));
                }
            } else if op < 18 {
                let (_, row_id) = &mine[i % mine.len()];
                let response = http
                    .patch(format!("{base}/rest/v1/projects?id=eq.{row_id}"))
                    .bearer_auth(KEY)
                    .json(&json!({ "name": format!("Soak {i}") }))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                if response.status().as_u16() != 204 {
                    return Err(format!("update: {}", response.status()));
                }
            } else {
                let (slug, row_id) = mine.swap_remove(i % mine.len());
                let response = http
                    .delete(format!("{base}/rest/v1/projects?id=eq.{row_id}"))
                    .bearer_auth(KEY)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                if response.status().as_u16() != 204 {
                    return Err(format!("delete: {}", response.status()));
                }
                me.live.remove(&slug);
            }
            Ok(())
        }
        .await;
        let slot = &mut me.windows[w];
        slot.latencies.push(started.elapsed());
        if let Err(error) = outcome {
            slot.errors.push(error);
        }
    }
    me
}

fn p99(samples: &mut [Duration]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.sort();
    let rank = ((samples.len() - 1) as f64 * 0.99).round() as usize;
    samples[rank].as_secs_f64() * 1000.0
}

engine_tests! {
    /// Mixed reads and writes against a real `tessera serve` process: no request fails,
    /// no acknowledged write is lost, open file descriptors end where they started,
    /// memory stays flat after the warm-up, and p99 latency does not grow.
    async fn mixed_reads_and_writes_keep_memory_files_and_latency_flat(db: Database) {
        let seconds = param("SOAK_SECONDS", 12);
        let server = Serve::start(db.url());
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !matches!(http.get(server.url("/ready")).send().await, Ok(r) if r.status() == 200) {
            assert!(Instant::now() < deadline, "tessera serve did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let window = Duration::from_secs_f64(seconds as f64 / WINDOWS as f64);
        let start = Instant::now();
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| tokio::spawn(client(server.url(""), c, start, window)))
            .collect();
        // Resources at the end of each window; the first window is the warm-up.
        let mut resources = Vec::new();
        for w in 1..=WINDOWS {
            let at = start + window.mul_f64(w as f64) - Duration::from_millis(50);
            tokio::time::sleep_until(at.into()).await;
            resources.push(server.resources());
        }
        let mut done = Vec::new();
        for c in clients {
            done.push(c.await.expect("soak client"));
        }
        let mut rows = Vec::new();
        let mut p99s = Vec::new();
        let mut operations = 0;
        let mut errors = Vec::new();
        for (w, (rss, fds)) in resources.iter().enumerate() {
            let mut latencies: Vec<Duration> = done.iter().flat_map(|c| c.windows[w].latencies.clone()).collect();
            errors.extend(done.iter().flat_map(|c| c.windows[w].errors.clone()));
            operations += latencies.len();
            let p = p99(&mut latencies);
            p99s.push(p);
            rows.push(format!("| {} | {} | {:.1} | {} | {} |", w + 1, latencies.len(), p, rss / 1024, fds));
        }
        // Lost writes: every live acknowledged insert is there.
        let live: HashSet<String> = done.iter().flat_map(|c| c.live.iter().cloned()).collect();
        let response = http
            .get(server.url("/rest/v1/projects?select=slug&slug=like.soak-*"))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("read back");
        let stored: Vec<Value> = response.json().await.expect("rows");
        let stored: HashSet<String> = stored.iter().filter_map(|r| r["slug"].as_str().map(str::to_owned)).collect();
        let lost = live.difference(&stored).count();
        let (rss_start, fds_start) = resources[0];
        let (rss_end, fds_end) = resources[WINDOWS - 1];
        report(&format!(
            "#### {} ({} s, {CLIENTS} clients: 25% inserts, 50% reads, 15% updates, 10% deletes)\n\n\
             | window | operations | p99 (ms) | RSS (MiB) | open FDs |\n|---|---|---|---|---|\n{}\n\n\
             Operations: {operations}; errors: {}; lost writes: {lost}; RSS {} → {} MiB; FDs {fds_start} → {fds_end}.\n",
            db.engine(),
            seconds,
            rows.join("\n"),
            errors.len(),
            rss_start / 1024,
            rss_end / 1024,
        ));
        assert!(errors.is_empty(), "{} errors, first: {:?}", errors.len(), errors.first());
        assert_eq!(lost, 0, "acknowledged writes lost");
        assert!(fds_end <= fds_start + 16, "open files grew: {fds_start} → {fds_end}");
        assert!(
            rss_end <= rss_start + rss_start / 2 + 32 * 1024,
            "memory grew: {rss_start} → {rss_end} KiB"
        );
        let first = p99s[1].max(p99s[0]);
        let last = p99s[WINDOWS - 1];
        assert!(last <= first * 10.0 + 250.0, "p99 grew: {p99s:?}");
    }
}
