//! Storage upgrades: columns that an older version of Tessera stored in another form than
//! today's, with the schema unchanged, so that no migration would touch them.
//!
//! The one upgrade so far: SQLite decimals. Older versions stored them in NUMERIC columns,
//! where SQLite turns them into floats; today they are canonical text in
//! `DECIMAL_TEXT(p, s)` columns (see `tessera_sql::decimal`). The migrator finds such
//! columns in the live database and rebuilds their tables, each value rewritten as
//! canonical text (the digits a float kept are all there is to keep). Each run looks
//! again, so an upgrade is never recorded and never repeated.

use std::fmt;

use tessera_schema::ir::ScalarType;
use tessera_sql::catalog::{Catalog, Column, Table};
use tessera_sql::DialectKind;

use crate::db::Db;
use crate::render::{rebuild_in_place, RenderedStep};

/// A table with columns in an older version's storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageUpgrade {
    pub table: String,
    pub columns: Vec<UpgradedColumn>,
}

/// A column's storage: as it is, and as it becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradedColumn {
    pub name: String,
    /// The column type in the database now (`NUMERIC`).
    pub from: String,
    /// The column type it gets (`DECIMAL_TEXT(10, 2)`).
    pub to: String,
}

impl fmt::Display for StorageUpgrade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let columns = self
            .columns
            .iter()
            .map(|c| format!("{} {} -> {}", c.name, c.from, c.to))
            .collect::<Vec<_>>()
            .join(", ");
        write!(
            f,
            "upgrade the storage of table {} (decimals kept as exact text: {columns})",
            self.table
        )
    }
}

impl StorageUpgrade {
    /// The upgrade as SQL for `catalog`'s dialect (a table rebuild), or `None` when the
    /// catalog has no such table.
    pub fn render(&self, catalog: &Catalog) -> Option<RenderedStep> {
        catalog
            .table(&self.table)
            .map(|table| rebuild_in_place(table, self.to_string()))
    }
}

/// Whether `column` is stored in another form than today's, given its live declared type.
fn outdated(dialect: DialectKind, column: &Column, live_type: &str) -> bool {
    let text_decimal = matches!(column.ty.scalar, ScalarType::Decimal(_))
        && !column.ty.array
        && !dialect.dialect().supports_native_decimal();
    text_decimal
        && !live_type
            .trim()
            .to_ascii_uppercase()
            .starts_with("DECIMAL_TEXT")
}

/// The upgrades the database on `db` needs for the tables of `catalog` (the schema's
/// tables as they should be today).
pub(crate) async fn find(
    db: &mut Db,
    catalog: &Catalog,
) -> Result<Vec<StorageUpgrade>, sqlx::Error> {
    let mut upgrades = Vec::new();
    for table in &catalog.tables {
        if !table
            .columns
            .iter()
            .any(|c| outdated(catalog.dialect, c, ""))
        {
            continue;
        }
        if let Some(upgrade) = find_in(db, catalog.dialect, table).await? {
            upgrades.push(upgrade);
        }
    }
    Ok(upgrades)
}

async fn find_in(
    db: &mut Db,
    dialect: DialectKind,
    table: &Table,
) -> Result<Option<StorageUpgrade>, sqlx::Error> {
    let live = db.column_types(&table.name).await?;
    let columns: Vec<UpgradedColumn> = table
        .columns
        .iter()
        .filter_map(|column| {
            let (_, live_type) = live.iter().find(|(name, _)| *name == column.name)?;
            outdated(dialect, column, live_type).then(|| UpgradedColumn {
                name: column.name.clone(),
                from: live_type.clone(),
                to: column.sql_type.clone(),
            })
        })
        .collect();
    Ok((!columns.is_empty()).then(|| StorageUpgrade {
        table: table.name.clone(),
        columns,
    }))
}
