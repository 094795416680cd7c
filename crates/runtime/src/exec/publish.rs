//! Publishing run. A run goes in three steps:
//!
//! 1. the log row is inserted (status `running`) in a transaction of its own, so a run is
//!    visible while it works and stays recorded whatever happens next;
//! 2. the content of every model whose environment scope points at the scope model is
//!    copied in ONE transaction: rows of the target environment are matched to their
//!    source by lineage (the source row's lineage, or its key for an original); matched
//!    copies are updated in place, missing ones inserted, copies whose source is gone
//!    deleted (soft-deleted where the model has soft delete);
//! 3. the log row is finished: `success` with the number of rows copied per content
//!    model, or `failed` with the error's message after the copy was rolled back.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value as Json};
use tessera_schema::ir::{DefaultValue, Field, Managed};
use tessera_schema::Schema;
use tessera_sql::value::{now, text_of};
use tessera_sql::Database;

use super::finish;
use super::write::{insert, key_types, soft_delete, update};
use crate::db::Tx;
use crate::error::{Code, ErrorKind, RuntimeError};
use crate::plan::publish::Log;
use crate::plan::write::{actor_value, time_value};
use crate::plan::{Comparison, Content, Planner, Predicate, Principal, PublishPlan, Row};
use crate::render::Renderer;
use crate::request::{Condition, Filter, FilterValue, InsertRequest, Operator, UpdateRequest};

pub(crate) async fn publish(
    db: &Database,
    planner: &Planner,
    principal: &Principal,
    plan: &PublishPlan<'_>,
) -> Result<Json, RuntimeError> {
    let schema = planner.schema_arc();
    // The run was authorized on the scope row (read and update); its log row is the
    // engine's record of it, written whatever the log model's rules let clients do, with
    // the caller as its actor.
    let logger = principal.engine_for();
    let key = {
        let mut tx = Tx::read_single(db, schema.clone()).await?;
        let found = scope_row(&mut tx, planner.schema(), plan, false).await;
        finish(tx, found).await?
    };
    let log_key = match &plan.log {
        Some(log) => Some(start_log(db, planner, &logger, log, &key, plan).await?),
        None => None,
    };
    // The copy and the log row's success commit together: a run logged `success` has
    // copied, and a run that copied is logged `success`, whatever stops the process.
    let outcome = {
        let mut tx = Tx::write(db, schema.clone()).await?;
        let result = async {
            let counts = copy_all(&mut tx, planner.schema(), principal, plan, &key).await?;
            match (&plan.log, &log_key) {
                (Some(log), Some(log_key)) => {
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
                    finish_log(&mut tx, planner, &logger, log, log_key, body).await
                }
                _ => Ok(serde_json::json!({
                    "from": plan.from,
                    "to": plan.to,
                    "status": "success",
                    "copied": counts.into_iter().map(|(m, n)| (m, Json::from(n))).collect::<Map<String, Json>>(),
                })),
            }
        }
        .await;
        finish(tx, result).await
    };
    let (Err(error), Some(log), Some(log_key)) = (&outcome, &plan.log, &log_key) else {
        return outcome;
    };
    let mut body = Map::new();
    body.insert(log.spec.status_field.clone(), Json::String("failed".into()));
    finished(log, &mut body);
    body.insert(
        log.spec.error_field.clone(),
        Json::String(error.message.clone()),
    );
    let recorded = async {
        let mut tx = Tx::write(db, schema.clone()).await?;
        let result = finish_log(&mut tx, planner, &logger, log, log_key, body).await;
        finish(tx, result).await
    }
    .await;
    if let Err(log_error) = recorded {
        tracing::error!(error = %log_error, "recording a failed publish run failed");
    }
    outcome
}

/// The key of the scope row: 404 when no row is it, 400 when several match. With `lock`,
/// the row is locked to the end of the transaction where the engine has row locks, so
/// that concurrent runs of one scope queue up instead of interleaving their copies.
async fn scope_row(
    tx: &mut Tx,
    schema: &Schema,
    plan: &PublishPlan<'_>,
    lock: bool,
) -> Result<Json, RuntimeError> {
    let dialect = tx.dialect();
    let renderer = Renderer::new(schema, dialect);
    let mut q = renderer.rows_of(plan.scope, &[plan.scope_key], &plan.scope_row);
    q.limit(2);
    if lock && dialect.supports_row_locks() {
        q.lock(sea_query::LockType::Update);
    }
    let rows = tx
        .fetch(
            Some(plan.scope),
            &q,
            std::slice::from_ref(&plan.scope_key.ty),
        )
        .await?;
    match rows.as_slice() {
        [row] => Ok(row.first().cloned().unwrap_or(Json::Null)),
        [] => Err(plan.missing()),
        _ => Err(plan.several()),
    }
}

