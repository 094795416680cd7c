//! Steps rendered as SQL statements for one dialect.
//!
//! PostgreSQL alters tables in place. SQLite's `ALTER TABLE` can only rename and add plain
//! columns, so every other change to an existing table is carried out by the table
//! rebuild procedure of <https://www.sqlite.org/lang_altertable.html#otheralter>: create
//! the new table under a temporary name, copy the rows, drop the old table, rename the new
//! one, recreate its indexes and triggers. The runner keeps foreign keys off meanwhile and
//! runs `PRAGMA foreign_key_check` before committing.

use std::collections::BTreeSet;

use tessera_schema::ir::ScalarType;
use tessera_sql::catalog::{Catalog, Column, Generated, Table};
use tessera_sql::ddl;
use tessera_sql::dialect::Sqlite;
use tessera_sql::quote::{ident, ident_list, literal};
use tessera_sql::DialectKind;

use crate::step::{match_column_pub, match_table_pub, sqlite_can_add, Step};

/// One step (or, on SQLite, one table rebuild standing for several steps) as SQL.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedStep {
    pub description: String,
    pub statements: Vec<String>,
}

/// Renders `steps` (from [`crate::diff`] of `old` and `new`) for `new`'s dialect.
pub fn render(steps: &[Step], old: &Catalog, new: &Catalog) -> Vec<RenderedStep> {
    match new.dialect {
        DialectKind::Postgres => steps
            .iter()
            .map(|step| RenderedStep {
                description: step.to_string(),
                statements: postgres(step),
            })
            .collect(),
        DialectKind::Sqlite => sqlite(steps, old, new),
    }
}

fn postgres(step: &Step) -> Vec<String> {
    match step {
        Step::CreateEnum { enum_type } => vec![ddl::create_enum(enum_type)],
        Step::RenameEnum { from, to } => {
            vec![format!(
                "ALTER TYPE {} RENAME TO {}",
                ident(from),
                ident(to)
            )]
        }
        Step::AlterEnum { to, columns, .. } => {
            let retired = crate::step::retired_enum_name(&to.db_name);
            let mut out = vec![
                format!(
                    "ALTER TYPE {} RENAME TO {}",
                    ident(&to.db_name),
                    ident(&retired)
                ),
                ddl::create_enum(to),
            ];
            for c in columns {
                let (t, col) = (ident(&c.table), ident(&c.column));
                let ty = if c.array {
                    format!("{}[]", ident(&to.db_name))
                } else {
                    ident(&to.db_name)
                };
                let via = if c.array { "text[]" } else { "text" };
                out.push(format!("ALTER TABLE {t} ALTER COLUMN {col} DROP DEFAULT"));
                out.push(format!(
                    "ALTER TABLE {t} ALTER COLUMN {col} TYPE {ty} USING {col}::{via}::{ty}"
                ));
                if let Some(default) = &c.default {
                    out.push(format!(
                        "ALTER TABLE {t} ALTER COLUMN {col} SET DEFAULT {default}"
                    ));
                }
            }
            out
        }
        Step::DropEnum { name } => vec![ddl::drop_enum(name)],
        Step::CreateTable { table } => vec![ddl::create_table(table, false)],
        Step::RenameTable { from, to } => vec![ddl::rename_table(from, to)],
        Step::DropTable { table } => vec![ddl::drop_table(&table.name)],
        Step::AddColumn { table, column } => {
            vec![format!(
                "ALTER TABLE {} ADD COLUMN {}",
                ident(table),
                ddl::column_definition(column)
            )]
        }
        Step::RenameColumn { table, from, to } => vec![ddl::rename_column(table, from, to)],
        Step::AlterColumn { table, from, to } => postgres_alter_column(table, from, to),
        Step::DropColumn { table, column } => {
            vec![format!(
                "ALTER TABLE {} DROP COLUMN {}",
                ident(table),
                ident(&column.name)
            )]
        }
        Step::AlterPrimaryKey { table, from, to } => {
            let t = ident(table);
            if from.columns == to.columns {
                vec![format!(
                    "ALTER TABLE {t} RENAME CONSTRAINT {} TO {}",
                    ident(&from.name),
                    ident(&to.name)
                )]
            } else {
                let mut out = Vec::new();
                if !from.columns.is_empty() {
                    out.push(ddl::drop_constraint(table, &from.name));
                }
                if !to.columns.is_empty() {
                    out.push(format!(
                        "ALTER TABLE {t} ADD CONSTRAINT {} PRIMARY KEY ({})",
                        ident(&to.name),
                        ident_list(to.columns.iter().map(String::as_str))
                    ));
                }
                out
            }
        }
        Step::AddIndex { table, index } => vec![ddl::create_index(table, index)],
        Step::DropIndex { index, .. } => vec![ddl::drop_index(&index.name)],
        Step::AddForeignKey { table, foreign_key } => {
            vec![ddl::add_foreign_key(table, foreign_key)]
        }
        Step::DropForeignKey { table, foreign_key } => {
            vec![ddl::drop_constraint(table, &foreign_key.name)]
        }
        Step::AddCheck { table, check } => vec![ddl::add_check(table, &check.name, &check.expr)],
        Step::DropCheck { table, check } => vec![ddl::drop_constraint(table, &check.name)],
        Step::AddTrigger { trigger, .. } => vec![trigger.sql.clone()],
        Step::DropTrigger { table, trigger } => {
            vec![format!(
                "DROP TRIGGER {} ON {}",
                ident(&trigger.name),
                ident(table)
            )]
        }
    }
}

