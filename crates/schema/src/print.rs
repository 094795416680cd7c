//! The printer: turns a [`Schema`] back into schema text (through the syntax tree and the
//! formatter), so importers can produce schemas that read as if written by hand. Checking
//! the printed text gives back an equivalent schema.

use crate::ast::*;
use crate::format::format_file;
use crate::ir::{
    self, Comparison, Computed, ComputedPart, Condition, DefaultValue, Managed, ModelKind, Naming,
    Operand, Operation, Quantifier, RelationKind, Rule, RuleOp, ScalarType,
};
use crate::span::Span;

pub fn print_schema(schema: &ir::Schema) -> String {
    let mut items = Vec::new();
    if schema.naming != Naming::default() {
        items.push(Item::Settings(SettingsBlock {
            trivia: Trivia::default(),
            entries: vec![Setting {
                trivia: Trivia::default(),
                key: ident("naming"),
                value: Value::Ident(ident("snake_case")),
            }],
            closing: Trivia::default(),
            span: Span::default(),
        }));
    }
    for e in &schema.enums {
        items.push(Item::Enum(print_enum(e)));
    }
    for model in schema
        .models
        .iter()
        .filter(|m| m.kind == ModelKind::Declared)
    {
        items.push(Item::Model(print_model(schema, model)));
    }
    format_file(&SchemaFile {
        items,
        trailing_comments: Trivia::default(),
    })
}

fn ident(name: &str) -> Ident {
    Ident {
        name: name.to_string(),
        span: Span::default(),
    }
}

fn doc_trivia(doc: &Option<String>) -> Trivia {
    Trivia {
        doc: doc
            .as_ref()
            .map(|d| d.lines().map(str::to_string).collect())
            .unwrap_or_default(),
        ..Trivia::default()
    }
}

fn string(text: &str) -> Value {
    Value::String(text.to_string(), Span::default())
}

fn number(n: f64) -> Value {
    Value::Number(format_number(n), Span::default())
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

fn attribute(name: &str, args: Vec<Arg>) -> Attribute {
    Attribute {
        trivia: Trivia::default(),
        name: ident(name),
        parens: !args.is_empty(),
        args,
        span: Span::default(),
    }
}

fn positional(value: Value) -> Arg {
    Arg {
        name: None,
        value,
        span: Span::default(),
    }
}

fn named(name: &str, value: Value) -> Arg {
    Arg {
        name: Some(ident(name)),
        value,
        span: Span::default(),
    }
}

fn print_enum(e: &ir::Enum) -> EnumDecl {
    let has_docs = e.values.iter().any(|v| v.doc.is_some());
    let attributes = if e.db_name != e.name {
        vec![attribute("map", vec![positional(string(&e.db_name))])]
    } else {
        Vec::new()
    };
    EnumDecl {
        trivia: doc_trivia(&e.doc),
        name: ident(&e.name),
        values: e
            .values
            .iter()
            .map(|v| EnumValueDecl {
                trivia: doc_trivia(&v.doc),
                name: ident(&v.name),
            })
            .collect(),
        attributes,
        closing: Trivia::default(),
        single_line: !has_docs,
        span: Span::default(),
    }
}

fn json_to_value(json: &serde_json::Value) -> Value {
    let span = Span::default();
    match json {
        serde_json::Value::Null => Value::Null(span),
        serde_json::Value::Bool(b) => Value::Bool(*b, span),
        serde_json::Value::Number(n) => Value::Number(n.to_string(), span),
        serde_json::Value::String(s) => Value::String(s.clone(), span),
        serde_json::Value::Array(items) => {
            Value::List(items.iter().map(json_to_value).collect(), span)
        }
        serde_json::Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), span, json_to_value(v)))
                .collect(),
            span,
        ),
    }
}

fn call(name: &str, args: Vec<Value>) -> Value {
    Value::Call {
        name: ident(name),
        args,
        span: Span::default(),
    }
}

fn default_value(default: &DefaultValue) -> Value {
    match default {
        DefaultValue::String(s) => string(s),
        DefaultValue::Number(n) => Value::Number(n.clone(), Span::default()),
        DefaultValue::Bool(b) => Value::Bool(*b, Span::default()),
        DefaultValue::EnumValue(v) => Value::Ident(ident(v)),
        DefaultValue::Json(j) => json_to_value(j),
        DefaultValue::Now => call("now", Vec::new()),
        DefaultValue::GeneratedUuid => call("uuid", Vec::new()),
        DefaultValue::RandomSecret => call("random_secret", Vec::new()),
    }
}

