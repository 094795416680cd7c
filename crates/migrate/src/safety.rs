//! Which steps can lose data.

use serde::{Deserialize, Serialize};
use tessera_schema::ir::{FieldType, ScalarType};
use tessera_sql::catalog::{Column, Generated};

use crate::step::Step;

/// A step that can lose data, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Destructive {
    /// The migration the step belongs to.
    pub migration: String,
    /// The step, as `tessera plan` prints it.
    pub step: String,
    pub reason: String,
}

/// What must be true of the data for a step to lose something.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Condition {
    Always,
    /// The table (under its name before the migration) has rows.
    TableHasRows {
        table: String,
    },
    /// The column (names before the migration) holds NULLs.
    ColumnHasNulls {
        table: String,
        column: String,
    },
}

/// The steps that may lose data, with the condition under which they do.
pub(crate) fn concerns(steps: &[Step]) -> Vec<(String, String, Condition)> {
    let old_table = |table: &str| -> String {
        steps
            .iter()
            .find_map(|s| match s {
                Step::RenameTable { from, to } if to == table => Some(from.clone()),
                _ => None,
            })
            .unwrap_or_else(|| table.to_owned())
    };
    let mut out = Vec::new();
    for step in steps {
        match step {
            Step::DropTable { .. } => out.push((
                step.to_string(),
                "drops the table and every row in it".to_owned(),
                Condition::Always,
            )),
            Step::DropColumn { .. } => out.push((
                step.to_string(),
                "drops the column and its values".to_owned(),
                Condition::Always,
            )),
            Step::AddColumn { table, column }
                if !column.nullable
                    && column.default.is_none()
                    && column.generated == Generated::No =>
            {
                out.push((
                    step.to_string(),
                    "adds a NOT NULL column without a default to a table that has rows".to_owned(),
                    Condition::TableHasRows {
                        table: old_table(table),
                    },
                ));
            }
            Step::AlterColumn { table, from, to } => {
                if let Some(reason) = narrowing(from, to) {
                    out.push((step.to_string(), reason, Condition::Always));
                }
                if from.nullable
                    && !to.nullable
                    && to.default.is_none()
                    && to.generated == Generated::No
                {
                    out.push((
                        step.to_string(),
                        "makes the column NOT NULL while it holds NULLs".to_owned(),
                        Condition::ColumnHasNulls {
                            table: old_table(table),
                            column: from.name.clone(),
                        },
                    ));
                }
            }
            Step::AlterEnum { from, to, .. } => {
                let removed: Vec<&str> = from
                    .values
                    .iter()
                    .filter(|v| !to.values.contains(v))
                    .map(String::as_str)
                    .collect();
                if !removed.is_empty() {
                    out.push((
                        step.to_string(),
                        format!(
                            "removes enum values ({}) that rows may hold",
                            removed.join(", ")
                        ),
                        Condition::Always,
                    ));
                }
            }
            _ => {}
        }
    }
    out
}

/// Why changing a column from `from` to `to` can lose values, if it can.
fn narrowing(from: &Column, to: &Column) -> Option<String> {
    if from.ty == to.ty || widens(&from.ty, &to.ty) {
        return None;
    }
    Some(format!(
        "changes the type from {} to {}, which can lose or reject values",
        from.ty, to.ty
    ))
}

fn rank_int(scalar: &ScalarType) -> Option<u8> {
    match scalar {
        ScalarType::SmallInt => Some(1),
        ScalarType::Int | ScalarType::Serial => Some(2),
        ScalarType::BigInt | ScalarType::BigSerial => Some(3),
        _ => None,
    }
}

/// Every value of `from` is a value of `to`.
pub(crate) fn widens(from: &FieldType, to: &FieldType) -> bool {
    use ScalarType::*;
    if from.array != to.array {
        return false;
    }
    let (a, b) = (&from.scalar, &to.scalar);
    if let (Some(x), Some(y)) = (rank_int(a), rank_int(b)) {
        return x <= y;
    }
    match (a, b) {
        (_, Text) => !matches!(a, Bytes | Json | Jsonb) || !from.array,
        (Varchar(x), Varchar(y)) => x <= y,
        (SmallInt | Int | Serial, Float) => true,
        (SmallInt | Int | BigInt | Serial | BigSerial, Decimal(None)) => true,
        (Decimal(_), Decimal(None)) => true,
        (Decimal(Some((p1, s1))), Decimal(Some((p2, s2)))) => s2 >= s1 && p2 - s2 >= p1 - s1,
        (Json, Jsonb) | (Jsonb, Json) => true,
        (Date, Timestamp | Timestamptz) | (Timestamp, Timestamptz) | (Timestamptz, Timestamp) => {
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(scalar: ScalarType) -> FieldType {
        FieldType {
            scalar,
            array: false,
        }
    }

    #[test]
    fn int_to_bigint_widens() {
        assert!(widens(&ty(ScalarType::Int), &ty(ScalarType::BigInt)));
    }

    #[test]
    fn bigint_to_int_narrows() {
        assert!(!widens(&ty(ScalarType::BigInt), &ty(ScalarType::Int)));
    }

    #[test]
    fn shorter_varchar_narrows() {
        assert!(!widens(
            &ty(ScalarType::Varchar(255)),
            &ty(ScalarType::Varchar(10))
        ));
        assert!(widens(&ty(ScalarType::Varchar(10)), &ty(ScalarType::Text)));
    }

    #[test]
    fn text_to_int_narrows() {
        assert!(!widens(&ty(ScalarType::Text), &ty(ScalarType::Int)));
    }
}
