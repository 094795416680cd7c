//! schemathesis (API fuzzing from the OpenAPI document) against a real `tessera serve` of
//! bundled apps: every generated request, valid or not, sent with the service key and
//! anonymously, must be answered without a 5xx, and the answers must conform to
//! `/openapi.json` (status codes, content types, headers, bodies).
//!
//! Short by default: the securecam app on SQLite, with the service key, a few examples per
//! operation. `scripts/reliability.d/hostile.sh` runs the long form over every app, both
//! engines and both callers (`TESSERA_RELIABILITY_SCHEMATHESIS_APPS=all`,
//! `..._ENGINES=sqlite,postgres`, `..._CALLERS=service,anonymous`, `..._EXAMPLES=N`).
//!
//! Needs python3: schemathesis is installed from PyPI into `target/schemathesis-venv` by
//! `scripts/ensure-tools --schemathesis`, run here when it is missing. Without python3 the
//! test passes after a loud notice; with `CI=true` it fails instead.

mod support;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::{report, Server};

const KEY: &str = "schemathesis-service-key-0123456789abcdef";
/// The checks run on every answer.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance";

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

fn param(name: &str, default: &str) -> String {
    std::env::var(format!("TESSERA_RELIABILITY_SCHEMATHESIS_{name}"))
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_owned())
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The schemathesis executable, installed when missing; `None` (after a loud notice)
/// when it cannot be, which fails under CI.
fn schemathesis() -> Option<PathBuf> {
    let root = workspace_root();
    let exe = root.join("target/schemathesis-venv/bin/schemathesis");
    if !exe.is_file() {
        let python = Command::new("python3")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !python {
            let notice =
                "\n!!! python3 is not installed: schemathesis did NOT run against the API !!!\n";
            assert!(!ci(), "{notice}");
            eprintln!("{notice}");
            return None;
        }
        let status = Command::new("bash")
            .arg(root.join("scripts/ensure-tools"))
            .arg("--schemathesis")
            .status()
            .expect("run scripts/ensure-tools");
        assert!(
            status.success(),
            "scripts/ensure-tools --schemathesis failed"
        );
    }
    if !exe.is_file() {
        let notice =
            "\n!!! schemathesis could not be installed: it did NOT run against the API !!!\n";
        assert!(!ci(), "{notice}");
        eprintln!("{notice}");
        return None;
    }
    Some(exe)
}

/// `tessera serve --app APP` on `database_url`, ready.
fn serve(app: &str, database_url: &str, dir: &Path) -> Server {
    let words = ["--app", app, "--database-url", database_url];
    let args: Vec<&OsStr> = words.iter().map(OsStr::new).collect();
    let mut server = Server::spawn_with_env(
        &args,
        dir,
        &[("TESSERA_SERVICE_KEY", KEY), ("RUST_LOG", "error")],
    );
    assert!(
        server.wait_ready(),
        "tessera serve --app {app} did not start:\n{}",
        server.output()
    );
    server
}

/// What one schemathesis run found.
struct Outcome {
    operations: u64,
    requests: usize,
    server_errors: Vec<String>,
    /// Failing checks by code and name, with counts (e.g. `ST103 Undocumented status code: 2`).
    failures: Vec<String>,
    failures_total: u64,
    /// Errors schemathesis reports instead of a check's result (`Network Error: 1`).
    errors: Vec<String>,
}

impl Outcome {
    /// Network errors (no answer in time, a connection reset) are the server's; other
    /// errors are schemathesis' own (its generator failing on a schema), reported only.
    fn network_errors(&self) -> bool {
        self.errors.iter().any(|e| e.starts_with("Network Error"))
    }
}

/// The items of a summary list headed `heading` (`❌ ST103 Undocumented status code: 16`),
/// without their marks.
fn summary_items(stdout: &str, heading: &str, mark: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut inside = false;
    for line in stdout.lines() {
        let line = line.trim();
        if line == heading {
            inside = true;
            continue;
        }
        if inside {
            match line.strip_prefix(mark) {
                Some(item) => items.push(item.trim().to_owned()),
                None => inside = false,
            }
        }
    }
    items
}

/// The count at the end of a summary item (`...: 16`), 1 when it has none.
fn count_of(item: &str) -> u64 {
    item.rsplit_once(": ")
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(1)
}

