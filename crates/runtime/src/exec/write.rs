//! Writes run, each in one transaction: inserts of many rows in one statement (per shape
//! of row), updates and deletes as one statement over the rows the plan selects, soft
//! delete and restore with their cascades, the checks the database cannot make
//! (polymorphic references, the caller's grant on the rows to be written, judged before
//! they are), and the answer.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};
use tessera_schema::ir::{
    Field, FieldType, Model, ModelKind, OnDelete, Operation, RelationKind, ScalarType,
};
use tessera_schema::Schema;

use super::passwords::hash_rows;
use super::read::{by_keys, IN_CHUNK};
use crate::db::Tx;
use crate::error::{Code, ErrorKind, FieldError, RuntimeError};
use crate::plan::access::outside_grant;
use crate::plan::write::{soft_delete_field, time_value};
use crate::plan::{
    find_model, Comparison, DeletePlan, InsertPlan, Output, Predicate, RestorePlan, Row, UpdatePlan,
};
use crate::render::Renderer;
use crate::request::{Deleted, Returning};

/// Most values bound in one statement (SQLite allows 32,766; PostgreSQL 65,535).
const MAX_BOUND: usize = 30_000;

pub(crate) fn key_types(model: &Model) -> Vec<FieldType> {
    model.primary_key_fields().map(|f| f.ty.clone()).collect()
}

pub(crate) async fn insert(
    tx: &mut Tx,
    schema: &Schema,
    mut plan: InsertPlan<'_>,
) -> Result<Vec<Json>, RuntimeError> {
    let model = plan.model;
    if plan.rows.iter().any(Vec::is_empty) {
        return Err(RuntimeError::bad_request(Code::InvalidBody, "empty row"));
    }
    hash_rows(&mut plan.rows).await?;
    if let Some(field) = plan.import_hash {
        refuse_imported(tx, schema, model, field, &plan.rows).await?;
    }
    let renderer = Renderer::new(schema, tx.dialect());
    if let Some(check) = &plan.check {
        check_new_rows(tx, schema, model, &plan.rows, check).await?;
    }
    // An upsert's rows are known only once written (an existing row merged, or kept): they
    // are checked again as written.
    let written_check = plan.check.as_ref().filter(|_| plan.upsert.is_some());
    let mut keys = Vec::with_capacity(plan.rows.len());
    // Rows that write the same fields go in one statement, in the body's order.
    let mut start = 0;
    while start < plan.rows.len() {
        let shape: Vec<&str> = plan.rows[start]
            .iter()
            .map(|(f, _)| f.name.as_str())
            .collect();
        let per_statement = (MAX_BOUND / shape.len().max(1)).max(1);
        let mut end = start + 1;
        while end < plan.rows.len()
            && end - start < per_statement
            && plan.rows[end]
                .iter()
                .map(|(f, _)| f.name.as_str())
                .eq(shape.iter().copied())
        {
            end += 1;
        }
        let rows: Vec<&Row> = plan.rows[start..end].iter().collect();
        let check = written_check;
        let q = renderer.insert(model, &rows, plan.upsert.as_ref(), check);
        let written = tx
            .fetch(Some(model), &q, &returned_types(model, check))
            .await?;
        keys.extend(checked_keys(model, check, written, Operation::Create)?);
        start = end;
    }
    check_polymorphic(tx, schema, model, &keys).await?;
    answer(tx, schema, model, plan.output, keys).await
}

