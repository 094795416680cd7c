//! Writes: inserts and upserts, updates (with JSON merge), deletes with soft-delete
//! cascades, and restores.
//!
//! Every write runs in one transaction and enforces the schema's rules itself, so both
//! engines behave alike: transforms, then type and enum checks, then validations (every
//! failing field reported at once), then hashing; defaults and engine-managed fields are
//! filled by the engine; clients cannot write managed, virtual or (on update) readonly
//! fields, and on the `@@auth` model users write only the email, the password and the
//! sign-up fields.

use std::collections::HashSet;
use std::sync::OnceLock;

use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordVerifier, Version};
use regex::Regex;
use sea_query::{Alias, Expr, OnConflict, Query, SimpleExpr};
use serde_json::{Map, Value as Json};
use tessera_schema::ir::{
    Comparison, DefaultValue, Field, FieldCondition, FieldType, HashAlgorithm, Managed, Model,
    OnDelete, Operation, RelationKind, Rule, Transform,
};
use tessera_schema::Schema;

use crate::access::{self, Grant};
use crate::db::Tx;
use crate::engine::{DialectKind, Engine};
use crate::error::{ErrorKind, FieldError, RuntimeError};
use crate::plan::{self, col, find_model, resolve_cond, SqlBuilder};
use crate::request::*;
use crate::value::{bind_scalar, coerce, fmt_ts, fmt_tstz, now, number, write_expr};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Insert,
    Update,
}

/// argon2id with OWASP's parameters: 19 MiB, 2 iterations, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password with argon2id (OWASP parameters), on the calling thread. Hashing
/// is deliberately slow (tens of milliseconds): async code calls [`hash_password`].
pub fn hash_password_blocking(plain: &str) -> Result<String, RuntimeError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(plain.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| RuntimeError::internal(format!("hashing failed: {e}")))
}

/// Hashes a password with argon2id on tokio's blocking pool, so that request threads
/// keep serving while it works.
pub async fn hash_password(plain: &str) -> Result<String, RuntimeError> {
    let plain = plain.to_owned();
    tokio::task::spawn_blocking(move || hash_password_blocking(&plain))
        .await
        .map_err(|e| RuntimeError::internal(format!("hashing task failed: {e}")))?
}

/// Whether `plain` matches a stored hash: argon2 (PHC string, as Tessera writes them) or
/// bcrypt (`$2a$`, `$2b$`, `$2y$`, as imported from other systems). Anything else, and a
/// malformed hash, never matches. Runs on the calling thread; async code calls
/// [`verify_password`].
pub fn verify_password_blocking(stored: &str, plain: &str) -> bool {
    if is_bcrypt_hash(stored) {
        return bcrypt::verify(plain, stored).unwrap_or(false);
    }
    PasswordHash::new(stored)
        .map(|h| argon2().verify_password(plain.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// [`verify_password_blocking`] on tokio's blocking pool.
pub async fn verify_password(stored: &str, plain: &str) -> Result<bool, RuntimeError> {
    let (stored, plain) = (stored.to_owned(), plain.to_owned());
    tokio::task::spawn_blocking(move || verify_password_blocking(&stored, &plain))
        .await
        .map_err(|e| RuntimeError::internal(format!("password check failed: {e}")))
}

/// Whether a validated value of `field` is a plain password still to be hashed (bcrypt
/// hashes given to `@hash(bcrypt)` fields are kept as they are).
fn needs_hashing(field: &Field, value: &Json) -> bool {
    match (field.hash, value.as_str()) {
        (Some(HashAlgorithm::Bcrypt), Some(s)) => !is_bcrypt_hash(s),
        (Some(_), Some(_)) => true,
        _ => false,
    }
}

/// Hashes the plain passwords of checked rows, all in one blocking task.
async fn hash_rows(rows: &mut [Prepared<'_>]) -> Result<(), RuntimeError> {
    let mut slots = Vec::new();
    let mut plains = Vec::new();
    for (r, row) in rows.iter().enumerate() {
        for (i, (field, value)) in row.iter().enumerate() {
            if needs_hashing(field, value) {
                slots.push((r, i));
                plains.push(value.as_str().unwrap_or_default().to_owned());
            }
        }
    }
    if plains.is_empty() {
        return Ok(());
    }
    let hashed = tokio::task::spawn_blocking(move || {
        plains
            .iter()
            .map(|p| hash_password_blocking(p))
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    .map_err(|e| RuntimeError::internal(format!("hashing task failed: {e}")))??;
    for ((r, i), h) in slots.into_iter().zip(hashed) {
        rows[r][i].1 = Json::String(h);
    }
    Ok(())
}

/// `$2a$`, `$2b$` or `$2y$` bcrypt hashes (60 characters), accepted as they are by
/// `@hash(bcrypt)` fields.
pub fn is_bcrypt_hash(value: &str) -> bool {
    value.len() == 60
        && (value.starts_with("$2a$") || value.starts_with("$2b$") || value.starts_with("$2y$"))
}

fn email_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
            .unwrap_or_else(|_| Regex::new("$^").unwrap_or_else(|_| unreachable!()))
    })
}

fn default_message(field: &str, rule: &Rule) -> String {
    match rule {
        Rule::NotEmpty => format!("{field} must not be empty"),
        Rule::Length { min, max } => match (min, max) {
            (Some(a), Some(b)) => format!("{field} must be between {a} and {b} characters"),
            (Some(a), None) => format!("{field} must be at least {a} characters"),
            (None, Some(b)) => format!("{field} must be at most {b} characters"),
            (None, None) => format!("{field} has an invalid length"),
        },
        Rule::Email => format!("{field} must be a valid email address"),
        Rule::Url => format!("{field} must be a valid http(s) URL"),
        Rule::Pattern { regex } => format!("{field} must match the pattern {regex}"),
        Rule::Min { value } => format!("{field} must be at least {value}"),
        Rule::Max { value } => format!("{field} must be at most {value}"),
        Rule::OneOf { values } => format!("{field} must be one of: {}", values.join(", ")),
    }
}

fn rule_holds(rule: &Rule, value: &Json) -> bool {
    let text = value.as_str();
    match rule {
        Rule::NotEmpty => text.is_none_or(|s| !s.is_empty()),
        Rule::Length { min, max } => match text {
            Some(s) => {
                let n = s.chars().count() as u64;
                min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m)
            }
            None => true,
        },
        Rule::Email => text.is_none_or(|s| email_regex().is_match(s)),
        Rule::Url => text.is_none_or(|s| {
            (s.starts_with("http://") || s.starts_with("https://"))
                && s.len() > 8
                && !s.chars().any(char::is_whitespace)
        }),
        Rule::Pattern { regex } => match (text, Regex::new(regex)) {
            (Some(s), Ok(re)) => re.is_match(s),
            _ => true,
        },
        Rule::Min { value: min } => value.as_f64().is_none_or(|v| v >= *min),
        Rule::Max { value: max } => value.as_f64().is_none_or(|v| v <= *max),
        Rule::OneOf { values } => text.is_none_or(|s| values.iter().any(|v| v == s)),
    }
}

fn field_error(field: &Field, rule: &str, message: String, row: Option<usize>) -> FieldError {
    FieldError {
        field: field.name.clone(),
        rule: rule.to_owned(),
        message,
        row,
    }
}

/// A field of a write body: the field name, a column name, or a to-one relation's name.
fn body_field<'s>(model: &'s Model, key: &str) -> Option<&'s Field> {
    model
        .field(key)
        .or_else(|| model.field_by_column(key))
        .or_else(|| match model.relation(key).map(|r| &r.kind) {
            Some(RelationKind::ToOne { field, .. }) => model.field(field),
            _ => None,
        })
}

