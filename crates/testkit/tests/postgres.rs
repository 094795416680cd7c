//! PostgreSQL databases on the process-wide server (the one named by
//! TESSERA_TEST_DATABASE_URL, or a throwaway cluster): fresh, usable, distinct when
//! handed out concurrently, and dropped afterwards.

use std::collections::HashSet;

use sqlx::{Connection as _, PgConnection};
use tessera_testkit::{postgres, Database, Engine, PgDatabase, PgServer, DATABASE_NAME_PREFIX};

async fn database_exists(name: &str) -> bool {
    let server = PgServer::global().expect("the server is up once a database was made");
    let mut admin = PgConnection::connect(server.admin_url())
        .await
        .expect("connect to the maintenance database");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_one(&mut admin)
        .await
        .expect("look up the database");
    admin.close().await.expect("close");
    count == 1
}

#[tokio::test]
async fn a_database_is_created_usable_and_dropped() {
    let Some(db) = postgres().await else { return };
    let name = db.name().to_owned();
    assert!(name.starts_with(DATABASE_NAME_PREFIX), "{name}");
    assert!(db.url().starts_with("postgres"), "{}", db.url());
    assert!(db.url().contains(&name), "{}", db.url());
    assert!(database_exists(&name).await);

    let pool = db.pool().await.expect("connect");
    let current: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&pool)
        .await
        .expect("current database");
    assert_eq!(current, name);
    let encoding: String = sqlx::query_scalar(
        "SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()",
    )
    .fetch_one(&pool)
    .await
    .expect("encoding");
    assert_eq!(encoding, "UTF8");

    sqlx::query("CREATE TABLE notes (id bigserial PRIMARY KEY, body text NOT NULL)")
        .execute(&pool)
        .await
        .expect("create table");
    sqlx::query("INSERT INTO notes (body) VALUES ($1), ($2)")
        .bind("first")
        .bind("second")
        .execute(&pool)
        .await
        .expect("insert");
    let bodies: Vec<String> = sqlx::query_scalar("SELECT body FROM notes ORDER BY id")
        .fetch_all(&pool)
        .await
        .expect("select");
    assert_eq!(bodies, ["first", "second"]);

    // The pool is still open: dropping the database must end its sessions.
    drop(db);
    assert!(!database_exists(&name).await, "{name} was not dropped");
    pool.close().await;
}

#[tokio::test]
async fn databases_handed_out_concurrently_are_distinct() {
    let (a, b) = tokio::join!(postgres(), postgres());
    let (Some(a), Some(b)) = (a, b) else { return };
    assert_ne!(a.name(), b.name());
    assert_ne!(a.url(), b.url());

    let pool_a = a.pool().await.expect("connect a");
    sqlx::query("CREATE TABLE only_in_a (x int)")
        .execute(&pool_a)
        .await
        .expect("create table");
    let pool_b = b.pool().await.expect("connect b");
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_one(&pool_b)
    .await
    .expect("count tables");
    assert_eq!(tables, 0, "b sees a's table");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_databases_created_in_parallel_are_distinct_and_all_dropped() {
    let tasks: Vec<_> = (0..8).map(|_| tokio::spawn(postgres())).collect();
    let mut databases = Vec::new();
    for task in tasks {
        let Some(db) = task.await.expect("task") else {
            return;
        };
        databases.push(db);
    }
    let names: HashSet<String> = databases.iter().map(|db| db.name().to_owned()).collect();
    assert_eq!(names.len(), databases.len());
    for name in &names {
        assert!(database_exists(name).await);
    }
    drop(databases);
    for name in &names {
        assert!(!database_exists(name).await, "{name} was not dropped");
    }
}

#[tokio::test]
async fn the_database_enum_wraps_postgres() {
    let db = match Database::create(Engine::Postgres).await {
        Ok(db) => db,
        Err(error) if error.is_postgres_unavailable() => {
            // Leave the loud notice (or the CI failure) to the helper.
            assert!(postgres().await.is_none());
            return;
        }
        Err(error) => panic!("{error}"),
    };
    assert_eq!(db.engine(), Engine::Postgres);
    assert!(db.url().starts_with(Engine::Postgres.url_scheme()));
    assert!(db.as_postgres().is_some());
    let pool = db.pool().await.expect("connect");
    pool.execute("CREATE TABLE t (x int)")
        .await
        .expect("create");
    assert_eq!(
        pool.execute("INSERT INTO t VALUES (1), (2)")
            .await
            .expect("insert"),
        2
    );
    assert_eq!(
        pool.fetch_i64("SELECT sum(x) FROM t").await.expect("sum"),
        3
    );
    assert_eq!(pool.fetch_i64("SELECT 7").await.expect("int4"), 7);
}

#[test]
fn a_database_can_be_made_without_an_async_test() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let Some(db) = runtime.block_on(postgres()) else {
        return;
    };
    let name = db.name().to_owned();
    drop(db);
    assert!(!runtime.block_on(database_exists(&name)));
    // The server outlives the runtime that first used it.
    let again: Option<PgDatabase> = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(postgres());
    assert!(again.is_some());
}