/// Refuses an insert when one of its rows falls outside the caller's grant (`check`),
/// judged before anything is written: a row's grant comes from the database as it stood,
/// never from the rows the insert itself adds (a membership the caller grants themself).
async fn check_new_rows(
    tx: &mut Tx,
    schema: &Schema,
    model: &Model,
    rows: &[Row<'_>],
    check: &Predicate<'_>,
) -> Result<(), RuntimeError> {
    let renderer = Renderer::new(schema, tx.dialect());
    let per_statement = (MAX_BOUND / model.stored_fields().count().max(1)).max(1);
    let outside = FieldType {
        scalar: ScalarType::Bool,
        array: false,
    };
    for chunk in rows.chunks(per_statement) {
        let chunk: Vec<&Row> = chunk.iter().collect();
        let q = renderer.rows_outside(model, &chunk, check);
        let found = tx
            .fetch(Some(model), &q, std::slice::from_ref(&outside))
            .await?;
        if found.iter().any(|r| r.first() == Some(&Json::Bool(true))) {
            return Err(outside_grant(
                model,
                Operation::Create,
                "the row must belong to the caller".to_owned(),
            ));
        }
    }
    Ok(())
}

/// The keys of the rows `predicates` select, refused when one of them, as `changes` leave
/// it, falls outside the caller's grant (`check`), judged before anything is written.
async fn checked_changes(
    tx: &mut Tx,
    schema: &Schema,
    model: &Model,
    predicates: &[Predicate<'_>],
    changes: &[(&Field, Json)],
    check: &Predicate<'_>,
) -> Result<Vec<Vec<Json>>, RuntimeError> {
    let q = Renderer::new(schema, tx.dialect()).changed_outside(model, predicates, changes, check);
    let rows = tx
        .fetch(Some(model), &q, &returned_types(model, Some(check)))
        .await?;
    checked_keys(model, Some(check), rows, Operation::Update)
}

/// A plain insert of rows whose import hash is stored already (or given twice) is a
/// conflict, named with the hash.
async fn refuse_imported(
    tx: &mut Tx,
    schema: &Schema,
    model: &Model,
    field: &Field,
    rows: &[Row<'_>],
) -> Result<(), RuntimeError> {
    let hashes: Vec<Json> = rows
        .iter()
        .filter_map(|r| {
            r.iter()
                .find(|(f, _)| f.name == field.name)
                .map(|(_, v)| v.clone())
        })
        .filter(|v| !v.is_null())
        .collect();
    let mut seen = HashSet::new();
    if let Some(dup) = hashes.iter().find(|h| !seen.insert(h.to_string())) {
        return Err(import_conflict(model, field, dup));
    }
    let renderer = Renderer::new(schema, tx.dialect());
    for chunk in hashes.chunks(IN_CHUNK) {
        let q = renderer.rows_of(model, &[field], &[Predicate::In(field, chunk.to_vec())]);
        let found = tx
            .fetch(Some(model), &q, std::slice::from_ref(&field.ty))
            .await?;
        if let Some(first) = found.first().and_then(|r| r.first()) {
            return Err(import_conflict(model, field, first));
        }
    }
    Ok(())
}

fn import_conflict(model: &Model, field: &Field, value: &Json) -> RuntimeError {
    RuntimeError::new(
        ErrorKind::Conflict,
        Code::UniqueViolation,
        format!("{} with {} {value} was already imported", model.name, field.name),
    )
    .with_details(format!("fields: {}", field.name))
    .with_hint("Upsert with on_conflict=importHash and Prefer: resolution=ignore-duplicates to skip imported rows")
}

pub(crate) async fn update(
    tx: &mut Tx,
    schema: &Schema,
    mut plan: UpdatePlan<'_>,
) -> Result<Vec<Json>, RuntimeError> {
    let model = plan.model;
    if plan.changes.is_empty() {
        // Nothing to set (a `{}` body, no update time to maintain): as in PostgREST, the
        // database is not touched and no row is answered.
        return answer(tx, schema, model, plan.output, Vec::new()).await;
    }
    hash_rows(std::slice::from_mut(&mut plan.changes)).await?;
    let renderer = Renderer::new(schema, tx.dialect());
    let keys = if !plan.merge.is_empty() {
        merge_update(tx, schema, &plan).await?
    } else if let Some(check) = &plan.check {
        // The rows are checked as changed, then exactly those are changed.
        let keys =
            checked_changes(tx, schema, model, &plan.predicates, &plan.changes, check).await?;
        let mut written = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(IN_CHUNK) {
            let mut only = plan.predicates.clone();
            only.push(Predicate::keys(model, chunk));
            let q = renderer.update(model, &only, &plan.changes, None);
            written.extend(tx.fetch(Some(model), &q, &key_types(model)).await?);
        }
        written
    } else {
        let q = renderer.update(model, &plan.predicates, &plan.changes, None);
        tx.fetch(Some(model), &q, &key_types(model)).await?
    };
    if plan.polymorphic {
        check_polymorphic(tx, schema, model, &keys).await?;
    }
    answer(tx, schema, model, plan.output, keys).await
}

/// An update merging JSON documents into the stored ones (RFC 7386): each row's
/// documents are read, merged and written back.
async fn merge_update(
    tx: &mut Tx,
    schema: &Schema,
    plan: &UpdatePlan<'_>,
) -> Result<Vec<Vec<Json>>, RuntimeError> {
    let model = plan.model;
    let renderer = Renderer::new(schema, tx.dialect());
    let pk: Vec<&Field> = model.primary_key_fields().collect();
    let mut fields = pk.clone();
    fields.extend(plan.merge.iter().copied());
    let types: Vec<FieldType> = fields.iter().map(|f| f.ty.clone()).collect();
    let q = renderer.rows_of(model, &fields, &plan.predicates);
    let mut keys = Vec::new();
    for mut row in tx.fetch(Some(model), &q, &types).await? {
        let current = row.split_off(pk.len());
        let changes: Vec<(&Field, Json)> = plan
            .changes
            .iter()
            .map(
                |(f, v)| match plan.merge.iter().position(|m| m.name == f.name) {
                    Some(i) => {
                        let mut doc = current.get(i).cloned().unwrap_or(Json::Null);
                        merge_patch(&mut doc, v);
                        (*f, doc)
                    }
                    None => (*f, v.clone()),
                },
            )
            .collect();
        let only = [Predicate::keys(model, std::slice::from_ref(&row))];
        if let Some(check) = &plan.check {
            checked_changes(tx, schema, model, &only, &changes, check).await?;
        }
        let q = renderer.update(model, &only, &changes, None);
        tx.execute(Some(model), &q).await?;
        keys.push(row);
    }
    Ok(keys)
}

/// RFC 7386: members of `patch` replace those of `target`, recursively; null removes.
pub(crate) fn merge_patch(target: &mut Json, patch: &Json) {
    let Json::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Json::Object(Map::new());
    }
    if let Json::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Json::Null), v);
            }
        }
    }
}

