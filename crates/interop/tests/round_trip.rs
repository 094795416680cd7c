//! Round trips of every bundled app: what Tessera writes out, its importers read back as
//! an equivalent schema (`tessera_interop::compare` defines "equivalent" and its
//! normalisations).

use tessera_interop::compare::differences;
use tessera_interop::import::sql::{import_str, Dialect};
use tessera_schema::Schema;
use tessera_sql::DialectKind;

fn app_schema(app: &tessera_apps::App) -> Schema {
    match app.checked() {
        Ok(checked) => checked.schema,
        Err(d) => panic!("{} does not check:\n{}", app.name, d.render(false)),
    }
}

fn assert_equivalent(what: &str, expected: &Schema, actual: &Schema, dialect: DialectKind) {
    let found = differences(expected, actual, dialect).expect("catalogs");
    assert!(
        found.is_empty(),
        "{what} on {dialect} differs from the app's schema:\n  {}",
        found.join("\n  ")
    );
}

fn export_then_import(dialect: DialectKind, import_dialect: Dialect) {
    for app in tessera_apps::APPS {
        let schema = app_schema(app);
        let ddl = tessera_interop::sql(&schema, dialect).expect("exports");
        let import = import_str(&format!("{}.sql", app.name), &ddl, import_dialect)
            .unwrap_or_else(|e| panic!("{}: {e}", app.name));
        assert_equivalent(
            &format!("{} exported and imported", app.name),
            &schema,
            &import.schema,
            dialect,
        );
    }
}

#[test]
fn every_app_exported_as_postgres_sql_imports_as_an_equivalent_schema() {
    export_then_import(DialectKind::Postgres, Dialect::Postgres);
}

#[test]
fn every_app_exported_as_sqlite_sql_imports_as_an_equivalent_schema() {
    export_then_import(DialectKind::Sqlite, Dialect::Sqlite);
}

#[test]
fn differences_name_each_column_key_and_index_that_differs() {
    let parse = |text: &str| {
        tessera_schema::check_source("t.tsr", text)
            .unwrap_or_else(|d| panic!("{}", d.render(false)))
            .schema
    };
    let expected = parse(
        "model users {\n  email text @unique\n  age int?\n}\n\nmodel posts {\n  title text\n  author -> users @on_delete(cascade)\n}\n",
    );
    let actual = parse(
        "model users {\n  email text\n  age bigint?\n}\n\nmodel posts {\n  title text\n  author -> users\n}\n",
    );
    let found = differences(&expected, &actual, DialectKind::Postgres).expect("catalogs");
    insta::assert_snapshot!(found.join("\n"));
}
