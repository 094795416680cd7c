//! Reads: a request is resolved against the schema into a [`Plan`], each plan level runs
//! as one SQL query, and rows become JSON.
//!
//! Embedded resources are fetched level by level: the parent rows first, then one query
//! per embedded relation over all parents of that level (`WHERE key IN (...)`), grouped
//! in memory. A request therefore runs one query per embed node, whatever the number of
//! rows, and every query is plain SQL that both engines answer alike. `!inner` embeds add
//! an `EXISTS (...)` condition to their parent's query.

use std::collections::HashMap;

use sea_query::{
    Alias, CaseStatement, Cond as SqCond, Expr, Func, IntoCondition, NullOrdering, Order, Query,
    SelectStatement, SimpleExpr,
};
use serde_json::{Map, Value as Json};
use tessera_schema::ir::{
    Computed, ComputedPart, Field, FieldType, Model, Operation, RelationKind, ScalarType,
};
use tessera_schema::Schema;

use crate::access::{self, Grant};
use crate::db::Tx;
use crate::engine::{DialectKind, Engine};
use crate::error::{ErrorKind, RuntimeError};
use crate::request::*;
use crate::value::{bind_scalar, coerce, custom, from_text};

/// Largest number of keys bound in one `IN (...)` list.
const IN_CHUNK: usize = 5000;

pub(crate) struct Plan<'s> {
    pub(crate) model: &'s Model,
    /// The stored fields read, in order.
    pub(crate) fetch: Vec<&'s Field>,
    output: Vec<Out<'s>>,
    filter: Vec<Cond<'s>>,
    order: Vec<OrderBy<'s>>,
    limit: Option<u64>,
    offset: Option<u64>,
    embeds: Vec<EmbedPlan<'s>>,
    deleted: Deleted,
    /// Restricts to rows whose primary key is one of these (writes' representations).
    pub(crate) keys: Option<Vec<Vec<Json>>>,
}

enum Out<'s> {
    Field(String, usize),
    Virtual(String, &'s Field),
    Embed(String, usize),
    /// A polymorphic to-one embed: one embed per target model; the row's type column
    /// says which one holds the owner.
    Polymorphic(String, Vec<usize>),
}

pub(crate) enum Cond<'s> {
    Filter(&'s Field, Operator, FilterValue),
    And(Vec<Cond<'s>>),
    Or(Vec<Cond<'s>>),
    Not(Box<Cond<'s>>),
}

struct OrderBy<'s> {
    field: &'s Field,
    descending: bool,
    nulls_first: bool,
}

struct EmbedPlan<'s> {
    link: Link<'s>,
    inner: bool,
    plan: Plan<'s>,
    /// Polymorphic to-one embeds: only parent rows whose type column holds this model
    /// name have a child here; `group` numbers the embeds of one polymorphic relation.
    parent_type: Option<PolyTarget<'s>>,
}

struct PolyTarget<'s> {
    type_field: &'s Field,
    model: String,
    group: usize,
}

/// How child rows attach to parent rows.
#[derive(Clone)]
struct Link<'s> {
    /// The column of the parent whose value identifies the children.
    parent_key: &'s Field,
    /// The column of the child (or of the join model) holding that value.
    child_key: &'s Field,
    through: Option<Through<'s>>,
    /// Child columns that must hold these values (polymorphic type and role).
    extra: Vec<(&'s Field, String)>,
    many: bool,
}

#[derive(Clone)]
struct Through<'s> {
    model: &'s Model,
    /// The join model's column pointing at the target.
    to: &'s Field,
    /// The target's column referenced by `to`.
    target_field: &'s Field,
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
            "42501",
            format!(
                "field {}.{} is secret: it cannot be read, filtered or ordered",
                model.name, field.name
            ),
        ));
    }
    if !field.is_stored() {
        return Err(RuntimeError::bad_request(
            "42703",
            format!(
                "field {}.{} is virtual: it cannot be filtered or ordered",
                model.name, field.name
            ),
        ));
    }
    Ok(field)
}

/// Checks every name of a read request against the schema.
pub(crate) fn validate_read(schema: &Schema, req: &ReadRequest) -> Result<(), RuntimeError> {
    build(schema, req).map(|_| ())
}

pub(crate) fn build<'s>(schema: &'s Schema, req: &ReadRequest) -> Result<Plan<'s>, RuntimeError> {
    let model = find_model(schema, &req.model)?;
    let mut plan = plan_level(
        schema,
        model,
        &req.select,
        &req.filter,
        &req.order,
        req.limit,
        req.offset,
    )?;
    plan.deleted = req.deleted;
    if req.deleted != Deleted::Exclude && model.behaviours.soft_delete.is_none() {
        plan.deleted = Deleted::Include;
        if req.deleted == Deleted::Only {
            return Err(RuntimeError::bad_request(
                "PGRST100",
                format!(
                    "model {} has no soft delete: _deleted=only does not apply",
                    model.name
                ),
            ));
        }
    }
    Ok(plan)
}

