//! Declared fields: types, defaults, validations and field behaviours.

use super::{doc, Checker, PendingRelation};
use crate::ast::{Attribute, FieldDecl, TypeExpr, Value};
use crate::diagnostic::Diagnostic;
use crate::ir::*;

/// The scalar type names of the language, for "did you mean" hints.
pub(crate) const SCALAR_TYPES: &[&str] = &[
    "uuid",
    "text",
    "varchar",
    "smallint",
    "int",
    "bigint",
    "serial",
    "bigserial",
    "bool",
    "decimal",
    "float",
    "date",
    "time",
    "timestamp",
    "timestamptz",
    "json",
    "jsonb",
    "bytes",
];

/// Names other languages use for our types.
const TYPE_ALIASES: &[(&str, &str)] = &[
    ("integer", "int"),
    ("int4", "int"),
    ("int8", "bigint"),
    ("int2", "smallint"),
    ("boolean", "bool"),
    ("string", "text"),
    ("character_varying", "varchar"),
    ("datetime", "timestamptz"),
    ("timestamp_with_time_zone", "timestamptz"),
    ("double", "float"),
    ("real", "float"),
    ("numeric", "decimal"),
    ("bytea", "bytes"),
    ("blob", "bytes"),
];

pub(crate) const FIELD_ATTRIBUTES: &[&str] = &[
    "id",
    "unique",
    "index",
    "map",
    "was",
    "trim",
    "lowercase",
    "hash",
    "secret",
    "readonly",
    "allow",
    "internal",
    "virtual",
    "created_at",
    "updated_at",
    "not_empty",
    "len",
    "email",
    "url",
    "pattern",
    "min",
    "max",
    "one_of",
    "copied",
    "default_if",
];

impl<'a> Checker<'a> {
    /// Builds the declared scalar and enum fields of a model and sets its relation fields aside.
    pub(crate) fn declared_fields(&mut self, index: usize) {
        let decl = self.models[index].decl;
        if needs_default_id(decl) {
            let id = Field::implicit_id();
            let build = &mut self.models[index];
            build.model.fields.push(id);
            build.model.primary_key = vec!["id".into()];
            build.spans.insert("id".into(), decl.name.span);
        }
        for field_decl in decl.fields() {
            if let Some(first) = self.models[index].spans.get(&field_decl.name.name).copied() {
                let implicit_id = field_decl.name.name == "id" && first == decl.name.span;
                let mut diagnostic = Diagnostic::error(
                    "E0107",
                    format!(
                        "duplicate field `{}` in model `{}`",
                        field_decl.name.name, decl.name.name
                    ),
                    field_decl.name.span,
                )
                .with_label("declared again here");
                diagnostic = if implicit_id {
                    diagnostic.with_help(
                        "every model gets `id uuid` unless a field is marked `@id`; mark this field `@id` or rename it",
                    )
                } else {
                    diagnostic
                        .with_related(first, "first declared here")
                        .with_help("rename or remove one of the two fields")
                };
                self.report(diagnostic);
                continue;
            }
            self.models[index]
                .spans
                .insert(field_decl.name.name.clone(), field_decl.name.span);
            let position = self.models[index].model.fields.len();
            match &field_decl.ty {
                TypeExpr::Relation { .. } => self.models[index].to_one.push(PendingRelation {
                    decl: field_decl,
                    field_position: position,
                }),
                TypeExpr::Named {
                    name,
                    args,
                    list,
                    optional,
                    span,
                } => {
                    let type_name = name.name.as_str();
                    if let Some(scalar) = self.resolve_scalar(type_name, args, *span) {
                        let ty = FieldType {
                            scalar,
                            array: *list,
                        };
                        if let Some(field) = self.scalar_field(field_decl, ty, *optional) {
                            self.models[index].model.fields.push(field);
                        }
                    } else if self.model_index.contains_key(type_name) {
                        if *list {
                            self.models[index].to_many.push(PendingRelation {
                                decl: field_decl,
                                field_position: position,
                            });
                        } else {
                            self.report(
                                Diagnostic::error(
                                    "E0110",
                                    format!("`{type_name}` is a model; a to-one relation is written with `->`"),
                                    name.span,
                                )
                                .with_label("model used as a field type")
                                .with_help(format!(
                                    "write `{} -> {type_name}{}` for a to-one relation or `{} {type_name}[]` for a to-many one",
                                    field_decl.name.name,
                                    if *optional { "?" } else { "" },
                                    field_decl.name.name
                                )),
                            );
                        }
                    } else if !SCALAR_TYPES.contains(&type_name)
                        && self.enum_by_name(type_name).is_none()
                    {
                        self.unknown_type(name);
                    }
                }
            }
        }
        self.check_computed_parts(index);
    }

