//! Reads planned: each level of a read (the model asked for, and every embedded relation
//! at any depth) with the columns it reads, the predicates its rows must meet — filters,
//! soft delete, the caller's grants, `!inner` embeds — its order and its window.

use serde_json::Value as Json;
use tessera_schema::ir::{Field, Model, Operation, RelationKind};
use tessera_schema::Schema;

use super::access::{self, Principal};
use super::names::{field_of, filterable_field, model_of, resolve_link, Link};
use super::predicate::{self, Predicate, Related};
use crate::error::{Code, RuntimeError};
use crate::request::{Condition, Deleted, Embed, OrderTerm, SelectItem};

/// A read: its top level, and whether every matching row is counted.
#[derive(Debug)]
pub(crate) struct ReadPlan<'s> {
    pub(crate) root: Level<'s>,
    pub(crate) count: bool,
}

/// One level of a read: rows of one model.
#[derive(Debug)]
pub(crate) struct Level<'s> {
    pub(crate) model: &'s Model,
    /// The stored fields read, in order.
    pub(crate) columns: Vec<&'s Field>,
    pub(crate) output: Vec<Out<'s>>,
    /// Conditions every row meets, all of them.
    pub(crate) predicates: Vec<Predicate<'s>>,
    pub(crate) order: Vec<OrderBy<'s>>,
    pub(crate) limit: Option<u64>,
    pub(crate) offset: Option<u64>,
    pub(crate) embeds: Vec<EmbedPlan<'s>>,
    /// Columns the caller may read on some rows only (fields with rules of their own), by
    /// index in [`Level::columns`], with the rows where they show; elsewhere they read null.
    pub(crate) guards: Vec<(usize, Predicate<'s>)>,
}

/// A member of each output row.
#[derive(Debug)]
pub(crate) enum Out<'s> {
    /// A column read, by its index in [`Level::columns`].
    Field(String, usize),
    /// A field computed on read from the row's columns.
    Virtual(String, &'s Field),
    /// An embedded relation, by its index in [`Level::embeds`].
    Embed(String, usize),
    /// A polymorphic to-one embed: one embed per target model; the row's type column
    /// says which one holds the owner.
    Polymorphic(String, Vec<usize>),
}

#[derive(Debug, Clone)]
pub(crate) struct OrderBy<'s> {
    pub(crate) field: &'s Field,
    /// The rows where the caller may read the field; elsewhere it sorts as null.
    pub(crate) guard: Option<Predicate<'s>>,
    pub(crate) descending: bool,
    pub(crate) nulls_first: bool,
}

/// An embedded relation: how its rows attach to the parent's, and its own level.
#[derive(Debug)]
pub(crate) struct EmbedPlan<'s> {
    pub(crate) link: Link<'s>,
    pub(crate) level: Level<'s>,
    /// Polymorphic targets: only parent rows whose type column holds this model name
    /// have a child here.
    pub(crate) parent_type: Option<(&'s Field, String)>,
}

impl<'s> Level<'s> {
    fn new(model: &'s Model) -> Level<'s> {
        Level {
            model,
            columns: Vec::new(),
            output: Vec::new(),
            predicates: Vec::new(),
            order: Vec::new(),
            limit: None,
            offset: None,
            embeds: Vec::new(),
            guards: Vec::new(),
        }
    }

    /// The rows where column `i` shows; `None` when it shows wherever its row does.
    pub(crate) fn guard(&self, i: usize) -> Option<&Predicate<'s>> {
        self.guards.iter().find(|(c, _)| *c == i).map(|(_, p)| p)
    }

    /// The index of `field` among the columns read, reading it when it is not yet.
    pub(crate) fn column(&mut self, field: &'s Field) -> usize {
        match self.columns.iter().position(|f| f.name == field.name) {
            Some(i) => i,
            None => {
                self.columns.push(field);
                self.columns.len() - 1
            }
        }
    }

    /// The indexes of the primary key's columns, reading them when they are not yet.
    pub(crate) fn key_columns(&mut self) -> Vec<usize> {
        let model = self.model;
        model.primary_key_fields().map(|f| self.column(f)).collect()
    }

    fn push_field(&mut self, key: String, field: &'s Field) {
        if field.is_stored() {
            let i = self.column(field);
            self.output.push(Out::Field(key, i));
            return;
        }
        // A computed field reads the fields it is made of.
        if let Some(tessera_schema::ir::Computed::Concat(parts)) = &field.computed {
            for part in parts {
                if let tessera_schema::ir::ComputedPart::Field(name) = part {
                    if let Some(f) = self.model.field(name).filter(|f| f.is_stored()) {
                        self.column(f);
                    }
                }
            }
        }
        self.output.push(Out::Virtual(key, field));
    }
}

/// What a level is asked for: the parts of a request or of an embed.
struct Shape<'r> {
    select: &'r [SelectItem],
    filter: &'r [Condition],
    order: &'r [OrderTerm],
    limit: Option<u64>,
    offset: Option<u64>,
}

