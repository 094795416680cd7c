//! Identity and access: `@@auth(...)` marks the model users sign up and sign in with;
//! `@@allow(operations, condition)` opens a model's operations to callers. Read after the
//! model passes, because `@@auth` needs the unique constraints and `@@allow` the relations
//! of every model.

use super::Checker;
use crate::ast::{Attribute, CompareOp, Ident, Value};
use crate::diagnostic::Diagnostic;
use crate::ir::*;
use crate::span::Span;

const AUTH_USAGE: &str = "`@@auth(email: field, password: field)`, optionally with `disabled: field` and `signup: [field, ...]`";
const ALLOW_USAGE: &str = "`@@allow(operations, condition)`, e.g. `@@allow(read, public)` or `@@allow([update, delete], createdBy == auth)`";

/// The operation words of `@@allow`, for "did you mean" hints.
const OPERATIONS: &[&str] = &["read", "create", "update", "delete", "all"];

/// Words other systems use for our operations.
const OPERATION_ALIASES: &[(&str, &str)] = &[
    ("select", "read"),
    ("get", "read"),
    ("list", "read"),
    ("view", "read"),
    ("insert", "create"),
    ("add", "create"),
    ("edit", "update"),
    ("patch", "update"),
    ("modify", "update"),
    ("remove", "delete"),
    ("destroy", "delete"),
];

/// The condition words of `@@allow`, for "did you mean" hints.
const CONDITIONS: &[&str] = &["public", "authenticated"];

/// Every form of an access condition, for hints.
const CONDITION_FORMS: &str = "`public`, `authenticated`, `field == auth` (the rows of the signed-in user), `auth.field == value` (users whose account holds a value) or `field == auth.field` (the rows matching their account)";