    fn unknown_type(&mut self, name: &crate::ast::Ident) {
        let alias = TYPE_ALIASES
            .iter()
            .find(|(alias, _)| alias.eq_ignore_ascii_case(&name.name))
            .map(|(_, ours)| ours.to_string());
        let candidates: Vec<String> = SCALAR_TYPES
            .iter()
            .map(|s| s.to_string())
            .chain(self.enums.iter().map(|e| e.name.clone()))
            .chain(self.models.iter().map(|m| m.decl.name.name.clone()))
            .collect();
        let similar =
            alias.or_else(|| Checker::suggest(&name.name, candidates.iter().map(String::as_str)));
        let help = match similar {
            Some(similar) => format!("did you mean `{similar}`?"),
            None => "use a scalar type (text, int, uuid, timestamptz, ...), an enum declared in this file, or `-> Model` for a relation".into(),
        };
        self.report(
            Diagnostic::error("E0111", format!("unknown type `{}`", name.name), name.span)
                .with_label("not a type, enum or model")
                .with_help(help),
        );
    }

    /// Resolves a scalar or enum type name with its arguments; `None` when it is neither.
    fn resolve_scalar(
        &mut self,
        name: &str,
        args: &[Value],
        span: crate::span::Span,
    ) -> Option<ScalarType> {
        let scalar = match name {
            "uuid" => ScalarType::Uuid,
            "text" => ScalarType::Text,
            "varchar" => match args {
                [] => ScalarType::Text,
                [Value::Number(n, nspan)] => match n.parse::<u32>() {
                    Ok(length) if length > 0 => return Some(ScalarType::Varchar(length)),
                    _ => {
                        self.report(
                            Diagnostic::error("E0112", "invalid varchar length", *nspan)
                                .with_label("expected a positive whole number")
                                .with_help("write `varchar(255)`"),
                        );
                        return Some(ScalarType::Text);
                    }
                },
                _ => {
                    self.report(
                        Diagnostic::error("E0112", "invalid varchar length", span)
                            .with_label("expected one number")
                            .with_help("write `varchar(255)`"),
                    );
                    return Some(ScalarType::Text);
                }
            },
            "decimal" => match args {
                [] => ScalarType::Decimal(None),
                [Value::Number(p, _), Value::Number(s, _)] => {
                    match (p.parse::<u32>(), s.parse::<u32>()) {
                        (Ok(p), Ok(s)) if p > 0 && p <= 1000 && s <= p => {
                            return Some(ScalarType::Decimal(Some((p, s))))
                        }
                        _ => {
                            self.report(
                            Diagnostic::error("E0113", "invalid decimal precision", span)
                                .with_label("precision must be 1 to 1000 and scale at most the precision")
                                .with_help("write `decimal(10, 2)` for 10 digits, 2 after the point"),
                        );
                            return Some(ScalarType::Decimal(None));
                        }
                    }
                }
                _ => {
                    self.report(
                        Diagnostic::error("E0113", "invalid decimal precision", span)
                            .with_label("expected precision and scale")
                            .with_help("write `decimal` or `decimal(10, 2)`"),
                    );
                    return Some(ScalarType::Decimal(None));
                }
            },
            "smallint" => ScalarType::SmallInt,
            "int" => ScalarType::Int,
            "bigint" => ScalarType::BigInt,
            "serial" => ScalarType::Serial,
            "bigserial" => ScalarType::BigSerial,
            "bool" => ScalarType::Bool,
            "float" => ScalarType::Float,
            "date" => ScalarType::Date,
            "time" => ScalarType::Time,
            "timestamp" => ScalarType::Timestamp,
            "timestamptz" => ScalarType::Timestamptz,
            "json" => ScalarType::Json,
            "jsonb" => ScalarType::Jsonb,
            "bytes" => ScalarType::Bytes,
            other => {
                let exists = self.enum_by_name(other).is_some();
                if !exists {
                    return None;
                }
                ScalarType::Enum(other.to_string())
            }
        };
        if !args.is_empty() {
            self.report(
                Diagnostic::error("E0114", format!("type `{name}` takes no arguments"), span)
                    .with_label("unexpected arguments")
                    .with_help(format!("write `{name}` without parentheses")),
            );
        }
        Some(scalar)
    }

