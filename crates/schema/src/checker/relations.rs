//! Relations: to-one and polymorphic relations (which add foreign-key fields), then their
//! inverse sides (to-many, many-to-many through implicit or explicit join models).

use super::{doc, Checker, PendingRelation};
use crate::ast::{Attribute, Ident, TypeExpr, Value};
use crate::diagnostic::Diagnostic;
use crate::ir::*;

const TO_ONE_ATTRIBUTES: &[&str] = &[
    "on_delete",
    "map",
    "references",
    "unique",
    "id",
    "unenforced",
    "index",
    "allow",
];
const POLYMORPHIC_ATTRIBUTES: &[&str] = &["polymorphic", "index"];
const TO_MANY_ATTRIBUTES: &[&str] = &["relation", "join_table", "through"];

/// A naive English singular, used to name join-table columns: `roles` -> `role`.
pub(crate) fn singular(name: &str) -> String {
    if let Some(stem) = name.strip_suffix("ies") {
        format!("{stem}y")
    } else if name.ends_with("ss") || name.ends_with("us") {
        name.to_string()
    } else if let Some(stem) = name.strip_suffix('s') {
        stem.to_string()
    } else {
        name.to_string()
    }
}

impl<'a> Checker<'a> {
    fn resolve_model(&mut self, ident: &Ident) -> Option<usize> {
        if let Some(index) = self.model_index.get(&ident.name) {
            return Some(*index);
        }
        let help = match Checker::suggest(&ident.name, self.model_names()) {
            Some(similar) => format!("did you mean `{similar}`?"),
            None if self.enum_by_name(&ident.name).is_some() => {
                format!(
                    "`{}` is an enum; a field of enum type is written without `->`",
                    ident.name
                )
            }
            None => "declare the model, or point at one of the models in this file".into(),
        };
        self.report(
            Diagnostic::error(
                "E0140",
                format!("unknown model `{}`", ident.name),
                ident.span,
            )
            .with_label("no model with this name")
            .with_help(help),
        );
        None
    }

    /// The single field forming a model's primary key and its type, following 1:1 keys
    /// (a relation marked `@id`) through to the model that owns the value.
    pub(crate) fn key_field_of(&self, model: usize, depth: usize) -> Option<(String, FieldType)> {
        if depth > self.models.len() {
            return None;
        }
        let build = &self.models[model];
        if build.model.primary_key.len() == 1 {
            if let Some(field) = build.model.field(&build.model.primary_key[0]) {
                return Some((field.name.clone(), field.ty.clone()));
            }
        }
        if build.decl.attributes().any(|a| a.name.name == "id") {
            return None;
        }
        let mut scalar_keys = build.decl.fields().filter(|f| {
            matches!(f.ty, TypeExpr::Named { .. })
                && f.attributes.iter().any(|a| a.name.name == "id")
        });
        if let (Some(key), None) = (scalar_keys.next(), scalar_keys.next()) {
            let field = build.model.field(&key.name.name)?;
            return Some((field.name.clone(), field.ty.clone()));
        }
        let keyed = build
            .to_one
            .iter()
            .find(|p| p.decl.attributes.iter().any(|a| a.name.name == "id"))?;
        let TypeExpr::Relation { targets, .. } = &keyed.decl.ty else {
            return None;
        };
        let [target] = targets.as_slice() else {
            return None;
        };
        let target = *self.model_index.get(&target.name)?;
        let (_, ty) = self.key_field_of(target, depth + 1)?;
        Some((self.foreign_key_column(keyed), ty))
    }

