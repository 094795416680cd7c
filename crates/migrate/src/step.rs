//! Typed migration steps and the diff of two catalogs into them.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use tessera_sql::catalog::{
    Catalog, Check, Column, EnumType, ForeignKey, Generated, Index, PrimaryKey, Table, Trigger,
};

/// One change to the database. Table and column names are the new ones unless the field
/// says otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "step")]
pub enum Step {
    CreateEnum {
        enum_type: EnumType,
    },
    RenameEnum {
        from: String,
        to: String,
    },
    /// Values added or removed: the type is recreated and its columns converted.
    AlterEnum {
        from: EnumType,
        to: EnumType,
        columns: Vec<EnumColumn>,
    },
    DropEnum {
        name: String,
    },
    CreateTable {
        table: Table,
    },
    RenameTable {
        from: String,
        to: String,
    },
    DropTable {
        table: Table,
    },
    AddColumn {
        table: String,
        column: Column,
    },
    RenameColumn {
        table: String,
        from: String,
        to: String,
    },
    AlterColumn {
        table: String,
        from: Column,
        to: Column,
    },
    DropColumn {
        table: String,
        column: Column,
    },
    AlterPrimaryKey {
        table: String,
        from: PrimaryKey,
        to: PrimaryKey,
    },
    AddIndex {
        table: String,
        index: Index,
    },
    DropIndex {
        table: String,
        index: Index,
    },
    AddForeignKey {
        table: String,
        foreign_key: ForeignKey,
    },
    DropForeignKey {
        table: String,
        foreign_key: ForeignKey,
    },
    AddCheck {
        table: String,
        check: Check,
    },
    DropCheck {
        table: String,
        check: Check,
    },
    AddTrigger {
        table: String,
        trigger: Trigger,
    },
    DropTrigger {
        table: String,
        trigger: Trigger,
    },
}

/// A column holding an enum whose type is recreated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnumColumn {
    pub table: String,
    pub column: String,
    pub array: bool,
    pub default: Option<String>,
}

impl Step {
    /// The table the step changes, if any.
    pub fn table(&self) -> Option<&str> {
        match self {
            Step::CreateEnum { .. }
            | Step::RenameEnum { .. }
            | Step::AlterEnum { .. }
            | Step::DropEnum { .. } => None,
            Step::CreateTable { table } | Step::DropTable { table } => Some(&table.name),
            Step::RenameTable { to, .. } => Some(to),
            Step::AddColumn { table, .. }
            | Step::RenameColumn { table, .. }
            | Step::AlterColumn { table, .. }
            | Step::DropColumn { table, .. }
            | Step::AlterPrimaryKey { table, .. }
            | Step::AddIndex { table, .. }
            | Step::DropIndex { table, .. }
            | Step::AddForeignKey { table, .. }
            | Step::DropForeignKey { table, .. }
            | Step::AddCheck { table, .. }
            | Step::DropCheck { table, .. }
            | Step::AddTrigger { table, .. }
            | Step::DropTrigger { table, .. } => Some(table),
        }
    }

    /// Where the step runs in a migration: references exist before they are used and
    /// objects are dropped before what they depend on.
    pub(crate) fn phase(&self) -> u8 {
        match self {
            Step::RenameEnum { .. } | Step::CreateEnum { .. } => 0,
            Step::RenameTable { .. } => 1,
            Step::RenameColumn { .. } => 2,
            Step::DropForeignKey { .. }
            | Step::DropIndex { .. }
            | Step::DropCheck { .. }
            | Step::DropTrigger { .. } => 3,
            Step::AlterEnum { .. } => 4,
            Step::CreateTable { .. } => 5,
            Step::AddColumn { .. } => 6,
            Step::AlterColumn { .. } | Step::AlterPrimaryKey { .. } => 7,
            Step::DropColumn { .. } => 8,
            Step::DropTable { .. } => 9,
            Step::DropEnum { .. } => 10,
            Step::AddCheck { .. } | Step::AddIndex { .. } | Step::AddTrigger { .. } => 11,
            Step::AddForeignKey { .. } => 12,
        }
    }

