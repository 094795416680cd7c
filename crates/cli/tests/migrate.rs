//! `tessera migrate` run by two processes at once, as two deploys racing would: the lock
//! lets exactly one apply the migration and the other find nothing left to do.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tessera_testkit::{engine_tests, Database};

const SCHEMA: &str = "model projects {\n  name  text\n}\n\nmodel pages {\n  slug     text\n  project  -> projects  @on_delete(cascade)\n}\n";

fn dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("migrate")
        .join(format!("{test}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn migrate(schema: &Path, url: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("migrate")
        .arg(schema)
        .args(["--database-url", url])
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("tessera migrate starts")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

engine_tests! {
    /// Two `tessera migrate` processes started together end with one applied migration.
    async fn two_concurrent_migrate_processes_apply_one_migration(db: Database) {
        let dir = dir(&format!("concurrent-{}", db.engine()));
        let schema = dir.join("schema.tsr");
        std::fs::write(&schema, SCHEMA).expect("schema");
        let first = migrate(&schema, db.url());
        let second = migrate(&schema, db.url());
        let first = first.wait_with_output().expect("first exits");
        let second = second.wait_with_output().expect("second exits");
        assert!(first.status.success(), "{}", text(&first));
        assert!(second.status.success(), "{}", text(&second));

        let pool = db.pool().await.expect("pool");
        assert_eq!(
            pool.fetch_i64("SELECT count(*) FROM _tessera_migrations").await.expect("history"),
            1,
            "first:\n{}\nsecond:\n{}",
            text(&first),
            text(&second)
        );
        assert_eq!(pool.fetch_i64("SELECT count(*) FROM pages").await.expect("table exists"), 0);
        let folders = std::fs::read_dir(dir.join("migrations")).expect("migrations folder").count();
        assert_eq!(folders, 1, "one migration folder is written");
    }
}

fn plan(schema: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("plan")
        .arg(schema)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("DATABASE_URL")
        .output()
        .expect("tessera plan runs")
}

/// `tessera plan` on a new project lists the engine's system tables among the first
/// migration's steps, with the SQL that creates them if they are not there yet.
#[test]
fn the_first_plan_shows_the_system_tables() {
    let dir = dir("plan-system-tables");
    let schema = dir.join("schema.tsr");
    std::fs::write(&schema, SCHEMA).expect("schema");
    for dialect in ["sqlite", "postgres"] {
        let output = plan(&schema, &["--dialect", dialect]);
        assert!(output.status.success(), "{}", text(&output));
        let stdout = String::from_utf8_lossy(&output.stdout);
        for table in [
            "_tessera_sessions",
            "_tessera_sign_in_failures",
            "_tessera_settings",
        ] {
            assert!(
                stdout.contains(&format!(". create table {table}\n")),
                "{stdout}"
            );
            assert!(
                stdout.contains(&format!("CREATE TABLE IF NOT EXISTS \"{table}\"")),
                "{stdout}"
            );
        }
    }
}

/// A database URL of another engine is refused by its scheme, without repeating the URL.
#[test]
fn a_database_url_of_another_engine_is_refused_by_its_scheme() {
    let dir = dir("plan-mysql");
    let schema = dir.join("schema.tsr");
    std::fs::write(&schema, SCHEMA).expect("schema");
    let output = plan(&schema, &["--database-url", "mysql://root:hunter2@db/app"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unsupported database URL scheme `mysql:`"),
        "{stderr}"
    );
    assert!(stderr.contains("postgres:"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
}
