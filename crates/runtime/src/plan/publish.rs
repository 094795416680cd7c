//! Publishing planned: the scope row (among those the caller may read and update), the
//! content models whose rows are copied from one environment to the next, and the
//! publish log that records each run.

use serde_json::Value as Json;
use tessera_schema::ir::{Field, Model, Operation, PublishLog, RelationKind, ScalarType};
use tessera_schema::Schema;

use super::access::{self, Principal};
use super::names::find_model;
use super::predicate::{Comparison, Predicate};
use super::values::coerce;
use crate::error::{Code, ErrorKind, RuntimeError};
use crate::request::{Deleted, PublishRequest, ScopeRow};

/// A publish run: which scope row, what is copied, where it is logged.
#[derive(Debug)]
pub(crate) struct PublishPlan<'s> {
    pub(crate) scope: &'s Model,
    pub(crate) scope_key: &'s Field,
    /// The scope row: all of these hold for it, and for no other row.
    pub(crate) scope_row: Vec<Predicate<'s>>,
    /// How the scope row was named, for the answer when no row matches.
    pub(crate) by_key: Option<Json>,
    pub(crate) contents: Vec<Content<'s>>,
    pub(crate) log: Option<Log<'s>>,
    pub(crate) from: String,
    pub(crate) to: String,
}

pub(crate) fn publish<'s>(
    schema: &'s Schema,
    principal: &Principal,
    req: &PublishRequest,
) -> Result<PublishPlan<'s>, RuntimeError> {
    let scope = find_model(schema, &req.scope_model)?;
    let contents = content_models(schema, scope)?;
    if contents.is_empty() {
        return Err(RuntimeError::bad_request(
            Code::InvalidParameter,
            format!("{} has no environment content to publish", scope.name),
        )
        .with_hint("Declare @@environment(field, scope: relation) on the models it owns"));
    }
    let scope_key = single_key(scope, "published")?;
    let (mut scope_row, by_key) = match &req.scope {
        ScopeRow::Key(key) => {
            let key = coerce(schema, scope_key, key).map_err(|(_, m)| {
                RuntimeError::bad_request(
                    Code::InvalidText,
                    format!("invalid {} key: {m}", scope.name),
                )
            })?;
            if key.is_null() {
                return Err(RuntimeError::bad_request(
                    Code::InvalidText,
                    format!("the {} key is required", scope.name),
                ));
            }
            (
                vec![Predicate::Compare(scope_key, Comparison::Eq, key.clone())],
                Some(key),
            )
        }
        ScopeRow::Matching(filter) => {
            if filter.is_empty() {
                return Err(RuntimeError::bad_request(
                    Code::FilterRequired,
                    format!("publishing needs a filter selecting one {} row", scope.name),
                )
                .with_hint("Add a filter such as id=eq.<id> to the query string"));
            }
            let conditions = filter
                .iter()
                .map(|c| access::visible_condition(schema, principal, scope, c))
                .collect::<Result<Vec<_>, _>>()?;
            (conditions, None)
        }
    };
    // The row is looked up among those the caller may read and update (publishing
    // changes the scope's content): what the answer says must not depend on other rows.
    for operation in [Operation::Read, Operation::Update] {
        scope_row.extend(access::rows(schema, principal, scope, operation)?);
    }
    scope_row.extend(Predicate::live(scope, Deleted::Exclude));
    check_transition(&environments(schema, &contents)?, &req.from, &req.to)?;
    Ok(PublishPlan {
        scope,
        scope_key,
        scope_row,
        by_key,
        log: publish_log(schema, scope)?,
        contents,
        from: req.from.clone(),
        to: req.to.clone(),
    })
}

impl PublishPlan<'_> {
    /// The answer when no row is the scope row.
    pub(crate) fn missing(&self) -> RuntimeError {
        let message = match &self.by_key {
            Some(key) => format!(
                "{} {} does not exist",
                self.scope.name,
                tessera_sql::value::text_of(key)
            ),
            None => format!("no {} row matches the filter", self.scope.name),
        };
        RuntimeError::new(ErrorKind::NotFound, Code::NotOneRow, message)
    }

    /// The answer when several rows match the filter.
    pub(crate) fn several(&self) -> RuntimeError {
        RuntimeError::bad_request(
            Code::NotOneRow,
            format!(
                "the filter matches several {} rows: publishing needs exactly one",
                self.scope.name
            ),
        )
    }
}

/// A content model of the scope and the fields publishing reads and writes.
#[derive(Debug)]
pub(crate) struct Content<'s> {
    pub(crate) model: &'s Model,
    pub(crate) pk: &'s Field,
    pub(crate) env: &'s Field,
    pub(crate) scope_fk: &'s Field,
    pub(crate) lineage: Option<&'s Field>,
    /// Everything copied from the source row: not the key, environment, lineage, scope or
    /// engine-managed fields (timestamps, actors, soft delete, import hash).
    pub(crate) copied: Vec<&'s Field>,
}