pub(crate) async fn delete(
    tx: &mut Tx,
    schema: &Schema,
    plan: DeletePlan<'_>,
) -> Result<Vec<Json>, RuntimeError> {
    let model = plan.model;
    let renderer = Renderer::new(schema, tx.dialect());
    if plan.soft {
        let pk: Vec<&Field> = model.primary_key_fields().collect();
        let q = renderer.rows_of(model, &pk, &plan.predicates);
        let keys = tx.fetch(Some(model), &q, &key_types(model)).await?;
        soft_delete(tx, schema, model, &keys, deletion_instant(), 0).await?;
        return answer(tx, schema, model, plan.output, keys).await;
    }
    // A permanent delete: the rows are read before they are gone.
    let pk: Vec<&Field> = model.primary_key_fields().collect();
    let q = renderer.rows_of(model, &pk, &plan.predicates);
    let keys = tx.fetch(Some(model), &q, &key_types(model)).await?;
    let rows = represent(tx, schema, &plan.output, &keys).await?;
    for chunk in keys.chunks(IN_CHUNK) {
        let q = renderer.delete(model, &[Predicate::keys(model, chunk)]);
        tx.execute(Some(model), &q).await?;
    }
    single(&plan.output, keys.len())?;
    Ok(rows)
}

pub(crate) async fn restore(
    tx: &mut Tx,
    schema: &Schema,
    plan: RestorePlan<'_>,
) -> Result<Vec<Json>, RuntimeError> {
    let model = plan.model;
    let renderer = Renderer::new(schema, tx.dialect());
    let mut fields: Vec<&Field> = model.primary_key_fields().collect();
    let pk_len = fields.len();
    fields.push(plan.deleted_at);
    let mut types = key_types(model);
    types.push(plan.deleted_at.ty.clone());
    let q = renderer.rows_of(model, &fields, &plan.predicates);
    let matched = tx.fetch(Some(model), &q, &types).await?;
    // Rows deleted by one operation share its timestamp: restore them together.
    let mut groups: Vec<(Json, Vec<Vec<Json>>)> = Vec::new();
    let mut keys = Vec::with_capacity(matched.len());
    for mut row in matched {
        let at = row
            .split_off(pk_len)
            .into_iter()
            .next()
            .unwrap_or(Json::Null);
        keys.push(row.clone());
        match groups.iter_mut().find(|(t, _)| *t == at) {
            Some((_, list)) => list.push(row),
            None => groups.push((at, vec![row])),
        }
    }
    for (at, group) in &groups {
        restore_rows(tx, schema, model, group, at, 0).await?;
    }
    answer(tx, schema, model, plan.output, keys).await
}