/// The current time as a canonical value of a timestamp field.
pub(crate) fn time_value(field: &Field, at: chrono::DateTime<chrono::Utc>) -> Json {
    match field.ty.scalar {
        tessera_schema::ir::ScalarType::Timestamp => Json::String(fmt_ts(at.naive_utc())),
        tessera_schema::ir::ScalarType::Date => {
            Json::String(at.date_naive().format("%Y-%m-%d").to_string())
        }
        _ => Json::String(fmt_tstz(at)),
    }
}

pub(crate) fn actor_value(
    schema: &Schema,
    field: &Field,
    ctx: &Context,
) -> Result<Json, RuntimeError> {
    match &ctx.actor {
        None => Ok(Json::Null),
        Some(actor) => coerce(schema, field, &Json::String(actor.clone())).map_err(|(_, m)| {
            RuntimeError::bad_request(
                "22P02",
                format!("the caller's id is not a valid {}: {m}", field.name),
            )
        }),
    }
}

fn default_value(field: &Field, at: chrono::DateTime<chrono::Utc>) -> Option<Json> {
    default_json(field, field.default.as_ref()?, at)
}

/// The value a default gives `field` now; `None` when randomness is unavailable.
fn default_json(
    field: &Field,
    default: &DefaultValue,
    at: chrono::DateTime<chrono::Utc>,
) -> Option<Json> {
    Some(match default {
        DefaultValue::String(s) | DefaultValue::EnumValue(s) => Json::String(s.clone()),
        DefaultValue::Number(n) => n.parse::<f64>().map(number).unwrap_or(Json::Null),
        DefaultValue::Bool(b) => Json::Bool(*b),
        DefaultValue::Json(v) => v.clone(),
        DefaultValue::Now => time_value(field, at),
        DefaultValue::GeneratedUuid => Json::String(uuid::Uuid::new_v4().to_string()),
        DefaultValue::RandomSecret => Json::String(crate::identity::random_secret().ok()?),
    })
}

/// Whether `field` of the `@@auth` model is one only the service writes: every field but
/// the email, the password and the sign-up fields (a user's own profile).
fn is_service_only_account_field(model: &Model, field: &Field) -> bool {
    model.behaviours.identity.as_ref().is_some_and(|identity| {
        field.name != identity.email
            && field.name != identity.password
            && !identity.signup_fields.contains(&field.name)
    })
}

/// A checked row: the fields to write with canonical values.
type Prepared<'s> = Vec<(&'s Field, Json)>;

