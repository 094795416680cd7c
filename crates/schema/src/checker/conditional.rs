//! Conditional defaults: `@default_if(field == literal, value)` on scalar fields. Read after
//! the model passes, so the condition may name any stored field, implicit ones included.

use super::fields::LiteralUse;
use super::Checker;
use crate::ast::{Attribute, CompareOp, TypeExpr, Value};
use crate::diagnostic::Diagnostic;
use crate::ir::*;

const USAGE: &str =
    "`@default_if(field == value, default)`, e.g. `@default_if(provider != \"local\", true)`";

impl Checker<'_> {
    pub(crate) fn conditional_defaults(&mut self, index: usize) {
        let decl = self.models[index].decl;
        for field_decl in decl.fields() {
            // Relations report `@default_if` as an attribute they do not take.
            if matches!(field_decl.ty, TypeExpr::Relation { .. }) {
                continue;
            }
            let attributes: Vec<&Attribute> = field_decl
                .attributes
                .iter()
                .filter(|a| a.name.name == "default_if")
                .collect();
            if attributes.is_empty() {
                continue;
            }
            // Only the field built from this declaration: not a duplicate, not of an
            // unknown type, not a to-many relation.
            let declared_here =
                self.models[index].spans.get(&field_decl.name.name) == Some(&field_decl.name.span);
            let Some(field) = self.models[index]
                .model
                .field(&field_decl.name.name)
                .filter(|f| declared_here && !f.implicit)
                .cloned()
            else {
                continue;
            };
            let mut defaults = Vec::new();
            for attribute in attributes {
                if let Some(default) = self.conditional_default(index, attribute, &field) {
                    defaults.push(default);
                }
            }
            if let Some(built) = self.models[index]
                .model
                .fields
                .iter_mut()
                .find(|f| f.name == field.name)
            {
                built.conditional_defaults = defaults;
            }
        }
    }

    fn conditional_default(
        &mut self,
        index: usize,
        attribute: &Attribute,
        field: &Field,
    ) -> Option<ConditionalDefault> {
        self.only_named(attribute, &[], USAGE);
        let positional: Vec<&Value> = attribute.positional().collect();
        let [condition, value] = positional.as_slice() else {
            self.wrong_argument_count(attribute, USAGE);
            return None;
        };
        if field.computed.is_some() {
            self.report(
                Diagnostic::error(
                    "E0130",
                    format!("virtual field `{}` cannot have a default", field.name),
                    attribute.span,
                )
                .with_label("computed on read, never stored")
                .with_help("remove `@default_if`; a virtual field is computed by `@virtual(...)`"),
            );
            return None;
        }
        let when = self.field_condition(index, attribute, condition, field);
        let value = if let Value::Null(_) = value {
            self.wrong_argument(value, attribute, "a value other than `null`", USAGE);
            None
        } else {
            self.default_value(value, field)
        };
        Some(ConditionalDefault {
            when: when?,
            value: value?,
        })
    }

    /// `field == literal` or `field != literal`, with the literal typed like `field`.
    fn field_condition(
        &mut self,
        index: usize,
        attribute: &Attribute,
        condition: &Value,
        annotated: &Field,
    ) -> Option<FieldCondition> {
        let Value::Compare {
            left,
            op: op @ (CompareOp::Equal | CompareOp::NotEqual),
            right,
            ..
        } = condition
        else {
            self.wrong_argument(
                condition,
                attribute,
                "a condition `field == value` or `field != value`",
                USAGE,
            );
            return None;
        };
        let Value::Ident(name) = left.as_ref() else {
            self.wrong_argument(
                left,
                attribute,
                "a field name on the left of the comparison",
                USAGE,
            );
            return None;
        };
        if name.name == annotated.name {
            self.report(
                Diagnostic::error(
                    "E0203",
                    format!(
                        "the condition of `@default_if` on `{}` compares `{}` itself",
                        annotated.name, annotated.name
                    ),
                    name.span,
                )
                .with_label("the field being defaulted")
                .with_help(
                    "a conditional default depends on another field of the row; name that field, or use a plain `= default`",
                ),
            );
            return None;
        }
        let model = &self.models[index].model;
        let Some(compared) = model.field(&name.name) else {
            let relation_key = model.relation(&name.name).and_then(|r| match &r.kind {
                RelationKind::ToOne { field, .. } => Some(field.clone()),
                _ => None,
            });
            let candidates: Vec<&str> = model
                .stored_fields()
                .filter(|f| f.name != annotated.name)
                .map(|f| f.name.as_str())
                .collect();
            let help = match (relation_key, Checker::suggest(&name.name, candidates)) {
                (Some(key), _) => format!(
                    "`{}` is a relation; compare its foreign-key field `{key}`",
                    name.name
                ),
                (None, Some(similar)) => format!("did you mean `{similar}`?"),
                (None, None) => format!("name a stored field of model `{}`", model.name),
            };
            let label = format!("model `{}` has no field with this name", model.name);
            self.report(
                Diagnostic::error(
                    "E0201",
                    format!(
                        "unknown field `{}` in the condition of `@default_if`",
                        name.name
                    ),
                    name.span,
                )
                .with_label(label)
                .with_help(help),
            );
            return None;
        };
        let reason = if !compared.is_stored() {
            Some("it is virtual, computed on read")
        } else if compared.ty.array {
            Some("it is a list")
        } else if compared.ty.scalar.is_json() {
            Some("it holds JSON")
        } else if compared.ty.scalar == ScalarType::Bytes {
            Some("it holds bytes")
        } else {
            None
        };
        if let Some(reason) = reason {
            self.report(
                Diagnostic::error(
                    "E0202",
                    format!(
                        "`{}` cannot be compared in a condition: {reason}",
                        name.name
                    ),
                    name.span,
                )
                .with_label(format!("`{}` is `{}`", name.name, compared.ty))
                .with_help(
                    "conditions compare a stored text, number, bool, enum, uuid or date field with a literal",
                ),
            );
            return None;
        }
        if !matches!(
            right.as_ref(),
            Value::String(..) | Value::Number(..) | Value::Bool(..) | Value::Ident(_)
        ) {
            self.wrong_argument(
                right,
                attribute,
                "a literal (a string, a number, a bool or an enum value)",
                USAGE,
            );
            return None;
        }
        // The literal is typed as a value of the compared field; a sequence-filled key is
        // compared as the integer it holds.
        let scalar = match &compared.ty.scalar {
            ScalarType::Serial => ScalarType::Int,
            ScalarType::BigSerial => ScalarType::BigInt,
            other => other.clone(),
        };
        let compared = Field {
            ty: FieldType {
                scalar,
                array: false,
            },
            nullable: false,
            ..compared.clone()
        };
        let value = self.literal(right, &compared, LiteralUse::Comparison)?;
        Some(FieldCondition {
            field: compared.name,
            comparison: match op {
                CompareOp::NotEqual => Comparison::NotEqual,
                _ => Comparison::Equal,
            },
            value,
        })
    }
}
