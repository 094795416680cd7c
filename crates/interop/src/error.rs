use std::path::PathBuf;

/// Why an import could not produce a schema at all. Problems with single constructs are
/// [`crate::Warning`]s, not errors.
#[derive(Debug, thiserror::Error)]
pub enum InteropError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        file: String,
        line: u64,
        column: u64,
        message: String,
    },
    #[error("{file}: {message}")]
    NothingToImport { file: String, message: String },
    #[error("unsupported dialect `{0}` (expected postgres, sqlite or mysql)")]
    UnknownDialect(String),
    #[error("the imported schema does not check:\n{0}")]
    Invalid(String),
    #[error("database: {0}")]
    Database(String),
    #[error("cannot generate SQL: {0}")]
    Sql(#[from] tessera_sql::SqlError),
}
