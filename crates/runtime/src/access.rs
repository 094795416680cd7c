//! Access rules (`@@allow`): what a caller other than the service may do, and on which
//! rows.
//!
//! A rule grants operations to a class of callers; row rules (`createdBy == auth`) grant
//! them only on the caller's own rows. Row rules become conditions of the statement that
//! runs the operation (reads, updates, deletes and restores never see other rows) or checks
//! of the written values (creates, and updates that would hand a row to someone else), so
//! no row outside the grant is read or changed.

use serde_json::Value as Json;
use tessera_schema::ir::{AccessCondition, Field, Model, Operation};

use crate::error::{ErrorKind, RuntimeError};
use crate::request::{Condition, Context, Filter, FilterValue, Operator, Role};

/// What the caller may do to a model's rows for one operation.
#[derive(Debug)]
pub(crate) enum Grant<'s> {
    /// Every row.
    AllRows,
    /// Only rows where one of these fields holds the user's id.
    OwnRows {
        fields: Vec<&'s Field>,
        user: String,
    },
}

impl Grant<'_> {
    /// The grant's row condition, by field name, for requests.
    pub(crate) fn condition(&self) -> Option<Condition> {
        match self {
            Grant::AllRows => None,
            Grant::OwnRows { fields, user } => Some(Condition::Or(
                fields
                    .iter()
                    .map(|f| {
                        Condition::Filter(Filter {
                            field: f.name.clone(),
                            op: Operator::Eq,
                            value: FilterValue::Text(user.clone()),
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
            Grant::OwnRows { fields, user } => row
                .iter()
                .any(|(f, v)| fields.iter().any(|o| o.name == f.name) && json_is_id(v, user)),
        }
    }

    /// The owner fields among `changes` set to someone else's id (or to null).
    pub(crate) fn foreign_owner<'a>(&self, changes: &'a [(&Field, Json)]) -> Option<&'a Field> {
        match self {
            Grant::AllRows => None,
            Grant::OwnRows { fields, user } => changes
                .iter()
                .find(|(f, v)| fields.iter().any(|o| o.name == f.name) && !json_is_id(v, user))
                .map(|(f, _)| *f),
        }
    }
}

fn json_is_id(value: &Json, user: &str) -> bool {
    match value {
        Json::String(s) => s.eq_ignore_ascii_case(user),
        Json::Number(n) => n.to_string() == user,
        _ => false,
    }
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
    let mut owner_fields: Vec<&Field> = Vec::new();
    for rule in model
        .access
        .iter()
        .filter(|r| r.operations.contains(&operation))
    {
        match (&rule.condition, user) {
            (AccessCondition::Public, _) | (AccessCondition::Authenticated, Some(_)) => {
                return Ok(Some(Grant::AllRows))
            }
            (AccessCondition::Owner { field }, Some(_)) => {
                if let Some(f) = model.field(field) {
                    if !owner_fields.iter().any(|o| o.name == f.name) {
                        owner_fields.push(f);
                    }
                }
            }
            (_, None) => {}
        }
    }
    match user {
        Some(user) if !owner_fields.is_empty() => Ok(Some(Grant::OwnRows {
            fields: owner_fields,
            user: user.to_owned(),
        })),
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
