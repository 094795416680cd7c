//! Model attributes: table names, behaviours and the columns they add, keys and indexes.

use sha2::{Digest, Sha256};

use super::Checker;
use crate::ast::{Attribute, TypeExpr, Value};
use crate::diagnostic::Diagnostic;
use crate::ir::*;

const MODEL_ATTRIBUTES: &[&str] = &[
    "map",
    "id",
    "unique",
    "index",
    "soft_delete",
    "hard_delete",
    "timestamps",
    "actors",
    "import_hash",
    "was",
    "environment",
    "publish_log",
    "auth",
    "allow",
];

/// Model attributes a model may carry several times.
const REPEATABLE_MODEL_ATTRIBUTES: &[&str] = &["unique", "index", "allow"];

/// PostgreSQL truncates identifiers beyond 63 bytes.
const MAX_IDENTIFIER: usize = 63;

/// A deterministic constraint or index name within PostgreSQL's 63-byte limit:
/// `table_col1_col2_key` (unique) or `..._idx`, shortened with a hash when too long.
pub fn index_name(table: &str, columns: &[String], unique: bool) -> String {
    let suffix = if unique { "key" } else { "idx" };
    let full = format!("{table}_{}_{suffix}", columns.join("_"));
    if full.len() <= MAX_IDENTIFIER {
        return full;
    }
    let digest = hex::encode(&Sha256::digest(full.as_bytes())[..4]);
    let mut cut = MAX_IDENTIFIER - digest.len() - suffix.len() - 2;
    while !full.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{digest}_{suffix}", &full[..cut])
}

