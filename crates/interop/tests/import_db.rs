//! `import db`: a live database, migrated by Tessera or not, read back as a schema.

use tessera_interop::compare::differences;
use tessera_interop::import::db::import_database;
use tessera_migrate::{migrate_to, MigrateOptions};
use tessera_sql::DialectKind;
use tessera_testkit::{engine_tests, Database, Engine};

fn dialect(db: &Database) -> DialectKind {
    match db.engine() {
        Engine::Sqlite => DialectKind::Sqlite,
        Engine::Postgres => DialectKind::Postgres,
    }
}

/// Migrates a fresh database to the app's schema, imports the database and compares.
async fn migrated_app_imports_as_its_schema(app: &str, db: Database) {
    let app = tessera_apps::find(app).expect("bundled app");
    let schema = app.checked().expect("app schema checks").schema;
    migrate_to(&schema, db.url(), &MigrateOptions::default())
        .await
        .expect("migrates");
    let import = import_database(db.url()).await.expect("imports");
    let found = differences(&schema, &import.schema, dialect(&db)).expect("catalogs");
    assert!(
        found.is_empty(),
        "{} migrated on {} and imported differs:\n  {}\n\nimported schema:\n{}",
        app.name,
        db.engine(),
        found.join("\n  "),
        import.text
    );
    assert!(
        import
            .schema
            .models
            .iter()
            .all(|m| !m.table.starts_with("_tessera")),
        "Tessera's own tables are not imported"
    );
}

#[test]
fn every_bundled_app_has_a_round_trip_test_here() {
    let source = include_str!("import_db.rs");
    for app in tessera_apps::APPS {
        let call = format!("migrated_app_imports_as_its_schema(\"{}\"", app.name);
        assert!(source.contains(&call), "no round trip of {}", app.name);
    }
}

engine_tests! {
    async fn tour_builder_migrated_imports_as_an_equivalent_schema(db: Database) {
        migrated_app_imports_as_its_schema("tour-builder", db).await;
    }

    async fn facekom_vuer_migrated_imports_as_an_equivalent_schema(db: Database) {
        migrated_app_imports_as_its_schema("facekom-vuer", db).await;
    }

    async fn facekom_esign_migrated_imports_as_an_equivalent_schema(db: Database) {
        migrated_app_imports_as_its_schema("facekom-esign", db).await;
    }

    async fn securecam_migrated_imports_as_an_equivalent_schema(db: Database) {
        migrated_app_imports_as_its_schema("securecam", db).await;
    }

    async fn opentalk_migrated_imports_as_an_equivalent_schema(db: Database) {
        migrated_app_imports_as_its_schema("opentalk", db).await;
    }

    async fn multitenant_migrated_imports_as_an_equivalent_schema(db: Database) {
        migrated_app_imports_as_its_schema("multitenant", db).await;
    }
}

/// A PostgreSQL database with what Tessera has no equivalent for: each is reported by
/// name, located in the database; partitions are rows of their parent, not models.
#[tokio::test]
async fn postgres_views_functions_triggers_policies_are_reported_and_partitions_skipped() {
    use tessera_interop::{Construct, WarningKind};
    let Some(pg) = tessera_testkit::postgres().await else {
        return;
    };
    let db = Database::Postgres(pg);
    let pool = db.pool().await.expect("connects");
    for statement in [
        "CREATE TABLE authors (id serial PRIMARY KEY, name text NOT NULL)",
        "CREATE TABLE measurements (id bigint NOT NULL, taken_on date NOT NULL, value int, \
         author_id int REFERENCES authors(id), PRIMARY KEY (id, taken_on)) PARTITION BY RANGE (taken_on)",
        "CREATE TABLE measurements_2024 PARTITION OF measurements \
         FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
        "CREATE TABLE measurements_2025 PARTITION OF measurements \
         FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
        "CREATE VIEW author_names AS SELECT name FROM authors",
        "CREATE MATERIALIZED VIEW author_count AS SELECT count(*) AS n FROM authors",
        "CREATE FUNCTION shout(t text) RETURNS text LANGUAGE sql AS $$ SELECT upper(t) $$",
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
        "CREATE TRIGGER authors_touch BEFORE UPDATE ON authors FOR EACH ROW EXECUTE FUNCTION touch()",
        "ALTER TABLE authors ENABLE ROW LEVEL SECURITY",
        "CREATE POLICY authors_read ON authors FOR SELECT USING (true)",
    ] {
        pool.execute(statement)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    let import = import_database(db.url()).await.expect("imports");
    let models: Vec<&str> = import
        .schema
        .models
        .iter()
        .map(|m| m.table.as_str())
        .collect();
    assert_eq!(models.len(), 2, "{models:?}\n{}", import.text);
    assert!(models.contains(&"authors") && models.contains(&"measurements"));
    let measurements = import.schema.model("measurements").expect("the parent");
    assert_eq!(measurements.primary_key.len(), 2, "{}", import.text);
    let reported = |construct: Construct, name: &str| {
        import.warnings.iter().any(|w| {
            w.kind == WarningKind::NoEquivalent { construct }
                && w.message.contains(name)
                && w.location.is_some()
        })
    };
    for (construct, name) in [
        (Construct::View, "author_names"),
        (Construct::MaterializedView, "author_count"),
        (Construct::Function, "shout(t text)"),
        (Construct::Function, "touch()"),
        (Construct::Trigger, "authors_touch"),
        (Construct::Policy, "authors_read"),
        (Construct::Partition, "measurements_2024"),
        (Construct::Partition, "measurements_2025"),
    ] {
        assert!(
            reported(construct, name),
            "{construct} `{name}` reported; warnings:\n{}",
            import
                .warnings
                .iter()
                .map(|w| format!("  {:?} {w}", w.kind))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    assert!(
        import.warnings.iter().all(|w| w.is_no_equivalent()),
        "{:?}",
        import.warnings
    );
    pool.close().await;
}