fn scalar_type(ty: &ir::FieldType, optional: bool) -> TypeExpr {
    let (name, args) = match &ty.scalar {
        ScalarType::Varchar(n) => (
            "varchar".to_string(),
            vec![Value::Number(n.to_string(), Span::default())],
        ),
        ScalarType::Decimal(Some((p, s))) => (
            "decimal".to_string(),
            vec![
                Value::Number(p.to_string(), Span::default()),
                Value::Number(s.to_string(), Span::default()),
            ],
        ),
        ScalarType::Decimal(None) => ("decimal".to_string(), Vec::new()),
        other => (other.to_string(), Vec::new()),
    };
    TypeExpr::Named {
        name: ident(&name),
        args,
        list: ty.array,
        optional,
        span: Span::default(),
    }
}

/// Whether the model's key is the implicit `id uuid`.
fn has_implicit_key(model: &ir::Model) -> bool {
    model.primary_key.len() == 1
        && model
            .field(&model.primary_key[0])
            .is_some_and(|f| f.implicit && f.relation.is_none())
}

/// Fields added by a behaviour and re-created by its model attribute.
fn is_behaviour_field(field: &ir::Field) -> bool {
    field.implicit && field.managed.is_some()
}

fn field_attributes(
    schema: &ir::Schema,
    model: &ir::Model,
    field: &ir::Field,
    single_key: bool,
) -> Vec<Attribute> {
    let mut attributes = Vec::new();
    if single_key && model.primary_key == [field.name.clone()] {
        attributes.push(attribute("id", Vec::new()));
    }
    for index in &model.indexes {
        if is_simple_index(model, index) && index.fields[0].field == field.name {
            attributes.push(attribute(
                if index.unique { "unique" } else { "index" },
                Vec::new(),
            ));
        }
    }
    if field.column != field.name {
        attributes.push(attribute("map", vec![positional(string(&field.column))]));
    }
    if let Some(old) = &field.renamed_from {
        attributes.push(attribute("was", vec![positional(string(old))]));
    }
    for transform in &field.transforms {
        let name = match transform {
            ir::Transform::Trim => "trim",
            ir::Transform::Lowercase => "lowercase",
        };
        attributes.push(attribute(name, Vec::new()));
    }
    match field.hash {
        Some(ir::HashAlgorithm::Argon2id) => attributes.push(attribute("hash", Vec::new())),
        Some(ir::HashAlgorithm::Bcrypt) => attributes.push(attribute(
            "hash",
            vec![positional(Value::Ident(ident("bcrypt")))],
        )),
        None if field.secret => attributes.push(attribute("secret", Vec::new())),
        None => {}
    }
    if let Some(log) = &model.behaviours.publish_log {
        for count in log.counts.iter().filter(|c| c.field == field.name) {
            attributes.push(attribute(
                "copied",
                vec![positional(Value::Ident(ident(&count.model)))],
            ));
        }
    }
    if field.readonly {
        attributes.push(attribute("readonly", Vec::new()));
    }
    if field.internal {
        attributes.push(attribute("internal", Vec::new()));
    }
    attributes.extend(rule_attributes(
        schema,
        model,
        &field.access,
        &Operation::OF_FIELDS,
    ));
    match field.managed {
        Some(Managed::CreatedAt) if model.behaviours.created_at.as_deref() == Some(&field.name) => {
            attributes.push(attribute("created_at", Vec::new()))
        }
        Some(Managed::UpdatedAt) if model.behaviours.updated_at.as_deref() == Some(&field.name) => {
            attributes.push(attribute("updated_at", Vec::new()))
        }
        _ => {}
    }
    if let Some(computed) = &field.computed {
        let value = match computed {
            Computed::Constant(json) => json_to_value(json),
            Computed::Concat(parts) => call(
                "concat",
                parts
                    .iter()
                    .map(|p| match p {
                        ComputedPart::Text(t) => string(t),
                        ComputedPart::Field(f) => Value::Ident(ident(f)),
                    })
                    .collect(),
            ),
        };
        attributes.push(attribute("virtual", vec![positional(value)]));
    }
    for validation in &field.validations {
        let mut args = match &validation.rule {
            Rule::NotEmpty | Rule::Email | Rule::Url => Vec::new(),
            Rule::Length { min, max } => vec![
                positional(number(min.unwrap_or(0) as f64)),
                positional(number(max.unwrap_or(u32::MAX as u64) as f64)),
            ],
            Rule::Pattern { regex } => vec![positional(string(regex))],
            Rule::Min { value } | Rule::Max { value } => vec![positional(number(*value))],
            Rule::OneOf { values } => vec![positional(Value::List(
                values.iter().map(|v| string(v)).collect(),
                Span::default(),
            ))],
        };
        if let Some(message) = &validation.message {
            args.push(positional(string(message)));
        }
        attributes.push(attribute(validation.rule.name(), args));
    }
    for conditional in &field.conditional_defaults {
        let condition = Value::Compare {
            left: Box::new(Value::Ident(ident(&conditional.when.field))),
            op: match conditional.when.comparison {
                Comparison::Equal => CompareOp::Equal,
                Comparison::NotEqual => CompareOp::NotEqual,
            },
            right: Box::new(default_value(&conditional.when.value)),
            span: Span::default(),
        };
        attributes.push(attribute(
            "default_if",
            vec![
                positional(condition),
                positional(default_value(&conditional.value)),
            ],
        ));
    }
    attributes
}

