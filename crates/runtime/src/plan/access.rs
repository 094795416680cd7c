//! Access rules (`@@allow`): what a caller other than the service may do, and on which
//! rows.
//!
//! A rule's condition is folded for the caller at hand: what it says of the caller alone
//! (`authenticated`, `auth.role == admin`) is decided at once, and what it says of rows
//! (`createdBy == auth`, `tenant == auth.tenant`, `members.some(user == auth)`,
//! `auth.role.permissions.some(name == "READ_USERS")`) becomes a predicate of the statement
//! that runs the operation: reads, updates, deletes and restores never see other rows, and
//! creates and updates check the rows they would write, in the same transaction before
//! writing them, so no row outside the grant is read or changed. The rights of a write are
//! those the caller had before it: a membership a write adds or moves grants nothing to
//! that write. Nothing is decided row by row in memory.

use std::cmp::Ordering;

use serde_json::{Map, Value as Json};
use tessera_schema::ir::{
    AccessRule, Condition, DefaultValue, Field, Model, Operand, Operation, Quantifier, RuleOp,
};
use tessera_schema::Schema;
use tessera_sql::decimal::compare_text;

use super::names;
use super::predicate::{Comparison, Predicate, Related};
use super::values::coerce;
use crate::caller::{Caller, Who};
use crate::error::{Code, ErrorKind, RuntimeError};
use crate::request::Deleted;

/// A caller as a plan sees it: who they are, and the values of their account that the
/// schema's rules compare, read when the request runs. Only the engine builds one.
#[derive(Debug, Clone)]
pub(crate) struct Principal {
    caller: Caller,
    account: Map<String, Json>,
    /// The user the engine writes for, when it acts on a user's behalf.
    on_behalf_of: Option<String>,
}

impl Principal {
    /// `caller` with the account values the rules compare (`auth.tenant`), as stored now.
    pub(crate) fn new(caller: Caller, account: Map<String, Json>) -> Principal {
        Principal {
            caller,
            account,
            on_behalf_of: None,
        }
    }

    /// The engine acting on its own (identity tables): no rule applies.
    pub(crate) fn engine() -> Principal {
        Principal::new(Caller::service(), Map::new())
    }

    /// The engine writing what an operation of this caller entails (the log row of a
    /// publish run): no rule applies, and the caller is recorded as the actor.
    pub(crate) fn engine_for(&self) -> Principal {
        Principal {
            on_behalf_of: self.actor().map(str::to_owned),
            ..Principal::engine()
        }
    }

    /// The id written to actor columns (`createdById`): the signed-in user's.
    pub(crate) fn actor(&self) -> Option<&str> {
        self.on_behalf_of
            .as_deref()
            .or_else(|| self.caller.user_id())
    }

    pub(crate) fn is_service(&self) -> bool {
        self.caller.is_service()
    }

    fn account_value(&self, field: &str) -> &Json {
        self.account.get(field).unwrap_or(&Json::Null)
    }
}

/// What the caller may do to a model's rows for one operation.
#[derive(Debug, Clone)]
pub(crate) enum Grant<'s> {
    /// Every row.
    AllRows,
    /// Only the rows meeting the predicate.
    Rows(Predicate<'s>),
}

impl<'s> Grant<'s> {
    /// The rows the grant covers; `None` for all of them.
    pub(crate) fn rows(&self) -> Option<Predicate<'s>> {
        match self {
            Grant::AllRows => None,
            Grant::Rows(predicate) => Some(predicate.clone()),
        }
    }

    /// The values a create may take for fields it leaves unset, so that the row lands
    /// inside the grant: the one value every alternative of the grant requires of a field
    /// (a tenant).
    pub(crate) fn implied_values(&self) -> Vec<(&'s Field, Json)> {
        match self {
            Grant::AllRows => Vec::new(),
            Grant::Rows(predicate) => required_values(predicate),
        }
    }
}