impl<'r> Shape<'r> {
    fn of_embed(embed: &'r Embed) -> Shape<'r> {
        Shape {
            select: &embed.select,
            filter: &embed.filter,
            order: &embed.order,
            limit: embed.limit,
            offset: embed.offset,
        }
    }

    fn select(select: &'r [SelectItem]) -> Shape<'r> {
        Shape {
            select,
            filter: &[],
            order: &[],
            limit: None,
            offset: None,
        }
    }
}

/// Builds levels; embedded levels see only the rows `principal` may read (no principal:
/// names are checked, nothing is restricted).
struct Builder<'s, 'p> {
    schema: &'s Schema,
    principal: Option<&'p Principal>,
}

/// Plans a read of `model` by `principal`: the top level sees live rows (or, with
/// `deleted`, soft-deleted ones) that the caller may read — and, in the trash, restore.
#[allow(clippy::too_many_arguments)]
pub(crate) fn read<'s>(
    schema: &'s Schema,
    principal: &Principal,
    model: &'s Model,
    select: &[SelectItem],
    filter: &[Condition],
    order: &[OrderTerm],
    window: (Option<u64>, Option<u64>),
    deleted: Deleted,
    count: bool,
) -> Result<ReadPlan<'s>, RuntimeError> {
    let builder = Builder {
        schema,
        principal: Some(principal),
    };
    let shape = Shape {
        select,
        filter,
        order,
        limit: window.0,
        offset: window.1,
    };
    let mut root = builder.level(model, &shape)?;
    let deleted = match deleted {
        _ if model.behaviours.soft_delete.is_some() => deleted,
        Deleted::Only => {
            return Err(RuntimeError::bad_request(
                Code::QueryGrammar,
                format!(
                    "model {} has no soft delete: _deleted=only does not apply",
                    model.name
                ),
            ))
        }
        // Without soft delete every row is live: there is no trash to restrict.
        _ => Deleted::Exclude,
    };
    root.predicates.extend(Predicate::live(model, deleted));
    root.predicates
        .extend(access::rows(schema, principal, model, Operation::Read)?);
    if deleted != Deleted::Exclude {
        // Soft-deleted rows are a trash can: listing it is part of restoring, so it shows
        // only the rows the caller may restore.
        root.predicates
            .extend(access::rows(schema, principal, model, Operation::Update)?);
    }
    Ok(ReadPlan { root, count })
}

/// Checks the names of a `select` of `model` (the representation a write will answer
/// with), before anything is written.
pub(crate) fn check_select(
    schema: &Schema,
    model: &Model,
    select: &[SelectItem],
) -> Result<(), RuntimeError> {
    let builder = Builder {
        schema,
        principal: None,
    };
    builder.level(model, &Shape::select(select)).map(drop)
}

/// Plans the representation of written rows: the rows with these keys (live or not), as
/// `select` shapes them, in the keys' order. The rows are the caller's to see (they just
/// wrote them); what they embed is read under the caller's grants.
pub(crate) fn representation<'s>(
    schema: &'s Schema,
    principal: &Principal,
    model: &'s Model,
    select: &[SelectItem],
) -> Result<Level<'s>, RuntimeError> {
    let builder = Builder {
        schema,
        principal: Some(principal),
    };
    let mut level = builder.level(model, &Shape::select(select))?;
    level.key_columns();
    Ok(level)
}

