//! A scenario of the test support run in a process of its own, so that its environment
//! and lifetime are its own: `testkit-server-mode throwaway` gets databases from a
//! throwaway cluster, `testkit-server-mode configured` from the server named by
//! `TESSERA_TEST_DATABASE_URL`. It prints `CHILD-REPORT key=value ...` lines for the test
//! that runs it (`crates/testkit/tests/server_modes.rs`) and fails on a broken expectation.

use std::io::Write as _;
use std::path::Path;

use tessera_testkit::{database_exists, PgServer, ServerError, DATABASE_URL_ENV};

const UNAVAILABLE: &str = "CHILD-REPORT unavailable";

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("throwaway") => child_uses_a_throwaway_cluster(),
        Some("configured") => child_uses_the_configured_server(),
        _ => {
            eprintln!("usage: testkit-server-mode throwaway|configured");
            std::process::exit(2);
        }
    }
}

fn child_report(pairs: &[(&str, String)]) {
    let line: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!("CHILD-REPORT {}", line.join(" "));
    let _ = std::io::stdout().flush();
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

fn child_uses_a_throwaway_cluster() {
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

fn child_uses_the_configured_server() {
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
