//! The engine's own tables (`_tessera_sessions`, `_tessera_sign_in_failures`,
//! `_tessera_settings`) are created by migrations, on both engines: a fresh database's
//! first migration creates them, `plan` lists them, and a database an older Tessera
//! migrated (which created them on first use, or not at all) gets them in its next
//! migration without losing their rows.

use std::path::Path;

use tessera_migrate::{
    checksum, migrate_to, pending_steps, plan_offline, DialectKind, MigrateOptions, Plan, Snapshot,
};
use tessera_schema::Schema;
use tessera_testkit::{engine_tests, Database, Engine, Pool};

const NOTES: &str = "model notes {\n  title text\n  body text?\n}\n";

const SYSTEM_TABLES: [&str; 3] = [
    "_tessera_sessions",
    "_tessera_sign_in_failures",
    "_tessera_settings",
];

/// What an older Tessera ran: the history table as its migrator created it, …
const OLD_HISTORY_SQLITE: &str = "CREATE TABLE IF NOT EXISTS \"_tessera_migrations\" (\"id\" INTEGER PRIMARY KEY, \"name\" TEXT NOT NULL, \"checksum\" TEXT NOT NULL, \"schema\" TEXT NOT NULL, \"applied_at\" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))";
const OLD_HISTORY_POSTGRES: &str = "CREATE TABLE IF NOT EXISTS \"_tessera_migrations\" (\"id\" integer PRIMARY KEY, \"name\" text NOT NULL, \"checksum\" text NOT NULL, \"schema\" jsonb NOT NULL, \"applied_at\" timestamptz NOT NULL DEFAULT now())";
/// … the sessions table and its index as the runtime created them on the first sign-in, …
const OLD_SESSIONS: [&str; 2] = [
    "CREATE TABLE IF NOT EXISTS _tessera_sessions (token_hash TEXT PRIMARY KEY, family TEXT NOT NULL, user_id TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, revoked_at BIGINT)",
    "CREATE INDEX IF NOT EXISTS _tessera_sessions_user_idx ON _tessera_sessions (user_id)",
];
/// … and the settings table as the server created it at its first start.
const OLD_SETTINGS: &str =
    "CREATE TABLE IF NOT EXISTS _tessera_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)";

fn schema(source: &str) -> Schema {
    match tessera_schema::check_source("schema.tsr", source) {
        Ok(checked) => checked.schema,
        Err(diagnostics) => panic!("schema does not check:\n{}", diagnostics.render(false)),
    }
}

fn dialect(db: &Database) -> DialectKind {
    match db.engine() {
        Engine::Sqlite => DialectKind::Sqlite,
        Engine::Postgres => DialectKind::Postgres,
    }
}

fn folder(dir: &Path) -> MigrateOptions {
    MigrateOptions {
        migrations_dir: Some(dir.to_owned()),
        ..MigrateOptions::default()
    }
}

fn step_texts(plan: &Plan) -> Vec<String> {
    plan.steps().map(ToString::to_string).collect()
}

/// The schema's tables as an older Tessera's first migration created them (its DDL
/// alone, no system tables).
fn old_init_sql(dialect: DialectKind) -> String {
    tessera_sql::schema_ddl(&schema(NOTES), dialect).expect("ddl")
}

/// Runs a script of `;`-separated statements one by one.
async fn run_script(pool: &Pool, sql: &str) {
    for statement in sql.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
        pool.execute(statement)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
}

/// A database as an older Tessera left it: `notes` migrated and recorded in the history
/// with a snapshot of the schema alone, the sessions and settings tables created on first
/// use with a row each, and no sign-in failures table (no sign-in failed yet).
async fn older_tessera_database(db: &Database, init_sql: &str) -> Pool {
    let pool = db.pool().await.expect("pool");
    let history = match db.engine() {
        Engine::Sqlite => OLD_HISTORY_SQLITE,
        Engine::Postgres => OLD_HISTORY_POSTGRES,
    };
    pool.execute(history).await.expect("history table");
    run_script(&pool, init_sql).await;
    let snapshot = serde_json::to_string(&schema(NOTES))
        .expect("snapshot")
        .replace('\'', "''");
    pool.execute(&format!(
        "INSERT INTO _tessera_migrations (id, name, checksum, schema) VALUES (1, '0001_init', '{}', '{snapshot}')",
        checksum(init_sql)
    ))
    .await
    .expect("history row");
    for statement in OLD_SESSIONS.iter().chain([&OLD_SETTINGS]) {
        pool.execute(statement).await.expect("old system table");
    }
    pool.execute("INSERT INTO _tessera_sessions (token_hash, family, user_id, created_at, expires_at) VALUES ('digest', 'family', 'user-1', 1, 4102444800)")
        .await
        .expect("a session");
    pool.execute("INSERT INTO _tessera_settings (name, value) VALUES ('service_key', 'kept-key')")
        .await
        .expect("a setting");
    pool.execute("INSERT INTO notes (title) VALUES ('kept note')")
        .await
        .expect("a note");
    pool
}

