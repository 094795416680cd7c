//! Real public schemas the project did not write import and check. Each lives under
//! `tests/fixtures/<name>/` with its licence.

use std::path::PathBuf;

use tessera_interop::import::sql::{import_path, Dialect};

fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(path)
}

/// Pagila (PostgreSQL sample database, pg_dump output): 15 core tables, partitions,
/// an enum with values that are not identifiers, domains, functions and triggers.
#[test]
fn pagila_schema_imports_and_checks() {
    let import =
        import_path(&fixture("pagila/pagila-schema.sql"), Dialect::Postgres).expect("imports");
    for table in [
        "actor",
        "address",
        "customer",
        "inventory",
        "rental",
        "payment",
        "store",
        "staff",
    ] {
        assert!(import.schema.model(table).is_some(), "{table}");
    }
    assert!(import
        .warnings
        .iter()
        .any(|w| w.message.starts_with("trigger")));
    assert!(import.schema.enum_by_name("mpaa_rating").is_some());
}
