//! Databases made by older versions of Tessera are brought to today's storage by the next
//! migration run, keeping their values.

use sqlx::Row;
use tessera_migrate::{migrate_to, pending_steps, MigrateOptions};
use tessera_schema::Schema;
use tessera_sql::DialectKind;
use tessera_testkit::{engine_tests, Database, Engine, Pool};

const LEDGER: &str = "model ledger {
  code    text             @unique
  amount  decimal(30, 10)
  price   decimal(10, 2)?  @min(0)
  ratio   decimal?
}
";

fn ledger() -> Schema {
    tessera_schema::check_source("ledger.tsr", LEDGER)
        .expect("the schema checks")
        .schema
}

/// The DDL an older version wrote for `schema` on SQLite: decimals in NUMERIC columns,
/// their ranges checked on the column itself.
fn legacy_sqlite_ddl(schema: &Schema) -> String {
    tessera_sql::schema_ddl(schema, DialectKind::Sqlite)
        .expect("ddl")
        .replace("DECIMAL_TEXT(30, 10)", "NUMERIC")
        .replace("DECIMAL_TEXT(10, 2)", "NUMERIC")
        .replace("DECIMAL_TEXT", "NUMERIC")
        .replace("CAST(\"price\" AS REAL)", "\"price\"")
}

/// `(code, typeof(amount), amount, price, ratio)` of every row, by code.
async fn stored(
    pool: &sqlx::SqlitePool,
) -> Vec<(String, String, String, Option<String>, Option<String>)> {
    sqlx::query(
        "SELECT code, typeof(amount), CAST(amount AS TEXT), CAST(price AS TEXT), CAST(ratio AS TEXT) FROM ledger ORDER BY code",
    )
    .fetch_all(pool)
    .await
    .expect("rows")
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
    .collect()
}

#[tokio::test]
async fn sqlite_numeric_decimal_columns_become_exact_text_keeping_their_values() {
    let db = Database::create(Engine::Sqlite).await.expect("database");
    let schema = ledger();
    let options = MigrateOptions::default();
    migrate_to(&schema, db.url(), &options)
        .await
        .expect("migrate");
    let Pool::Sqlite(pool) = db.pool().await.expect("pool") else {
        unreachable!("a SQLite database");
    };
    // The table as an older version made and filled it: decimals bound as floats, which
    // NUMERIC affinity keeps as REAL or, when whole, as INTEGER.
    sqlx::query("DROP TABLE ledger")
        .execute(&pool)
        .await
        .expect("drop");
    for statement in legacy_sqlite_ddl(&schema)
        .split(";\n")
        .filter(|s| !s.trim().is_empty())
    {
        sqlx::query(statement)
            .execute(&pool)
            .await
            .expect(statement);
    }
    sqlx::query(
        "INSERT INTO ledger (code, amount, price, ratio) VALUES \
         ('a', 12345.678, 10, 0.1), ('b', -3, 2.5, NULL), ('c', 1e20, NULL, 1.5e-7)",
    )
    .execute(&pool)
    .await
    .expect("legacy rows");
    let legacy: String = sqlx::query_scalar("SELECT typeof(amount) FROM ledger WHERE code = 'a'")
        .fetch_one(&pool)
        .await
        .expect("type");
    assert_eq!(legacy, "real");

    let plan = pending_steps(&schema, db.url(), &options)
        .await
        .expect("plan");
    assert!(plan.migrations.is_empty(), "the schema did not change");
    assert_eq!(plan.upgrades.len(), 1);
    assert_eq!(
        plan.upgrades[0].to_string(),
        "upgrade the storage of table ledger (decimals kept as exact text: amount NUMERIC -> DECIMAL_TEXT(30, 10), price NUMERIC -> DECIMAL_TEXT(10, 2), ratio NUMERIC -> DECIMAL_TEXT)"
    );

    let report = migrate_to(&schema, db.url(), &options)
        .await
        .expect("upgrade");
    assert!(report.applied.is_empty());
    assert_eq!(report.upgraded.len(), 1);

    let types: Vec<(String, String)> =
        sqlx::query_as("SELECT name, type FROM pragma_table_info('ledger') ORDER BY cid")
            .fetch_all(&pool)
            .await
            .expect("columns");
    assert!(
        types.contains(&("amount".into(), "DECIMAL_TEXT(30, 10)".into())),
        "{types:?}"
    );
    assert!(
        types.contains(&("price".into(), "DECIMAL_TEXT(10, 2)".into())),
        "{types:?}"
    );
    assert!(
        types.contains(&("ratio".into(), "DECIMAL_TEXT".into())),
        "{types:?}"
    );
    let s = |v: &str| v.to_owned();
    assert_eq!(
        stored(&pool).await,
        [
            (
                s("a"),
                s("text"),
                s("12345.6780000000"),
                Some(s("10.00")),
                Some(s("0.1"))
            ),
            (s("b"), s("text"), s("-3.0000000000"), Some(s("2.50")), None),
            (
                s("c"),
                s("text"),
                s("100000000000000000000.0000000000"),
                None,
                Some(s("1.5e-07"))
            ),
        ]
    );
    // The new checks hold, the unique index is there, and nothing is left to do.
    assert!(
        sqlx::query("UPDATE ledger SET price = '-1.00' WHERE code = 'a'")
            .execute(&pool)
            .await
            .is_err()
    );
    assert!(
        sqlx::query("INSERT INTO ledger (code, amount) VALUES ('a', '1.0000000000')")
            .execute(&pool)
            .await
            .is_err()
    );
    assert!(pending_steps(&schema, db.url(), &options)
        .await
        .expect("plan")
        .is_empty());
    let again = migrate_to(&schema, db.url(), &options)
        .await
        .expect("again");
    assert!(again.upgraded.is_empty() && again.applied.is_empty());
}

