//! Database errors mapped to typed errors that name the constraint and the fields.
//!
//! sqlx's portable kinds decide the error kind (unique and foreign-key violations are
//! conflicts, not-null and check violations are validation errors); the constraint is
//! looked up in the schema's SQL catalog (PostgreSQL names it) or read from SQLite's
//! message (`UNIQUE constraint failed: users.email`). Other database errors are logged
//! and reported without their internals.

use sqlx::error::ErrorKind as DbKind;
use tessera_schema::ir::Model;
use tessera_schema::Schema;

use crate::error::{ErrorKind, FieldError, RuntimeError};

pub(crate) fn map_sqlx_error(
    schema: Option<&Schema>,
    model: Option<&Model>,
    error: sqlx::Error,
) -> RuntimeError {
    let sqlx::Error::Database(db) = &error else {
        return match error {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                tracing::error!(%error, "database unavailable");
                RuntimeError::new(
                    ErrorKind::Internal,
                    "PGRST000",
                    "the database is unavailable",
                )
            }
            other => {
                tracing::error!(error = %other, "database error");
                RuntimeError::internal("database error")
            }
        };
    };
    let message = db.message().to_owned();
    let constraint = db.constraint().map(str::to_owned);
    let pg_code = db.code().map(|c| c.to_string()).unwrap_or_default();
    let (table, columns) = describe(schema, constraint.as_deref(), &message);
    let table_name = table.or_else(|| model.map(|m| m.table.clone()));
    let model_name = schema
        .zip(table_name.as_deref())
        .and_then(|(s, t)| s.models.iter().find(|m| m.table == t))
        .map(|m| m.name.clone())
        .or(table_name)
        .unwrap_or_else(|| "row".to_owned());
    let fields = columns.join(", ");
    let name = constraint.clone().unwrap_or_default();
    match effective_kind(db.kind(), &message) {
        DbKind::UniqueViolation => RuntimeError::new(
            ErrorKind::Conflict,
            "23505",
            if fields.is_empty() {
                format!("duplicate key value violates unique constraint {name}")
            } else {
                format!(
                    "duplicate {model_name} ({fields}): a row with the same value already exists"
                )
            },
        )
        .with_details(format!(
            "constraint {}; fields: {fields}",
            if name.is_empty() { "unique" } else { &name }
        )),
        DbKind::ForeignKeyViolation => RuntimeError::new(
            ErrorKind::Conflict,
            "23503",
            if fields.is_empty() {
                "the row references a missing row, or is still referenced by other rows".to_owned()
            } else {
                format!("{model_name} ({fields}) references a missing row, or is still referenced")
            },
        )
        .with_details(format!(
            "constraint {}; fields: {fields}",
            if name.is_empty() {
                "foreign key"
            } else {
                &name
            }
        )),
        DbKind::NotNullViolation => {
            let field = columns.first().cloned().unwrap_or_default();
            RuntimeError::validation(vec![FieldError {
                field: field.clone(),
                rule: "not_null".into(),
                message: format!("{field} cannot be null"),
                row: None,
            }])
        }
        DbKind::CheckViolation => {
            let field = columns.first().cloned().unwrap_or_default();
            RuntimeError::validation(vec![FieldError {
                field: field.clone(),
                rule: "check".into(),
                message: format!("{field} is out of its allowed range or shape ({name})"),
                row: None,
            }])
        }
        _ => match pg_code.as_str() {
            "22001" | "22003" | "22007" | "22008" | "22P02" => {
                RuntimeError::new(ErrorKind::BadRequest, pg_code.clone(), message)
            }
            "40001" | "40P01" => RuntimeError::new(
                ErrorKind::Conflict,
                pg_code.clone(),
                "the transaction conflicted with a concurrent one; retry",
            ),
            _ if message.contains("database is locked") => {
                RuntimeError::new(ErrorKind::Conflict, "40001", "the database is busy; retry")
            }
            _ => {
                tracing::error!(%error, "database error");
                RuntimeError::internal("database error")
            }
        },
    }
}

/// sqlx's kind, corrected for SQLite's `ON DELETE RESTRICT`, which SQLite reports as a
/// trigger constraint (extended code 1811) rather than a foreign-key one (787).
fn effective_kind(kind: DbKind, message: &str) -> DbKind {
    match kind {
        DbKind::Other if message.contains("FOREIGN KEY constraint failed") => {
            DbKind::ForeignKeyViolation
        }
        kind => kind,
    }
}

/// The table and the field names of a constraint.
fn describe(
    schema: Option<&Schema>,
    constraint: Option<&str>,
    message: &str,
) -> (Option<String>, Vec<String>) {
    let to_fields = |table: &str, columns: &[String]| -> Vec<String> {
        let model = schema.and_then(|s| s.models.iter().find(|m| m.table == table));
        columns
            .iter()
            .map(|c| {
                model
                    .and_then(|m| m.field_by_column(c))
                    .map(|f| f.name.clone())
                    .unwrap_or_else(|| c.clone())
            })
            .collect()
    };
    if let (Some(schema), Some(name)) = (schema, constraint) {
        if let Ok(catalog) =
            tessera_sql::Catalog::from_schema(schema, tessera_sql::DialectKind::Postgres)
        {
            for t in &catalog.tables {
                if let Some(i) = t.indexes.iter().find(|i| i.name == name) {
                    let cols: Vec<String> = i.columns.iter().map(|c| c.name.clone()).collect();
                    return (Some(t.name.clone()), to_fields(&t.name, &cols));
                }
                if t.primary_key.name == name {
                    return (
                        Some(t.name.clone()),
                        to_fields(&t.name, &t.primary_key.columns),
                    );
                }
                if let Some(fk) = t.foreign_keys.iter().find(|f| f.name == name) {
                    return (Some(t.name.clone()), to_fields(&t.name, &fk.columns));
                }
                if let Some(c) = t.checks.iter().find(|c| c.name == name) {
                    return (
                        Some(t.name.clone()),
                        to_fields(&t.name, std::slice::from_ref(&c.column)),
                    );
                }
            }
        }
    }
    // SQLite: "UNIQUE constraint failed: users.email, users.name"
    if let Some((_, list)) = message.split_once("constraint failed: ") {
        let mut table = None;
        let mut cols = Vec::new();
        for item in list.split(',') {
            let item = item.trim();
            match item.split_once('.') {
                Some((t, c)) => {
                    table = Some(t.to_owned());
                    cols.push(c.to_owned());
                }
                None => cols.push(item.to_owned()),
            }
        }
        if let Some(t) = &table {
            return (table.clone(), to_fields(t, &cols));
        }
        return (None, cols);
    }
    // PostgreSQL not-null: `null value in column "x" of relation "t" violates ...`
    if let Some(rest) = message.split_once("column \"").map(|(_, r)| r) {
        if let Some((col, rest)) = rest.split_once('"') {
            let table = rest
                .split_once("relation \"")
                .and_then(|(_, r)| r.split_once('"'))
                .map(|(t, _)| t.to_owned());
            let fields = match &table {
                Some(t) => to_fields(t, &[col.to_owned()]),
                None => vec![col.to_owned()],
            };
            return (table, fields);
        }
    }
    (None, Vec::new())
}
