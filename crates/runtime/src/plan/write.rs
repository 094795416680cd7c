//! Writes planned: the rows to insert and the changes to make, checked against the
//! schema (transforms, types, enums, validations with the schema's messages, every
//! failing field at once), with defaults and engine-managed fields filled; the rows a
//! write may touch (filters, soft delete, the caller's grants); and what it answers.
//!
//! Clients cannot write managed, virtual or (on update) readonly fields; on the `@@auth`
//! model users write only the email, the password and the sign-up fields.

use chrono::{DateTime, Utc};
use serde_json::Value as Json;
use tessera_schema::ir::{
    Comparison as FieldComparison, DefaultValue, Field, FieldCondition, HashAlgorithm, Managed,
    Model, Operation, RelationKind, Transform,
};
use tessera_schema::Schema;
use tessera_sql::decimal;
use tessera_sql::value::{format_date, format_timestamp, format_timestamptz, number};

use super::access::{self, Grant, Principal};
use super::predicate::{self, Predicate};
use super::read::{self, Level};
use super::rules::{default_message, Patterns};
use super::values::coerce;
use crate::error::{Code, ErrorKind, FieldError, RuntimeError};
use crate::request::{
    Condition, DeleteRequest, Deleted, InsertRequest, Resolution, RestoreRequest, Returning,
    SelectItem, UpdateRequest,
};

/// A checked row: the fields to write with canonical values. Passwords are still plain:
/// they are hashed when the write runs, once every row passed its checks.
pub(crate) type Row<'s> = Vec<(&'s Field, Json)>;

/// What a write answers with.
#[derive(Debug)]
pub(crate) struct Output<'s> {
    pub(crate) returning: Returning,
    /// The representation of the written rows (for [`Returning::Representation`]).
    pub(crate) representation: Option<Level<'s>>,
    /// Exactly one row must be written; otherwise nothing is.
    pub(crate) single: bool,
}

#[derive(Debug)]
pub(crate) struct InsertPlan<'s> {
    pub(crate) model: &'s Model,
    pub(crate) rows: Vec<Row<'s>>,
    pub(crate) upsert: Option<Upsert<'s>>,
    /// A plain insert of a row whose import hash is stored already is a conflict.
    pub(crate) import_hash: Option<&'s Field>,
    /// The rows must meet this (the caller's create grant, where the row alone does not
    /// tell), judged by the database before they are written.
    pub(crate) check: Option<Predicate<'s>>,
    pub(crate) output: Output<'s>,
}

#[derive(Debug)]
pub(crate) struct Upsert<'s> {
    pub(crate) conflict: Vec<&'s Field>,
    pub(crate) resolution: Resolution,
    /// The conflict target is a unique index over live rows only: `WHERE field IS NULL`.
    pub(crate) live_only: Option<&'s Field>,
}

#[derive(Debug)]
pub(crate) struct UpdatePlan<'s> {
    pub(crate) model: &'s Model,
    /// The rows changed: all of these hold.
    pub(crate) predicates: Vec<Predicate<'s>>,
    pub(crate) changes: Row<'s>,
    /// JSON fields merged into the stored document (RFC 7386) rather than replaced.
    pub(crate) merge: Vec<&'s Field>,
    /// The rows, as changed, must still meet this (the caller's update grant), judged by
    /// the database before they are changed.
    pub(crate) check: Option<Predicate<'s>>,
    /// The change touches a polymorphic reference, checked after the write.
    pub(crate) polymorphic: bool,
    pub(crate) output: Output<'s>,
}

#[derive(Debug)]
pub(crate) struct DeletePlan<'s> {
    pub(crate) model: &'s Model,
    pub(crate) predicates: Vec<Predicate<'s>>,
    /// Soft delete (with its cascades) rather than a permanent one.
    pub(crate) soft: bool,
    pub(crate) output: Output<'s>,
}

#[derive(Debug)]
pub(crate) struct RestorePlan<'s> {
    pub(crate) model: &'s Model,
    pub(crate) predicates: Vec<Predicate<'s>>,
    /// The soft-delete field; rows deleted by one operation share its value.
    pub(crate) deleted_at: &'s Field,
    pub(crate) output: Output<'s>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Insert,
    Update,
}

/// The inputs of row preparation that do not change from row to row.
struct Preparer<'s, 'p> {
    schema: &'s Schema,
    patterns: &'p Patterns,
    principal: &'p Principal,
    model: &'s Model,
    mode: Mode,
    at: DateTime<Utc>,
}