fn plan_level<'s>(
    schema: &'s Schema,
    model: &'s Model,
    select: &[SelectItem],
    filter: &[Condition],
    order: &[OrderTerm],
    limit: Option<u64>,
    offset: Option<u64>,
) -> Result<Plan<'s>, RuntimeError> {
    let fetch: Vec<&Field> = model
        .stored_fields()
        .filter(|f| !(f.secret || f.hash.is_some()))
        .collect();
    let mut plan = Plan {
        model,
        fetch,
        output: Vec::new(),
        filter: Vec::new(),
        order: Vec::new(),
        limit,
        offset,
        embeds: Vec::new(),
        deleted: Deleted::Exclude,
        keys: None,
    };
    let star = [SelectItem::Star];
    let select = if select.is_empty() { &star[..] } else { select };
    for item in select {
        match item {
            SelectItem::Star => {
                for field in &model.fields {
                    if field.secret || field.hash.is_some() {
                        continue;
                    }
                    plan.push_field(field.name.clone(), field);
                }
            }
            SelectItem::Field { name, alias } => {
                let field = model
                    .field(name)
                    .or_else(|| model.field_by_column(name))
                    .ok_or_else(|| RuntimeError::unknown_column(&model.name, name))?;
                if field.secret || field.hash.is_some() {
                    return Err(RuntimeError::bad_request(
                        "42501",
                        format!(
                            "field {}.{} is secret and cannot be selected",
                            model.name, field.name
                        ),
                    ));
                }
                plan.push_field(alias.clone().unwrap_or_else(|| name.clone()), field);
            }
            SelectItem::Embed(embed) => {
                if let Some(RelationKind::Polymorphic {
                    targets,
                    type_field,
                    id_field,
                    ..
                }) = model.relation(&embed.relation).map(|r| &r.kind)
                {
                    let type_field = field_of(model, type_field)?;
                    let id_field = field_of(model, id_field)?;
                    for f in [type_field, id_field] {
                        if !plan.fetch.iter().any(|g| g.name == f.name) {
                            plan.fetch.push(f);
                        }
                    }
                    let group = plan.output.len();
                    let mut indexes = Vec::new();
                    let target_models = targets
                        .iter()
                        .map(|t| model_of(schema, t))
                        .collect::<Result<Vec<_>, _>>()?;
                    // Each target reads the items of the select it has (`owner(id,email)`
                    // reads `email` of users only); an item no target has is an error.
                    let mut selects: Vec<Vec<SelectItem>> = vec![Vec::new(); targets.len()];
                    for item in &embed.select {
                        let mut first_error = None;
                        let mut used = false;
                        for (i, t) in target_models.iter().enumerate() {
                            let one = std::slice::from_ref(item);
                            match plan_level(schema, t, one, &[], &[], None, None) {
                                Ok(_) => {
                                    selects[i].push(item.clone());
                                    used = true;
                                }
                                Err(e) => {
                                    first_error.get_or_insert(e);
                                }
                            }
                        }
                        if let (false, Some(e)) = (used, first_error) {
                            return Err(e);
                        }
                    }
                    for (t, mut select) in target_models.into_iter().zip(selects) {
                        if select.is_empty() && !embed.select.is_empty() {
                            // None of the items: the owner's key still shows it exists.
                            select = t
                                .primary_key
                                .iter()
                                .map(|name| SelectItem::Field {
                                    name: name.clone(),
                                    alias: None,
                                })
                                .collect();
                        }
                        let [pk] = t.primary_key.as_slice() else {
                            return Err(RuntimeError::bad_request(
                                "PGRST200",
                                format!(
                                    "relation {}.{} cannot be embedded: {} has a composite key",
                                    model.name, embed.relation, t.name
                                ),
                            ));
                        };
                        let child = plan_level(
                            schema,
                            t,
                            &select,
                            &embed.filter,
                            &embed.order,
                            embed.limit,
                            embed.offset,
                        )?;
                        indexes.push(plan.embeds.len());
                        plan.embeds.push(EmbedPlan {
                            link: Link {
                                parent_key: id_field,
                                child_key: field_of(t, pk)?,
                                through: None,
                                extra: Vec::new(),
                                many: false,
                            },
                            inner: embed.inner,
                            plan: child,
                            parent_type: Some(PolyTarget {
                                type_field,
                                model: t.name.clone(),
                                group,
                            }),
                        });
                    }
                    plan.output
                        .push(Out::Polymorphic(embed.key().to_owned(), indexes));
                    continue;
                }
                let link = resolve_link(schema, model, embed)?;
                let target = link_target(schema, &link)?;
                let child = plan_level(
                    schema,
                    target,
                    &embed.select,
                    &embed.filter,
                    &embed.order,
                    embed.limit,
                    embed.offset,
                )?;
                if !plan.fetch.iter().any(|f| f.name == link.parent_key.name) {
                    plan.fetch.push(link.parent_key);
                }
                plan.output
                    .push(Out::Embed(embed.key().to_owned(), plan.embeds.len()));
                plan.embeds.push(EmbedPlan {
                    link,
                    inner: embed.inner,
                    plan: child,
                    parent_type: None,
                });
            }
        }
    }
    for cond in filter {
        plan.filter.push(resolve_cond(model, cond)?);
    }
    for term in order {
        let field = filterable_field(model, &term.field)?;
        plan.order.push(OrderBy {
            field,
            descending: term.descending,
            nulls_first: term.nulls_first.unwrap_or(term.descending),
        });
    }
    Ok(plan)
}

impl<'s> Plan<'s> {
    fn push_field(&mut self, key: String, field: &'s Field) {
        if !field.is_stored() {
            self.output.push(Out::Virtual(key, field));
            return;
        }
        let idx = match self.fetch.iter().position(|f| f.name == field.name) {
            Some(i) => i,
            None => {
                self.fetch.push(field);
                self.fetch.len() - 1
            }
        };
        self.output.push(Out::Field(key, idx));
    }
}

pub(crate) fn resolve_cond<'s>(
    model: &'s Model,
    cond: &Condition,
) -> Result<Cond<'s>, RuntimeError> {
    Ok(match cond {
        Condition::Filter(f) => {
            let field = filterable_field(model, &f.field)?;
            Cond::Filter(field, f.op, f.value.clone())
        }
        Condition::And(list) => Cond::And(
            list.iter()
                .map(|c| resolve_cond(model, c))
                .collect::<Result<_, _>>()?,
        ),
        Condition::Or(list) => Cond::Or(
            list.iter()
                .map(|c| resolve_cond(model, c))
                .collect::<Result<_, _>>()?,
        ),
        Condition::Not(c) => Cond::Not(Box::new(resolve_cond(model, c)?)),
    })
}

fn field_of<'s>(model: &'s Model, name: &str) -> Result<&'s Field, RuntimeError> {
    model.field(name).ok_or_else(|| {
        RuntimeError::internal(format!(
            "schema inconsistency: {}.{name} is missing",
            model.name
        ))
    })
}

fn model_of<'s>(schema: &'s Schema, name: &str) -> Result<&'s Model, RuntimeError> {
    schema.model(name).ok_or_else(|| {
        RuntimeError::internal(format!("schema inconsistency: model {name} is missing"))
    })
}