    fn foreign_key_column(&self, pending: &PendingRelation<'_>) -> String {
        pending
            .decl
            .attributes
            .iter()
            .find(|a| a.name.name == "map")
            .and_then(|a| match a.positional().next() {
                Some(Value::String(s, _)) => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_else(|| self.naming.foreign_key(&pending.decl.name.name))
    }

    /// Adds a field holding a reference, or reuses the field already stored in that column.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn reference_field(
        &mut self,
        model: usize,
        position: usize,
        column: String,
        ty: FieldType,
        nullable: bool,
        relation: &str,
        span: crate::span::Span,
    ) -> Option<String> {
        let build = &mut self.models[model];
        if let Some(existing) = build
            .model
            .fields
            .iter_mut()
            .find(|f| f.column == column && f.is_stored())
        {
            let compatible = existing.ty == ty
                || (existing.ty.scalar.is_textual() && ty.scalar.is_textual())
                || (existing.ty.scalar.is_integer() && ty.scalar.is_integer());
            if !compatible {
                let message = format!(
                    "column `{column}` of relation `{relation}` has type `{}` but the referenced key is `{ty}`",
                    existing.ty
                );
                self.report(
                    Diagnostic::error("E0141", message, span)
                        .with_label("types of the reference and the key differ")
                        .with_help("give the shared field the key's type, or map the relation to another column with `@map`"),
                );
                return None;
            }
            if existing.relation.is_none() {
                existing.relation = Some(relation.to_string());
            }
            return Some(existing.name.clone());
        }
        let field = foreign_key_field(&column, ty, nullable, relation);
        let position = position.min(build.model.fields.len());
        build.model.fields.insert(position, field);
        build.spans.entry(column.clone()).or_insert(span);
        Some(column)
    }

    pub(crate) fn resolve_to_one_relations(&mut self, index: usize) {
        let pending = self.models[index].to_one.clone();
        // Fields inserted earlier shift later positions by one each.
        for (inserted, relation) in pending.iter().enumerate() {
            let TypeExpr::Relation {
                targets,
                optional,
                span,
            } = &relation.decl.ty
            else {
                continue;
            };
            let resolved: Vec<Option<usize>> =
                targets.iter().map(|t| self.resolve_model(t)).collect();
            if resolved.iter().any(Option::is_none) {
                continue;
            }
            let resolved: Vec<usize> = resolved.into_iter().flatten().collect();
            let position = relation.field_position + inserted;
            let declared_polymorphic = relation
                .decl
                .attributes
                .iter()
                .any(|a| a.name.name == "polymorphic");
            if resolved.len() > 1 || declared_polymorphic {
                self.polymorphic(index, relation, &resolved, *optional, position);
            } else {
                self.resolve_to_one(index, relation, resolved[0], *optional, *span, position);
            }
        }
    }

    fn resolve_to_one(
        &mut self,
        index: usize,
        relation: &PendingRelation<'a>,
        target: usize,
        optional: bool,
        span: crate::span::Span,
        position: usize,
    ) {
        let decl = relation.decl;
        let name = decl.name.name.clone();
        let mut on_delete = None;
        let mut references: Option<&Ident> = None;
        let mut enforced = true;
        let mut unique = false;
        let mut is_key = false;
        for attribute in &decl.attributes {
            match attribute.name.name.as_str() {
                "on_delete" => {
                    let usage = "`@on_delete(cascade)`, `set_null`, `restrict` or `no_action`";
                    if let Some(action) = self.single_ident(attribute, usage) {
                        on_delete = match action.name.as_str() {
                            "cascade" => Some(OnDelete::Cascade),
                            "set_null" => Some(OnDelete::SetNull),
                            "restrict" => Some(OnDelete::Restrict),
                            "no_action" => Some(OnDelete::NoAction),
                            _ => {
                                self.report(
                                    Diagnostic::error(
                                        "E0142",
                                        format!("unknown delete action `{}`", action.name),
                                        action.span,
                                    )
                                    .with_label("not a delete action")
                                    .with_help(
                                        "write `cascade`, `set_null`, `restrict` or `no_action`",
                                    ),
                                );
                                None
                            }
                        };
                    }
                }
                "map" => {
                    self.single_string(attribute);
                }
                "references" => references = self.single_ident(attribute, "`@references(field)`"),
                "unenforced" => {
                    self.no_args(attribute);
                    enforced = false;
                }
                "unique" => {
                    self.no_args(attribute);
                    unique = true;
                }
                "id" => {
                    self.no_args(attribute);
                    is_key = true;
                }
                "index" => self.no_args(attribute),
                // Read with the model's access rules, once every relation is known.
                "allow" => {}
                other => self.misplaced_attribute(
                    attribute,
                    other,
                    "a to-one relation",
                    TO_ONE_ATTRIBUTES,
                ),
            }
        }
        let target_name = self.models[target].model.name.clone();
        let referenced = match references {
            Some(field_name) => {
                let target_build = &self.models[target];
                match target_build.model.field(&field_name.name).cloned() {
                    Some(field) => {
                        let unique_target = target_build.model.primary_key == [field.name.clone()]
                            || target_build.decl.fields().any(|f| {
                                f.name.name == field.name
                                    && f.attributes.iter().any(|a| a.name.name == "unique")
                            })
                            || target_build.decl.attributes().any(|a| {
                                a.name.name == "unique"
                                    && a.named("where").is_none()
                                    && matches!(a.positional().next(), Some(Value::List(items, _))
                                        if matches!(items.as_slice(), [Value::Ident(only)] if only.name == field.name))
                            });
                        if !unique_target && enforced {
                            self.report(
                                Diagnostic::error(
                                    "E0143",
                                    format!("`{target_name}.{}` is not unique, so it cannot be referenced", field.name),
                                    field_name.span,
                                )
                                .with_label("a foreign key must point at a unique field")
                                .with_help(format!(
                                    "mark `{}` `@unique` in model `{target_name}`, or add `@unenforced` for a logical cross-reference without a constraint",
                                    field.name
                                )),
                            );
                        }
                        Some((field.name.clone(), field.ty.clone()))
                    }
                    None => {
                        let candidates: Vec<String> = self.models[target]
                            .model
                            .fields
                            .iter()
                            .map(|f| f.name.clone())
                            .collect();
                        let help = match Checker::suggest(
                            &field_name.name,
                            candidates.iter().map(String::as_str),
                        ) {
                            Some(similar) => format!("did you mean `{similar}`?"),
                            None => format!("name a scalar field of model `{target_name}`"),
                        };
                        self.report(
                            Diagnostic::error(
                                "E0144",
                                format!("model `{target_name}` has no field `{}`", field_name.name),
                                field_name.span,
                            )
                            .with_label("unknown field")
                            .with_help(help),
                        );
                        return;
                    }
                }
            }
            None => {
                let key = self.key_field_of(target, 0);
                if key.is_none() {
                    self.report(
                        Diagnostic::error(
                            "E0145",
                            format!("model `{target_name}` has a composite key, which a relation cannot reference"),
                            decl.name.span,
                        )
                        .with_label("no single key field to point at")
                        .with_help(format!("add `@references(field)` naming a unique field of `{target_name}`")),
                    );
                }
                key
            }
        };
        let Some((references, key_type)) = referenced else {
            return;
        };
        let on_delete = on_delete.unwrap_or(if optional {
            OnDelete::SetNull
        } else {
            OnDelete::Restrict
        });
        if on_delete == OnDelete::SetNull && !optional {
            let span_of = decl
                .attributes
                .iter()
                .find(|a| a.name.name == "on_delete")
                .map_or(decl.name.span, |a| a.span);
            self.report(
                Diagnostic::error("E0146", format!("relation `{name}` is required, so it cannot be set to null"), span_of)
                    .with_label("`set_null` on a required relation")
                    .with_help(format!("make the relation optional (`-> {target_name}?`) or choose `cascade` or `restrict`")),
            );
        }
        let column = self.foreign_key_column(relation);
        let Some(field) =
            self.reference_field(index, position, column, key_type, optional, &name, span)
        else {
            return;
        };
        let build = &mut self.models[index];
        if is_key
            && build.model.primary_key.is_empty()
            && !build.decl.attributes().any(|a| a.name.name == "id")
        {
            build.model.primary_key = vec![field.clone()];
        }
        build.model.relations.push(Relation {
            name,
            doc: doc(&decl.trivia.doc),
            kind: RelationKind::ToOne {
                target: target_name,
                field,
                references,
                on_delete,
                unique,
                enforced,
                inverse: None,
            },
        });
    }

    fn polymorphic(
        &mut self,
        index: usize,
        relation: &PendingRelation<'a>,
        targets: &[usize],
        optional: bool,
        position: usize,
    ) {
        let decl = relation.decl;
        let name = decl.name.name.clone();
        let mut type_column = self.naming.join(&[&name, "type"]);
        let mut id_column = self.naming.foreign_key(&name);
        let mut role_column = None;
        let usage = "`@polymorphic(type: \"ownerType\", id: \"ownerId\", role: \"ownerRole\")`";
        for attribute in &decl.attributes {
            match attribute.name.name.as_str() {
                "polymorphic" => {
                    self.only_named(attribute, &["type", "id", "role"], usage);
                    if attribute.positional().next().is_some() {
                        self.wrong_argument_count(attribute, usage);
                    }
                    for arg in &attribute.args {
                        let Some(key) = &arg.name else { continue };
                        let Value::String(column, _) = &arg.value else {
                            self.wrong_argument(
                                &arg.value,
                                attribute,
                                "a column name string",
                                usage,
                            );
                            continue;
                        };
                        match key.name.as_str() {
                            "type" => type_column = column.clone(),
                            "id" => id_column = column.clone(),
                            "role" => role_column = Some(column.clone()),
                            _ => {}
                        }
                    }
                }
                "index" => self.no_args(attribute),
                other => self.misplaced_attribute(
                    attribute,
                    other,
                    "a polymorphic relation",
                    POLYMORPHIC_ATTRIBUTES,
                ),
            }
        }
        let key_types: Vec<Option<FieldType>> = targets
            .iter()
            .map(|t| self.key_field_of(*t, 0).map(|(_, ty)| ty))
            .collect();
        let first = key_types.first().cloned().flatten();
        let id_type = match first {
            Some(ty) if key_types.iter().all(|k| k.as_ref() == Some(&ty)) => ty,
            _ => FieldType {
                scalar: ScalarType::Text,
                array: false,
            },
        };
        let text = FieldType {
            scalar: ScalarType::Varchar(255),
            array: false,
        };
        let span = decl.name.span;
        let Some(type_field) = self.reference_field(
            index,
            position,
            type_column,
            text.clone(),
            optional,
            &name,
            span,
        ) else {
            return;
        };
        let Some(id_field) = self.reference_field(
            index,
            position + 1,
            id_column,
            id_type,
            optional,
            &name,
            span,
        ) else {
            return;
        };
        let role_field = match role_column {
            Some(column) => {
                match self.reference_field(index, position + 2, column, text, true, &name, span) {
                    Some(field) => Some(field),
                    None => return,
                }
            }
            None => None,
        };
        let target_names = targets
            .iter()
            .map(|t| self.models[*t].model.name.clone())
            .collect();
        self.models[index].model.relations.push(Relation {
            name,
            doc: doc(&decl.trivia.doc),
            kind: RelationKind::Polymorphic {
                targets: target_names,
                type_field,
                id_field,
                role_field,
            },
        });
    }

    fn misplaced_attribute(
        &mut self,
        attribute: &Attribute,
        name: &str,
        kind: &str,
        known: &[&str],
    ) {
        let scalar_only =
            super::fields::FIELD_ATTRIBUTES.contains(&name) || TO_MANY_ATTRIBUTES.contains(&name);
        if scalar_only {
            self.report(
                Diagnostic::error(
                    "E0121",
                    format!("`@{name}` cannot be used on {kind}"),
                    attribute.name.span,
                )
                .with_label(format!("not an attribute of {kind}"))
                .with_help(format!(
                    "attributes of {kind}: {}",
                    known
                        .iter()
                        .map(|k| format!("@{k}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
        } else {
            self.unknown_attribute(attribute, kind, known);
        }
    }

    /// To-many and many-to-many fields, which name the other side of to-one relations.
    pub(crate) fn inverse_relations(&mut self, index: usize) {
        let pending = self.models[index].to_many.clone();
        for relation in pending {
            let TypeExpr::Named {
                name: target_ident,
                optional,
                span,
                ..
            } = &relation.decl.ty
            else {
                continue;
            };
            let Some(&target) = self.model_index.get(&target_ident.name) else {
                continue;
            };
            if *optional {
                self.report(
                    Diagnostic::error("E0147", "a to-many relation cannot be optional", *span)
                        .with_label("`?` on a list")
                        .with_help("an empty list already means \"none\"; remove the `?`"),
                );
            }
            let decl = relation.decl;
            let mut via = None;
            let mut join_table = None;
            let mut through = None;
            for attribute in &decl.attributes {
                match attribute.name.name.as_str() {
                    "relation" | "join_table" | "through" => {}
                    other => {
                        self.misplaced_attribute(
                            attribute,
                            other,
                            "a to-many relation",
                            TO_MANY_ATTRIBUTES,
                        );
                        continue;
                    }
                }
                match attribute.name.name.as_str() {
                    "relation" => via = Some(attribute),
                    "join_table" => join_table = Some(attribute),
                    _ => through = Some(attribute),
                }
            }
            if let Some(attribute) = through {
                self.explicit_many_to_many(index, target, &relation, attribute);
            } else if let Some(attribute) = join_table {
                self.implicit_many_to_many(index, target, &relation, attribute);
            } else {
                self.resolve_to_many(index, target, &relation, via);
            }
        }
    }

    /// Relations of `target` that point at model `index`, with their names.
    fn relations_pointing_at(&self, target: usize, index: usize) -> Vec<String> {
        let this = &self.models[index].model.name;
        self.models[target]
            .model
            .relations
            .iter()
            .filter(|r| match &r.kind {
                RelationKind::ToOne { target, .. } => target == this,
                RelationKind::Polymorphic { targets, .. } => targets.contains(this),
                _ => false,
            })
            .map(|r| r.name.clone())
            .collect()
    }

    fn resolve_to_many(
        &mut self,
        index: usize,
        target: usize,
        relation: &PendingRelation<'a>,
        via: Option<&Attribute>,
    ) {
        let decl = relation.decl;
        let this = self.models[index].model.name.clone();
        let target_name = self.models[target].model.name.clone();
        let candidates = self.relations_pointing_at(target, index);
        let mut role = None;
        let chosen = match via {
            Some(attribute) => {
                let usage = "`@relation(field)` or `@relation(field, role: \"name\")`";
                self.only_named(attribute, &["role"], usage);
                if let Some(arg) = attribute.named("role") {
                    match &arg.value {
                        Value::String(text, _) => role = Some(text.clone()),
                        other => self.wrong_argument(other, attribute, "a string", usage),
                    }
                }
                let Some(field) = self.single_ident(attribute, usage) else {
                    return;
                };
                if candidates.contains(&field.name) {
                    field.name.clone()
                } else {
                    let help = if candidates.is_empty() {
                        format!(
                            "add a relation `{} -> {this}` to model `{target_name}`",
                            singular(&this)
                        )
                    } else {
                        format!(
                            "relations of `{target_name}` pointing here: {}",
                            candidates.join(", ")
                        )
                    };
                    self.report(
                        Diagnostic::error(
                            "E0150",
                            format!(
                                "model `{target_name}` has no relation `{}` pointing at `{this}`",
                                field.name
                            ),
                            field.span,
                        )
                        .with_label("not a relation back to this model")
                        .with_help(help),
                    );
                    return;
                }
            }
            None => match candidates.as_slice() {
                [only] => only.clone(),
                [] => {
                    self.report(
                        Diagnostic::error(
                            "E0151",
                            format!("`{}` lists `{target_name}` rows, but `{target_name}` has no relation to `{this}`", decl.name.name),
                            decl.name.span,
                        )
                        .with_label("no relation back")
                        .with_help(format!(
                            "add `{} -> {this}` to model `{target_name}`, or make this a many-to-many with `@join_table(\"name\")` or `@through(Model)`",
                            singular(&this)
                        )),
                    );
                    return;
                }
                several => {
                    let mut diagnostic = Diagnostic::error(
                        "E0152",
                        format!("ambiguous relation: `{target_name}` has {} relations to `{this}`", several.len()),
                        decl.name.span,
                    )
                    .with_label("which of them does this list?")
                    .with_help(format!(
                        "name the relation on the other side, e.g. `{} {target_name}[] @relation({})`",
                        decl.name.name, several[0]
                    ));
                    for name in several {
                        if let Some(span) = self.models[target].spans.get(name) {
                            diagnostic =
                                diagnostic.with_related(*span, format!("candidate `{name}`"));
                        }
                    }
                    self.report(diagnostic);
                    return;
                }
            },
        };
        let target_relation = self.models[target]
            .model
            .relations
            .iter_mut()
            .find(|r| r.name == chosen);
        if let Some(Relation { kind, .. }) = target_relation {
            match kind {
                RelationKind::ToOne { inverse, .. } => {
                    if inverse.is_none() {
                        *inverse = Some(decl.name.name.clone());
                    }
                    if role.is_some() {
                        self.report(
                            Diagnostic::error(
                                "E0153",
                                "`role:` applies to polymorphic relations only",
                                decl.name.span,
                            )
                            .with_label(format!("`{chosen}` is a plain to-one relation"))
                            .with_help("remove `role:`"),
                        );
                    }
                }
                RelationKind::Polymorphic { role_field, .. }
                    if role.is_some() && role_field.is_none() =>
                {
                    self.report(
                            Diagnostic::error("E0153", format!("polymorphic relation `{chosen}` has no role column"), decl.name.span)
                                .with_label("`role:` needs a role column")
                                .with_help(format!("add `role: \"column\"` to `@polymorphic(...)` on `{target_name}.{chosen}`")),
                        );
                }
                _ => {}
            }
        }
        self.models[index].model.relations.push(Relation {
            name: decl.name.name.clone(),
            doc: doc(&decl.trivia.doc),
            kind: RelationKind::ToMany {
                target: target_name,
                via: chosen,
                role,
            },
        });
    }

    fn explicit_many_to_many(
        &mut self,
        index: usize,
        target: usize,
        relation: &PendingRelation<'a>,
        attribute: &Attribute,
    ) {
        let usage = "`@through(JoinModel)` or `@through(JoinModel, from: relation, to: relation)`";
        self.only_named(attribute, &["from", "to"], usage);
        let Some(join_ident) = self.single_ident(attribute, usage) else {
            return;
        };
        let Some(join) = self.resolve_model(join_ident) else {
            return;
        };
        let this = self.models[index].model.name.clone();
        let target_name = self.models[target].model.name.clone();
        let join_name = self.models[join].model.name.clone();
        let pick = |checker: &mut Self, side: usize, key: &str| -> Option<String> {
            let candidates = checker.relations_pointing_at(join, side);
            let side_name = checker.models[side].model.name.clone();
            if let Some(arg) = attribute.named(key) {
                return match &arg.value {
                    Value::Ident(name) if candidates.contains(&name.name) => {
                        Some(name.name.clone())
                    }
                    other => {
                        checker.report(
                            Diagnostic::error(
                                "E0154",
                                format!("`{key}:` must name a relation of `{join_name}` pointing at `{side_name}`"),
                                other.span(),
                            )
                            .with_label("no such relation")
                            .with_help(if candidates.is_empty() {
                                format!("add a relation `{} -> {side_name}` to model `{join_name}`", singular(&side_name))
                            } else {
                                format!("relations of `{join_name}` pointing at `{side_name}`: {}", candidates.join(", "))
                            }),
                        );
                        None
                    }
                };
            }
            let candidates: Vec<String> = if index == target {
                Vec::new()
            } else {
                candidates
            };
            match candidates.as_slice() {
                [one] => Some(one.clone()),
                [] if index == target => {
                    checker.report(
                        Diagnostic::error(
                            "E0155",
                            "a many-to-many of a model with itself must name both sides",
                            attribute.span,
                        )
                        .with_label("which relation is which side?")
                        .with_help(format!("write `@through({join_name}, from: a, to: b)`")),
                    );
                    None
                }
                [] => {
                    checker.report(
                        Diagnostic::error(
                            "E0156",
                            format!("join model `{join_name}` has no relation to `{side_name}`"),
                            join_ident.span,
                        )
                        .with_label(format!(
                            "a many-to-many between `{this}` and `{target_name}` needs both sides"
                        ))
                        .with_help(format!(
                            "add `{} -> {side_name}` to model `{join_name}`",
                            singular(&side_name)
                        )),
                    );
                    None
                }
                several => {
                    checker.report(
                        Diagnostic::error(
                            "E0152",
                            format!("ambiguous relation: `{join_name}` has {} relations to `{side_name}`", several.len()),
                            join_ident.span,
                        )
                        .with_label("which of them is this side?")
                        .with_help(format!("write `@through({join_name}, {key}: {})`", several[0])),
                    );
                    None
                }
            }
        };
        let from = pick(self, index, "from");
        let to = pick(self, target, "to");
        let (Some(from), Some(to)) = (from, to) else {
            return;
        };
        let decl = relation.decl;
        self.models[index].model.relations.push(Relation {
            name: decl.name.name.clone(),
            doc: doc(&decl.trivia.doc),
            kind: RelationKind::ManyToMany {
                target: target_name,
                join_model: join_name,
                from,
                to,
            },
        });
    }

    fn implicit_many_to_many(
        &mut self,
        index: usize,
        target: usize,
        relation: &PendingRelation<'a>,
        attribute: &Attribute,
    ) {
        let decl = relation.decl;
        let this = self.models[index].model.name.clone();
        let target_name = self.models[target].model.name.clone();
        let name = if attribute.args.is_empty() {
            let mut sides = [this.clone(), target_name.clone()];
            sides.sort();
            format!("{}_{}", sides[0], sides[1])
        } else {
            match self.single_string(attribute) {
                Some(name) => {
                    self.refuse_reserved(&name, super::string_span(attribute), "join table name");
                    name
                }
                None => return,
            }
        };
        if self.model_index.contains_key(&name) {
            self.report(
                Diagnostic::error(
                    "E0157",
                    format!("`{name}` is a declared model"),
                    attribute.span,
                )
                .with_label("join table name taken by a model")
                .with_help(format!(
                    "use `@through({name})` to join through a declared model"
                )),
            );
            return;
        }
        let from_relation = singular(&this);
        let mut to_relation = singular(&target_name);
        if to_relation == from_relation {
            to_relation = singular(&decl.name.name);
        }
        let (from, to) = match self.join_models.iter().find(|m| m.name == name) {
            Some(existing) => {
                // The other side declared the same join table: reuse it, sides swapped.
                let points_at = |model: &Model, relation: &str| {
                    model.relation(relation).and_then(|r| match &r.kind {
                        RelationKind::ToOne { target, .. } => Some(target.clone()),
                        _ => None,
                    })
                };
                let sides: Vec<(String, Option<String>)> = existing
                    .relations
                    .iter()
                    .map(|r| (r.name.clone(), points_at(existing, &r.name)))
                    .collect();
                let from = sides
                    .iter()
                    .find(|(_, t)| t.as_deref() == Some(&this))
                    .map(|(n, _)| n.clone());
                let to = sides
                    .iter()
                    .find(|(n, t)| t.as_deref() == Some(&target_name) && Some(n) != from.as_ref())
                    .map(|(n, _)| n.clone());
                match (from, to) {
                    (Some(from), Some(to)) => (from, to),
                    _ => {
                        self.report(
                            Diagnostic::error(
                                "E0158",
                                format!("join table `{name}` already joins other models"),
                                attribute.span,
                            )
                            .with_label("name used by another many-to-many")
                            .with_help("give this many-to-many its own join table name"),
                        );
                        return;
                    }
                }
            }
            None => {
                let (Some((_, from_type)), Some((_, to_type))) =
                    (self.key_field_of(index, 0), self.key_field_of(target, 0))
                else {
                    self.report(
                        Diagnostic::error(
                            "E0145",
                            "a many-to-many needs a single-field key on both sides",
                            decl.name.span,
                        )
                        .with_label("composite key")
                        .with_help("join through a declared model with `@through(Model)` instead"),
                    );
                    return;
                };
                let from_column = self.naming.foreign_key(&from_relation);
                let to_column = self.naming.foreign_key(&to_relation);
                let join = self.join_model(
                    &name,
                    &this,
                    &from_relation,
                    &from_column,
                    from_type,
                    &target_name,
                    &to_relation,
                    &to_column,
                    to_type,
                );
                self.join_models.push(join);
                (from_relation, to_relation)
            }
        };
        self.models[index].model.relations.push(Relation {
            name: decl.name.name.clone(),
            doc: doc(&decl.trivia.doc),
            kind: RelationKind::ManyToMany {
                target: target_name,
                join_model: name,
                from,
                to,
            },
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn join_model(
        &self,
        name: &str,
        from_model: &str,
        from_relation: &str,
        from_column: &str,
        from_type: FieldType,
        to_model: &str,
        to_relation: &str,
        to_column: &str,
        to_type: FieldType,
    ) -> Model {
        let key_field = |column: &str, ty: FieldType, relation: &str| {
            foreign_key_field(column, ty, false, relation)
        };
        let to_one = |relation: &str, target: &str, field: &str, references: String| Relation {
            name: relation.to_string(),
            doc: None,
            kind: RelationKind::ToOne {
                target: target.to_string(),
                field: field.to_string(),
                references,
                on_delete: OnDelete::Cascade,
                unique: false,
                enforced: true,
                inverse: None,
            },
        };
        let key_of = |model: &str| {
            self.model_index
                .get(model)
                .and_then(|i| self.key_field_of(*i, 0))
                .map_or_else(|| "id".to_string(), |(name, _)| name)
        };
        Model {
            name: name.to_string(),
            table: name.to_string(),
            doc: Some(format!(
                "Join table of the many-to-many between `{from_model}` and `{to_model}`."
            )),
            kind: ModelKind::JoinTable,
            fields: vec![
                key_field(from_column, from_type, from_relation),
                key_field(to_column, to_type, to_relation),
            ],
            primary_key: vec![from_column.to_string(), to_column.to_string()],
            relations: vec![
                to_one(from_relation, from_model, from_column, key_of(from_model)),
                to_one(to_relation, to_model, to_column, key_of(to_model)),
            ],
            indexes: vec![Index {
                name: super::model::index_name(name, &[to_column.to_string()], false),
                fields: vec![IndexField {
                    field: to_column.to_string(),
                    descending: false,
                }],
                unique: false,
                where_not_deleted: false,
            }],
            behaviours: Behaviours::default(),
            renamed_from: None,
            access: Vec::new(),
        }
    }
}

/// The implicit foreign-key field `column` of `relation`, typed like the key it references
/// (a serial key is referenced by a plain integer).
fn foreign_key_field(column: &str, ty: FieldType, nullable: bool, relation: &str) -> Field {
    let ty = match ty.scalar {
        ScalarType::Serial => FieldType {
            scalar: ScalarType::Int,
            array: false,
        },
        ScalarType::BigSerial => FieldType {
            scalar: ScalarType::BigInt,
            array: false,
        },
        _ => ty,
    };
    Field {
        relation: Some(relation.to_string()),
        implicit: true,
        ..Field::new(column, ty, nullable)
    }
}
