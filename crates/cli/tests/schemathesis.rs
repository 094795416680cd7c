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

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

fn report(line: &str) {
    println!("{line}");
    if let Ok(path) = std::env::var("TESSERA_RELIABILITY_REPORT") {
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = writeln!(file, "{line}");
        }
    }
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

/// The `tessera serve` process; killed when dropped.
struct Serve {
    child: Child,
    port: u16,
}

impl Serve {
    fn start(app: &str, database_url: &str) -> Serve {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let child = Command::new(env!("CARGO_BIN_EXE_tessera"))
            .args(["serve", "--app", app])
            .args(["--database-url", database_url])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env("TESSERA_SERVICE_KEY", KEY)
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tessera serve starts");
        let serve = Serve { child, port };
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return serve;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("tessera serve --app {app} did not start");
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one schemathesis run found.
struct Outcome {
    operations: u64,
    requests: usize,
    server_errors: Vec<String>,
    /// Failing checks by code and name, with counts (e.g. `ST103 Undocumented status code: 2`).
    failures: Vec<String>,
    failures_total: u64,
    exit_ok: bool,
}

fn run(exe: &Path, serve: &Serve, caller: &str, examples: &str, dir: &Path) -> Outcome {
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
    // The summary lists failures as `❌ ST103 Undocumented status code: 16`.
    let mut failures = Vec::new();
    let mut failures_total = 0;
    let mut in_failures = false;
    for line in stdout.lines() {
        let line = line.trim();
        if line == "Failures:" {
            in_failures = true;
            continue;
        }
        if in_failures {
            match line.strip_prefix("❌ ") {
                Some(item) => {
                    failures_total += item
                        .rsplit_once(": ")
                        .and_then(|(_, n)| n.parse::<u64>().ok())
                        .unwrap_or(1);
                    failures.push(item.to_owned());
                }
                None => in_failures = false,
            }
        }
    }
    Outcome {
        operations,
        requests: entries.len(),
        server_errors,
        failures,
        failures_total,
        exit_ok: output.status.success(),
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
            let serve = Serve::start(app, &url);
            for caller in callers.split(',').map(str::trim) {
                let run_dir = dir.path().join(caller);
                std::fs::create_dir_all(&run_dir).expect("run directory");
                let exe = exe.clone();
                let examples = examples.clone();
                let caller_name = caller.to_owned();
                let outcome = tokio::task::block_in_place(|| {
                    run(&exe, &serve, &caller_name, &examples, &run_dir)
                });
                report(&format!(
                    "| {app} | {engine} | {caller} | {} | {} | {} | {} |",
                    outcome.operations,
                    outcome.requests,
                    outcome.server_errors.len(),
                    if outcome.failures.is_empty() {
                        "0".to_owned()
                    } else {
                        format!(
                            "{} ({})",
                            outcome.failures_total,
                            outcome.failures.join("; ")
                        )
                    }
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
                if !outcome.failures.is_empty()
                    || (!outcome.exit_ok
                        && outcome.server_errors.is_empty()
                        && outcome.failures.is_empty())
                {
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
