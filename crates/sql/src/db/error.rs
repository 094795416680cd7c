//! Database failures, with the same kinds on both engines.
//!
//! Constraint violations carry what the engine says of them: the constraint's name
//! (PostgreSQL names it), the table and columns (SQLite's message lists them:
//! `UNIQUE constraint failed: users.email`), the parent table of a foreign key.

/// What a violated constraint is known by.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Violation {
    pub constraint: Option<String>,
    pub table: Option<String>,
    pub columns: Vec<String>,
    /// The referenced table of a foreign key.
    pub parent: Option<String>,
    /// The engine's own message.
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unique violation: {}", .0.message)]
    UniqueViolation(Violation),
    #[error("foreign key violation: {}", .0.message)]
    ForeignKeyViolation(Violation),
    #[error("not-null violation: {}", .0.message)]
    NotNullViolation(Violation),
    #[error("check violation: {}", .0.message)]
    CheckViolation(Violation),
    /// A value the engine refused (SQLSTATE class 22: too long, out of range, malformed).
    #[error("invalid value ({code}): {message}")]
    InvalidValue { code: String, message: String },
    /// A conflict with a concurrent transaction (serialization failure, deadlock, a
    /// SQLite database busy beyond its timeout): the unit of work may be retried.
    #[error("conflict with a concurrent transaction ({code})")]
    Conflict { code: String },
    /// The database cannot be reached or has no free connection in time.
    #[error("the database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("unsupported database URL: expected sqlite:… or postgres:…")]
    UnsupportedUrl,
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    #[error("a value read from the database cannot be decoded: {0}")]
    Decode(String),
    #[error("database error: {0}")]
    Other(#[source] sqlx::Error),
}

impl DbError {
    /// A failure to obtain a connection (or to start a transaction on one).
    pub(crate) fn from_connect(error: sqlx::Error) -> DbError {
        match error {
            sqlx::Error::Database(_) => DbError::from(error),
            other => DbError::Unavailable(other),
        }
    }
}

impl From<sqlx::Error> for DbError {
    fn from(error: sqlx::Error) -> Self {
        use sqlx::error::ErrorKind;
        let db = match &error {
            sqlx::Error::Database(db) => db,
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => return DbError::Unavailable(error),
            _ => return DbError::Other(error),
        };
        let message = db.message().to_owned();
        let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
        let violation = || {
            let (table, columns) = described(&message);
            Violation {
                constraint: db.constraint().map(str::to_owned),
                table: db.table().map(str::to_owned).or(table),
                columns,
                parent: None,
                message: message.clone(),
            }
        };
        match db.kind() {
            ErrorKind::UniqueViolation => DbError::UniqueViolation(violation()),
            ErrorKind::ForeignKeyViolation => DbError::ForeignKeyViolation(violation()),
            // SQLite reports `ON DELETE RESTRICT` as a trigger constraint (extended code
            // 1811) rather than a foreign-key one (787).
            ErrorKind::Other if message.contains("FOREIGN KEY constraint failed") => {
                DbError::ForeignKeyViolation(violation())
            }
            ErrorKind::NotNullViolation => DbError::NotNullViolation(violation()),
            ErrorKind::CheckViolation => DbError::CheckViolation(violation()),
            _ if code.starts_with("22") => DbError::InvalidValue { code, message },
            _ if code == "40001" || code == "40P01" => DbError::Conflict { code },
            // SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes.
            _ if message.contains("database is locked") || code == "5" || code == "6" => {
                DbError::Conflict {
                    code: "40001".to_owned(),
                }
            }
            // The server is shutting down or was restarted, or the connection was killed
            // (admin_shutdown, crash_shutdown, cannot_connect_now).
            _ if code == "57P01" || code == "57P02" || code == "57P03" => {
                DbError::Unavailable(error)
            }
            _ => DbError::Other(error),
        }
    }
}

/// The table and columns an engine's message names: SQLite's `UNIQUE constraint failed:
/// users.email, users.name`, PostgreSQL's `null value in column "x" of relation "t"`.
fn described(message: &str) -> (Option<String>, Vec<String>) {
    if let Some((_, list)) = message.split_once("constraint failed: ") {
        let mut table = None;
        let mut columns = Vec::new();
        for item in list.split(',') {
            let item = item.trim();
            match item.split_once('.') {
                Some((t, c)) => {
                    table = Some(t.to_owned());
                    columns.push(c.to_owned());
                }
                None => columns.push(item.to_owned()),
            }
        }
        return (table, columns);
    }
    if let Some((_, rest)) = message.split_once("column \"") {
        if let Some((column, rest)) = rest.split_once('"') {
            let table = rest
                .split_once("relation \"")
                .and_then(|(_, r)| r.split_once('"'))
                .map(|(t, _)| t.to_owned());
            return (table, vec![column.to_owned()]);
        }
    }
    (None, Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_messages_name_table_and_columns() {
        assert_eq!(
            described("UNIQUE constraint failed: users.email, users.name"),
            (Some("users".into()), vec!["email".into(), "name".into()])
        );
    }

    #[test]
    fn postgres_not_null_messages_name_table_and_column() {
        assert_eq!(
            described("null value in column \"name\" of relation \"projects\" violates not-null constraint"),
            (Some("projects".into()), vec!["name".into()])
        );
    }
}
