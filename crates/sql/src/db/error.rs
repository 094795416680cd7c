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
    /// No pooled connection came free in time: the database is down or saturated.
    #[error("no database connection could be had in time")]
    PoolTimedOut,
    /// The database cannot be reached: connections refused, cut, or the server restarting.
    #[error("the database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// The database's disk is full (PostgreSQL 53100, SQLite's SQLITE_FULL).
    #[error("the database's disk is full")]
    DiskFull,
    /// The database accepts no writes (a hot standby, a read-only file).
    #[error("the database is read-only")]
    ReadOnly,
    /// The database file cannot be opened, read or locked (SQLite I/O errors).
    #[error("the database file cannot be read or written")]
    FileInaccessible,
    /// The statement ran past the database's time limit and was cancelled (57014).
    #[error("the statement ran past the database's time limit")]
    StatementTimeout,
    #[error(transparent)]
    UnsupportedUrl(#[from] crate::dialect::UnsupportedUrl),
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// A statement names a table the database does not have: the database was not migrated
    /// (or not to this schema).
    #[error("the database has no table {table}: it is not migrated; run `tessera migrate`")]
    MissingTable { table: String },
    #[error("a value read from the database cannot be decoded: {0}")]
    Decode(String),
    #[error("database error: {0}")]
    Other(#[source] sqlx::Error),
}

impl DbError {
    /// A failure to obtain a connection (or to start a transaction on one).
    pub(crate) fn from_connect(error: sqlx::Error) -> DbError {
        match error {
            sqlx::Error::Database(_) | sqlx::Error::PoolTimedOut => DbError::from(error),
            other => DbError::Unavailable(other),
        }
    }
}

impl From<sqlx::Error> for DbError {
    fn from(error: sqlx::Error) -> Self {
        use sqlx::error::ErrorKind;
        let db = match &error {
            sqlx::Error::Database(db) => db,
            sqlx::Error::PoolTimedOut => return DbError::PoolTimedOut,
            sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => return DbError::Unavailable(error),
            _ => return DbError::Other(error),
        };
        let message = db.message().to_owned();
        let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
        let sqlite = db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some();
        if sqlite {
            // sqlx gives SQLite's extended result code; its low byte is the primary one.
            let primary = code.parse::<i32>().ok().map(|c| c & 0xff);
            match primary {
                Some(13) => return DbError::DiskFull,
                Some(8) => return DbError::ReadOnly,
                Some(10 | 14 | 15) => return DbError::FileInaccessible,
                _ => {}
            }
        }
        match code.as_str() {
            _ if sqlite => {}
            "53100" => return DbError::DiskFull,
            "25006" => return DbError::ReadOnly,
            "57014" => return DbError::StatementTimeout,
            // The server shuts down or restarts, the connection was cut, or the server is
            // out of resources (classes 08, 57P and 53).
            c if c.starts_with("08") || c.starts_with("57P") || c.starts_with("53") => {
                return DbError::Unavailable(error)
            }
            _ => {}
        }
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
        if let Some(table) = missing_table(&code, &message) {
            return DbError::MissingTable { table };
        }
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
            _ => DbError::Other(error),
        }
    }
}

/// The table a "no such table" error names: PostgreSQL's 42P01 `relation "t" does not
/// exist`, SQLite's `no such table: t` (of its generic error code 1; the name may be
/// schema-qualified, `main.t`).
fn missing_table(code: &str, message: &str) -> Option<String> {
    if code == "42P01" {
        let name = message
            .split_once("relation \"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map_or("", |(name, _)| name);
        return Some(name.to_owned());
    }
    let name = message.strip_prefix("no such table: ")?;
    let name = name.rsplit_once('.').map_or(name, |(_, table)| table);
    Some(name.trim().to_owned())
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
    fn missing_tables_are_named_on_both_engines() {
        assert_eq!(
            missing_table("1", "no such table: _tessera_sessions").as_deref(),
            Some("_tessera_sessions")
        );
        assert_eq!(
            missing_table("1", "no such table: main.pages").as_deref(),
            Some("pages")
        );
        assert_eq!(
            missing_table("42P01", "relation \"_tessera_settings\" does not exist").as_deref(),
            Some("_tessera_settings")
        );
        assert_eq!(missing_table("1", "near \"x\": syntax error"), None);
    }

    #[test]
    fn postgres_not_null_messages_name_table_and_column() {
        assert_eq!(
            described("null value in column \"name\" of relation \"projects\" violates not-null constraint"),
            (Some("projects".into()), vec!["name".into()])
        );
    }
}
