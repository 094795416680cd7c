//! Generators reading a checked schema.

pub mod docs;
pub mod json_schema;
pub mod mermaid;
pub mod openapi;
pub mod sql;
pub mod svg;

use tessera_schema::ir::{
    AccessRule, Condition, DefaultValue, Field, Model, Operand, Operation, RelationKind, RuleOp,
    Schema,
};

/// The to-one relation (name, target, nullable) whose foreign key is `field`.
pub(crate) fn relation_of<'a>(model: &'a Model, field: &Field) -> Option<(&'a str, &'a str)> {
    model.relations.iter().find_map(|r| match &r.kind {
        RelationKind::ToOne {
            target, field: fk, ..
        } if *fk == field.name => Some((r.name.as_str(), target.as_str())),
        _ => None,
    })
}

/// Whether the field is (part of) the primary key.
pub(crate) fn is_key(model: &Model, field: &Field) -> bool {
    model.primary_key.contains(&field.name)
}

/// Whether a single-field unique index covers the field.
pub(crate) fn is_unique(model: &Model, field: &Field) -> bool {
    model.indexes.iter().any(|i| {
        i.unique && !i.where_not_deleted && i.fields.len() == 1 && i.fields[0].field == field.name
    })
}

/// Models to show in diagrams and documents: declared ones and implicit join tables.
/// Names as inline code, comma-separated: `` `a`, `b` ``.
pub(crate) fn code_list<S: AsRef<str>>(names: &[S]) -> String {
    names
        .iter()
        .map(|name| format!("`{}`", name.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn models(schema: &Schema) -> impl Iterator<Item = &Model> {
    schema.models.iter()
}

/// Who besides the service key (which no rule restricts) may run an operation on a model's
/// rows, as its `@@allow` rules add up: the widest condition among the rules naming the
/// operation wins, the others combine (any of them admits).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Callers<'m> {
    /// Anyone, anonymous callers included (`public`).
    Anyone,
    /// Any signed-in user (`authenticated`).
    SignedIn,
    /// Signed-in users for whom one of these grants holds, in the order of the rules.
    Grants(Vec<Grant<'m>>),
    /// No rule covers the operation.
    ServiceKeyOnly,
}

/// One rule admitting some signed-in users, on some rows or on every row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Grant<'m> {
    /// On the rows where the field holds their id (`createdBy == auth`).
    Owner(&'m str),
    /// On every row, when their account's field holds the value (`auth.role == "admin"`).
    AccountIs {
        account_field: &'m str,
        value: &'m DefaultValue,
    },
    /// On the rows whose field holds their account's value (`tenant == auth.tenant`).
    SameAsAccount {
        field: &'m str,
        account_field: &'m str,
    },
    /// Any other condition, as the schema writes it; `every_row` when it reads nothing of
    /// the rows (only the caller and their account).
    Condition { written: String, every_row: bool },
}

impl Grant<'_> {
    /// Whether the grant admits its callers on every row.
    fn every_row(&self) -> bool {
        match self {
            Grant::AccountIs { .. } => true,
            Grant::Condition { every_row, .. } => *every_row,
            _ => false,
        }
    }
}

/// Whether a condition reads the rows it is about (a field, or related rows), rather than
/// only the caller and their account.
fn reads_rows(condition: &Condition) -> bool {
    match condition {
        Condition::Public | Condition::Authenticated | Condition::Account { .. } => false,
        Condition::Related { .. } => true,
        Condition::All { conditions } | Condition::Any { conditions } => {
            conditions.iter().any(reads_rows)
        }
        Condition::Not { condition } => reads_rows(condition),
        Condition::Compare { left, right, .. } => {
            matches!(left, Operand::Field { .. }) || matches!(right, Operand::Field { .. })
        }
        Condition::In { operand, .. } => matches!(operand, Operand::Field { .. }),
    }
}

impl Callers<'_> {
    /// `anyone (public)`, `signed-in users`, `signed-in users, on rows where `a` or `b`
    /// is theirs`, `signed-in users whose `role` is `"admin"``, `signed-in users, on rows
    /// whose `tenantId` matches their account's `tenantId``, `service key only`; several
    /// grants are joined with `; or `.
    pub(crate) fn describe(&self) -> String {
        match self {
            Callers::Anyone => "anyone (public)".into(),
            Callers::SignedIn => "signed-in users".into(),
            Callers::Grants(grants) => describe_grants(grants),
            Callers::ServiceKeyOnly => "service key only".into(),
        }
    }

    /// The callers who may run the operation on every row: `Grants` keep their account
    /// conditions only.
    pub(crate) fn on_every_row(&self) -> Self {
        match self {
            Callers::Grants(grants) => {
                let every_row: Vec<Grant> =
                    grants.iter().filter(|g| g.every_row()).cloned().collect();
                if every_row.is_empty() {
                    Callers::ServiceKeyOnly
                } else {
                    Callers::Grants(every_row)
                }
            }
            other => other.clone(),
        }
    }
}

/// The grants of one operation in words: owners in one clause, the values of one account
/// field in one clause, each matched account field in a clause of its own.
fn describe_grants(grants: &[Grant]) -> String {
    let mut clauses: Vec<(Option<&str>, String)> = Vec::new();
    let owners: Vec<String> = grants
        .iter()
        .filter_map(|g| match g {
            Grant::Owner(field) => Some(format!("`{field}`")),
            _ => None,
        })
        .collect();
    let mut owners_written = false;
    for grant in grants {
        match grant {
            Grant::Owner(_) if owners_written => {}
            Grant::Owner(_) => {
                owners_written = true;
                clauses.push((
                    None,
                    format!(
                        "signed-in users, on rows where {} is theirs",
                        owners.join(" or ")
                    ),
                ));
            }
            Grant::AccountIs {
                account_field,
                value,
            } => {
                let value = literal(value);
                match clauses
                    .iter_mut()
                    .find(|(field, _)| *field == Some(*account_field))
                {
                    Some((_, clause)) => {
                        clause.push_str(" or ");
                        clause.push_str(&value);
                    }
                    None => clauses.push((
                        Some(account_field),
                        format!("signed-in users whose `{account_field}` is {value}"),
                    )),
                }
            }
            Grant::SameAsAccount {
                field,
                account_field,
            } => clauses.push((
                None,
                format!(
                    "signed-in users, on rows whose `{field}` matches their account's `{account_field}`"
                ),
            )),
            Grant::Condition { written, every_row } => clauses.push((
                None,
                if *every_row {
                    format!("callers for whom `{written}` holds")
                } else {
                    format!("callers, on rows where `{written}` holds")
                },
            )),
        }
    }
    clauses
        .into_iter()
        .map(|(_, clause)| clause)
        .collect::<Vec<_>>()
        .join("; or ")
}

/// A rule's value as written in the schema, in backticks: `"admin"`, `3`, `true`, `staff`.
fn literal(value: &DefaultValue) -> String {
    let text = match value {
        DefaultValue::String(s) => serde_json::Value::String(s.clone()).to_string(),
        DefaultValue::Number(n) => n.clone(),
        DefaultValue::Bool(b) => b.to_string(),
        DefaultValue::EnumValue(v) => v.clone(),
        DefaultValue::Json(json) => json.to_string(),
        DefaultValue::Now => "now()".into(),
        DefaultValue::GeneratedUuid => "uuid()".into(),
        DefaultValue::RandomSecret => "random_secret()".into(),
    };
    format!("`{text}`")
}

pub(crate) fn callers<'m>(schema: &Schema, model: &'m Model, operation: Operation) -> Callers<'m> {
    rule_callers(schema, model, &model.access, operation)
}

