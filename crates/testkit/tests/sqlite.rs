//! SQLite databases: fresh, usable, separate, and removed on drop.

use tessera_testkit::{sqlite, Database, Engine, SqliteDatabase};

#[tokio::test]
async fn a_sqlite_database_is_created_on_first_connection_and_usable() {
    let db = SqliteDatabase::new().expect("a SQLite database");
    assert!(db.url().starts_with("sqlite://"), "{}", db.url());
    assert!(db.url().ends_with("?mode=rwc"), "{}", db.url());
    assert!(!db.path().exists(), "nothing is created before connecting");

    let pool = db.pool().await.expect("connect");
    sqlx::query("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        .execute(&pool)
        .await
        .expect("create table");
    sqlx::query("INSERT INTO notes (body) VALUES (?), (?)")
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
    assert!(db.path().is_file());
    pool.close().await;
}

#[tokio::test]
async fn the_directory_is_removed_on_drop() {
    let db = sqlite();
    let pool = db.pool().await.expect("connect");
    sqlx::query("CREATE TABLE t (x INTEGER)")
        .execute(&pool)
        .await
        .expect("create table");
    pool.close().await;
    let dir = db.path().parent().expect("a parent directory").to_owned();
    assert!(dir.is_dir());
    drop(db);
    assert!(!dir.exists(), "{} is left behind", dir.display());
}

#[tokio::test]
async fn two_sqlite_databases_are_separate() {
    let (a, b) = (sqlite(), sqlite());
    assert_ne!(a.url(), b.url());
    assert_ne!(a.path().parent(), b.path().parent());

    let pool_a = a.pool().await.expect("connect a");
    sqlx::query("CREATE TABLE only_in_a (x INTEGER)")
        .execute(&pool_a)
        .await
        .expect("create table");
    let pool_b = b.pool().await.expect("connect b");
    let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table'")
        .fetch_one(&pool_b)
        .await
        .expect("count tables");
    assert_eq!(tables, 0);
}

#[tokio::test]
async fn the_database_enum_wraps_sqlite() {
    let db = Database::create(Engine::Sqlite)
        .await
        .expect("a SQLite database");
    assert_eq!(db.engine(), Engine::Sqlite);
    assert!(db.url().starts_with(Engine::Sqlite.url_scheme()));
    assert!(db.as_sqlite().is_some());
    assert!(db.as_postgres().is_none());
    let pool = db.pool().await.expect("connect");
    pool.execute("CREATE TABLE t (x INTEGER)")
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
}
