//! SQL for Tessera: the dialects (SQLite, PostgreSQL), the type mapping from the schema IR,
//! the SQL-level [`Catalog`] of a schema, the engine's own tables ([`system`]), DDL
//! rendering, and introspection of a live database.
//!
//! ```
//! let schema = tessera_schema::check_source("s.tsr", "model notes {\n  body text\n}\n")
//!     .expect("valid schema");
//! let ddl = tessera_sql::schema_ddl(&schema, tessera_sql::DialectKind::Postgres).expect("ddl");
//! assert!(ddl.starts_with("CREATE TABLE \"notes\""));
//! ```
//!
//! See `docs/storage.md` for the type mapping and its reasons.

#![forbid(unsafe_code)]

pub mod catalog;
pub mod db;
pub mod ddl;
pub mod dialect;
pub mod introspect;
pub mod quote;
pub mod system;
pub mod value;

pub use catalog::Catalog;
pub use db::{Database, DbError, Tx};
pub use ddl::schema_ddl;
pub use dialect::{Dialect, DialectKind, UnsupportedUrl};

/// Why SQL could not be generated for a schema.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    #[error(
        "`{0}` cannot be used as an SQL identifier (empty, contains NUL, or longer than 63 bytes)"
    )]
    InvalidIdentifier(String),
    #[error("the value {0:?} contains a NUL character, which SQL text cannot hold")]
    InvalidLiteral(String),
    #[error("`{0}` is not a number that SQL accepts")]
    InvalidNumber(String),
    #[error("model `{model}` has no stored field `{field}`")]
    UnknownField { model: String, field: String },
    #[error("unknown model `{0}`")]
    UnknownModel(String),
    #[error("unknown enum `{0}`")]
    UnknownEnum(String),
    #[error("index `{0}` is restricted to live rows but its model has no soft delete")]
    PartialIndexWithoutSoftDelete(String),
    #[error("invalid default of `{field}`: {reason}")]
    InvalidDefault { field: String, reason: String },
    #[error("the engine's system tables of version {version} were written by a newer Tessera (this one knows up to version {known}); upgrade Tessera")]
    UnknownSystemVersion { version: u32, known: u32 },
}
