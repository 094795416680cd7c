//! The two ways of getting a server, each checked in a child process (this test
//! binary run again on one ignored test) so that its environment and lifetime are its
//! own:
//!
//! * without TESSERA_TEST_DATABASE_URL a throwaway cluster starts, serves databases,
//!   and is stopped and deleted once the process has exited;
//! * with it, databases are made on that server (no cluster is started) and dropped.

use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use sqlx::{Connection as _, PgConnection};
use tessera_testkit::{PgServer, ServerError, DATABASE_URL_ENV};

/// Set for the child process, naming the scenario it must run.
const CHILD_ENV: &str = "TESSERA_TESTKIT_CHILD";
const UNAVAILABLE: &str = "CHILD-REPORT unavailable";

/// Runs the ignored test `name` of this binary in a child process.
fn run_child(name: &str, scenario: &str, database_url: Option<&str>) -> Output {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut command = Command::new(exe);
    command
        .args([
            name,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, scenario)
        .env_remove(DATABASE_URL_ENV);
    if let Some(url) = database_url {
        command.env(DATABASE_URL_ENV, url);
    }
    let output = command.output().expect("run the child test process");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "child `{name}` failed: {}\nstdout:\n{stdout}\nstderr:\n{}",
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

fn child_report(pairs: &[(&str, String)]) {
    let line: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!("CHILD-REPORT {}", line.join(" "));
    let _ = std::io::stdout().flush();
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

async fn exercise(db: &tessera_testkit::PgDatabase) {
    let pool = db.pool().await.expect("connect");
    sqlx::query("CREATE TABLE items (id serial PRIMARY KEY, label text NOT NULL)")
        .execute(&pool)
        .await
        .expect("create table");
    sqlx::query("INSERT INTO items (label) VALUES ($1)")
        .bind(db.name())
        .execute(&pool)
        .await
        .expect("insert");
    let label: String = sqlx::query_scalar("SELECT label FROM items")
        .fetch_one(&pool)
        .await
        .expect("select");
    assert_eq!(label, db.name());
    pool.close().await;
}

async fn database_exists(admin_url: &str, name: &str) -> bool {
    let mut admin = PgConnection::connect(admin_url).await.expect("connect");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_one(&mut admin)
        .await
        .expect("look up database");
    count == 1
}

#[test]
fn without_a_url_a_throwaway_cluster_serves_databases_and_is_removed_at_exit() {
    let output = run_child("child_uses_a_throwaway_cluster", "throwaway", None);
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

#[test]
#[ignore = "run in a child process by without_a_url_a_throwaway_cluster_…"]
fn child_uses_a_throwaway_cluster() {
    if std::env::var(CHILD_ENV).as_deref() != Ok("throwaway") {
        return;
    }
    let server = match PgServer::global() {
        Ok(server) => server,
        Err(ServerError::Unavailable) => return println!("{UNAVAILABLE}"),
        Err(error) => panic!("{error}"),
    };
    assert!(server.is_throwaway());
    let data_dir = server
        .data_dir()
        .expect("a throwaway cluster has a data directory");
    let dir = server.cluster_dir().expect("and a directory");
    assert!(data_dir.starts_with(dir));
    assert!(dir.join("socket").is_dir());
    let pid = std::fs::read_to_string(data_dir.join("postmaster.pid"))
        .expect("the server runs")
        .lines()
        .next()
        .expect("postmaster.pid names the PID")
        .to_owned();
    let port = url::Url::parse(server.admin_url())
        .expect("a URL")
        .port()
        .expect("a port");
    assert!(server
        .admin_url()
        .starts_with("postgres://postgres@127.0.0.1:"));

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let names = runtime.block_on(async {
        let (a, b) = tokio::join!(
            tessera_testkit::PgDatabase::create(),
            tessera_testkit::PgDatabase::create()
        );
        let (a, b) = (a.expect("database a"), b.expect("database b"));
        assert_ne!(a.name(), b.name());
        exercise(&a).await;
        exercise(&b).await;
        [a.name().to_owned(), b.name().to_owned()]
        // a and b are dropped here, the cluster stays until the process exits
    });
    runtime.block_on(async {
        for name in &names {
            assert!(!database_exists(server.admin_url(), name).await);
        }
    });

    child_report(&[
        ("dir", dir.display().to_string()),
        ("pid", pid),
        ("port", port.to_string()),
        ("database", names[0].clone()),
        ("database", names[1].clone()),
    ]);
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
    let output = tokio::task::spawn_blocking(move || {
        run_child("child_uses_the_configured_server", "configured", Some(&url))
    })
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

#[test]
#[ignore = "run in a child process by with_a_url_databases_are_made_…"]
fn child_uses_the_configured_server() {
    if std::env::var(CHILD_ENV).as_deref() != Ok("configured") {
        return;
    }
    let configured = std::env::var(DATABASE_URL_ENV).expect("the parent sets the URL");
    let server = PgServer::global().expect("the configured server");
    assert!(!server.is_throwaway());
    assert_eq!(server.admin_url(), configured);
    assert_eq!(server.data_dir(), None::<&Path>);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let names = runtime.block_on(async {
        let a = tessera_testkit::postgres().await.expect("database a");
        let b = tessera_testkit::postgres().await.expect("database b");
        assert_ne!(a.name(), b.name());
        for db in [&a, &b] {
            assert!(db.url().starts_with(
                configured
                    .split('/')
                    .take(3)
                    .collect::<Vec<_>>()
                    .join("/")
                    .as_str()
            ));
            assert!(database_exists(&configured, db.name()).await);
            exercise(db).await;
        }
        [a.name().to_owned(), b.name().to_owned()]
    });
    child_report(&[
        ("throwaway", server.is_throwaway().to_string()),
        ("database", names[0].clone()),
        ("database", names[1].clone()),
    ]);
}