/// The (field, value) pairs a row must hold to meet `predicate`, where it says so plainly.
fn required_values<'s>(predicate: &Predicate<'s>) -> Vec<(&'s Field, Json)> {
    match predicate {
        Predicate::Compare(field, Comparison::Eq, value) => vec![(*field, value.clone())],
        Predicate::And(list) => list.iter().flat_map(required_values).collect(),
        Predicate::Or(list) => {
            let mut alternatives = list.iter().map(required_values);
            let Some(first) = alternatives.next() else {
                return Vec::new();
            };
            alternatives.fold(first, |common, other| {
                common
                    .into_iter()
                    .filter(|(f, v)| other.iter().any(|(g, w)| g.name == f.name && w == v))
                    .collect()
            })
        }
        _ => Vec::new(),
    }
}

/// A rule's condition for one caller: it holds for every row, for none, on the rows
/// meeting a predicate, or it is unknown: a comparison with the id or the account of an
/// anonymous caller, which (like SQL's null) stays unknown under `!` and admits nobody.
enum Folded<'s> {
    Always,
    Never,
    Unknown,
    Rows(Predicate<'s>),
}

impl<'s> Folded<'s> {
    fn rows(predicate: Predicate<'s>) -> Folded<'s> {
        Folded::Rows(predicate)
    }
}

/// A value on one side of a rule's comparison, for one caller.
enum Side<'s> {
    Field(&'s Field),
    /// A value known when the request is planned: a literal, the caller's id or a value of
    /// their account; `literal` when written in the schema (a null there means `null`, a
    /// null read from the account matches nothing).
    Known {
        value: Json,
        literal: bool,
    },
}

/// Folds the schema's rule conditions for one caller into predicates on rows.
struct Folder<'s, 'p> {
    schema: &'s Schema,
    principal: &'p Principal,
}

impl<'s> Folder<'s, '_> {
    fn user(&self) -> Option<&str> {
        match self.principal.caller.who() {
            Who::User(id) => Some(id.as_str()),
            _ => None,
        }
    }