fn postgres_alter_column(table: &str, from: &Column, to: &Column) -> Vec<String> {
    let alter = format!(
        "ALTER TABLE {} ALTER COLUMN {}",
        ident(table),
        ident(&to.name)
    );
    let c = ident(&to.name);
    let mut out = Vec::new();
    let type_changed = from.sql_type != to.sql_type;
    if from.generated == Generated::Identity && to.generated != Generated::Identity {
        out.push(format!("{alter} DROP IDENTITY IF EXISTS"));
    }
    if type_changed {
        if from.default.is_some() {
            out.push(format!("{alter} DROP DEFAULT"));
        }
        let using = if from.enum_type.is_some() || to.enum_type.is_some() {
            let via = if from.ty.array && to.ty.array {
                "text[]"
            } else {
                "text"
            };
            format!("{c}::{via}::{}", to.sql_type)
        } else {
            format!("{c}::{}", to.sql_type)
        };
        out.push(format!("{alter} TYPE {} USING {using}", to.sql_type));
    }
    if to.default != from.default || type_changed {
        match &to.default {
            Some(default) => out.push(format!("{alter} SET DEFAULT {default}")),
            None if from.default.is_some() && !type_changed => {
                out.push(format!("{alter} DROP DEFAULT"))
            }
            None => {}
        }
    }
    if to.generated == Generated::Identity && from.generated != Generated::Identity {
        out.push(format!("{alter} SET NOT NULL"));
        out.push(format!("{alter} ADD GENERATED BY DEFAULT AS IDENTITY"));
        out.push(format!(
            "SELECT setval(pg_get_serial_sequence({}, {}), coalesce(max({c}), 0) + 1, false) FROM {}",
            literal(&ident(table)),
            literal(&to.name),
            ident(table)
        ));
    }
    if from.nullable && !to.nullable {
        if let Some(default) = &to.default {
            out.push(format!(
                "UPDATE {} SET {c} = {default} WHERE {c} IS NULL",
                ident(table)
            ));
        }
        out.push(format!("{alter} SET NOT NULL"));
    } else if !from.nullable && to.nullable {
        out.push(format!("{alter} DROP NOT NULL"));
    }
    out
}

fn sqlite(steps: &[Step], old: &Catalog, new: &Catalog) -> Vec<RenderedStep> {
    let created: BTreeSet<&str> = steps
        .iter()
        .filter_map(|s| match s {
            Step::CreateTable { table } => Some(table.name.as_str()),
            _ => None,
        })
        .collect();
    let rebuilt: BTreeSet<String> = steps
        .iter()
        .filter(|s| match s {
            Step::AddColumn { column, .. } => !sqlite_can_add(column),
            Step::AlterPrimaryKey { from, to, .. } => from.columns != to.columns,
            Step::DropColumn { .. }
            | Step::AlterColumn { .. }
            | Step::AddForeignKey { .. }
            | Step::DropForeignKey { .. }
            | Step::AddCheck { .. }
            | Step::DropCheck { .. } => true,
            _ => false,
        })
        .filter_map(|s| s.table())
        .filter(|t| !created.contains(t))
        .map(str::to_owned)
        .collect();

    let mut out = Vec::new();
    let mut rebuilds_done = false;
    for step in steps {
        let on_rebuilt = step.table().is_some_and(|t| rebuilt.contains(t));
        if step.phase() >= 7 && !rebuilds_done {
            rebuilds_done = true;
            for name in &rebuilt {
                if let Some(table) = new.table(name) {
                    out.push(rebuild(steps, old, new, table));
                }
            }
        }
        if on_rebuilt && !matches!(step, Step::RenameTable { .. }) {
            continue;
        }
        let statements = match step {
            Step::CreateTable { table } => vec![ddl::create_table(table, true)],
            Step::RenameTable { from, to } => vec![ddl::rename_table(from, to)],
            Step::DropTable { table } => vec![ddl::drop_table(&table.name)],
            Step::AddColumn { table, column } => vec![format!(
                "ALTER TABLE {} ADD COLUMN {}",
                ident(table),
                ddl::column_definition(column)
            )],
            Step::RenameColumn { table, from, to } => vec![ddl::rename_column(table, from, to)],
            Step::AddIndex { table, index } => vec![ddl::create_index(table, index)],
            Step::DropIndex { index, .. } => vec![ddl::drop_index(&index.name)],
            Step::AddTrigger { trigger, .. } => vec![trigger.sql.clone()],
            Step::DropTrigger { trigger, .. } => {
                vec![format!("DROP TRIGGER {}", ident(&trigger.name))]
            }
            // Key renames only (key changes rebuild the table); enums are checks here.
            _ => continue,
        };
        out.push(RenderedStep {
            description: step.to_string(),
            statements,
        });
    }
    if !rebuilds_done {
        for name in &rebuilt {
            if let Some(table) = new.table(name) {
                out.push(rebuild(steps, old, new, table));
            }
        }
    }
    out
}