/// The answer of a write of the rows with these keys: refused unless it wrote the one row
/// a single-object request needs; their representation, keys, or nothing.
async fn answer(
    tx: &mut Tx,
    schema: &Schema,
    model: &Model,
    output: Output<'_>,
    keys: Vec<Vec<Json>>,
) -> Result<Vec<Json>, RuntimeError> {
    single(&output, keys.len())?;
    match output.returning {
        Returning::Representation => represent(tx, schema, &output, &keys).await,
        Returning::Keys => Ok(keys
            .into_iter()
            .map(|key| {
                Json::Object(
                    model
                        .primary_key
                        .iter()
                        .cloned()
                        .zip(key)
                        .collect::<Map<String, Json>>(),
                )
            })
            .collect()),
        Returning::Nothing => Ok(Vec::new()),
    }
}

fn single(output: &Output, written: usize) -> Result<(), RuntimeError> {
    if output.single && written != 1 {
        return Err(RuntimeError::not_one_row(written));
    }
    Ok(())
}

async fn represent(
    tx: &mut Tx,
    schema: &Schema,
    output: &Output<'_>,
    keys: &[Vec<Json>],
) -> Result<Vec<Json>, RuntimeError> {
    match &output.representation {
        Some(level) if !keys.is_empty() => by_keys(tx, schema, level, keys).await,
        _ => Ok(Vec::new()),
    }
}

/// The types of what a write returns: its rows' keys, then with a `check` whether each
/// row falls outside it.
fn returned_types(model: &Model, check: Option<&Predicate>) -> Vec<FieldType> {
    let mut types = key_types(model);
    if check.is_some() {
        types.push(FieldType {
            scalar: ScalarType::Bool,
            array: false,
        });
    }
    types
}

/// The keys of the written rows; with a `check` (the caller's grant for `operation`), a
/// row written outside it is refused, and the write with it.
fn checked_keys(
    model: &Model,
    check: Option<&Predicate>,
    mut written: Vec<Vec<Json>>,
    operation: Operation,
) -> Result<Vec<Vec<Json>>, RuntimeError> {
    if check.is_none() {
        return Ok(written);
    }
    for row in &mut written {
        if row.pop() == Some(Json::Bool(true)) {
            return Err(outside_grant(
                model,
                operation,
                match operation {
                    Operation::Create => "the row must belong to the caller".to_owned(),
                    _ => "the row must stay within the caller's access".to_owned(),
                },
            ));
        }
    }
    Ok(written)
}