    fn fold(&self, model: &'s Model, condition: &'s Condition) -> Folded<'s> {
        match condition {
            Condition::Public => Folded::Always,
            Condition::Authenticated if self.user().is_some() => Folded::Always,
            Condition::Authenticated => Folded::Never,
            Condition::All { conditions } => {
                let mut rows = Vec::new();
                let mut unknown = false;
                for c in conditions {
                    match self.fold(model, c) {
                        Folded::Always => {}
                        Folded::Never => return Folded::Never,
                        Folded::Unknown => unknown = true,
                        Folded::Rows(p) => rows.push(p),
                    }
                }
                match (rows.is_empty(), unknown) {
                    (true, false) => Folded::Always,
                    (true, true) => Folded::Unknown,
                    (false, unknown) => {
                        rows.extend(unknown.then_some(Predicate::Unknown));
                        Folded::rows(Predicate::And(rows))
                    }
                }
            }
            Condition::Any { conditions } => {
                let mut rows = Vec::new();
                let mut unknown = false;
                for c in conditions {
                    match self.fold(model, c) {
                        Folded::Always => return Folded::Always,
                        Folded::Never => {}
                        Folded::Unknown => unknown = true,
                        Folded::Rows(p) => rows.push(p),
                    }
                }
                match (rows.is_empty(), unknown) {
                    (true, false) => Folded::Never,
                    (true, true) => Folded::Unknown,
                    (false, unknown) => {
                        rows.extend(unknown.then_some(Predicate::Unknown));
                        Folded::rows(Predicate::Or(rows))
                    }
                }
            }
            Condition::Not { condition } => match self.fold(model, condition) {
                Folded::Always => Folded::Never,
                Folded::Never => Folded::Always,
                Folded::Unknown => Folded::Unknown,
                Folded::Rows(p) => Folded::rows(Predicate::Not(Box::new(p))),
            },
            Condition::Compare { left, op, right } => {
                let (Some(left), Some(right)) = (self.side(model, left), self.side(model, right))
                else {
                    // The id or the account of an anonymous caller.
                    return Folded::Unknown;
                };
                self.compare(left, *op, right)
            }
            Condition::In { operand, values } => {
                let Some(side) = self.side(model, operand) else {
                    return Folded::Unknown;
                };
                let values: Vec<Json> = values.iter().map(literal_json).collect();
                match side {
                    Side::Field(field) => Folded::rows(Predicate::In(
                        field,
                        values
                            .iter()
                            .filter_map(|v| coerce(self.schema, field, v).ok())
                            .collect(),
                    )),
                    Side::Known { value, .. } => {
                        if values.iter().any(|v| same(&value, v)) {
                            Folded::Always
                        } else {
                            Folded::Never
                        }
                    }
                }
            }
            Condition::Related {
                relation,
                quantifier,
                condition,
            } => self.related(model, relation, *quantifier, condition),
            Condition::Account { condition } => {
                let Some(user) = self.user() else {
                    return Folded::Unknown;
                };
                let Some((account, _)) = self.schema.identity_model() else {
                    return Folded::Never;
                };
                let Some(key) = account.primary_key_fields().next() else {
                    return Folded::Never;
                };
                let Ok(id) = coerce(self.schema, key, &Json::String(user.to_owned())) else {
                    return Folded::Never;
                };
                match self.fold(account, condition) {
                    Folded::Always => Folded::Always,
                    Folded::Never | Folded::Unknown => Folded::Never,
                    Folded::Rows(p) => {
                        let mut predicates = vec![Predicate::Compare(key, Comparison::Eq, id), p];
                        predicates.extend(Predicate::live(account, Deleted::Exclude));
                        Folded::rows(Predicate::Exists(account, predicates))
                    }
                }
            }
        }
    }

    /// The rows reached through `relation` meet `condition`: some of them, or each.
    fn related(
        &self,
        model: &'s Model,
        relation: &str,
        quantifier: Quantifier,
        condition: &'s Condition,
    ) -> Folded<'s> {
        let link = model.relation(relation).and_then(|r| {
            names::relation_link(self.schema, model, &r.kind)
                .ok()
                .flatten()
        });
        let Some((link, _)) = link else {
            return Folded::Never;
        };
        let target = link.target;
        let reached = |mut predicates: Vec<Predicate<'s>>| {
            // Soft-deleted rows grant nothing: a removed membership is no membership.
            predicates.extend(Predicate::live(target, Deleted::Exclude));
            Predicate::Related(Box::new(Related {
                model: target,
                link: link.clone(),
                predicates,
                parent_type: None,
            }))
        };
        let inner = self.fold(target, condition);
        // An unknown condition holds for no related row (`EXISTS` is never unknown), nor
        // does one that is unknown wherever it is not false (`user == auth && active` for
        // an anonymous caller).
        let inner = match inner {
            Folded::Unknown => Folded::Never,
            Folded::Rows(p) if quantifier == Quantifier::Some && never_true(&p) => Folded::Never,
            other => other,
        };
        match (quantifier, inner) {
            (Quantifier::Some, Folded::Never | Folded::Unknown) => Folded::Never,
            (Quantifier::Some, Folded::Always) => Folded::rows(reached(Vec::new())),
            (Quantifier::Some, Folded::Rows(p)) => Folded::rows(reached(vec![p])),
            (Quantifier::Every, Folded::Always) => Folded::Always,
            (Quantifier::Every, Folded::Never | Folded::Unknown) => {
                Folded::rows(Predicate::Not(Box::new(reached(Vec::new()))))
            }
            // No related row where the condition is not true: a row where it is unknown
            // (a null field, an anonymous caller's id) does not meet it either.
            (Quantifier::Every, Folded::Rows(p)) => Folded::rows(Predicate::Not(Box::new(
                reached(vec![Predicate::NotTrue(Box::new(p))]),
            ))),
        }
    }

    /// One side of a comparison; `None` for the caller's id or account of an anonymous
    /// caller.
    fn side(&self, model: &'s Model, operand: &Operand) -> Option<Side<'s>> {
        Some(match operand {
            Operand::Field { name } => match model.field(name) {
                Some(field) => Side::Field(field),
                None => Side::Known {
                    value: Json::Null,
                    literal: false,
                },
            },
            Operand::Auth => Side::Known {
                value: Json::String(self.user()?.to_owned()),
                literal: false,
            },
            Operand::AccountField { name } => {
                self.user()?;
                Side::Known {
                    value: self.principal.account_value(name).clone(),
                    literal: false,
                }
            }
            Operand::RequestTenant => Side::Known {
                value: self
                    .principal
                    .caller
                    .tenant()
                    .map_or(Json::Null, |t| Json::String(t.to_owned())),
                literal: false,
            },
            Operand::Value { value } => Side::Known {
                value: literal_json(value),
                literal: true,
            },
            Operand::Null => Side::Known {
                value: Json::Null,
                literal: true,
            },
        })
    }

    fn compare(&self, left: Side<'s>, op: RuleOp, right: Side<'s>) -> Folded<'s> {
        let (field, value, literal, op) = match (left, right) {
            (Side::Field(field), Side::Known { value, literal }) => (field, value, literal, op),
            (Side::Known { value, literal }, Side::Field(field)) => {
                (field, value, literal, op.flipped())
            }
            (
                Side::Known {
                    value: a,
                    literal: a_literal,
                },
                Side::Known {
                    value: b,
                    literal: b_literal,
                },
            ) => {
                return if known_holds(&a, a_literal, op, &b, b_literal) {
                    Folded::Always
                } else {
                    Folded::Never
                };
            }
            // The checker admits no comparison of two fields.
            (Side::Field(_), Side::Field(_)) => return Folded::Never,
        };
        if value.is_null() {
            return Folded::rows(match (literal, op) {
                (true, RuleOp::Equal) => Predicate::IsNull(field),
                (true, RuleOp::NotEqual) => Predicate::Not(Box::new(Predicate::IsNull(field))),
                // A missing account value matches no row.
                _ => Predicate::Const(false),
            });
        }
        // A value the field cannot hold (an id of another shape) matches no row.
        let Ok(value) = coerce(self.schema, field, &value) else {
            return Folded::rows(Predicate::Const(false));
        };
        let comparison = match op {
            RuleOp::Equal => Comparison::Eq,
            RuleOp::NotEqual => Comparison::Neq,
            RuleOp::Less => Comparison::Lt,
            RuleOp::LessOrEqual => Comparison::Lte,
            RuleOp::Greater => Comparison::Gt,
            RuleOp::GreaterOrEqual => Comparison::Gte,
        };
        Folded::rows(Predicate::Compare(field, comparison, value))
    }
}