/// A simple index whose field is printed as a field line, so it appears there as
/// `@unique`/`@index` (fields added by behaviours are not printed; their indexes stay
/// model attributes).
fn is_printed_on_field(model: &ir::Model, index: &ir::Index) -> bool {
    if !is_simple_index(model, index) {
        return false;
    }
    let Some(field) = model.field(&index.fields[0].field) else {
        return false;
    };
    if !field.implicit {
        return true;
    }
    // A foreign key: its relation line carries `@index`, and `@unique` when the relation is.
    !index.unique && field.relation.is_some() && relation_name_for(model, &field.name).is_some()
}

/// A default-named single-field index without a condition, printed as `@unique`/`@index`.
fn is_simple_index(model: &ir::Model, index: &ir::Index) -> bool {
    if index.fields.len() != 1 || index.where_not_deleted || index.fields[0].descending {
        return false;
    }
    let Some(field) = model.field(&index.fields[0].field) else {
        return false;
    };
    let generated = crate::checker::index_name(
        &model.table,
        std::slice::from_ref(&field.column),
        index.unique,
    );
    index.name == generated && model.behaviours.import_hash.as_deref() != Some(&field.name)
}

fn print_model(schema: &ir::Schema, model: &ir::Model) -> ModelDecl {
    let mut members = Vec::new();
    let mut model_attributes = Vec::new();
    if model.table != model.name {
        model_attributes.push(attribute("map", vec![positional(string(&model.table))]));
    }
    if let Some(old) = &model.renamed_from {
        model_attributes.push(attribute("was", vec![positional(string(old))]));
    }
    let b = &model.behaviours;
    let implicit = |name: &Option<String>| {
        name.as_ref()
            .and_then(|n| model.field(n))
            .is_some_and(|f| f.implicit)
    };
    // Behaviours add their fields in the order their attributes are written; print them in
    // the order of those fields so that checking the printed text adds them in place.
    let position = |name: Option<&String>| {
        name.and_then(|n| model.fields.iter().position(|f| &f.name == n))
            .unwrap_or(usize::MAX)
    };
    let mut behaviours: Vec<(usize, Attribute)> = Vec::new();
    if b.soft_delete.is_some() {
        behaviours.push((
            position(b.soft_delete.as_ref()),
            attribute("soft_delete", Vec::new()),
        ));
    }
    if b.hard_delete {
        behaviours.push((usize::MAX, attribute("hard_delete", Vec::new())));
    }
    if implicit(&b.created_at) && implicit(&b.updated_at) {
        behaviours.push((
            position(b.created_at.as_ref()),
            attribute("timestamps", Vec::new()),
        ));
    }
    if b.import_hash.is_some() {
        behaviours.push((
            position(b.import_hash.as_ref()),
            attribute("import_hash", Vec::new()),
        ));
    }
    let actor_target = b
        .created_by
        .as_ref()
        .and_then(|r| model.relation(r))
        .and_then(|r| match &r.kind {
            RelationKind::ToOne { target, field, .. }
                if model.field(field).is_some_and(|f| f.implicit) =>
            {
                Some((target.clone(), field.clone()))
            }
            _ => None,
        });
    if let Some((target, field)) = &actor_target {
        behaviours.push((
            position(Some(field)),
            attribute("actors", vec![positional(Value::Ident(ident(target)))]),
        ));
    }
    behaviours.sort_by_key(|(key, _)| *key);
    model_attributes.extend(behaviours.into_iter().map(|(_, a)| a));
    model_attributes.extend(publishing_attributes(model));
    let single_key = model.primary_key.len() == 1 && !has_implicit_key(model);
    if model.primary_key.len() > 1 {
        let names = model
            .primary_key
            .iter()
            .map(|f| {
                Value::Ident(ident(
                    &relation_name_for(model, f).unwrap_or_else(|| f.clone()),
                ))
            })
            .collect();
        model_attributes.push(attribute(
            "id",
            vec![positional(Value::List(names, Span::default()))],
        ));
    }
    for index in &model.indexes {
        if is_printed_on_field(model, index)
            || is_relation_unique(model, index)
            || is_import_hash_index(model, index)
        {
            continue;
        }
        let fields = index
            .fields
            .iter()
            .map(|f| {
                let name = relation_name_for(model, &f.field).unwrap_or_else(|| f.field.clone());
                if f.descending {
                    call(&name, vec![Value::Ident(ident("desc"))])
                } else {
                    Value::Ident(ident(&name))
                }
            })
            .collect();
        let mut args = vec![positional(Value::List(fields, Span::default()))];
        if index.where_not_deleted {
            args.push(named("where", Value::Ident(ident("not_deleted"))));
        }
        let columns: Vec<String> = index
            .fields
            .iter()
            .map(|f| {
                model
                    .field(&f.field)
                    .map_or_else(|| f.field.clone(), |field| field.column.clone())
            })
            .collect();
        if index.name != crate::checker::index_name(&model.table, &columns, index.unique) {
            args.push(named("name", string(&index.name)));
        }
        model_attributes.push(attribute(
            if index.unique { "unique" } else { "index" },
            args,
        ));
    }
    model_attributes.extend(identity_attribute(model));
    model_attributes.extend(rule_attributes(
        schema,
        model,
        &model.access,
        &Operation::ALL,
    ));
    members.extend(model_attributes.into_iter().map(Member::Attribute));
    let mut printed_relations = std::collections::HashSet::new();
    for field in &model.fields {
        if is_behaviour_field(field) || (field.implicit && field.relation.is_none()) {
            continue;
        }
        if field.implicit {
            // A foreign-key field: print its relation in its place.
            let Some(relation) = field.relation.as_ref().and_then(|r| model.relation(r)) else {
                continue;
            };
            if printed_relations.insert(relation.name.clone()) {
                if let Some(member) = print_to_one(schema, model, relation, single_key) {
                    members.push(Member::Field(member));
                }
            }
            continue;
        }
        members.push(Member::Field(FieldDecl {
            trivia: doc_trivia(&field.doc),
            name: ident(&field.name),
            ty: scalar_type(&field.ty, field.nullable),
            default: field
                .default
                .as_ref()
                .filter(|_| field.computed.is_none())
                .map(default_value),
            attributes: field_attributes(schema, model, field, single_key),
            span: Span::default(),
        }));
    }
    for relation in &model.relations {
        if printed_relations.contains(&relation.name) {
            continue;
        }
        let is_actor = actor_target.is_some()
            && (b.created_by.as_deref() == Some(&relation.name)
                || b.updated_by.as_deref() == Some(&relation.name));
        if is_actor {
            continue;
        }
        let member = match &relation.kind {
            RelationKind::ToOne { .. } | RelationKind::Polymorphic { .. } => {
                print_to_one(schema, model, relation, single_key)
            }
            RelationKind::ToMany { target, via, role } => {
                let mut args = vec![positional(Value::Ident(ident(via)))];
                if let Some(role) = role {
                    args.push(named("role", string(role)));
                }
                let needs_name = role.is_some() || relations_to(schema, target, &model.name) > 1;
                Some(list_field(
                    relation,
                    target,
                    if needs_name {
                        vec![attribute("relation", args)]
                    } else {
                        Vec::new()
                    },
                ))
            }
            RelationKind::ManyToMany {
                target,
                join_model,
                from,
                to,
            } => {
                let implicit_join = schema
                    .model(join_model)
                    .is_some_and(|m| m.kind == ModelKind::JoinTable);
                let attributes = if implicit_join {
                    vec![attribute(
                        "join_table",
                        vec![positional(string(join_model))],
                    )]
                } else {
                    vec![attribute(
                        "through",
                        vec![
                            positional(Value::Ident(ident(join_model))),
                            named("from", Value::Ident(ident(from))),
                            named("to", Value::Ident(ident(to))),
                        ],
                    )]
                };
                Some(list_field(relation, target, attributes))
            }
        };
        if let Some(member) = member {
            members.push(Member::Field(member));
        }
    }
    ModelDecl {
        trivia: doc_trivia(&model.doc),
        name: ident(&model.name),
        members,
        closing: Trivia::default(),
        span: Span::default(),
    }
}