/// Every system table is there, and the rows written before are kept.
async fn assert_system_tables_with_old_rows(pool: &Pool) {
    for table in SYSTEM_TABLES {
        pool.fetch_i64(&format!("SELECT count(*) FROM {table}"))
            .await
            .unwrap_or_else(|e| panic!("{table} is missing: {e}"));
    }
    assert_eq!(
        pool.fetch_i64("SELECT count(*) FROM _tessera_sessions WHERE token_hash = 'digest' AND expires_at = 4102444800").await.expect("sessions"),
        1
    );
    assert_eq!(
        pool.fetch_i64("SELECT count(*) FROM _tessera_settings WHERE name = 'service_key' AND value = 'kept-key'").await.expect("settings"),
        1
    );
    assert_eq!(
        pool.fetch_i64("SELECT count(*) FROM notes WHERE title = 'kept note'")
            .await
            .expect("notes"),
        1
    );
}

/// `tessera plan` on a project without migrations lists the system tables among the
/// first migration's steps, on both dialects.
#[test]
fn the_first_plan_lists_the_system_tables() {
    for dialect in DialectKind::ALL {
        let plan = plan_offline(&schema(NOTES), dialect, None, None).expect("plan");
        assert_eq!(plan.migrations.len(), 1);
        assert_eq!(plan.migrations[0].name, "0001_init");
        let steps = step_texts(&plan);
        for table in SYSTEM_TABLES {
            assert!(
                steps.contains(&format!("create table {table}")),
                "{dialect}: {steps:?}"
            );
        }
        assert!(
            steps.contains(
                &"add index _tessera_sessions_user_idx on _tessera_sessions (user_id)".to_owned()
            ),
            "{steps:?}"
        );
        assert!(
            plan.migrations[0]
                .sql
                .contains("CREATE TABLE IF NOT EXISTS \"_tessera_settings\""),
            "{}",
            plan.migrations[0].sql
        );
        assert!(
            !steps.iter().any(|s| s.contains("_tessera_migrations")),
            "the history is the migrator's own: {steps:?}"
        );
    }
}

