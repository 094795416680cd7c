//! Mermaid `erDiagram` of a schema: one entity per table with its stored columns, one line
//! per to-one relation (solid) and polymorphic relation (dotted).

use std::fmt::Write;

use tessera_schema::ir::{FieldType, RelationKind, ScalarType, Schema};

use super::{is_key, is_unique, relation_of};

/// The diagram, starting with `erDiagram`, without Markdown fences.
pub fn mermaid(schema: &Schema) -> String {
    let mut out = String::from("erDiagram\n");
    for model in super::models(schema) {
        let _ = writeln!(out, "    {} {{", model.name);
        for field in model.stored_fields() {
            let mut keys = Vec::new();
            if is_key(model, field) {
                keys.push("PK");
            }
            if relation_of(model, field).is_some() {
                keys.push("FK");
            }
            if is_unique(model, field) {
                keys.push("UK");
            }
            let (ty, detail) = mermaid_type(&field.ty);
            let _ = write!(out, "        {ty} {}", field.column);
            if !keys.is_empty() {
                let _ = write!(out, " {}", keys.join(","));
            }
            let mut comment = Vec::new();
            if let Some(detail) = detail {
                comment.push(detail);
            }
            if field.nullable {
                comment.push("nullable".to_string());
            }
            if !comment.is_empty() {
                let _ = write!(out, " \"{}\"", comment.join(", "));
            }
            out.push('\n');
        }
        out.push_str("    }\n");
    }
    for model in super::models(schema) {
        for relation in &model.relations {
            match &relation.kind {
                RelationKind::ToOne {
                    target,
                    field,
                    unique,
                    ..
                } => {
                    let nullable = model.field(field).is_some_and(|f| f.nullable);
                    let left = if nullable { "|o" } else { "||" };
                    let right = if *unique { "o|" } else { "o{" };
                    let _ = writeln!(
                        out,
                        "    {target} {left}--{right} {} : \"{}\"",
                        model.name, relation.name
                    );
                }
                RelationKind::Polymorphic { targets, .. } => {
                    for target in targets {
                        let _ = writeln!(
                            out,
                            "    {target} |o..o{{ {} : \"{} (polymorphic)\"",
                            model.name, relation.name
                        );
                    }
                }
                RelationKind::ToMany { .. } | RelationKind::ManyToMany { .. } => {}
            }
        }
    }
    out
}

/// A Mermaid attribute type (a single word) and the detail it cannot carry.
fn mermaid_type(ty: &FieldType) -> (String, Option<String>) {
    let (base, detail) = match &ty.scalar {
        ScalarType::Varchar(n) => ("varchar".to_string(), Some(format!("max {n}"))),
        ScalarType::Decimal(Some((p, s))) => (
            "decimal".to_string(),
            Some(format!("precision {p}, scale {s}")),
        ),
        other => (other.to_string(), None),
    };
    let suffix = if ty.array { "[]" } else { "" };
    (format!("{base}{suffix}"), detail)
}