fn list_field(relation: &ir::Relation, target: &str, attributes: Vec<Attribute>) -> FieldDecl {
    FieldDecl {
        trivia: doc_trivia(&relation.doc),
        name: ident(&relation.name),
        ty: TypeExpr::Named {
            name: ident(target),
            args: Vec::new(),
            list: true,
            optional: false,
            span: Span::default(),
        },
        default: None,
        attributes,
        span: Span::default(),
    }
}

fn relations_to(schema: &ir::Schema, from: &str, to: &str) -> usize {
    schema.model(from).map_or(0, |m| {
        m.relations
            .iter()
            .filter(|r| match &r.kind {
                RelationKind::ToOne { target, .. } => target == to,
                RelationKind::Polymorphic { targets, .. } => targets.iter().any(|t| t == to),
                _ => false,
            })
            .count()
    })
}

/// The to-one relation whose implicit foreign key is `field`.
fn relation_name_for(model: &ir::Model, field: &str) -> Option<String> {
    let f = model.field(field)?;
    if !f.implicit {
        return None;
    }
    model.relations.iter().find_map(|r| match &r.kind {
        RelationKind::ToOne { field: fk, .. } if fk == field => Some(r.name.clone()),
        _ => None,
    })
}

fn is_relation_unique(model: &ir::Model, index: &ir::Index) -> bool {
    index.unique
        && index.fields.len() == 1
        && !index.where_not_deleted
        && model.relations.iter().any(|r| matches!(&r.kind, RelationKind::ToOne { field, unique: true, .. } if *field == index.fields[0].field))
        && relation_name_for(model, &index.fields[0].field).is_some()
}