#[tokio::test]
async fn a_migration_that_rebuilds_a_legacy_table_stores_its_decimals_as_text() {
    let db = Database::create(Engine::Sqlite).await.expect("database");
    let schema = ledger();
    let options = MigrateOptions::default();
    migrate_to(&schema, db.url(), &options)
        .await
        .expect("migrate");
    let Pool::Sqlite(pool) = db.pool().await.expect("pool") else {
        unreachable!("a SQLite database");
    };
    sqlx::query("DROP TABLE ledger")
        .execute(&pool)
        .await
        .expect("drop");
    for statement in legacy_sqlite_ddl(&schema)
        .split(";\n")
        .filter(|s| !s.trim().is_empty())
    {
        sqlx::query(statement)
            .execute(&pool)
            .await
            .expect(statement);
    }
    sqlx::query("INSERT INTO ledger (code, amount, price) VALUES ('a', 7, 1.5)")
        .execute(&pool)
        .await
        .expect("legacy row");
    // A new check on the table rebuilds it within the migration itself.
    let edited = tessera_schema::check_source(
        "ledger.tsr",
        &LEDGER.replace(
            "decimal(10, 2)?  @min(0)",
            "decimal(10, 2)?  @min(0) @max(1000)",
        ),
    )
    .expect("checks")
    .schema;
    let report = migrate_to(&edited, db.url(), &options)
        .await
        .expect("migrate");
    assert_eq!(report.applied.len(), 1);
    let s = |v: &str| v.to_owned();
    assert_eq!(
        stored(&pool).await,
        [(s("a"), s("text"), s("7.0000000000"), Some(s("1.50")), None)]
    );
    assert!(pending_steps(&edited, db.url(), &options)
        .await
        .expect("plan")
        .is_empty());
}

engine_tests! {
    /// A database made by this version needs no upgrade, on either engine.
    async fn a_database_of_this_version_needs_no_storage_upgrade(db: Database) {
        let schema = ledger();
        let options = MigrateOptions::default();
        let report = migrate_to(&schema, db.url(), &options).await.expect("migrate");
        assert!(report.upgraded.is_empty());
        let plan = pending_steps(&schema, db.url(), &options).await.expect("plan");
        assert!(plan.upgrades.is_empty() && plan.is_empty());
    }
}

engine_tests! {
    /// Widening a decimal's scale keeps every digit of the stored values (SQLite rebuilds
    /// the table and pads the text; PostgreSQL alters the column).
    async fn widening_a_decimal_keeps_every_digit(db: Database) {
        let options = MigrateOptions::default();
        let narrow = "model ledger {\n  code text\n  amount decimal(30, 2)\n}\n";
        let wide = "model ledger {\n  code text\n  amount decimal(32, 4)\n}\n";
        let check = |source: &str| tessera_schema::check_source("ledger.tsr", source).expect("checks").schema;
        migrate_to(&check(narrow), db.url(), &options).await.expect("migrate");
        let pool = db.pool().await.expect("pool");
        pool.execute("INSERT INTO ledger (code, amount) VALUES ('a', '1234567890123456789012345678.12'), ('b', '-0.50'), ('c', '7.00')")
            .await
            .expect("rows");
        let report = migrate_to(&check(wide), db.url(), &options).await.expect("widen");
        assert_eq!(report.applied.len(), 1);
        let amounts: Vec<String> = match &pool {
            Pool::Sqlite(p) => sqlx::query_scalar("SELECT amount FROM ledger ORDER BY code").fetch_all(p).await.expect("rows"),
            Pool::Postgres(p) => sqlx::query_scalar("SELECT amount::text FROM ledger ORDER BY code").fetch_all(p).await.expect("rows"),
        };
        assert_eq!(amounts, ["1234567890123456789012345678.1200", "-0.5000", "7.0000"]);
    }
}