/// Transforms, checks and validates one body object; fills defaults and managed fields.
#[allow(clippy::too_many_arguments)]
fn prepare<'s>(
    schema: &'s Schema,
    model: &'s Model,
    body: &Json,
    ctx: &Context,
    mode: Mode,
    row: Option<usize>,
    at: chrono::DateTime<chrono::Utc>,
    errors: &mut Vec<FieldError>,
) -> Result<Prepared<'s>, RuntimeError> {
    let Json::Object(obj) = body else {
        return Err(RuntimeError::bad_request(
            "PGRST102",
            format!(
                "expected a JSON object{}",
                row.map(|r| format!(" at row {r}")).unwrap_or_default()
            ),
        ));
    };
    let mut out: Prepared = Vec::new();
    // Fields present in the body, valid or not: a present but invalid field is not also
    // reported as missing.
    let mut present: Vec<&str> = Vec::new();
    for (key, raw) in obj {
        let Some(field) = body_field(model, key) else {
            return Err(RuntimeError::bad_request(
                "PGRST204",
                format!(
                    "Could not find the '{key}' field of '{}' in the schema",
                    model.name
                ),
            ));
        };
        if present.contains(&field.name.as_str()) {
            return Err(RuntimeError::bad_request(
                "PGRST102",
                format!("field {} is given twice", field.name),
            ));
        }
        present.push(&field.name);
        if field.computed.is_some() {
            errors.push(field_error(
                field,
                "virtual",
                format!("{} is computed on read and cannot be written", field.name),
                row,
            ));
            continue;
        }
        match field.managed {
            Some(Managed::ImportHash) if mode == Mode::Insert => {}
            Some(_) => {
                errors.push(field_error(
                    field,
                    "managed",
                    format!(
                        "{} is maintained by the engine and cannot be written",
                        field.name
                    ),
                    row,
                ));
                continue;
            }
            None => {}
        }
        if ctx.role != Role::Service && is_service_only_account_field(model, field) {
            // Users edit their own profile; what grants or withholds rights (roles,
            // verification, the disabled flag) stays with the service, or a suspended
            // user could lift their own suspension.
            errors.push(field_error(
                field,
                "managed",
                format!(
                    "{} of an account is set with the service key only",
                    field.name
                ),
                row,
            ));
            continue;
        }
        if mode == Mode::Update && field.readonly {
            errors.push(field_error(
                field,
                "readonly",
                format!("{} is set on insert only and cannot be updated", field.name),
                row,
            ));
            continue;
        }
        let mut value = raw.clone();
        if let Json::String(s) = &mut value {
            for t in &field.transforms {
                match t {
                    Transform::Trim => *s = s.trim().to_owned(),
                    Transform::Lowercase => *s = s.to_lowercase(),
                }
            }
        }
        let value = match coerce(schema, field, &value) {
            Ok(v) => v,
            Err((rule, message)) => {
                errors.push(field_error(
                    field,
                    &rule,
                    format!("{}: {message}", field.name),
                    row,
                ));
                continue;
            }
        };
        if value.is_null() {
            if !field.nullable {
                errors.push(field_error(
                    field,
                    "not_null",
                    format!("{} cannot be null", field.name),
                    row,
                ));
            }
            out.push((field, value));
            continue;
        }
        if let Some(targets) = polymorphic_targets(model, &field.name) {
            if value
                .as_str()
                .is_some_and(|t| !targets.iter().any(|m| m == t))
            {
                errors.push(field_error(
                    field,
                    "enum",
                    format!(
                        "{} must name one of the models {}",
                        field.name,
                        targets.join(", ")
                    ),
                    row,
                ));
                continue;
            }
        }
        let mut failed = false;
        let is_hash_input =
            field.hash == Some(HashAlgorithm::Bcrypt) && value.as_str().is_some_and(is_bcrypt_hash);
        if !is_hash_input {
            for v in &field.validations {
                let items: Vec<&Json> = match &value {
                    Json::Array(items) if field.ty.array => items.iter().collect(),
                    other => vec![other],
                };
                if items.iter().any(|item| !rule_holds(&v.rule, item)) {
                    let message = v
                        .message
                        .clone()
                        .unwrap_or_else(|| default_message(&field.name, &v.rule));
                    errors.push(field_error(field, v.rule.name(), message, row));
                    failed = true;
                }
            }
        }
        if failed {
            continue;
        }
        out.push((field, value));
    }
    // Passwords are hashed by the caller once every row passed its checks (hashing is
    // deliberately slow, and runs off the request threads).
    // Engine-managed fields and, on insert, defaults and required fields.
    for field in model.stored_fields() {
        let given = present.contains(&field.name.as_str());
        match field.managed {
            Some(Managed::CreatedAt) if mode == Mode::Insert => {
                out.push((field, time_value(field, at)))
            }
            Some(Managed::UpdatedAt) => out.push((field, time_value(field, at))),
            Some(Managed::CreatedBy) if mode == Mode::Insert => {
                out.push((field, actor_value(schema, field, ctx)?))
            }
            Some(Managed::UpdatedBy) => out.push((field, actor_value(schema, field, ctx)?)),
            _ if mode == Mode::Insert && !given && field.managed.is_none() => {
                if let Some(v) = default_value(field, at) {
                    out.push((field, v));
                } else if !field.nullable
                    && !field.ty.scalar.is_auto_increment()
                    && field.conditional_defaults.is_empty()
                {
                    errors.push(field_error(
                        field,
                        "required",
                        format!("{} is required", field.name),
                        row,
                    ));
                }
            }
            _ => {}
        }
    }
    if mode == Mode::Insert {
        // After every plain default, so that a condition sees the row as it will be stored.
        for field in model.stored_fields() {
            if field.conditional_defaults.is_empty() || present.contains(&field.name.as_str()) {
                continue;
            }
            let chosen = field
                .conditional_defaults
                .iter()
                .find(|d| condition_holds(&d.when, &out))
                .and_then(|d| default_json(field, &d.value, at));
            let current = out.iter().position(|(f, _)| f.name == field.name);
            match (chosen, current) {
                (Some(v), Some(i)) => out[i].1 = v,
                (Some(v), None) => out.push((field, v)),
                (None, None) if !field.nullable && !field.ty.scalar.is_auto_increment() => {
                    errors.push(field_error(
                        field,
                        "required",
                        format!("{} is required", field.name),
                        row,
                    ));
                }
                (None, _) => {}
            }
        }
    }
    Ok(out)
}

/// Whether a row being inserted meets a `@default_if` condition; a field the row leaves
/// unset is null, which equals no literal.
fn condition_holds(when: &FieldCondition, row: &[(&Field, Json)]) -> bool {
    let value = row
        .iter()
        .find(|(f, _)| f.name == when.field)
        .map_or(&Json::Null, |(_, v)| v);
    let equal = match (&when.value, value) {
        (DefaultValue::String(a) | DefaultValue::EnumValue(a), Json::String(b)) => a == b,
        (DefaultValue::Bool(a), Json::Bool(b)) => a == b,
        (DefaultValue::Number(a), Json::Number(b)) => a.parse::<f64>().ok() == b.as_f64(),
        (DefaultValue::Json(a), b) => a == b,
        _ => false,
    };
    match when.comparison {
        Comparison::Equal => equal,
        Comparison::NotEqual => !equal,
    }
}

