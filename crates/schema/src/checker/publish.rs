//! Environments and publishing: `@@environment(...)` on content models, `@@publish_log(...)`
//! on the model recording publish runs, `@copied(model)` on its counters.

use super::Checker;
use crate::ast::{Attribute, Ident, Value};
use crate::diagnostic::Diagnostic;
use crate::ir::*;

const ENVIRONMENT_USAGE: &str = "`@@environment(field, scope: relation, lineage: field)`";
const PUBLISH_LOG_USAGE: &str = "`@@publish_log(scope: relation, actor: relation)`";

impl Checker<'_> {
    pub(crate) fn environments(&mut self, index: usize) {
        let decl = self.models[index].decl;
        for attribute in decl.attributes() {
            match attribute.name.name.as_str() {
                "environment" => {
                    if let Some(scope) = self.environment_scope(index, attribute) {
                        self.models[index].model.behaviours.environment = Some(scope);
                    }
                }
                "publish_log" => {
                    if let Some(log) = self.publish_log(index, attribute) {
                        self.models[index].model.behaviours.publish_log = Some(log);
                    }
                }
                _ => {}
            }
        }
        let copied: Vec<&crate::ast::FieldDecl> = decl
            .fields()
            .filter(|f| f.attributes.iter().any(|a| a.name.name == "copied"))
            .collect();
        if !copied.is_empty() && self.models[index].model.behaviours.publish_log.is_none() {
            let span = copied[0]
                .attributes
                .iter()
                .find(|a| a.name.name == "copied")
                .map_or(copied[0].name.span, |a| a.span);
            self.report(
                Diagnostic::error(
                    "E0194",
                    "`@copied` needs `@@publish_log` on the model",
                    span,
                )
                .with_label("counter outside a publish log")
                .with_help(format!(
                    "add {PUBLISH_LOG_USAGE} to the model, or remove `@copied`"
                )),
            );
        }
    }

    /// A field of model `index` named by an attribute argument, checked with `accept`.
    fn named_field(
        &mut self,
        index: usize,
        ident: &Ident,
        what: &str,
        accept: impl Fn(&Field) -> bool,
    ) -> Option<String> {
        let model = &self.models[index].model;
        match model.field(&ident.name) {
            Some(field) if accept(field) => Some(field.name.clone()),
            Some(field) => {
                let message = format!(
                    "`{}` cannot be the {what}: it is `{}`",
                    ident.name, field.ty
                );
                self.report(
                    Diagnostic::error("E0191", message, ident.span)
                        .with_label(format!("not a suitable {what}"))
                        .with_help(format!("name a field that can hold the {what}")),
                );
                None
            }
            None => {
                let candidates: Vec<&str> = model.fields.iter().map(|f| f.name.as_str()).collect();
                let help = match Checker::suggest(&ident.name, candidates) {
                    Some(similar) => format!("did you mean `{similar}`?"),
                    None => format!("name a field of model `{}`", model.name),
                };
                let message = format!("unknown field `{}` for the {what}", ident.name);
                self.report(
                    Diagnostic::error("E0170", message, ident.span)
                        .with_label("no such field")
                        .with_help(help),
                );
                None
            }
        }
    }

    /// A to-one relation of model `index` named by an attribute argument; returns it and its target.
    fn named_to_one(
        &mut self,
        index: usize,
        value: &Value,
        attribute: &Attribute,
        usage: &str,
    ) -> Option<(String, String)> {
        let Value::Ident(ident) = value else {
            self.wrong_argument(value, attribute, "a relation name", usage);
            return None;
        };
        let model = &self.models[index].model;
        let found = model.relation(&ident.name).and_then(|r| match &r.kind {
            RelationKind::ToOne { target, .. } => Some(target.clone()),
            _ => None,
        });
        match found {
            Some(target) => Some((ident.name.clone(), target)),
            None => {
                let message = format!(
                    "`{}` is not a to-one relation of model `{}`",
                    ident.name, model.name
                );
                self.report(
                    Diagnostic::error("E0190", message, ident.span)
                        .with_label("expected a to-one relation")
                        .with_help("name the relation to the row that owns the content, e.g. `scope: project`"),
                );
                None
            }
        }
    }

    fn environment_scope(
        &mut self,
        index: usize,
        attribute: &Attribute,
    ) -> Option<EnvironmentScope> {
        self.only_named(attribute, &["scope", "lineage"], ENVIRONMENT_USAGE);
        let field_ident = self.single_ident(attribute, ENVIRONMENT_USAGE)?;
        let field = self.named_field(index, field_ident, "environment", |f| {
            matches!(f.ty.scalar, ScalarType::Enum(_)) && !f.ty.array
        })?;
        let environments = match &self.models[index].model.field(&field)?.ty.scalar {
            ScalarType::Enum(name) => name.clone(),
            _ => return None,
        };
        let Some(scope_arg) = attribute.named("scope") else {
            self.report(
                Diagnostic::error("E0190", "`@@environment` needs `scope:`", attribute.span)
                    .with_label("which row owns this content?")
                    .with_help(format!("write {ENVIRONMENT_USAGE}")),
            );
            return None;
        };
        let (scope, _) =
            self.named_to_one(index, &scope_arg.value, attribute, ENVIRONMENT_USAGE)?;
        let lineage = match attribute.named("lineage").map(|a| &a.value) {
            Some(Value::Ident(ident)) => Some(self.named_field(index, ident, "lineage", |f| {
                (f.ty.scalar.is_textual() || f.ty.scalar == ScalarType::Uuid)
                    && !f.ty.array
                    && f.nullable
            })?),
            Some(other) => {
                self.wrong_argument(other, attribute, "a field name", ENVIRONMENT_USAGE);
                return None;
            }
            None => None,
        };
        Some(EnvironmentScope {
            field,
            environments,
            scope,
            lineage,
        })
    }

    fn publish_log(&mut self, index: usize, attribute: &Attribute) -> Option<PublishLog> {
        let names = [
            "scope", "actor", "from", "to", "status", "started", "finished", "error",
        ];
        self.only_named(attribute, &names, PUBLISH_LOG_USAGE);
        if attribute.positional().next().is_some() {
            self.wrong_argument_count(attribute, PUBLISH_LOG_USAGE);
        }
        let Some(scope_arg) = attribute.named("scope") else {
            self.report(
                Diagnostic::error("E0190", "`@@publish_log` needs `scope:`", attribute.span)
                    .with_label("which rows are published?")
                    .with_help(format!("write {PUBLISH_LOG_USAGE}")),
            );
            return None;
        };
        let (scope, scope_target) =
            self.named_to_one(index, &scope_arg.value, attribute, PUBLISH_LOG_USAGE)?;
        let actor = match attribute.named("actor") {
            Some(arg) => Some(
                self.named_to_one(index, &arg.value, attribute, PUBLISH_LOG_USAGE)?
                    .0,
            ),
            None => None,
        };
        // The conventional field names, each overridable by a named argument.
        let field_for = |checker: &mut Self,
                         key: &str,
                         default: &str,
                         what: &str,
                         accept: &dyn Fn(&Field) -> bool|
         -> Option<String> {
            let ident = match attribute.named(key).map(|a| &a.value) {
                Some(Value::Ident(ident)) => ident.clone(),
                Some(other) => {
                    checker.wrong_argument(other, attribute, "a field name", PUBLISH_LOG_USAGE);
                    return None;
                }
                None => Ident {
                    name: default.to_string(),
                    span: attribute.span,
                },
            };
            checker.named_field(index, &ident, what, accept)
        };
        let is_enum = |f: &Field| matches!(f.ty.scalar, ScalarType::Enum(_));
        let is_time = |f: &Field| f.ty.scalar.is_temporal() && f.nullable;
        let is_text = |f: &Field| f.ty.scalar.is_textual() && f.nullable;
        let from_field = field_for(
            self,
            "from",
            "from_environment",
            "source environment",
            &is_enum,
        );
        let to_field = field_for(self, "to", "to_environment", "target environment", &is_enum);
        let status_field = field_for(self, "status", "status", "publish status", &is_enum);
        let started_field = field_for(self, "started", "started_at", "start time", &is_time);
        let finished_field = field_for(self, "finished", "finished_at", "finish time", &is_time);
        let error_field = field_for(self, "error", "error_message", "error message", &is_text);
        let status_field = status_field?;
        if let Some(ScalarType::Enum(status_enum)) = self.models[index]
            .model
            .field(&status_field)
            .map(|f| f.ty.scalar.clone())
        {
            let values: Vec<String> = self
                .enum_by_name(&status_enum)
                .map(|e| e.values.iter().map(|v| v.name.clone()).collect())
                .unwrap_or_default();
            let missing: Vec<&str> = ["running", "success", "failed"]
                .into_iter()
                .filter(|v| !values.iter().any(|x| x == v))
                .collect();
            if !missing.is_empty() {
                let span = self.models[index]
                    .spans
                    .get(&status_field)
                    .copied()
                    .unwrap_or(attribute.span);
                self.report(
                    Diagnostic::error(
                        "E0192",
                        format!(
                            "publish status enum `{status_enum}` lacks {}",
                            missing.join(", ")
                        ),
                        span,
                    )
                    .with_label("a publish run is running, then success or failed")
                    .with_help(format!("add {} to enum `{status_enum}`", missing.join(" "))),
                );
            }
        }
        let counts = self.publish_counts(index, &scope_target);
        Some(PublishLog {
            scope,
            actor,
            from_field: from_field?,
            to_field: to_field?,
            status_field,
            started_field: started_field?,
            finished_field: finished_field?,
            error_field: error_field?,
            counts,
        })
    }

    /// `@copied(model)` counters: each names a content model scoped by the same model.
    fn publish_counts(&mut self, index: usize, scope_target: &str) -> Vec<PublishCount> {
        let decl = self.models[index].decl;
        let mut counts = Vec::new();
        for field in decl.fields() {
            for attribute in field.attributes.iter().filter(|a| a.name.name == "copied") {
                let usage = "`@copied(content_model)`";
                let Some(model_ident) = self.single_ident(attribute, usage) else {
                    continue;
                };
                let Some(&target) = self.model_index.get(&model_ident.name) else {
                    self.report(
                        Diagnostic::error(
                            "E0140",
                            format!("unknown model `{}`", model_ident.name),
                            model_ident.span,
                        )
                        .with_label("no model with this name")
                        .with_help("name a model with `@@environment(...)`"),
                    );
                    continue;
                };
                let scoped_here = self.models[target].decl.attributes().any(|a| a.name.name == "environment")
                    && self.models[target].model.relations.iter().any(|r| {
                        matches!(&r.kind, RelationKind::ToOne { target, .. } if target == scope_target)
                    });
                if !scoped_here {
                    self.report(
                        Diagnostic::error("E0193", format!("`{}` is not content published with `{scope_target}`", model_ident.name), model_ident.span)
                            .with_label("not environment-scoped content of this scope")
                            .with_help(format!("add `@@environment(environment, scope: <relation to {scope_target}>)` to `{}`", model_ident.name)),
                    );
                    continue;
                }
                let integer = self.models[index]
                    .model
                    .field(&field.name.name)
                    .is_some_and(|f| f.ty.scalar.is_integer());
                if !integer {
                    self.report(
                        Diagnostic::error(
                            "E0121",
                            format!("`@copied` cannot be used on field `{}`", field.name.name),
                            attribute.span,
                        )
                        .with_label("`@copied` applies to integer fields only")
                        .with_help("make the counter an `int`"),
                    );
                    continue;
                }
                counts.push(PublishCount {
                    model: model_ident.name.clone(),
                    field: field.name.name.clone(),
                });
            }
        }
        counts
    }
}