/// Whether `predicate` holds for no row, whatever the row holds: it is unknown (a
/// comparison with an anonymous caller's id or account) wherever it is not false.
fn never_true(predicate: &Predicate) -> bool {
    match predicate {
        Predicate::Unknown => true,
        Predicate::And(list) => list.iter().any(never_true),
        Predicate::Or(list) => !list.is_empty() && list.iter().all(never_true),
        _ => false,
    }
}

/// A literal of a rule as JSON.
fn literal_json(value: &DefaultValue) -> Json {
    match value {
        DefaultValue::String(s) | DefaultValue::EnumValue(s) => Json::String(s.clone()),
        DefaultValue::Number(n) => serde_json::from_str(n).unwrap_or(Json::Null),
        DefaultValue::Bool(b) => Json::Bool(*b),
        DefaultValue::Json(json) => json.clone(),
        DefaultValue::Now | DefaultValue::GeneratedUuid | DefaultValue::RandomSecret => Json::Null,
    }
}

/// Whether two known values are equal (numbers by value, UUIDs in any case).
fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => {
            compare_text(&x.to_string(), &y.to_string()) == Ordering::Equal
        }
        (Json::String(x), Json::String(y)) => x == y || x.eq_ignore_ascii_case(y) && is_uuid(x),
        _ => a == b,
    }
}