pub(crate) fn pk_types(model: &Model) -> Vec<FieldType> {
    model.primary_key_fields().map(|f| f.ty.clone()).collect()
}

fn pk_exprs(model: &Model) -> Vec<Alias> {
    model
        .primary_key_fields()
        .map(|f| Alias::new(&f.column))
        .collect()
}

/// The checks every filtered write (update, delete, restore) makes before it runs: a filter
/// is required (`what` names the operation in the message), and the filter and the
/// representation's `select` must be valid reads of `model`.
fn check_filtered_write(
    schema: &Schema,
    model: &Model,
    filter: &[Condition],
    select: &[SelectItem],
    what: &str,
) -> Result<(), RuntimeError> {
    if filter.is_empty() {
        return Err(
            RuntimeError::bad_request("21000", format!("{what} requires a filter"))
                .with_hint("Add a filter such as id=eq.<id> to the query string"),
        );
    }
    plan::validate_read(
        schema,
        &ReadRequest {
            model: model.name.clone(),
            select: select.to_vec(),
            filter: filter.to_vec(),
            ..ReadRequest::default()
        },
    )
}

/// Representation of the rows with these keys, in the keys' order.
async fn represent(
    tx: &mut Tx,
    ctx: &Context,
    schema: &Schema,
    model: &Model,
    select: &[SelectItem],
    keys: &[Vec<Json>],
) -> Result<Vec<Json>, RuntimeError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let req = ReadRequest {
        model: model.name.clone(),
        select: select.to_vec(),
        deleted: if model.behaviours.soft_delete.is_some() {
            Deleted::Include
        } else {
            Deleted::Exclude
        },
        ..ReadRequest::default()
    };
    let mut plan = plan::build(schema, &req)?;
    // The written rows are the caller's to see; what they embed is read under the
    // caller's grants.
    plan::restrict(&mut plan, ctx, false)?;
    // The keys must be readable to put rows back in order.
    let pk_names: Vec<String> = model.primary_key.clone();
    let pk_idx: Vec<usize> = pk_names
        .iter()
        .filter_map(|n| {
            model
                .field(n)
                .map(|f| match plan.fetch.iter().position(|g| g.name == f.name) {
                    Some(i) => i,
                    None => {
                        plan.fetch.push(f);
                        plan.fetch.len() - 1
                    }
                })
        })
        .collect();
    let _ = pk_idx;
    let mut rows = Vec::new();
    for chunk in keys.chunks(2000) {
        plan.keys = Some(chunk.to_vec());
        let with_keys = plan::run_read_with_keys(tx, schema, &plan).await?;
        rows.extend(with_keys);
    }
    let mut ordered = Vec::with_capacity(rows.len());
    for key in keys {
        if let Some(i) = rows.iter().position(|(k, _)| k == key) {
            ordered.push(rows.swap_remove(i).1);
        }
    }
    Ok(ordered)
}

/// Fills the fields a create leaves unset with the values the caller's row grant implies
/// (their tenant, or their id in an owner field), so that a signed-in user need not repeat
/// them. Engine-managed fields (actor columns) are filled later by the engine itself.
fn fill_implied(model: &Model, grant: &Grant, body: &mut Json) {
    let Json::Object(members) = body else {
        return;
    };
    for (field, value) in grant.implied_values() {
        let given = members
            .keys()
            .any(|key| body_field(model, key).is_some_and(|f| f.name == field.name));
        if given || field.managed.is_some() {
            continue;
        }
        members.insert(field.name.clone(), typed_json(field, &value));
    }
}

/// A value given as text (an id or an account value) as the JSON a body would carry.
fn typed_json(field: &Field, text: &str) -> Json {
    let parsed = if field.ty.scalar.is_integer() {
        text.parse::<i64>().ok().map(Json::from)
    } else if field.ty.scalar == tessera_schema::ir::ScalarType::Bool {
        text.parse::<bool>().ok().map(Json::from)
    } else {
        None
    };
    parsed.unwrap_or_else(|| Json::String(text.to_owned()))
}

/// A write's filter narrowed to the rows the caller's grant covers.
fn with_grant(filter: &[Condition], grant: Option<&Grant>) -> Vec<Condition> {
    let mut filter = filter.to_vec();
    filter.extend(grant.and_then(Grant::condition));
    filter
}

/// Keys (and extra columns) of the rows of `model` matching `filter`.
async fn matching_keys(
    tx: &mut Tx,
    schema: &Schema,
    model: &Model,
    filter: &[Condition],
    deleted: Deleted,
    extra: &[&Field],
) -> Result<Vec<(Vec<Json>, Vec<Json>)>, RuntimeError> {
    let sql = SqlBuilder::new(schema, tx.dialect());
    let alias = sql.alias();
    let mut q = Query::select();
    let pk: Vec<&Field> = model.primary_key_fields().collect();
    let mut types = pk_types(model);
    for f in &pk {
        q.expr(col(&alias, f));
    }
    for f in extra {
        q.expr(select_col(&sql, &alias, f));
        types.push(f.ty.clone());
    }
    q.from_as(Alias::new(&model.table), Alias::new(&alias));
    if let Some(live) = sql.live(&alias, model, deleted) {
        q.and_where(live);
    }
    for c in filter {
        let c = resolve_cond(model, c)?;
        q.and_where(sql.cond(&alias, &c)?);
    }
    let rows = tx.fetch(Some(model), &q, &types).await?;
    Ok(rows
        .into_iter()
        .map(|mut r| {
            let rest = r.split_off(pk.len());
            (r, rest)
        })
        .collect())
}

pub(crate) fn select_col(sql: &SqlBuilder, alias: &str, f: &Field) -> SimpleExpr {
    if sql.dialect == DialectKind::Postgres && f.ty.array {
        crate::value::custom(sql.dialect, "to_jsonb(?)", vec![col(alias, f)])
    } else {
        col(alias, f)
    }
}

