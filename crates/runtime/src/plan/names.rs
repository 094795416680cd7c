//! Names resolved against the schema: models by name or table, fields that may be
//! filtered, and the links that attach embedded rows to their parents.

use tessera_schema::ir::{Field, Model, RelationKind};
use tessera_schema::Schema;

use crate::error::{Code, ErrorKind, RuntimeError};
use crate::request::Embed;

/// How child rows attach to parent rows.
#[derive(Debug, Clone)]
pub(crate) struct Link<'s> {
    /// The model of the attached rows.
    pub(crate) target: &'s Model,
    /// The column of the parent whose value identifies the children.
    pub(crate) parent_key: &'s Field,
    /// The column of the child (or of the join model) holding that value.
    pub(crate) child_key: &'s Field,
    pub(crate) through: Option<Through<'s>>,
    /// Child columns that must hold these values (polymorphic type and role).
    pub(crate) extra: Vec<(&'s Field, String)>,
    /// To-many: a list of children per parent; to-one: at most one.
    pub(crate) many: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Through<'s> {
    pub(crate) model: &'s Model,
    /// The join model's column pointing at the target.
    pub(crate) to: &'s Field,
    /// The target's column referenced by `to`.
    pub(crate) target_field: &'s Field,
}

pub(crate) fn find_model<'s>(schema: &'s Schema, name: &str) -> Result<&'s Model, RuntimeError> {
    schema
        .model(name)
        .or_else(|| schema.models.iter().find(|m| m.table == name))
        .ok_or_else(|| RuntimeError::unknown_model(name))
}

/// A stored field by name (or column name) that may be filtered or ordered.
pub(crate) fn filterable_field<'s>(
    model: &'s Model,
    name: &str,
) -> Result<&'s Field, RuntimeError> {
    let field = model
        .field(name)
        .or_else(|| model.field_by_column(name))
        .ok_or_else(|| RuntimeError::unknown_column(&model.name, name))?;
    if field.secret || field.hash.is_some() {
        return Err(RuntimeError::bad_request(
            Code::PermissionDenied,
            format!(
                "field {}.{} is secret: it cannot be read, filtered or ordered",
                model.name, field.name
            ),
        ));
    }
    if !field.is_stored() {
        return Err(RuntimeError::bad_request(
            Code::UnknownColumn,
            format!(
                "field {}.{} is virtual: it cannot be filtered or ordered",
                model.name, field.name
            ),
        ));
    }
    Ok(field)
}

/// Checks every name of a read request against the schema.
pub(crate) fn field_of<'s>(model: &'s Model, name: &str) -> Result<&'s Field, RuntimeError> {
    model.field(name).ok_or_else(|| {
        RuntimeError::internal(format!(
            "schema inconsistency: {}.{name} is missing",
            model.name
        ))
    })
}

pub(crate) fn model_of<'s>(schema: &'s Schema, name: &str) -> Result<&'s Model, RuntimeError> {
    schema.model(name).ok_or_else(|| {
        RuntimeError::internal(format!("schema inconsistency: model {name} is missing"))
    })
}

/// A way to embed `target` into `model`, with the names a hint may use for it.
struct Candidate<'s> {
    description: String,
    hints: Vec<String>,
    link: Link<'s>,
}

/// The link of a relation declared in `model`.
pub(crate) fn relation_link<'s>(
    schema: &'s Schema,
    model: &'s Model,
    kind: &'s RelationKind,
) -> Result<Option<(Link<'s>, Vec<String>)>, RuntimeError> {
    Ok(Some(match kind {
        RelationKind::ToOne {
            target,
            field,
            references,
            ..
        } => {
            let t = model_of(schema, target)?;
            let fk = field_of(model, field)?;
            (
                Link {
                    target: t,
                    parent_key: fk,
                    child_key: field_of(t, references)?,
                    through: None,
                    extra: Vec::new(),
                    many: false,
                },
                vec![fk.name.clone(), fk.column.clone()],
            )
        }
        RelationKind::ToMany { target, via, role } => {
            let t = model_of(schema, target)?;
            let Some(via_rel) = t.relation(via) else {
                return Ok(None);
            };
            match inverse_link(model, t, &via_rel.kind, role.as_deref())? {
                Some(link) => (link.0, link.1),
                None => return Ok(None),
            }
        }
        RelationKind::ManyToMany {
            target,
            join_model,
            from,
            to,
        } => {
            let t = model_of(schema, target)?;
            let Some(link) = many_to_many_link(schema, model, t, join_model, from, to)? else {
                return Ok(None);
            };
            let j = model_of(schema, join_model)?;
            (link, vec![j.name.clone(), j.table.clone()])
        }
        RelationKind::Polymorphic { .. } => return Ok(None),
    }))
}

