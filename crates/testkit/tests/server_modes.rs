//! The two ways of getting a server, each checked in a process of its own (the
//! `testkit-server-mode` scenario binary) so that its environment and lifetime are its
//! own:
//!
//! * without TESSERA_TEST_DATABASE_URL a throwaway cluster starts, serves databases,
//!   and is stopped and deleted once the process has exited;
//! * with it, databases are made on that server (no cluster is started) and dropped.

use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use tessera_testkit::{database_exists, PgServer, ServerError, DATABASE_URL_ENV};

const UNAVAILABLE: &str = "CHILD-REPORT unavailable";

/// Runs the scenario in a process of its own (`src/bin/testkit-server-mode.rs`).
fn run_child(scenario: &str, database_url: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_testkit-server-mode"));
    command.arg(scenario).env_remove(DATABASE_URL_ENV);
    if let Some(url) = database_url {
        command.env(DATABASE_URL_ENV, url);
    }
    let output = command.output().expect("run the scenario process");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "scenario `{scenario}` failed: {}\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The values of `key` in the child's `CHILD-REPORT key=value …` lines (the harness
/// may print the test's name before it on the same line).
fn report(output: &Output, key: &str) -> Vec<String> {
    let prefix = format!("{key}=");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_once("CHILD-REPORT ").map(|(_, rest)| rest))
        .flat_map(|line| line.split(' '))
        .filter_map(|pair| pair.strip_prefix(&prefix).map(str::to_owned))
        .collect()
}

fn skip_unavailable() {
    let ci = std::env::var("CI").is_ok_and(|v| matches!(v.as_str(), "true" | "1"));
    let message = ServerError::Unavailable.to_string();
    assert!(!ci, "{message}");
    let _ = writeln!(std::io::stderr(), "{message}");
}

fn process_is_alive(pid: &str) -> bool {
    Command::new("kill")
        .args(["-0", pid])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn port_is_open(port: u16) -> bool {
    TcpStream::connect_timeout(
        &SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        Duration::from_millis(500),
    )
    .is_ok()
}

#[test]
fn without_a_url_a_throwaway_cluster_serves_databases_and_is_removed_at_exit() {
    let output = run_child("throwaway", None);
    if String::from_utf8_lossy(&output.stdout).contains(UNAVAILABLE) {
        return skip_unavailable();
    }
    let dir = PathBuf::from(report(&output, "dir").pop().expect("the cluster directory"));
    let pid = report(&output, "pid").pop().expect("the postmaster PID");
    let port: u16 = report(&output, "port")
        .pop()
        .and_then(|port| port.parse().ok())
        .expect("the port");
    assert_eq!(report(&output, "database").len(), 2);

    // The watchdog polls once a second.
    let deadline = Instant::now() + Duration::from_secs(30);
    while (dir.exists() || process_is_alive(&pid) || port_is_open(port))
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(!process_is_alive(&pid), "postmaster {pid} still runs");
    assert!(!port_is_open(port), "port {port} still accepts connections");
    assert!(!dir.exists(), "{} is left behind", dir.display());
}

#[tokio::test]
async fn with_a_url_databases_are_made_on_that_server_and_dropped() {
    // The server this process uses (external or throwaway) plays the configured one.
    let server = match tokio::task::spawn_blocking(PgServer::global)
        .await
        .expect("join")
    {
        Ok(server) => server,
        Err(ServerError::Unavailable) => return skip_unavailable(),
        Err(error) => panic!("{error}"),
    };
    let url = server.admin_url().to_owned();
    let output = tokio::task::spawn_blocking(move || run_child("configured", Some(&url)))
        .await
        .expect("join");
    let names = report(&output, "database");
    assert_eq!(names.len(), 2, "{names:?}");
    for name in &names {
        assert!(
            !database_exists(server.admin_url(), name).await,
            "{name} was not dropped"
        );
    }
    assert!(report(&output, "throwaway") == ["false"]);
}