fn merge_patch(target: &mut Json, patch: &Json) {
    if let Json::Object(p) = patch {
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
    } else {
        *target = patch.clone();
    }
}

pub(crate) async fn insert(
    engine: &Engine,
    ctx: &Context,
    req: &InsertRequest,
) -> Result<Vec<Json>, RuntimeError> {
    let schema = engine.schema();
    let model = find_model(schema, &req.model)?;
    plan::validate_read(
        schema,
        &ReadRequest {
            model: model.name.clone(),
            select: req.select.clone(),
            ..ReadRequest::default()
        },
    )?;
    let create = access::grant(ctx, model, Operation::Create)?;
    if req.resolution == Some(Resolution::MergeDuplicates) {
        if let Some(Grant::Rows(_)) = access::grant(ctx, model, Operation::Update)? {
            return Err(RuntimeError::new(
                ErrorKind::Forbidden,
                "42501",
                format!(
                    "permission denied: merging duplicates needs the right to update every {} row",
                    model.name
                ),
            )
            .with_hint("Update your own rows with PATCH instead"));
        }
    }
    let mut bodies: Vec<Json> = match &req.body {
        Json::Array(items) => items.clone(),
        other => vec![other.clone()],
    };
    if let Some(grant) = &create {
        for body in &mut bodies {
            fill_implied(model, grant, body);
        }
    }
    let many = req.body.is_array();
    let at = now();
    let mut errors = Vec::new();
    let mut rows = Vec::with_capacity(bodies.len());
    for (i, body) in bodies.iter().enumerate() {
        rows.push(prepare(
            schema,
            model,
            body,
            ctx,
            Mode::Insert,
            many.then_some(i),
            at,
            &mut errors,
        )?);
    }
    if !errors.is_empty() {
        return Err(RuntimeError::validation(errors));
    }
    if let Some(grant) = &create {
        if let Some(i) = rows.iter().position(|row| !grant.admits(row)) {
            return Err(access::outside_grant(
                model,
                Operation::Create,
                format!(
                    "{}the row must belong to the caller",
                    if many {
                        format!("row {i}: ")
                    } else {
                        String::new()
                    }
                ),
            ));
        }
    }
    hash_rows(&mut rows).await?;
    let conflict_fields: Vec<&Field> = match &req.on_conflict {
        Some(names) => names
            .iter()
            .map(|n| {
                model
                    .field(n)
                    .or_else(|| model.field_by_column(n))
                    .filter(|f| f.is_stored())
                    .ok_or_else(|| RuntimeError::unknown_column(&model.name, n))
            })
            .collect::<Result<_, _>>()?,
        None => model.primary_key_fields().collect(),
    };
    let mut tx = Tx::write(&engine.inner.pool, engine.inner.schema.clone()).await?;
    let dialect = tx.dialect();
    // Import-hash dedup: a plain insert of an already imported row is a conflict.
    if let (None, Some(ih)) = (
        req.resolution,
        model
            .behaviours
            .import_hash
            .as_deref()
            .and_then(|n| model.field(n)),
    ) {
        let hashes: Vec<Json> = rows
            .iter()
            .filter_map(|r| {
                r.iter()
                    .find(|(f, _)| f.name == ih.name)
                    .map(|(_, v)| v.clone())
            })
            .filter(|v| !v.is_null())
            .collect();
        let mut seen = HashSet::new();
        if let Some(dup) = hashes.iter().find(|h| !seen.insert(h.to_string())) {
            return Err(import_conflict(model, ih, dup));
        }
        if !hashes.is_empty() {
            let mut q = Query::select();
            q.expr(Expr::col(Alias::new(&ih.column)));
            q.from(Alias::new(&model.table));
            q.and_where(
                Expr::col(Alias::new(&ih.column)).is_in(
                    hashes
                        .iter()
                        .map(|h| bind_scalar(&ih.ty.scalar, h, dialect))
                        .collect::<Vec<_>>(),
                ),
            );
            let found = tx
                .fetch(Some(model), &q, std::slice::from_ref(&ih.ty))
                .await?;
            if let Some(first) = found.first().and_then(|r| r.first()) {
                return Err(import_conflict(model, ih, first));
            }
        }
    }
    let partial = conflict_is_partial(model, &conflict_fields);
    let mut keys = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut q = Query::insert();
        q.into_table(Alias::new(&model.table));
        q.columns(row.iter().map(|(f, _)| Alias::new(&f.column)));
        let values: Vec<SimpleExpr> = row
            .iter()
            .map(|(f, v)| write_expr(schema, f, v, dialect))
            .collect();
        if row.is_empty() {
            return Err(RuntimeError::bad_request("PGRST102", "empty row"));
        }
        q.values(values)
            .map_err(|e| RuntimeError::internal(format!("insert: {e}")))?;
        if let Some(resolution) = req.resolution {
            let mut oc = OnConflict::columns(conflict_fields.iter().map(|f| Alias::new(&f.column)));
            if partial {
                if let Some(sd) = model
                    .behaviours
                    .soft_delete
                    .as_deref()
                    .and_then(|n| model.field(n))
                {
                    oc.target_and_where(Expr::col(Alias::new(&sd.column)).is_null());
                }
            }
            match resolution {
                Resolution::IgnoreDuplicates => {
                    oc.do_nothing();
                }
                Resolution::MergeDuplicates => {
                    let mut update: Vec<Alias> = row
                        .iter()
                        .filter(|(f, _)| {
                            !conflict_fields.iter().any(|c| c.name == f.name)
                                && !matches!(
                                    f.managed,
                                    Some(Managed::CreatedAt | Managed::CreatedBy)
                                )
                                && !model.primary_key.contains(&f.name)
                        })
                        .map(|(f, _)| Alias::new(&f.column))
                        .collect();
                    if update.is_empty() {
                        update = conflict_fields
                            .iter()
                            .map(|f| Alias::new(&f.column))
                            .collect();
                    }
                    oc.update_columns(update);
                }
            }
            q.on_conflict(oc);
        }
        q.returning(Query::returning().columns(pk_exprs(model)));
        let returned = tx.fetch(Some(model), &q, &pk_types(model)).await?;
        keys.extend(returned);
    }
    check_polymorphic(&mut tx, schema, model, &keys).await?;
    let out = represent(&mut tx, ctx, schema, model, &req.select, &keys).await?;
    commit_written(tx, req.single, keys.len(), out).await
}