/// The link from `model` to rows of `target` whose relation `via_kind` points at `model`.
fn inverse_link<'s>(
    model: &'s Model,
    target: &'s Model,
    via_kind: &'s RelationKind,
    role: Option<&str>,
) -> Result<Option<(Link<'s>, Vec<String>)>, RuntimeError> {
    Ok(match via_kind {
        RelationKind::ToOne {
            target: t,
            field,
            references,
            unique,
            ..
        } if *t == model.name => {
            let fk = field_of(target, field)?;
            let one =
                *unique || (target.primary_key.len() == 1 && target.primary_key[0] == fk.name);
            Some((
                Link {
                    target,
                    parent_key: field_of(model, references)?,
                    child_key: fk,
                    through: None,
                    extra: Vec::new(),
                    many: !one,
                },
                vec![fk.name.clone(), fk.column.clone()],
            ))
        }
        RelationKind::Polymorphic {
            targets,
            type_field,
            id_field,
            role_field,
        } if targets.contains(&model.name) => {
            let [pk] = model.primary_key.as_slice() else {
                return Ok(None);
            };
            let mut extra = vec![(field_of(target, type_field)?, model.name.clone())];
            if let (Some(role), Some(rf)) = (role, role_field) {
                extra.push((field_of(target, rf)?, role.to_owned()));
            }
            Some((
                Link {
                    target,
                    parent_key: field_of(model, pk)?,
                    child_key: field_of(target, id_field)?,
                    through: None,
                    extra,
                    many: true,
                },
                vec![id_field.clone()],
            ))
        }
        _ => None,
    })
}