    fn scalar_field(&mut self, decl: &FieldDecl, ty: FieldType, nullable: bool) -> Option<Field> {
        let mut field = Field {
            doc: doc(&decl.trivia.doc),
            ..Field::new(decl.name.name.clone(), ty, nullable)
        };
        if let Some(value) = &decl.default {
            field.default = self.default_value(value, &field);
        }
        for attribute in &decl.attributes {
            self.field_attribute(attribute, &mut field, decl);
        }
        if field.computed.is_some() && decl.default.is_some() {
            self.report(
                Diagnostic::error(
                    "E0130",
                    format!("virtual field `{}` cannot have a default", field.name),
                    decl.name.span,
                )
                .with_label("computed on read, never stored")
                .with_help("put the constant into `@virtual(...)` instead"),
            );
        }
        Some(field)
    }

    fn field_attribute(&mut self, attribute: &Attribute, field: &mut Field, decl: &FieldDecl) {
        let name = attribute.name.name.as_str();
        let scalar = field.ty.scalar.clone();
        let textual = scalar.is_textual() && !field.ty.array;
        match name {
            // Keys and indexes are read again by the model passes.
            "id" | "unique" | "index" => self.no_args(attribute),
            "map" => {
                if let Some(column) = self.single_string(attribute) {
                    field.column = column;
                }
            }
            "was" => field.renamed_from = self.single_string(attribute),
            "trim" | "lowercase" => {
                self.no_args(attribute);
                if self.require(textual, attribute, field, "text fields") {
                    field.transforms.push(if name == "trim" {
                        Transform::Trim
                    } else {
                        Transform::Lowercase
                    });
                }
            }
            "hash" => {
                let usage = "`@hash` (argon2id) or `@hash(bcrypt)`";
                let algorithm = match attribute.positional().collect::<Vec<_>>().as_slice() {
                    [] => Some(HashAlgorithm::Argon2id),
                    [Value::Ident(i)] if i.name == "argon2id" => Some(HashAlgorithm::Argon2id),
                    [Value::Ident(i)] if i.name == "bcrypt" => Some(HashAlgorithm::Bcrypt),
                    [other] => {
                        self.wrong_argument(other, attribute, "`argon2id` or `bcrypt`", usage);
                        None
                    }
                    _ => {
                        self.wrong_argument_count(attribute, usage);
                        None
                    }
                };
                if self.require(textual, attribute, field, "text fields") {
                    field.hash = algorithm;
                    field.secret = true;
                }
            }
            "secret" => {
                self.no_args(attribute);
                field.secret = true;
            }
            "readonly" => {
                self.no_args(attribute);
                field.readonly = true;
            }
            "internal" => {
                self.no_args(attribute);
                field.internal = true;
            }
            // Read with the model's access rules, once every relation is known.
            "allow" => {}
            "virtual" => field.computed = self.computed(attribute),
            "created_at" | "updated_at" => {
                self.no_args(attribute);
                if self.require(
                    scalar.is_temporal() && scalar != ScalarType::Time,
                    attribute,
                    field,
                    "date and timestamp fields",
                ) {
                    field.managed = Some(if name == "created_at" {
                        Managed::CreatedAt
                    } else {
                        Managed::UpdatedAt
                    });
                }
            }
            "not_empty" | "email" | "url" => {
                let usage = format!("`@{name}` or `@{name}(\"message\")`");
                let message = self.message_arg(attribute, 0, &usage);
                if self.require(textual, attribute, field, "text fields") {
                    let rule = match name {
                        "not_empty" => Rule::NotEmpty,
                        "email" => Rule::Email,
                        _ => Rule::Url,
                    };
                    field.validations.push(Validation { rule, message });
                }
            }
            "len" => {
                let usage = "`@len(min, max)` or `@len(min, max, \"message\")`";
                let min = self.number_arg(attribute, 0, usage);
                let max = self.number_arg(attribute, 1, usage);
                let message = self.message_arg(attribute, 2, usage);
                if let (Some(min), Some(max)) = (min, max) {
                    if min < 0.0 || max < min || min.fract() != 0.0 || max.fract() != 0.0 {
                        self.report(
                            Diagnostic::error("E0131", "invalid length range", attribute.span)
                                .with_label(format!("{min} to {max} is not a range of lengths"))
                                .with_help("the bounds are whole numbers with 0 <= min <= max"),
                        );
                    } else if self.require(textual, attribute, field, "text fields") {
                        field.validations.push(Validation {
                            rule: Rule::Length {
                                min: Some(min as u64),
                                max: Some(max as u64),
                            },
                            message,
                        });
                    }
                }
            }
            "pattern" => {
                let usage = "`@pattern(\"regex\")` or `@pattern(\"regex\", \"message\")`";
                let positional: Vec<&Value> = attribute.positional().collect();
                let message = self.message_arg(attribute, 1, usage);
                match positional.first() {
                    Some(Value::String(regex, span)) => {
                        if let Err(error) = regex::Regex::new(regex) {
                            let reason = error.to_string();
                            let reason = reason.lines().last().unwrap_or("invalid").trim();
                            let reason =
                                reason.strip_prefix("error: ").unwrap_or(reason).to_string();
                            self.report(
                                Diagnostic::error(
                                    "E0132",
                                    format!("invalid regular expression in `@pattern` of field `{}`", field.name),
                                    *span,
                                )
                                    .with_label(reason)
                                    .with_help("patterns use Rust regex syntax (like PCRE without look-around)"),
                            );
                        } else if self.require(textual, attribute, field, "text fields") {
                            field.validations.push(Validation {
                                rule: Rule::Pattern {
                                    regex: regex.clone(),
                                },
                                message,
                            });
                        }
                    }
                    Some(other) => {
                        self.wrong_argument(other, attribute, "a regular expression string", usage)
                    }
                    None => self.wrong_argument_count(attribute, usage),
                }
            }
            "min" | "max" => {
                let usage = format!("`@{name}(number)` or `@{name}(number, \"message\")`");
                let value = self.number_arg(attribute, 0, &usage);
                let message = self.message_arg(attribute, 1, &usage);
                if let Some(value) = value {
                    if self.require(
                        scalar.is_numeric() && !field.ty.array,
                        attribute,
                        field,
                        "number fields",
                    ) {
                        let rule = if name == "min" {
                            Rule::Min { value }
                        } else {
                            Rule::Max { value }
                        };
                        field.validations.push(Validation { rule, message });
                    }
                }
            }
            "one_of" => {
                let usage = "`@one_of([\"a\", \"b\"])` or `@one_of([\"a\", \"b\"], \"message\")`";
                let message = self.message_arg(attribute, 1, usage);
                let positional: Vec<&Value> = attribute.positional().collect();
                match positional.first() {
                    Some(Value::List(items, _)) => {
                        let mut values = Vec::new();
                        for item in items {
                            match item {
                                Value::String(s, _) => values.push(s.clone()),
                                other => self.wrong_argument(other, attribute, "a string", usage),
                            }
                        }
                        if self.require(textual, attribute, field, "text fields") {
                            field.validations.push(Validation {
                                rule: Rule::OneOf { values },
                                message,
                            });
                        }
                    }
                    Some(other) => {
                        self.wrong_argument(other, attribute, "a list of strings", usage)
                    }
                    None => self.wrong_argument_count(attribute, usage),
                }
            }
            // Read by the publish pass and the conditional-defaults pass.
            "copied" | "default_if" => {}
            "on_delete" | "references" | "unenforced" | "polymorphic" | "relation"
            | "join_table" | "through" => {
                self.report(
                    Diagnostic::error(
                        "E0121",
                        format!("`@{name}` applies to relations, not to the {} field `{}`", field.ty, decl.name.name),
                        attribute.name.span,
                    )
                    .with_label("not a relation")
                    .with_help("relations are written `name -> Model` (to-one) or `name Model[]` (to-many)"),
                );
            }
            _ => self.unknown_attribute(attribute, "a field", FIELD_ATTRIBUTES),
        }
    }

