//! `tessera import db`: a live PostgreSQL or SQLite database to a schema.
//!
//! The database is read through `tessera_sql`'s introspection ([`LiveCatalog`]: the
//! catalog queries `tessera migrate` uses). Each table is then written back as the DDL the
//! catalog describes and read by the SQL importer, so a live database and a DDL file are
//! understood the same way: types, defaults, serial and identity columns, storage CHECKs,
//! behaviours (timestamps, soft delete), partial indexes and naming all come from one
//! place. Tessera's own tables (`_tessera_*`) are left out; so are partitions (their
//! partitioned parent is the model). Views, materialized views, functions, procedures,
//! triggers and row-level security policies are reported by name.

use tessera_sql::introspect::{LiveCatalog, LiveObjectKind, LiveTable};
use tessera_sql::quote::{ident, ident_list, literal};
use tessera_sql::DialectKind;

use super::draft::Draft;
use super::source::Source;
use super::sql::{import_sources_into, Dialect};
use super::{Construct, Import, Location};
use crate::InteropError;

/// Connects to `database_url` (`postgres://…` or `sqlite://PATH`), reads its catalog and
/// imports it.
pub async fn import_database(database_url: &str) -> Result<Import, InteropError> {
    let catalog = tessera_sql::introspect::introspect(database_url)
        .await
        .map_err(|e| InteropError::Database(e.to_string()))?;
    import_catalog(&database_label(database_url), &catalog)
}

/// A name for the database in messages, without credentials: the SQLite file or the
/// PostgreSQL database name.
pub fn database_label(database_url: &str) -> String {
    let without_query = database_url.split('?').next().unwrap_or(database_url);
    let last = without_query
        .rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or("database");
    last.rsplit(':').next().unwrap_or(last).to_string()
}

/// Imports an introspected catalog; `name` labels the database in warnings
/// (`NAME:TABLE:line:col`, positions inside the table's DDL as the catalog describes it).
pub fn import_catalog(name: &str, catalog: &LiveCatalog) -> Result<Import, InteropError> {
    let dialect = match catalog.dialect {
        DialectKind::Postgres => Dialect::Postgres,
        DialectKind::Sqlite => Dialect::Sqlite,
    };
    let mut draft = Draft::default();
    let at = |object: &str| {
        Some(Location {
            file: format!("{name}:{object}"),
            line: 1,
            column: 1,
        })
    };
    for partition in &catalog.tables {
        if let Some(parent) = &partition.partition_of {
            draft.no_equivalent(
                at(&partition.name),
                Construct::Partition,
                format!(
                    "`{}` is a partition of `{parent}`: its rows are rows of `{parent}`; not imported as a model (nor its own indexes and constraints)",
                    partition.name
                ),
            );
        }
    }
    for object in &catalog.objects {
        let (construct, what) = match object.kind {
            LiveObjectKind::View => (Construct::View, "view"),
            LiveObjectKind::MaterializedView => (Construct::MaterializedView, "materialized view"),
            LiveObjectKind::Function => (Construct::Function, "function"),
            LiveObjectKind::Procedure => (Construct::Procedure, "procedure"),
            LiveObjectKind::Policy => (Construct::Policy, "row-level security policy"),
        };
        let on = object
            .table
            .as_deref()
            .map(|t| format!(" on `{t}`"))
            .unwrap_or_default();
        draft.no_equivalent(
            at(object.table.as_deref().unwrap_or(&object.name)),
            construct,
            format!(
                "{what} `{}`{on} has no Tessera equivalent; not imported",
                object.name
            ),
        );
    }
    let tables: Vec<&LiveTable> = catalog
        .tables
        .iter()
        // Tessera's own tables (migration history, settings, sessions…) are not the schema's.
        .filter(|t| !tessera_schema::is_reserved_name(&t.name) && t.partition_of.is_none())
        .collect();
    if tables.is_empty() {
        return Err(InteropError::NothingToImport {
            file: name.to_string(),
            message: "the database has no tables (besides Tessera's own)".into(),
        });
    }
    let source = |label: &str, text: String| Source {
        file: format!("{name}:{label}"),
        text,
        first_line: 1,
    };
    let mut sources = Vec::new();
    for e in &catalog.enums {
        let values = e
            .values
            .iter()
            .map(|v| literal(v))
            .collect::<Vec<_>>()
            .join(", ");
        sources.push(source(
            &e.name,
            format!("CREATE TYPE {} AS ENUM ({values});\n", ident(&e.name)),
        ));
    }
    for table in &tables {
        sources.push(source(&table.name, create_table(table)));
    }
    for table in &tables {
        let mut text = String::new();
        for index in &table.indexes {
            if index.name.starts_with("sqlite_autoindex_") {
                continue;
            }
            if index.columns.iter().any(String::is_empty) {
                draft.no_equivalent(
                    Some(Location {
                        file: format!("{name}:{}", table.name),
                        line: 1,
                        column: 1,
                    }),
                    Construct::ExpressionIndex,
                    format!(
                        "{}: index {} is on an expression, which Tessera cannot express; not imported",
                        table.name, index.name
                    ),
                );
                continue;
            }
            let columns = index
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let desc = index.descending.get(i).copied().unwrap_or(false);
                    format!("{}{}", ident(c), if desc { " DESC" } else { "" })
                })
                .collect::<Vec<_>>()
                .join(", ");
            text.push_str(&format!(
                "CREATE {}INDEX {} ON {} ({columns}){};\n",
                if index.unique { "UNIQUE " } else { "" },
                ident(&index.name),
                ident(&table.name),
                index
                    .predicate
                    .as_deref()
                    .map(|p| format!(" WHERE {p}"))
                    .unwrap_or_default()
            ));
        }
        for fk in &table.foreign_keys {
            let references = if fk.references_columns.is_empty() {
                String::new()
            } else {
                format!(
                    " ({})",
                    ident_list(fk.references_columns.iter().map(String::as_str))
                )
            };
            text.push_str(&format!(
                "ALTER TABLE {} ADD FOREIGN KEY ({}) REFERENCES {}{references} ON DELETE {};\n",
                ident(&table.name),
                ident_list(fk.columns.iter().map(String::as_str)),
                ident(&fk.references_table),
                fk.on_delete
            ));
        }
        for trigger in &table.triggers {
            text.push_str(trigger.trim().trim_end_matches(';'));
            text.push_str(";\n");
        }
        if !text.is_empty() {
            sources.push(source(&table.name, text));
        }
    }
    import_sources_into(draft, name, &sources, dialect)
}

