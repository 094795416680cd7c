//! The formatter: prints a syntax tree in canonical style, keeping comments.
//!
//! Canonical style: two-space indentation; one blank line between declarations; in a model,
//! the model attributes first, then the fields with names, types, defaults and attributes
//! aligned in columns; blank lines inside a model kept (at most one) as grouping.

use crate::ast::*;

/// Objects and lists longer than this are written over several lines.
const INLINE_VALUE_WIDTH: usize = 60;

pub fn format_file(file: &SchemaFile) -> String {
    let mut out = String::new();
    for (i, item) in file.items.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        leading(&mut out, item.trivia(), "");
        match item {
            Item::Settings(settings) => format_settings(&mut out, settings),
            Item::Enum(decl) => format_enum(&mut out, decl),
            Item::Model(decl) => format_model(&mut out, decl),
        }
    }
    let tail = &file.trailing_comments;
    if !tail.comments.is_empty() || !tail.doc.is_empty() {
        if !file.items.is_empty() {
            out.push('\n');
        }
        leading(&mut out, tail, "");
    }
    out
}

fn comment(text: &str, marker: &str) -> String {
    if text.is_empty() {
        marker.to_string()
    } else {
        format!("{marker} {text}")
    }
}

fn leading(out: &mut String, trivia: &Trivia, indent: &str) {
    for line in &trivia.comments {
        out.push_str(&format!("{indent}{}\n", comment(line, "//")));
    }
    for line in &trivia.doc {
        out.push_str(&format!("{indent}{}\n", comment(line, "///")));
    }
}

fn end_line(out: &mut String, trailing: &Option<String>) {
    while out.ends_with(' ') {
        out.pop();
    }
    if let Some(text) = trailing {
        out.push_str(&format!(" {}", comment(text, "//")));
    }
    out.push('\n');
}

fn closing(out: &mut String, trivia: &Trivia, trailing: &Option<String>) {
    if !trivia.comments.is_empty() || !trivia.doc.is_empty() {
        if trivia.blank_line_before {
            out.push('\n');
        }
        leading(out, trivia, "  ");
    }
    out.push('}');
    end_line(out, trailing);
}

fn format_settings(out: &mut String, block: &SettingsBlock) {
    out.push_str("settings {\n");
    for setting in &block.entries {
        leading(out, &setting.trivia, "  ");
        out.push_str(&format!(
            "  {} = {}",
            setting.key.name,
            value(&setting.value, "  ")
        ));
        end_line(out, &setting.trivia.trailing);
    }
    closing(out, &block.closing, &block.trivia.trailing);
}

fn format_enum(out: &mut String, decl: &EnumDecl) {
    let values_have_trivia = decl.values.iter().any(|v| {
        !v.trivia.comments.is_empty() || !v.trivia.doc.is_empty() || v.trivia.trailing.is_some()
    });
    let inline = decl.single_line
        && !values_have_trivia
        && decl.attributes.is_empty()
        && decl.closing.comments.is_empty()
        && !decl.values.is_empty();
    if inline {
        let values: Vec<&str> = decl.values.iter().map(|v| v.name.name.as_str()).collect();
        out.push_str(&format!(
            "enum {} {{ {} }}",
            decl.name.name,
            values.join(" ")
        ));
        end_line(out, &decl.trivia.trailing);
        return;
    }
    out.push_str(&format!("enum {} {{\n", decl.name.name));
    for attribute in &decl.attributes {
        leading(out, &attribute.trivia, "  ");
        out.push_str(&format!("  {}", attribute_text(attribute, "@@", "  ")));
        end_line(out, &attribute.trivia.trailing);
    }
    if !decl.attributes.is_empty() && !decl.values.is_empty() {
        out.push('\n');
    }
    for (i, v) in decl.values.iter().enumerate() {
        if i > 0 && v.trivia.blank_line_before {
            out.push('\n');
        }
        leading(out, &v.trivia, "  ");
        out.push_str(&format!("  {}", v.name.name));
        end_line(out, &v.trivia.trailing);
    }
    closing(out, &decl.closing, &decl.trivia.trailing);
}

/// The columns of one field line before alignment.
struct FieldLine<'a> {
    field: &'a FieldDecl,
    name: String,
    ty: String,
    default: String,
    attributes: String,
}

