//! Generators reading a checked schema.

pub mod docs;
pub mod json_schema;
pub mod mermaid;
pub mod openapi;
pub mod sql;
pub mod svg;

use tessera_schema::ir::{Field, Model, RelationKind, Schema};

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
