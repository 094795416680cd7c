//! Tests written once and run on both engines.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use tessera_testkit::{engine_tests, for_each_engine, run_on, Database, Engine};

const CREATE_PEOPLE: &str = "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL)";

engine_tests! {
    /// A table made in the fresh database can be written and read.
    async fn rows_round_trip(db: Database) -> Result<(), sqlx::Error> {
        let pool = db.pool().await?;
        pool.execute(CREATE_PEOPLE).await?;
        pool.execute("INSERT INTO people (id, name) VALUES (1, 'Ada'), (2, 'Grace')").await?;
        assert_eq!(pool.fetch_i64("SELECT count(*) FROM people").await?, 2);
        pool.close().await;
        Ok(())
    }

    async fn each_test_starts_empty(db: Database) {
        let pool = db.pool().await.expect("connect");
        // Would fail with "table already exists" if databases were shared.
        pool.execute(CREATE_PEOPLE).await.expect("create table");
    }

    async fn the_url_matches_the_engine(db: Database) {
        assert!(db.url().starts_with(db.engine().url_scheme()), "{}", db.url());
    }
}

#[test]
fn an_error_result_fails_the_test_and_names_the_engine() {
    let failed = std::panic::catch_unwind(|| {
        run_on(Engine::Sqlite, |db| async move {
            let pool = db.pool().await?;
            pool.execute("SELECT * FROM no_such_table").await?;
            Ok::<(), sqlx::Error>(())
        });
    })
    .expect_err("the test fails");
    let message = failed
        .downcast_ref::<String>()
        .expect("a formatted panic message");
    assert!(message.starts_with("test failed on sqlite: "), "{message}");
    assert!(message.contains("no_such_table"), "{message}");
}

#[tokio::test]
async fn for_each_engine_runs_on_every_available_engine() {
    let runs = AtomicUsize::new(0);
    let engines = Mutex::new(Vec::new());
    for_each_engine(|db| {
        let (runs, engines) = (&runs, &engines);
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            engines.lock().expect("lock").push(db.engine());
            let pool = db.pool().await?;
            pool.execute(CREATE_PEOPLE).await?;
            Ok::<(), sqlx::Error>(())
        }
    })
    .await;
    let engines = engines.into_inner().expect("lock");
    assert_eq!(engines.first(), Some(&Engine::Sqlite));
    assert!(runs.load(Ordering::SeqCst) >= 1);
    if tessera_testkit::PgServer::global().is_ok() {
        assert_eq!(engines, Engine::ALL);
    }
}
