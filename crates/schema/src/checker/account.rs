//! Access conditions over the signed-in user's account: `auth.role == "admin"` (users whose
//! account holds a value) and `tenant == auth.tenant` (rows whose field matches the same
//! field of the caller's account). Part of the access pass ([`super::access`]).

use super::fields::LiteralUse;
use super::Checker;
use crate::ast::{Attribute, Ident, Value};
use crate::diagnostic::Diagnostic;
use crate::ir::*;
use crate::span::Span;

const ALLOW_USAGE: &str = "`@@allow(operations, auth.field == value)` or `@@allow(operations, field == auth.field)`, e.g. `@@allow(delete, auth.role == \"admin\")` or `@@allow(all, tenant == auth.tenant)`";

const COMPARABLE: &str =
    "access conditions compare stored text, integer, bool, enum or uuid fields, and to-one relations (their foreign keys)";

/// A field named on one side of an account comparison, resolved to the stored field it
/// reads.
struct Operand {
    field: Field,
    /// As written: `tenant` or `auth.tenant`.
    written: String,
    span: Span,
    /// The model a foreign-key field points at.
    target: Option<String>,
}

/// What a name means in a model: a field (a to-one relation means its foreign key) with the
/// model it points at, or why it is not one.
enum Lookup<'m> {
    Field(&'m Field, Option<&'m str>),
    /// A relation without a foreign key here: to-many, many-to-many or polymorphic.
    NotToOne(String),
    Unknown,
}

fn lookup<'m>(model: &'m Model, name: &str) -> Lookup<'m> {
    let field = |field: &'m Field| {
        let target = model.relations.iter().find_map(|r| match &r.kind {
            RelationKind::ToOne {
                field: fk, target, ..
            } if *fk == field.name => Some(target.as_str()),
            _ => None,
        });
        Lookup::Field(field, target)
    };
    if let Some(found) = model.field(name) {
        return field(found);
    }
    match model.relation(name).map(|r| &r.kind) {
        Some(RelationKind::ToOne { field: fk, .. }) => {
            model.field(fk).map_or(Lookup::Unknown, field)
        }
        Some(RelationKind::ToMany { target, .. }) => {
            Lookup::NotToOne(format!("a to-many relation to `{target}`"))
        }
        Some(RelationKind::ManyToMany { target, .. }) => {
            Lookup::NotToOne(format!("a many-to-many relation to `{target}`"))
        }
        Some(RelationKind::Polymorphic { .. }) => {
            Lookup::NotToOne("a polymorphic relation".to_string())
        }
        None => Lookup::Unknown,
    }
}

/// Why a field cannot be compared in an access condition, if it cannot.
fn incomparable(field: &Field) -> Option<&'static str> {
    let scalar = &field.ty.scalar;
    if !field.is_stored() {
        Some("it is virtual, computed on read")
    } else if field.ty.array {
        Some("it is a list")
    } else if field.hash.is_some() {
        Some("it holds a password hash")
    } else if scalar.is_json() {
        Some("it holds JSON")
    } else if *scalar == ScalarType::Bytes {
        Some("it holds bytes")
    } else if scalar.is_temporal() {
        Some("it holds a date or a time")
    } else if matches!(scalar, ScalarType::Decimal(_) | ScalarType::Float) {
        Some("it holds a fractional number")
    } else {
        None
    }
}

/// The type two compared fields must share: lengths of text and sequences do not count.
fn comparison_type(scalar: &ScalarType) -> ScalarType {
    match scalar {
        ScalarType::Varchar(_) => ScalarType::Text,
        ScalarType::Serial => ScalarType::Int,
        ScalarType::BigSerial => ScalarType::BigInt,
        other => other.clone(),
    }
}

/// The names a field of `model` can be written with in a condition: stored fields and to-one
/// relations.
fn comparable_names(model: &Model) -> Vec<&str> {
    model
        .relations
        .iter()
        .filter(|r| matches!(r.kind, RelationKind::ToOne { .. }))
        .map(|r| r.name.as_str())
        .chain(model.stored_fields().map(|f| f.name.as_str()))
        .collect()
}