/// The target models of the polymorphic relation whose type column is `field`.
fn polymorphic_targets<'s>(model: &'s Model, field: &str) -> Option<&'s [String]> {
    model.relations.iter().find_map(|r| match &r.kind {
        RelationKind::Polymorphic {
            targets,
            type_field,
            ..
        } if type_field == field => Some(targets.as_slice()),
        _ => None,
    })
}

fn is_polymorphic_column(model: &Model, field: &str) -> bool {
    model.relations.iter().any(|r| {
        matches!(&r.kind, RelationKind::Polymorphic { type_field, id_field, .. }
            if type_field == field || id_field == field)
    })
}

/// Polymorphic references have no database foreign key: checks that the written rows'
/// type and id columns are both set (or both empty) and name a live row of that model.
async fn check_polymorphic(
    tx: &mut Tx,
    schema: &Schema,
    model: &Model,
    keys: &[Vec<Json>],
) -> Result<(), RuntimeError> {
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
        let sql = SqlBuilder::new(schema, tx.dialect());
        let mut wanted: Vec<(String, Json)> = Vec::new();
        for chunk in keys.chunks(2000) {
            let mut q = Query::select();
            q.expr(col(&model.table, tf));
            q.expr(col(&model.table, idf));
            q.from(Alias::new(&model.table));
            q.and_where(sql.keys_in(&model.table, model, chunk));
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
                    "23503",
                    format!(
                        "{}.{} references {target_name} {}, which does not exist",
                        model.name,
                        rel.name,
                        match id {
                            Json::String(s) => s.clone(),
                            other => other.to_string(),
                        }
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
                let value = coerce(schema, pk, id).map_err(|_| missing(id))?;
                canonical.push(value);
            }
            let mut found = HashSet::new();
            for chunk in canonical.chunks(2000) {
                let mut q = Query::select();
                q.expr(col(&target.table, pk));
                q.from(Alias::new(&target.table));
                q.and_where(
                    Expr::expr(col(&target.table, pk)).is_in(
                        chunk
                            .iter()
                            .map(|v| bind_scalar(&pk.ty.scalar, v, sql.dialect))
                            .collect::<Vec<_>>(),
                    ),
                );
                if let Some(live) = sql.live(&target.table, target, Deleted::Exclude) {
                    q.and_where(live);
                }
                for row in tx
                    .fetch(Some(target), &q, std::slice::from_ref(&pk.ty))
                    .await?
                {
                    if let Some(v) = row.into_iter().next() {
                        found.insert(v.to_string());
                    }
                }
            }
            if let Some(i) = canonical
                .iter()
                .position(|v| !found.contains(&v.to_string()))
            {
                return Err(missing(ids[i]));
            }
        }
    }
    Ok(())
}

fn conflict_is_partial(model: &Model, fields: &[&Field]) -> bool {
    model.indexes.iter().any(|i| {
        i.unique
            && i.where_not_deleted
            && i.fields.len() == fields.len()
            && i.fields.iter().all(|f| {
                fields
                    .iter()
                    .any(|g| g.name == f.field || g.relation.as_deref() == Some(f.field.as_str()))
            })
    })
}

fn import_conflict(model: &Model, field: &Field, value: &Json) -> RuntimeError {
    RuntimeError::new(
        ErrorKind::Conflict,
        "23505",
        format!("{} with {} {value} was already imported", model.name, field.name),
    )
    .with_details(format!("fields: {}", field.name))
    .with_hint("Upsert with on_conflict=importHash and Prefer: resolution=ignore-duplicates to skip imported rows")
}

