//! The conditions of access rules: `public`, `authenticated`, comparisons of the row's
//! fields with values, with the caller (`auth`) and with their account (`auth.tenant`),
//! conditions over related rows (`members.some(user == auth)`, `project.owner == auth`,
//! `auth.role.permissions.some(name == "READ_USERS")`), joined with `&&`, `||` and `!`.
//! Part of the access pass ([`super::access`]).

use super::fields::LiteralUse;
use super::Checker;
use crate::ast::{CompareOp, Ident, LogicOp, Value};
use crate::diagnostic::Diagnostic;
use crate::ir::*;
use crate::span::Span;

/// Every form of an access condition, for hints.
pub(super) const CONDITION_FORMS: &str = "`public`, `authenticated`, `field == auth` (the rows of the signed-in user), `auth.field == value` (users whose account holds a value), `field == auth.field` (the rows matching their account), `relation.some(condition)` (rows with a related row meeting it), joined with `&&`, `||` and `!`";

const COMPARABLE: &str = "access conditions compare stored text, number, bool, enum, uuid, date and time fields, and to-one relations (their foreign keys); `<`, `<=`, `>`, `>=` need numbers, text, dates or times";

/// The quantifier words of a condition over related rows.
const QUANTIFIERS: &[&str] = &["some", "every", "none"];

/// The condition words, for "did you mean" hints.
const CONDITION_WORDS: &[&str] = &["public", "authenticated"];

/// A field named in a comparison, resolved.
struct Named {
    /// The to-one relations walked before the field, from the scope's model.
    hops: Vec<String>,
    /// The model holding the field.
    model: usize,
    field: Field,
    /// The model a foreign-key field points at.
    target: Option<String>,
    /// As written: `tenant`, `project.owner`, `auth.tenant`.
    written: String,
    span: Span,
}

/// One side of a comparison, resolved.
enum Side<'v> {
    /// A field of the row (possibly through to-one relations).
    Row(Named),
    /// `auth`: the signed-in user's id.
    Auth(Span),
    /// A field of the signed-in user's account (possibly through to-one relations).
    Account(Named),
    /// A literal, typed once the other side is known.
    Literal(&'v Value),
    Null(Span),
}

impl Side<'_> {
    fn is_subject(&self) -> bool {
        matches!(self, Side::Row(_) | Side::Account(_))
    }
}

/// What a name means in a model: a field (a to-one relation means its foreign key) with the
/// model it points at, a relation to walk, or why it is neither.
enum Lookup<'m> {
    Field(&'m Field, Option<&'m str>),
    /// A relation without a foreign key here: to-many, many-to-many or polymorphic.
    NotToOne,
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
        Some(
            RelationKind::ToMany { .. }
            | RelationKind::ManyToMany { .. }
            | RelationKind::Polymorphic { .. },
        ) => Lookup::NotToOne,
        None => Lookup::Unknown,
    }
}