pub(crate) fn insert<'s>(
    schema: &'s Schema,
    patterns: &Patterns,
    principal: &Principal,
    model: &'s Model,
    req: &InsertRequest,
    at: DateTime<Utc>,
) -> Result<InsertPlan<'s>, RuntimeError> {
    read::check_select(schema, model, &req.select)?;
    let create = access::grant(schema, principal, model, Operation::Create)?;
    let bodies: Vec<&Json> = match &req.body {
        Json::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let set_checks = field_checks(schema, principal, model, &bodies, Operation::Create)?;
    if req.resolution == Some(Resolution::MergeDuplicates) {
        // Merging updates rows the caller does not pick: it takes the right to update
        // every row and every field written.
        let update_checks = field_checks(schema, principal, model, &bodies, Operation::Update);
        let narrowed_fields = !matches!(update_checks, Ok(ref checks) if checks.is_empty());
        let grant = access::grant(schema, principal, model, Operation::Update)?;
        if narrowed_fields || matches!(grant, Some(Grant::Rows(_))) {
            return Err(RuntimeError::new(
                ErrorKind::Forbidden,
                Code::PermissionDenied,
                format!(
                    "permission denied: merging duplicates needs the right to update every {} row and every field written",
                    model.name
                ),
            )
            .with_hint("Update your own rows with PATCH instead"));
        }
    }
    let many = req.body.is_array();
    let preparer = Preparer {
        schema,
        patterns,
        principal,
        model,
        mode: Mode::Insert,
        at,
    };
    let mut errors = Vec::new();
    let mut rows = Vec::with_capacity(bodies.len());
    for (i, body) in bodies.into_iter().enumerate() {
        let mut body = body.clone();
        if let Some(grant) = &create {
            fill_implied(model, grant, &mut body);
        }
        rows.push(preparer.row(&body, many.then_some(i), &mut errors)?);
    }
    if !errors.is_empty() {
        return Err(RuntimeError::validation(errors));
    }
    let mut check = None;
    let grant_rows = create.as_ref().and_then(Grant::rows);
    let why = if set_checks.is_empty() {
        "the row must belong to the caller"
    } else {
        "the row must belong to the caller, who may set its fields with rules of their own"
    };
    if let Some(allowed) = all_of(grant_rows.into_iter().chain(set_checks)) {
        for (i, row) in rows.iter().enumerate() {
            match allowed.holds_for(row) {
                Some(true) => {}
                Some(false) => {
                    return Err(access::outside_grant(
                        model,
                        Operation::Create,
                        format!(
                            "{}{why}",
                            if many {
                                format!("row {i}: ")
                            } else {
                                String::new()
                            }
                        ),
                    ))
                }
                None => check = Some(allowed.clone()),
            }
        }
    }
    let upsert = match req.resolution {
        None => None,
        Some(resolution) => {
            let conflict: Vec<&Field> = match &req.on_conflict {
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
            let live_only = if conflict_is_partial(model, &conflict) {
                soft_delete_field(model)
            } else {
                None
            };
            Some(Upsert {
                conflict,
                resolution,
                live_only,
            })
        }
    };
    let import_hash = match upsert {
        Some(_) => None,
        None => model
            .behaviours
            .import_hash
            .as_deref()
            .and_then(|n| model.field(n)),
    };
    Ok(InsertPlan {
        model,
        rows,
        upsert,
        import_hash,
        check,
        output: output(
            schema,
            principal,
            model,
            &req.select,
            req.returning,
            req.single,
        )?,
    })
}

/// The rows a filtered write may touch: a filter is required (`what` names the
/// operation), its names and those of the representation's `select` must be the model's,
/// and the caller's grant for `operation` and the soft-delete state narrow it.
fn filtered<'s>(
    schema: &'s Schema,
    principal: &Principal,
    model: &'s Model,
    (filter, select): (&[Condition], &[SelectItem]),
    operation: Operation,
    deleted: Deleted,
    what: &str,
) -> Result<Vec<Predicate<'s>>, RuntimeError> {
    if filter.is_empty() {
        return Err(RuntimeError::bad_request(
            Code::FilterRequired,
            format!("{what} requires a filter"),
        )
        .with_hint("Add a filter such as id=eq.<id> to the query string"));
    }
    read::check_select(schema, model, select)?;
    let mut predicates = filter
        .iter()
        .map(|c| access::visible_condition(schema, principal, model, c))
        .collect::<Result<Vec<_>, _>>()?;
    predicates.extend(Predicate::live(model, deleted));
    predicates.extend(access::rows(schema, principal, model, operation)?);
    Ok(predicates)
}

