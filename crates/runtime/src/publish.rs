//! Publishing: copies a scope's environment content (`@@environment`) from one
//! environment to the next and records the run in the scope's publish log
//! (`@@publish_log`).
//!
//! A run goes in three steps:
//!
//! 1. the log row is inserted (status `running`) in a statement of its own, so a run is
//!    visible while it works and stays recorded whatever happens next;
//! 2. the content of every model whose environment scope points at the scope model is
//!    copied in ONE transaction: rows of the target environment are matched to their
//!    source by lineage (the source row's lineage, or its key for an original); matched
//!    copies are updated in place, missing ones inserted, copies whose source is gone
//!    deleted (soft-deleted where the model has soft delete);
//! 3. the log row is finished: `success` with the number of rows copied per content
//!    model, or `failed` with the error's message after the copy was rolled back.

use std::collections::{HashMap, HashSet};

use sea_query::{Alias, LockType, Order, Query};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use tessera_schema::ir::{
    DefaultValue, Field, Managed, Model, Operation, PublishLog, RelationKind, ScalarType,
};
use tessera_schema::Schema;

use crate::access;
use crate::db::Tx;
use crate::engine::{DialectKind, Engine};
use crate::error::{ErrorKind, RuntimeError};
use crate::plan::{col, find_model, resolve_cond, Cond, SqlBuilder};
use crate::request::*;
use crate::value::{coerce, now, write_expr};
use crate::write::{actor_value, select_col, soft_delete, time_value};

/// Copy the content of one scope row (such as a project) from environment `from` to the
/// environment right after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublishRequest {
    /// The model owning the content (the target of the content models' `scope:` relation).
    pub scope_model: String,
    /// The primary key of the scope row.
    pub scope_key: Json,
    pub from: String,
    pub to: String,
}

/// A content model of the scope and the fields publishing reads and writes.
struct Content<'s> {
    model: &'s Model,
    pk: &'s Field,
    env: &'s Field,
    scope_fk: &'s Field,
    lineage: Option<&'s Field>,
    /// Everything copied from the source row: not the key, environment, lineage, scope or
    /// engine-managed fields (timestamps, actors, soft delete, import hash).
    copied: Vec<&'s Field>,
}

/// The publish log of the scope and its resolved fields.
struct Log<'s> {
    model: &'s Model,
    spec: &'s PublishLog,
    pk: &'s Field,
    scope_fk: &'s Field,
    actor_fk: Option<&'s Field>,
}

fn single_key<'s>(model: &'s Model, what: &str) -> Result<&'s Field, RuntimeError> {
    match model.primary_key.as_slice() {
        [name] => model.field(name).ok_or_else(|| {
            RuntimeError::internal(format!("schema inconsistency: {}.{name}", model.name))
        }),
        _ => Err(RuntimeError::bad_request(
            "22023",
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

/// The content models of `scope`; an error when it owns none (nothing to publish).
fn publishable_contents<'s>(
    schema: &'s Schema,
    scope: &'s Model,
) -> Result<Vec<Content<'s>>, RuntimeError> {
    let contents = content_models(schema, scope)?;
    if contents.is_empty() {
        return Err(RuntimeError::bad_request(
            "22023",
            format!("{} has no environment content to publish", scope.name),
        )
        .with_hint("Declare @@environment(field, scope: relation) on the models it owns"));
    }
    Ok(contents)
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
        return Err(
            RuntimeError::bad_request("22023", format!("unknown environment '{from}'"))
                .with_details(format!("the environments are, in publishing order: {list}")),
        );
    };
    match envs.get(i + 1) {
        Some(next) if next == to => Ok(()),
        Some(next) => Err(RuntimeError::bad_request(
            "22023",
            format!("cannot publish from {from} to {to}: {from} publishes to {next} only"),
        )
        .with_details(format!("publishing order: {list}"))
        .with_hint(format!("Publish from {from} to {next}"))),
        None => Err(RuntimeError::bad_request(
            "22023",
            format!("cannot publish from {from}: it is the last environment"),
        )
        .with_details(format!("publishing order: {list}"))),
    }
}

