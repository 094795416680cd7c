//! The checker: ordered passes from the syntax tree to the validated [`Schema`].
//!
//! Like a compiler front end it never stops at the first problem: every pass records
//! diagnostics and carries on with what it could make sense of, so one run reports all the
//! errors of a file. The passes, in order:
//!
//! 1. settings and names (duplicate models, enums, values);
//! 2. enums;
//! 3. scalar fields, their types, defaults, validations and behaviours ([`fields`]);
//! 4. to-one and polymorphic relations, which add foreign-key fields ([`relations`]);
//! 5. model behaviours, keys and indexes ([`model`]);
//! 6. inverse sides: to-many and many-to-many ([`relations`]);
//! 7. indexes and whole-schema rules such as column collisions;
//! 8. environments and publishing ([`publish`]);
//! 9. the identity model, access rules ([`access`], conditions in [`condition`], rules of
//!    single fields in [`field_access`]) and conditional defaults ([`conditional`]), which may name any field or
//!    relation of the schema.

mod access;
mod args;
pub use model::index_name;
mod condition;
mod conditional;
mod field_access;
mod fields;
mod model;
mod publish;
mod relations;

use std::collections::HashMap;

use crate::ast::{self, Item, ModelDecl, SchemaFile};
use crate::diagnostic::Diagnostic;
use crate::ir::*;
use crate::span::Span;

/// Where the string argument of an attribute such as `@@map("name")` is, or the attribute.
pub(crate) fn string_span(attribute: &ast::Attribute) -> Span {
    attribute
        .positional()
        .next()
        .map_or(attribute.span, ast::Value::span)
}

/// Checks a parsed file. The schema is returned even when there are errors (then it holds
/// what could be resolved); callers must look at the diagnostics first.
pub fn check(file: &SchemaFile) -> (Schema, Vec<Diagnostic>) {
    let mut checker = Checker::new(file);
    checker.settings();
    checker.collect_names();
    checker.enums();
    for index in 0..checker.models.len() {
        checker.declared_fields(index);
    }
    for index in 0..checker.models.len() {
        checker.resolve_to_one_relations(index);
    }
    for index in 0..checker.models.len() {
        checker.behaviours(index);
        checker.primary_key(index);
    }
    for index in 0..checker.models.len() {
        checker.inverse_relations(index);
    }
    for index in 0..checker.models.len() {
        checker.indexes(index);
        checker.column_collisions(index);
    }
    for index in 0..checker.models.len() {
        checker.environments(index);
    }
    checker.identities();
    for index in 0..checker.models.len() {
        checker.access_rules(index);
        checker.field_access_rules(index);
        checker.conditional_defaults(index);
    }
    checker.finish()
}

/// A relation field seen in the fields pass, resolved in the relations passes.
#[derive(Clone)]
pub(crate) struct PendingRelation<'a> {
    pub decl: &'a ast::FieldDecl,
    /// Position among the model's fields, so the foreign key lands where it was declared.
    pub field_position: usize,
}

pub(crate) struct ModelBuild<'a> {
    pub decl: &'a ModelDecl,
    pub model: Model,
    /// Where each field or relation name was declared, for duplicate and index errors.
    pub spans: HashMap<String, Span>,
    pub to_one: Vec<PendingRelation<'a>>,
    pub to_many: Vec<PendingRelation<'a>>,
}

pub(crate) struct Checker<'a> {
    pub file: &'a SchemaFile,
    pub diagnostics: Vec<Diagnostic>,
    pub naming: Naming,
    pub enums: Vec<Enum>,
    pub enum_spans: HashMap<String, Span>,
    pub models: Vec<ModelBuild<'a>>,
    pub model_index: HashMap<String, usize>,
    /// Join models created for `@join_table`, added after the declared models.
    pub join_models: Vec<Model>,
}

impl<'a> Checker<'a> {
    fn new(file: &'a SchemaFile) -> Self {
        Checker {
            file,
            diagnostics: Vec::new(),
            naming: Naming::default(),
            enums: Vec::new(),
            enum_spans: HashMap::new(),
            models: Vec::new(),
            model_index: HashMap::new(),
            join_models: Vec::new(),
        }
    }