    /// Reports an attribute used on a field it does not apply to.
    fn require(
        &mut self,
        ok: bool,
        attribute: &Attribute,
        field: &Field,
        applies_to: &str,
    ) -> bool {
        if !ok {
            self.report(
                Diagnostic::error(
                    "E0121",
                    format!(
                        "`@{}` cannot be used on field `{}` of type `{}`",
                        attribute.name.name, field.name, field.ty
                    ),
                    attribute.span,
                )
                .with_label(format!(
                    "`@{}` applies to {applies_to} only",
                    attribute.name.name
                ))
                .with_help("remove the attribute or change the field's type"),
            );
        }
        ok
    }

    fn computed(&mut self, attribute: &Attribute) -> Option<Computed> {
        let usage = "`@virtual(true)` or `@virtual(concat(firstName, \" \", lastName))`";
        let positional: Vec<&Value> = attribute.positional().collect();
        match positional.as_slice() {
            [Value::Call { name, args, .. }] if name.name == "concat" => {
                let mut parts = Vec::new();
                for arg in args {
                    match arg {
                        Value::String(text, _) => parts.push(ComputedPart::Text(text.clone())),
                        Value::Ident(field) => parts.push(ComputedPart::Field(field.name.clone())),
                        other => {
                            self.wrong_argument(other, attribute, "a field name or a string", usage)
                        }
                    }
                }
                Some(Computed::Concat(parts))
            }
            [value] => match json_value(value) {
                Ok(json) => Some(Computed::Constant(json)),
                Err(bad) => {
                    self.wrong_argument(bad, attribute, "a constant or `concat(...)`", usage);
                    None
                }
            },
            _ => {
                self.wrong_argument_count(attribute, usage);
                None
            }
        }
    }