pub(crate) async fn update(
    engine: &Engine,
    ctx: &Context,
    req: &UpdateRequest,
) -> Result<Vec<Json>, RuntimeError> {
    let schema = engine.schema();
    let model = find_model(schema, &req.model)?;
    check_filtered_write(schema, model, &req.filter, &req.select, "UPDATE")?;
    let grant = access::grant(ctx, model, Operation::Update)?;
    let filter = with_grant(&req.filter, grant.as_ref());
    let at = now();
    let mut errors = Vec::new();
    let mut changes = prepare(
        schema,
        model,
        &req.body,
        ctx,
        Mode::Update,
        None,
        at,
        &mut errors,
    )?;
    if !errors.is_empty() {
        return Err(RuntimeError::validation(errors));
    }
    if let Some(field) = grant.as_ref().and_then(|g| g.moved_field(&changes)) {
        return Err(access::outside_grant(
            model,
            Operation::Update,
            format!(
                "{} must keep the value the access rules give the caller",
                field.name
            ),
        ));
    }
    hash_rows(std::slice::from_mut(&mut changes)).await?;
    let mut tx = Tx::write(&engine.inner.pool, engine.inner.schema.clone()).await?;
    let dialect = tx.dialect();
    let merge_fields: Vec<&Field> = if req.json_merge {
        changes
            .iter()
            .filter(|(f, v)| f.ty.scalar.is_json() && !f.ty.array && v.is_object())
            .map(|(f, _)| *f)
            .collect()
    } else {
        Vec::new()
    };
    let matched = matching_keys(
        &mut tx,
        schema,
        model,
        &filter,
        Deleted::Exclude,
        &merge_fields,
    )
    .await?;
    let keys: Vec<Vec<Json>> = matched.iter().map(|(k, _)| k.clone()).collect();
    if !keys.is_empty() {
        let sql = SqlBuilder::new(schema, dialect);
        if merge_fields.is_empty() {
            for chunk in keys.chunks(2000) {
                let mut q = Query::update();
                q.table(Alias::new(&model.table));
                for (f, v) in &changes {
                    q.value(Alias::new(&f.column), write_expr(schema, f, v, dialect));
                }
                q.and_where(sql.keys_in(&model.table, model, chunk));
                tx.execute(Some(model), &q).await?;
            }
        } else {
            for (key, current) in &matched {
                let mut q = Query::update();
                q.table(Alias::new(&model.table));
                for (f, v) in &changes {
                    let value = match merge_fields.iter().position(|m| m.name == f.name) {
                        Some(i) => {
                            let mut doc = current.get(i).cloned().unwrap_or(Json::Null);
                            merge_patch(&mut doc, v);
                            doc
                        }
                        None => v.clone(),
                    };
                    q.value(
                        Alias::new(&f.column),
                        write_expr(schema, f, &value, dialect),
                    );
                }
                q.and_where(sql.keys_in(&model.table, model, std::slice::from_ref(key)));
                tx.execute(Some(model), &q).await?;
            }
        }
    }
    if changes
        .iter()
        .any(|(f, _)| is_polymorphic_column(model, &f.name))
    {
        check_polymorphic(&mut tx, schema, model, &keys).await?;
    }
    let out = represent(&mut tx, ctx, schema, model, &req.select, &keys).await?;
    commit_written(tx, req.single, keys.len(), out).await
}

pub(crate) async fn delete(
    engine: &Engine,
    ctx: &Context,
    req: &DeleteRequest,
) -> Result<Vec<Json>, RuntimeError> {
    let schema = engine.schema();
    let model = find_model(schema, &req.model)?;
    check_filtered_write(schema, model, &req.filter, &req.select, "DELETE")?;
    let grant = access::grant(ctx, model, Operation::Delete)?;
    let filter = with_grant(&req.filter, grant.as_ref());
    let soft = model.behaviours.soft_delete.is_some();
    if req.hard && soft && !model.behaviours.hard_delete {
        return Err(RuntimeError::new(
            ErrorKind::Forbidden,
            "42501",
            format!("{} rows can only be soft-deleted", model.name),
        )
        .with_hint("The schema allows permanent deletion with @@hard_delete"));
    }
    let mut tx = Tx::write(&engine.inner.pool, engine.inner.schema.clone()).await?;
    let deleted = if req.hard && soft {
        Deleted::Include
    } else {
        Deleted::Exclude
    };
    let matched = matching_keys(&mut tx, schema, model, &filter, deleted, &[]).await?;
    let keys: Vec<Vec<Json>> = matched.into_iter().map(|(k, _)| k).collect();
    let out;
    if soft && !req.hard {
        let at = now();
        soft_delete(&mut tx, schema, model, &keys, at, 0).await?;
        out = represent(&mut tx, ctx, schema, model, &req.select, &keys).await?;
    } else {
        out = represent(&mut tx, ctx, schema, model, &req.select, &keys).await?;
        let sql = SqlBuilder::new(schema, tx.dialect());
        for chunk in keys.chunks(2000) {
            let mut q = Query::delete();
            q.from_table(Alias::new(&model.table));
            q.and_where(sql.keys_in(&model.table, model, chunk));
            tx.execute(Some(model), &q).await?;
        }
    }
    commit_written(tx, req.single, keys.len(), out).await
}

/// Commits a write and returns its rows; a single-object write of another number of rows
/// is rolled back and answered as PostgREST does.
async fn commit_written(
    tx: Tx,
    single: bool,
    written: usize,
    rows: Vec<Json>,
) -> Result<Vec<Json>, RuntimeError> {
    if single && written != 1 {
        tx.rollback().await?;
        return Err(RuntimeError::new(
            crate::error::ErrorKind::NotAcceptable,
            "PGRST116",
            "JSON object requested, multiple (or no) rows returned",
        )
        .with_details(format!("The result contains {written} rows")));
    }
    tx.commit().await?;
    Ok(rows)
}

/// A relation of `child` pointing at `parent`: how to find the children of parent rows.
struct ChildLink<'s> {
    child: &'s Model,
    relation: String,
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
                                relation: rel.name.clone(),
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
                                relation: rel.name.clone(),
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

/// Values of `field` for the rows with these keys.
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
    let sql = SqlBuilder::new(schema, tx.dialect());
    let mut out = Vec::new();
    for chunk in keys.chunks(2000) {
        let mut q = Query::select();
        q.expr(col(&model.table, field));
        q.from(Alias::new(&model.table));
        q.and_where(sql.keys_in(&model.table, model, chunk));
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
    parent: &Model,
    link: &ChildLink<'_>,
    values: &[Json],
    deleted_at: Option<&Json>,
) -> Result<Vec<Vec<Json>>, RuntimeError> {
    let dialect = tx.dialect();
    let child = link.child;
    let mut keys = Vec::new();
    for chunk in values.chunks(2000) {
        let mut q = Query::select();
        for f in child.primary_key_fields() {
            q.expr(col(&child.table, f));
        }
        q.from(Alias::new(&child.table));
        q.and_where(
            Expr::expr(col(&child.table, link.fk)).is_in(
                chunk
                    .iter()
                    .map(|v| bind_scalar(&link.fk.ty.scalar, v, dialect))
                    .collect::<Vec<_>>(),
            ),
        );
        if let Some(tf) = link.type_field {
            q.and_where(Expr::expr(col(&child.table, tf)).eq(parent.name.clone()));
        }
        if let Some(sd) = child
            .behaviours
            .soft_delete
            .as_deref()
            .and_then(|n| child.field(n))
        {
            match deleted_at {
                Some(at) => q.and_where(Expr::expr(col(&child.table, sd)).eq(bind_scalar(
                    &sd.ty.scalar,
                    at,
                    dialect,
                ))),
                None => q.and_where(Expr::expr(col(&child.table, sd)).is_null()),
            };
        }
        keys.extend(tx.fetch(Some(child), &q, &pk_types(child)).await?);
    }
    Ok(keys)
}