/// The publish log of the scope and its resolved fields.
#[derive(Debug)]
pub(crate) struct Log<'s> {
    pub(crate) model: &'s Model,
    pub(crate) spec: &'s PublishLog,
    pub(crate) pk: &'s Field,
    pub(crate) scope_fk: &'s Field,
    pub(crate) actor_fk: Option<&'s Field>,
}

fn single_key<'s>(model: &'s Model, what: &str) -> Result<&'s Field, RuntimeError> {
    match model.primary_key.as_slice() {
        [name] => model.field(name).ok_or_else(|| {
            RuntimeError::internal(format!("schema inconsistency: {}.{name}", model.name))
        }),
        _ => Err(RuntimeError::bad_request(
            Code::InvalidParameter,
            format!(
                "{} has a composite primary key: it cannot be {what}",
                model.name
            ),
        )),
    }
}

/// The foreign-key field of the to-one relation `relation` of `model`, when it targets
/// `target`.
fn to_one_fk<'s>(model: &'s Model, relation: &str, target: &str) -> Option<&'s Field> {
    match &model.relation(relation)?.kind {
        RelationKind::ToOne {
            target: t, field, ..
        } if t == target => model.field(field),
        _ => None,
    }
}

fn content_models<'s>(
    schema: &'s Schema,
    scope: &'s Model,
) -> Result<Vec<Content<'s>>, RuntimeError> {
    let mut out = Vec::new();
    for model in &schema.models {
        let Some(env_scope) = &model.behaviours.environment else {
            continue;
        };
        let Some(scope_fk) = to_one_fk(model, &env_scope.scope, &scope.name) else {
            continue;
        };
        let pk = single_key(model, "published")?;
        let env = model.field(&env_scope.field).ok_or_else(|| {
            RuntimeError::internal(format!(
                "schema inconsistency: {}.{}",
                model.name, env_scope.field
            ))
        })?;
        let lineage = env_scope.lineage.as_deref().and_then(|n| model.field(n));
        let copied = model
            .stored_fields()
            .filter(|f| {
                f.name != pk.name
                    && f.name != env.name
                    && f.name != scope_fk.name
                    && lineage.is_none_or(|l| l.name != f.name)
                    && f.managed.is_none()
            })
            .collect();
        out.push(Content {
            model,
            pk,
            env,
            scope_fk,
            lineage,
            copied,
        });
    }
    Ok(out)
}

fn publish_log<'s>(schema: &'s Schema, scope: &'s Model) -> Result<Option<Log<'s>>, RuntimeError> {
    for model in &schema.models {
        let Some(spec) = &model.behaviours.publish_log else {
            continue;
        };
        let Some(scope_fk) = to_one_fk(model, &spec.scope, &scope.name) else {
            continue;
        };
        let actor_fk = spec
            .actor
            .as_deref()
            .and_then(|rel| match &model.relation(rel)?.kind {
                RelationKind::ToOne { field, .. } => model.field(field),
                _ => None,
            });
        return Ok(Some(Log {
            model,
            spec,
            pk: single_key(model, "a publish log")?,
            scope_fk,
            actor_fk,
        }));
    }
    Ok(None)
}

/// The environments in publishing order (the declaration order of the enum).
fn environments(schema: &Schema, contents: &[Content]) -> Result<Vec<String>, RuntimeError> {
    let first = contents
        .first()
        .and_then(|c| c.model.behaviours.environment.as_ref())
        .map(|e| e.environments.clone())
        .or_else(|| match contents.first().map(|c| &c.env.ty.scalar) {
            Some(ScalarType::Enum(name)) => Some(name.clone()),
            _ => None,
        })
        .unwrap_or_default();
    let e = schema
        .enums
        .iter()
        .find(|e| e.name == first)
        .ok_or_else(|| {
            RuntimeError::internal(format!("schema inconsistency: enum {first} is missing"))
        })?;
    Ok(e.values.iter().map(|v| v.name.clone()).collect())
}

/// `to` must be the environment right after `from`.
fn check_transition(envs: &[String], from: &str, to: &str) -> Result<(), RuntimeError> {
    let list = envs.join(" -> ");
    let Some(i) = envs.iter().position(|e| e == from) else {
        return Err(RuntimeError::bad_request(
            Code::InvalidParameter,
            format!("unknown environment '{from}'"),
        )
        .with_details(format!("the environments are, in publishing order: {list}")));
    };
    match envs.get(i + 1) {
        Some(next) if next == to => Ok(()),
        Some(next) => Err(RuntimeError::bad_request(
            Code::InvalidParameter,
            format!("cannot publish from {from} to {to}: {from} publishes to {next} only"),
        )
        .with_details(format!("publishing order: {list}"))
        .with_hint(format!("Publish from {from} to {next}"))),
        None => Err(RuntimeError::bad_request(
            Code::InvalidParameter,
            format!("cannot publish from {from}: it is the last environment"),
        )
        .with_details(format!("publishing order: {list}"))),
    }
}
