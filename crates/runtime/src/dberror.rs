//! Database failures as typed errors that name the model and its fields.
//!
//! The kind decides the error (unique and foreign-key violations are conflicts, not-null
//! and check violations are validation errors); a constraint's name is looked up in the
//! schema's SQL catalog to find its model and fields. Other database errors are logged
//! and reported without their internals.

use tessera_schema::ir::Model;
use tessera_schema::Schema;
use tessera_sql::db::Violation;
use tessera_sql::DbError;

use crate::error::{Code, ErrorKind, FieldError, RuntimeError};

pub(crate) fn map_db_error(schema: &Schema, model: Option<&Model>, error: DbError) -> RuntimeError {
    match error {
        DbError::UniqueViolation(v) => {
            let named = Named::of(schema, model, &v);
            RuntimeError::new(
                ErrorKind::Conflict,
                Code::UniqueViolation,
                if named.fields.is_empty() {
                    format!(
                        "duplicate key value violates unique constraint {}",
                        named.constraint
                    )
                } else {
                    format!(
                        "duplicate {} ({}): a row with the same value already exists",
                        named.model,
                        named.fields.join(", ")
                    )
                },
            )
            .with_details(named.details("unique"))
        }
        DbError::ForeignKeyViolation(v) => {
            let named = Named::of(schema, model, &v);
            let message = match (&v.parent, named.fields.is_empty()) {
                (Some(parent), false) => format!(
                    "{} ({}) references a {} row that does not exist",
                    named.model,
                    named.fields.join(", "),
                    model_name(schema, parent)
                ),
                (None, false) => format!(
                    "{} ({}) references a missing row, or is still referenced",
                    named.model,
                    named.fields.join(", ")
                ),
                (_, true) => {
                    "the row references a missing row, or is still referenced by other rows"
                        .to_owned()
                }
            };
            RuntimeError::new(ErrorKind::Conflict, Code::ForeignKeyViolation, message)
                .with_details(named.details("foreign key"))
        }
        DbError::NotNullViolation(v) => {
            let named = Named::of(schema, model, &v);
            let field = named.fields.first().cloned().unwrap_or_default();
            RuntimeError::validation(vec![FieldError {
                message: format!("{field} cannot be null"),
                field,
                rule: "not_null".into(),
                row: None,
            }])
        }
        DbError::CheckViolation(v) => {
            let named = Named::of(schema, model, &v);
            let field = named.fields.first().cloned().unwrap_or_default();
            RuntimeError::validation(vec![FieldError {
                message: format!(
                    "{field} is out of its allowed range or shape ({})",
                    v.constraint.as_deref().unwrap_or_default()
                ),
                field,
                rule: "check".into(),
                row: None,
            }])
        }
        DbError::InvalidValue { code, message } => {
            RuntimeError::new(ErrorKind::BadRequest, Code::Sqlstate(code), message)
        }
        DbError::Conflict { code } if code == "40P01" => RuntimeError::new(
            ErrorKind::Conflict,
            Code::Deadlock,
            "the transaction conflicted with a concurrent one; retry",
        ),
        DbError::Conflict { .. } => RuntimeError::new(
            ErrorKind::Conflict,
            Code::SerializationFailure,
            "the transaction conflicted with a concurrent one; retry",
        ),
        DbError::PoolTimedOut => unavailable(
            Code::PoolTimedOut,
            "No database connection could be had in time: the database is down or busy",
        ),
        DbError::Unavailable(error) => {
            tracing::error!(%error, "database unavailable");
            unavailable(Code::ConnectionLost, "The connection to the database was lost")
        }
        DbError::ReadOnly => unavailable(
            Code::ReadOnly,
            "The database is read-only: the write was not stored",
        )
        .with_hint("Reads still work; writes need the database to be writable again"),
        DbError::FileInaccessible => unavailable(
            Code::FileInaccessible,
            "The database file cannot be read or written: nothing was changed",
        ),
        DbError::DiskFull => RuntimeError::new(
            ErrorKind::InsufficientStorage,
            Code::DiskFull,
            "The database's disk is full: the write was not stored",
        )
        .with_hint("Free space on the database's disk; rows already stored are kept"),
        DbError::StatementTimeout => RuntimeError::new(
            ErrorKind::Timeout,
            Code::StatementTimeout,
            "The statement ran past the database's time limit and was cancelled: nothing was changed",
        )
        .with_hint("Ask for fewer rows, or raise statement_timeout"),
        DbError::MissingTable { table } => {
            // The table is named in the log only: no database detail reaches a client.
            tracing::error!(%table, "the database is not migrated: a table is missing");
            RuntimeError::new(
                ErrorKind::Unavailable,
                Code::NotMigrated,
                "The database is not migrated: a table this request needs is missing",
            )
            .with_hint("Run `tessera migrate` on the database (`tessera serve` migrates it at startup)")
        }
        other => {
            tracing::error!(error = %other, "database error");
            RuntimeError::internal("database error")
        }
    }
}