fn run(exe: &Path, serve: &Server, caller: &str, examples: &str, dir: &Path) -> Outcome {
    let har = dir.join("report.har");
    let mut command = Command::new(exe);
    command
        .arg("run")
        .arg(format!("http://127.0.0.1:{}/openapi.json", serve.port))
        .args(["--checks", CHECKS])
        .args(["--max-examples", examples])
        .args(["--workers", "2"])
        .args(["--request-timeout", "15"])
        .arg("--no-shrink")
        .args(["--report", "har"])
        .arg("--report-har-path")
        .arg(&har)
        .args(["--output-truncate", "false"])
        .args(["--suppress-health-check", "all"])
        .current_dir(dir)
        .env("SCHEMATHESIS_HOOKS", "")
        .env("NO_COLOR", "1");
    if let Ok(seed) = std::env::var("TESSERA_RELIABILITY_SCHEMATHESIS_SEED") {
        command.args(["--seed", &seed]);
    }
    if caller == "service" {
        command
            .args(["--header", &format!("Authorization: Bearer {KEY}")])
            .args(["--header", &format!("apikey: {KEY}")]);
    }
    let output = command.output().expect("run schemathesis");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    std::fs::write(dir.join("output.txt"), stdout.as_bytes()).expect("keep the output");

    let har: serde_json::Value = std::fs::read(&har)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let entries = har["log"]["entries"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let server_errors = entries
        .iter()
        .filter(|e| e["response"]["status"].as_u64().is_some_and(|s| s >= 500))
        .map(|e| {
            format!(
                "{} {} -> {}: {}",
                e["request"]["method"].as_str().unwrap_or("?"),
                e["request"]["url"].as_str().unwrap_or("?"),
                e["response"]["status"],
                e["response"]["content"]["text"]
                    .as_str()
                    .unwrap_or("")
                    .chars()
                    .take(200)
                    .collect::<String>()
            )
        })
        .collect();
    let operations = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("Tested: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    let failures = summary_items(&stdout, "Failures:", "❌");
    let failures_total = failures.iter().map(|f| count_of(f)).sum();
    Outcome {
        operations,
        requests: entries.len(),
        server_errors,
        failures,
        failures_total,
        errors: summary_items(&stdout, "Errors:", "🚫"),
    }
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", dir.join("api.db").display())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_nonconformance() {
    let Some(exe) = schemathesis() else { return };
    let apps: Vec<String> = match param("APPS", "securecam").as_str() {
        "all" => tessera_apps::names()
            .iter()
            .map(|n| n.to_string())
            .collect(),
        list => list.split(',').map(|s| s.trim().to_owned()).collect(),
    };
    let engines = param("ENGINES", "sqlite");
    let callers = param("CALLERS", "service");
    let examples = param("EXAMPLES", "2");
    let mut problems = Vec::new();
    for app in &apps {
        for engine in engines.split(',').map(str::trim) {
            let dir = tempfile::tempdir().expect("a temporary directory");
            // A fresh database per app and engine; both callers share it.
            let pg = if engine == "postgres" {
                match tessera_testkit::postgres().await {
                    Some(db) => Some(db),
                    None => continue,
                }
            } else {
                None
            };
            let url = match &pg {
                Some(db) => db.url().to_owned(),
                None => sqlite_url(dir.path()),
            };
            let serve = serve(app, &url, dir.path());
            for caller in callers.split(',').map(str::trim) {
                let run_dir = dir.path().join(caller);
                std::fs::create_dir_all(&run_dir).expect("run directory");
                let exe = exe.clone();
                let examples = examples.clone();
                let caller_name = caller.to_owned();
                let outcome = tokio::task::block_in_place(|| {
                    run(&exe, &serve, &caller_name, &examples, &run_dir)
                });
                let listed = |total: u64, items: &[String]| {
                    if items.is_empty() {
                        "0".to_owned()
                    } else {
                        format!("{total} ({})", items.join("; "))
                    }
                };
                report(&format!(
                    "| {app} | {engine} | {caller} | {} | {} | {} | {} | {} |",
                    outcome.operations,
                    outcome.requests,
                    outcome.server_errors.len(),
                    listed(outcome.failures_total, &outcome.failures),
                    listed(
                        outcome.errors.iter().map(|e| count_of(e)).sum(),
                        &outcome.errors
                    ),
                ));
                if outcome.requests == 0 || outcome.operations == 0 {
                    let text =
                        std::fs::read_to_string(run_dir.join("output.txt")).unwrap_or_default();
                    problems.push(format!(
                        "{app} on {engine} as {caller}: schemathesis sent nothing:\n{text}"
                    ));
                }
                for error in outcome.server_errors.iter().take(5) {
                    problems.push(format!("{app} on {engine} as {caller}: {error}"));
                }
                if !outcome.failures.is_empty() || outcome.network_errors() {
                    let text =
                        std::fs::read_to_string(run_dir.join("output.txt")).unwrap_or_default();
                    let failures_part = text
                        .split_once("FAILURES")
                        .or_else(|| text.split_once("ERRORS"))
                        .map(|(_, rest)| rest.chars().take(6000).collect::<String>())
                        .unwrap_or_else(|| {
                            text.chars()
                                .rev()
                                .take(3000)
                                .collect::<String>()
                                .chars()
                                .rev()
                                .collect()
                        });
                    problems.push(format!(
                        "{app} on {engine} as {caller}: {}\n{failures_part}",
                        outcome.failures.join("; ")
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
