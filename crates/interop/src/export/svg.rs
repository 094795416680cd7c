//! A deterministic SVG rendering of the ER diagram, for documents read where Mermaid is not
//! rendered. Layout: entities in declaration order on a grid of `ceil(sqrt(n))` columns, each
//! a box with the entity name and its columns; relations as straight lines between box
//! centres, drawn beneath the boxes, labelled at their midpoint (labels beneath the boxes too, so a box's columns stay legible). No randomness and no
//! measurement of fonts: the same schema always gives the same bytes.

use std::fmt::Write;

use tessera_schema::ir::{RelationKind, Schema};

use super::{is_key, relation_of};

const BOX_WIDTH: u32 = 260;
const HEADER: u32 = 28;
const ROW: u32 = 18;
const GAP_X: u32 = 80;
const GAP_Y: u32 = 60;
const MARGIN: u32 = 20;
/// Characters that fit a box row: 12px monospace is 7.2px a character, 8px padding each side.
const MAX_CHARS: usize = 33;

struct Placed {
    name: String,
    x: u32,
    y: u32,
    height: u32,
}

/// The diagram as a standalone SVG document.
pub fn svg(schema: &Schema) -> String {
    let models: Vec<_> = super::models(schema).collect();
    let columns = (models.len() as f64).sqrt().ceil().max(1.0) as usize;
    let heights: Vec<u32> = models
        .iter()
        .map(|m| HEADER + ROW * m.stored_fields().count() as u32 + 8)
        .collect();
    let mut placed = Vec::new();
    let mut y = MARGIN;
    for (row, chunk) in heights.chunks(columns).enumerate() {
        let row_height = chunk.iter().copied().max().unwrap_or(HEADER);
        for (col, height) in chunk.iter().enumerate() {
            let model = models[row * columns + col];
            placed.push(Placed {
                name: model.name.clone(),
                x: MARGIN + col as u32 * (BOX_WIDTH + GAP_X),
                y,
                height: *height,
            });
        }
        y += row_height + GAP_Y;
    }
    let width = MARGIN * 2 + columns as u32 * BOX_WIDTH + (columns as u32 - 1) * GAP_X;
    let height = y.saturating_sub(GAP_Y) + MARGIN;
    let centre = |name: &str| {
        placed
            .iter()
            .find(|p| p.name == name)
            .map(|p| (p.x + BOX_WIDTH / 2, p.y + p.height / 2))
    };

    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="monospace" font-size="12">"#
    );
    out.push_str("  <rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
    out.push_str("  <g stroke=\"#64748b\" stroke-width=\"1.2\" fill=\"none\">\n");
    let mut labels = String::new();
    for model in &models {
        for relation in &model.relations {
            let (targets, dashed): (Vec<&String>, bool) = match &relation.kind {
                RelationKind::ToOne { target, .. } => (vec![target], false),
                RelationKind::Polymorphic { targets, .. } => (targets.iter().collect(), true),
                _ => continue,
            };
            for target in targets {
                let (Some((x1, y1)), Some((x2, y2))) = (centre(&model.name), centre(target)) else {
                    continue;
                };
                let dash = if dashed {
                    r#" stroke-dasharray="5,4""#
                } else {
                    ""
                };
                if (x1, y1) == (x2, y2) {
                    // Self-reference: a loop on the box's right edge.
                    let x = x1 + BOX_WIDTH / 2;
                    let _ = writeln!(
                        out,
                        r#"    <path d="M {x} {} C {} {} {} {} {x} {}"{dash}/>"#,
                        y1 - 10,
                        x + 40,
                        y1 - 30,
                        x + 40,
                        y1 + 30,
                        y1 + 10
                    );
                    let _ = writeln!(
                        labels,
                        r##"  <text x="{}" y="{y1}" fill="#475569" stroke="#ffffff" stroke-width="3" paint-order="stroke">{}</text>"##,
                        x + 4,
                        escape(&relation.name)
                    );
                    continue;
                }
                let _ = writeln!(
                    out,
                    r#"    <line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}"{dash}/>"#
                );
                let _ = writeln!(
                    labels,
                    r##"  <text x="{}" y="{}" fill="#475569" stroke="#ffffff" stroke-width="3" paint-order="stroke" text-anchor="middle">{}</text>"##,
                    (x1 + x2) / 2,
                    (y1 + y2) / 2 - 3,
                    escape(&relation.name)
                );
            }
        }
    }
    out.push_str("  </g>\n");
    // Labels go beneath the boxes too: a label whose midpoint falls inside a box is hidden
    // rather than written over the box's columns.
    out.push_str(&labels);
    for (model, place) in models.iter().zip(&placed) {
        let _ = writeln!(out, r#"  <g id="{}">"#, escape(&model.name));
        let _ = writeln!(
            out,
            "    <rect x=\"{}\" y=\"{}\" width=\"{BOX_WIDTH}\" height=\"{}\" fill=\"#f8fafc\" stroke=\"#334155\"/>",
            place.x, place.y, place.height
        );
        let _ = writeln!(
            out,
            "    <rect x=\"{}\" y=\"{}\" width=\"{BOX_WIDTH}\" height=\"{HEADER}\" fill=\"#1e293b\"/>",
            place.x, place.y
        );
        let _ = writeln!(
            out,
            "    <text x=\"{}\" y=\"{}\" fill=\"#ffffff\" font-weight=\"bold\">{}</text>",
            place.x + 8,
            place.y + 19,
            escape(&truncate(&model.name))
        );
        for (i, field) in model.stored_fields().enumerate() {
            let mut marks = Vec::new();
            if is_key(model, field) {
                marks.push("PK");
            }
            if relation_of(model, field).is_some() {
                marks.push("FK");
            }
            let nullable = if field.nullable { "?" } else { "" };
            let text = format!(
                "{} {}{nullable}{}",
                field.column,
                field.ty,
                if marks.is_empty() {
                    String::new()
                } else {
                    format!(" {}", marks.join(","))
                }
            );
            let _ = writeln!(
                out,
                "    <text x=\"{}\" y=\"{}\" fill=\"#0f172a\">{}</text>",
                place.x + 8,
                place.y + HEADER + 14 + ROW * i as u32,
                escape(&truncate(&text))
            );
        }
        out.push_str("  </g>\n");
    }
    out.push_str("</svg>\n");
    out
}

fn truncate(text: &str) -> String {
    if text.chars().count() <= MAX_CHARS {
        text.to_string()
    } else {
        let mut cut: String = text.chars().take(MAX_CHARS - 1).collect();
        cut.push('…');
        cut
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
