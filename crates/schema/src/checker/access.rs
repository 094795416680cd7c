//! Identity and access: `@@auth(...)` marks the model users sign up and sign in with;
//! `@@allow(operations, condition)` opens a model's operations to callers. Read after the
//! model passes, because `@@auth` needs the unique constraints and `@@allow` the relations
//! of every model.

use super::Checker;
use crate::ast::{Attribute, Ident, Value};
use crate::diagnostic::Diagnostic;
use crate::ir::*;
use crate::span::Span;

const AUTH_USAGE: &str = "`@@auth(email: field, password: field)`, optionally with `disabled: field`, `signup: [field, ...]` and `registration: open | closed | invited(Model.field)`";
const REGISTRATION_USAGE: &str = "`registration: open` (anyone signs up), `registration: closed` (accounts are created with the service key) or `registration: invited(Invitation.email)` (an email some live row of that model holds)";
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

impl Checker<'_> {
    /// The model declaring the first `@@auth`, valid or not: the model whose ids `auth` is
    /// compared with.
    pub(super) fn identity_model(&self) -> Option<usize> {
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
            &["email", "password", "disabled", "signup", "registration"],
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
        let registration = match attribute.named("registration") {
            None => Some(Registration::Open),
            Some(arg) => self.registration(&arg.value),
        };
        if !key_ok || !email_ok || !password_ok {
            return None;
        }
        Some(Identity {
            email: email?,
            password: password?,
            disabled,
            signup_fields: signup?,
            registration: registration?,
        })
    }

    /// `open`, `closed` or `invited(Model.field)`, the field a text field of a model.
    fn registration(&mut self, value: &Value) -> Option<Registration> {
        let invalid = |checker: &mut Self, message: String, label: &str| {
            checker.report(
                Diagnostic::error("E0234", message, value.span())
                    .with_label(label.to_owned())
                    .with_help(format!("write {REGISTRATION_USAGE}")),
            );
            None
        };
        let (name, args) = match value {
            Value::Ident(ident) if ident.name == "open" => return Some(Registration::Open),
            Value::Ident(ident) if ident.name == "closed" => return Some(Registration::Closed),
            Value::Call { name, args, .. } if name.name == "invited" => (name, args),
            _ => {
                return invalid(
                    self,
                    "unknown registration policy".into(),
                    "not `open`, `closed` or `invited(...)`",
                )
            }
        };
        let [Value::Path(path, _)] = args.as_slice() else {
            return invalid(
                self,
                format!("`{}(...)` names one field of a model", name.name),
                "expected `Model.field`",
            );
        };
        let [model, field] = path.as_slice() else {
            return invalid(
                self,
                format!("`{}(...)` names one field of a model", name.name),
                "expected `Model.field`",
            );
        };
        let Some(target) = self.models.iter().find(|m| m.model.name == model.name) else {
            return invalid(
                self,
                format!("unknown model `{}` in the registration policy", model.name),
                "no such model",
            );
        };
        let text = target
            .model
            .field(&field.name)
            .is_some_and(|f| f.is_stored() && f.ty.scalar.is_textual() && !f.ty.array);
        if !text {
            return invalid(
                self,
                format!(
                    "`{}.{}` is not a stored text field: it cannot hold the invited email",
                    model.name, field.name
                ),
                "not a text field of the model",
            );
        }
        Some(Registration::Invited {
            model: model.name.clone(),
            field: field.name.clone(),
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
            if let Some(rule) = self.access_rule(index, attribute) {
                self.warn_self_chosen_account_value(identity, attribute, &rule);
                self.warn_constant_condition(attribute, &rule.condition);
                self.models[index].model.access.push(rule);
            }
        }
    }

    /// A condition whose value does not depend on the caller or the rows (`public || x`,
    /// `!public`) is a mistake: the rest of it is never consulted, or it grants nothing.
    pub(super) fn warn_constant_condition(&mut self, attribute: &Attribute, condition: &Condition) {
        if *condition == Condition::Public {
            return;
        }
        let (message, label, help) = match constant(condition) {
            Some(true) => (
                "this condition always holds: the rule opens its operations to anyone",
                "`public` decides it whatever the rest says",
                "write `public` alone if anyone may, or remove `public` from the condition",
            ),
            Some(false) => (
                "this condition never holds: the rule grants nothing",
                "false for every caller and every row",
                "remove the rule, or write the condition for the callers it should admit",
            ),
            None => return,
        };
        let span = attribute
            .positional()
            .nth(1)
            .map_or(attribute.span, Value::span);
        self.report(
            Diagnostic::warning("W0162", message, span)
                .with_label(label)
                .with_help(help),
        );
    }

    /// A rule comparing an account field that sign-up may set lets anyone choose what the
    /// rule grants them (sign up into any tenant, or as an admin).
    fn warn_self_chosen_account_value(
        &mut self,
        identity: Option<usize>,
        attribute: &Attribute,
        rule: &AccessRule,
    ) {
        let Some(identity) = identity else {
            return;
        };
        let model = &self.models[identity].model;
        let chosen = rule.condition.account_fields().into_iter().find(|field| {
            model
                .behaviours
                .identity
                .as_ref()
                .is_some_and(|i| i.signup_fields.iter().any(|s| s == field))
        });
        if let Some(account_field) = chosen {
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
                .unwrap_or_else(|| account_field.to_string());
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

    fn access_rule(&mut self, index: usize, attribute: &Attribute) -> Option<AccessRule> {
        self.only_named(attribute, &[], ALLOW_USAGE);
        let positional: Vec<&Value> = attribute.positional().collect();
        let [operations, condition] = positional.as_slice() else {
            self.wrong_argument_count(attribute, ALLOW_USAGE);
            return None;
        };
        let operations = self.operations(attribute, operations);
        let condition = self.access_condition(index, condition);
        Some(AccessRule {
            operations: operations?,
            condition: condition?,
        })
    }

    /// `read`, `all` or `[read, update]`, in the canonical order of [`Operation::ALL`].
    pub(super) fn operations(
        &mut self,
        attribute: &Attribute,
        value: &Value,
    ) -> Option<Vec<Operation>> {
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
}

/// The value of a condition that holds or fails whoever calls and whatever the row; `None`
/// when it depends on either.
fn constant(condition: &Condition) -> Option<bool> {
    match condition {
        Condition::Public => Some(true),
        Condition::Not { condition } => constant(condition).map(|b| !b),
        Condition::All { conditions } => {
            let values: Vec<Option<bool>> = conditions.iter().map(constant).collect();
            if values.contains(&Some(false)) {
                Some(false)
            } else if values.iter().all(|v| *v == Some(true)) {
                Some(true)
            } else {
                None
            }
        }
        Condition::Any { conditions } => {
            let values: Vec<Option<bool>> = conditions.iter().map(constant).collect();
            if values.contains(&Some(true)) {
                Some(true)
            } else if values.iter().all(|v| *v == Some(false)) {
                Some(false)
            } else {
                None
            }
        }
        _ => None,
    }
}