/// One side of a comparison in an access condition.
enum Side<'v> {
    /// `auth`: the signed-in user's id.
    Auth(Span),
    /// `auth.field`: the field's name and the span of the whole path.
    Account(&'v Ident, Span),
    /// Anything else: a field of the model or a value.
    Other(&'v Value),
}

impl Checker<'_> {
    /// The model declaring the first `@@auth`, valid or not: the model whose ids `auth` is
    /// compared with.
    fn identity_model(&self) -> Option<usize> {
        self.models
            .iter()
            .position(|m| m.decl.attributes().any(|a| a.name.name == "auth"))
    }

    /// `@@auth` on at most one model of the schema.
    pub(crate) fn identities(&mut self) {
        let mut first: Option<(usize, Span)> = None;
        for index in 0..self.models.len() {
            let decl = self.models[index].decl;
            for attribute in decl.attributes().filter(|a| a.name.name == "auth") {
                let Some((first_index, first_span)) = first else {
                    first = Some((index, attribute.span));
                    if let Some(identity) = self.identity(index, attribute) {
                        self.models[index].model.behaviours.identity = Some(identity);
                    }
                    continue;
                };
                if first_index == index {
                    // Twice on one model: reported with every repeated model attribute (E0229).
                    continue;
                }
                let first_model = &self.models[first_index].model.name;
                let message = format!(
                    "`@@auth` on model `{}`, but model `{first_model}` already holds the accounts",
                    decl.name.name
                );
                self.report(
                    Diagnostic::error("E0215", message, attribute.span)
                        .with_label("second `@@auth`")
                        .with_related(first_span, "first `@@auth`")
                        .with_help(
                            "one model holds the accounts users sign in with; remove one of the two `@@auth`",
                        ),
                );
            }
        }
    }

    fn identity(&mut self, index: usize, attribute: &Attribute) -> Option<Identity> {
        self.only_named(
            attribute,
            &["email", "password", "disabled", "signup"],
            AUTH_USAGE,
        );
        if attribute.positional().next().is_some() {
            self.wrong_argument_count(attribute, AUTH_USAGE);
        }
        let missing: Vec<&str> = ["email", "password"]
            .into_iter()
            .filter(|key| attribute.named(key).is_none())
            .collect();
        if !missing.is_empty() {
            let names: Vec<String> = missing.iter().map(|m| format!("`{m}:`")).collect();
            self.report(
                Diagnostic::error(
                    "E0210",
                    format!("`@@auth` needs {}", names.join(" and ")),
                    attribute.span,
                )
                .with_label(format!("missing {}", names.join(" and ")))
                .with_help(format!("write {AUTH_USAGE}")),
            );
        }
        let model = &self.models[index].model;
        let key_ok = model.primary_key.len() == 1;
        if !key_ok {
            let key = model.primary_key.join(", ");
            self.report(
                Diagnostic::error(
                    "E0216",
                    format!(
                        "model `{}` has a composite key; accounts need a single-field key",
                        model.name
                    ),
                    attribute.span,
                )
                .with_label(format!("the key of `{}` is ({key})", model.name))
                .with_help(
                    "give the model a single key field (remove `@@id([...])` for the implicit `id uuid`), and keep the composite as `@@unique([...])`",
                ),
            );
        }
        let text = |f: &Field| f.ty.scalar.is_textual() && !f.ty.array;
        let email = self.auth_field(index, attribute, "email", "sign-in email", &text, "text");
        let password = self.auth_field(index, attribute, "password", "password", &text, "text");
        let disabled = self.auth_field(
            index,
            attribute,
            "disabled",
            "disabled flag",
            &|f: &Field| f.ty.scalar == ScalarType::Bool && !f.ty.array,
            "bool",
        );
        let email_ok = match &email {
            Some(Some((name, span))) => self.email_is_unique(index, name, *span),
            _ => false,
        };
        let password_ok = match &password {
            Some(Some((name, span))) => self.password_is_hashed(index, name, *span),
            _ => false,
        };
        let names = |f: &Option<Option<(String, Span)>>| -> Option<String> {
            f.as_ref().and_then(|f| f.as_ref()).map(|(n, _)| n.clone())
        };
        let (email, password, disabled_name) = (names(&email), names(&password), names(&disabled));
        let signup = self.signup_fields(index, attribute, [&email, &password, &disabled_name]);
        let disabled = match disabled {
            None => None,
            Some(Some((name, _))) => Some(name),
            Some(None) => return None,
        };
        if !key_ok || !email_ok || !password_ok {
            return None;
        }
        Some(Identity {
            email: email?,
            password: password?,
            disabled,
            signup_fields: signup?,
        })
    }

    /// The field named by `key:` of `@@auth`: `None` when the argument is absent,
    /// `Some(None)` when it names no suitable field (reported).
    fn auth_field(
        &mut self,
        index: usize,
        attribute: &Attribute,
        key: &str,
        what: &str,
        accept: &dyn Fn(&Field) -> bool,
        expected: &str,
    ) -> Option<Option<(String, Span)>> {
        let value = &attribute.named(key)?.value;
        let Value::Ident(ident) = value else {
            self.wrong_argument(value, attribute, "a field name", AUTH_USAGE);
            return Some(None);
        };
        let Some(field) = self.auth_field_named(index, ident, "`@@auth`") else {
            return Some(None);
        };
        let field = self.models[index].model.field(&field)?.clone();
        if !field.is_stored() || !accept(&field) {
            let kind = if field.is_stored() {
                format!("`{}`", field.ty)
            } else {
                "virtual".to_string()
            };
            self.report(
                Diagnostic::error(
                    "E0212",
                    format!("`{}` cannot be the {what}: it is {kind}", ident.name),
                    ident.span,
                )
                .with_label(format!("the {what} is a stored `{expected}` field"))
                .with_help(format!(
                    "name a `{expected}` field for `{key}:`, or change the type of `{}`",
                    ident.name
                )),
            );
            return Some(None);
        }
        Some(Some((field.name, ident.span)))
    }

    /// A stored field of model `index` named by `ident` (a to-one relation means its foreign
    /// key); reports E0211 when there is none.
    fn auth_field_named(&mut self, index: usize, ident: &Ident, context: &str) -> Option<String> {
        let model = &self.models[index].model;
        if let Some(field) = model.field(&ident.name) {
            return Some(field.name.clone());
        }
        let relation_key = model.relation(&ident.name).and_then(|r| match &r.kind {
            RelationKind::ToOne { field, .. } => Some(field.clone()),
            _ => None,
        });
        if relation_key.is_some() {
            return relation_key;
        }
        let candidates: Vec<&str> = model.fields.iter().map(|f| f.name.as_str()).collect();
        let help = match Checker::suggest(&ident.name, candidates) {
            Some(similar) => format!("did you mean `{similar}`?"),
            None => format!("name a field of model `{}`", model.name),
        };
        let message = format!("unknown field `{}` in {context}", ident.name);
        let label = format!("model `{}` has no field with this name", model.name);
        self.report(
            Diagnostic::error("E0211", message, ident.span)
                .with_label(label)
                .with_help(help),
        );
        None
    }

    /// Users sign in by email: it must identify one account.
    fn email_is_unique(&mut self, index: usize, email: &str, span: Span) -> bool {
        let model = &self.models[index].model;
        let unique = model.primary_key == [email]
            || model.indexes.iter().any(|i| {
                i.unique
                    && !i.where_not_deleted
                    && i.fields.len() == 1
                    && i.fields[0].field == email
            });
        if !unique {
            let partial = model.indexes.iter().any(|i| {
                i.unique && i.where_not_deleted && i.fields.len() == 1 && i.fields[0].field == email
            });
            let label = if partial {
                "unique among live rows only (`where: not_deleted`)"
            } else {
                "not unique"
            };
            self.report(
                Diagnostic::error(
                    "E0213",
                    format!("the sign-in email `{email}` is not unique"),
                    span,
                )
                .with_label(label)
                .with_help(format!(
                    "mark the field `{email} text @unique`, or add `@@unique([{email}])`: one email, one account"
                )),
            );
        }
        unique
    }

    fn password_is_hashed(&mut self, index: usize, password: &str, span: Span) -> bool {
        let hashed = self.models[index]
            .model
            .field(password)
            .is_some_and(|f| f.hash.is_some());
        if !hashed {
            self.report(
                Diagnostic::error(
                    "E0214",
                    format!("the password field `{password}` is not hashed"),
                    span,
                )
                .with_label("passwords would be stored as written")
                .with_help(format!(
                    "add `@hash` to `{password}` (or `@hash(bcrypt)` to keep imported bcrypt hashes)"
                )),
            );
        }
        hashed
    }

    /// `signup: [a, b]`: the fields a self-service sign-up may set besides email and password.
    fn signup_fields(
        &mut self,
        index: usize,
        attribute: &Attribute,
        credentials: [&Option<String>; 3],
    ) -> Option<Vec<String>> {
        let Some(arg) = attribute.named("signup") else {
            return Some(Vec::new());
        };
        let Value::List(items, _) = &arg.value else {
            self.wrong_argument(&arg.value, attribute, "a list of fields", AUTH_USAGE);
            return None;
        };
        let mut fields: Vec<String> = Vec::new();
        let mut ok = true;
        for item in items {
            let Value::Ident(ident) = item else {
                self.wrong_argument(item, attribute, "a field name", AUTH_USAGE);
                ok = false;
                continue;
            };
            let Some(name) = self.auth_field_named(index, ident, "the sign-up fields") else {
                ok = false;
                continue;
            };
            let model = &self.models[index].model;
            let field = model.field(&name)?;
            let reason = if credentials[0].as_deref() == Some(name.as_str()) {
                Some("the email: a sign-up always sets it")
            } else if credentials[1].as_deref() == Some(name.as_str()) {
                Some("the password: a sign-up always sets it")
            } else if credentials[2].as_deref() == Some(name.as_str()) {
                Some("the disabled flag: a new account must not enable itself")
            } else if !field.is_stored() {
                Some("virtual, computed on read")
            } else if model.primary_key.contains(&name) {
                Some("part of the primary key")
            } else if field.managed.is_some() {
                Some("maintained by the engine")
            } else if fields.contains(&name) {
                Some("listed twice")
            } else {
                None
            };
            match reason {
                Some(reason) => {
                    self.report(
                        Diagnostic::error(
                            "E0217",
                            format!("`{}` cannot be set at sign-up", ident.name),
                            ident.span,
                        )
                        .with_label(reason)
                        .with_help(
                            "list the other fields a new user fills in themselves (a name, a language), or remove this one",
                        ),
                    );
                    ok = false;
                }
                None => fields.push(name),
            }
        }
        ok.then_some(fields)
    }

    /// `@@allow(...)` rules of model `index`, in declaration order.
    pub(crate) fn access_rules(&mut self, index: usize) {
        let decl = self.models[index].decl;
        let identity = self.identity_model();
        for attribute in decl.attributes().filter(|a| a.name.name == "allow") {
            if let Some(rule) = self.access_rule(index, identity, attribute) {
                self.warn_self_chosen_account_value(identity, attribute, &rule);
                self.models[index].model.access.push(rule);
            }
        }
    }

    /// A rule comparing an account field that sign-up may set lets anyone choose what the
    /// rule grants them (sign up into any tenant, or as an admin).
    fn warn_self_chosen_account_value(
        &mut self,
        identity: Option<usize>,
        attribute: &Attribute,
        rule: &AccessRule,
    ) {
        let account_field = match &rule.condition {
            AccessCondition::AccountIs { account_field, .. }
            | AccessCondition::SameAsAccount { account_field, .. } => account_field,
            _ => return,
        };
        let Some(identity) = identity else {
            return;
        };
        let model = &self.models[identity].model;
        let chosen = model
            .behaviours
            .identity
            .as_ref()
            .is_some_and(|i| i.signup_fields.contains(account_field));
        if chosen {
            // Named as the schema writes it: a relation rather than its foreign key.
            let account_field = model
                .relations
                .iter()
                .find_map(|r| match &r.kind {
                    RelationKind::ToOne { field, .. } if field == account_field => {
                        Some(r.name.clone())
                    }
                    _ => None,
                })
                .unwrap_or_else(|| account_field.clone());
            let message = format!(
                "sign-up may set `{account_field}`, which this rule compares: anyone can sign up with the value it grants"
            );
            let help = format!(
                "remove `{account_field}` from `signup:` of `@@auth` on `{}` and set it with the service key",
                model.name
            );
            self.report(
                Diagnostic::warning("W0161", message, attribute.span)
                    .with_label("granted by a value users choose themselves")
                    .with_help(help),
            );
        }
    }

    fn access_rule(
        &mut self,
        index: usize,
        identity: Option<usize>,
        attribute: &Attribute,
    ) -> Option<AccessRule> {
        self.only_named(attribute, &[], ALLOW_USAGE);
        let positional: Vec<&Value> = attribute.positional().collect();
        let [operations, condition] = positional.as_slice() else {
            self.wrong_argument_count(attribute, ALLOW_USAGE);
            return None;
        };
        let operations = self.operations(attribute, operations);
        let condition = self.access_condition(index, identity, attribute, condition);
        Some(AccessRule {
            operations: operations?,
            condition: condition?,
        })
    }

    /// `read`, `all` or `[read, update]`, in the canonical order of [`Operation::ALL`].
    fn operations(&mut self, attribute: &Attribute, value: &Value) -> Option<Vec<Operation>> {
        let items = match value {
            Value::Ident(ident) if ident.name == "all" => return Some(Operation::ALL.to_vec()),
            Value::Ident(ident) => return self.operation(ident).map(|op| vec![op]),
            Value::List(items, span) if items.is_empty() => {
                self.report(
                    Diagnostic::error("E0221", "empty list of operations", *span)
                        .with_label("no operations")
                        .with_help("list the operations, `[read, update]`, or write `all`"),
                );
                return None;
            }
            Value::List(items, _) => items,
            other => {
                self.wrong_argument(
                    other,
                    attribute,
                    "an operation or a list of operations",
                    ALLOW_USAGE,
                );
                return None;
            }
        };
        let mut operations: Vec<(Operation, Span)> = Vec::new();
        let mut ok = true;
        for item in items {
            let Value::Ident(ident) = item else {
                self.wrong_argument(item, attribute, "an operation name", ALLOW_USAGE);
                ok = false;
                continue;
            };
            if ident.name == "all" {
                self.report(
                    Diagnostic::error("E0221", "`all` inside a list of operations", ident.span)
                        .with_label("`all` already means every operation")
                        .with_help("write `all` on its own, without brackets, or list the operations without it"),
                );
                ok = false;
                continue;
            }
            let Some(operation) = self.operation(ident) else {
                ok = false;
                continue;
            };
            if let Some((_, first)) = operations.iter().find(|(op, _)| *op == operation) {
                self.report(
                    Diagnostic::error(
                        "E0221",
                        format!("operation `{}` listed twice", ident.name),
                        ident.span,
                    )
                    .with_label("listed again here")
                    .with_related(*first, "first listed here")
                    .with_help("list each operation once"),
                );
                ok = false;
                continue;
            }
            operations.push((operation, ident.span));
        }
        ok.then(|| {
            Operation::ALL
                .into_iter()
                .filter(|op| operations.iter().any(|(o, _)| o == op))
                .collect()
        })
    }

    fn operation(&mut self, ident: &Ident) -> Option<Operation> {
        if let Some(operation) = Operation::ALL
            .into_iter()
            .find(|op| op.keyword() == ident.name)
        {
            return Some(operation);
        }
        let alias = OPERATION_ALIASES
            .iter()
            .find(|(alias, _)| alias.eq_ignore_ascii_case(&ident.name))
            .map(|(_, ours)| ours.to_string());
        let help = match alias.or_else(|| Checker::suggest(&ident.name, OPERATIONS.iter().copied()))
        {
            Some(similar) => format!("did you mean `{similar}`?"),
            None => "the operations are `read`, `create`, `update`, `delete` and `all`".into(),
        };
        self.report(
            Diagnostic::error(
                "E0220",
                format!("unknown operation `{}`", ident.name),
                ident.span,
            )
            .with_label("not an operation")
            .with_help(help),
        );
        None
    }

    fn access_condition(
        &mut self,
        index: usize,
        identity: Option<usize>,
        attribute: &Attribute,
        value: &Value,
    ) -> Option<AccessCondition> {
        match value {
            Value::Ident(ident) => match ident.name.as_str() {
                "public" => Some(AccessCondition::Public),
                "authenticated" => Some(AccessCondition::Authenticated),
                word => {
                    let model = &self.models[index].model;
                    let help = if word == "auth" {
                        "write `authenticated` for any signed-in user, or `field == auth` for the rows of the signed-in user".to_string()
                    } else if let Some(similar) = Checker::suggest(word, CONDITIONS.iter().copied())
                    {
                        format!("did you mean `{similar}`?")
                    } else if model.field(word).is_some() || model.relation(word).is_some() {
                        format!("to open the rows whose `{word}` is the signed-in user, write `{word} == auth`")
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
            },
            Value::Path(segments, span) => {
                if let Some(Side::Account(field, _)) = self.side(value) {
                    let path = Value::path_text(segments);
                    self.report(
                        Diagnostic::error(
                            "E0222",
                            format!("`{path}` alone is not an access condition"),
                            *span,
                        )
                        .with_label("a field of the account, compared with nothing")
                        .with_help(format!(
                            "compare it: `{path} == \"value\"` for users whose account holds a value, or `field == {path}` for the rows matching their account's `{}`",
                            field.name
                        )),
                    );
                }
                None
            }
            Value::Compare {
                left,
                op,
                right,
                span,
            } => {
                let (left, right) = (self.side(left), self.side(right));
                let (left, right) = (left?, right?);
                let reads_account =
                    matches!(left, Side::Account(..)) || matches!(right, Side::Account(..));
                if *op == CompareOp::NotEqual {
                    let help = if reads_account {
                        "write the rule for the values that are allowed, e.g. `auth.role == \"admin\"`; rules add up, so one rule per allowed value"
                    } else {
                        "write `field == auth` for the rows of the signed-in user"
                    };
                    self.report(
                        Diagnostic::error("E0222", "`!=` in an access condition", *span)
                            .with_label("access conditions compare with `==` only")
                            .with_help(help),
                    );
                    return None;
                }
                match (left, right) {
                    (Side::Auth(_), Side::Account(field, _))
                    | (Side::Account(field, _), Side::Auth(_)) => {
                        let path = format!("auth.{}", field.name);
                        self.report(
                            Diagnostic::error(
                                "E0222",
                                "an access condition compares `auth` with a field of the account",
                                *span,
                            )
                            .with_label("both sides are the signed-in user")
                            .with_help(format!("write `field == auth` for the rows of the signed-in user, or compare `{path}` with a value (`{path} == value`) or with a field of this model (`field == {path}`)")),
                        );
                        None
                    }
                    (Side::Account(..), Side::Account(..)) => {
                        self.report(
                            Diagnostic::error(
                                "E0222",
                                "an access condition compares two fields of the account",
                                *span,
                            )
                            .with_label("both sides read the signed-in user's account")
                            .with_help("compare a field of the account with a value (`auth.role == \"admin\"`) or with a field of this model (`tenant == auth.tenant`)"),
                        );
                        None
                    }
                    (Side::Account(field, path_span), Side::Other(other))
                    | (Side::Other(other), Side::Account(field, path_span)) => {
                        self.account_condition(index, identity, attribute, field, path_span, other)
                    }
                    (Side::Auth(auth_span), Side::Other(owner))
                    | (Side::Other(owner), Side::Auth(auth_span)) => {
                        let Value::Ident(owner) = owner else {
                            self.wrong_argument(
                                owner,
                                attribute,
                                "a field or relation name compared with `auth`",
                                ALLOW_USAGE,
                            );
                            return None;
                        };
                        self.owner_condition(index, identity, owner, auth_span)
                    }
                    (Side::Auth(_), Side::Auth(_)) | (Side::Other(_), Side::Other(_)) => {
                        self.report(
                            Diagnostic::error(
                                "E0222",
                                "an access condition compares a field with `auth`",
                                *span,
                            )
                            .with_label("expected `field == auth`")
                            .with_help(format!("write {CONDITION_FORMS}")),
                        );
                        None
                    }
                }
            }
            other => {
                self.wrong_argument(
                    other,
                    attribute,
                    "`public`, `authenticated` or a comparison with `auth`",
                    ALLOW_USAGE,
                );
                None
            }
        }
    }

    /// What one side of a comparison in an access condition names; `None` for a dotted name
    /// other than `auth.field` (reported).
    fn side<'v>(&mut self, value: &'v Value) -> Option<Side<'v>> {
        let (segments, span) = match value {
            Value::Ident(ident) if ident.name == "auth" => return Some(Side::Auth(ident.span)),
            Value::Path(segments, span) => (segments, *span),
            other => return Some(Side::Other(other)),
        };
        let path = Value::path_text(segments);
        match segments.as_slice() {
            [auth, field] if auth.name == "auth" => Some(Side::Account(field, span)),
            [auth, field, ..] if auth.name == "auth" => {
                self.report(
                    Diagnostic::error(
                        "E0222",
                        format!("`{path}` reaches past the account"),
                        span,
                    )
                    .with_label("access conditions read the fields of the account row itself")
                    .with_help(format!(
                        "compare the relation itself, `auth.{}`: it holds the key of the related row",
                        field.name
                    )),
                );
                None
            }
            _ => {
                self.report(
                    Diagnostic::error(
                        "E0222",
                        format!("unknown name `{path}` in an access condition"),
                        span,
                    )
                    .with_label("only `auth.` names a field of the signed-in user's account")
                    .with_help(format!(
                        "write `auth.{}` for a field of the signed-in user's account, or a field of this model without a dot",
                        segments.last().map_or("field", |s| s.name.as_str())
                    )),
                );
                None
            }
        }
    }

    /// `owner == auth`: `owner` is a to-one relation to the identity model, or a stored field
    /// holding an identity's id.
    fn owner_condition(
        &mut self,
        index: usize,
        identity: Option<usize>,
        owner: &Ident,
        auth_span: Span,
    ) -> Option<AccessCondition> {
        let model = &self.models[index].model;
        let Some(identity) = identity else {
            let target = model.relation(&owner.name).and_then(|r| match &r.kind {
                RelationKind::ToOne { target, .. } => Some(target.clone()),
                _ => None,
            });
            self.no_identity_model(auth_span, target.as_deref());
            return None;
        };
        let users = &self.models[identity].model;
        let users_name = users.name.clone();
        let users_key = (users.primary_key.len() == 1).then(|| users.primary_key[0].clone());
        let holds_user_id = |kind: &RelationKind| match kind {
            RelationKind::ToOne {
                target, references, ..
            } => *target == users_name && Some(references) == users_key.as_ref(),
            _ => false,
        };
        if let Some(relation) = model.relation(&owner.name) {
            if let RelationKind::ToOne { field, .. } = &relation.kind {
                if holds_user_id(&relation.kind) {
                    return Some(AccessCondition::Owner {
                        field: field.clone(),
                    });
                }
            }
            let label = match &relation.kind {
                RelationKind::ToOne {
                    target, references, ..
                } if *target == users_name => {
                    format!("references `{references}` of `{users_name}`, not its key")
                }
                RelationKind::ToOne { target, .. } => format!("a relation to `{target}`"),
                _ => "not a to-one relation".to_string(),
            };
            self.not_an_owner(owner, &users_name, label);
            return None;
        }
        if let Some(field) = model.field(&owner.name) {
            let is_user_key = index == identity && Some(&field.name) == users_key.as_ref();
            let is_user_reference = model.relations.iter().any(|r| {
                holds_user_id(&r.kind)
                    && matches!(&r.kind, RelationKind::ToOne { field: fk, .. } if *fk == field.name)
            });
            if field.is_stored() && (is_user_key || is_user_reference) {
                return Some(AccessCondition::Owner {
                    field: field.name.clone(),
                });
            }
            let label = format!("`{}` is `{}`", field.name, field.ty);
            self.not_an_owner(owner, &users_name, label);
            return None;
        }
        let candidates: Vec<&str> = model
            .relations
            .iter()
            .filter(|r| matches!(r.kind, RelationKind::ToOne { .. }))
            .map(|r| r.name.as_str())
            .chain(model.stored_fields().map(|f| f.name.as_str()))
            .collect();
        let help = match Checker::suggest(&owner.name, candidates) {
            Some(similar) => format!("did you mean `{similar}`?"),
            None => format!(
                "name a relation of model `{}` to `{users_name}`, or a field holding a `{users_name}` id",
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
                format!("unknown field `{}` in an access condition", owner.name),
                owner.span,
            )
            .with_label(label)
            .with_help(help),
        );
        None
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

    fn not_an_owner(&mut self, owner: &Ident, users: &str, label: String) {
        self.report(
            Diagnostic::error(
                "E0225",
                format!("`{}` does not hold the id of a `{users}` row", owner.name),
                owner.span,
            )
            .with_label(label)
            .with_help(format!(
                "compare `auth` with a to-one relation to `{users}` (such as `createdBy` of `@@actors({users})`), with a foreign key of one, or with the key of `{users}` itself"
            )),
        );
    }
}