pub(crate) fn update<'s>(
    schema: &'s Schema,
    patterns: &Patterns,
    principal: &Principal,
    model: &'s Model,
    req: &UpdateRequest,
    at: DateTime<Utc>,
) -> Result<UpdatePlan<'s>, RuntimeError> {
    let predicates = filtered(
        schema,
        principal,
        model,
        (&req.filter, &req.select),
        Operation::Update,
        Deleted::Exclude,
        "UPDATE",
    )?;
    let set_checks = field_checks(schema, principal, model, &[&req.body], Operation::Update)?;
    let check = all_of(
        access::rows(schema, principal, model, Operation::Update)?
            .into_iter()
            .chain(set_checks),
    );
    let changes = prepare_changes(schema, patterns, principal, model, &req.body, at)?;
    Ok(UpdatePlan {
        model,
        predicates,
        merge: merge_fields(&changes, req.json_merge),
        polymorphic: changes
            .iter()
            .any(|(f, _)| is_polymorphic_column(model, &f.name)),
        changes,
        check,
        output: output(
            schema,
            principal,
            model,
            &req.select,
            req.returning,
            req.single,
        )?,
    })
}

/// A user's change to their own account (email, password, sign-up fields), whatever the
/// access rules say of the account model: the row is theirs, and they are its updater.
pub(crate) fn update_own_account<'s>(
    schema: &'s Schema,
    patterns: &Patterns,
    principal: &Principal,
    model: &'s Model,
    key: &'s Field,
    body: &Json,
    at: DateTime<Utc>,
) -> Result<UpdatePlan<'s>, RuntimeError> {
    let id = principal
        .actor()
        .ok_or_else(|| RuntimeError::internal("an account update without a signed-in user"))?;
    let id = coerce(schema, key, &Json::String(id.to_owned())).map_err(|(_, m)| {
        RuntimeError::bad_request(Code::InvalidText, format!("invalid account id: {m}"))
    })?;
    let mut predicates = vec![Predicate::Compare(key, predicate::Comparison::Eq, id)];
    predicates.extend(Predicate::live(model, Deleted::Exclude));
    let check = all_of(field_checks(
        schema,
        principal,
        model,
        &[body],
        Operation::Update,
    )?);
    let changes = prepare_changes(schema, patterns, principal, model, body, at)?;
    Ok(UpdatePlan {
        model,
        predicates,
        merge: Vec::new(),
        polymorphic: false,
        changes,
        check,
        output: output(
            schema,
            principal,
            model,
            &[],
            Returning::Representation,
            true,
        )?,
    })
}

fn prepare_changes<'s>(
    schema: &'s Schema,
    patterns: &Patterns,
    principal: &Principal,
    model: &'s Model,
    body: &Json,
    at: DateTime<Utc>,
) -> Result<Row<'s>, RuntimeError> {
    let preparer = Preparer {
        schema,
        patterns,
        principal,
        model,
        mode: Mode::Update,
        at,
    };
    let mut errors = Vec::new();
    let changes = preparer.row(body, None, &mut errors)?;
    if !errors.is_empty() {
        return Err(RuntimeError::validation(errors));
    }
    Ok(changes)
}

/// The JSON fields of `changes` to merge into the stored documents.
fn merge_fields<'s>(changes: &Row<'s>, json_merge: bool) -> Vec<&'s Field> {
    if !json_merge {
        return Vec::new();
    }
    changes
        .iter()
        .filter(|(f, v)| f.ty.scalar.is_json() && !f.ty.array && v.is_object())
        .map(|(f, _)| *f)
        .collect()
}

pub(crate) fn delete<'s>(
    schema: &'s Schema,
    principal: &Principal,
    model: &'s Model,
    req: &DeleteRequest,
) -> Result<DeletePlan<'s>, RuntimeError> {
    let soft = model.behaviours.soft_delete.is_some();
    let predicates = filtered(
        schema,
        principal,
        model,
        (&req.filter, &req.select),
        Operation::Delete,
        if req.hard && soft {
            Deleted::Include
        } else {
            Deleted::Exclude
        },
        "DELETE",
    )?;
    if req.hard && soft && !model.behaviours.hard_delete {
        return Err(RuntimeError::new(
            ErrorKind::Forbidden,
            Code::PermissionDenied,
            format!("{} rows can only be soft-deleted", model.name),
        )
        .with_hint("The schema allows permanent deletion with @@hard_delete"));
    }
    Ok(DeletePlan {
        model,
        predicates,
        soft: soft && !req.hard,
        output: output(
            schema,
            principal,
            model,
            &req.select,
            req.returning,
            req.single,
        )?,
    })
}