    /// The fields named in `concat(...)` must exist in the model.
    fn check_computed_parts(&mut self, index: usize) {
        let build = &self.models[index];
        let mut problems = Vec::new();
        for field_decl in build.decl.fields() {
            for attribute in field_decl
                .attributes
                .iter()
                .filter(|a| a.name.name == "virtual")
            {
                for value in attribute.positional() {
                    let Value::Call { args, .. } = value else {
                        continue;
                    };
                    for arg in args {
                        let Value::Ident(name) = arg else { continue };
                        if build.decl.fields().all(|f| f.name.name != name.name) {
                            problems.push(
                                Diagnostic::error(
                                    "E0133",
                                    format!("unknown field `{}` in `concat`", name.name),
                                    name.span,
                                )
                                .with_label(format!(
                                    "model `{}` has no such field",
                                    build.model.name
                                ))
                                .with_help(
                                    "name a field of this model, or write text in double quotes",
                                ),
                            );
                        }
                    }
                }
            }
        }
        self.diagnostics.extend(problems);
    }

    /// Type-checks a default against its field.
    pub(crate) fn default_value(&mut self, value: &Value, field: &Field) -> Option<DefaultValue> {
        self.literal(value, field, LiteralUse::Default)
    }

    /// Type-checks a literal written for `field`: its default, or a value it is compared with.
    pub(crate) fn literal(
        &mut self,
        value: &Value,
        field: &Field,
        usage: LiteralUse,
    ) -> Option<DefaultValue> {
        let ty = &field.ty;
        let noun = usage.noun();
        let mismatch = |expected: &str| {
            Diagnostic::error(
                "E0115",
                format!(
                    "{noun} of the wrong type for field `{}` of type `{}`",
                    field.name, ty
                ),
                value.span(),
            )
            .with_label(format!("expected {expected}, found {}", value.describe()))
        };
        if let Value::Call { name, args, span } = value {
            if name.name == "random_secret" && usage == LiteralUse::Default {
                return self.random_secret(field, args, *span);
            }
        }
        if matches!(value, Value::Null(_)) {
            if !field.nullable {
                self.report(mismatch("a value").with_help(format!(
                    "`{}` is required; make it optional with `?` or give a non-null default",
                    field.name
                )));
                return None;
            }
            return None;
        }
        if ty.scalar.is_auto_increment() {
            self.report(
                Diagnostic::error(
                    "E0116",
                    format!("`{}` fields are filled from a sequence", ty.scalar),
                    value.span(),
                )
                .with_label("a default is not allowed here")
                .with_help("remove the default, or use `int`/`bigint` if you want a fixed default"),
            );
            return None;
        }
        if ty.array {
            return match value {
                Value::List(items, _) => {
                    let element = Field {
                        ty: FieldType {
                            scalar: ty.scalar.clone(),
                            array: false,
                        },
                        nullable: false,
                        ..field.clone()
                    };
                    let mut out = Vec::new();
                    for item in items {
                        let checked = self.default_value(item, &element)?;
                        if checked == DefaultValue::RandomSecret {
                            self.report(
                                Diagnostic::error(
                                    "E0200",
                                    "`random_secret()` cannot be an element of a list default",
                                    item.span(),
                                )
                                .with_label("a secret fills one text value")
                                .with_help(format!(
                                    "use `random_secret()` on a `text` field, or write the elements of `{}` as strings",
                                    field.name
                                )),
                            );
                            return None;
                        }
                        out.push(default_to_json(&checked));
                    }
                    Some(DefaultValue::Json(serde_json::Value::Array(out)))
                }
                _ => {
                    self.report(
                        mismatch("a list")
                            .with_help("write a list default as `[]` or `[\"a\", \"b\"]`"),
                    );
                    None
                }
            };
        }
        match (&ty.scalar, value) {
            (ScalarType::Json | ScalarType::Jsonb, _) => match json_value(value) {
                Ok(json) => Some(DefaultValue::Json(json)),
                Err(bad) => {
                    self.report(
                        Diagnostic::error("E0115", format!("default of `{}` is not JSON", field.name), bad.span())
                            .with_label("not a JSON value")
                            .with_help("write JSON: `{}`, `[]`, `{ \"key\": \"value\" }`, strings, numbers, true, false or null"),
                    );
                    None
                }
            },
            (ScalarType::Text, Value::String(s, _)) => Some(DefaultValue::String(s.clone())),
            (ScalarType::Varchar(max), Value::String(s, span)) => {
                if s.chars().count() > *max as usize {
                    self.report(
                        Diagnostic::error(
                            "E0115",
                            format!("{noun} of `{}` is longer than {max} characters", field.name),
                            *span,
                        )
                        .with_label("too long for the column")
                        .with_help(format!("shorten the {noun} or widen the varchar")),
                    );
                }
                Some(DefaultValue::String(s.clone()))
            }
            (ScalarType::Uuid, Value::Call { name, args, .. })
                if name.name == "uuid" && args.is_empty() =>
            {
                Some(DefaultValue::GeneratedUuid)
            }
            (ScalarType::Uuid, Value::String(s, span)) => {
                if !is_uuid(s) {
                    self.report(
                        Diagnostic::error(
                            "E0115",
                            format!("{noun} of `{}` is not a UUID", field.name),
                            *span,
                        )
                        .with_label(
                            "expected a UUID such as \"00000000-0000-0000-0000-000000000000\"",
                        )
                        .with_help(match usage {
                            LiteralUse::Default => "write `uuid()` for a generated UUID",
                            LiteralUse::Comparison => "write the UUID in its 8-4-4-4-12 hex form",
                        }),
                    );
                }
                Some(DefaultValue::String(s.clone()))
            }
            (s, Value::Call { name, args, .. })
                if s.is_temporal() && name.name == "now" && args.is_empty() =>
            {
                Some(DefaultValue::Now)
            }
            (s, Value::String(text, _)) if s.is_temporal() => {
                Some(DefaultValue::String(text.clone()))
            }
            (ScalarType::Bool, Value::Bool(b, _)) => Some(DefaultValue::Bool(*b)),
            (s, Value::Number(n, span)) if s.is_numeric() => {
                if s.is_integer() && n.contains('.') {
                    self.report(
                        Diagnostic::error(
                            "E0115",
                            format!("{noun} of integer field `{}` has a fraction", field.name),
                            *span,
                        )
                        .with_label("expected a whole number")
                        .with_help("use a whole number, or make the field `decimal` or `float`"),
                    );
                    return None;
                }
                Some(DefaultValue::Number(n.clone()))
            }
            (ScalarType::Enum(enum_name), Value::Ident(ident)) => {
                let values: Vec<String> = self
                    .enum_by_name(enum_name)
                    .map(|e| e.values.iter().map(|v| v.name.clone()).collect())
                    .unwrap_or_default();
                if values.contains(&ident.name) {
                    Some(DefaultValue::EnumValue(ident.name.clone()))
                } else {
                    let help =
                        match Checker::suggest(&ident.name, values.iter().map(String::as_str)) {
                            Some(similar) => format!("did you mean `{similar}`?"),
                            None => {
                                format!("the values of `{enum_name}` are: {}", values.join(", "))
                            }
                        };
                    self.report(
                        Diagnostic::error(
                            "E0117",
                            format!("`{}` is not a value of enum `{enum_name}`", ident.name),
                            ident.span,
                        )
                        .with_label("unknown enum value")
                        .with_help(help),
                    );
                    None
                }
            }
            (ScalarType::Enum(enum_name), Value::String(s, _)) => {
                self.report(
                    mismatch(&format!("a value of `{enum_name}`")).with_help(format!(
                        "write the value without quotes: `{}`",
                        usage.example(s)
                    )),
                );
                None
            }
            (scalar, _) => {
                let expected = match scalar {
                    ScalarType::Bool => "`true` or `false`".to_string(),
                    ScalarType::Uuid => "`uuid()` or a UUID string".to_string(),
                    s if s.is_temporal() => "`now()` or a date string".to_string(),
                    s if s.is_numeric() => "a number".to_string(),
                    s if s.is_textual() => "a string".to_string(),
                    ScalarType::Enum(e) => format!("a value of `{e}`"),
                    _ => "no default (bytes have no default)".to_string(),
                };
                let mut diagnostic = mismatch(&expected);
                if let (
                    true,
                    Value::Number(n, _) | Value::Ident(crate::ast::Ident { name: n, .. }),
                ) = (scalar.is_textual(), value)
                {
                    diagnostic = diagnostic.with_help(format!(
                        "text {} are quoted: `{}`",
                        usage.plural(),
                        usage.example(&format!("\"{n}\""))
                    ));
                } else if let (ScalarType::Bool, Value::String(s, _)) = (scalar, value) {
                    diagnostic = diagnostic.with_help(format!(
                        "write `{}` without quotes",
                        usage.example(&s.to_lowercase())
                    ));
                } else {
                    diagnostic = diagnostic.with_help(match usage {
                        LiteralUse::Default => {
                            format!("give `{}` a default of type `{}`", field.name, ty)
                        }
                        LiteralUse::Comparison => {
                            format!("compare `{}` with a value of type `{}`", field.name, ty)
                        }
                    });
                }
                self.report(diagnostic);
                None
            }
        }
    }
}