    /// A short lowercase name for migration folder names: `add_column_users_nickname`.
    pub fn slug(&self) -> String {
        let text = match self {
            Step::CreateEnum { enum_type } => format!("create_enum_{}", enum_type.db_name),
            Step::RenameEnum { to, .. } => format!("rename_enum_{to}"),
            Step::AlterEnum { to, .. } => format!("alter_enum_{}", to.db_name),
            Step::DropEnum { name } => format!("drop_enum_{name}"),
            Step::CreateTable { table } => format!("create_{}", table.name),
            Step::RenameTable { to, .. } => format!("rename_table_{to}"),
            Step::DropTable { table } => format!("drop_{}", table.name),
            Step::AddColumn { table, column } => format!("add_{table}_{}", column.name),
            Step::RenameColumn { table, to, .. } => format!("rename_{table}_{to}"),
            Step::AlterColumn { table, to, .. } => format!("alter_{table}_{}", to.name),
            Step::DropColumn { table, column } => format!("drop_{table}_{}", column.name),
            Step::AlterPrimaryKey { table, .. } => format!("alter_{table}_key"),
            Step::AddIndex { index, .. } => format!("add_{}", index.name),
            Step::DropIndex { index, .. } => format!("drop_{}", index.name),
            Step::AddForeignKey { foreign_key, .. } => format!("add_{}", foreign_key.name),
            Step::DropForeignKey { foreign_key, .. } => format!("drop_{}", foreign_key.name),
            Step::AddCheck { check, .. } => format!("add_{}", check.name),
            Step::DropCheck { check, .. } => format!("drop_{}", check.name),
            Step::AddTrigger { trigger, .. } => format!("add_{}", trigger.name),
            Step::DropTrigger { trigger, .. } => format!("drop_{}", trigger.name),
        };
        let mut slug: String = text
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        slug.truncate(48);
        slug
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::CreateEnum { enum_type } => {
                write!(
                    f,
                    "create enum {} ({})",
                    enum_type.db_name,
                    enum_type.values.join(", ")
                )
            }
            Step::RenameEnum { from, to } => write!(f, "rename enum {from} to {to}"),
            Step::AlterEnum { from, to, .. } => {
                let added: Vec<_> = to
                    .values
                    .iter()
                    .filter(|v| !from.values.contains(v))
                    .collect();
                let removed: Vec<_> = from
                    .values
                    .iter()
                    .filter(|v| !to.values.contains(v))
                    .collect();
                write!(f, "alter enum {}", to.db_name)?;
                if !added.is_empty() {
                    write!(
                        f,
                        " add {}",
                        added
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )?;
                }
                if !removed.is_empty() {
                    write!(
                        f,
                        " remove {}",
                        removed
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )?;
                }
                if added.is_empty() && removed.is_empty() {
                    write!(f, " reorder values")?;
                }
                Ok(())
            }
            Step::DropEnum { name } => write!(f, "drop enum {name}"),
            Step::CreateTable { table } => write!(f, "create table {}", table.name),
            Step::RenameTable { from, to } => write!(f, "rename table {from} to {to}"),
            Step::DropTable { table } => write!(f, "drop table {}", table.name),
            Step::AddColumn { table, column } => {
                write!(f, "add column {table}.{} {}", column.name, column.ty)?;
                if !column.nullable {
                    write!(f, " not null")?;
                }
                if let Some(default) = &column.default {
                    write!(f, " default {default}")?;
                }
                Ok(())
            }
            Step::RenameColumn { table, from, to } => {
                write!(f, "rename column {table}.{from} to {to}")
            }
            Step::AlterColumn { table, from, to } => {
                write!(f, "alter column {table}.{}:", to.name)?;
                if from.sql_type != to.sql_type || from.ty != to.ty {
                    write!(f, " type {} -> {}", from.ty, to.ty)?;
                }
                if from.nullable != to.nullable {
                    write!(
                        f,
                        " {}",
                        if to.nullable {
                            "drop not null"
                        } else {
                            "set not null"
                        }
                    )?;
                }
                if from.default != to.default {
                    match &to.default {
                        Some(d) => write!(f, " default {d}")?,
                        None => write!(f, " drop default")?,
                    }
                }
                if from.generated != to.generated {
                    write!(f, " generated {:?} -> {:?}", from.generated, to.generated)?;
                }
                Ok(())
            }
            Step::DropColumn { table, column } => write!(f, "drop column {table}.{}", column.name),
            Step::AlterPrimaryKey { table, from, to } => write!(
                f,
                "change primary key of {table} from ({}) to ({})",
                from.columns.join(", "),
                to.columns.join(", ")
            ),
            Step::AddIndex { table, index } => write!(
                f,
                "add {}index {} on {table} ({})",
                if index.unique { "unique " } else { "" },
                index.name,
                index
                    .columns
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Step::DropIndex { index, .. } => write!(f, "drop index {}", index.name),
            Step::AddForeignKey { table, foreign_key } => write!(
                f,
                "add foreign key {} on {table} ({}) -> {}",
                foreign_key.name,
                foreign_key.columns.join(", "),
                foreign_key.references_table
            ),
            Step::DropForeignKey { table, foreign_key } => {
                write!(f, "drop foreign key {} on {table}", foreign_key.name)
            }
            Step::AddCheck { table, check } => write!(f, "add check {} on {table}", check.name),
            Step::DropCheck { table, check } => write!(f, "drop check {} on {table}", check.name),
            Step::AddTrigger { table, trigger } => {
                write!(f, "add trigger {} on {table}", trigger.name)
            }
            Step::DropTrigger { table, trigger } => {
                write!(f, "drop trigger {} on {table}", trigger.name)
            }
        }
    }
}

