//! Real public schemas the project did not write import, check, migrate on SQLite and
//! PostgreSQL and serve reads. Each lives under `tests/fixtures/<name>/` with its licence.

use std::path::PathBuf;

use tessera_interop::import::sql::{import_path, Dialect};
use tessera_interop::{Construct, Import, WarningKind};
use tessera_migrate::{migrate_to, MigrateOptions};
use tessera_testkit::{engine_tests, Database};

fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(path)
}

fn import(path: &str) -> Import {
    import_path(&fixture(path), Dialect::Postgres).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Migrates a fresh database to the imported schema, connects the runtime and reads
/// `model` through the PostgREST grammar.
async fn migrates_and_serves(import: Import, model: &str, db: Database) {
    assert!(import.schema.model(model).is_some(), "model {model}");
    migrate_to(&import.schema, db.url(), &MigrateOptions::default())
        .await
        .unwrap_or_else(|e| panic!("migrate on {}: {e}\n{}", db.engine(), import.text));
    let engine = tessera_runtime::Engine::connect(import.schema.clone(), db.url())
        .await
        .expect("connects");
    let request = tessera_runtime::parse_read(model, &[("limit".to_string(), "5".to_string())])
        .expect("read request");
    let ctx = tessera_runtime::Caller::service();
    let result = engine.read(&ctx, &request).await.expect("reads");
    assert!(result.rows.is_empty(), "a fresh database has no rows");
    engine.close().await;
}

/// Every warning is about a construct Tessera has no equivalent for: none says the
/// importer failed to read or apply something. Returns the constructs reported.
fn only_no_equivalent_warnings(import: &Import) -> Vec<Construct> {
    let others: Vec<String> = import
        .warnings
        .iter()
        .filter(|w| !w.is_no_equivalent())
        .map(|w| format!("{:?}: {w}", w.kind))
        .collect();
    assert!(
        others.is_empty(),
        "warnings that are not about constructs without an equivalent:\n  {}",
        others.join("\n  ")
    );
    import
        .warnings
        .iter()
        .filter_map(|w| match w.kind {
            WarningKind::NoEquivalent { construct } => Some(construct),
            _ => None,
        })
        .collect()
}

fn warned(import: &Import, text: &str) -> bool {
    import.warnings.iter().any(|w| w.message.contains(text))
}

/// Pagila (PostgreSQL sample database, pg_dump output): 15 core tables, partitions,
/// an enum with values that are not identifiers, domains, functions and triggers.
#[test]
fn pagila_schema_imports_and_checks() {
    let import = import("pagila/pagila-schema.sql");
    for table in [
        "actor",
        "address",
        "customer",
        "film",
        "inventory",
        "rental",
        "payment",
        "store",
        "staff",
    ] {
        assert!(import.schema.model(table).is_some(), "{table}");
    }
    assert!(warned(&import, "trigger has no Tessera equivalent"));
    assert!(import.schema.enum_by_name("mpaa_rating").is_some());
}

#[test]
fn pagila_film_keeps_its_tsvector_and_generated_columns_as_text_and_plain_columns() {
    let import = import("pagila/pagila-schema.sql");
    let film = import.schema.model("film").expect("film");
    assert!(film.field("fulltext").is_some());
    assert!(film.field("length_hours").is_some());
    assert!(warned(
        &import,
        "film.fulltext: type `tsvector` has no Tessera equivalent"
    ));
    assert!(warned(&import, "film.length_hours: generated column"));
    assert!(!warned(&import, "public.int"), "the domain `year` is int");
}

#[test]
fn pagila_partitions_are_rows_of_their_parent_not_models() {
    let import = import("pagila/pagila-schema.sql");
    assert!(import.schema.model("payment_p2022_01").is_none());
    assert!(warned(
        &import,
        "`payment_p2022_01` is a partition of `payment`"
    ));
}

/// Chinook (lerocha/chinook-database, PostgreSQL DDL): 11 tables, composite keys,
/// foreign keys with NO ACTION.
#[test]
fn chinook_imports_every_table_with_its_foreign_keys() {
    let import = import("chinook/chinook-schema.sql");
    assert_eq!(import.schema.models.len(), 11, "{}", import.text);
    let track = import.schema.model("track").expect("track");
    for relation in ["album", "genre", "media_type"] {
        assert!(track.relation(relation).is_some(), "track.{relation}");
    }
    let playlist_track = import
        .schema
        .model("playlist_track")
        .expect("playlist_track");
    assert_eq!(playlist_track.primary_key.len(), 2);
}

/// supabase/auth: 70 migrations applied in order, templated with Go's `{{ … }}`, enums
/// created inside `DO` blocks, row-level security and functions.
#[test]
fn supabase_auth_migrations_import_in_order() {
    let import = import("supabase-auth/migrations");
    for table in [
        "users",
        "identities",
        "sessions",
        "refresh_tokens",
        "mfa_factors",
        "flow_state",
    ] {
        assert!(import.schema.model(table).is_some(), "{table}");
    }
    assert!(
        import.schema.enum_by_name("factor_type").is_some(),
        "an enum created in a DO block"
    );
    assert!(import
        .notes
        .iter()
        .any(|n| n.message.contains("template placeholder")));
    assert!(warned(
        &import,
        "row-level security has no Tessera equivalent"
    ));
    assert!(warned(&import, "function has no Tessera equivalent"));
}

#[test]
fn pagila_warns_only_about_constructs_without_an_equivalent() {
    let constructs = only_no_equivalent_warnings(&import("pagila/pagila-schema.sql"));
    for expected in [
        Construct::Function,
        Construct::Trigger,
        Construct::View,
        Construct::MaterializedView,
        Construct::Partition,
        Construct::Type,
        Construct::OperatorClass,
    ] {
        assert!(constructs.contains(&expected), "{expected} reported");
    }
}

#[test]
fn chinook_warns_only_about_constructs_without_an_equivalent() {
    let constructs = only_no_equivalent_warnings(&import("chinook/chinook-schema.sql"));
    assert_eq!(constructs, [Construct::Database], "CREATE DATABASE only");
}

#[test]
fn supabase_auth_warns_only_about_constructs_without_an_equivalent() {
    let constructs = only_no_equivalent_warnings(&import("supabase-auth/migrations"));
    for expected in [
        Construct::Function,
        Construct::RowLevelSecurity,
        Construct::ProceduralCode,
        Construct::OperatorClass,
        Construct::Comment,
        Construct::ExpressionIndex,
    ] {
        assert!(constructs.contains(&expected), "{expected} reported");
    }
}

engine_tests! {
    async fn pagila_migrates_and_serves(db: Database) {
        migrates_and_serves(import("pagila/pagila-schema.sql"), "film", db).await;
    }

    async fn chinook_migrates_and_serves(db: Database) {
        migrates_and_serves(import("chinook/chinook-schema.sql"), "track", db).await;
    }

    async fn supabase_auth_migrates_and_serves(db: Database) {
        migrates_and_serves(import("supabase-auth/migrations"), "users", db).await;
    }
}