fn finished(log: &Log, body: &mut Map<String, Json>) {
    if let Some(f) = log.model.field(&log.spec.finished_field) {
        body.insert(f.name.clone(), time_value(f, now()));
    }
}

/// Inserts the log row of a run (as the engine, for the caller); answers its key.
async fn start_log(
    db: &Database,
    planner: &Planner,
    principal: &Principal,
    log: &Log<'_>,
    key: &Json,
    plan: &PublishPlan<'_>,
) -> Result<Json, RuntimeError> {
    let spec = log.spec;
    let mut body = Map::new();
    body.insert(log.scope_fk.name.clone(), key.clone());
    body.insert(spec.from_field.clone(), Json::String(plan.from.clone()));
    body.insert(spec.to_field.clone(), Json::String(plan.to.clone()));
    body.insert(spec.status_field.clone(), Json::String("running".into()));
    if let Some(f) = log.model.field(&spec.started_field) {
        body.insert(f.name.clone(), time_value(f, now()));
    }
    if let (Some(actor_fk), Some(actor)) = (log.actor_fk, principal.actor()) {
        body.insert(actor_fk.name.clone(), Json::String(actor.to_owned()));
    }
    let req = InsertRequest {
        model: log.model.name.clone(),
        body: Json::Object(body),
        select: vec![crate::request::SelectItem::Field {
            name: log.pk.name.clone(),
            alias: None,
        }],
        ..InsertRequest::default()
    };
    let insert_plan = planner.insert(principal, &req, now())?;
    let mut tx = Tx::write(db, planner.schema_arc()).await?;
    let rows = insert(&mut tx, planner.schema(), insert_plan).await;
    let rows = finish(tx, rows).await?;
    rows.first()
        .and_then(|r| r.get(&log.pk.name))
        .cloned()
        .ok_or_else(|| RuntimeError::internal("the publish log row was not returned"))
}

/// Finishes the log row of a run (as the engine, for the caller), in `tx`; answers the row.
async fn finish_log(
    tx: &mut Tx,
    planner: &Planner,
    principal: &Principal,
    log: &Log<'_>,
    log_key: &Json,
    body: Map<String, Json>,
) -> Result<Json, RuntimeError> {
    let req = UpdateRequest {
        model: log.model.name.clone(),
        filter: vec![Condition::Filter(Filter {
            field: log.pk.name.clone(),
            op: Operator::Eq,
            value: FilterValue::Text(text_of(log_key)),
        })],
        body: Json::Object(body),
        ..UpdateRequest::default()
    };
    let update_plan = planner.update(principal, &req, now())?;
    update(tx, planner.schema(), update_plan)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| RuntimeError::internal("the publish log row disappeared"))
}

/// Copies every content model; the number of rows copied per model.
async fn copy_all(
    tx: &mut Tx,
    schema: &Schema,
    principal: &Principal,
    plan: &PublishPlan<'_>,
    key: &Json,
) -> Result<Vec<(String, u64)>, RuntimeError> {
    scope_row(tx, schema, plan, true).await?;
    let mut counts = Vec::new();
    for content in &plan.contents {
        let n = copy_model(tx, schema, principal, content, key, plan).await?;
        counts.push((content.model.name.clone(), n));
    }
    Ok(counts)
}

/// Live rows of one environment of the scope: each row's `fields`, in key order.
async fn rows_in(
    tx: &mut Tx,
    schema: &Schema,
    c: &Content<'_>,
    key: &Json,
    env: &str,
    fields: &[&Field],
) -> Result<Vec<Vec<Json>>, RuntimeError> {
    let mut only = vec![
        Predicate::Compare(c.scope_fk, Comparison::Eq, key.clone()),
        Predicate::Compare(c.env, Comparison::Eq, Json::String(env.to_owned())),
    ];
    only.extend(Predicate::live(c.model, crate::request::Deleted::Exclude));
    let mut q = Renderer::new(schema, tx.dialect()).rows_of(c.model, fields, &only);
    q.order_by_expr(
        crate::render::column(&c.model.table, c.pk),
        sea_query::Order::Asc,
    );
    let types: Vec<_> = fields.iter().map(|f| f.ty.clone()).collect();
    tx.fetch(Some(c.model), &q, &types).await
}

