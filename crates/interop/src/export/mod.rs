//! Generators reading a checked schema.

pub mod docs;
pub mod json_schema;
pub mod mermaid;
pub mod openapi;
pub mod sql;
pub mod svg;

use tessera_schema::ir::{AccessCondition, Field, Model, Operation, RelationKind, Schema};

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
pub(crate) fn models(schema: &Schema) -> impl Iterator<Item = &Model> {
    schema.models.iter()
}

/// Who besides the service key (which no rule restricts) may run an operation on a model's
/// rows, as its `@@allow` rules add up: the widest condition among the rules naming the
/// operation wins, row conditions combine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Callers<'m> {
    /// Anyone, anonymous callers included (`public`).
    Anyone,
    /// Any signed-in user (`authenticated`).
    SignedIn,
    /// Signed-in users, on the rows where one of these fields holds their id.
    Owners(Vec<&'m str>),
    /// No rule covers the operation.
    ServiceKeyOnly,
}

impl Callers<'_> {
    /// `anyone (public)`, `signed-in users`, `signed-in users, on rows where `a` or `b`
    /// is theirs`, `service key only`.
    pub(crate) fn describe(&self) -> String {
        match self {
            Callers::Anyone => "anyone (public)".into(),
            Callers::SignedIn => "signed-in users".into(),
            Callers::Owners(fields) => format!(
                "signed-in users, on rows where {} is theirs",
                fields
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            Callers::ServiceKeyOnly => "service key only".into(),
        }
    }
}

pub(crate) fn callers(model: &Model, operation: Operation) -> Callers<'_> {
    let mut owners: Vec<&str> = Vec::new();
    let mut signed_in = false;
    for rule in model
        .access
        .iter()
        .filter(|r| r.operations.contains(&operation))
    {
        match &rule.condition {
            AccessCondition::Public => return Callers::Anyone,
            AccessCondition::Authenticated => signed_in = true,
            AccessCondition::Owner { field } => {
                if !owners.contains(&field.as_str()) {
                    owners.push(field);
                }
            }
        }
    }
    if signed_in {
        Callers::SignedIn
    } else if owners.is_empty() {
        Callers::ServiceKeyOnly
    } else {
        Callers::Owners(owners)
    }
}