/// The steps that turn `old` into `new`, in the order they must run.
///
/// Tables are matched by model name, then by `@@was`; columns by field name, then by
/// `@was`. Anything else that disappears is dropped and anything that appears is created:
/// renames are never guessed.
pub fn diff(old: &Catalog, new: &Catalog) -> Vec<Step> {
    let alter_table = new.dialect.dialect().supports_alter_table();
    let mut steps = Vec::new();

    // Enum types (PostgreSQL).
    let mut matched_enums = HashSet::new();
    for to in &new.enums {
        match old.enums.iter().find(|e| e.name == to.name) {
            None => steps.push(Step::CreateEnum {
                enum_type: to.clone(),
            }),
            Some(from) => {
                matched_enums.insert(from.db_name.clone());
                if from.db_name != to.db_name {
                    steps.push(Step::RenameEnum {
                        from: from.db_name.clone(),
                        to: to.db_name.clone(),
                    });
                }
                if from.values != to.values {
                    let columns = enum_columns(old, new, &from.db_name, &to.db_name);
                    steps.push(Step::AlterEnum {
                        from: from.clone(),
                        to: to.clone(),
                        columns,
                    });
                    steps.push(Step::DropEnum {
                        name: retired_enum_name(&to.db_name),
                    });
                }
            }
        }
    }
    for from in &old.enums {
        if !matched_enums.contains(&from.db_name) {
            steps.push(Step::DropEnum {
                name: from.db_name.clone(),
            });
        }
    }

    // Tables.
    let mut matched_tables = HashSet::new();
    for to in &new.tables {
        let Some(from) = match_table(old, new, to) else {
            steps.push(Step::CreateTable { table: to.clone() });
            if alter_table {
                for fk in &to.foreign_keys {
                    steps.push(Step::AddForeignKey {
                        table: to.name.clone(),
                        foreign_key: fk.clone(),
                    });
                }
            }
            for index in &to.indexes {
                steps.push(Step::AddIndex {
                    table: to.name.clone(),
                    index: index.clone(),
                });
            }
            for trigger in &to.triggers {
                steps.push(Step::AddTrigger {
                    table: to.name.clone(),
                    trigger: trigger.clone(),
                });
            }
            continue;
        };
        matched_tables.insert(from.name.clone());
        if from.name != to.name {
            steps.push(Step::RenameTable {
                from: from.name.clone(),
                to: to.name.clone(),
            });
        }
        diff_table(from, to, &mut steps);
    }
    for from in &old.tables {
        if matched_tables.contains(&from.name) {
            continue;
        }
        if alter_table {
            for fk in &from.foreign_keys {
                steps.push(Step::DropForeignKey {
                    table: from.name.clone(),
                    foreign_key: fk.clone(),
                });
            }
        }
        steps.push(Step::DropTable {
            table: from.clone(),
        });
    }
    steps.sort_by_key(Step::phase);
    steps
}

/// The name an enum type has while its replacement is built.
pub fn retired_enum_name(db_name: &str) -> String {
    let mut name = format!("{db_name}__old");
    if name.len() > 63 {
        let mut cut = 63 - "__old".len();
        while !db_name.is_char_boundary(cut) {
            cut -= 1;
        }
        name = format!("{}__old", &db_name[..cut]);
    }
    name
}

fn match_table<'a>(old: &'a Catalog, new: &Catalog, to: &Table) -> Option<&'a Table> {
    old.table_of_model(&to.model).or_else(|| {
        let was = to.renamed_from.as_deref()?;
        if new.table_of_model(was).is_some() {
            return None;
        }
        old.table_of_model(was)
    })
}

fn match_column<'a>(from: &'a Table, to_table: &Table, to: &Column) -> Option<&'a Column> {
    from.column_of_field(&to.field).or_else(|| {
        let was = to.renamed_from.as_deref()?;
        if to_table.column_of_field(was).is_some() {
            return None;
        }
        from.column_of_field(was)
    })
}

