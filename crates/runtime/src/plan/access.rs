//! Access rules (`@@allow`): what a caller other than the service may do, and on which
//! rows.
//!
//! A rule grants operations to a class of callers (anyone, signed-in users, users whose
//! account holds a value); row rules (`createdBy == auth`, `tenant == auth.tenant`) grant
//! them only on the rows matching the caller. Row rules become conditions of the statement that
//! runs the operation (reads, updates, deletes and restores never see other rows) or checks
//! of the written values (creates, and updates that would hand a row to someone else), so
//! no row outside the grant is read or changed.

use serde_json::{Map, Value as Json};
use tessera_schema::ir::{AccessCondition, DefaultValue, Field, Model, Operation};
use tessera_schema::Schema;

use super::predicate::{Comparison, Predicate};
use super::values::coerce;
use crate::caller::{Caller, Who};
use crate::error::{Code, ErrorKind, RuntimeError};

/// A caller as a plan sees it: who they are, and the values of their account that the
/// schema's rules compare, read when the request runs. Only the engine builds one.
#[derive(Debug, Clone)]
pub(crate) struct Principal {
    caller: Caller,
    account: Map<String, Json>,
}

impl Principal {
    /// `caller` with the account values the rules compare (`auth.tenant`), as stored now.
    pub(crate) fn new(caller: Caller, account: Map<String, Json>) -> Principal {
        Principal { caller, account }
    }

    /// The engine acting on its own (publish logs, identity tables): no rule applies.
    pub(crate) fn engine() -> Principal {
        Principal::new(Caller::service(), Map::new())
    }

    /// The id written to actor columns (`createdById`): the signed-in user's.
    pub(crate) fn actor(&self) -> Option<&str> {
        self.caller.user_id()
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
    /// Only rows where one of these fields holds the paired value (the user's id, or a
    /// value of their account); no pairs means no rows.
    Rows(Vec<(&'s Field, Json)>),
}

impl<'s> Grant<'s> {
    /// The rows the grant covers; `None` for all of them.
    pub(crate) fn rows(&self) -> Option<Predicate<'s>> {
        match self {
            Grant::AllRows => None,
            Grant::Rows(pairs) => Some(Predicate::Or(
                pairs
                    .iter()
                    .map(|(f, value)| Predicate::Compare(f, Comparison::Eq, value.clone()))
                    .collect(),
            )),
        }
    }

    /// The values a create may take for fields it leaves unset, so that the row lands
    /// inside the grant: the one value a field is paired with (a tenant), when the grant
    /// pairs it with exactly one.
    pub(crate) fn implied_values(&self) -> Vec<(&'s Field, Json)> {
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

/// Whether an account value equals a rule's literal.
fn literal_is(json: &Json, literal: &DefaultValue) -> bool {
    match (literal, json) {
        (DefaultValue::String(a) | DefaultValue::EnumValue(a), Json::String(b)) => a == b,
        (DefaultValue::Bool(a), Json::Bool(b)) => a == b,
        (DefaultValue::Number(a), Json::Number(b)) => {
            tessera_sql::decimal::compare_text(a, &b.to_string()) == std::cmp::Ordering::Equal
        }
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
    schema: &'s Schema,
    principal: &Principal,
    model: &'s Model,
    operation: Operation,
) -> Result<Option<Grant<'s>>, RuntimeError> {
    let user = match principal.caller.who() {
        Who::Service => return Ok(None),
        Who::Anonymous => None,
        Who::User(id) => Some(id.as_str()),
    };
    let mut pairs: Vec<(&Field, Json)> = Vec::new();
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
                if literal_is(principal.account_value(account_field), value) {
                    return Ok(Some(Grant::AllRows));
                }
                continue;
            }
            AccessCondition::Owner { field } => (field, Json::String(user.to_owned())),
            AccessCondition::SameAsAccount {
                field,
                account_field,
            } => (field, principal.account_value(account_field).clone()),
        };
        row_rules = true;
        let Some(f) = model.field(field) else {
            continue;
        };
        // A value the field cannot hold (a null account value, an id of another shape)
        // matches no row.
        let Ok(value) = coerce(schema, f, &value) else {
            continue;
        };
        if !value.is_null() && !pairs.iter().any(|(g, v)| g.name == f.name && *v == value) {
            pairs.push((f, value));
        }
    }
    match user {
        Some(_) if row_rules => Ok(Some(Grant::Rows(pairs))),
        Some(_) => Err(denied(ErrorKind::Forbidden, model, operation)),
        None => Err(denied(ErrorKind::Unauthorized, model, operation)),
    }
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