fn is_import_hash_index(model: &ir::Model, index: &ir::Index) -> bool {
    index.unique
        && index.fields.len() == 1
        && model.behaviours.import_hash.as_deref() == Some(&index.fields[0].field)
}

fn print_to_one(
    schema: &ir::Schema,
    model: &ir::Model,
    relation: &ir::Relation,
    single_key: bool,
) -> Option<FieldDecl> {
    let naming = schema.naming;
    match &relation.kind {
        RelationKind::ToOne {
            target,
            field,
            references,
            on_delete,
            unique,
            enforced,
            ..
        } => {
            let fk = model.field(field)?;
            let nullable = fk.nullable;
            let mut attributes = Vec::new();
            if single_key && model.primary_key == [field.clone()] {
                attributes.push(attribute("id", Vec::new()));
            }
            let default_action = if nullable {
                ir::OnDelete::SetNull
            } else {
                ir::OnDelete::Restrict
            };
            if *on_delete != default_action {
                attributes.push(attribute(
                    "on_delete",
                    vec![positional(Value::Ident(ident(on_delete.keyword())))],
                ));
            }
            if fk.column != naming.foreign_key(&relation.name) {
                attributes.push(attribute("map", vec![positional(string(&fk.column))]));
            }
            let target_key = schema
                .model(target)
                .and_then(|t| (t.primary_key.len() == 1).then(|| t.primary_key[0].clone()));
            if target_key.as_deref() != Some(references) {
                attributes.push(attribute(
                    "references",
                    vec![positional(Value::Ident(ident(references)))],
                ));
            }
            if *unique {
                attributes.push(attribute("unique", Vec::new()));
            }
            if !enforced {
                attributes.push(attribute("unenforced", Vec::new()));
            }
            attributes.extend(rule_attributes(
                schema,
                model,
                &fk.access,
                &Operation::OF_FIELDS,
            ));
            for index in &model.indexes {
                if is_simple_index(model, index) && !index.unique && index.fields[0].field == *field
                {
                    attributes.push(attribute("index", Vec::new()));
                }
            }
            Some(FieldDecl {
                trivia: doc_trivia(&relation.doc),
                name: ident(&relation.name),
                ty: TypeExpr::Relation {
                    targets: vec![ident(target)],
                    optional: nullable,
                    span: Span::default(),
                },
                default: None,
                attributes,
                span: Span::default(),
            })
        }
        RelationKind::Polymorphic {
            targets,
            type_field,
            id_field,
            role_field,
        } => {
            let type_column = model.field(type_field)?.column.clone();
            let id_column = model.field(id_field)?.column.clone();
            let nullable = model.field(id_field)?.nullable;
            let mut args = Vec::new();
            if type_column != naming.join(&[&relation.name, "type"]) {
                args.push(named("type", string(&type_column)));
            }
            if id_column != naming.foreign_key(&relation.name) {
                args.push(named("id", string(&id_column)));
            }
            if let Some(role) = role_field.as_ref().and_then(|r| model.field(r)) {
                args.push(named("role", string(&role.column)));
            }
            let attributes = if args.is_empty() {
                Vec::new()
            } else {
                vec![attribute("polymorphic", args)]
            };
            Some(FieldDecl {
                trivia: doc_trivia(&relation.doc),
                name: ident(&relation.name),
                ty: TypeExpr::Relation {
                    targets: targets.iter().map(|t| ident(t)).collect(),
                    optional: nullable,
                    span: Span::default(),
                },
                default: None,
                attributes,
                span: Span::default(),
            })
        }
        _ => None,
    }
}