    pub fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// Refuses a name that starts with the prefix of the engine's own tables (E0108): a
    /// model, table, join table, index or enum type named so could collide with them.
    pub(crate) fn refuse_reserved(&mut self, name: &str, span: Span, what: &str) {
        if !is_reserved_name(name) {
            return;
        }
        self.report(
            Diagnostic::error(
                "E0108",
                format!("{what} `{name}` starts with `{RESERVED_PREFIX}`, which Tessera keeps for its own tables"),
                span,
            )
            .with_label("reserved prefix")
            .with_help(format!(
                "choose another name; names starting with `{RESERVED_PREFIX}` (in any case) belong to tables such as `_tessera_sessions` and `_tessera_migrations`"
            )),
        );
    }

    fn settings(&mut self) {
        let mut seen = false;
        for item in &self.file.items {
            let Item::Settings(block) = item else {
                continue;
            };
            if seen {
                self.report(
                    Diagnostic::error("E0100", "more than one settings block", block.span)
                        .with_label("second settings block")
                        .with_help("merge the settings into one block"),
                );
                continue;
            }
            seen = true;
            for setting in &block.entries {
                match setting.key.name.as_str() {
                    "naming" => match &setting.value {
                        ast::Value::Ident(v) if v.name == "camelCase" => {
                            self.naming = Naming::CamelCase
                        }
                        ast::Value::Ident(v) if v.name == "snake_case" => {
                            self.naming = Naming::SnakeCase
                        }
                        other => self.report(
                            Diagnostic::error("E0101", "unknown naming convention", other.span())
                                .with_label("expected `camelCase` or `snake_case`")
                                .with_help("write `naming = camelCase` or `naming = snake_case`"),
                        ),
                    },
                    other => self.report(
                        Diagnostic::error(
                            "E0102",
                            format!("unknown setting `{other}`"),
                            setting.key.span,
                        )
                        .with_label("not a setting")
                        .with_help("the only setting is `naming` (camelCase or snake_case)"),
                    ),
                }
            }
        }
    }

    fn collect_names(&mut self) {
        let mut first_seen: HashMap<&str, (Span, &str)> = HashMap::new();
        for item in &self.file.items {
            let (name, kind) = match item {
                Item::Model(m) => (&m.name, "model"),
                Item::Enum(e) => (&e.name, "enum"),
                Item::Settings(_) => continue,
            };
            if let Some((span, first_kind)) = first_seen.get(name.name.as_str()) {
                let message = if *first_kind == kind {
                    format!("duplicate {kind} `{}`", name.name)
                } else {
                    format!(
                        "`{}` is declared both as {first_kind} and as {kind}",
                        name.name
                    )
                };
                self.report(
                    Diagnostic::error("E0103", message, name.span)
                        .with_label("declared again here")
                        .with_related(*span, "first declared here")
                        .with_help("rename one of them; model and enum names share one namespace"),
                );
                continue;
            }
            first_seen.insert(&name.name, (name.span, kind));
            self.refuse_reserved(&name.name, name.span, &format!("{kind} name"));
            if let Item::Model(decl) = item {
                self.model_index
                    .insert(name.name.clone(), self.models.len());
                self.models.push(ModelBuild::new(decl));
            }
        }
    }