fn format_model(out: &mut String, decl: &ModelDecl) {
    out.push_str(&format!("model {} {{\n", decl.name.name));
    let attributes: Vec<&Attribute> = decl.attributes().collect();
    for (i, attribute) in attributes.iter().enumerate() {
        if i > 0 && attribute.trivia.blank_line_before {
            out.push('\n');
        }
        leading(out, &attribute.trivia, "  ");
        out.push_str(&format!("  {}", attribute_text(attribute, "@@", "  ")));
        end_line(out, &attribute.trivia.trailing);
    }
    let lines: Vec<FieldLine> = decl
        .fields()
        .map(|field| FieldLine {
            field,
            name: field.name.name.clone(),
            ty: type_text(&field.ty),
            default: field
                .default
                .as_ref()
                .map(|v| format!("= {}", value(v, "  ")))
                .unwrap_or_default(),
            attributes: field
                .attributes
                .iter()
                .map(|a| attribute_text(a, "@", "  "))
                .collect::<Vec<_>>()
                .join(" "),
        })
        .collect();
    if !attributes.is_empty() && !lines.is_empty() {
        out.push('\n');
    }
    let name_width = lines
        .iter()
        .map(|l| l.name.chars().count())
        .max()
        .unwrap_or(0);
    let type_width = lines
        .iter()
        .map(|l| l.ty.chars().count())
        .max()
        .unwrap_or(0);
    let default_width = lines
        .iter()
        .filter(|l| !l.default.contains('\n'))
        .map(|l| l.default.chars().count())
        .max()
        .unwrap_or(0);
    for (i, line) in lines.iter().enumerate() {
        if i > 0 && line.field.trivia.blank_line_before {
            out.push('\n');
        }
        leading(out, &line.field.trivia, "  ");
        let mut text = format!("  {:name_width$}  {:type_width$}", line.name, line.ty);
        // A multi-line default is written even when no other field has a default.
        if default_width > 0 || line.default.contains('\n') {
            if line.default.contains('\n') {
                text.push_str(&format!("  {} ", line.default));
            } else {
                text.push_str(&format!("  {:default_width$}", line.default));
            }
        }
        if !line.attributes.is_empty() {
            text = text.trim_end().to_string();
            let pad = if line.default.contains('\n') { 1 } else { 2 };
            // Keep the attribute column aligned unless a multi-line default broke the columns.
            let aligned_len = 2
                + name_width
                + 2
                + type_width
                + if default_width > 0 {
                    2 + default_width
                } else {
                    0
                };
            let current_len = text.chars().count();
            if !line.default.contains('\n') && current_len < aligned_len {
                text.push_str(&" ".repeat(aligned_len - current_len));
            }
            text.push_str(&" ".repeat(pad));
            text.push_str(&line.attributes);
        }
        out.push_str(&text);
        end_line(out, &line.field.trivia.trailing);
    }
    closing(out, &decl.closing, &decl.trivia.trailing);
}

pub(crate) fn type_text(ty: &TypeExpr) -> String {
    match ty {
        TypeExpr::Named {
            name,
            args,
            list,
            optional,
            ..
        } => {
            let mut text = name.name.clone();
            if !args.is_empty() {
                let args: Vec<String> = args.iter().map(|a| value(a, "")).collect();
                text.push_str(&format!("({})", args.join(", ")));
            }
            if *list {
                text.push_str("[]");
            }
            if *optional {
                text.push('?');
            }
            text
        }
        TypeExpr::Relation {
            targets, optional, ..
        } => {
            let targets: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
            format!(
                "-> {}{}",
                targets.join(" | "),
                if *optional { "?" } else { "" }
            )
        }
    }
}

pub(crate) fn attribute_text(attribute: &Attribute, sigil: &str, indent: &str) -> String {
    if attribute.args.is_empty() {
        return format!("{sigil}{}", attribute.name.name);
    }
    let args: Vec<String> = attribute
        .args
        .iter()
        .map(|arg| match &arg.name {
            Some(name) => format!("{}: {}", name.name, value(&arg.value, indent)),
            None => value(&arg.value, indent),
        })
        .collect();
    format!("{sigil}{}({})", attribute.name.name, args.join(", "))
}

pub(crate) fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Prints a value; long objects and lists break over lines indented from `indent`.
pub(crate) fn value(v: &Value, indent: &str) -> String {
    let inline = inline_value(v);
    if inline.chars().count() <= INLINE_VALUE_WIDTH
        || !matches!(v, Value::Object(..) | Value::List(..))
    {
        return inline;
    }
    let inner = format!("{indent}  ");
    match v {
        Value::Object(entries, _) => {
            let lines: Vec<String> = entries
                .iter()
                .map(|(key, _, v)| format!("{inner}{}: {}", quote(key), value(v, &inner)))
                .collect();
            format!("{{\n{}\n{indent}}}", lines.join(",\n"))
        }
        Value::List(items, _) => {
            let lines: Vec<String> = items
                .iter()
                .map(|v| format!("{inner}{}", value(v, &inner)))
                .collect();
            format!("[\n{}\n{indent}]", lines.join(",\n"))
        }
        _ => inline,
    }
}

fn inline_value(v: &Value) -> String {
    match v {
        Value::String(s, _) => quote(s),
        Value::Number(n, _) => n.clone(),
        Value::Bool(b, _) => b.to_string(),
        Value::Null(_) => "null".into(),
        Value::Ident(i) => i.name.clone(),
        Value::Path(segments, _) => Value::path_text(segments),
        Value::Call { name, args, .. } => {
            let args: Vec<String> = args.iter().map(inline_value).collect();
            format!("{}({})", name.name, args.join(", "))
        }
        Value::List(items, _) => {
            let items: Vec<String> = items.iter().map(inline_value).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(entries, _) if entries.is_empty() => "{}".into(),
        Value::Object(entries, _) => {
            let entries: Vec<String> = entries
                .iter()
                .map(|(k, _, v)| format!("{}: {}", quote(k), inline_value(v)))
                .collect();
            format!("{{ {} }}", entries.join(", "))
        }
        Value::Compare {
            left, op, right, ..
        } => format!(
            "{} {} {}",
            inline_value(left),
            op.symbol(),
            inline_value(right)
        ),
        Value::Logic { op, operands, .. } => {
            let operands: Vec<String> = operands.iter().map(inline_value).collect();
            operands.join(&format!(" {} ", op.symbol()))
        }
        Value::Not(inner, _) => format!("!{}", inline_value(inner)),
        Value::Group(inner, _) => format!("({})", inline_value(inner)),
        Value::Quantified {
            path,
            quantifier,
            condition,
            ..
        } => format!(
            "{}.{}({})",
            Value::path_text(path),
            quantifier.name,
            inline_value(condition)
        ),
    }
}
