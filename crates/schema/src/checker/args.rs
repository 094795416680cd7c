//! Reading attribute arguments, with diagnostics for arguments of the wrong shape.

use super::Checker;
use crate::ast::{Attribute, Item, Value};
use crate::diagnostic::Diagnostic;

impl Checker<'_> {
    /// `@@` for a model or enum attribute, `@` for a field attribute.
    pub fn sigil(&self, attribute: &Attribute) -> &'static str {
        let model_level = self.file.items.iter().any(|item| match item {
            Item::Model(m) => m.attributes().any(|a| std::ptr::eq(a, attribute)),
            Item::Enum(e) => e.attributes.iter().any(|a| std::ptr::eq(a, attribute)),
            Item::Settings(_) => false,
        });
        if model_level {
            "@@"
        } else {
            "@"
        }
    }

    pub fn wrong_argument(
        &mut self,
        value: &Value,
        attribute: &Attribute,
        expected: &str,
        usage: &str,
    ) {
        self.report(
            Diagnostic::error(
                "E0122",
                format!(
                    "`{}{}` expects {expected}, found {}",
                    self.sigil(attribute),
                    attribute.name.name,
                    value.describe()
                ),
                value.span(),
            )
            .with_label(format!("expected {expected}"))
            .with_help(format!("write {usage}")),
        );
    }

    pub fn wrong_argument_count(&mut self, attribute: &Attribute, usage: &str) {
        self.report(
            Diagnostic::error(
                "E0123",
                format!(
                    "wrong number of arguments for `{}{}`",
                    self.sigil(attribute),
                    attribute.name.name
                ),
                attribute.span,
            )
            .with_label("wrong number of arguments")
            .with_help(format!("write {usage}")),
        );
    }

    /// Reports named arguments other than `allowed`.
    pub fn only_named(&mut self, attribute: &Attribute, allowed: &[&str], usage: &str) {
        for arg in &attribute.args {
            let Some(name) = &arg.name else { continue };
            if !allowed.contains(&name.name.as_str()) {
                let help = if allowed.is_empty() {
                    format!(
                        "`{}{}` takes no named arguments; write {usage}",
                        self.sigil(attribute),
                        attribute.name.name
                    )
                } else {
                    format!(
                        "`{}{}` accepts {}; write {usage}",
                        self.sigil(attribute),
                        attribute.name.name,
                        allowed
                            .iter()
                            .map(|a| format!("`{a}:`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                self.report(
                    Diagnostic::error(
                        "E0124",
                        format!(
                            "unknown argument `{}` for `{}{}`",
                            name.name,
                            self.sigil(attribute),
                            attribute.name.name
                        ),
                        name.span,
                    )
                    .with_label("unknown argument")
                    .with_help(help),
                );
            }
        }
    }

    /// An attribute that takes nothing: `@unique`.
    pub fn no_args(&mut self, attribute: &Attribute) {
        if !attribute.args.is_empty() {
            let usage = format!(
                "`{}{}` without arguments",
                self.sigil(attribute),
                attribute.name.name
            );
            self.wrong_argument_count(attribute, &usage);
        }
    }

    /// An attribute that takes exactly one string: `@map("column")`.
    pub fn single_string(&mut self, attribute: &Attribute) -> Option<String> {
        let usage = format!(
            "`{}{}(\"name\")`",
            self.sigil(attribute),
            attribute.name.name
        );
        self.only_named(attribute, &[], &usage);
        let positional: Vec<&Value> = attribute.positional().collect();
        match positional.as_slice() {
            [Value::String(text, _)] if !text.is_empty() => Some(text.clone()),
            [other] => {
                self.wrong_argument(other, attribute, "a non-empty string", &usage);
                None
            }
            _ => {
                self.wrong_argument_count(attribute, &usage);
                None
            }
        }
    }

    /// An attribute that takes exactly one name: `@relation(camera_device)`.
    pub fn single_ident<'v>(
        &mut self,
        attribute: &'v Attribute,
        usage: &str,
    ) -> Option<&'v crate::ast::Ident> {
        let positional: Vec<&Value> = attribute.positional().collect();
        match positional.as_slice() {
            [Value::Ident(ident)] => Some(ident),
            [other] => {
                self.wrong_argument(other, attribute, "a name", usage);
                None
            }
            _ => {
                self.wrong_argument_count(attribute, usage);
                None
            }
        }
    }

    /// A trailing optional custom message at position `index`.
    pub fn message_arg(
        &mut self,
        attribute: &Attribute,
        index: usize,
        usage: &str,
    ) -> Option<String> {
        let positional: Vec<&Value> = attribute.positional().collect();
        if positional.len() > index + 1 {
            self.wrong_argument_count(attribute, usage);
            return None;
        }
        match positional.get(index) {
            None => None,
            Some(Value::String(text, _)) => Some(text.clone()),
            Some(other) => {
                self.wrong_argument(other, attribute, "a message string", usage);
                None
            }
        }
    }

    pub fn number_arg(&mut self, attribute: &Attribute, index: usize, usage: &str) -> Option<f64> {
        let positional: Vec<&Value> = attribute.positional().collect();
        match positional.get(index) {
            Some(Value::Number(text, span)) => match text.parse::<f64>() {
                Ok(n) if n.is_finite() => Some(n),
                _ => {
                    self.report(
                        Diagnostic::error(
                            "E0125",
                            format!(
                                "number out of range in `{}{}`",
                                self.sigil(attribute),
                                attribute.name.name
                            ),
                            *span,
                        )
                        .with_label("too large to represent")
                        .with_help("use a number between -1.7e308 and 1.7e308"),
                    );
                    None
                }
            },
            Some(other) => {
                self.wrong_argument(other, attribute, "a number", usage);
                None
            }
            None => {
                self.wrong_argument_count(attribute, usage);
                None
            }
        }
    }

    pub fn unknown_attribute(&mut self, attribute: &Attribute, target: &str, known: &[&str]) {
        let sigil = if target == "a model" { "@@" } else { "@" };
        let mut diagnostic = Diagnostic::error(
            "E0120",
            format!(
                "unknown attribute `{sigil}{}` on {target}",
                attribute.name.name
            ),
            attribute.name.span,
        )
        .with_label("unknown attribute");
        let help = match Checker::suggest(&attribute.name.name, known.iter().copied()) {
            Some(similar) => format!("did you mean `{sigil}{similar}`?"),
            None => format!(
                "attributes of {target}: {}",
                known
                    .iter()
                    .map(|k| format!("{sigil}{k}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        diagnostic = diagnostic.with_help(help);
        self.report(diagnostic);
    }
}