    fn enums(&mut self) {
        let mut seen: HashMap<&str, ()> = HashMap::new();
        for item in &self.file.items {
            let Item::Enum(decl) = item else { continue };
            if seen.insert(&decl.name.name, ()).is_some() {
                continue;
            }
            let mut values: Vec<EnumValue> = Vec::new();
            let mut value_spans: HashMap<&str, Span> = HashMap::new();
            for value in &decl.values {
                if let Some(first) = value_spans.get(value.name.name.as_str()) {
                    self.report(
                        Diagnostic::error(
                            "E0104",
                            format!(
                                "duplicate value `{}` in enum `{}`",
                                value.name.name, decl.name.name
                            ),
                            value.name.span,
                        )
                        .with_label("listed again here")
                        .with_related(*first, "first listed here")
                        .with_help("remove the repeated value"),
                    );
                    continue;
                }
                value_spans.insert(&value.name.name, value.name.span);
                values.push(EnumValue {
                    name: value.name.name.clone(),
                    doc: doc(&value.trivia.doc),
                });
            }
            if values.is_empty() {
                self.report(
                    Diagnostic::error(
                        "E0105",
                        format!("enum `{}` has no values", decl.name.name),
                        decl.name.span,
                    )
                    .with_label("empty enum")
                    .with_help(
                        "list the values between the braces: `enum Status { active inactive }`",
                    ),
                );
            }
            let mut db_name = decl.name.name.clone();
            for attribute in &decl.attributes {
                match attribute.name.name.as_str() {
                    "map" => {
                        if let Some(name) = self.single_string(attribute) {
                            self.refuse_reserved(&name, string_span(attribute), "type name");
                            db_name = name;
                        }
                    }
                    _ => self.unknown_attribute(attribute, "an enum", &["map"]),
                }
            }
            self.enum_spans
                .insert(decl.name.name.clone(), decl.name.span);
            self.enums.push(Enum {
                name: decl.name.name.clone(),
                db_name,
                doc: doc(&decl.trivia.doc),
                values,
            });
        }
    }

    pub fn enum_by_name(&self, name: &str) -> Option<&Enum> {
        self.enums.iter().find(|e| e.name == name)
    }

    /// Names similar to `name` among `candidates`, for "did you mean" hints.
    pub fn suggest<'n>(
        name: &str,
        candidates: impl IntoIterator<Item = &'n str>,
    ) -> Option<String> {
        let lower = name.to_lowercase();
        candidates
            .into_iter()
            .map(|c| (strsim::levenshtein(&lower, &c.to_lowercase()), c))
            .filter(|(distance, c)| *distance <= 2.max(c.len() / 4) && *distance < c.len())
            .min_by_key(|(distance, _)| *distance)
            .map(|(_, c)| c.to_string())
    }

    pub fn model_names(&self) -> Vec<&str> {
        self.models
            .iter()
            .map(|m| m.decl.name.name.as_str())
            .collect()
    }

    fn column_collisions(&mut self, index: usize) {
        let mut seen: HashMap<String, String> = HashMap::new();
        let mut problems = Vec::new();
        let build = &self.models[index];
        for field in build.model.stored_fields() {
            if let Some(first) = seen.get(&field.column) {
                let span = build
                    .spans
                    .get(&field.name)
                    .copied()
                    .unwrap_or(build.decl.name.span);
                problems.push(
                    Diagnostic::error(
                        "E0106",
                        format!(
                            "fields `{first}` and `{}` of model `{}` are both stored in column `{}`",
                            field.name, build.model.name, field.column
                        ),
                        span,
                    )
                    .with_label(format!("column `{}` is already used", field.column))
                    .with_help("give one of them another column with `@map(\"column\")`"),
                );
            } else {
                seen.insert(field.column.clone(), field.name.clone());
            }
        }
        self.diagnostics.extend(problems);
    }

    fn finish(mut self) -> (Schema, Vec<Diagnostic>) {
        let mut models: Vec<Model> = self.models.into_iter().map(|b| b.model).collect();
        models.append(&mut self.join_models);
        self.diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
        self.diagnostics.dedup();
        (
            Schema {
                naming: self.naming,
                enums: self.enums,
                models,
            },
            self.diagnostics,
        )
    }
}

impl<'a> ModelBuild<'a> {
    fn new(decl: &'a ModelDecl) -> Self {
        ModelBuild {
            decl,
            model: Model {
                name: decl.name.name.clone(),
                table: decl.name.name.clone(),
                doc: doc(&decl.trivia.doc),
                kind: ModelKind::Declared,
                fields: Vec::new(),
                primary_key: Vec::new(),
                relations: Vec::new(),
                indexes: Vec::new(),
                behaviours: Behaviours::default(),
                renamed_from: None,
                access: Vec::new(),
            },
            spans: HashMap::new(),
            to_one: Vec::new(),
            to_many: Vec::new(),
        }
    }
}

/// Joins documentation lines into one text.
pub(crate) fn doc(lines: &[String]) -> Option<String> {
    if lines.is_empty() {
        None
    } else {
        Some(lines.join("\n"))
    }
}