fn rebuild(steps: &[Step], old: &Catalog, new: &Catalog, table: &Table) -> RenderedStep {
    let covered: Vec<String> = steps
        .iter()
        .filter(|s| {
            s.table() == Some(table.name.as_str()) && !matches!(s, Step::RenameTable { .. })
        })
        .map(Step::to_string)
        .collect();
    let copies = match_table_pub(old, new, table).map(|old_table| {
        let mut copies = Vec::new();
        for column in &table.columns {
            match match_column_pub(old_table, table, column) {
                Some(old_column) => {
                    let source = stored_as(column, ident(&old_column.name));
                    let source = match (&column.default, old_column.nullable && !column.nullable) {
                        (Some(default), true) => format!("coalesce({source}, {default})"),
                        _ => source,
                    };
                    copies.push((ident(&column.name), source));
                }
                None if column.generated == Generated::Trigger => {
                    copies.push((
                        ident(&column.name),
                        "row_number() OVER (ORDER BY rowid)".to_owned(),
                    ));
                }
                None => {}
            }
        }
        copies
    });
    RenderedStep {
        description: format!("rebuild table {} ({})", table.name, covered.join("; ")),
        statements: rebuild_statements(table, copies),
    }
}

/// The SQLite rebuild of `table` into its own definition, each column copied from itself
/// in today's storage (see [`stored_as`]): a storage upgrade.
pub(crate) fn rebuild_in_place(table: &Table, description: String) -> RenderedStep {
    let copies = table
        .columns
        .iter()
        .map(|c| (ident(&c.name), stored_as(c, ident(&c.name))))
        .collect();
    RenderedStep {
        description,
        statements: rebuild_statements(table, Some(copies)),
    }
}

/// A value read from a column of the old table, in the storage of `column`: decimals
/// become canonical text whatever they were stored as (a float in a NUMERIC column of an
/// older version, an integer, text of another scale); everything else as it is.
fn stored_as(column: &Column, source: String) -> String {
    match column.ty.scalar {
        ScalarType::Decimal(limits) if !column.ty.array => {
            Sqlite::decimal_from_stored(&source, limits)
        }
        _ => source,
    }
}

/// SQLite's table rebuild: the new table under a temporary name, the rows copied
/// (`copies`: target column and source expression), the old table dropped, the new one
/// renamed, its indexes and triggers made again.
fn rebuild_statements(table: &Table, copies: Option<Vec<(String, String)>>) -> Vec<String> {
    let temp = format!("_tessera_new_{}", table.name);
    let mut statements = vec![ddl::create_table_named(table, &temp, true)];
    if let Some(copies) = copies {
        let (targets, sources): (Vec<String>, Vec<String>) = copies.into_iter().unzip();
        statements.push(format!(
            "INSERT INTO {} ({}) SELECT {} FROM {}",
            ident(&temp),
            targets.join(", "),
            sources.join(", "),
            ident(&table.name)
        ));
    }
    statements.push(ddl::drop_table(&table.name));
    statements.push(ddl::rename_table(&temp, &table.name));
    statements.extend(
        table
            .indexes
            .iter()
            .map(|i| ddl::create_index(&table.name, i)),
    );
    statements.extend(table.triggers.iter().map(|t| t.sql.clone()));
    statements
}
