//! When two schemas are *equivalent*: they describe the same database on a dialect.
//!
//! Round trips (export SQL → import SQL, migrate → import the live database) cannot give
//! back the schema text they started from: SQL has no doc comments, no hooks and no
//! relation names. [`differences`] therefore compares what survives in a database — the
//! SQL-level [`Catalog`] each schema has on the dialect — after these normalisations:
//!
//! 1. **Names of schema items are not compared, only those of database objects.** Models
//!    compare by table, fields by column. Relation names (derived from the foreign-key
//!    column on import) and field spellings do not matter.
//! 2. **Names Tessera derives for constraints, indexes and triggers are ignored**: keys,
//!    foreign keys, indexes and checks compare by what they constrain.
//! 3. **Types compare as the dialect stores them** — the type family of the dialect. On
//!    PostgreSQL that is the column type itself (`varchar(80)`, `timestamptz`, the enum
//!    type). SQLite stores uuids, dates and times, JSON and enums as `TEXT` and arrays as
//!    JSON text; what tells them apart there is the CHECK Tessera adds (uuid shape,
//!    `json_valid`, the enum's values, `IN (0, 1)` for booleans) and the default.
//! 4. **Defaults compare as the SQL expression of the dialect** (`now()`,
//!    `gen_random_uuid()`, literals), so `'0'` and `0` on an integer column differ only
//!    when the database would see them differ. JSON object defaults compare with their
//!    keys sorted: PostgreSQL's `jsonb` stores keys in its own order.
//! 5. **What a database does not hold is not compared**: doc comments, transforms (trim,
//!    hash), secret, computed and virtual fields, actor relations, access rules, and
//!    validations other than numeric ranges (which are CHECKs). Behaviours the importers
//!    re-detect (timestamps, soft delete) are compared through their columns, defaults and
//!    partial indexes.
//! 6. **Order does not matter**: tables, columns, foreign keys, checks and indexes compare
//!    as sets; key columns and index columns keep their order.

use std::collections::BTreeSet;

use tessera_schema::Schema;
use tessera_sql::catalog::Table;
use tessera_sql::{Catalog, DialectKind};

use crate::InteropError;

/// Every way in which `actual` describes a different database than `expected` on
/// `dialect`, one line each; empty when the two are equivalent.
pub fn differences(
    expected: &Schema,
    actual: &Schema,
    dialect: DialectKind,
) -> Result<Vec<String>, InteropError> {
    let expected = Catalog::from_schema(expected, dialect)?;
    let actual = Catalog::from_schema(actual, dialect)?;
    Ok(catalog_differences(&expected, &actual))
}

/// [`differences`] of two catalogs of the same dialect.
pub fn catalog_differences(expected: &Catalog, actual: &Catalog) -> Vec<String> {
    let mut out = Vec::new();
    let enums = |c: &Catalog| -> BTreeSet<String> {
        c.enums
            .iter()
            .map(|e| format!("enum {} ({})", e.db_name, e.values.join(", ")))
            .collect()
    };
    set_differences(&mut out, "", enums(expected), enums(actual));
    for table in &expected.tables {
        match actual.table(&table.name) {
            Some(other) => table_differences(&mut out, table, other),
            None => out.push(format!("table {} is missing", table.name)),
        }
    }
    for table in &actual.tables {
        if expected.table(&table.name).is_none() {
            out.push(format!("table {} is not expected", table.name));
        }
    }
    out
}

fn set_differences(
    out: &mut Vec<String>,
    context: &str,
    expected: BTreeSet<String>,
    actual: BTreeSet<String>,
) {
    for missing in expected.difference(&actual) {
        out.push(format!("{context}{missing} is missing"));
    }
    for extra in actual.difference(&expected) {
        out.push(format!("{context}{extra} is not expected"));
    }
}

fn column_line(table: &Table, name: &str) -> Option<String> {
    let c = table.column(name)?;
    Some(format!(
        "column {} {}{}{}{}",
        c.name,
        c.sql_type,
        if c.nullable { "" } else { " NOT NULL" },
        c.default
            .as_deref()
            .map(|d| format!(" DEFAULT {}", json_sorted(d)))
            .unwrap_or_default(),
        match c.generated {
            tessera_sql::catalog::Generated::No => "",
            tessera_sql::catalog::Generated::Identity => " (identity)",
            tessera_sql::catalog::Generated::AutoIncrement => " (autoincrement)",
            tessera_sql::catalog::Generated::Trigger => " (serial trigger)",
        }
    ))
}

fn table_differences(out: &mut Vec<String>, expected: &Table, actual: &Table) {
    let context = format!("{}: ", expected.name);
    let columns = |t: &Table| -> BTreeSet<String> {
        t.columns
            .iter()
            .filter_map(|c| column_line(t, &c.name))
            .collect()
    };
    set_differences(out, &context, columns(expected), columns(actual));
    if expected.primary_key.columns != actual.primary_key.columns {
        out.push(format!(
            "{context}primary key ({}) differs from ({})",
            expected.primary_key.columns.join(", "),
            actual.primary_key.columns.join(", ")
        ));
    }
    let foreign_keys = |t: &Table| -> BTreeSet<String> {
        t.foreign_keys
            .iter()
            .map(|fk| {
                format!(
                    "foreign key ({}) -> {}({}) on delete {}",
                    fk.columns.join(", "),
                    fk.references_table,
                    fk.references_columns.join(", "),
                    tessera_sql::ddl::on_delete_sql(fk.on_delete)
                )
            })
            .collect()
    };
    set_differences(out, &context, foreign_keys(expected), foreign_keys(actual));
    let checks = |t: &Table| -> BTreeSet<String> {
        t.checks
            .iter()
            .map(|c| format!("check on {}: {}", c.column, c.expr))
            .collect()
    };
    set_differences(out, &context, checks(expected), checks(actual));
    let indexes = |t: &Table| -> BTreeSet<String> {
        t.indexes
            .iter()
            .map(|i| {
                let columns = i
                    .columns
                    .iter()
                    .map(|c| format!("{}{}", c.name, if c.descending { " DESC" } else { "" }))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!(
                    "{}index ({columns}){}",
                    if i.unique { "unique " } else { "" },
                    i.predicate
                        .as_deref()
                        .map(|p| format!(" WHERE {p}"))
                        .unwrap_or_default()
                )
            })
            .collect()
    };
    set_differences(out, &context, indexes(expected), indexes(actual));
    let triggers = |t: &Table| -> BTreeSet<String> {
        t.triggers
            .iter()
            .map(|tr| format!("trigger {}", tr.sql))
            .collect()
    };
    set_differences(out, &context, triggers(expected), triggers(actual));
}

/// A quoted JSON object or array literal with its object keys sorted; other expressions
/// unchanged.
fn json_sorted(default: &str) -> String {
    fn sort(value: serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::Object(map) => {
                let mut entries: Vec<_> = map.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sort(v))).collect())
            }
            serde_json::Value::Array(items) => {
                serde_json::Value::Array(items.into_iter().map(sort).collect())
            }
            other => other,
        }
    }
    let Some(inner) = default
        .strip_prefix('\'')
        .and_then(|d| d.strip_suffix('\''))
    else {
        return default.to_owned();
    };
    match serde_json::from_str::<serde_json::Value>(&inner.replace("''", "'")) {
        Ok(value @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) => {
            format!("'{}'", sort(value).to_string().replace('\'', "''"))
        }
        _ => default.to_owned(),
    }
}
