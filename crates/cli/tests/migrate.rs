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