pub(crate) fn restore<'s>(
    schema: &'s Schema,
    principal: &Principal,
    model: &'s Model,
    req: &RestoreRequest,
) -> Result<RestorePlan<'s>, RuntimeError> {
    let Some(deleted_at) = soft_delete_field(model) else {
        return Err(RuntimeError::bad_request(
            Code::QueryGrammar,
            format!(
                "{} has no soft delete: there is nothing to restore",
                model.name
            ),
        ));
    };
    let predicates = filtered(
        schema,
        principal,
        model,
        (&req.filter, &req.select),
        Operation::Update,
        Deleted::Only,
        "restore",
    )?;
    Ok(RestorePlan {
        model,
        predicates,
        deleted_at,
        output: output(schema, principal, model, &req.select, req.returning, false)?,
    })
}

fn output<'s>(
    schema: &'s Schema,
    principal: &Principal,
    model: &'s Model,
    select: &[SelectItem],
    returning: Returning,
    single: bool,
) -> Result<Output<'s>, RuntimeError> {
    let representation = match returning {
        Returning::Representation => Some(read::representation(schema, principal, model, select)?),
        Returning::Keys | Returning::Nothing => None,
    };
    Ok(Output {
        returning,
        representation,
        single,
    })
}

/// The soft-delete field of a model.
pub(crate) fn soft_delete_field(model: &Model) -> Option<&Field> {
    model
        .behaviours
        .soft_delete
        .as_deref()
        .and_then(|n| model.field(n))
}

/// What the fields the bodies of a write set ask of its rows beyond the model's grant:
/// for each field with rules of its own for `operation`, the rows on which the caller may
/// set it. A bulk write sets the union of its bodies' fields. A field the caller may set
/// on no row refuses the write at once.
fn field_checks<'s>(
    schema: &'s Schema,
    principal: &Principal,
    model: &'s Model,
    bodies: &[&Json],
    operation: Operation,
) -> Result<Vec<Predicate<'s>>, RuntimeError> {
    let mut fields: Vec<&Field> = Vec::new();
    for key in bodies
        .iter()
        .filter_map(|b| b.as_object())
        .flat_map(|b| b.keys())
    {
        if let Some(field) = body_field(model, key) {
            if !fields.iter().any(|f| f.name == field.name) {
                fields.push(field);
            }
        }
    }
    let mut checks = Vec::new();
    for field in fields {
        match access::field_guard(schema, principal, model, field, operation) {
            None => {}
            Some(Predicate::Const(false)) => {
                return Err(access::field_denied(principal, model, field, operation))
            }
            Some(shown) => checks.push(shown),
        }
    }
    Ok(checks)
}