/// Why a field cannot be compared with `op` in an access condition, if it cannot.
fn incomparable(field: &Field, orders: bool) -> Option<&'static str> {
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
    } else if orders && !(scalar.is_numeric() || scalar.is_textual() || scalar.is_temporal()) {
        Some("its values have no order")
    } else if !orders && matches!(scalar, ScalarType::Float) {
        Some("it holds an inexact number, which equality cannot match reliably")
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

/// The names a field of `model` can be written with in a condition: stored fields and
/// relations.
fn condition_names(model: &Model) -> Vec<&str> {
    model
        .relations
        .iter()
        .map(|r| r.name.as_str())
        .chain(model.stored_fields().map(|f| f.name.as_str()))
        .collect()
}

fn rule_op(op: CompareOp) -> Option<RuleOp> {
    Some(match op {
        CompareOp::Equal => RuleOp::Equal,
        CompareOp::NotEqual => RuleOp::NotEqual,
        CompareOp::Less => RuleOp::Less,
        CompareOp::LessOrEqual => RuleOp::LessOrEqual,
        CompareOp::Greater => RuleOp::Greater,
        CompareOp::GreaterOrEqual => RuleOp::GreaterOrEqual,
        CompareOp::In => return None,
    })
}

/// `condition` on the rows reached through `hops` (to-one relations): some of them.
fn through(hops: &[String], condition: Condition) -> Condition {
    hops.iter()
        .rev()
        .fold(condition, |inner, relation| Condition::Related {
            relation: relation.clone(),
            quantifier: Quantifier::Some,
            condition: Box::new(inner),
        })
}

/// The comparison of a field (of the row or of the account, through its relations) with
/// a value or null.
fn subject_condition(account: bool, named: Named, op: RuleOp, right: Operand) -> Condition {
    if account && named.hops.is_empty() {
        return Condition::Compare {
            left: Operand::AccountField {
                name: named.field.name,
            },
            op,
            right,
        };
    }
    let condition = through(
        &named.hops,
        Condition::Compare {
            left: Operand::Field {
                name: named.field.name,
            },
            op,
            right,
        },
    );
    if account {
        Condition::Account {
            condition: Box::new(condition),
        }
    } else {
        condition
    }
}

impl Checker<'_> {
    /// The condition `value` of a rule on model `index`; `None` when it does not check
    /// (everything wrong in it reported).
    pub(super) fn access_condition(&mut self, index: usize, value: &Value) -> Option<Condition> {
        let identity = self.identity_model();
        self.condition_in(index, identity, value)
    }

    fn condition_in(
        &mut self,
        scope: usize,
        identity: Option<usize>,
        value: &Value,
    ) -> Option<Condition> {
        match value {
            Value::Group(inner, _) => self.condition_in(scope, identity, inner),
            Value::Not(inner, _) => Some(Condition::Not {
                condition: Box::new(self.condition_in(scope, identity, inner)?),
            }),
            Value::Logic { op, operands, .. } => {
                // Every operand is checked, so that all its mistakes are reported at once.
                let conditions: Vec<Option<Condition>> = operands
                    .iter()
                    .map(|o| self.condition_in(scope, identity, o))
                    .collect();
                let conditions: Vec<Condition> = conditions.into_iter().collect::<Option<_>>()?;
                Some(match op {
                    LogicOp::And => Condition::All { conditions },
                    LogicOp::Or => Condition::Any { conditions },
                })
            }
            Value::Ident(ident) => self.word_condition(scope, ident),
            Value::Path(segments, span) => self.flag_condition(scope, identity, segments, *span),
            Value::Quantified {
                path,
                quantifier,
                condition,
                ..
            } => self.quantified(scope, identity, path, quantifier, condition),
            Value::Compare {
                left,
                op,
                right,
                span,
            } => self.comparison(scope, identity, left, *op, right, *span),
            other => {
                self.report(
                    Diagnostic::error(
                        "E0222",
                        format!("{} is not an access condition", other.describe()),
                        other.span(),
                    )
                    .with_label("not a condition")
                    .with_help(format!("a condition is {CONDITION_FORMS}")),
                );
                None
            }
        }
    }

    /// `public`, `authenticated`, or a bool field of the row (`published`).
    fn word_condition(&mut self, scope: usize, ident: &Ident) -> Option<Condition> {
        match ident.name.as_str() {
            "public" => return Some(Condition::Public),
            "authenticated" => return Some(Condition::Authenticated),
            _ => {}
        }
        let model = &self.models[scope].model;
        if let Some(field) = model.field(&ident.name) {
            if field.ty.scalar == ScalarType::Bool && !field.ty.array && field.is_stored() {
                return Some(Condition::Compare {
                    left: Operand::Field {
                        name: field.name.clone(),
                    },
                    op: RuleOp::Equal,
                    right: Operand::Value {
                        value: DefaultValue::Bool(true),
                    },
                });
            }
        }
        let word = ident.name.as_str();
        let help = if word == "auth" {
            "write `authenticated` for any signed-in user, or `field == auth` for the rows of the signed-in user".to_string()
        } else if let Some(similar) = Checker::suggest(word, CONDITION_WORDS.iter().copied()) {
            format!("did you mean `{similar}`?")
        } else if model.field(word).is_some() || model.relation(word).is_some() {
            format!("to open the rows whose `{word}` is the signed-in user, write `{word} == auth`; compare it with a value otherwise (`{word} == ...`)")
        } else {
            format!("a condition is {CONDITION_FORMS}")
        };
        let message = if word == "auth" {
            "`auth` alone is not an access condition".to_string()
        } else {
            format!("unknown access condition `{word}`")
        };
        self.report(
            Diagnostic::error("E0222", message, ident.span)
                .with_label("not a condition")
                .with_help(help),
        );
        None
    }

    /// A dotted name alone: a bool field through to-one relations (`project.published`) or
    /// of the account (`auth.isAdmin`).
    fn flag_condition(
        &mut self,
        scope: usize,
        identity: Option<usize>,
        segments: &[Ident],
        span: Span,
    ) -> Option<Condition> {
        let side = self.named_side(scope, identity, segments, span, false)?;
        let named = match &side {
            Side::Row(named) | Side::Account(named) => named,
            _ => return None,
        };
        if named.field.ty.scalar == ScalarType::Bool && !named.field.ty.array {
            let truth = Side::Literal(&Value::Bool(true, Span::default()));
            return self.compare_sides(identity, side, RuleOp::Equal, truth, span);
        }
        let path = Value::path_text(segments);
        self.report(
            Diagnostic::error(
                "E0222",
                format!("`{path}` alone is not an access condition"),
                span,
            )
            .with_label(format!(
                "`{}` is `{}`, compared with nothing",
                named.written, named.field.ty
            ))
            .with_help(format!(
                "compare it: `{path} == \"value\"` for the callers or rows holding a value, or `field == {path}` for the rows matching it"
            )),
        );
        None
    }

    /// `path.some(condition)`, `path.every(condition)` or `path.none(condition)`.
    fn quantified(
        &mut self,
        scope: usize,
        identity: Option<usize>,
        path: &[Ident],
        quantifier: &Ident,
        condition: &Value,
    ) -> Option<Condition> {
        let quantifier_word = quantifier.name.as_str();
        if !QUANTIFIERS.contains(&quantifier_word) {
            let help = match Checker::suggest(quantifier_word, QUANTIFIERS.iter().copied()) {
                Some(similar) => format!("did you mean `{similar}`?"),
                None => "write `.some(...)` (a related row meets it), `.every(...)` (each one does) or `.none(...)` (none does)".into(),
            };
            self.report(
                Diagnostic::error(
                    "E0231",
                    format!("unknown quantifier `{quantifier_word}`"),
                    quantifier.span,
                )
                .with_label("not `some`, `every` or `none`")
                .with_help(help),
            );
            return None;
        }
        let (start, hops_written, account) = match path.split_first() {
            Some((first, rest)) if first.name == "auth" => {
                let Some(identity) = identity else {
                    self.no_identity_model(first.span, None);
                    return None;
                };
                if rest.is_empty() {
                    self.report(
                        Diagnostic::error(
                            "E0231",
                            format!("`auth.{quantifier_word}(...)` names no relation"),
                            quantifier.span,
                        )
                        .with_label("a relation of the account goes here")
                        .with_help("write `auth.relation.some(condition)`, e.g. `auth.roles.some(name == \"admin\")`"),
                    );
                    return None;
                }
                (identity, rest, true)
            }
            _ => (scope, path, false),
        };
        let mut model = start;
        let mut hops = Vec::new();
        for hop in hops_written {
            let (relation, target) = self.relation_hop(model, hop, true)?;
            hops.push(relation);
            model = target;
        }
        let inner = self.condition_in(model, identity, condition)?;
        let quantifier = match quantifier_word {
            "every" => Quantifier::Every,
            _ => Quantifier::Some,
        };
        let related = hops
            .iter()
            .rev()
            .fold(inner, |inner, relation| Condition::Related {
                relation: relation.clone(),
                quantifier,
                condition: Box::new(inner),
            });
        let related = if quantifier_word == "none" {
            Condition::Not {
                condition: Box::new(related),
            }
        } else {
            related
        };
        Some(if account {
            Condition::Account {
                condition: Box::new(related),
            }
        } else {
            related
        })
    }

    /// The relation `name` of model `model` and the index of its target; `to_many` allows
    /// to-many and many-to-many relations (after a quantifier), not only to-one ones.
    fn relation_hop(
        &mut self,
        model: usize,
        name: &Ident,
        to_many: bool,
    ) -> Option<(String, usize)> {
        let m = &self.models[model].model;
        let Some(relation) = m.relation(&name.name) else {
            let help =
                match Checker::suggest(&name.name, m.relations.iter().map(|r| r.name.as_str())) {
                    Some(similar) => format!("did you mean `{similar}`?"),
                    None => format!("name a relation of model `{}`", m.name),
                };
            let label = if m.field(&name.name).is_some() {
                format!("a field of `{}`, not a relation", m.name)
            } else {
                format!("model `{}` has no relation with this name", m.name)
            };
            self.report(
                Diagnostic::error(
                    "E0224",
                    format!("unknown relation `{}` in an access condition", name.name),
                    name.span,
                )
                .with_label(label)
                .with_help(help),
            );
            return None;
        };
        let target = match &relation.kind {
            RelationKind::ToOne { target, .. } => target,
            RelationKind::ToMany { target, .. } | RelationKind::ManyToMany { target, .. }
                if to_many =>
            {
                target
            }
            RelationKind::ToMany { target, .. } | RelationKind::ManyToMany { target, .. } => {
                let target = target.clone();
                self.report_to_many_as_value(&name.name, &target, name.span);
                return None;
            }
            RelationKind::Polymorphic { .. } => {
                self.report(
                    Diagnostic::error(
                        "E0230",
                        format!(
                            "`{}` is polymorphic: access conditions cannot follow it",
                            name.name
                        ),
                        name.span,
                    )
                    .with_label("its rows belong to several models")
                    .with_help("compare its type and id columns instead, or follow a relation to one model"),
                );
                return None;
            }
        };
        let relation = relation.name.clone();
        let target = target.clone();
        let index = self.models.iter().position(|m| m.model.name == target)?;
        Some((relation, index))
    }

    fn report_to_many_as_value(&mut self, name: &str, target: &str, span: Span) {
        self.report(
            Diagnostic::error(
                "E0230",
                format!("`{name}` reaches many `{target}` rows, not one value"),
                span,
            )
            .with_label("a to-many relation used as a single value")
            .with_help(format!(
                "say which of its rows count: `{name}.some(condition)`, `{name}.every(condition)` or `{name}.none(condition)`"
            )),
        );
    }

    /// `left op right`.
    fn comparison(
        &mut self,
        scope: usize,
        identity: Option<usize>,
        left: &Value,
        op: CompareOp,
        right: &Value,
        span: Span,
    ) -> Option<Condition> {
        if identity.is_none() && self.auth_without_identity(scope, left, right) {
            return None;
        }
        let Some(rule_op) = rule_op(op) else {
            return self.membership(scope, identity, left, right);
        };
        let orders = rule_op.orders();
        if self
            .unknown_name_compared_with_auth(scope, left, right)
            .is_some()
        {
            return None;
        }
        let (left_value, right_value) = (left, right);
        let left = self.side(scope, identity, left, orders);
        let right = self.side(scope, identity, right, orders);
        let (mut left, mut right) = (left?, right?);
        // A value of the other side's enum shadows a field of the same name.
        if self.is_enum_value_of(&left, right_value) {
            right = Side::Literal(right_value);
        } else if self.is_enum_value_of(&right, left_value) {
            left = Side::Literal(left_value);
        }
        // The field being tested on the left: `"admin" == auth.role` reads as
        // `auth.role == "admin"`, `auth.tenant == tenant` as `tenant == auth.tenant`.
        let swap = (!left.is_subject() && right.is_subject())
            || (matches!(left, Side::Account(_)) && matches!(right, Side::Row(_)));
        let (left, rule_op, right) = if swap {
            (right, rule_op.flipped(), left)
        } else {
            (left, rule_op, right)
        };
        self.compare_sides(identity, left, rule_op, right, span)
    }

    fn compare_sides(
        &mut self,
        identity: Option<usize>,
        left: Side,
        op: RuleOp,
        right: Side,
        span: Span,
    ) -> Option<Condition> {
        let null_op = |checker: &mut Self, span: Span| {
            if op.orders() {
                checker.report(
                    Diagnostic::error("E0222", format!("`{}` with `null`", op.symbol()), span)
                        .with_label("nothing is smaller or greater than null")
                        .with_help("test for a missing value with `== null`, or for a present one with `!= null`"),
                );
                false
            } else {
                true
            }
        };
        let on_account = matches!(left, Side::Account(_));
        match (left, right) {
            (Side::Row(row), Side::Auth(_)) => {
                self.holds_user_id(identity?, &row)?;
                self.equality_only(op, &row.written, span)?;
                Some(through(
                    &row.hops,
                    Condition::Compare {
                        left: Operand::Field {
                            name: row.field.name,
                        },
                        op,
                        right: Operand::Auth,
                    },
                ))
            }
            (Side::Row(row), Side::Account(account)) if account.hops.is_empty() => {
                self.same_kind(&row, &account)?;
                Some(through(
                    &row.hops,
                    Condition::Compare {
                        left: Operand::Field {
                            name: row.field.name,
                        },
                        op,
                        right: Operand::AccountField {
                            name: account.field.name,
                        },
                    },
                ))
            }
            (Side::Row(named) | Side::Account(named), Side::Literal(literal)) => {
                let value = self.typed_literal(&named, literal)?;
                Some(subject_condition(
                    on_account,
                    named,
                    op,
                    Operand::Value { value },
                ))
            }
            (Side::Row(named) | Side::Account(named), Side::Null(null_span)) => {
                if !null_op(self, null_span) {
                    return None;
                }
                Some(subject_condition(on_account, named, op, Operand::Null))
            }
            (Side::Account(account), Side::Auth(_)) if !account.hops.is_empty() => {
                self.holds_user_id(identity?, &account)?;
                self.equality_only(op, &account.written, span)?;
                Some(subject_condition(true, account, op, Operand::Auth))
            }
            (Side::Row(row), Side::Row(other)) => {
                self.report(
                    Diagnostic::error(
                        "E0222",
                        format!(
                            "an access condition compares two fields, `{}` and `{}`",
                            row.written, other.written
                        ),
                        span,
                    )
                    .with_label("each side reads a field of the rows")
                    .with_help("compare a field with a value, with `auth` or with a field of the account (`tenant == auth.tenant`)"),
                );
                None
            }
            (Side::Account(account), Side::Account(_) | Side::Auth(_))
            | (Side::Account(account), Side::Row(_)) => {
                let path = account.written.clone();
                self.report(
                    Diagnostic::error(
                        "E0222",
                        format!("`{path}` is compared with the signed-in user or their rows"),
                        span,
                    )
                    .with_label("compare a field of the account with a value, or a field of this model with it")
                    .with_help(format!("write `{path} == value`, or `field == {path}` for the rows matching the account")),
                );
                None
            }
            (Side::Row(row), Side::Account(account)) => {
                self.report(
                    Diagnostic::error(
                        "E0222",
                        format!(
                            "`{}` reaches past the account to compare it with `{}`",
                            account.written, row.written
                        ),
                        account.span,
                    )
                    .with_label("a field of the account's related rows")
                    .with_help("compare a field of the rows with a field of the account itself (`tenant == auth.tenant`), or follow the relation from the rows (`project.members.some(user == auth)`)"),
                );
                None
            }
            (Side::Auth(auth_span), _) | (_, Side::Auth(auth_span)) => {
                self.report(
                    Diagnostic::error(
                        "E0222",
                        "an access condition compares `auth` with something other than a field",
                        auth_span,
                    )
                    .with_label("expected `field == auth`")
                    .with_help(format!("write {CONDITION_FORMS}")),
                );
                None
            }
            (_, _) => {
                self.report(
                    Diagnostic::error("E0222", "an access condition compares two values", span)
                        .with_label("neither side is a field or the signed-in user")
                        .with_help(format!("write {CONDITION_FORMS}")),
                );
                None
            }
        }
    }

    /// E0223 for a comparison with `auth` in a schema without accounts, naming the model
    /// that probably holds them (the target of the relation compared with `auth`).
    fn auth_without_identity(&mut self, scope: usize, left: &Value, right: &Value) -> bool {
        let auth_span = |v: &Value| match v {
            Value::Ident(i) if i.name == "auth" => Some(i.span),
            Value::Path(segments, span) if segments[0].name == "auth" => Some(*span),
            _ => None,
        };
        let (span, other) = match (auth_span(left), auth_span(right)) {
            (Some(span), _) => (span, right),
            (_, Some(span)) => (span, left),
            _ => return false,
        };
        let model = &self.models[scope].model;
        let users = match other {
            Value::Ident(name) => model.relation(&name.name).and_then(|r| match &r.kind {
                RelationKind::ToOne { target, .. } => Some(target.clone()),
                _ => None,
            }),
            _ => None,
        };
        self.no_identity_model(span, users.as_deref());
        true
    }

    /// Whether `value` is a bare name that is a value of the enum `side` holds.
    fn is_enum_value_of(&self, side: &Side, value: &Value) -> bool {
        let (Side::Row(named) | Side::Account(named), Value::Ident(ident)) = (side, value) else {
            return false;
        };
        let ScalarType::Enum(name) = &named.field.ty.scalar else {
            return false;
        };
        self.enum_by_name(name)
            .is_some_and(|e| e.values.iter().any(|v| v.name == ident.name))
    }

    /// `x == auth` where `x` names nothing of the model: a misspelt field (E0224), reported
    /// as such rather than as a value compared with `auth`.
    fn unknown_name_compared_with_auth(
        &mut self,
        scope: usize,
        left: &Value,
        right: &Value,
    ) -> Option<()> {
        let is_auth = |v: &Value| matches!(v, Value::Ident(i) if i.name == "auth");
        let name = match (left, right) {
            (Value::Ident(name), other) | (other, Value::Ident(name))
                if is_auth(other) && name.name != "auth" =>
            {
                name
            }
            _ => return None,
        };
        let model = &self.models[scope].model;
        if model.field(&name.name).is_some() || model.relation(&name.name).is_some() {
            return None;
        }
        let help = match Checker::suggest(&name.name, condition_names(model)) {
            Some(similar) => format!("did you mean `{similar}`?"),
            None => format!(
                "name a relation of model `{}` to the accounts, or a field holding an account id",
                model.name
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
        Some(())
    }

    /// `operand in [values]`.
    fn membership(
        &mut self,
        scope: usize,
        identity: Option<usize>,
        left: &Value,
        right: &Value,
    ) -> Option<Condition> {
        let subject = self.side(scope, identity, left, false)?;
        let Value::List(items, _) = right else {
            self.report(
                Diagnostic::error("E0222", "`in` needs a list", right.span())
                    .with_label(format!("expected a list, found {}", right.describe()))
                    .with_help("write the allowed values in brackets: `level in [owner, editor]`"),
            );
            return None;
        };
        let on_account = matches!(subject, Side::Account(_));
        let named = match subject {
            Side::Row(named) | Side::Account(named) => named,
            _ => {
                self.report(
                    Diagnostic::error("E0222", "`in` tests a field", left.span())
                        .with_label(format!("expected a field, found {}", left.describe()))
                        .with_help("write `field in [values]`"),
                );
                return None;
            }
        };
        let mut values = Vec::new();
        for item in items {
            values.push(self.typed_literal(&named, item));
        }
        let values: Vec<DefaultValue> = values.into_iter().collect::<Option<_>>()?;
        let operand = if on_account && named.hops.is_empty() {
            Operand::AccountField {
                name: named.field.name,
            }
        } else {
            Operand::Field {
                name: named.field.name,
            }
        };
        let inner = through(&named.hops, Condition::In { operand, values });
        Some(if on_account && !named.hops.is_empty() {
            Condition::Account {
                condition: Box::new(inner),
            }
        } else {
            inner
        })
    }

    /// What one side of a comparison names.
    fn side<'v>(
        &mut self,
        scope: usize,
        identity: Option<usize>,
        value: &'v Value,
        orders: bool,
    ) -> Option<Side<'v>> {
        match value {
            Value::Ident(ident) if ident.name == "auth" => {
                if identity.is_none() {
                    self.no_identity_model(ident.span, None);
                    return None;
                }
                Some(Side::Auth(ident.span))
            }
            Value::Ident(ident) => {
                let model = &self.models[scope].model;
                if model.field(&ident.name).is_some() || model.relation(&ident.name).is_some() {
                    let segments = std::slice::from_ref(ident);
                    self.named_side(scope, identity, segments, ident.span, orders)
                } else {
                    // An enum value, typed (or reported) once the field is known.
                    Some(Side::Literal(value))
                }
            }
            Value::Path(segments, span) => {
                self.named_side(scope, identity, segments, *span, orders)
            }
            Value::Null(span) => Some(Side::Null(*span)),
            Value::String(..) | Value::Number(..) | Value::Bool(..) => Some(Side::Literal(value)),
            Value::Group(inner, _) => self.side(scope, identity, inner, orders),
            other => {
                self.report(
                    Diagnostic::error(
                        "E0222",
                        format!("{} cannot be compared", other.describe()),
                        other.span(),
                    )
                    .with_label("expected a field, `auth`, `auth.field` or a value")
                    .with_help(format!("a condition is {CONDITION_FORMS}")),
                );
                None
            }
        }
    }

    /// A field named by `segments`: `field`, `relation.field` (through to-one relations),
    /// `auth.field` or `auth.relation.field`.
    fn named_side(
        &mut self,
        scope: usize,
        identity: Option<usize>,
        segments: &[Ident],
        span: Span,
        orders: bool,
    ) -> Option<Side<'static>> {
        let (start, rest, account) = match segments.split_first() {
            Some((first, rest)) if first.name == "auth" => {
                let Some(identity) = identity else {
                    self.no_identity_model(span, None);
                    return None;
                };
                (identity, rest, true)
            }
            _ => (scope, segments, false),
        };
        let (last, hops_written) = rest.split_last()?;
        let mut model = start;
        let mut hops = Vec::new();
        for hop in hops_written {
            let (relation, target) = self.relation_hop(model, hop, false)?;
            hops.push(relation);
            model = target;
        }
        let written = Value::path_text(segments);
        let m = &self.models[model].model;
        let (field, target) = match lookup(m, &last.name) {
            Lookup::Field(field, target) => (field.clone(), target.map(str::to_string)),
            Lookup::NotToOne => {
                let target = match m.relation(&last.name).map(|r| &r.kind) {
                    Some(RelationKind::ToMany { target, .. })
                    | Some(RelationKind::ManyToMany { target, .. }) => target.clone(),
                    _ => String::new(),
                };
                if target.is_empty() {
                    self.not_comparable(
                        &written,
                        span,
                        "it is polymorphic",
                        "a polymorphic relation".into(),
                    );
                } else {
                    self.report_to_many_as_value(&written, &target, span);
                }
                return None;
            }
            Lookup::Unknown => {
                let (code, message) = if account && hops.is_empty() {
                    ("E0226", format!("unknown account field `{written}`"))
                } else {
                    (
                        "E0224",
                        format!("unknown field `{}` in an access condition", last.name),
                    )
                };
                let help = match Checker::suggest(&last.name, condition_names(m)) {
                    Some(similar) if account && hops.is_empty() => {
                        format!("did you mean `auth.{similar}`?")
                    }
                    Some(similar) => format!("did you mean `{similar}`?"),
                    None if account => format!(
                        "name a field of model `{}`, the model holding the accounts",
                        m.name
                    ),
                    None => format!("name a field or relation of model `{}`", m.name),
                };
                let label = format!("model `{}` has no field or relation with this name", m.name);
                self.report(
                    Diagnostic::error(code, message, last.span)
                        .with_label(label)
                        .with_help(help),
                );
                return None;
            }
        };
        if let Some(reason) = incomparable(&field, orders) {
            let label = if field.hash.is_some() {
                format!("`{written}` is hashed with `@hash`")
            } else {
                format!("`{written}` is `{}`", field.ty)
            };
            self.not_comparable(&written, span, reason, label);
            return None;
        }
        let named = Named {
            hops,
            model,
            field,
            target,
            written,
            span,
        };
        Some(if account {
            Side::Account(named)
        } else {
            Side::Row(named)
        })
    }

    /// A literal typed as a value of `named`'s field (messages name the field as written).
    fn typed_literal(&mut self, named: &Named, literal: &Value) -> Option<DefaultValue> {
        if let Value::Ident(ident) = literal {
            if !matches!(named.field.ty.scalar, ScalarType::Enum(_)) {
                let m = &self.models[named.model].model;
                let help = match Checker::suggest(&ident.name, condition_names(m)) {
                    Some(similar) => format!("did you mean `{similar}`?"),
                    None if named.field.ty.scalar.is_textual() => format!(
                        "to compare `{}` with a text value, quote it: `{} == \"{}\"`",
                        named.written, named.written, ident.name
                    ),
                    None => format!("name a field of model `{}`, or write a value", m.name),
                };
                self.report(
                    Diagnostic::error(
                        "E0224",
                        format!("unknown field `{}` in an access condition", ident.name),
                        ident.span,
                    )
                    .with_label(format!(
                        "model `{}` has no field or relation with this name",
                        m.name
                    ))
                    .with_help(help),
                );
                return None;
            }
        }
        // A sequence-filled key is compared as the integer it holds.
        let typed = Field {
            name: named.written.clone(),
            ty: FieldType {
                scalar: comparison_type(&named.field.ty.scalar),
                array: false,
            },
            nullable: false,
            ..named.field.clone()
        };
        Some(
            match self.literal(literal, &typed, LiteralUse::Comparison)? {
                // UUIDs are compared in their canonical lowercase form.
                DefaultValue::String(text) if typed.ty.scalar == ScalarType::Uuid => {
                    DefaultValue::String(text.to_ascii_lowercase())
                }
                value => value,
            },
        )
    }

    /// `field == auth` needs a field holding an id of the `@@auth` model: a to-one relation
    /// to it (referencing its key), its foreign key, or that model's own key.
    fn holds_user_id(&mut self, identity: usize, named: &Named) -> Option<()> {
        let users = &self.models[identity].model;
        let users_name = users.name.clone();
        let users_key = (users.primary_key.len() == 1).then(|| users.primary_key[0].clone());
        let is_user_key = named.model == identity && Some(&named.field.name) == users_key.as_ref();
        let model = &self.models[named.model].model;
        let reference = model.relations.iter().find_map(|r| match &r.kind {
            RelationKind::ToOne {
                field,
                target,
                references,
                ..
            } if *field == named.field.name => Some((target.clone(), references.clone())),
            _ => None,
        });
        let is_user_reference = reference.as_ref().is_some_and(|(target, references)| {
            *target == users_name && Some(references) == users_key.as_ref()
        });
        if is_user_key || is_user_reference {
            return Some(());
        }
        let label = match reference {
            Some((target, references)) if target == users_name => {
                format!("references `{references}` of `{users_name}`, not its key")
            }
            Some((target, _)) => format!("a relation to `{target}`"),
            None => format!("`{}` is `{}`", named.field.name, named.field.ty),
        };
        self.report(
            Diagnostic::error(
                "E0225",
                format!("`{}` does not hold the id of a `{users_name}` row", named.written),
                named.span,
            )
            .with_label(label)
            .with_help(format!(
                "compare `auth` with a to-one relation to `{users_name}` (such as `createdBy` of `@@actors({users_name})`), with a foreign key of one, or with the key of `{users_name}` itself"
            )),
        );
        None
    }

    /// Ids are equal or not; they have no order.
    fn equality_only(&mut self, op: RuleOp, written: &str, span: Span) -> Option<()> {
        if !op.orders() {
            return Some(());
        }
        self.report(
            Diagnostic::error(
                "E0222",
                format!("`{written}` is compared with `auth` by `{}`", op.symbol()),
                span,
            )
            .with_label("a user is the same one or another, never smaller or greater")
            .with_help(format!("write `{written} == auth` or `{written} != auth`")),
        );
        None
    }

    /// `field == auth.field`: both sides hold the same kind of value.
    fn same_kind(&mut self, row: &Named, account: &Named) -> Option<()> {
        if let (Some(row_target), Some(account_target)) = (&row.target, &account.target) {
            if row_target != account_target {
                let users = &self.models[account.model].model;
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
            let describe = |named: &Named| match &named.target {
                Some(target) => format!(
                    "`{}` is `{}` (a reference to `{target}`)",
                    named.written, named.field.ty
                ),
                None => format!("`{}` is `{}`", named.written, named.field.ty),
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
                .with_label(describe(row))
                .with_related(account.span, describe(account))
                .with_help(format!(
                    "compare `{}` with a field of the account of type `{}`, or change one of the two types",
                    row.written, row.field.ty
                )),
            );
            return None;
        }
        Some(())
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

    /// E0223: `auth` (or `auth.field`) in a schema where no model holds the accounts;
    /// `users` is the model that probably should, when the condition names a relation to it.
    pub(super) fn no_identity_model(&mut self, auth_span: Span, users: Option<&str>) {
        let help = match users {
            Some(users) => format!(
                "add `@@auth(email: ..., password: ...)` to model `{users}`, the model holding your users"
            ),
            None => "add `@@auth(email: ..., password: ...)` to the model holding your users".into(),
        };
        self.report(
            Diagnostic::error("E0223", "`auth` needs a model with `@@auth`", auth_span)
                .with_label("no model of this schema holds the accounts users sign in with")
                .with_help(help),
        );
    }
}