/// `@@environment(...)` and `@@publish_log(...)`, with only the non-default names spelled out.
fn publishing_attributes(model: &ir::Model) -> Vec<Attribute> {
    let mut attributes = Vec::new();
    let name = |text: &str| Value::Ident(ident(text));
    if let Some(scope) = &model.behaviours.environment {
        let mut args = vec![
            positional(name(&scope.field)),
            named("scope", name(&scope.scope)),
        ];
        if let Some(lineage) = &scope.lineage {
            args.push(named("lineage", name(lineage)));
        }
        attributes.push(attribute("environment", args));
    }
    if let Some(log) = &model.behaviours.publish_log {
        let mut args = vec![named("scope", name(&log.scope))];
        if let Some(actor) = &log.actor {
            args.push(named("actor", name(actor)));
        }
        let fields = [
            ("from", &log.from_field, "from_environment"),
            ("to", &log.to_field, "to_environment"),
            ("status", &log.status_field, "status"),
            ("started", &log.started_field, "started_at"),
            ("finished", &log.finished_field, "finished_at"),
            ("error", &log.error_field, "error_message"),
        ];
        for (key, field, default) in fields {
            if field != default {
                args.push(named(key, name(field)));
            }
        }
        attributes.push(attribute("publish_log", args));
    }
    attributes
}

/// `@@auth(...)` with the arguments that are set.
fn identity_attribute(model: &ir::Model) -> Option<Attribute> {
    let identity = model.behaviours.identity.as_ref()?;
    let name = |text: &str| Value::Ident(ident(text));
    let mut args = vec![
        named("email", name(&identity.email)),
        named("password", name(&identity.password)),
    ];
    if let Some(disabled) = &identity.disabled {
        args.push(named("disabled", name(disabled)));
    }
    if !identity.signup_fields.is_empty() {
        let fields = identity.signup_fields.iter().map(|f| name(f)).collect();
        args.push(named("signup", Value::List(fields, Span::default())));
    }
    match &identity.registration {
        ir::Registration::Open => {}
        ir::Registration::Closed => args.push(named("registration", name("closed"))),
        ir::Registration::Invited { model, field } => args.push(named(
            "registration",
            call(
                "invited",
                vec![Value::Path(
                    vec![ident(model), ident(field)],
                    Span::default(),
                )],
            ),
        )),
    }
    Some(attribute("auth", args))
}

/// One `@@allow(...)` (or, on a field, `@allow(...)`) per access rule of `model` or one of
/// its fields, in order; `all` for a rule of every operation in `every`.
fn rule_attributes(
    schema: &ir::Schema,
    model: &ir::Model,
    rules: &[ir::AccessRule],
    every: &[Operation],
) -> Vec<Attribute> {
    let account_model = schema.identity_model().map(|(m, _)| m);
    rules
        .iter()
        .map(|rule| {
            let every = every.iter().all(|op| rule.operations.contains(op));
            let operations = match rule.operations.as_slice() {
                _ if every => Value::Ident(ident("all")),
                [single] => Value::Ident(ident(single.keyword())),
                several => Value::List(
                    several
                        .iter()
                        .map(|op| Value::Ident(ident(op.keyword())))
                        .collect(),
                    Span::default(),
                ),
            };
            let condition = condition_value(schema, model, account_model, &rule.condition);
            attribute("allow", vec![positional(operations), positional(condition)])
        })
        .collect()
}

/// An access condition of a rule on `model`, written as the schema writes it
/// (`members.some(user == auth) || auth.role == admin`).
pub fn print_condition(schema: &ir::Schema, model: &ir::Model, condition: &Condition) -> String {
    let account_model = schema.identity_model().map(|(m, _)| m);
    crate::format::value(
        &condition_value(schema, model, account_model, condition),
        "",
    )
}