engine_tests! {
    /// A fresh database's first migration creates the system tables and records them:
    /// the folder's SQL creates them and its snapshot says so, and the next run has
    /// nothing to do.
    async fn a_fresh_databases_first_migration_creates_the_system_tables(db: Database) {
        let dir = tempfile::tempdir().expect("temp dir");
        let plan = pending_steps(&schema(NOTES), db.url(), &folder(dir.path())).await.expect("plan");
        let steps = step_texts(&plan);
        for table in SYSTEM_TABLES {
            assert!(steps.contains(&format!("create table {table}")), "{steps:?}");
        }
        let report = migrate_to(&schema(NOTES), db.url(), &folder(dir.path())).await.expect("migrate");
        assert_eq!(report.applied, ["0001_init"]);

        let pool = db.pool().await.expect("pool");
        for table in SYSTEM_TABLES {
            assert_eq!(pool.fetch_i64(&format!("SELECT count(*) FROM {table}")).await.expect(table), 0);
        }
        let init = dir.path().join("0001_init");
        for file in ["postgres.sql", "sqlite.sql"] {
            let sql = std::fs::read_to_string(init.join(file)).expect("sql");
            assert!(sql.contains("CREATE TABLE IF NOT EXISTS \"_tessera_sessions\""), "{file}:\n{sql}");
            assert!(sql.contains("CREATE INDEX IF NOT EXISTS \"_tessera_sign_in_failures_first_at_idx\""), "{file}:\n{sql}");
        }
        let snapshot = std::fs::read_to_string(init.join("schema.json")).expect("snapshot");
        assert!(snapshot.contains("\"tessera_system_tables\": 1"), "{snapshot}");
        let recorded = pool.fetch_i64(match db.engine() {
            Engine::Sqlite => "SELECT json_extract(schema, '$.tessera_system_tables') FROM _tessera_migrations",
            Engine::Postgres => "SELECT (schema->>'tessera_system_tables')::int FROM _tessera_migrations",
        }).await.expect("history snapshot");
        assert_eq!(recorded, 1);

        assert!(migrate_to(&schema(NOTES), db.url(), &folder(dir.path())).await.expect("again").applied.is_empty());
        assert!(pending_steps(&schema(NOTES), db.url(), &MigrateOptions::default()).await.expect("plan").is_empty());
    }

    /// A database an older Tessera migrated (its history snapshot without system tables;
    /// sessions and settings created on first use, no sign-in failures table yet) gets
    /// the system tables from its next migration, with their rows kept.
    async fn an_older_tessera_database_gets_the_system_tables_and_keeps_their_rows(db: Database) {
        let pool = older_tessera_database(&db, &old_init_sql(dialect(&db))).await;
        let plan = pending_steps(&schema(NOTES), db.url(), &MigrateOptions::default()).await.expect("plan");
        assert_eq!(plan.migrations.len(), 1);
        assert_eq!(plan.migrations[0].name, "0002_tessera_system_tables");
        let steps = step_texts(&plan);
        assert!(steps.iter().all(|s| s.contains("_tessera_")), "only system tables: {steps:?}");
        for table in SYSTEM_TABLES {
            assert!(steps.contains(&format!("create table {table}")), "{steps:?}");
        }
        assert!(plan.destructive().is_empty());

        let report = migrate_to(&schema(NOTES), db.url(), &MigrateOptions::default()).await.expect("migrate");
        assert_eq!(report.applied, ["0002_tessera_system_tables"]);
        assert_system_tables_with_old_rows(&pool).await;
        assert_eq!(pool.fetch_i64("SELECT count(*) FROM _tessera_migrations").await.expect("history"), 2);
        assert!(pending_steps(&schema(NOTES), db.url(), &MigrateOptions::default()).await.expect("plan").is_empty());

        // The schema goes on changing as before.
        let more = schema("model notes {\n  title text\n  body text?\n  pinned bool = false\n}\n");
        let report = migrate_to(&more, db.url(), &MigrateOptions::default()).await.expect("next");
        assert_eq!(report.applied, ["0003_add_notes_pinned"]);
    }

    /// A project whose migrations folder an older Tessera wrote gets a new folder that
    /// creates the system tables, applied like any other.
    async fn an_older_tessera_folder_gets_a_migration_for_the_system_tables(db: Database) {
        let dir = tempfile::tempdir().expect("temp dir");
        let init = dir.path().join("0001_init");
        std::fs::create_dir_all(&init).expect("folder");
        for d in DialectKind::ALL {
            std::fs::write(init.join(tessera_migrate::files::sql_file_name(d)), old_init_sql(d)).expect("sql");
        }
        std::fs::write(init.join("schema.json"), serde_json::to_string_pretty(&schema(NOTES)).expect("json")).expect("schema.json");
        let pool = older_tessera_database(&db, &old_init_sql(dialect(&db))).await;

        let report = migrate_to(&schema(NOTES), db.url(), &folder(dir.path())).await.expect("migrate");
        assert_eq!(report.applied, ["0002_tessera_system_tables"]);
        let written = dir.path().join("0002_tessera_system_tables");
        assert_eq!(report.written.as_deref(), Some(written.as_path()));
        for file in ["postgres.sql", "sqlite.sql"] {
            let sql = std::fs::read_to_string(written.join(file)).expect("sql");
            assert!(sql.contains("CREATE TABLE IF NOT EXISTS \"_tessera_sign_in_failures\""), "{file}:\n{sql}");
            assert!(!sql.contains("\"notes\""), "only system tables: {file}:\n{sql}");
        }
        let snapshot = Snapshot::from_json(&std::fs::read_to_string(written.join("schema.json")).expect("snapshot")).expect("reads");
        assert_eq!(snapshot.system_tables, tessera_sql::system::VERSION);
        assert_system_tables_with_old_rows(&pool).await;
        assert!(pending_steps(&schema(NOTES), db.url(), &folder(dir.path())).await.expect("plan").is_empty());
    }
}
