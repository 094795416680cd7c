//! What the reliability tests share: their parameters (short by default, long when the
//! area scripts under `scripts/reliability.d` set them), the report those scripts read,
//! latency figures, hand-written requests and the pool's gauges.

use std::io::Write as _;
use std::time::Duration;

use super::{send, TestServer, KEY};

/// A parameter from the environment (`TESSERA_RELIABILITY_<NAME>`), or its default.
pub fn param(name: &str, default: u64) -> u64 {
    std::env::var(format!("TESSERA_RELIABILITY_{name}"))
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// Appends Markdown lines to the report named by `TESSERA_RELIABILITY_REPORT` (when the
/// long forms run), and prints them for `--nocapture` runs.
pub fn report(lines: &str) {
    println!("{lines}");
    if let Ok(path) = std::env::var("TESSERA_RELIABILITY_REPORT") {
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = writeln!(file, "{lines}");
        }
    }
}

/// The p-th percentile (0–100) of `samples`, in milliseconds.
pub fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.sort();
    let rank = ((p / 100.0) * (samples.len() - 1) as f64).round() as usize;
    samples[rank.min(samples.len() - 1)].as_secs_f64() * 1000.0
}

/// A POST of one project, written by hand so that a test can stop sending it anywhere.
pub fn insert_request(slug: &str) -> Vec<u8> {
    let body = serde_json::json!({ "name": "Raw", "slug": slug }).to_string();
    format!(
        "POST /rest/v1/projects HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {KEY}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The pool gauges `(open, idle)` from /metrics, once every pooled connection is idle
/// again or after ten seconds.
pub async fn pool_settles(server: &TestServer) -> (u32, u32) {
    let mut gauges = (0, 0);
    for _ in 0..200 {
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

/// The number of projects whose slug starts with `prefix`, read through the API.
pub async fn count_slugs(server: &TestServer, prefix: &str) -> usize {
    let (status, _, body) = send(
        server
            .get(&format!(
                "/rest/v1/projects?select=slug&slug=like.{prefix}*"
            ))
            .header("prefer", "count=exact"),
    )
    .await;
    assert_eq!(status, 200, "count {prefix}: {body}");
    body.as_array().map(Vec::len).unwrap_or_default()
}

/// A client whose requests give up after `seconds`: a hang is a failure, not a wait.
pub fn bounded_client(seconds: u64) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(seconds))
        .build()
        .expect("client")
}