/// An access condition as the schema writes it, parenthesized where `&&`, `||` and `!`
/// would otherwise bind differently.
fn condition_value(
    schema: &ir::Schema,
    model: &ir::Model,
    account_model: Option<&ir::Model>,
    condition: &Condition,
) -> Value {
    let nested = |condition: &Condition, at: &ir::Model| {
        condition_value(schema, at, account_model, condition)
    };
    let group = |value: Value| match value {
        Value::Logic { .. } | Value::Compare { .. } => {
            Value::Group(Box::new(value), Span::default())
        }
        other => other,
    };
    let operand = |operand: &Operand, at: &ir::Model| match operand {
        Operand::Field { name } => Value::Ident(ident(&reference_name(at, name))),
        Operand::Auth => Value::Ident(ident("auth")),
        Operand::AccountField { name } => account_path(account_model, name),
        Operand::RequestTenant => {
            Value::Path(vec![ident("request"), ident("tenant")], Span::default())
        }
        Operand::Value { value } => default_value(value),
        Operand::Null => Value::Null(Span::default()),
    };
    match condition {
        Condition::Public => Value::Ident(ident("public")),
        Condition::Authenticated => Value::Ident(ident("authenticated")),
        Condition::All { conditions } | Condition::Any { conditions } => {
            let and = matches!(condition, Condition::All { .. });
            let operands = conditions
                .iter()
                .map(|c| match nested(c, model) {
                    // `a && (b || c)`; `a || b && c` needs no parentheses, but they help.
                    v @ Value::Logic { .. } => Value::Group(Box::new(v), Span::default()),
                    v => v,
                })
                .collect();
            Value::Logic {
                op: if and { LogicOp::And } else { LogicOp::Or },
                operands,
                span: Span::default(),
            }
        }
        Condition::Not { condition } => match condition.as_ref() {
            // `!x.some(c)` reads as `x.none(c)`.
            Condition::Related {
                quantifier: Quantifier::Some,
                ..
            } => related_value(schema, model, account_model, condition, "none", Vec::new()),
            inner => Value::Not(Box::new(group(nested(inner, model))), Span::default()),
        },
        Condition::Compare { left, op, right } => Value::Compare {
            left: Box::new(operand(left, model)),
            op: match op {
                RuleOp::Equal => CompareOp::Equal,
                RuleOp::NotEqual => CompareOp::NotEqual,
                RuleOp::Less => CompareOp::Less,
                RuleOp::LessOrEqual => CompareOp::LessOrEqual,
                RuleOp::Greater => CompareOp::Greater,
                RuleOp::GreaterOrEqual => CompareOp::GreaterOrEqual,
            },
            right: Box::new(operand(right, model)),
            span: Span::default(),
        },
        Condition::In { operand: o, values } => Value::Compare {
            left: Box::new(operand(o, model)),
            op: CompareOp::In,
            right: Box::new(Value::List(
                values.iter().map(default_value).collect(),
                Span::default(),
            )),
            span: Span::default(),
        },
        Condition::Related { quantifier, .. } => {
            let word = match quantifier {
                Quantifier::Some => "some",
                Quantifier::Every => "every",
            };
            related_value(schema, model, account_model, condition, word, Vec::new())
        }
        Condition::Account { condition } => match (account_model, condition.as_ref()) {
            (Some(users), Condition::Related { quantifier, .. }) => {
                let word = match quantifier {
                    Quantifier::Some => "some",
                    Quantifier::Every => "every",
                };
                related_value(
                    schema,
                    users,
                    account_model,
                    condition,
                    word,
                    vec![ident("auth")],
                )
            }
            (Some(users), Condition::Not { condition: inner })
                if matches!(
                    inner.as_ref(),
                    Condition::Related {
                        quantifier: Quantifier::Some,
                        ..
                    }
                ) =>
            {
                related_value(
                    schema,
                    users,
                    account_model,
                    inner,
                    "none",
                    vec![ident("auth")],
                )
            }
            // The account is one row: a condition on it distributes over `&&` and `||`.
            (Some(_), Condition::All { conditions }) => condition_value(
                schema,
                model,
                account_model,
                &Condition::All {
                    conditions: conditions
                        .iter()
                        .map(|c| Condition::Account {
                            condition: Box::new(c.clone()),
                        })
                        .collect(),
                },
            ),
            (Some(_), Condition::Any { conditions }) => condition_value(
                schema,
                model,
                account_model,
                &Condition::Any {
                    conditions: conditions
                        .iter()
                        .map(|c| Condition::Account {
                            condition: Box::new(c.clone()),
                        })
                        .collect(),
                },
            ),
            (Some(_), inner) => {
                // Any other condition on the account itself, in `auth.` names.
                let prefixed = prefix_account_fields(inner);
                Value::Logic {
                    op: LogicOp::And,
                    operands: vec![
                        Value::Ident(ident("authenticated")),
                        group(condition_value(schema, model, account_model, &prefixed)),
                    ],
                    span: Span::default(),
                }
            }
            (None, _) => Value::Ident(ident("authenticated")),
        },
    }
}