/// The `CREATE TABLE` statement of a live table: columns with their types as the engine
/// spells them, defaults, the key, SQLite's implicit unique constraints and the CHECKs.
fn create_table(table: &LiveTable) -> String {
    let mut lines = Vec::new();
    let mut key_inline = false;
    for column in &table.columns {
        let data_type = if column.data_type.trim().is_empty() {
            "TEXT"
        } else {
            column.data_type.as_str()
        };
        let mut line = format!("{} {data_type}", ident(&column.name));
        match column.default.as_deref() {
            Some("AUTOINCREMENT") => {
                line.push_str(" PRIMARY KEY AUTOINCREMENT");
                key_inline = true;
            }
            Some(identity) if identity.starts_with("GENERATED ") => {
                line.push(' ');
                line.push_str(identity);
            }
            _ => {}
        }
        if !column.nullable {
            line.push_str(" NOT NULL");
        }
        if let Some(default) = column
            .default
            .as_deref()
            .filter(|d| *d != "AUTOINCREMENT" && !d.starts_with("GENERATED "))
        {
            // SQLite reports expressions without the parentheses they were written in.
            line.push_str(&format!(" DEFAULT ({default})"));
        }
        lines.push(line);
    }
    if !key_inline && !table.primary_key.is_empty() {
        lines.push(format!(
            "PRIMARY KEY ({})",
            ident_list(table.primary_key.iter().map(String::as_str))
        ));
    }
    for index in &table.indexes {
        if index.name.starts_with("sqlite_autoindex_") && index.unique {
            lines.push(format!(
                "UNIQUE ({})",
                ident_list(index.columns.iter().map(String::as_str))
            ));
        }
    }
    for check in &table.checks {
        lines.push(format!("CHECK ({check})"));
    }
    format!(
        "CREATE TABLE {} (\n  {}\n);\n",
        ident(&table.name),
        lines.join(",\n  ")
    )
}
