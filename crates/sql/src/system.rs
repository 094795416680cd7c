//! The engine's own tables, declared once: the refresh tokens of sessions, the failed
//! sign-ins counted for lockout, the server's settings, and the migrator's history.
//!
//! Each is a [`Table`] of the SQL catalog with its columns typed through the dialect, so
//! its DDL is rendered like that of any table of a schema. Every name starts with
//! [`RESERVED_PREFIX`], which schemas may not use.
//!
//! The first three are created by migrations, as ordinary steps: a migration snapshot
//! records the [`VERSION`] of these definitions it includes, and the planner adds the
//! tables of that version to the catalog of the snapshot (see `tessera_migrate`). The
//! history table is the migrator's bookkeeping and is created by the migrator itself
//! before it can read what was applied.
//!
//! The DDL renderer creates a system table and its indexes `IF NOT EXISTS` (it asks
//! [`is_system_table`]): databases prepared by an older Tessera, which created these
//! tables on first use, may have them already.

use tessera_schema::ir::{FieldType, ScalarType};
pub use tessera_schema::RESERVED_PREFIX;

use crate::catalog::{Column, Generated, Index, IndexColumn, PrimaryKey, Table};
use crate::dialect::DialectKind;
use crate::quote::constraint_name;
use crate::SqlError;

/// Refresh tokens, stored as digests; one row per token, used once.
pub const SESSIONS_TABLE: &str = "_tessera_sessions";
/// Recent failed sign-ins per email, for lockout.
pub const SIGN_IN_FAILURES_TABLE: &str = "_tessera_sign_in_failures";
/// Server settings (the service key, the token signing secret), shared by every node.
pub const SETTINGS_TABLE: &str = "_tessera_settings";
/// The migrations applied to the database (the migrator's bookkeeping).
pub const HISTORY_TABLE: &str = "_tessera_migrations";

/// The version of the definitions of the migrated system tables. A migration snapshot
/// records the version it includes (none, in snapshots written before the system tables
/// were migrations); a change to a definition bumps it, and [`tables`] keeps answering
/// the older versions so that the next migration is the difference.
pub const VERSION: u32 = 1;

/// The column types the system tables use.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Int,
    BigInt,
    Jsonb,
    Timestamptz,
}

impl Kind {
    fn scalar(self) -> ScalarType {
        match self {
            Kind::Text => ScalarType::Text,
            Kind::Int => ScalarType::Int,
            Kind::BigInt => ScalarType::BigInt,
            Kind::Jsonb => ScalarType::Jsonb,
            Kind::Timestamptz => ScalarType::Timestamptz,
        }
    }
}

struct ColumnDef {
    name: &'static str,
    kind: Kind,
    nullable: bool,
    /// Defaults to the current time.
    now: bool,
}

const fn required(name: &'static str, kind: Kind) -> ColumnDef {
    ColumnDef {
        name,
        kind,
        nullable: false,
        now: false,
    }
}

const fn optional(name: &'static str, kind: Kind) -> ColumnDef {
    ColumnDef {
        name,
        kind,
        nullable: true,
        now: false,
    }
}

struct TableDef {
    name: &'static str,
    columns: &'static [ColumnDef],
    key: &'static [&'static str],
    /// Index name and its columns.
    indexes: &'static [(&'static str, &'static [&'static str])],
}

/// Version 1: the tables as Tessera created them on first use before they were migrated
/// (same columns, key and index names), so that a database prepared then matches.
const SESSIONS: TableDef = TableDef {
    name: SESSIONS_TABLE,
    columns: &[
        required("token_hash", Kind::Text),
        required("family", Kind::Text),
        required("user_id", Kind::Text),
        required("created_at", Kind::BigInt),
        required("expires_at", Kind::BigInt),
        optional("revoked_at", Kind::BigInt),
    ],
    key: &["token_hash"],
    indexes: &[("_tessera_sessions_user_idx", &["user_id"])],
};

const SIGN_IN_FAILURES: TableDef = TableDef {
    name: SIGN_IN_FAILURES_TABLE,
    columns: &[
        required("email", Kind::Text),
        required("failures", Kind::BigInt),
        required("first_at", Kind::BigInt),
        optional("locked_until", Kind::BigInt),
    ],
    key: &["email"],
    indexes: &[("_tessera_sign_in_failures_first_at_idx", &["first_at"])],
};

