//! Access rules (`@@allow`): what a caller other than the service may do, and on which
//! rows.
//!
//! A rule grants operations to a class of callers (anyone, signed-in users, users whose
//! account holds a value); row rules (`createdBy == auth`, `tenant == auth.tenant`) grant
//! them only on the rows matching the caller. Row rules become conditions of the statement that
//! runs the operation (reads, updates, deletes and restores never see other rows) or checks
//! of the written values (creates, and updates that would hand a row to someone else), so
//! no row outside the grant is read or changed.

use serde_json::Value as Json;
use tessera_schema::ir::{AccessCondition, DefaultValue, Field, Model, Operation};
use tessera_schema::Schema;

use crate::error::{ErrorKind, RuntimeError};
use crate::request::{Condition, Context, Filter, FilterValue, Operator, Role};

/// What the caller may do to a model's rows for one operation.
#[derive(Debug)]
pub(crate) enum Grant<'s> {
    /// Every row.
    AllRows,
    /// Only rows where one of these fields holds the paired value (the user's id, or a
    /// value of their account); no pairs means no rows.
    Rows(Vec<(&'s Field, String)>),
}

impl Grant<'_> {
    /// The grant's row condition, by field name, for requests.
    pub(crate) fn condition(&self) -> Option<Condition> {
        match self {
            Grant::AllRows => None,
            Grant::Rows(pairs) => Some(Condition::Or(
                pairs
                    .iter()
                    .map(|(f, value)| {
                        Condition::Filter(Filter {
                            field: f.name.clone(),
                            op: Operator::Eq,
                            value: FilterValue::Text(value.clone()),
                        })
                    })
                    .collect(),
            )),
        }
    }

    /// Whether a row given as (field, value) pairs lies inside the grant.
    pub(crate) fn admits(&self, row: &[(&Field, Json)]) -> bool {
        match self {
            Grant::AllRows => true,
            Grant::Rows(pairs) => row.iter().any(|(f, v)| {
                pairs
                    .iter()
                    .any(|(g, value)| g.name == f.name && json_is(v, value))
            }),
        }
    }

    /// A field among `changes` that a row condition pairs with a value, set to another
    /// value: the update would move the row out of the grant.
    pub(crate) fn moved_field<'a>(&self, changes: &'a [(&Field, Json)]) -> Option<&'a Field> {
        match self {
            Grant::AllRows => None,
            Grant::Rows(pairs) => changes
                .iter()
                .find(|(f, v)| {
                    let values: Vec<&String> = pairs
                        .iter()
                        .filter(|(g, _)| g.name == f.name)
                        .map(|(_, value)| value)
                        .collect();
                    !values.is_empty() && !values.iter().any(|value| json_is(v, value))
                })
                .map(|(f, _)| *f),
        }
    }

    /// The values a create may take for fields it leaves unset, so that the row lands
    /// inside the grant: the one value a field is paired with (a tenant), when the grant
    /// pairs it with exactly one.
    pub(crate) fn implied_values(&self) -> Vec<(&Field, String)> {
        match self {
            Grant::AllRows => Vec::new(),
            Grant::Rows(pairs) => pairs
                .iter()
                .filter(|(f, _)| pairs.iter().filter(|(g, _)| g.name == f.name).count() == 1)
                .map(|(f, value)| (*f, value.clone()))
                .collect(),
        }
    }
}

/// Whether a canonical JSON value is the text `value` (ids and account values compare as
/// text; uuids without regard to case).
fn json_is(json: &Json, value: &str) -> bool {
    match json {
        Json::String(s) => s.eq_ignore_ascii_case(value),
        Json::Number(n) => n.to_string() == value,
        Json::Bool(b) => b.to_string() == value,
        _ => false,
    }
}

/// The text of an account value for a filter; `None` for null (which matches nothing).
fn value_text(json: &Json) -> Option<String> {
    match json {
        Json::Null => None,
        Json::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Whether an account value equals a rule's literal.
fn literal_is(json: &Json, literal: &DefaultValue) -> bool {
    match (literal, json) {
        (DefaultValue::String(a) | DefaultValue::EnumValue(a), Json::String(b)) => a == b,
        (DefaultValue::Bool(a), Json::Bool(b)) => a == b,
        (DefaultValue::Number(a), Json::Number(b)) => a.parse::<f64>().ok() == b.as_f64(),
        _ => false,
    }
}

/// The account fields the schema's rules compare, to be read for each signed-in request.
pub(crate) fn account_fields(schema: &Schema) -> Vec<String> {
    let mut fields: Vec<String> = Vec::new();
    for rule in schema.models.iter().flat_map(|m| &m.access) {
        let field = match &rule.condition {
            AccessCondition::AccountIs { account_field, .. }
            | AccessCondition::SameAsAccount { account_field, .. } => account_field,
            _ => continue,
        };
        if !fields.contains(field) {
            fields.push(field.clone());
        }
    }
    fields
}

/// The caller's grant for `operation` on `model`; `None` for the service, which no rule
/// restricts. A caller no rule admits gets 401 when anonymous, 403 when signed in.
pub(crate) fn grant<'s>(
    ctx: &Context,
    model: &'s Model,
    operation: Operation,
) -> Result<Option<Grant<'s>>, RuntimeError> {
    let user = match &ctx.role {
        Role::Service => return Ok(None),
        Role::Anonymous => None,
        Role::User(id) => Some(id.as_str()),
    };
    let account = |name: &str| {
        ctx.account
            .as_ref()
            .and_then(|a| a.get(name))
            .unwrap_or(&Json::Null)
    };
    let mut pairs: Vec<(&Field, String)> = Vec::new();
    let mut row_rules = false;
    for rule in model
        .access
        .iter()
        .filter(|r| r.operations.contains(&operation))
    {
        let Some(user) = user else {
            if rule.condition == AccessCondition::Public {
                return Ok(Some(Grant::AllRows));
            }
            continue;
        };
        let (field, value) = match &rule.condition {
            AccessCondition::Public | AccessCondition::Authenticated => {
                return Ok(Some(Grant::AllRows))
            }
            AccessCondition::AccountIs {
                account_field,
                value,
            } => {
                if literal_is(account(account_field), value) {
                    return Ok(Some(Grant::AllRows));
                }
                continue;
            }
            AccessCondition::Owner { field } => (field, Some(user.to_owned())),
            AccessCondition::SameAsAccount {
                field,
                account_field,
            } => (field, value_text(account(account_field))),
        };
        row_rules = true;
        if let (Some(f), Some(value)) = (model.field(field), value) {
            if !pairs.iter().any(|(g, v)| g.name == f.name && *v == value) {
                pairs.push((f, value));
            }
        }
    }
    match user {
        Some(_) if row_rules => Ok(Some(Grant::Rows(pairs))),
        Some(_) => Err(denied(ErrorKind::Forbidden, model, operation)),
        None => Err(denied(ErrorKind::Unauthorized, model, operation)),
    }
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
        "42501",
        format!("permission denied: {who} may not {verb} {}", model.name),
    )
    .with_hint(hint)
}

/// The error of a write that would leave a row outside the caller's grant.
pub(crate) fn outside_grant(model: &Model, operation: Operation, detail: String) -> RuntimeError {
    RuntimeError::new(
        ErrorKind::Forbidden,
        "42501",
        format!(
            "new row violates the access rules of {} ({})",
            model.name,
            operation.keyword()
        ),
    )
    .with_details(detail)
}