/// A 503: the database cannot serve the request now; nothing was changed.
fn unavailable(code: Code, message: &str) -> RuntimeError {
    RuntimeError::new(ErrorKind::Unavailable, code, message)
        .with_hint("Nothing was changed; retry after the time in the Retry-After header")
}

/// A violated constraint in the schema's terms.
struct Named {
    model: String,
    fields: Vec<String>,
    constraint: String,
}

impl Named {
    fn of(schema: &Schema, model: Option<&Model>, v: &Violation) -> Named {
        let catalog =
            tessera_sql::Catalog::from_schema(schema, tessera_sql::DialectKind::Postgres).ok();
        // PostgreSQL names the constraint; the catalog knows its table and columns.
        let by_name = v.constraint.as_deref().and_then(|name| {
            catalog.as_ref()?.tables.iter().find_map(|t| {
                let columns: Vec<String> =
                    if let Some(i) = t.indexes.iter().find(|i| i.name == name) {
                        i.columns.iter().map(|c| c.name.clone()).collect()
                    } else if t.primary_key.name == name {
                        t.primary_key.columns.clone()
                    } else if let Some(fk) = t.foreign_keys.iter().find(|f| f.name == name) {
                        fk.columns.clone()
                    } else if let Some(c) = t.checks.iter().find(|c| c.name == name) {
                        vec![c.column.clone()]
                    } else {
                        return None;
                    };
                Some((t.name.clone(), columns))
            })
        });
        let (table, columns) = by_name.unwrap_or_else(|| {
            (
                v.table
                    .clone()
                    .or_else(|| model.map(|m| m.table.clone()))
                    .unwrap_or_default(),
                v.columns.clone(),
            )
        });
        let schema_model = schema.models.iter().find(|m| m.table == table);
        let fields = columns
            .iter()
            .map(|c| {
                schema_model
                    .and_then(|m| m.field_by_column(c))
                    .map_or_else(|| c.clone(), |f| f.name.clone())
            })
            .collect();
        // SQLite names no constraint: the catalog's foreign key on these columns does.
        let constraint = v.constraint.clone().or_else(|| {
            let sqlite =
                tessera_sql::Catalog::from_schema(schema, tessera_sql::DialectKind::Sqlite).ok()?;
            let t = sqlite.tables.iter().find(|t| t.name == table)?;
            let fk = t.foreign_keys.iter().find(|fk| fk.columns == columns)?;
            v.parent.as_ref().map(|_| fk.name.clone())
        });
        Named {
            model: if table.is_empty() {
                "row".to_owned()
            } else {
                model_name(schema, &table)
            },
            fields,
            constraint: constraint.unwrap_or_default(),
        }
    }

    /// `constraint NAME; fields: a, b` (`what` stands for an unnamed constraint).
    fn details(&self, what: &str) -> String {
        let name = if self.constraint.is_empty() {
            what
        } else {
            &self.constraint
        };
        format!("constraint {name}; fields: {}", self.fields.join(", "))
    }
}

/// The model stored in `table` (its name), or the table's name.
fn model_name(schema: &Schema, table: &str) -> String {
    schema
        .models
        .iter()
        .find(|m| m.table == table)
        .map_or_else(|| table.to_owned(), |m| m.name.clone())
}