/// Polymorphic references have no database foreign key: checks that the written rows'
/// type and id columns are both set (or both empty) and name a live row of that model.
async fn check_polymorphic(
    tx: &mut Tx,
    schema: &Schema,
    model: &Model,
    keys: &[Vec<Json>],
) -> Result<(), RuntimeError> {
    let renderer = Renderer::new(schema, tx.dialect());
    for rel in &model.relations {
        let RelationKind::Polymorphic {
            type_field,
            id_field,
            ..
        } = &rel.kind
        else {
            continue;
        };
        let (Some(tf), Some(idf)) = (model.field(type_field), model.field(id_field)) else {
            continue;
        };
        let mut wanted: Vec<(String, Json)> = Vec::new();
        for chunk in keys.chunks(IN_CHUNK) {
            let q = renderer.rows_of(model, &[tf, idf], &[Predicate::keys(model, chunk)]);
            let types = [tf.ty.clone(), idf.ty.clone()];
            for row in tx.fetch(Some(model), &q, &types).await? {
                match (&row[0], &row[1]) {
                    (Json::Null, Json::Null) => {}
                    (Json::String(t), id) if !id.is_null() => {
                        if !wanted.iter().any(|(wt, wid)| wt == t && wid == id) {
                            wanted.push((t.clone(), id.clone()));
                        }
                    }
                    _ => {
                        return Err(RuntimeError::validation(vec![FieldError {
                            field: rel.name.clone(),
                            rule: "required".into(),
                            message: format!(
                                "{} needs both {} and {} (or neither)",
                                rel.name, tf.name, idf.name
                            ),
                            row: None,
                        }]))
                    }
                }
            }
        }
        let mut by_model: Vec<(&str, Vec<&Json>)> = Vec::new();
        for (t, id) in &wanted {
            match by_model.iter_mut().find(|(m, _)| m == t) {
                Some((_, ids)) => ids.push(id),
                None => by_model.push((t, vec![id])),
            }
        }
        for (target_name, ids) in by_model {
            let missing = |id: &Json| {
                RuntimeError::new(
                    ErrorKind::Conflict,
                    Code::ForeignKeyViolation,
                    format!(
                        "{}.{} references {target_name} {}, which does not exist",
                        model.name,
                        rel.name,
                        tessera_sql::value::text_of(id)
                    ),
                )
                .with_details(format!(
                    "polymorphic relation {}.{} ({}, {})",
                    model.name, rel.name, tf.name, idf.name
                ))
            };
            let target = find_model(schema, target_name)?;
            let [pk_name] = target.primary_key.as_slice() else {
                continue;
            };
            let Some(pk) = target.field(pk_name) else {
                continue;
            };
            let mut canonical = Vec::new();
            for id in &ids {
                canonical
                    .push(crate::plan::values::coerce(schema, pk, id).map_err(|_| missing(id))?);
            }
            let mut found = HashSet::new();
            for chunk in canonical.chunks(IN_CHUNK) {
                let mut only = vec![Predicate::In(pk, chunk.to_vec())];
                only.extend(Predicate::live(target, Deleted::Exclude));
                let q = renderer.rows_of(target, &[pk], &only);
                for row in tx
                    .fetch(Some(target), &q, std::slice::from_ref(&pk.ty))
                    .await?
                {
                    if let Some(v) = row.into_iter().next() {
                        found.insert(tessera_sql::value::text_of(&v).to_ascii_lowercase());
                    }
                }
            }
            if let Some(i) = canonical
                .iter()
                .position(|v| !found.contains(&tessera_sql::value::text_of(v).to_ascii_lowercase()))
            {
                return Err(missing(ids[i]));
            }
        }
    }
    Ok(())
}

/// The instant of a delete: now, but later than every delete before it in this process.
/// Rows a delete cascades to share its instant, and a restore brings back together the
/// rows deleted at one instant: two deletes in one millisecond must not share one.
pub(crate) fn deletion_instant() -> DateTime<Utc> {
    use std::sync::atomic::{AtomicI64, Ordering};
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = tessera_sql::value::now().timestamp_millis();
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = now.max(last + 1);
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return DateTime::from_timestamp_millis(next).unwrap_or_else(Utc::now),
            Err(seen) => last = seen,
        }
    }
}

/// A relation of `child` pointing at `parent`: how to find the children of parent rows.
struct ChildLink<'s> {
    child: &'s Model,
    relation: &'s str,
    /// The child's column holding the parent's value.
    fk: &'s Field,
    /// The parent's referenced field.
    references: &'s Field,
    on_delete: OnDelete,
    /// Polymorphic children: the type column must name the parent model.
    type_field: Option<&'s Field>,
}