impl Checker<'_> {
    /// Adds the field a behaviour needs, or adopts a declared field already stored in its column.
    fn behaviour_field(
        &mut self,
        index: usize,
        column: String,
        ty: FieldType,
        nullable: bool,
        default: Option<DefaultValue>,
        managed: Managed,
    ) -> String {
        let model = &mut self.models[index].model;
        if let Some(existing) = model.fields.iter_mut().find(|f| f.column == column) {
            existing.managed = Some(managed);
            return existing.name.clone();
        }
        model.fields.push(Field {
            default,
            managed: Some(managed),
            implicit: true,
            ..Field::new(column.clone(), ty, nullable)
        });
        column
    }

    pub(crate) fn behaviours(&mut self, index: usize) {
        let decl = self.models[index].decl;
        let naming = self.naming;
        let timestamp = FieldType {
            scalar: ScalarType::Timestamptz,
            array: false,
        };
        let declared_created = self.models[index]
            .model
            .fields
            .iter()
            .find(|f| f.managed == Some(Managed::CreatedAt))
            .map(|f| f.name.clone());
        let declared_updated = self.models[index]
            .model
            .fields
            .iter()
            .find(|f| f.managed == Some(Managed::UpdatedAt))
            .map(|f| f.name.clone());
        self.models[index].model.behaviours.created_at = declared_created;
        self.models[index].model.behaviours.updated_at = declared_updated;
        let mut soft_delete_span = None;
        let mut hard_delete_span = None;
        self.repeated_model_attributes(index);
        for attribute in decl.attributes() {
            match attribute.name.name.as_str() {
                "map" => {
                    if let Some(table) = self.single_string(attribute) {
                        self.refuse_reserved(&table, super::string_span(attribute), "table name");
                        self.models[index].model.table = table;
                    }
                }
                "was" => self.models[index].model.renamed_from = self.single_string(attribute),
                "soft_delete" => {
                    self.no_args(attribute);
                    soft_delete_span = Some(attribute.span);
                    let field = self.behaviour_field(
                        index,
                        naming.join(&["deleted", "at"]),
                        timestamp.clone(),
                        true,
                        None,
                        Managed::DeletedAt,
                    );
                    self.models[index].model.behaviours.soft_delete = Some(field);
                }
                "hard_delete" => {
                    self.no_args(attribute);
                    hard_delete_span = Some(attribute.span);
                    self.models[index].model.behaviours.hard_delete = true;
                }
                "timestamps" => {
                    self.no_args(attribute);
                    let created = self.behaviour_field(
                        index,
                        naming.join(&["created", "at"]),
                        timestamp.clone(),
                        false,
                        Some(DefaultValue::Now),
                        Managed::CreatedAt,
                    );
                    let updated = self.behaviour_field(
                        index,
                        naming.join(&["updated", "at"]),
                        timestamp.clone(),
                        false,
                        Some(DefaultValue::Now),
                        Managed::UpdatedAt,
                    );
                    let behaviours = &mut self.models[index].model.behaviours;
                    behaviours.created_at = Some(created);
                    behaviours.updated_at = Some(updated);
                }
                "import_hash" => {
                    self.no_args(attribute);
                    let ty = FieldType {
                        scalar: ScalarType::Varchar(255),
                        array: false,
                    };
                    let field = self.behaviour_field(
                        index,
                        naming.join(&["import", "hash"]),
                        ty,
                        true,
                        None,
                        Managed::ImportHash,
                    );
                    self.models[index].model.behaviours.import_hash = Some(field);
                }
                "actors" => self.actors(index, attribute),
                "id" | "unique" | "index" | "environment" | "publish_log" | "auth" | "allow" => {}
                _ => self.unknown_attribute(attribute, "a model", MODEL_ATTRIBUTES),
            }
        }
        if let (Some(span), None) = (hard_delete_span, soft_delete_span) {
            self.report(
                Diagnostic::warning(
                    "W0160",
                    "`@@hard_delete` without `@@soft_delete` has no effect",
                    span,
                )
                .with_label("deletion is already permanent")
                .with_help("remove `@@hard_delete`, or add `@@soft_delete`"),
            );
        }
    }

    /// A model attribute that means one thing per model (`@@soft_delete`, `@@actors`, ...)
    /// written twice: the second would add its columns and relations again.
    fn repeated_model_attributes(&mut self, index: usize) {
        let decl = self.models[index].decl;
        let mut seen: Vec<&Attribute> = Vec::new();
        for attribute in decl.attributes() {
            let name = attribute.name.name.as_str();
            if REPEATABLE_MODEL_ATTRIBUTES.contains(&name) || !MODEL_ATTRIBUTES.contains(&name) {
                continue;
            }
            match seen.iter().find(|a| a.name.name == name) {
                Some(first) => self.report(
                    Diagnostic::error(
                        "E0229",
                        format!("`@@{name}` is given twice on model `{}`", decl.name.name),
                        attribute.span,
                    )
                    .with_label("given again here")
                    .with_related(first.span, "first given here")
                    .with_help(format!("keep one `@@{name}`")),
                ),
                None => seen.push(attribute),
            }
        }
    }

    fn actors(&mut self, index: usize, attribute: &Attribute) {
        let usage = "`@@actors(UserModel)`";
        self.only_named(attribute, &[], usage);
        let Some(user_ident) = self.single_ident(attribute, usage) else {
            return;
        };
        let Some(&users) = self.model_index.get(&user_ident.name) else {
            let help = match Checker::suggest(&user_ident.name, self.model_names()) {
                Some(similar) => format!("did you mean `{similar}`?"),
                None => "name the model holding your users".into(),
            };
            self.report(
                Diagnostic::error(
                    "E0140",
                    format!("unknown model `{}`", user_ident.name),
                    user_ident.span,
                )
                .with_label("no model with this name")
                .with_help(help),
            );
            return;
        };
        let Some((references, key_type)) = self.key_field_of(users, 0) else {
            self.report(
                Diagnostic::error(
                    "E0145",
                    format!(
                        "model `{}` has a composite key, which actor relations cannot reference",
                        user_ident.name
                    ),
                    user_ident.span,
                )
                .with_label("no single key field to point at")
                .with_help("name a user model whose primary key is a single field"),
            );
            return;
        };
        let user_model = self.models[users].model.name.clone();
        for (words, managed) in [
            (["created", "by"], Managed::CreatedBy),
            (["updated", "by"], Managed::UpdatedBy),
        ] {
            let relation = self.naming.join(&words);
            if self.models[index].spans.contains_key(&relation) {
                // The model declares this relation itself; adopt it.
                let field = self.models[index]
                    .model
                    .relations
                    .iter()
                    .find_map(|r| match &r.kind {
                        RelationKind::ToOne { field, .. } if r.name == relation => {
                            Some(field.clone())
                        }
                        _ => None,
                    });
                if let Some(field) = field {
                    if let Some(f) = self.models[index]
                        .model
                        .fields
                        .iter_mut()
                        .find(|f| f.name == field)
                    {
                        f.managed = Some(managed);
                    }
                }
            } else {
                let column = self.naming.foreign_key(&relation);
                let position = self.models[index].model.fields.len();
                let Some(field) = self.reference_field(
                    index,
                    position,
                    column,
                    key_type.clone(),
                    true,
                    &relation,
                    attribute.span,
                ) else {
                    continue;
                };
                let build = &mut self.models[index];
                if let Some(f) = build.model.fields.iter_mut().find(|f| f.name == field) {
                    f.managed = Some(managed);
                }
                build.model.relations.push(Relation {
                    name: relation.clone(),
                    doc: None,
                    kind: RelationKind::ToOne {
                        target: user_model.clone(),
                        field,
                        references: references.clone(),
                        on_delete: OnDelete::SetNull,
                        unique: false,
                        enforced: true,
                        inverse: None,
                    },
                });
            }
            let behaviours = &mut self.models[index].model.behaviours;
            match managed {
                Managed::CreatedBy => behaviours.created_by = Some(relation),
                _ => behaviours.updated_by = Some(relation),
            }
        }
    }

    /// The field stored for a field or relation name used in a key or index.
    fn stored_field_for(&self, index: usize, name: &str) -> Option<String> {
        let model = &self.models[index].model;
        if let Some(field) = model.field(name) {
            return field.is_stored().then(|| field.name.clone());
        }
        model.relation(name).and_then(|r| match &r.kind {
            RelationKind::ToOne { field, .. } => Some(field.clone()),
            _ => None,
        })
    }

    fn unknown_field(&mut self, index: usize, ident: &crate::ast::Ident, context: &str) {
        let model = &self.models[index].model;
        let is_virtual = model.field(&ident.name).is_some_and(|f| !f.is_stored());
        let is_list = model.relation(&ident.name).is_some();
        let candidates: Vec<&str> = model
            .fields
            .iter()
            .map(|f| f.name.as_str())
            .chain(model.relations.iter().map(|r| r.name.as_str()))
            .collect();
        let help = if is_virtual {
            format!(
                "`{}` is virtual and not stored; only stored fields can be used",
                ident.name
            )
        } else if is_list {
            format!(
                "`{}` is not a to-one relation; name the stored fields",
                ident.name
            )
        } else {
            match Checker::suggest(&ident.name, candidates) {
                Some(similar) => format!("did you mean `{similar}`?"),
                None => format!("name a field or to-one relation of model `{}`", model.name),
            }
        };
        let message = format!("unknown field `{}` in {context}", ident.name);
        let label = format!("model `{}` has no stored field with this name", model.name);
        self.report(
            Diagnostic::error("E0170", message, ident.span)
                .with_label(label)
                .with_help(help),
        );
    }

    /// Fields listed in `[a, b(desc)]`, resolved to stored fields.
    fn field_list(
        &mut self,
        index: usize,
        attribute: &Attribute,
        usage: &str,
    ) -> Option<Vec<IndexField>> {
        let list = match attribute.positional().next() {
            Some(Value::List(items, span)) if items.is_empty() => {
                self.report(
                    Diagnostic::error("E0171", "empty field list", *span)
                        .with_label("no fields")
                        .with_help(format!("write {usage}")),
                );
                return None;
            }
            Some(Value::List(items, _)) => items,
            Some(other) => {
                self.wrong_argument(other, attribute, "a list of fields", usage);
                return None;
            }
            None => {
                self.wrong_argument_count(attribute, usage);
                return None;
            }
        };
        let mut fields = Vec::new();
        let mut ok = true;
        for item in list {
            let (ident, descending) = match item {
                Value::Ident(ident) => (ident, false),
                Value::Call { name, args, .. } => match args.as_slice() {
                    [Value::Ident(order)] if order.name == "desc" || order.name == "asc" => {
                        (name, order.name == "desc")
                    }
                    _ => {
                        self.wrong_argument(
                            item,
                            attribute,
                            "`field`, `field(asc)` or `field(desc)`",
                            usage,
                        );
                        ok = false;
                        continue;
                    }
                },
                other => {
                    self.wrong_argument(other, attribute, "a field name", usage);
                    ok = false;
                    continue;
                }
            };
            match self.stored_field_for(index, &ident.name) {
                Some(field) => fields.push(IndexField { field, descending }),
                None => {
                    let context = format!("`@@{}`", attribute.name.name);
                    self.unknown_field(index, ident, &context);
                    ok = false;
                }
            }
        }
        ok.then_some(fields)
    }

    pub(crate) fn primary_key(&mut self, index: usize) {
        let decl = self.models[index].decl;
        let key_attributes: Vec<&Attribute> =
            decl.attributes().filter(|a| a.name.name == "id").collect();
        let field_keys: Vec<&crate::ast::FieldDecl> = decl
            .fields()
            .filter(|f| f.attributes.iter().any(|a| a.name.name == "id"))
            .collect();
        if let Some(attribute) = key_attributes.first() {
            if key_attributes.len() > 1 || !field_keys.is_empty() {
                let other = key_attributes
                    .get(1)
                    .map(|a| a.span)
                    .or(field_keys.first().map(|f| f.name.span))
                    .unwrap_or(attribute.span);
                self.report(
                    Diagnostic::error(
                        "E0172",
                        format!("model `{}` declares its primary key twice", decl.name.name),
                        other,
                    )
                    .with_label("second primary key")
                    .with_related(attribute.span, "first primary key")
                    .with_help(
                        "a model has one primary key; list all its fields in one `@@id([...])`",
                    ),
                );
                return;
            }
            let usage = "`@@id([field1, field2])`";
            self.only_named(attribute, &[], usage);
            let Some(fields) = self.field_list(index, attribute, usage) else {
                return;
            };
            self.models[index].model.primary_key = fields.into_iter().map(|f| f.field).collect();
        } else if field_keys.len() > 1 {
            self.report(
                Diagnostic::error(
                    "E0172",
                    format!(
                        "model `{}` marks {} fields `@id`",
                        decl.name.name,
                        field_keys.len()
                    ),
                    field_keys[1].name.span,
                )
                .with_label("second `@id`")
                .with_related(field_keys[0].name.span, "first `@id`")
                .with_help(format!(
                    "for a composite key write `@@id([{}])` in the model",
                    field_keys
                        .iter()
                        .map(|f| f.name.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
            return;
        } else if let Some(field) = field_keys.first() {
            if let Some(stored) = self.stored_field_for(index, &field.name.name) {
                self.models[index].model.primary_key = vec![stored];
            } else if self.models[index]
                .model
                .field(&field.name.name)
                .is_some_and(|f| !f.is_stored())
            {
                self.report(
                    Diagnostic::error(
                        "E0174",
                        format!(
                            "virtual field `{}` cannot be the primary key of model `{}`",
                            field.name.name, decl.name.name
                        ),
                        field.name.span,
                    )
                    .with_label("computed on read, never stored")
                    .with_help("mark a stored field `@id`, or remove `@id` to get the implicit `id uuid` key"),
                );
            }
        }
        // Key fields must be present in every row.
        let model = &self.models[index].model;
        let nullable: Vec<String> = model
            .primary_key_fields()
            .filter(|f| f.nullable)
            .map(|f| f.name.clone())
            .collect();
        for name in nullable {
            let span = decl
                .fields()
                .find(|f| {
                    f.name.name == name
                        || self.stored_field_for(index, &f.name.name).as_deref() == Some(&name)
                })
                .map(|f| f.ty.span())
                .unwrap_or(decl.name.span);
            let key_span = key_attributes.first().map(|a| a.span);
            let mut diagnostic = Diagnostic::error(
                "E0173",
                format!(
                    "primary key of model `{}` includes nullable field `{name}`",
                    decl.name.name
                ),
                span,
            )
            .with_label("nullable field in the primary key")
            .with_help("key fields are required: remove the `?`");
            if let Some(key_span) = key_span {
                diagnostic = diagnostic.with_related(key_span, "used in this key");
            }
            self.report(diagnostic);
        }
    }

    pub(crate) fn indexes(&mut self, index: usize) {
        let decl = self.models[index].decl;
        let mut wanted: Vec<(Vec<IndexField>, bool, bool, Option<String>)> = Vec::new();
        for field in decl.fields() {
            for attribute in &field.attributes {
                let unique = match attribute.name.name.as_str() {
                    "unique" => true,
                    "index" => false,
                    _ => continue,
                };
                if matches!(field.ty, TypeExpr::Named { list: true, .. }) {
                    continue;
                }
                if let Some(stored) = self.stored_field_for(index, &field.name.name) {
                    wanted.push((
                        vec![IndexField {
                            field: stored,
                            descending: false,
                        }],
                        unique,
                        false,
                        None,
                    ));
                }
            }
        }
        let soft_delete = self.models[index].model.behaviours.soft_delete.is_some();
        for attribute in decl.attributes() {
            let unique = match attribute.name.name.as_str() {
                "unique" => true,
                "index" => false,
                _ => continue,
            };
            let usage = if unique {
                "`@@unique([a, b])`, optionally with `where: not_deleted` and `name: \"...\"`"
            } else {
                "`@@index([a, b(desc)])`, optionally with `name: \"...\"`"
            };
            let allowed: &[&str] = if unique {
                &["where", "name"]
            } else {
                &["name"]
            };
            self.only_named(attribute, allowed, usage);
            if attribute.positional().count() > 1 {
                self.wrong_argument_count(attribute, usage);
                continue;
            }
            let mut where_not_deleted = false;
            if let Some(arg) = attribute.named("where") {
                match &arg.value {
                    Value::Ident(i) if i.name == "not_deleted" => {
                        if soft_delete {
                            where_not_deleted = true;
                        } else {
                            self.report(
                                Diagnostic::error(
                                    "E0175",
                                    "`where: not_deleted` needs `@@soft_delete`",
                                    arg.span,
                                )
                                .with_label("this model does not soft-delete")
                                .with_help("add `@@soft_delete` to the model, or remove `where:`"),
                            );
                        }
                    }
                    other => self.wrong_argument(other, attribute, "`not_deleted`", usage),
                }
            }
            let name = match attribute.named("name").map(|a| &a.value) {
                Some(Value::String(name, span)) => {
                    self.refuse_reserved(name, *span, "index name");
                    if name.len() > MAX_IDENTIFIER {
                        self.report(
                            Diagnostic::error(
                                "E0176",
                                format!("index name is {} bytes long; PostgreSQL allows at most {MAX_IDENTIFIER}", name.len()),
                                *span,
                            )
                                .with_label("PostgreSQL would truncate it")
                                .with_help("choose a shorter name"),
                        );
                    }
                    Some(name.clone())
                }
                Some(other) => {
                    self.wrong_argument(other, attribute, "a name string", usage);
                    None
                }
                None => None,
            };
            if let Some(fields) = self.field_list(index, attribute, usage) {
                wanted.push((fields, unique, where_not_deleted, name));
            }
        }
        let model = &self.models[index].model;
        if let Some(hash) = &model.behaviours.import_hash {
            wanted.push((
                vec![IndexField {
                    field: hash.clone(),
                    descending: false,
                }],
                true,
                false,
                None,
            ));
        }
        for relation in &model.relations {
            if let RelationKind::ToOne {
                field,
                unique: true,
                ..
            } = &relation.kind
            {
                wanted.push((
                    vec![IndexField {
                        field: field.clone(),
                        descending: false,
                    }],
                    true,
                    false,
                    None,
                ));
            }
        }
        let model = &mut self.models[index].model;
        for (fields, unique, where_not_deleted, name) in wanted {
            let duplicate = model.indexes.iter().any(|i| {
                i.fields == fields && i.unique == unique && i.where_not_deleted == where_not_deleted
            });
            let is_key = unique
                && !where_not_deleted
                && fields.iter().map(|f| &f.field).eq(model.primary_key.iter());
            if duplicate || is_key {
                continue;
            }
            let columns: Vec<String> = fields
                .iter()
                .map(|f| {
                    model
                        .field(&f.field)
                        .map_or_else(|| f.field.clone(), |field| field.column.clone())
                })
                .collect();
            let name = name.unwrap_or_else(|| index_name(&model.table, &columns, unique));
            model.indexes.push(Index {
                name,
                fields,
                unique,
                where_not_deleted,
            });
        }
    }
}