const SETTINGS: TableDef = TableDef {
    name: SETTINGS_TABLE,
    columns: &[required("name", Kind::Text), required("value", Kind::Text)],
    key: &["name"],
    indexes: &[],
};

const HISTORY: TableDef = TableDef {
    name: HISTORY_TABLE,
    columns: &[
        required("id", Kind::Int),
        required("name", Kind::Text),
        required("checksum", Kind::Text),
        required("schema", Kind::Jsonb),
        ColumnDef {
            name: "applied_at",
            kind: Kind::Timestamptz,
            nullable: false,
            now: true,
        },
    ],
    key: &["id"],
    indexes: &[],
};

/// The migrated system tables of each version, oldest first.
const MIGRATED: [&[TableDef]; 1] = [&[SESSIONS, SIGN_IN_FAILURES, SETTINGS]];

/// The system tables a database migrated to `version` holds, on `dialect` (none for
/// version 0). A version newer than this Tessera's [`VERSION`] is refused.
pub fn tables(dialect: DialectKind, version: u32) -> Result<Vec<Table>, SqlError> {
    if version == 0 {
        return Ok(Vec::new());
    }
    let defs = usize::try_from(version - 1)
        .ok()
        .and_then(|i| MIGRATED.get(i))
        .ok_or(SqlError::UnknownSystemVersion {
            version,
            known: VERSION,
        })?;
    Ok(defs.iter().map(|def| table(def, dialect)).collect())
}

/// The migration history table (created by the migrator, not by a migration).
pub fn history_table(dialect: DialectKind) -> Table {
    table(&HISTORY, dialect)
}

/// Whether `name` is one of the system tables (of any version, or the history).
pub fn is_system_table(name: &str) -> bool {
    name == HISTORY_TABLE
        || MIGRATED
            .iter()
            .flat_map(|defs| defs.iter())
            .any(|def| def.name == name)
}

fn table(def: &TableDef, dialect: DialectKind) -> Table {
    let d = dialect.dialect();
    let columns = def
        .columns
        .iter()
        .map(|c| {
            let scalar = c.kind.scalar();
            Column {
                field: c.name.to_owned(),
                renamed_from: None,
                name: c.name.to_owned(),
                sql_type: d.scalar_type(&scalar, None),
                enum_type: None,
                nullable: c.nullable,
                default: c.now.then(|| d.now_expr(&scalar)),
                generated: Generated::No,
                ty: FieldType {
                    scalar,
                    array: false,
                },
            }
        })
        .collect();
    let indexes = def
        .indexes
        .iter()
        .map(|(name, columns)| Index {
            name: (*name).to_owned(),
            columns: columns
                .iter()
                .map(|c| IndexColumn {
                    name: (*c).to_owned(),
                    descending: false,
                })
                .collect(),
            unique: false,
            predicate: None,
        })
        .collect();
    Table {
        model: def.name.to_owned(),
        renamed_from: None,
        name: def.name.to_owned(),
        columns,
        primary_key: PrimaryKey {
            name: constraint_name(def.name, &[], "pkey"),
            columns: def.key.iter().map(|c| (*c).to_owned()).collect(),
        },
        foreign_keys: Vec::new(),
        checks: Vec::new(),
        indexes,
        triggers: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_system_table_has_the_reserved_prefix() {
        for dialect in DialectKind::ALL {
            let mut all = tables(dialect, VERSION).expect("current version");
            all.push(history_table(dialect));
            for table in &all {
                assert!(table.name.starts_with(RESERVED_PREFIX), "{}", table.name);
                assert!(is_system_table(&table.name));
                for index in &table.indexes {
                    assert!(index.name.starts_with(RESERVED_PREFIX), "{}", index.name);
                }
            }
        }
    }

    #[test]
    fn version_zero_has_no_tables_and_a_newer_version_is_refused() {
        assert!(tables(DialectKind::Sqlite, 0).expect("none").is_empty());
        let error = tables(DialectKind::Postgres, VERSION + 1).expect_err("unknown");
        assert!(error.to_string().contains("newer Tessera"), "{error}");
    }

    #[test]
    fn the_rebuild_table_and_user_tables_are_not_system_tables() {
        assert!(!is_system_table("_tessera_new_pages"));
        assert!(!is_system_table("sessions"));
    }
}