fn is_uuid(text: &str) -> bool {
    uuid::Uuid::parse_str(text).is_ok()
}

/// A comparison of two values known when the request is planned (`auth.role == "admin"`).
fn known_holds(a: &Json, a_literal: bool, op: RuleOp, b: &Json, b_literal: bool) -> bool {
    if a.is_null() || b.is_null() {
        // Only a `null` written in the schema tests for a missing value.
        let null_test = (a.is_null() && a_literal) || (b.is_null() && b_literal);
        return null_test
            && match op {
                RuleOp::Equal => a.is_null() && b.is_null(),
                RuleOp::NotEqual => !(a.is_null() && b.is_null()),
                _ => false,
            };
    }
    let order = match (a, b) {
        (Json::Number(x), Json::Number(y)) => Some(compare_text(&x.to_string(), &y.to_string())),
        (Json::String(x), Json::String(y)) => Some(x.cmp(y)),
        (Json::Bool(x), Json::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    };
    match op {
        RuleOp::Equal => same(a, b),
        RuleOp::NotEqual => !same(a, b),
        RuleOp::Less => order == Some(Ordering::Less),
        RuleOp::LessOrEqual => matches!(order, Some(Ordering::Less | Ordering::Equal)),
        RuleOp::Greater => order == Some(Ordering::Greater),
        RuleOp::GreaterOrEqual => {
            matches!(order, Some(Ordering::Greater | Ordering::Equal))
        }
    }
}

/// The account fields the schema's rules compare, to be read for each signed-in request.
pub(crate) fn account_fields(schema: &Schema) -> Vec<String> {
    let mut fields: Vec<String> = Vec::new();
    let field_rules = schema
        .models
        .iter()
        .flat_map(|m| &m.fields)
        .flat_map(|f| &f.access);
    for rule in schema
        .models
        .iter()
        .flat_map(|m| &m.access)
        .chain(field_rules)
    {
        for field in rule.condition.account_fields() {
            if !fields.iter().any(|f| f == field) {
                fields.push(field.to_owned());
            }
        }
    }
    fields
}

/// The caller's grant for `operation` on `model`; `None` for the service, which no rule
/// restricts. A caller no rule admits gets 401 when anonymous, 403 when signed in.
pub(crate) fn grant<'s>(
    schema: &'s Schema,
    principal: &Principal,
    model: &'s Model,
    operation: Operation,
) -> Result<Option<Grant<'s>>, RuntimeError> {
    let anonymous = match principal.caller.who() {
        Who::Service => return Ok(None),
        Who::Anonymous => true,
        Who::User(_) => false,
    };
    let Some(mut rows) = admitted(schema, principal, model, &model.access, operation) else {
        return Ok(Some(Grant::AllRows));
    };
    match rows.len() {
        0 if anonymous => Err(denied(ErrorKind::Unauthorized, model, operation)),
        0 => Err(denied(ErrorKind::Forbidden, model, operation)),
        1 => Ok(Some(Grant::Rows(rows.remove(0)))),
        _ => Ok(Some(Grant::Rows(Predicate::Or(rows)))),
    }
}

/// The rows on which `rules` (of `model` or of one of its fields) let the caller run
/// `operation`, one predicate per admitting rule; `None` when one admits every row.
fn admitted<'s>(
    schema: &'s Schema,
    principal: &Principal,
    model: &'s Model,
    rules: &'s [AccessRule],
    operation: Operation,
) -> Option<Vec<Predicate<'s>>> {
    let folder = Folder { schema, principal };
    let mut rows = Vec::new();
    for rule in rules.iter().filter(|r| r.operations.contains(&operation)) {
        match folder.fold(model, &rule.condition) {
            Folded::Always => return None,
            Folded::Never | Folded::Unknown => {}
            // A rule that holds for no row admits nobody: an anonymous caller is refused
            // `owner == auth && shared`, as they are `owner == auth`.
            Folded::Rows(p) if never_true(&p) => {}
            Folded::Rows(p) => rows.push(p),
        }
    }
    Some(rows)
}