fn child_links<'s>(schema: &'s Schema, parent: &'s Model) -> Vec<ChildLink<'s>> {
    let mut out = Vec::new();
    for child in &schema.models {
        for rel in &child.relations {
            match &rel.kind {
                RelationKind::ToOne {
                    target,
                    field,
                    references,
                    on_delete,
                    ..
                } if *target == parent.name => {
                    if let (Some(fk), Some(r)) = (child.field(field), parent.field(references)) {
                        if fk.computed.is_none() {
                            out.push(ChildLink {
                                child,
                                relation: &rel.name,
                                fk,
                                references: r,
                                on_delete: *on_delete,
                                type_field: None,
                            });
                        }
                    }
                }
                RelationKind::Polymorphic {
                    targets,
                    type_field,
                    id_field,
                    ..
                } if targets.contains(&parent.name) => {
                    if let (Some(fk), Some(tf), [pk]) = (
                        child.field(id_field),
                        child.field(type_field),
                        parent.primary_key.as_slice(),
                    ) {
                        if let Some(r) = parent.field(pk) {
                            out.push(ChildLink {
                                child,
                                relation: &rel.name,
                                fk,
                                references: r,
                                on_delete: OnDelete::Cascade,
                                type_field: Some(tf),
                            });
                        }
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// Non-null values of `field` for the rows with these keys.
async fn values_of(
    tx: &mut Tx,
    schema: &Schema,
    model: &Model,
    keys: &[Vec<Json>],
    field: &Field,
) -> Result<Vec<Json>, RuntimeError> {
    if model.primary_key.len() == 1 && model.primary_key[0] == field.name {
        return Ok(keys.iter().filter_map(|k| k.first().cloned()).collect());
    }
    let renderer = Renderer::new(schema, tx.dialect());
    let mut out = Vec::new();
    for chunk in keys.chunks(IN_CHUNK) {
        let q = renderer.rows_of(model, &[field], &[Predicate::keys(model, chunk)]);
        for r in tx
            .fetch(Some(model), &q, std::slice::from_ref(&field.ty))
            .await?
        {
            out.extend(r.into_iter().filter(|v| !v.is_null()));
        }
    }
    Ok(out)
}

/// Keys of the children of `link` whose fk is one of `values` (and, for soft-delete
/// children, whose deletion time is `deleted_at` when given, or who are live).
async fn children(
    tx: &mut Tx,
    schema: &Schema,
    parent: &Model,
    link: &ChildLink<'_>,
    values: &[Json],
    deleted_at: Option<&Json>,
) -> Result<Vec<Vec<Json>>, RuntimeError> {
    let child = link.child;
    let renderer = Renderer::new(schema, tx.dialect());
    let pk: Vec<&Field> = child.primary_key_fields().collect();
    let mut keys = Vec::new();
    for chunk in values.chunks(IN_CHUNK) {
        let mut only = vec![Predicate::In(link.fk, chunk.to_vec())];
        if let Some(tf) = link.type_field {
            only.push(Predicate::Compare(
                tf,
                Comparison::Eq,
                Json::String(parent.name.clone()),
            ));
        }
        if let Some(sd) = soft_delete_field(child) {
            only.push(match deleted_at {
                Some(at) => Predicate::Compare(sd, Comparison::Eq, at.clone()),
                None => Predicate::IsNull(sd),
            });
        }
        let q = renderer.rows_of(child, &pk, &only);
        keys.extend(tx.fetch(Some(child), &q, &key_types(child)).await?);
    }
    Ok(keys)
}

/// Soft-deletes the rows with these keys at `at`, after what references them: restrict
/// refuses before anything changes, set null clears, cascade deletes (softly where the
/// child has soft delete; links of implicit many-to-many tables stay, to come back on
/// restore).
pub(crate) fn soft_delete<'a>(
    tx: &'a mut Tx,
    schema: &'a Schema,
    model: &'a Model,
    keys: &'a [Vec<Json>],
    at: DateTime<Utc>,
    depth: usize,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), RuntimeError>> + Send + 'a>> {
    Box::pin(async move {
        if keys.is_empty() || depth > 32 {
            return Ok(());
        }
        let renderer = Renderer::new(schema, tx.dialect());
        for link in child_links(schema, model) {
            let values = values_of(tx, schema, model, keys, link.references).await?;
            if values.is_empty() {
                continue;
            }
            let child = link.child;
            let child_keys = children(tx, schema, model, &link, &values, None).await?;
            if child_keys.is_empty() {
                continue;
            }
            match link.on_delete {
                OnDelete::Restrict | OnDelete::NoAction => {
                    return Err(RuntimeError::new(
                        ErrorKind::Conflict,
                        Code::ForeignKeyViolation,
                        format!(
                            "cannot delete {}: {} {} row(s) still reference it through {}.{}",
                            model.name,
                            child_keys.len(),
                            child.name,
                            child.name,
                            link.relation
                        ),
                    )
                    .with_details(format!(
                        "relation {}.{} (on_delete: restrict)",
                        child.name, link.relation
                    ))
                    .with_hint(format!("Delete or re-assign the {} rows first", child.name)));
                }
                OnDelete::SetNull => {
                    for chunk in child_keys.chunks(IN_CHUNK) {
                        let q = renderer.update(
                            child,
                            &[Predicate::keys(child, chunk)],
                            &[(link.fk, Json::Null)],
                            None,
                        );
                        tx.execute(Some(child), &q).await?;
                    }
                }
                OnDelete::Cascade => {
                    if child.behaviours.soft_delete.is_some() {
                        soft_delete(tx, schema, child, &child_keys, at, depth + 1).await?;
                    } else if child.kind != ModelKind::JoinTable {
                        for chunk in child_keys.chunks(IN_CHUNK) {
                            let q = renderer.delete(child, &[Predicate::keys(child, chunk)]);
                            tx.execute(Some(child), &q).await?;
                        }
                    }
                }
            }
        }
        if let Some(sd) = soft_delete_field(model) {
            let stamp = time_value(sd, at);
            for chunk in keys.chunks(IN_CHUNK) {
                let q = renderer.update(
                    model,
                    &[Predicate::keys(model, chunk), Predicate::IsNull(sd)],
                    &[(sd, stamp.clone())],
                    None,
                );
                tx.execute(Some(model), &q).await?;
            }
        }
        Ok(())
    })
}

fn restore_rows<'a>(
    tx: &'a mut Tx,
    schema: &'a Schema,
    model: &'a Model,
    keys: &'a [Vec<Json>],
    at: &'a Json,
    depth: usize,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), RuntimeError>> + Send + 'a>> {
    Box::pin(async move {
        if keys.is_empty() || depth > 32 {
            return Ok(());
        }
        let renderer = Renderer::new(schema, tx.dialect());
        if let Some(sd) = soft_delete_field(model) {
            for chunk in keys.chunks(IN_CHUNK) {
                let q = renderer.update(
                    model,
                    &[Predicate::keys(model, chunk)],
                    &[(sd, Json::Null)],
                    None,
                );
                tx.execute(Some(model), &q).await?;
            }
        }
        for link in child_links(schema, model) {
            if link.on_delete != OnDelete::Cascade || link.child.behaviours.soft_delete.is_none() {
                continue;
            }
            let values = values_of(tx, schema, model, keys, link.references).await?;
            if values.is_empty() {
                continue;
            }
            let child_keys = children(tx, schema, model, &link, &values, Some(at)).await?;
            restore_rows(tx, schema, link.child, &child_keys, at, depth + 1).await?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::{deletion_instant, merge_patch};
    use serde_json::json;

    #[test]
    fn deletes_in_one_millisecond_get_distinct_instants() {
        let first = deletion_instant();
        let second = deletion_instant();
        assert!(second > first);
    }

    #[test]
    fn merge_patch_replaces_members_recursively_and_null_removes() {
        let mut doc = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1]});
        merge_patch(
            &mut doc,
            &json!({"a": null, "b": {"c": 5}, "e": [2], "f": "new"}),
        );
        assert_eq!(doc, json!({"b": {"c": 5, "d": 3}, "e": [2], "f": "new"}));
    }

    #[test]
    fn merge_patch_of_a_non_object_replaces_the_document() {
        let mut doc = json!({"a": 1});
        merge_patch(&mut doc, &json!([1, 2]));
        assert_eq!(doc, json!([1, 2]));
    }
}