/// What a literal checked by [`Checker::literal`] is written for, so its diagnostics can say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LiteralUse {
    /// `= value` or the value of `@default_if`.
    Default,
    /// The right-hand side of a condition such as `provider != "local"`.
    Comparison,
}

impl LiteralUse {
    fn noun(self) -> &'static str {
        match self {
            LiteralUse::Default => "default",
            LiteralUse::Comparison => "compared value",
        }
    }

    fn plural(self) -> &'static str {
        match self {
            LiteralUse::Default => "defaults",
            LiteralUse::Comparison => "values",
        }
    }

    /// How `text` is written in this position: `= text` for a default.
    fn example(self, text: &str) -> String {
        match self {
            LiteralUse::Default => format!("= {text}"),
            LiteralUse::Comparison => text.to_string(),
        }
    }
}

impl Checker<'_> {
    /// `random_secret()` as the default of `field`: generated text, so only for text fields.
    fn random_secret(
        &mut self,
        field: &Field,
        args: &[Value],
        span: crate::span::Span,
    ) -> Option<DefaultValue> {
        if !field.ty.scalar.is_textual() || field.ty.array {
            self.report(
                Diagnostic::error(
                    "E0200",
                    format!(
                        "`random_secret()` generates text; field `{}` is `{}`",
                        field.name, field.ty
                    ),
                    span,
                )
                .with_label("only for `text` and `varchar(n)` fields")
                .with_help(format!(
                    "make `{}` a `text` field, or give it a default of type `{}`",
                    field.name, field.ty
                )),
            );
            return None;
        }
        if !args.is_empty() {
            self.report(
                Diagnostic::error(
                    "E0123",
                    "wrong number of arguments for `random_secret()`",
                    span,
                )
                .with_label("`random_secret()` takes no arguments")
                .with_help("write `random_secret()`: 32 random bytes, base64url-encoded"),
            );
            return None;
        }
        if let ScalarType::Varchar(max) = field.ty.scalar {
            if max < RANDOM_SECRET_LENGTH {
                self.report(
                    Diagnostic::error(
                        "E0200",
                        format!(
                            "`random_secret()` is {RANDOM_SECRET_LENGTH} characters long; field `{}` holds at most {max}",
                            field.name
                        ),
                        span,
                    )
                    .with_label("the secret does not fit the column")
                    .with_help(format!(
                        "widen the field to `varchar({RANDOM_SECRET_LENGTH})` or make it `text`"
                    )),
                );
                return None;
            }
        }
        Some(DefaultValue::RandomSecret)
    }
}