impl Checker<'_> {
    /// `auth.field == value` or `field == auth.field` (in either order): `account` is the
    /// name after `auth.`, `other` the other side of the comparison.
    pub(super) fn account_condition(
        &mut self,
        index: usize,
        identity: Option<usize>,
        attribute: &Attribute,
        account: &Ident,
        path_span: Span,
        other: &Value,
    ) -> Option<AccessCondition> {
        let Some(identity) = identity else {
            self.no_identity_model(path_span, None);
            return None;
        };
        let account = self.account_operand(identity, account, path_span)?;
        match other {
            Value::Ident(ident) => {
                let enum_values: Vec<String> = match &account.field.ty.scalar {
                    ScalarType::Enum(name) => self
                        .enum_by_name(name)
                        .map(|e| e.values.iter().map(|v| v.name.clone()).collect())
                        .unwrap_or_default(),
                    _ => Vec::new(),
                };
                let is_enum = matches!(account.field.ty.scalar, ScalarType::Enum(_));
                let model = &self.models[index].model;
                let names_a_field =
                    model.field(&ident.name).is_some() || model.relation(&ident.name).is_some();
                if enum_values.contains(&ident.name) || (is_enum && !names_a_field) {
                    // A value of the account field's enum (an unknown one is reported as
                    // such); a field of the same name is shadowed by the value.
                    return self.account_is(&account, other);
                }
                let row = self.row_operand(index, ident, &account, &enum_values)?;
                self.same_as_account(identity, row, account)
            }
            Value::String(..) | Value::Number(..) | Value::Bool(..) => {
                self.account_is(&account, other)
            }
            Value::Null(_) => {
                self.wrong_argument(other, attribute, "a value other than `null`", ALLOW_USAGE);
                None
            }
            _ => {
                self.wrong_argument(
                    other,
                    attribute,
                    &format!("a value or a field compared with `{}`", account.written),
                    ALLOW_USAGE,
                );
                None
            }
        }
    }

    /// `auth.field == literal`: the literal typed as a value of the account field.
    fn account_is(&mut self, account: &Operand, literal: &Value) -> Option<AccessCondition> {
        // A sequence-filled key is compared as the integer it holds; messages name the field
        // as written, `auth.role`.
        let typed = Field {
            name: account.written.clone(),
            ty: FieldType {
                scalar: match &account.field.ty.scalar {
                    ScalarType::Serial => ScalarType::Int,
                    ScalarType::BigSerial => ScalarType::BigInt,
                    other => other.clone(),
                },
                array: false,
            },
            nullable: false,
            ..account.field.clone()
        };
        let value = match self.literal(literal, &typed, LiteralUse::Comparison)? {
            // UUIDs are compared in their canonical lowercase form.
            DefaultValue::String(text) if typed.ty.scalar == ScalarType::Uuid => {
                DefaultValue::String(text.to_ascii_lowercase())
            }
            value => value,
        };
        Some(AccessCondition::AccountIs {
            account_field: account.field.name.clone(),
            value,
        })
    }

    /// `field == auth.field`: both sides hold the same kind of value.
    fn same_as_account(
        &mut self,
        identity: usize,
        row: Operand,
        account: Operand,
    ) -> Option<AccessCondition> {
        if let (Some(row_target), Some(account_target)) = (&row.target, &account.target) {
            if row_target != account_target {
                let users = &self.models[identity].model;
                let same_target = users.relations.iter().find(|r| {
                    matches!(&r.kind, RelationKind::ToOne { target, .. } if target == row_target)
                });
                let help = match same_target {
                    Some(relation) => format!(
                        "compare `{}` with `auth.{}`, which also points at `{row_target}`",
                        row.written, relation.name
                    ),
                    None => format!(
                        "compare references to the same model: `{}` points at `{row_target}`, so the account needs one too, such as `{} -> {row_target}` on model `{}`",
                        row.written, row.written, users.name
                    ),
                };
                self.report(
                    Diagnostic::error(
                        "E0228",
                        format!(
                            "`{}` and `{}` point at different models",
                            row.written, account.written
                        ),
                        row.span,
                    )
                    .with_label(format!("a reference to `{row_target}`"))
                    .with_related(account.span, format!("a reference to `{account_target}`"))
                    .with_help(help),
                );
                return None;
            }
        }
        if comparison_type(&row.field.ty.scalar) != comparison_type(&account.field.ty.scalar) {
            let describe = |operand: &Operand| match &operand.target {
                Some(target) => format!(
                    "`{}` is `{}` (a reference to `{target}`)",
                    operand.written, operand.field.ty
                ),
                None => format!("`{}` is `{}`", operand.written, operand.field.ty),
            };
            self.report(
                Diagnostic::error(
                    "E0228",
                    format!(
                        "`{}` and `{}` hold different types",
                        row.written, account.written
                    ),
                    row.span,
                )
                .with_label(describe(&row))
                .with_related(account.span, describe(&account))
                .with_help(format!(
                    "compare `{}` with a field of the account of type `{}`, or change one of the two types",
                    row.written, row.field.ty
                )),
            );
            return None;
        }
        Some(AccessCondition::SameAsAccount {
            field: row.field.name,
            account_field: account.field.name,
        })
    }

    /// The field of the `@@auth` model named after `auth.`.
    fn account_operand(
        &mut self,
        identity: usize,
        name: &Ident,
        path_span: Span,
    ) -> Option<Operand> {
        let users = &self.models[identity].model;
        let written = format!("auth.{}", name.name);
        let (field, target) = match lookup(users, &name.name) {
            Lookup::Field(field, target) => (field.clone(), target.map(str::to_string)),
            Lookup::NotToOne(what) => {
                self.not_comparable(&written, path_span, "it is not a stored field", what);
                return None;
            }
            Lookup::Unknown => {
                let help = match Checker::suggest(&name.name, comparable_names(users)) {
                    Some(similar) => format!("did you mean `auth.{similar}`?"),
                    None => format!(
                        "name a field of model `{}`, the model holding the accounts",
                        users.name
                    ),
                };
                let message = format!("unknown account field `{written}`");
                let label = format!(
                    "model `{}` has no field or relation with this name",
                    users.name
                );
                self.report(
                    Diagnostic::error("E0226", message, name.span)
                        .with_label(label)
                        .with_help(help),
                );
                return None;
            }
        };
        self.comparable(Operand {
            field,
            written,
            span: path_span,
            target,
        })
    }

    /// The field of model `index` compared with the account field `account`; `enum_values`
    /// are the values of the account field's enum, offered as corrections too.
    fn row_operand(
        &mut self,
        index: usize,
        name: &Ident,
        account: &Operand,
        enum_values: &[String],
    ) -> Option<Operand> {
        let model = &self.models[index].model;
        let (field, target) = match lookup(model, &name.name) {
            Lookup::Field(field, target) => (field.clone(), target.map(str::to_string)),
            Lookup::NotToOne(what) => {
                let written = name.name.clone();
                self.not_comparable(&written, name.span, "it is not a stored field", what);
                return None;
            }
            Lookup::Unknown => {
                let candidates = comparable_names(model)
                    .into_iter()
                    .chain(enum_values.iter().map(String::as_str));
                let help = match Checker::suggest(&name.name, candidates) {
                    Some(similar) => format!("did you mean `{similar}`?"),
                    None if account.field.ty.scalar.is_textual() => format!(
                        "to compare `{}` with a text value, quote it: `{} == \"{}\"`",
                        account.written, account.written, name.name
                    ),
                    None => format!(
                        "name a field or to-one relation of model `{}` holding the same kind of value as `{}`",
                        model.name, account.written
                    ),
                };
                let label = format!(
                    "model `{}` has no field or relation with this name",
                    model.name
                );
                self.report(
                    Diagnostic::error(
                        "E0224",
                        format!("unknown field `{}` in an access condition", name.name),
                        name.span,
                    )
                    .with_label(label)
                    .with_help(help),
                );
                return None;
            }
        };
        self.comparable(Operand {
            field,
            written: name.name.clone(),
            span: name.span,
            target,
        })
    }

    /// The operand, when its field can be compared (reports E0227 otherwise).
    fn comparable(&mut self, operand: Operand) -> Option<Operand> {
        let Some(reason) = incomparable(&operand.field) else {
            return Some(operand);
        };
        let label = if operand.field.hash.is_some() {
            format!("`{}` is hashed with `@hash`", operand.written)
        } else {
            format!("`{}` is `{}`", operand.written, operand.field.ty)
        };
        self.not_comparable(&operand.written, operand.span, reason, label);
        None
    }

    fn not_comparable(&mut self, written: &str, span: Span, reason: &str, label: String) {
        self.report(
            Diagnostic::error(
                "E0227",
                format!("`{written}` cannot be compared in an access condition: {reason}"),
                span,
            )
            .with_label(label)
            .with_help(COMPARABLE),
        );
    }
}