impl<'s> Builder<'s, '_> {
    fn level(&self, model: &'s Model, shape: &Shape) -> Result<Level<'s>, RuntimeError> {
        let mut level = Level::new(model);
        level.limit = shape.limit;
        level.offset = shape.offset;
        let star = [SelectItem::Star];
        let select = if shape.select.is_empty() {
            &star[..]
        } else {
            shape.select
        };
        for item in select {
            match item {
                SelectItem::Star => {
                    for field in model.fields.iter().filter(|f| !is_secret(f)) {
                        level.push_field(field.name.clone(), field);
                    }
                }
                SelectItem::Field { name, alias } => {
                    let field = model
                        .field(name)
                        .or_else(|| model.field_by_column(name))
                        .ok_or_else(|| RuntimeError::unknown_column(&model.name, name))?;
                    if is_secret(field) {
                        return Err(RuntimeError::bad_request(
                            Code::PermissionDenied,
                            format!(
                                "field {}.{} is secret and cannot be selected",
                                model.name, field.name
                            ),
                        ));
                    }
                    level.push_field(alias.clone().unwrap_or_else(|| name.clone()), field);
                }
                SelectItem::Embed(embed) => self.embed(&mut level, embed)?,
            }
        }
        let guard = |field: &'s Field| {
            self.principal.and_then(|principal| {
                access::field_guard(self.schema, principal, model, field, Operation::Read)
            })
        };
        for (i, field) in level.columns.iter().enumerate() {
            if let Some(shown) = guard(field) {
                level.guards.push((i, shown));
            }
        }
        for cond in shape.filter {
            level
                .predicates
                .push(predicate::condition(self.schema, model, cond)?.guarded(&guard));
        }
        for term in shape.order {
            let field = filterable_field(model, &term.field)?;
            level.order.push(OrderBy {
                field,
                guard: guard(field),
                descending: term.descending,
                nulls_first: term.nulls_first.unwrap_or(term.descending),
            });
        }
        Ok(level)
    }

    /// An embedded level of `target`: live rows the caller may read, as `embed` asks.
    fn embedded(&self, target: &'s Model, embed: &Embed) -> Result<Level<'s>, RuntimeError> {
        let mut level = self.level(target, &Shape::of_embed(embed))?;
        level
            .predicates
            .extend(Predicate::live(target, Deleted::Exclude));
        if let Some(principal) = self.principal {
            level.predicates.extend(access::rows(
                self.schema,
                principal,
                target,
                Operation::Read,
            )?);
        }
        Ok(level)
    }

    fn embed(&self, level: &mut Level<'s>, embed: &Embed) -> Result<(), RuntimeError> {
        let model = level.model;
        if let Some(RelationKind::Polymorphic {
            targets,
            type_field,
            id_field,
            ..
        }) = model.relation(&embed.relation).map(|r| &r.kind)
        {
            return self.polymorphic_embed(level, embed, targets, type_field, id_field);
        }
        let link = resolve_link(self.schema, model, embed)?;
        let child = self.embedded(link.target, embed)?;
        level.column(link.parent_key);
        if embed.inner {
            level.predicates.push(Predicate::Related(Box::new(Related {
                model: link.target,
                link: link.clone(),
                predicates: child.predicates.clone(),
                parent_type: None,
            })));
        }
        level
            .output
            .push(Out::Embed(embed.key().to_owned(), level.embeds.len()));
        level.embeds.push(EmbedPlan {
            link,
            level: child,
            parent_type: None,
        });
        Ok(())
    }

    fn polymorphic_embed(
        &self,
        level: &mut Level<'s>,
        embed: &Embed,
        targets: &'s [String],
        type_field: &str,
        id_field: &str,
    ) -> Result<(), RuntimeError> {
        let model = level.model;
        let type_field = field_of(model, type_field)?;
        let id_field = field_of(model, id_field)?;
        level.column(type_field);
        level.column(id_field);
        let target_models = targets
            .iter()
            .map(|t| model_of(self.schema, t))
            .collect::<Result<Vec<_>, _>>()?;
        // Each target reads the items of the select it has (`owner(id,email)` reads
        // `email` of users only); an item no target has is an error.
        let probe = Builder {
            schema: self.schema,
            principal: None,
        };
        let mut selects: Vec<Vec<SelectItem>> = vec![Vec::new(); targets.len()];
        for item in &embed.select {
            let mut first_error = None;
            let mut used = false;
            for (i, t) in target_models.iter().enumerate() {
                match probe.level(t, &Shape::select(std::slice::from_ref(item))) {
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
        let mut indexes = Vec::new();
        let mut inner = Vec::new();
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
                    Code::UnknownRelationship,
                    format!(
                        "relation {}.{} cannot be embedded: {} has a composite key",
                        model.name, embed.relation, t.name
                    ),
                ));
            };
            let target_embed = Embed {
                select,
                ..embed.clone()
            };
            let child = self.embedded(t, &target_embed)?;
            let link = Link {
                target: t,
                parent_key: id_field,
                child_key: field_of(t, pk)?,
                through: None,
                extra: Vec::new(),
                many: false,
            };
            let parent_type = Some((type_field, t.name.clone()));
            if embed.inner {
                inner.push(Predicate::Related(Box::new(Related {
                    model: t,
                    link: link.clone(),
                    predicates: child.predicates.clone(),
                    parent_type: parent_type.clone(),
                })));
            }
            indexes.push(level.embeds.len());
            level.embeds.push(EmbedPlan {
                link,
                level: child,
                parent_type,
            });
        }
        if embed.inner {
            // The owner is one of the targets: some target must match.
            level.predicates.push(Predicate::Or(inner));
        }
        level
            .output
            .push(Out::Polymorphic(embed.key().to_owned(), indexes));
        Ok(())
    }
}

/// Fields never read through the API.
pub(crate) fn is_secret(field: &Field) -> bool {
    field.secret || field.hash.is_some()
}

/// The value of a computed field for a row whose columns are `values`.
pub(crate) fn computed(level: &Level, values: &[Json], field: &Field) -> Json {
    use tessera_schema::ir::{Computed, ComputedPart};
    match &field.computed {
        Some(Computed::Constant(v)) => v.clone(),
        Some(Computed::Concat(parts)) => {
            let mut s = String::new();
            for part in parts {
                match part {
                    ComputedPart::Text(t) => s.push_str(t),
                    ComputedPart::Field(name) => {
                        if let Some(i) = level.columns.iter().position(|f| f.name == *name) {
                            match &values[i] {
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