fn link_target<'s>(schema: &'s Schema, link: &Link<'s>) -> Result<&'s Model, RuntimeError> {
    // The target is the model owning child_key, or the through target.
    if let Some(t) = &link.through {
        return schema
            .models
            .iter()
            .find(|m| m.fields.iter().any(|f| std::ptr::eq(f, t.target_field)))
            .ok_or_else(|| RuntimeError::internal("schema inconsistency: join target"));
    }
    schema
        .models
        .iter()
        .find(|m| m.fields.iter().any(|f| std::ptr::eq(f, link.child_key)))
        .ok_or_else(|| RuntimeError::internal("schema inconsistency: link target"))
}

/// A way to embed `target` into `model`, with the names a hint may use for it.
struct Candidate<'s> {
    description: String,
    hints: Vec<String>,
    link: Link<'s>,
}

/// The link of a relation declared in `model`.
fn relation_link<'s>(
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
            match inverse_link(schema, model, t, &via_rel.kind, role.as_deref())? {
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
    schema: &'s Schema,
    model: &'s Model,
    target: &'s Model,
    via_kind: &'s RelationKind,
    role: Option<&str>,
) -> Result<Option<(Link<'s>, Vec<String>)>, RuntimeError> {
    let _ = schema;
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

fn resolve_link<'s>(
    schema: &'s Schema,
    model: &'s Model,
    embed: &Embed,
) -> Result<Link<'s>, RuntimeError> {
    if let Some(rel) = model.relation(&embed.relation) {
        if let Some((link, _)) = relation_link(schema, model, &rel.kind)? {
            return Ok(link);
        }
        return Err(RuntimeError::bad_request(
            "PGRST200",
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
        let declared = model.relations.iter().any(|r| {
            matches!(&r.kind, RelationKind::ToMany { target: t, via, .. } if *t == target.name && *via == rel.name)
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
        if let Some((link, mut hints)) = inverse_link(schema, model, target, &rel.kind, None)? {
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
            "PGRST201",
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
        "PGRST200",
        format!(
            "Could not find a relationship between '{}' and '{name}' in the schema",
            model.name
        ),
    )
}

// ---------------------------------------------------------------------------
// SQL
// ---------------------------------------------------------------------------

pub(crate) struct SqlBuilder<'s> {
    pub(crate) schema: &'s Schema,
    pub(crate) dialect: DialectKind,
    next_alias: std::sync::atomic::AtomicUsize,
}

pub(crate) fn col(alias: &str, field: &Field) -> SimpleExpr {
    Expr::col((Alias::new(alias), Alias::new(&field.column))).into()
}

impl<'s> SqlBuilder<'s> {
    pub(crate) fn new(schema: &'s Schema, dialect: DialectKind) -> Self {
        SqlBuilder {
            schema,
            dialect,
            next_alias: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    pub(crate) fn alias(&self) -> String {
        let n = self
            .next_alias
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("t{n}")
    }

    fn pg(&self) -> bool {
        self.dialect == DialectKind::Postgres
    }

    fn select_expr(&self, alias: &str, field: &Field) -> SimpleExpr {
        if self.pg() && field.ty.array {
            custom(self.dialect, "to_jsonb(?)", vec![col(alias, field)])
        } else {
            col(alias, field)
        }
    }

    /// The soft-delete condition of `model` under `alias`.
    pub(crate) fn live(&self, alias: &str, model: &Model, deleted: Deleted) -> Option<SimpleExpr> {
        let field = model.field(model.behaviours.soft_delete.as_deref()?)?;
        match deleted {
            Deleted::Exclude => Some(Expr::expr(col(alias, field)).is_null()),
            Deleted::Include => None,
            Deleted::Only => Some(Expr::expr(col(alias, field)).is_not_null()),
        }
    }

    /// `alias.field` for comparisons: enums as text, text in byte order on PostgreSQL.
    fn cmp_expr(&self, alias: &str, field: &Field, ordering: bool) -> SimpleExpr {
        let c = col(alias, field);
        if !self.pg() {
            return c;
        }
        match &field.ty.scalar {
            ScalarType::Enum(_) if !ordering => Func::cast_as(c, Alias::new("text")).into(),
            ScalarType::Text | ScalarType::Varchar(_) if ordering => {
                custom(self.dialect, "? COLLATE \"C\"", vec![c])
            }
            _ => c,
        }
    }

    pub(crate) fn value(
        &self,
        field: &Field,
        text: &str,
    ) -> Result<sea_query::Value, RuntimeError> {
        let json = from_text(&field.ty.scalar, text);
        let scalar_field = Field {
            ty: FieldType {
                scalar: field.ty.scalar.clone(),
                array: false,
            },
            ..field.clone()
        };
        let canonical = coerce(self.schema, &scalar_field, &json).map_err(|(_, message)| {
            RuntimeError::bad_request(
                "22P02",
                format!("invalid value for {}: {message}", field.name),
            )
        })?;
        Ok(bind_scalar(&field.ty.scalar, &canonical, self.dialect))
    }

    pub(crate) fn cond(&self, alias: &str, cond: &Cond) -> Result<SimpleExpr, RuntimeError> {
        Ok(match cond {
            Cond::Filter(field, op, value) => self.filter(alias, field, *op, value)?,
            Cond::And(list) => {
                let mut all = SqCond::all();
                for c in list {
                    all = all.add(self.cond(alias, c)?);
                }
                Expr::expr(all_to_expr(all)).into()
            }
            // No alternative holds: an empty disjunction is false (an access grant of no
            // rows relies on it).
            Cond::Or(list) if list.is_empty() => Expr::cust("1 = 0"),
            Cond::Or(list) => {
                let mut any = SqCond::any();
                for c in list {
                    any = any.add(self.cond(alias, c)?);
                }
                Expr::expr(all_to_expr(any)).into()
            }
            Cond::Not(c) => self.cond(alias, c)?.not(),
        })
    }

    fn filter(
        &self,
        alias: &str,
        field: &Field,
        op: Operator,
        value: &FilterValue,
    ) -> Result<SimpleExpr, RuntimeError> {
        let text = |v: &FilterValue| match v {
            FilterValue::Text(t) => Ok(t.clone()),
            _ => Err(RuntimeError::parse(
                &field.name,
                format!("operator {} expects a value", op.name()),
            )),
        };
        if op == Operator::Is {
            let c = col(alias, field);
            return Ok(match value {
                FilterValue::Null => Expr::expr(c).is_null(),
                FilterValue::True => custom(self.dialect, "? IS TRUE", vec![c]),
                FilterValue::False => custom(self.dialect, "? IS FALSE", vec![c]),
                _ => {
                    return Err(RuntimeError::parse(
                        &field.name,
                        "is expects null, true or false",
                    ))
                }
            });
        }
        let structured = field.ty.array || field.ty.scalar.is_json();
        if matches!(op, Operator::Cs | Operator::Cd) {
            if !structured {
                return Err(RuntimeError::bad_request(
                    "42883",
                    format!(
                        "operator {} applies to array and json fields; {} is {}",
                        op.name(),
                        field.name,
                        field.ty
                    ),
                ));
            }
            let doc = self.structured_operand(field, &text(value)?)?;
            return Ok(self.contains(alias, field, op == Operator::Cs, &doc));
        }
        if structured {
            return Err(RuntimeError::bad_request(
                "42883",
                format!(
                    "operator {} does not apply to {} ({}); use cs, cd or is",
                    op.name(),
                    field.name,
                    field.ty
                ),
            ));
        }
        Ok(match op {
            Operator::Eq
            | Operator::Neq
            | Operator::Gt
            | Operator::Gte
            | Operator::Lt
            | Operator::Lte => {
                let ordering = !matches!(op, Operator::Eq | Operator::Neq);
                let v = self.value(field, &text(value)?)?;
                // Enums compare in declaration order (as PostgreSQL's own enum types do).
                let ordinals = match (ordering, self.enum_ordinal(alias, field)) {
                    (true, Some(lhs)) => self
                        .enum_value_ordinal(field, &v)
                        .map(|rhs| (lhs, Expr::value(rhs))),
                    _ => None,
                };
                let (lhs, rhs): (Expr, SimpleExpr) = match ordinals {
                    Some((lhs, rhs)) => (Expr::expr(lhs), rhs),
                    None if ordering && self.pg() && field.ty.scalar.is_textual() => (
                        Expr::expr(self.cmp_expr(alias, field, ordering)),
                        custom(self.dialect, "? COLLATE \"C\"", vec![Expr::val(v).into()]),
                    ),
                    None => (
                        Expr::expr(self.cmp_expr(alias, field, ordering)),
                        Expr::val(v).into(),
                    ),
                };
                match op {
                    Operator::Eq => lhs.eq(rhs),
                    Operator::Neq => lhs.ne(rhs),
                    Operator::Gt => lhs.gt(rhs),
                    Operator::Gte => lhs.gte(rhs),
                    Operator::Lt => lhs.lt(rhs),
                    _ => lhs.lte(rhs),
                }
            }
            Operator::In => {
                let FilterValue::List(items) = value else {
                    return Err(RuntimeError::parse(
                        &field.name,
                        "in expects a list: in.(a,b)",
                    ));
                };
                let values = items
                    .iter()
                    .map(|t| self.value(field, t))
                    .collect::<Result<Vec<_>, _>>()?;
                Expr::expr(self.cmp_expr(alias, field, false)).is_in(values)
            }
            Operator::Like | Operator::Ilike => {
                let pattern = text(value)?;
                let c = col(alias, field);
                let as_text: SimpleExpr = if self.pg() && !field.ty.scalar.is_textual() {
                    Func::cast_as(c, Alias::new("text")).into()
                } else {
                    c
                };
                match (self.dialect, op) {
                    (DialectKind::Postgres, Operator::Like) => custom(
                        self.dialect,
                        "? LIKE ?",
                        vec![as_text, Expr::val(like_pattern(&pattern)).into()],
                    ),
                    (DialectKind::Postgres, _) => custom(
                        self.dialect,
                        "? ILIKE ?",
                        vec![as_text, Expr::val(like_pattern(&pattern)).into()],
                    ),
                    (DialectKind::Sqlite, Operator::Like) => custom(
                        self.dialect,
                        "? GLOB ?",
                        vec![as_text, Expr::val(glob_pattern(&pattern)).into()],
                    ),
                    (DialectKind::Sqlite, _) => custom(
                        self.dialect,
                        "lower(?) LIKE lower(?) ESCAPE '\\'",
                        vec![as_text, Expr::val(like_pattern(&pattern)).into()],
                    ),
                }
            }
            Operator::Is | Operator::Cs | Operator::Cd => unreachable_op(op)?,
        })
    }

    /// The JSON operand of cs/cd: JSON text, or a PostgreSQL array literal `{a,b}`.
    fn structured_operand(&self, field: &Field, text: &str) -> Result<Json, RuntimeError> {
        let invalid = |m: String| {
            RuntimeError::bad_request("22P02", format!("invalid value for {}: {m}", field.name))
        };
        let trimmed = text.trim();
        let json = if field.ty.array && trimmed.starts_with('{') {
            let inner = trimmed
                .strip_prefix('{')
                .and_then(|s| s.strip_suffix('}'))
                .ok_or_else(|| invalid("unterminated array literal".into()))?;
            let items = crate::parse::split_list_public(inner)?;
            let mut out = Vec::new();
            for item in items {
                out.push(from_text(&field.ty.scalar, &item));
            }
            Json::Array(out)
        } else {
            serde_json::from_str(trimmed).map_err(|e| invalid(format!("not JSON: {e}")))?
        };
        if field.ty.array {
            coerce(self.schema, field, &json).map_err(|(_, m)| invalid(m))
        } else {
            Ok(json)
        }
    }

    fn contains(&self, alias: &str, field: &Field, contains: bool, doc: &Json) -> SimpleExpr {
        let c = col(alias, field);
        match self.dialect {
            DialectKind::Postgres => custom(
                self.dialect,
                if contains {
                    "to_jsonb(?) @> CAST(? AS jsonb)"
                } else {
                    "to_jsonb(?) <@ CAST(? AS jsonb)"
                },
                vec![c, Expr::val(doc.to_string()).into()],
            ),
            DialectKind::Sqlite => {
                if contains {
                    self.sqlite_contains(c, "$".to_owned(), doc)
                } else {
                    self.sqlite_contained(c, doc)
                }
            }
        }
    }

    fn json_type_is(&self, doc: SimpleExpr, path: &str, ty: &str) -> SimpleExpr {
        custom(
            self.dialect,
            &format!("json_type(?, ?) = '{ty}'"),
            vec![doc, Expr::val(path.to_owned()).into()],
        )
    }

    /// `doc` at `path` contains `v` (PostgreSQL's `@>` for SQLite's JSON text).
    fn sqlite_contains(&self, doc: SimpleExpr, path: String, v: &Json) -> SimpleExpr {
        match v {
            Json::Object(map) => {
                let mut all = SqCond::all().add(self.json_type_is(doc.clone(), &path, "object"));
                for (k, vk) in map {
                    let key = k.replace('\\', "\\\\").replace('"', "\\\"");
                    all =
                        all.add(self.sqlite_contains(doc.clone(), format!("{path}.\"{key}\""), vk));
                }
                all_to_expr(all)
            }
            Json::Array(items) => {
                let mut all = SqCond::all().add(self.json_type_is(doc.clone(), &path, "array"));
                for item in items {
                    let je = self.alias();
                    let matched = self.sqlite_element_matches(&je, item, true);
                    all = all.add(custom(
                        self.dialect,
                        &format!("EXISTS (SELECT 1 FROM json_each(?, ?) AS {je} WHERE ?)"),
                        vec![doc.clone(), Expr::val(path.clone()).into(), matched],
                    ));
                }
                all_to_expr(all)
            }
            scalar => {
                let (ty_cond, value) = scalar_json_type(scalar);
                let mut all = SqCond::all().add(custom(
                    self.dialect,
                    &format!("json_type(?, ?) IN ({ty_cond})"),
                    vec![doc.clone(), Expr::val(path.clone()).into()],
                ));
                if let Some(value) = value {
                    all = all.add(custom(
                        self.dialect,
                        "json_extract(?, ?) = ?",
                        vec![doc, Expr::val(path).into(), Expr::val(value).into()],
                    ));
                }
                all_to_expr(all)
            }
        }
    }

    /// Whether the `json_each` row `je` matches `item` (containment for nested documents
    /// when `nested_contains`, equality otherwise).
    fn sqlite_element_matches(&self, je: &str, item: &Json, nested_contains: bool) -> SimpleExpr {
        match item {
            Json::Object(_) | Json::Array(_) => {
                let ty = if item.is_object() { "object" } else { "array" };
                if nested_contains {
                    let inner = self.sqlite_contains(
                        Expr::cust(format!("{je}.value")),
                        "$".to_owned(),
                        item,
                    );
                    custom(
                        self.dialect,
                        &format!("{je}.type = '{ty}' AND ?"),
                        vec![inner],
                    )
                } else {
                    custom(
                        self.dialect,
                        &format!("{je}.type = '{ty}' AND json({je}.value) = json(?)"),
                        vec![Expr::val(item.to_string()).into()],
                    )
                }
            }
            scalar => {
                let (ty_cond, value) = scalar_json_type(scalar);
                match value {
                    Some(value) => custom(
                        self.dialect,
                        &format!("{je}.type IN ({ty_cond}) AND {je}.value = ?"),
                        vec![Expr::val(value).into()],
                    ),
                    None => Expr::cust(format!("{je}.type IN ({ty_cond})")),
                }
            }
        }
    }

    /// `doc` is contained in `v` (PostgreSQL's `<@`): every element (array) or key (object)
    /// of the stored document appears in `v`; nested documents compare for equality.
    fn sqlite_contained(&self, doc: SimpleExpr, v: &Json) -> SimpleExpr {
        let je = self.alias();
        match v {
            Json::Array(items) => {
                let mut any = SqCond::any();
                for item in items {
                    any = any.add(self.sqlite_element_matches(&je, item, false));
                }
                let matched = if items.is_empty() {
                    Expr::cust("1 = 0")
                } else {
                    all_to_expr(any)
                };
                custom(
                    self.dialect,
                    &format!(
                        "json_type(?) = 'array' AND NOT EXISTS (SELECT 1 FROM json_each(?) AS {je} WHERE NOT (?))"
                    ),
                    vec![doc.clone(), doc, matched],
                )
            }
            Json::Object(map) => {
                let mut any = SqCond::any();
                for (k, vk) in map {
                    let m = self.sqlite_element_matches(&je, vk, false);
                    any = any.add(custom(
                        self.dialect,
                        &format!("{je}.key = ? AND ?"),
                        vec![Expr::val(k.clone()).into(), m],
                    ));
                }
                let matched = if map.is_empty() {
                    Expr::cust("1 = 0")
                } else {
                    all_to_expr(any)
                };
                custom(
                    self.dialect,
                    &format!(
                        "json_type(?) = 'object' AND NOT EXISTS (SELECT 1 FROM json_each(?) AS {je} WHERE NOT (?))"
                    ),
                    vec![doc.clone(), doc, matched],
                )
            }
            scalar => {
                let (ty_cond, value) = scalar_json_type(scalar);
                let mut all = SqCond::all().add(custom(
                    self.dialect,
                    &format!("json_type(?) IN ({ty_cond})"),
                    vec![doc.clone()],
                ));
                if let Some(value) = value {
                    all = all.add(custom(
                        self.dialect,
                        "json_extract(?, '$') = ?",
                        vec![doc, Expr::val(value).into()],
                    ));
                }
                all_to_expr(all)
            }
        }
    }

    fn order_expr(&self, alias: &str, field: &Field) -> SimpleExpr {
        // PostgreSQL orders its enum types in declaration order itself.
        if self.dialect == DialectKind::Sqlite {
            if let Some(ordinal) = self.enum_ordinal(alias, field) {
                return ordinal;
            }
        }
        self.cmp_expr(alias, field, true)
    }

    /// An enum field's position in its enum's declaration (`CASE ... END`), for comparing
    /// values in declaration order on either engine; `None` for other fields.
    fn enum_ordinal(&self, alias: &str, field: &Field) -> Option<SimpleExpr> {
        let ScalarType::Enum(name) = &field.ty.scalar else {
            return None;
        };
        let e = self.schema.enum_by_name(name)?;
        let text = self.cmp_expr(alias, field, false);
        let mut case = CaseStatement::new();
        for (i, v) in e.values.iter().enumerate() {
            case = case.case(Expr::expr(text.clone()).eq(v.name.clone()), i as i64);
        }
        Some(case.finally(Expr::value(e.values.len() as i64)).into())
    }

    /// The position of an enum value in its enum's declaration.
    fn enum_value_ordinal(&self, field: &Field, value: &sea_query::Value) -> Option<i64> {
        let ScalarType::Enum(name) = &field.ty.scalar else {
            return None;
        };
        let sea_query::Value::String(Some(text)) = value else {
            return None;
        };
        let e = self.schema.enum_by_name(name)?;
        e.values
            .iter()
            .position(|v| v.name == **text)
            .map(|i| i as i64)
    }

    fn order_by(&self, q: &mut SelectStatement, alias: &str, plan: &Plan) {
        for o in &plan.order {
            q.order_by_expr_with_nulls(
                self.order_expr(alias, o.field),
                if o.descending {
                    Order::Desc
                } else {
                    Order::Asc
                },
                if o.nulls_first {
                    NullOrdering::First
                } else {
                    NullOrdering::Last
                },
            );
        }
        for pk in plan.model.primary_key_fields() {
            if !plan.order.iter().any(|o| o.field.name == pk.name) {
                q.order_by_expr(self.order_expr(alias, pk), Order::Asc);
            }
        }
    }

    /// The WHERE conditions of one plan level under `alias`.
    fn conditions(&self, alias: &str, plan: &Plan) -> Result<Vec<SimpleExpr>, RuntimeError> {
        let mut out = Vec::new();
        if let Some(live) = self.live(alias, plan.model, plan.deleted) {
            out.push(live);
        }
        for c in &plan.filter {
            out.push(self.cond(alias, c)?);
        }
        let mut groups: Vec<(usize, SqCond)> = Vec::new();
        for e in &plan.embeds {
            if !e.inner {
                continue;
            }
            let exists = self.exists(alias, e)?;
            match &e.parent_type {
                None => out.push(exists),
                Some(p) => match groups.iter_mut().find(|(g, _)| *g == p.group) {
                    Some((_, any)) => *any = std::mem::replace(any, SqCond::any()).add(exists),
                    None => groups.push((p.group, SqCond::any().add(exists))),
                },
            }
        }
        for (_, any) in groups {
            out.push(all_to_expr(any));
        }
        if let Some(keys) = &plan.keys {
            out.push(self.keys_in(alias, plan.model, keys));
        }
        Ok(out)
    }

    pub(crate) fn keys_in(&self, alias: &str, model: &Model, keys: &[Vec<Json>]) -> SimpleExpr {
        let pk: Vec<&Field> = model.primary_key_fields().collect();
        if keys.is_empty() {
            return Expr::cust("1 = 0");
        }
        if let [single] = pk.as_slice() {
            let values: Vec<sea_query::Value> = keys
                .iter()
                .filter_map(|k| k.first())
                .map(|v| bind_scalar(&single.ty.scalar, v, self.dialect))
                .collect();
            return Expr::expr(col(alias, single)).is_in(values);
        }
        let mut any = SqCond::any();
        for key in keys {
            let mut all = SqCond::all();
            for (field, v) in pk.iter().zip(key) {
                all = all.add(Expr::expr(col(alias, field)).eq(bind_scalar(
                    &field.ty.scalar,
                    v,
                    self.dialect,
                )));
            }
            any = any.add(all);
        }
        all_to_expr(any)
    }

    /// `EXISTS (...)` for an `!inner` embed of the rows under `parent_alias`.
    fn exists(&self, parent_alias: &str, e: &EmbedPlan) -> Result<SimpleExpr, RuntimeError> {
        let alias = self.alias();
        let mut q = Query::select();
        q.expr(Expr::val(1));
        q.from_as(Alias::new(&e.plan.model.table), Alias::new(&alias));
        let link_col = self.join_through(&mut q, &alias, e)?;
        q.and_where(Expr::expr(link_col).equals((
            Alias::new(parent_alias),
            Alias::new(&e.link.parent_key.column),
        )));
        for (f, v) in &e.link.extra {
            q.and_where(Expr::expr(col(&alias, f)).eq(v.clone()));
        }
        if let Some(p) = &e.parent_type {
            q.and_where(Expr::expr(col(parent_alias, p.type_field)).eq(p.model.clone()));
        }
        for c in self.conditions(&alias, &e.plan)? {
            q.and_where(c);
        }
        Ok(Expr::exists(q))
    }

    /// Joins the join model of a many-to-many link; returns the column matched against
    /// the parent key.
    fn join_through(
        &self,
        q: &mut SelectStatement,
        alias: &str,
        e: &EmbedPlan,
    ) -> Result<SimpleExpr, RuntimeError> {
        match &e.link.through {
            None => Ok(col(alias, e.link.child_key)),
            Some(t) => {
                let j = self.alias();
                let mut on = SqCond::all().add(
                    Expr::expr(col(&j, t.to))
                        .equals((Alias::new(alias), Alias::new(&t.target_field.column))),
                );
                if let Some(live) = self.live(&j, t.model, Deleted::Exclude) {
                    on = on.add(live);
                }
                q.inner_join(
                    sea_query::TableRef::TableAlias(
                        sea_query::SeaRc::new(Alias::new(&t.model.table)),
                        sea_query::SeaRc::new(Alias::new(&j)),
                    ),
                    on,
                );
                Ok(col(&j, e.link.child_key))
            }
        }
    }
}

fn unreachable_op(op: Operator) -> Result<SimpleExpr, RuntimeError> {
    Err(RuntimeError::internal(format!(
        "operator {} handled elsewhere",
        op.name()
    )))
}

fn all_to_expr(cond: SqCond) -> SimpleExpr {
    // A condition tree as an expression (sea-query renders it with parentheses).
    let cond = cond.into_condition();
    if cond.is_empty() {
        return Expr::cust("1 = 1");
    }
    SimpleExpr::from(cond)
}

/// SQLite `json_type` values and the SQL value of a JSON scalar.
fn scalar_json_type(v: &Json) -> (&'static str, Option<sea_query::Value>) {
    match v {
        Json::Null => ("'null'", None),
        Json::Bool(true) => ("'true'", None),
        Json::Bool(false) => ("'false'", None),
        Json::Number(n) => (
            "'integer', 'real'",
            Some(match n.as_i64() {
                Some(i) => sea_query::Value::BigInt(Some(i)),
                None => sea_query::Value::Double(n.as_f64()),
            }),
        ),
        Json::String(s) => (
            "'text'",
            Some(sea_query::Value::String(Some(Box::new(s.clone())))),
        ),
        _ => ("'object', 'array'", None),
    }
}

/// PostgREST's like pattern (`*` or `%` any run, `_` one character) for SQL LIKE.
fn like_pattern(p: &str) -> String {
    let mut out = String::new();
    for c in p.chars() {
        match c {
            '*' | '%' => out.push('%'),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out
}

/// The same pattern for SQLite's case-sensitive GLOB.
fn glob_pattern(p: &str) -> String {
    let mut out = String::new();
    for c in p.chars() {
        match c {
            '*' | '%' => out.push('*'),
            '_' => out.push('?'),
            '?' => out.push_str("[?]"),
            '[' => out.push_str("[[]"),
            c => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Execution
// ---------------------------------------------------------------------------

struct Row {
    values: Vec<Json>,
    /// The value that attaches this row to its parent.
    link: Json,
    embeds: Vec<Vec<usize>>,
}

struct Level {
    rows: Vec<Row>,
    children: Vec<Level>,
}

pub(crate) async fn read(
    engine: &Engine,
    ctx: &Context,
    req: &ReadRequest,
) -> Result<ReadResult, RuntimeError> {
    let schema = engine.schema();
    let mut plan = build(schema, req)?;
    restrict(&mut plan, ctx, true)?;
    if req.deleted != Deleted::Exclude {
        // Soft-deleted rows are a trash can: listing it is part of restoring, so it shows
        // only the rows the caller may restore.
        if let Some(grant) = access::grant(ctx, plan.model, Operation::Update)? {
            push_grant(&mut plan, grant);
        }
    }
    // Embeds and counts take several statements, which must see one snapshot.
    let mut tx = if plan.embeds.is_empty() && !req.count {
        Tx::read_single(&engine.inner.pool, engine.inner.schema.clone()).await?
    } else {
        Tx::read(&engine.inner.pool, engine.inner.schema.clone()).await?
    };
    let result = run_read(&mut tx, schema, &plan, req.count).await?;
    tx.commit().await?;
    Ok(result)
}

/// Applies the caller's read grants to a plan: to its own rows when `top`, and to every
/// embedded level (an embed of a model the caller may not read is refused).
pub(crate) fn restrict<'s>(
    plan: &mut Plan<'s>,
    ctx: &Context,
    top: bool,
) -> Result<(), RuntimeError> {
    if top {
        if let Some(grant) = access::grant(ctx, plan.model, Operation::Read)? {
            push_grant(plan, grant);
        }
    }
    for embed in &mut plan.embeds {
        restrict(&mut embed.plan, ctx, true)?;
    }
    Ok(())
}

/// Narrows a plan's rows to those a grant covers.
fn push_grant<'s>(plan: &mut Plan<'s>, grant: Grant<'s>) {
    if let Grant::Rows(pairs) = grant {
        plan.filter.push(Cond::Or(
            pairs
                .into_iter()
                .map(|(f, value)| Cond::Filter(f, Operator::Eq, FilterValue::Text(value)))
                .collect(),
        ));
    }
}

pub(crate) async fn run_read(
    tx: &mut Tx,
    schema: &Schema,
    plan: &Plan<'_>,
    count: bool,
) -> Result<ReadResult, RuntimeError> {
    let (level, total) = run_level(tx, schema, plan, count).await?;
    let rows = level.rows.iter().map(|r| render(plan, &level, r)).collect();
    Ok(ReadResult { rows, total })
}

/// Rows of a plan restricted by `plan.keys`, each with its primary key.
pub(crate) async fn run_read_with_keys(
    tx: &mut Tx,
    schema: &Schema,
    plan: &Plan<'_>,
) -> Result<Vec<(Vec<Json>, Json)>, RuntimeError> {
    let (level, _) = run_level(tx, schema, plan, false).await?;
    let pk_idx: Vec<usize> = plan
        .model
        .primary_key
        .iter()
        .filter_map(|n| plan.fetch.iter().position(|f| f.name == *n))
        .collect();
    Ok(level
        .rows
        .iter()
        .map(|r| {
            let key = pk_idx.iter().map(|&i| r.values[i].clone()).collect();
            (key, render(plan, &level, r))
        })
        .collect())
}

async fn run_level(
    tx: &mut Tx,
    schema: &Schema,
    plan: &Plan<'_>,
    count: bool,
) -> Result<(Level, Option<u64>), RuntimeError> {
    let sql = SqlBuilder::new(schema, tx.dialect());
    let alias = sql.alias();
    let mut q = Query::select();
    for f in &plan.fetch {
        q.expr(sql.select_expr(&alias, f));
    }
    q.from_as(Alias::new(&plan.model.table), Alias::new(&alias));
    let conditions = sql.conditions(&alias, plan)?;
    for c in &conditions {
        q.and_where(c.clone());
    }
    sql.order_by(&mut q, &alias, plan);
    if let Some(limit) = plan.limit {
        q.limit(limit);
    }
    if let Some(offset) = plan.offset {
        if plan.limit.is_none() && tx.dialect() == DialectKind::Sqlite {
            q.limit(i64::MAX as u64);
        }
        q.offset(offset);
    }
    let types: Vec<FieldType> = plan.fetch.iter().map(|f| f.ty.clone()).collect();
    let rows = tx.fetch(Some(plan.model), &q, &types).await?;
    let rows: Vec<Row> = rows
        .into_iter()
        .map(|values| Row {
            values,
            link: Json::Null,
            embeds: Vec::new(),
        })
        .collect();
    let total = if count {
        let mut cq = Query::select();
        cq.expr(Expr::cust("COUNT(*)"));
        cq.from_as(Alias::new(&plan.model.table), Alias::new(&alias));
        for c in conditions {
            cq.and_where(c);
        }
        let n = tx
            .fetch(
                Some(plan.model),
                &cq,
                &[FieldType {
                    scalar: ScalarType::BigInt,
                    array: false,
                }],
            )
            .await?;
        n.first().and_then(|r| r.first()).and_then(Json::as_u64)
    } else {
        None
    };
    let mut level = Level {
        rows,
        children: Vec::new(),
    };
    load_embeds(tx, &sql, plan, &mut level).await?;
    Ok((level, total))
}

fn load_embeds<'a>(
    tx: &'a mut Tx,
    sql: &'a SqlBuilder<'a>,
    plan: &'a Plan<'a>,
    level: &'a mut Level,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), RuntimeError>> + Send + 'a>> {
    Box::pin(async move {
        for (ei, e) in plan.embeds.iter().enumerate() {
            let key_idx = plan
                .fetch
                .iter()
                .position(|f| f.name == e.link.parent_key.name)
                .ok_or_else(|| RuntimeError::internal("embed key not fetched"))?;
            // Polymorphic targets: only the rows whose type column names this target.
            let type_idx = match &e.parent_type {
                Some(p) => Some((
                    plan.fetch
                        .iter()
                        .position(|f| f.name == p.type_field.name)
                        .ok_or_else(|| RuntimeError::internal("embed type not fetched"))?,
                    Json::String(p.model.clone()),
                )),
                None => None,
            };
            let applies = |r: &Row| {
                type_idx
                    .as_ref()
                    .is_none_or(|(i, model)| r.values[*i] == *model)
            };
            let mut keys: Vec<Json> = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for r in &level.rows {
                let v = &r.values[key_idx];
                if !v.is_null() && applies(r) && seen.insert(v.to_string()) {
                    keys.push(v.clone());
                }
            }
            let mut child_rows = Vec::new();
            for chunk in keys.chunks(IN_CHUNK) {
                child_rows.extend(fetch_children(tx, sql, e, chunk).await?);
            }
            let mut child = Level {
                rows: child_rows,
                children: Vec::new(),
            };
            load_embeds(tx, sql, &e.plan, &mut child).await?;
            // Group children by link value, in query order.
            let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
            for (i, r) in child.rows.iter().enumerate() {
                groups.entry(r.link.to_string()).or_default().push(i);
            }
            for r in &mut level.rows {
                let v = &r.values[key_idx];
                let mut list = if v.is_null() || !applies(r) {
                    Vec::new()
                } else {
                    groups.get(&v.to_string()).cloned().unwrap_or_default()
                };
                if e.link.many {
                    let offset = e.plan.offset.unwrap_or(0) as usize;
                    list = list.into_iter().skip(offset).collect();
                    if let Some(limit) = e.plan.limit {
                        list.truncate(limit as usize);
                    }
                }
                while r.embeds.len() <= ei {
                    r.embeds.push(Vec::new());
                }
                r.embeds[ei] = list;
            }
            level.children.push(child);
        }
        Ok(())
    })
}

async fn fetch_children(
    tx: &mut Tx,
    sql: &SqlBuilder<'_>,
    e: &EmbedPlan<'_>,
    keys: &[Json],
) -> Result<Vec<Row>, RuntimeError> {
    let plan = &e.plan;
    let alias = sql.alias();
    let mut q = Query::select();
    for f in &plan.fetch {
        q.expr(sql.select_expr(&alias, f));
    }
    q.from_as(Alias::new(&plan.model.table), Alias::new(&alias));
    let link_col = sql.join_through(&mut q, &alias, e)?;
    q.expr(link_col.clone());
    let values: Vec<sea_query::Value> = keys
        .iter()
        .map(|k| bind_scalar(&e.link.child_key.ty.scalar, k, sql.dialect))
        .collect();
    q.and_where(Expr::expr(link_col).is_in(values));
    for (f, v) in &e.link.extra {
        q.and_where(Expr::expr(col(&alias, f)).eq(v.clone()));
    }
    for c in sql.conditions(&alias, plan)? {
        q.and_where(c);
    }
    sql.order_by(&mut q, &alias, plan);
    let mut types: Vec<FieldType> = plan.fetch.iter().map(|f| f.ty.clone()).collect();
    types.push(e.link.child_key.ty.clone());
    let rows = tx.fetch(Some(plan.model), &q, &types).await?;
    Ok(rows
        .into_iter()
        .map(|mut values| {
            let link = values.pop().unwrap_or(Json::Null);
            Row {
                values,
                link,
                embeds: Vec::new(),
            }
        })
        .collect())
}

fn render(plan: &Plan, level: &Level, row: &Row) -> Json {
    let mut obj = Map::new();
    for out in &plan.output {
        match out {
            Out::Field(key, idx) => {
                obj.insert(
                    key.clone(),
                    row.values.get(*idx).cloned().unwrap_or(Json::Null),
                );
            }
            Out::Virtual(key, field) => {
                obj.insert(key.clone(), computed(plan, row, field));
            }
            Out::Polymorphic(key, indexes) => {
                let value = indexes
                    .iter()
                    .find_map(|&ei| {
                        let child = &level.children[ei];
                        let first = *row.embeds.get(ei)?.first()?;
                        Some(render(&plan.embeds[ei].plan, child, &child.rows[first]))
                    })
                    .unwrap_or(Json::Null);
                obj.insert(key.clone(), value);
            }
            Out::Embed(key, ei) => {
                let e = &plan.embeds[*ei];
                let child = &level.children[*ei];
                let items: Vec<Json> = row
                    .embeds
                    .get(*ei)
                    .map(|list| {
                        list.iter()
                            .map(|&i| render(&e.plan, child, &child.rows[i]))
                            .collect()
                    })
                    .unwrap_or_default();
                let value = if e.link.many {
                    Json::Array(items)
                } else {
                    items.into_iter().next().unwrap_or(Json::Null)
                };
                obj.insert(key.clone(), value);
            }
        }
    }
    Json::Object(obj)
}

fn computed(plan: &Plan, row: &Row, field: &Field) -> Json {
    match &field.computed {
        Some(Computed::Constant(v)) => v.clone(),
        Some(Computed::Concat(parts)) => {
            let mut s = String::new();
            for part in parts {
                match part {
                    ComputedPart::Text(t) => s.push_str(t),
                    ComputedPart::Field(name) => {
                        if let Some(i) = plan.fetch.iter().position(|f| f.name == *name) {
                            match &row.values[i] {
                                Json::Null => {}
                                Json::String(v) => s.push_str(v),
                                other => s.push_str(&other.to_string()),
                            }
                        }
                    }
                }
            }
            Json::String(s)
        }
        None => Json::Null,
    }
}