/// The conjunction of `predicates`; `None` when there are none.
fn all_of<'s>(predicates: impl IntoIterator<Item = Predicate<'s>>) -> Option<Predicate<'s>> {
    let mut predicates: Vec<Predicate<'s>> = predicates.into_iter().collect();
    match predicates.len() {
        0 => None,
        1 => predicates.pop(),
        _ => Some(Predicate::And(predicates)),
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

/// The instant `at` as a canonical value of a date or timestamp field.
pub(crate) fn time_value(field: &Field, at: DateTime<Utc>) -> Json {
    use tessera_schema::ir::ScalarType;
    Json::String(match field.ty.scalar {
        ScalarType::Timestamp => format_timestamp(at.naive_utc()),
        ScalarType::Date => format_date(at.date_naive()),
        _ => format_timestamptz(at),
    })
}

/// The caller's id as a value of an actor field (null for callers who are not users).
pub(crate) fn actor_value(
    schema: &Schema,
    field: &Field,
    principal: &Principal,
) -> Result<Json, RuntimeError> {
    match principal.actor() {
        None => Ok(Json::Null),
        Some(actor) => coerce(schema, field, &Json::String(actor.to_owned())).map_err(|(_, m)| {
            RuntimeError::bad_request(
                Code::InvalidText,
                format!("the caller's id is not a valid {}: {m}", field.name),
            )
        }),
    }
}

/// The value a default gives `field` now; `None` when randomness is unavailable.
fn default_json(field: &Field, default: &DefaultValue, at: DateTime<Utc>) -> Option<Json> {
    Some(match default {
        DefaultValue::String(s) | DefaultValue::EnumValue(s) => Json::String(s.clone()),
        DefaultValue::Number(n) => match field.ty.scalar {
            // At the field's scale, rounded as the database rounds a default.
            tessera_schema::ir::ScalarType::Decimal(limits) => decimal::parse(n)
                .map(|v| decimal::to_json(&decimal::to_text(&decimal::round(v, limits))))
                .unwrap_or(Json::Null),
            _ => n.parse::<f64>().map(number).unwrap_or(Json::Null),
        },
        DefaultValue::Bool(b) => Json::Bool(*b),
        DefaultValue::Json(v) => v.clone(),
        DefaultValue::Now => time_value(field, at),
        DefaultValue::GeneratedUuid => Json::String(uuid::Uuid::new_v4().to_string()),
        DefaultValue::RandomSecret => Json::String(crate::secrets::random_secret().ok()?),
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

fn field_error(field: &Field, rule: &str, message: String, row: Option<usize>) -> FieldError {
    FieldError {
        field: field.name.clone(),
        rule: rule.to_owned(),
        message,
        row,
    }
}

/// `$2a$`, `$2b$` or `$2y$` bcrypt hashes (60 characters), accepted as they are by
/// `@hash(bcrypt)` fields.
pub fn is_bcrypt_hash(value: &str) -> bool {
    value.len() == 60
        && (value.starts_with("$2a$") || value.starts_with("$2b$") || value.starts_with("$2y$"))
}

/// Whether a checked value of `field` is a plain password still to be hashed (bcrypt
/// hashes given to `@hash(bcrypt)` fields are kept as they are).
pub(crate) fn needs_hashing(field: &Field, value: &Json) -> bool {
    match (field.hash, value.as_str()) {
        (Some(HashAlgorithm::Bcrypt), Some(s)) => !is_bcrypt_hash(s),
        (Some(_), Some(_)) => true,
        _ => false,
    }
}

impl<'s> Preparer<'s, '_> {
    /// Transforms, checks and validates one body object; fills defaults and managed
    /// fields. Failing fields are added to `errors`; a body that is no object, or names
    /// no field of the model, is an error of its own.
    fn row(
        &self,
        body: &Json,
        row: Option<usize>,
        errors: &mut Vec<FieldError>,
    ) -> Result<Row<'s>, RuntimeError> {
        let (schema, model) = (self.schema, self.model);
        let Json::Object(obj) = body else {
            return Err(RuntimeError::bad_request(
                Code::InvalidBody,
                format!(
                    "expected a JSON object{}",
                    row.map(|r| format!(" at row {r}")).unwrap_or_default()
                ),
            ));
        };
        let mut out: Row = Vec::new();
        // Fields present in the body, valid or not: a present but invalid field is not
        // also reported as missing.
        let mut present: Vec<&str> = Vec::new();
        for (key, raw) in obj {
            let Some(field) = body_field(model, key) else {
                return Err(RuntimeError::bad_request(
                    Code::UnknownBodyField,
                    format!(
                        "Could not find the '{key}' field of '{}' in the schema",
                        model.name
                    ),
                ));
            };
            if present.contains(&field.name.as_str()) {
                return Err(RuntimeError::bad_request(
                    Code::InvalidBody,
                    format!("field {} is given twice", field.name),
                ));
            }
            present.push(&field.name);
            if let Some(error) = self.unwritable(field, row) {
                errors.push(error);
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
            let is_hash_input = field.hash == Some(HashAlgorithm::Bcrypt)
                && value.as_str().is_some_and(is_bcrypt_hash);
            if !is_hash_input {
                for v in &field.validations {
                    let items: Vec<&Json> = match &value {
                        Json::Array(items) if field.ty.array => items.iter().collect(),
                        other => vec![other],
                    };
                    if items.iter().any(|item| !self.patterns.holds(&v.rule, item)) {
                        let message = v
                            .message
                            .clone()
                            .unwrap_or_else(|| default_message(&field.name, &v.rule));
                        errors.push(field_error(field, v.rule.name(), message, row));
                        failed = true;
                    }
                }
            }
            if !failed {
                out.push((field, value));
            }
        }
        self.fill(&mut out, &present, row, errors)?;
        // In the model's field order, so rows writing the same fields go in one statement
        // whatever order their bodies list them in.
        out.sort_by_key(|(f, _)| model.fields.iter().position(|m| m.name == f.name));
        Ok(out)
    }

    /// Why a client may not write `field` here, if it may not.
    fn unwritable(&self, field: &Field, row: Option<usize>) -> Option<FieldError> {
        if field.computed.is_some() {
            return Some(field_error(
                field,
                "virtual",
                format!("{} is computed on read and cannot be written", field.name),
                row,
            ));
        }
        match field.managed {
            Some(Managed::ImportHash) if self.mode == Mode::Insert => {}
            Some(_) => {
                return Some(field_error(
                    field,
                    "managed",
                    format!(
                        "{} is maintained by the engine and cannot be written",
                        field.name
                    ),
                    row,
                ))
            }
            None => {}
        }
        if !self.principal.is_service() && is_service_only_account_field(self.model, field) {
            // Users edit their own profile; what grants or withholds rights (roles,
            // verification, the disabled flag) stays with the service, or a suspended
            // user could lift their own suspension.
            return Some(field_error(
                field,
                "managed",
                format!(
                    "{} of an account is set with the service key only",
                    field.name
                ),
                row,
            ));
        }
        if self.mode == Mode::Update && field.readonly {
            return Some(field_error(
                field,
                "readonly",
                format!("{} is set on insert only and cannot be updated", field.name),
                row,
            ));
        }
        None
    }

    /// Engine-managed fields and, on insert, defaults and required fields.
    fn fill(
        &self,
        out: &mut Row<'s>,
        present: &[&str],
        row: Option<usize>,
        errors: &mut Vec<FieldError>,
    ) -> Result<(), RuntimeError> {
        let (schema, model, mode, at) = (self.schema, self.model, self.mode, self.at);
        let required = |field: &Field| {
            field_error(
                field,
                "required",
                format!("{} is required", field.name),
                row,
            )
        };
        for field in model.stored_fields() {
            let given = present.contains(&field.name.as_str());
            match field.managed {
                Some(Managed::CreatedAt) if mode == Mode::Insert => {
                    out.push((field, time_value(field, at)))
                }
                Some(Managed::UpdatedAt) => out.push((field, time_value(field, at))),
                Some(Managed::CreatedBy) if mode == Mode::Insert => {
                    out.push((field, actor_value(schema, field, self.principal)?))
                }
                Some(Managed::UpdatedBy) => {
                    out.push((field, actor_value(schema, field, self.principal)?))
                }
                _ if mode == Mode::Insert && !given && field.managed.is_none() => {
                    if let Some(v) = field
                        .default
                        .as_ref()
                        .and_then(|d| default_json(field, d, at))
                    {
                        out.push((field, v));
                    } else if !field.nullable
                        && !field.ty.scalar.is_auto_increment()
                        && field.conditional_defaults.is_empty()
                    {
                        errors.push(required(field));
                    }
                }
                _ => {}
            }
        }
        if mode == Mode::Insert {
            // After every plain default, so that a condition sees the row as it will be
            // stored.
            for field in model.stored_fields() {
                if field.conditional_defaults.is_empty() || present.contains(&field.name.as_str()) {
                    continue;
                }
                let chosen = field
                    .conditional_defaults
                    .iter()
                    .find(|d| condition_holds(&d.when, out))
                    .and_then(|d| default_json(field, &d.value, at));
                let current = out.iter().position(|(f, _)| f.name == field.name);
                match (chosen, current) {
                    (Some(v), Some(i)) => out[i].1 = v,
                    (Some(v), None) => out.push((field, v)),
                    (None, None) if !field.nullable && !field.ty.scalar.is_auto_increment() => {
                        errors.push(required(field));
                    }
                    (None, _) => {}
                }
            }
        }
        Ok(())
    }
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
        (DefaultValue::Number(a), Json::Number(b)) => {
            decimal::compare_text(a, &b.to_string()) == std::cmp::Ordering::Equal
        }
        (DefaultValue::Json(a), b) => a == b,
        _ => false,
    };
    match when.comparison {
        FieldComparison::Equal => equal,
        FieldComparison::NotEqual => !equal,
    }
}

/// Fills the fields a create leaves unset with the values the caller's row grant implies
/// (their tenant, or their id in an owner field), so that a signed-in user need not repeat
/// them. Engine-managed fields (actor columns) are filled by the engine itself.
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
        members.insert(field.name.clone(), value);
    }
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

/// Whether `fields` are those of a unique index over live rows only.
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