/// The length of a `random_secret()`: 32 bytes in unpadded base64url.
const RANDOM_SECRET_LENGTH: u32 = 43;

/// Whether a model gets the implicit `id uuid` key: it declares no key of its own.
fn needs_default_id(decl: &crate::ast::ModelDecl) -> bool {
    let field_key = decl
        .fields()
        .any(|f| f.attributes.iter().any(|a| a.name.name == "id"));
    let model_key = decl.attributes().any(|a| a.name.name == "id");
    !field_key && !model_key
}

pub(crate) fn is_uuid(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let lengths = [8, 4, 4, 4, 12];
    parts.len() == 5
        && parts
            .iter()
            .zip(lengths)
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The JSON equivalent of a literal value, or the sub-value that is not JSON.
pub(crate) fn json_value(value: &Value) -> Result<serde_json::Value, &Value> {
    Ok(match value {
        Value::String(s, _) => serde_json::Value::String(s.clone()),
        Value::Number(n, _) => match serde_json::from_str::<serde_json::Number>(n) {
            Ok(number) => serde_json::Value::Number(number),
            Err(_) => return Err(value),
        },
        Value::Bool(b, _) => serde_json::Value::Bool(*b),
        Value::Null(_) => serde_json::Value::Null,
        Value::List(items, _) => {
            serde_json::Value::Array(items.iter().map(json_value).collect::<Result<_, _>>()?)
        }
        Value::Object(entries, _) => {
            let mut map = serde_json::Map::new();
            for (key, _, v) in entries {
                map.insert(key.clone(), json_value(v)?);
            }
            serde_json::Value::Object(map)
        }
        Value::Ident(_)
        | Value::Path(..)
        | Value::Call { .. }
        | Value::Compare { .. }
        | Value::Logic { .. }
        | Value::Not(..)
        | Value::Group(..)
        | Value::Quantified { .. } => return Err(value),
    })
}

fn default_to_json(value: &DefaultValue) -> serde_json::Value {
    match value {
        DefaultValue::String(s) | DefaultValue::EnumValue(s) => {
            serde_json::Value::String(s.clone())
        }
        DefaultValue::Number(n) => serde_json::from_str(n).unwrap_or(serde_json::Value::Null),
        DefaultValue::Bool(b) => serde_json::Value::Bool(*b),
        DefaultValue::Json(j) => j.clone(),
        DefaultValue::Now | DefaultValue::GeneratedUuid | DefaultValue::RandomSecret => {
            serde_json::Value::Null
        }
    }
}