pub(crate) fn resolve_link<'s>(
    schema: &'s Schema,
    model: &'s Model,
    embed: &Embed,
) -> Result<Link<'s>, RuntimeError> {
    if let Some(rel) = model.relation(&embed.relation) {
        if let Some((link, _)) = relation_link(schema, model, &rel.kind)? {
            return Ok(link);
        }
        return Err(RuntimeError::bad_request(
            Code::UnknownRelationship,
            format!("relation {}.{} cannot be embedded", model.name, rel.name),
        ));
    }
    let target = schema
        .model(&embed.relation)
        .or_else(|| schema.models.iter().find(|m| m.table == embed.relation))
        .ok_or_else(|| no_relationship(model, &embed.relation))?;
    let mut candidates: Vec<Candidate> = Vec::new();
    for rel in &model.relations {
        let rel_target = match &rel.kind {
            RelationKind::ToOne { target, .. }
            | RelationKind::ToMany { target, .. }
            | RelationKind::ManyToMany { target, .. } => target,
            RelationKind::Polymorphic { .. } => continue,
        };
        if *rel_target != target.name {
            continue;
        }
        if let Some((link, mut hints)) = relation_link(schema, model, &rel.kind)? {
            hints.push(rel.name.clone());
            if let RelationKind::ToMany { via, .. } = &rel.kind {
                hints.push(via.clone());
            }
            candidates.push(Candidate {
                description: format!("{}.{}", model.name, rel.name),
                hints,
                link,
            });
        }
    }
    // Inverses of the target's relations that `model` does not declare.
    for rel in &target.relations {
        let declared = model.relations.iter().any(|r| match (&r.kind, &rel.kind) {
            (RelationKind::ToMany { target: t, via, .. }, _) => {
                *t == target.name && *via == rel.name
            }
            // Both sides of one join model declared: `model`'s side is that relationship.
            (
                RelationKind::ManyToMany {
                    target: t,
                    join_model,
                    from,
                    to,
                },
                RelationKind::ManyToMany {
                    join_model: other_join,
                    from: other_from,
                    to: other_to,
                    ..
                },
            ) => {
                *t == target.name
                    && join_model == other_join
                    && from == other_to
                    && to == other_from
            }
            _ => false,
        });
        if declared {
            continue;
        }
        if let RelationKind::ManyToMany {
            target: t,
            join_model,
            from,
            to,
        } = &rel.kind
        {
            if *t == model.name {
                // `target.rel` is a many-to-many relation to `model`: the same join model
                // read the other way round.
                if let Some(link) = many_to_many_link(schema, model, target, join_model, to, from)?
                {
                    candidates.push(Candidate {
                        description: format!("{}.{} (inverse)", target.name, rel.name),
                        hints: vec![join_model.clone(), rel.name.clone()],
                        link,
                    });
                }
                continue;
            }
        }
        if let Some((link, mut hints)) = inverse_link(model, target, &rel.kind, None)? {
            hints.push(rel.name.clone());
            candidates.push(Candidate {
                description: format!("{}.{} (inverse)", target.name, rel.name),
                hints,
                link,
            });
        }
    }
    if let Some(hint) = &embed.hint {
        candidates.retain(|c| c.hints.iter().any(|h| h == hint));
        if candidates.is_empty() {
            return Err(
                no_relationship(model, &embed.relation).with_details(format!(
                    "no relationship between '{}' and '{}' matches the hint '{hint}'",
                    model.name, target.name
                )),
            );
        }
    }
    match candidates.len() {
        0 => Err(no_relationship(model, &embed.relation)),
        1 => Ok(candidates.remove(0).link),
        _ => Err(RuntimeError::bad_request(
            Code::AmbiguousRelationship,
            format!(
                "Could not embed because more than one relationship was found for '{}' and '{}'",
                model.name, embed.relation
            ),
        )
        .with_details(
            candidates
                .iter()
                .map(|c| format!("{} (hints: {})", c.description, c.hints.join(", ")))
                .collect::<Vec<_>>()
                .join("; "),
        )
        .with_hint(format!(
            "Embed by relation name, or add a hint such as '{}!{}'",
            embed.relation,
            candidates[0].hints.last().cloned().unwrap_or_default()
        ))),
    }
}

/// The many-to-many link from `model` to `target` through `join_model`, whose to-one
/// relation `near` points at `model` and `far` at `target`.
fn many_to_many_link<'s>(
    schema: &'s Schema,
    model: &'s Model,
    target: &'s Model,
    join_model: &str,
    near: &str,
    far: &str,
) -> Result<Option<Link<'s>>, RuntimeError> {
    let j = model_of(schema, join_model)?;
    let (Some(near_rel), Some(far_rel)) = (j.relation(near), j.relation(far)) else {
        return Ok(None);
    };
    let (
        RelationKind::ToOne {
            field: jf,
            references: mref,
            ..
        },
        RelationKind::ToOne {
            field: jt,
            references: tref,
            ..
        },
    ) = (&near_rel.kind, &far_rel.kind)
    else {
        return Ok(None);
    };
    Ok(Some(Link {
        target,
        parent_key: field_of(model, mref)?,
        child_key: field_of(j, jf)?,
        through: Some(Through {
            model: j,
            to: field_of(j, jt)?,
            target_field: field_of(target, tref)?,
        }),
        extra: Vec::new(),
        many: true,
    }))
}

fn no_relationship(model: &Model, name: &str) -> RuntimeError {
    RuntimeError::new(
        ErrorKind::NotFound,
        Code::UnknownRelationship,
        format!(
            "Could not find a relationship between '{}' and '{name}' in the schema",
            model.name
        ),
    )
}