async fn copy_model(
    tx: &mut Tx,
    schema: &Schema,
    principal: &Principal,
    c: &Content<'_>,
    key: &Json,
    plan: &PublishPlan<'_>,
) -> Result<u64, RuntimeError> {
    let renderer = Renderer::new(schema, tx.dialect());
    let m = c.model;
    let at = super::write::deletion_instant();
    // Source rows: key, lineage, copied fields.
    let mut source_fields = vec![c.pk];
    source_fields.extend(c.lineage);
    source_fields.extend(c.copied.iter().copied());
    let sources = rows_in(tx, schema, c, key, &plan.from, &source_fields).await?;
    let offset = 1 + usize::from(c.lineage.is_some());
    // Copies already in the target environment, by lineage.
    let mut target_fields = vec![c.pk];
    target_fields.extend(c.lineage);
    let targets = rows_in(tx, schema, c, key, &plan.to, &target_fields).await?;
    let mut by_lineage: HashMap<String, Json> = HashMap::new();
    let mut orphans: Vec<Vec<Json>> = Vec::new();
    for t in targets {
        let lineage = t.get(1).filter(|v| !v.is_null()).map(text_of);
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
                .map(text_of)
                .unwrap_or_else(|| text_of(&s[0])),
            None => text_of(&s[0]),
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
            for chunk in orphans.chunks(super::read::IN_CHUNK) {
                let q = renderer.delete(m, &[Predicate::keys(m, chunk)]);
                tx.execute(Some(m), &q).await?;
            }
        }
    }
    let managed = |on_insert: bool| -> Result<Row, RuntimeError> {
        m.stored_fields()
            .filter_map(|f| match f.managed {
                Some(Managed::CreatedAt) if on_insert => Some(Ok((f, time_value(f, at)))),
                Some(Managed::UpdatedAt) => Some(Ok((f, time_value(f, at)))),
                Some(Managed::CreatedBy) if on_insert => {
                    Some(actor_value(schema, f, principal).map(|v| (f, v)))
                }
                Some(Managed::UpdatedBy) => Some(actor_value(schema, f, principal).map(|v| (f, v))),
                _ => None,
            })
            .collect()
    };
    let managed_on_update = managed(false)?;
    for (target_key, s) in &updates {
        let mut changes: Row = c
            .copied
            .iter()
            .enumerate()
            .map(|(i, f)| (*f, s[offset + i].clone()))
            .collect();
        changes.extend(managed_on_update.iter().cloned());
        let q = renderer.update(
            m,
            &[Predicate::keys(m, &[vec![target_key.clone()]])],
            &changes,
            None,
        );
        tx.execute(Some(m), &q).await?;
    }
    let managed_on_insert = managed(true)?;
    let mut rows: Vec<Row> = Vec::with_capacity(inserts.len());
    for (lineage, s) in &inserts {
        let mut row: Row = Vec::new();
        match &c.pk.default {
            Some(DefaultValue::GeneratedUuid) => {
                row.push((c.pk, Json::String(uuid::Uuid::new_v4().to_string())))
            }
            _ if c.pk.ty.scalar.is_auto_increment() => {}
            _ => {
                return Err(RuntimeError::bad_request(
                    Code::InvalidParameter,
                    format!(
                        "{} rows cannot be copied: the key {} has no generated default",
                        m.name, c.pk.name
                    ),
                ))
            }
        }
        row.push((c.env, Json::String(plan.to.clone())));
        row.push((c.scope_fk, key.clone()));
        if let Some(lf) = c.lineage {
            let value = crate::plan::values::coerce(schema, lf, &Json::String(lineage.clone()))
                .map_err(|(_, msg)| {
                    RuntimeError::new(
                        ErrorKind::Validation,
                        Code::ValidationFailed,
                        format!("{}.{}: {msg}", m.name, lf.name),
                    )
                })?;
            row.push((lf, value));
        }
        for (i, f) in c.copied.iter().enumerate() {
            row.push((*f, s[offset + i].clone()));
        }
        row.extend(managed_on_insert.iter().cloned());
        rows.push(row);
    }
    for chunk in rows.chunks(500) {
        let refs: Vec<&Row> = chunk.iter().collect();
        let q = renderer.insert(m, &refs, None, None);
        tx.fetch(Some(m), &q, &key_types(m)).await?;
    }
    Ok((updates.len() + inserts.len()) as u64)
}
