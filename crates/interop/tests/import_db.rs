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