/// `field = value` under `alias`, through the read path's filters (so enums, uuids and
/// every other type compare alike on both engines).
fn eq(
    sql: &SqlBuilder,
    alias: &str,
    field: &Field,
    value: &Json,
) -> Result<sea_query::SimpleExpr, RuntimeError> {
    let text = match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    sql.cond(
        alias,
        &Cond::Filter(field, Operator::Eq, FilterValue::Text(text)),
    )
}

fn key_text(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(crate) async fn publish(
    engine: &Engine,
    ctx: &Context,
    req: &PublishRequest,
) -> Result<Json, RuntimeError> {
    let schema = engine.schema();
    let scope = find_model(schema, &req.scope_model)?;
    let contents = publishable_contents(schema, scope)?;
    check_transition(&environments(schema, &contents)?, &req.from, &req.to)?;
    let scope_pk = single_key(scope, "published")?;
    let key = coerce(schema, scope_pk, &req.scope_key).map_err(|(_, m)| {
        RuntimeError::bad_request("22P02", format!("invalid {} key: {m}", scope.name))
    })?;
    if key.is_null() {
        return Err(RuntimeError::bad_request(
            "22P02",
            format!("the {} key is required", scope.name),
        ));
    }
    // Publishing changes the scope's content: it needs the right to update the scope row.
    if let Some(own) = access::grant(ctx, scope, Operation::Update)?.and_then(|g| g.condition()) {
        let this_row = Condition::Filter(Filter {
            field: scope_pk.name.clone(),
            op: Operator::Eq,
            value: FilterValue::Text(json_key_text(&key)),
        });
        one_key(engine, ctx, &scope.name, &[this_row, own]).await?;
    }
    // A missing scope is a 404 and leaves no log row.
    {
        let mut tx = Tx::read(&engine.inner.pool, engine.inner.schema.clone()).await?;
        let found = scope_exists(&mut tx, schema, scope, scope_pk, &key, false).await;
        tx.commit().await?;
        found?;
    }
    let log = publish_log(schema, scope)?;
    let log_key = match &log {
        Some(log) => Some(start_log(engine, ctx, log, &key, req).await?),
        None => None,
    };
    let outcome = copy_all(engine, ctx, scope, scope_pk, &key, &contents, req).await;
    match (outcome, &log, log_key) {
        (Ok(counts), Some(log), Some(log_key)) => {
            let mut body = Map::new();
            body.insert(
                log.spec.status_field.clone(),
                Json::String("success".into()),
            );
            finished(log, &mut body);
            for c in &log.spec.counts {
                if let Some((_, n)) = counts.iter().find(|(m, _)| *m == c.model) {
                    body.insert(c.field.clone(), Json::from(*n));
                }
            }
            finish_log(engine, ctx, log, &log_key, body).await
        }
        (Ok(counts), _, _) => Ok(serde_json::json!({
            "from": req.from,
            "to": req.to,
            "status": "success",
            "copied": counts.into_iter().map(|(m, n)| (m, Json::from(n))).collect::<Map<String, Json>>(),
        })),
        (Err(error), Some(log), Some(log_key)) => {
            let mut body = Map::new();
            body.insert(log.spec.status_field.clone(), Json::String("failed".into()));
            finished(log, &mut body);
            body.insert(
                log.spec.error_field.clone(),
                Json::String(error.message.clone()),
            );
            if let Err(log_error) = finish_log(engine, ctx, log, &log_key, body).await {
                tracing::error!(error = %log_error, "recording a failed publish run failed");
            }
            Err(error)
        }
        (Err(error), _, _) => Err(error),
    }
}

fn finished(log: &Log, body: &mut Map<String, Json>) {
    if let Some(f) = log.model.field(&log.spec.finished_field) {
        body.insert(f.name.clone(), time_value(f, now()));
    }
}

async fn scope_exists(
    tx: &mut Tx,
    schema: &Schema,
    scope: &Model,
    pk: &Field,
    key: &Json,
    lock: bool,
) -> Result<(), RuntimeError> {
    let sql = SqlBuilder::new(schema, tx.dialect());
    let alias = scope.table.clone();
    let mut q = Query::select();
    q.expr(col(&alias, pk));
    q.from(Alias::new(&scope.table));
    q.and_where(eq(&sql, &alias, pk, key)?);
    if let Some(live) = sql.live(&alias, scope, Deleted::Exclude) {
        q.and_where(live);
    }
    if lock && tx.dialect() == DialectKind::Postgres {
        // Concurrent runs of one scope queue up instead of interleaving their copies.
        q.lock(LockType::Update);
    }
    let rows = tx
        .fetch(Some(scope), &q, std::slice::from_ref(&pk.ty))
        .await?;
    if rows.is_empty() {
        return Err(RuntimeError::new(
            ErrorKind::NotFound,
            "PGRST116",
            format!("{} {} does not exist", scope.name, key_text(key)),
        ));
    }
    Ok(())
}

async fn start_log(
    engine: &Engine,
    ctx: &Context,
    log: &Log<'_>,
    key: &Json,
    req: &PublishRequest,
) -> Result<Json, RuntimeError> {
    let spec = log.spec;
    let mut body = Map::new();
    body.insert(log.scope_fk.name.clone(), key.clone());
    body.insert(spec.from_field.clone(), Json::String(req.from.clone()));
    body.insert(spec.to_field.clone(), Json::String(req.to.clone()));
    body.insert(spec.status_field.clone(), Json::String("running".into()));
    if let Some(f) = log.model.field(&spec.started_field) {
        body.insert(f.name.clone(), time_value(f, now()));
    }
    if let (Some(actor_fk), Some(actor)) = (log.actor_fk, &ctx.actor) {
        body.insert(actor_fk.name.clone(), Json::String(actor.clone()));
    }
    let rows = engine
        .insert(
            ctx,
            &InsertRequest {
                model: log.model.name.clone(),
                body: Json::Object(body),
                ..InsertRequest::default()
            },
        )
        .await?;
    rows.first()
        .and_then(|r| r.get(&log.pk.name))
        .cloned()
        .ok_or_else(|| RuntimeError::internal("the publish log row was not returned"))
}

async fn finish_log(
    engine: &Engine,
    ctx: &Context,
    log: &Log<'_>,
    log_key: &Json,
    body: Map<String, Json>,
) -> Result<Json, RuntimeError> {
    let rows = engine
        .update(
            ctx,
            &UpdateRequest {
                model: log.model.name.clone(),
                filter: vec![Condition::Filter(Filter {
                    field: log.pk.name.clone(),
                    op: Operator::Eq,
                    value: FilterValue::Text(key_text(log_key)),
                })],
                body: Json::Object(body),
                ..UpdateRequest::default()
            },
        )
        .await?;
    rows.into_iter()
        .next()
        .ok_or_else(|| RuntimeError::internal("the publish log row disappeared"))
}

/// Copies every content model in one transaction; the number of rows copied per model.
async fn copy_all(
    engine: &Engine,
    ctx: &Context,
    scope: &Model,
    scope_pk: &Field,
    key: &Json,
    contents: &[Content<'_>],
    req: &PublishRequest,
) -> Result<Vec<(String, u64)>, RuntimeError> {
    let schema = engine.schema();
    let mut tx = Tx::write(&engine.inner.pool, engine.inner.schema.clone()).await?;
    let result = async {
        scope_exists(&mut tx, schema, scope, scope_pk, key, true).await?;
        let mut counts = Vec::new();
        for content in contents {
            let n = copy_model(&mut tx, schema, ctx, content, key, &req.from, &req.to).await?;
            counts.push((content.model.name.clone(), n));
        }
        Ok::<_, RuntimeError>(counts)
    }
    .await;
    match result {
        Ok(counts) => {
            tx.commit().await?;
            Ok(counts)
        }
        Err(error) => {
            if let Err(rollback) = tx.rollback().await {
                tracing::error!(error = %rollback, "rolling back a failed publish failed");
            }
            Err(error)
        }
    }
}

/// Live rows of one environment of the scope: each row's key, lineage and `fields`.
async fn rows_of(
    tx: &mut Tx,
    schema: &Schema,
    c: &Content<'_>,
    key: &Json,
    env: &str,
    fields: &[&Field],
) -> Result<Vec<Vec<Json>>, RuntimeError> {
    let sql = SqlBuilder::new(schema, tx.dialect());
    let m = c.model;
    let alias = m.table.clone();
    let mut q = Query::select();
    let mut types = Vec::new();
    for f in fields {
        q.expr(select_col(&sql, &alias, f));
        types.push(f.ty.clone());
    }
    q.from(Alias::new(&m.table));
    q.and_where(eq(&sql, &alias, c.scope_fk, key)?);
    q.and_where(eq(&sql, &alias, c.env, &Json::String(env.to_owned()))?);
    if let Some(live) = sql.live(&alias, m, Deleted::Exclude) {
        q.and_where(live);
    }
    q.order_by_expr(col(&alias, c.pk), Order::Asc);
    tx.fetch(Some(m), &q, &types).await
}

async fn copy_model(
    tx: &mut Tx,
    schema: &Schema,
    ctx: &Context,
    c: &Content<'_>,
    key: &Json,
    from: &str,
    to: &str,
) -> Result<u64, RuntimeError> {
    let dialect = tx.dialect();
    let sql = SqlBuilder::new(schema, dialect);
    let m = c.model;
    let at = now();
    // Source rows: key, lineage, copied fields.
    let mut source_fields = vec![c.pk];
    source_fields.extend(c.lineage);
    source_fields.extend(c.copied.iter().copied());
    let sources = rows_of(tx, schema, c, key, from, &source_fields).await?;
    let offset = 1 + usize::from(c.lineage.is_some());
    // Copies already in the target environment, by lineage.
    let mut target_fields = vec![c.pk];
    target_fields.extend(c.lineage);
    let targets = rows_of(tx, schema, c, key, to, &target_fields).await?;
    let mut by_lineage: HashMap<String, Json> = HashMap::new();
    let mut orphans: Vec<Vec<Json>> = Vec::new();
    for t in targets {
        let lineage = t.get(1).filter(|v| !v.is_null()).map(key_text);
        match lineage {
            Some(l) if !by_lineage.contains_key(&l) => {
                by_lineage.insert(l, t[0].clone());
            }
            _ => orphans.push(vec![t[0].clone()]),
        }
    }
    let mut updates = Vec::new();
    let mut inserts = Vec::new();
    let mut seen = HashSet::new();
    for s in &sources {
        let lineage = match c.lineage {
            Some(_) => s
                .get(1)
                .filter(|v| !v.is_null())
                .map(key_text)
                .unwrap_or_else(|| key_text(&s[0])),
            None => key_text(&s[0]),
        };
        seen.insert(lineage.clone());
        match by_lineage.get(&lineage) {
            Some(target_key) => updates.push((target_key.clone(), s)),
            _ => inserts.push((lineage, s)),
        }
    }
    for (l, target_key) in &by_lineage {
        if !seen.contains(l) {
            orphans.push(vec![target_key.clone()]);
        }
    }
    // Copies whose source is gone go first, so that a replacement does not collide with
    // them on a unique constraint.
    if !orphans.is_empty() {
        if m.behaviours.soft_delete.is_some() {
            soft_delete(tx, schema, m, &orphans, at, 0).await?;
        } else {
            for chunk in orphans.chunks(2000) {
                let mut q = Query::delete();
                q.from_table(Alias::new(&m.table));
                q.and_where(sql.keys_in(&m.table, m, chunk));
                tx.execute(Some(m), &q).await?;
            }
        }
    }
    let managed_on_update: Vec<(&Field, Json)> = m
        .stored_fields()
        .filter_map(|f| match f.managed {
            Some(Managed::UpdatedAt) => Some(Ok((f, time_value(f, at)))),
            Some(Managed::UpdatedBy) => Some(actor_value(schema, f, ctx).map(|v| (f, v))),
            _ => None,
        })
        .collect::<Result<_, _>>()?;
    for (target_key, s) in &updates {
        let mut q = Query::update();
        q.table(Alias::new(&m.table));
        for (i, f) in c.copied.iter().enumerate() {
            q.value(
                Alias::new(&f.column),
                write_expr(schema, f, &s[offset + i], dialect),
            );
        }
        for (f, v) in &managed_on_update {
            q.value(Alias::new(&f.column), write_expr(schema, f, v, dialect));
        }
        q.and_where(sql.keys_in(&m.table, m, &[vec![target_key.clone()]]));
        tx.execute(Some(m), &q).await?;
    }
    let managed_on_insert: Vec<(&Field, Json)> = m
        .stored_fields()
        .filter_map(|f| match f.managed {
            Some(Managed::CreatedAt | Managed::UpdatedAt) => Some(Ok((f, time_value(f, at)))),
            Some(Managed::CreatedBy | Managed::UpdatedBy) => {
                Some(actor_value(schema, f, ctx).map(|v| (f, v)))
            }
            _ => None,
        })
        .collect::<Result<_, _>>()?;
    for (lineage, s) in &inserts {
        let mut row: Vec<(&Field, Json)> = Vec::new();
        match &c.pk.default {
            Some(DefaultValue::GeneratedUuid) => {
                row.push((c.pk, Json::String(uuid::Uuid::new_v4().to_string())))
            }
            _ if c.pk.ty.scalar.is_auto_increment() => {}
            _ => {
                return Err(RuntimeError::bad_request(
                    "22023",
                    format!(
                        "{} rows cannot be copied: the key {} has no generated default",
                        m.name, c.pk.name
                    ),
                ))
            }
        }
        row.push((c.env, Json::String(to.to_owned())));
        row.push((c.scope_fk, key.clone()));
        if let Some(lf) = c.lineage {
            let value =
                coerce(schema, lf, &Json::String(lineage.clone())).map_err(|(_, msg)| {
                    RuntimeError::new(
                        ErrorKind::Validation,
                        "23514",
                        format!("{}.{}: {msg}", m.name, lf.name),
                    )
                })?;
            row.push((lf, value));
        }
        for (i, f) in c.copied.iter().enumerate() {
            row.push((f, s[offset + i].clone()));
        }
        row.extend(managed_on_insert.iter().cloned());
        let mut q = Query::insert();
        q.into_table(Alias::new(&m.table));
        q.columns(row.iter().map(|(f, _)| Alias::new(&f.column)));
        q.values(row.iter().map(|(f, v)| write_expr(schema, f, v, dialect)))
            .map_err(|e| RuntimeError::internal(format!("publish insert: {e}")))?;
        tx.execute(Some(m), &q).await?;
    }
    Ok((updates.len() + inserts.len()) as u64)
}

/// A key value as the text of a filter operand.
fn json_key_text(key: &Json) -> String {
    match key {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The key of the one live row of `model` matching `filter` among the rows the caller may
/// read and update: 404 when none does, 400 when several do. A caller whom the rules grant
/// neither is refused before any row is looked at.
pub(crate) async fn one_key(
    engine: &Engine,
    ctx: &Context,
    model: &str,
    filter: &[Condition],
) -> Result<Json, RuntimeError> {
    let schema = engine.schema();
    let m = find_model(schema, model)?;
    publishable_contents(schema, m)?;
    let pk = single_key(m, "published")?;
    if filter.is_empty() {
        return Err(RuntimeError::bad_request(
            "21000",
            format!("publishing needs a filter selecting one {} row", m.name),
        )
        .with_hint("Add a filter such as id=eq.<id> to the query string"));
    }
    let mut filter = filter.to_vec();
    for operation in [Operation::Read, Operation::Update] {
        if let Some(own) = access::grant(ctx, m, operation)?.and_then(|g| g.condition()) {
            filter.push(own);
        }
    }
    let mut tx = Tx::read(&engine.inner.pool, engine.inner.schema.clone()).await?;
    let sql = SqlBuilder::new(schema, tx.dialect());
    let alias = m.table.clone();
    let mut q = Query::select();
    q.expr(col(&alias, pk));
    q.from(Alias::new(&m.table));
    if let Some(live) = sql.live(&alias, m, Deleted::Exclude) {
        q.and_where(live);
    }
    for c in &filter {
        let c: Cond = resolve_cond(m, c)?;
        q.and_where(sql.cond(&alias, &c)?);
    }
    q.limit(2);
    let rows = tx.fetch(Some(m), &q, std::slice::from_ref(&pk.ty)).await?;
    tx.commit().await?;
    match rows.as_slice() {
        [row] => Ok(row.first().cloned().unwrap_or(Json::Null)),
        [] => Err(RuntimeError::new(
            ErrorKind::NotFound,
            "PGRST116",
            format!("no {} row matches the filter", m.name),
        )),
        _ => Err(RuntimeError::bad_request(
            "PGRST116",
            format!(
                "the filter matches several {} rows: publishing needs exactly one",
                m.name
            ),
        )),
    }
}