pub(crate) fn soft_delete<'a>(
    tx: &'a mut Tx,
    schema: &'a Schema,
    model: &'a Model,
    keys: &'a [Vec<Json>],
    at: chrono::DateTime<chrono::Utc>,
    depth: usize,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), RuntimeError>> + Send + 'a>> {
    Box::pin(async move {
        if keys.is_empty() || depth > 32 {
            return Ok(());
        }
        let dialect = tx.dialect();
        let sql = SqlBuilder::new(schema, dialect);
        // Children first: restrict refuses before anything changes.
        for link in child_links(schema, model) {
            let values = values_of(tx, schema, model, keys, link.references).await?;
            if values.is_empty() {
                continue;
            }
            let child = link.child;
            let child_keys = children(tx, model, &link, &values, None).await?;
            if child_keys.is_empty() {
                continue;
            }
            match link.on_delete {
                OnDelete::Restrict | OnDelete::NoAction => {
                    return Err(RuntimeError::new(
                        ErrorKind::Conflict,
                        "23503",
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
                    for chunk in child_keys.chunks(2000) {
                        let mut q = Query::update();
                        q.table(Alias::new(&child.table));
                        q.value(
                            Alias::new(&link.fk.column),
                            write_expr(schema, link.fk, &Json::Null, dialect),
                        );
                        q.and_where(sql.keys_in(&child.table, child, chunk));
                        tx.execute(Some(child), &q).await?;
                    }
                }
                OnDelete::Cascade => {
                    if child.behaviours.soft_delete.is_some() {
                        soft_delete(tx, schema, child, &child_keys, at, depth + 1).await?;
                    } else if child.kind == tessera_schema::ir::ModelKind::JoinTable {
                        // Links stay: they are invisible through the deleted row and come
                        // back with it on restore.
                    } else {
                        for chunk in child_keys.chunks(2000) {
                            let mut q = Query::delete();
                            q.from_table(Alias::new(&child.table));
                            q.and_where(sql.keys_in(&child.table, child, chunk));
                            tx.execute(Some(child), &q).await?;
                        }
                    }
                }
            }
        }
        if let Some(sd) = model
            .behaviours
            .soft_delete
            .as_deref()
            .and_then(|n| model.field(n))
        {
            let stamp = time_value(sd, at);
            for chunk in keys.chunks(2000) {
                let mut q = Query::update();
                q.table(Alias::new(&model.table));
                q.value(
                    Alias::new(&sd.column),
                    write_expr(schema, sd, &stamp, dialect),
                );
                q.and_where(sql.keys_in(&model.table, model, chunk));
                q.and_where(Expr::expr(col(&model.table, sd)).is_null());
                tx.execute(Some(model), &q).await?;
            }
        }
        Ok(())
    })
}

pub(crate) async fn restore(
    engine: &Engine,
    ctx: &Context,
    req: &RestoreRequest,
) -> Result<Vec<Json>, RuntimeError> {
    let schema = engine.schema();
    let model = find_model(schema, &req.model)?;
    let Some(sd) = model
        .behaviours
        .soft_delete
        .as_deref()
        .and_then(|n| model.field(n))
    else {
        return Err(RuntimeError::bad_request(
            "PGRST100",
            format!(
                "{} has no soft delete: there is nothing to restore",
                model.name
            ),
        ));
    };
    check_filtered_write(schema, model, &req.filter, &req.select, "restore")?;
    let grant = access::grant(ctx, model, Operation::Update)?;
    let filter = with_grant(&req.filter, grant.as_ref());
    let mut tx = Tx::write(&engine.inner.pool, engine.inner.schema.clone()).await?;
    let matched = matching_keys(&mut tx, schema, model, &filter, Deleted::Only, &[sd]).await?;
    let keys: Vec<Vec<Json>> = matched.iter().map(|(k, _)| k.clone()).collect();
    // Rows deleted by one operation share its timestamp: restore them together.
    let mut groups: Vec<(Json, Vec<Vec<Json>>)> = Vec::new();
    for (key, extra) in matched {
        let at = extra.into_iter().next().unwrap_or(Json::Null);
        match groups.iter_mut().find(|(t, _)| *t == at) {
            Some((_, list)) => list.push(key),
            None => groups.push((at, vec![key])),
        }
    }
    for (at, group) in &groups {
        restore_rows(&mut tx, schema, model, group, at, 0).await?;
    }
    let out = represent(&mut tx, ctx, schema, model, &req.select, &keys).await?;
    tx.commit().await?;
    Ok(out)
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
        let dialect = tx.dialect();
        let sql = SqlBuilder::new(schema, dialect);
        if let Some(sd) = model
            .behaviours
            .soft_delete
            .as_deref()
            .and_then(|n| model.field(n))
        {
            for chunk in keys.chunks(2000) {
                let mut q = Query::update();
                q.table(Alias::new(&model.table));
                q.value(
                    Alias::new(&sd.column),
                    write_expr(schema, sd, &Json::Null, dialect),
                );
                q.and_where(sql.keys_in(&model.table, model, chunk));
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
            let child_keys = children(tx, model, &link, &values, Some(at)).await?;
            restore_rows(tx, schema, link.child, &child_keys, at, depth + 1).await?;
        }
        Ok(())
    })
}