/// A condition on the account row itself written with `auth.` names: its fields become
/// account fields.
fn prefix_account_fields(condition: &Condition) -> Condition {
    let operand = |o: &Operand| match o {
        Operand::Field { name } => Operand::AccountField { name: name.clone() },
        other => other.clone(),
    };
    match condition {
        Condition::Compare { left, op, right } => Condition::Compare {
            left: operand(left),
            op: *op,
            right: operand(right),
        },
        Condition::In { operand: o, values } => Condition::In {
            operand: operand(o),
            values: values.clone(),
        },
        Condition::All { conditions } => Condition::All {
            conditions: conditions.iter().map(prefix_account_fields).collect(),
        },
        Condition::Any { conditions } => Condition::Any {
            conditions: conditions.iter().map(prefix_account_fields).collect(),
        },
        Condition::Not { condition } => Condition::Not {
            condition: Box::new(prefix_account_fields(condition)),
        },
        other => other.clone(),
    }
}

/// `relation.some(condition)` (through `prefix`, such as `auth`); a to-one relation whose
/// condition compares one field is written as a path: `project.owner == auth`.
fn related_value(
    schema: &ir::Schema,
    model: &ir::Model,
    account_model: Option<&ir::Model>,
    condition: &Condition,
    word: &str,
    mut path: Vec<Ident>,
) -> Value {
    let Condition::Related {
        relation,
        condition: inner,
        quantifier,
    } = condition
    else {
        return condition_value(schema, model, account_model, condition);
    };
    let target = model
        .relation(relation)
        .and_then(|r| match &r.kind {
            RelationKind::ToOne { target, .. }
            | RelationKind::ToMany { target, .. }
            | RelationKind::ManyToMany { target, .. } => schema.model(target),
            RelationKind::Polymorphic { .. } => None,
        })
        .unwrap_or(model);
    let to_one = matches!(
        model.relation(relation).map(|r| &r.kind),
        Some(RelationKind::ToOne { .. })
    );
    path.push(ident(relation));
    match inner.as_ref() {
        // A path through relations of the same quantifier: `a.b.some(c)`.
        next @ Condition::Related { quantifier: q, .. } if q == quantifier => {
            related_value(schema, target, account_model, next, word, path)
        }
        Condition::Compare {
            left: Operand::Field { name },
            op,
            right,
        } if to_one && word == "some" && *quantifier == Quantifier::Some => {
            path.push(ident(&reference_name(target, name)));
            let compare = condition_value(
                schema,
                target,
                account_model,
                &Condition::Compare {
                    left: Operand::Field { name: name.clone() },
                    op: *op,
                    right: right.clone(),
                },
            );
            let Value::Compare { op, right, .. } = compare else {
                unreachable!("a comparison prints as one")
            };
            Value::Compare {
                left: Box::new(Value::Path(path, Span::default())),
                op,
                right,
                span: Span::default(),
            }
        }
        _ => Value::Quantified {
            path,
            quantifier: ident(word),
            condition: Box::new(condition_value(schema, target, account_model, inner)),
            span: Span::default(),
        },
    }
}

/// `auth.field`, with a foreign key written as its relation like in [`reference_name`].
fn account_path(account_model: Option<&ir::Model>, field: &str) -> Value {
    let name = match account_model {
        Some(users) => reference_name(users, field),
        None => field.to_string(),
    };
    Value::Path(vec![ident("auth"), ident(&name)], Span::default())
}

/// How a field is named in a condition: the to-one relation whose implicit foreign key it
/// is (`tenant` for `tenantId`), or the field itself.
fn reference_name(model: &ir::Model, field: &str) -> String {
    let implicit = model.field(field).is_some_and(|f| f.implicit);
    let relation = model
        .relations
        .iter()
        .find(|r| matches!(&r.kind, RelationKind::ToOne { field: fk, .. } if fk == field));
    match relation {
        Some(relation) if implicit => relation.name.clone(),
        _ => field.to_string(),
    }
}