/// A condition of a request on `model` (the filter of a write or a publish), judged as
/// the caller sees the rows: fields hidden from them read as null.
pub(crate) fn visible_condition<'s>(
    schema: &'s Schema,
    principal: &Principal,
    model: &'s Model,
    condition: &crate::request::Condition,
) -> Result<Predicate<'s>, RuntimeError> {
    let guard = |field| field_guard(schema, principal, model, field, Operation::Read);
    Ok(super::predicate::condition(schema, model, condition)?.guarded(&guard))
}

/// The rows on which the caller may `operation` (read, create or update) `field`, within
/// the model's own grant: `None` when the field's rules do not narrow it (the caller is the
/// service, or no rule of the field names the operation); a false predicate where the
/// caller may on no row (`@internal`, or no rule admits them).
pub(crate) fn field_guard<'s>(
    schema: &'s Schema,
    principal: &Principal,
    model: &'s Model,
    field: &'s Field,
    operation: Operation,
) -> Option<Predicate<'s>> {
    if principal.is_service() {
        return None;
    }
    if field.internal {
        return Some(Predicate::Const(false));
    }
    if !field
        .access
        .iter()
        .any(|r| r.operations.contains(&operation))
    {
        return None;
    }
    let mut rows = admitted(schema, principal, model, &field.access, operation)?;
    Some(match rows.len() {
        0 => Predicate::Const(false),
        1 => rows.remove(0),
        _ => Predicate::Or(rows),
    })
}

/// The rows of `model` the caller may run `operation` on; `None` for every row.
pub(crate) fn rows<'s>(
    schema: &'s Schema,
    principal: &Principal,
    model: &'s Model,
    operation: Operation,
) -> Result<Option<Predicate<'s>>, RuntimeError> {
    Ok(grant(schema, principal, model, operation)?.and_then(|g| g.rows()))
}

fn denied(kind: ErrorKind, model: &Model, operation: Operation) -> RuntimeError {
    let verb = operation.keyword();
    let (who, hint) = match kind {
        ErrorKind::Unauthorized => (
            "anonymous callers",
            "Sign in (Authorization: Bearer <access token>) or use the service key",
        ),
        _ => (
            "this user",
            "The schema's @@allow rules of this model do not grant it to this user",
        ),
    };
    RuntimeError::new(
        kind,
        Code::PermissionDenied,
        format!("permission denied: {who} may not {verb} {}", model.name),
    )
    .with_hint(hint)
}

/// The error of a write setting a field the caller may set on no row.
pub(crate) fn field_denied(
    principal: &Principal,
    model: &Model,
    field: &Field,
    operation: Operation,
) -> RuntimeError {
    let kind = match principal.caller.who() {
        Who::Anonymous => ErrorKind::Unauthorized,
        _ => ErrorKind::Forbidden,
    };
    RuntimeError::new(
        kind,
        Code::PermissionDenied,
        format!(
            "permission denied: this caller may not {} field {}.{}",
            operation.keyword(),
            model.name,
            field.name
        ),
    )
    .with_hint("The field's own @allow rules (or @internal) do not grant it; leave the field out of the body")
}

/// The error of a write that would leave a row outside the caller's grant.
pub(crate) fn outside_grant(model: &Model, operation: Operation, detail: String) -> RuntimeError {
    RuntimeError::new(
        ErrorKind::Forbidden,
        Code::PermissionDenied,
        format!(
            "new row violates the access rules of {} ({})",
            model.name,
            operation.keyword()
        ),
    )
    .with_details(detail)
}