fn enum_columns(old: &Catalog, new: &Catalog, from: &str, to: &str) -> Vec<EnumColumn> {
    let mut out = Vec::new();
    for table in &new.tables {
        let Some(old_table) = match_table(old, new, table) else {
            continue;
        };
        for column in &table.columns {
            let Some(old_column) = match_column(old_table, table, column) else {
                continue;
            };
            if old_column.enum_type.as_deref() == Some(from)
                && column.enum_type.as_deref() == Some(to)
                && old_column.ty.array == column.ty.array
            {
                out.push(EnumColumn {
                    table: table.name.clone(),
                    column: column.name.clone(),
                    array: column.ty.array,
                    default: column.default.clone(),
                });
            }
        }
    }
    out
}

fn diff_table(from: &Table, to: &Table, steps: &mut Vec<Step>) {
    let table = to.name.clone();
    let mut matched = HashSet::new();
    for column in &to.columns {
        match match_column(from, to, column) {
            None => steps.push(Step::AddColumn {
                table: table.clone(),
                column: column.clone(),
            }),
            Some(old) => {
                matched.insert(old.name.clone());
                if old.name != column.name {
                    steps.push(Step::RenameColumn {
                        table: table.clone(),
                        from: old.name.clone(),
                        to: column.name.clone(),
                    });
                }
                let same = old.sql_type == column.sql_type
                    && old.ty == column.ty
                    && old.nullable == column.nullable
                    && old.default == column.default
                    && old.generated == column.generated;
                if !same {
                    steps.push(Step::AlterColumn {
                        table: table.clone(),
                        from: old.clone(),
                        to: column.clone(),
                    });
                }
            }
        }
    }
    for column in &from.columns {
        if !matched.contains(&column.name) {
            steps.push(Step::DropColumn {
                table: table.clone(),
                column: column.clone(),
            });
        }
    }
    if from.primary_key != to.primary_key {
        steps.push(Step::AlterPrimaryKey {
            table: table.clone(),
            from: from.primary_key.clone(),
            to: to.primary_key.clone(),
        });
    }
    diff_named(
        &from.foreign_keys,
        &to.foreign_keys,
        |fk| &fk.name,
        steps,
        |fk, add| {
            if add {
                Step::AddForeignKey {
                    table: table.clone(),
                    foreign_key: fk.clone(),
                }
            } else {
                Step::DropForeignKey {
                    table: table.clone(),
                    foreign_key: fk.clone(),
                }
            }
        },
    );
    diff_named(
        &from.checks,
        &to.checks,
        |c| &c.name,
        steps,
        |check, add| {
            if add {
                Step::AddCheck {
                    table: table.clone(),
                    check: check.clone(),
                }
            } else {
                Step::DropCheck {
                    table: table.clone(),
                    check: check.clone(),
                }
            }
        },
    );
    diff_named(
        &from.indexes,
        &to.indexes,
        |i| &i.name,
        steps,
        |index, add| {
            if add {
                Step::AddIndex {
                    table: table.clone(),
                    index: index.clone(),
                }
            } else {
                Step::DropIndex {
                    table: table.clone(),
                    index: index.clone(),
                }
            }
        },
    );
    diff_named(
        &from.triggers,
        &to.triggers,
        |t| &t.name,
        steps,
        |trigger, add| {
            if add {
                Step::AddTrigger {
                    table: table.clone(),
                    trigger: trigger.clone(),
                }
            } else {
                Step::DropTrigger {
                    table: table.clone(),
                    trigger: trigger.clone(),
                }
            }
        },
    );
}

/// Objects compared by name: a changed one is dropped and added again.
fn diff_named<T: PartialEq>(
    old: &[T],
    new: &[T],
    name: impl Fn(&T) -> &String,
    steps: &mut Vec<Step>,
    make: impl Fn(&T, bool) -> Step,
) {
    for o in old {
        if !new.iter().any(|n| n == o) {
            steps.push(make(o, false));
        }
    }
    for n in new {
        if !old.iter().any(|o| o == n) {
            steps.push(make(n, true));
        }
    }
    let _ = name;
}

/// Whether a column is a plain value column that SQLite's `ADD COLUMN` can add.
pub(crate) fn sqlite_can_add(column: &Column) -> bool {
    let constant_default = column
        .default
        .as_deref()
        .is_none_or(|d| !d.starts_with('('));
    column.generated == Generated::No
        && constant_default
        && (column.nullable || column.default.is_some())
}

pub(crate) fn match_table_pub<'a>(
    old: &'a Catalog,
    new: &Catalog,
    to: &Table,
) -> Option<&'a Table> {
    match_table(old, new, to)
}

pub(crate) fn match_column_pub<'a>(
    from: &'a Table,
    to_table: &Table,
    to: &Column,
) -> Option<&'a Column> {
    match_column(from, to_table, to)
}