/// What the rules of a single field say besides the model's: who reads it (elsewhere it
/// reads as null), who sets it on create and on update; `None` for a field without rules.
pub(crate) fn field_access(schema: &Schema, model: &Model, field: &Field) -> Option<String> {
    if field.internal {
        return Some("Service key only: other callers read it as null and may not set it.".into());
    }
    let clauses: Vec<String> = Operation::OF_FIELDS
        .into_iter()
        .filter(|op| field.access.iter().any(|r| r.operations.contains(op)))
        .map(|op| {
            let who = rule_callers(schema, model, &field.access, op).describe();
            match op {
                Operation::Read => format!("read by {who} (null elsewhere)"),
                Operation::Create => format!("set on create by {who}"),
                _ => format!("changed by {who}"),
            }
        })
        .collect();
    (!clauses.is_empty()).then(|| format!("Within the model's access: {}.", clauses.join("; ")))
}

fn rule_callers<'m>(
    schema: &Schema,
    model: &'m Model,
    rules: &'m [AccessRule],
    operation: Operation,
) -> Callers<'m> {
    let mut grants: Vec<Grant> = Vec::new();
    let mut signed_in = false;
    for rule in rules.iter().filter(|r| r.operations.contains(&operation)) {
        let equal = |op: &RuleOp| *op == RuleOp::Equal;
        let grant = match &rule.condition {
            Condition::Public => return Callers::Anyone,
            Condition::Authenticated => {
                signed_in = true;
                continue;
            }
            Condition::Compare {
                left: Operand::Field { name },
                op,
                right: Operand::Auth,
            } if equal(op) => Grant::Owner(name),
            Condition::Compare {
                left: Operand::AccountField { name },
                op,
                right: Operand::Value { value },
            } if equal(op) => Grant::AccountIs {
                account_field: name,
                value,
            },
            Condition::Compare {
                left: Operand::Field { name },
                op,
                right:
                    Operand::AccountField {
                        name: account_field,
                    },
            } if equal(op) => Grant::SameAsAccount {
                field: name,
                account_field,
            },
            other => Grant::Condition {
                written: tessera_schema::print_condition(schema, model, other),
                every_row: !reads_rows(other),
            },
        };
        if !grants.contains(&grant) {
            grants.push(grant);
        }
    }
    if signed_in {
        Callers::SignedIn
    } else if grants.is_empty() {
        Callers::ServiceKeyOnly
    } else {
        Callers::Grants(grants)
    }
}
