//! `tessera import mermaid`: every `erDiagram` of a Markdown or Mermaid file (fenced
//! ```` ```mermaid ```` blocks, bare diagrams, diagrams written on one line) to a schema.
//!
//! Entities become models; attributes become fields with their types (Mermaid and
//! PostgreSQL spellings); `PK` forms the key, `UK` a unique constraint and `FK` a relation
//! whose target comes from the column name (`user_id` → the `users` entity,
//! `camera_device_id` → `devices` by its last word) or, failing that, from the entity's
//! relationship lines (by label, then in order, reported as ambiguous). Relationship lines
//! between entities without attributes become relations named after the label or the
//! parent entity. Diagrams record no nullability: non-key attributes are imported as
//! nullable. Types the diagram names but does not define (PostgreSQL enum types such as
//! `email_invite_role`) are imported as `text` with a warning, since their values are
//! unknown.

use std::path::Path;

use tessera_schema::ir::{DefaultValue, FieldType, ScalarType};

use super::draft::{self, Draft, DraftColumn, DraftForeignKey, DraftIndex, DraftTable};
use super::{source, Construct, Import, Location, WarningKind};
use crate::InteropError;

#[derive(Debug, Clone)]
struct Relationship {
    left: String,
    left_card: String,
    right: String,
    right_card: String,
    label: String,
    location: Location,
    used: bool,
}

/// Imports a Markdown or Mermaid file.
pub fn import_path(path: &Path) -> Result<Import, InteropError> {
    let text = source::read(path)?;
    import_str(&path.display().to_string(), &text)
}

/// A token with its position.
#[derive(Debug, Clone)]
struct Token {
    text: String,
    line: u64,
    column: u64,
}

/// Splits text into tokens: words, quoted strings, braces, and `:`.
fn tokenize(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let chars: Vec<char> = line.chars().collect();
        let mut j = 0;
        while j < chars.len() {
            let c = chars[j];
            if c.is_whitespace() {
                j += 1;
                continue;
            }
            if c == '%' && chars.get(j + 1) == Some(&'%') {
                break;
            }
            let start = j;
            let text = if c == '"' {
                j += 1;
                while j < chars.len() && chars[j] != '"' {
                    j += 1;
                }
                j += 1;
                chars[start..j.min(chars.len())].iter().collect::<String>()
            } else if (c == '{' || c == '}') && !is_card_char(&chars, j) || c == ':' {
                j += 1;
                c.to_string()
            } else {
                while j < chars.len()
                    && !chars[j].is_whitespace()
                    && (chars[j] != '{' || is_card_char(&chars, j))
                    && chars[j] != ':'
                    && (chars[j] != '}' || is_card_char(&chars, j))
                    && chars[j] != '"'
                {
                    j += 1;
                }
                chars[start..j].iter().collect()
            };
            out.push(Token {
                text,
                line: i as u64 + 1,
                column: start as u64 + 1,
            });
        }
    }
    out
}

/// Whether a brace at `j` belongs to a cardinality marker (`o{`, `}o`, `|{`, `}|`).
fn is_card_char(chars: &[char], j: usize) -> bool {
    let prev = j.checked_sub(1).map(|p| chars[p]);
    let next = chars.get(j + 1).copied();
    matches!(prev, Some('o' | '|')) && matches!(next, Some('-' | '.'))
        || matches!(next, Some('o' | '|')) && matches!(chars.get(j + 2), Some('-' | '.'))
        || matches!(prev, Some('o' | '|')) && j >= 3 && matches!(chars[j - 2], '-' | '.')
}

fn relationship_parts(token: &str) -> Option<(String, String)> {
    let re = regex::Regex::new(
        r"^(\|\||\|o|o\||\}o|o\{|\}\||\|\{)(--|\.\.)(\|\||\|o|o\||\}o|o\{|\}\||\|\{)$",
    )
    .ok()?;
    let caps = re.captures(token)?;
    Some((caps[1].to_string(), caps[3].to_string()))
}

fn many(card: &str) -> bool {
    card.contains('{') || card.contains('}')
}

fn optional(card: &str) -> bool {
    card.contains('o')
}

/// The text with every line outside an `erDiagram` blanked (line numbers are kept). A
/// diagram runs from its `erDiagram` line to the end of its fence, or, when bare, to the
/// first line that is not diagram syntax.
fn diagram_lines(text: &str) -> String {
    let header = regex::Regex::new(r#"^\s*[\w"-]+\s*\{\s*$"#).ok();
    let attribute =
        regex::Regex::new(r#"^\s*[\w\[\]()-]+\s+[\w-]+(\s+[A-Za-z, ]+)?(\s+"[^"]*")?\s*$"#).ok();
    let relationship =
        regex::Regex::new(r#"^\s*[\w"-]+\s+[|}o{]{2}(--|\.\.)[|}o{]{2}\s+[\w"-]+\s*:.*$"#).ok();
    let matches =
        |re: &Option<regex::Regex>, line: &str| re.as_ref().is_some_and(|r| r.is_match(line));
    let mut out = Vec::new();
    let mut inside = false;
    let mut in_block = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("erDiagram") {
            inside = true;
            in_block = false;
            out.push(line.to_string());
            continue;
        }
        if inside {
            let keep = if in_block {
                if trimmed == "}" {
                    in_block = false;
                }
                trimmed == "}" || trimmed.is_empty() || matches(&attribute, trimmed)
            } else if trimmed.is_empty() || trimmed.starts_with("%%") {
                true
            } else if matches(&header, trimmed) {
                in_block = true;
                true
            } else {
                matches(&relationship, trimmed)
                    || trimmed.starts_with("title")
                    || trimmed.starts_with("direction")
            };
            if keep {
                out.push(line.to_string());
                continue;
            }
            inside = false;
            in_block = false;
        }
        out.push(String::new());
    }
    out.join("\n")
}

/// Imports the diagrams of a text.
pub fn import_str(file: &str, text: &str) -> Result<Import, InteropError> {
    let text = diagram_lines(text);
    let tokens = tokenize(&text);
    let Some(start) = tokens.iter().position(|t| t.text == "erDiagram") else {
        return Err(InteropError::NothingToImport {
            file: file.to_string(),
            message: "no erDiagram found".into(),
        });
    };
    let mut draft = Draft::default();
    let mut relationships: Vec<Relationship> = Vec::new();
    let mut attributes_seen = false;
    let mut i = start + 1;
    let loc = |t: &Token| Location {
        file: file.to_string(),
        line: t.line,
        column: t.column,
    };
    let entity_name = |name: &str| {
        let name = name.trim_matches('"');
        if name.chars().any(|c| c.is_lowercase()) {
            name.to_string()
        } else {
            name.to_ascii_lowercase()
        }
    };
    let mut unknown_types = Vec::new();
    while i < tokens.len() {
        let t = &tokens[i];
        if t.text == "erDiagram" || t.text == "```" || t.text.starts_with("```") {
            i += 1;
            continue;
        }
        // A relationship: A card B : label
        if let Some(next) = tokens.get(i + 1) {
            if let Some((lc, rc)) = relationship_parts(&next.text) {
                let (Some(right), Some(colon)) = (tokens.get(i + 2), tokens.get(i + 3)) else {
                    break;
                };
                let mut label = String::new();
                let mut consumed = 3;
                if colon.text == ":" {
                    consumed = 4;
                    if let Some(l) = tokens.get(i + 4) {
                        if l.text.starts_with('"') {
                            label = l.text.trim_matches('"').to_string();
                            consumed = 5;
                        } else {
                            label = l.text.clone();
                            consumed = 5;
                        }
                    }
                }
                let left = entity_name(&t.text);
                let right_name = entity_name(&right.text);
                for name in [&left, &right_name] {
                    if draft.table(name).is_none() {
                        draft.tables.push(DraftTable {
                            name: name.clone(),
                            location: Some(loc(t)),
                            ..DraftTable::default()
                        });
                    }
                }
                relationships.push(Relationship {
                    left,
                    left_card: lc,
                    right: right_name,
                    right_card: rc,
                    label,
                    location: loc(t),
                    used: false,
                });
                i += consumed;
                continue;
            }
            // An entity block: NAME { type name [keys] ["comment"] ... }
            if next.text == "{" {
                let name = entity_name(&t.text);
                if draft.table(&name).is_none() {
                    draft.tables.push(DraftTable {
                        name: name.clone(),
                        location: Some(loc(t)),
                        ..DraftTable::default()
                    });
                }
                i += 2;
                // Attributes, one per line.
                while i < tokens.len() && tokens[i].text != "}" {
                    let line = tokens[i].line;
                    let mut parts = Vec::new();
                    while i < tokens.len() && tokens[i].line == line && tokens[i].text != "}" {
                        parts.push(tokens[i].clone());
                        i += 1;
                    }
                    if parts.len() < 2 {
                        continue;
                    }
                    attributes_seen = true;
                    let ty_text = parts[0].text.clone();
                    let column = parts[1].text.clone();
                    let mut keys = Vec::new();
                    let mut comment = None;
                    for p in &parts[2..] {
                        if p.text.starts_with('"') {
                            comment = Some(p.text.trim_matches('"').to_string());
                        } else {
                            keys.extend(
                                p.text
                                    .split(',')
                                    .filter(|k| !k.is_empty())
                                    .map(|k| k.trim().to_ascii_uppercase()),
                            );
                        }
                    }
                    let at = loc(&parts[0]);
                    let ty = match draft::map_type(&ty_text) {
                        Ok(Some(ty)) => ty,
                        Ok(None) => {
                            unknown_types.push((
                                at.clone(),
                                name.clone(),
                                column.clone(),
                                ty_text.clone(),
                            ));
                            FieldType {
                                scalar: ScalarType::Text,
                                array: ty_text.ends_with("[]"),
                            }
                        }
                        Err(base) => {
                            draft.no_equivalent(Some(at.clone()), Construct::Type, format!("{name}.{column}: type `{base}` has no Tessera equivalent; imported as text"));
                            FieldType {
                                scalar: ScalarType::Text,
                                array: false,
                            }
                        }
                    };
                    let pk = keys.iter().any(|k| k == "PK");
                    let timestamp = matches!(
                        draft::words(&column).as_slice(),
                        [a, b] if (a == "created" || a == "updated") && b == "at"
                    ) && ty.scalar.is_temporal();
                    let mut ty = ty;
                    if pk && ty.scalar == ScalarType::Int && ty_text.eq_ignore_ascii_case("serial")
                    {
                        ty.scalar = ScalarType::Serial;
                    }
                    let default =
                        if pk && ty.scalar == ScalarType::Uuid && keys.iter().all(|k| k != "FK") {
                            Some(DefaultValue::GeneratedUuid)
                        } else if timestamp {
                            Some(DefaultValue::Now)
                        } else {
                            None
                        };
                    let Some(table) = draft.table_mut(&name) else {
                        continue;
                    };
                    if pk {
                        table.primary_key.push(column.clone());
                    }
                    if keys.iter().any(|k| k == "UK") {
                        table.indexes.push(DraftIndex {
                            name: None,
                            columns: vec![(column.clone(), false)],
                            unique: true,
                            predicate: None,
                            location: Some(at.clone()),
                        });
                    }
                    if keys.iter().any(|k| k == "FK") {
                        table.foreign_keys.push(DraftForeignKey {
                            columns: vec![column.clone()],
                            target: String::new(),
                            target_columns: Vec::new(),
                            on_delete: None,
                            name: None,
                            unique: false,
                            location: Some(at.clone()),
                        });
                    }
                    table.columns.push(DraftColumn {
                        name: column,
                        ty,
                        nullable: !pk && !timestamp,
                        default,
                        doc: comment,
                        validations: Vec::new(),
                    });
                }
                i += 1;
                continue;
            }
        }
        i += 1;
    }
    for (at, table, column, ty) in unknown_types {
        draft.warn(
            Some(at),
            WarningKind::Assumed,
            format!("{table}.{column}: type `{ty}` is not defined in the diagram (an enum whose values are unknown?); imported as text"),
        );
    }
    if attributes_seen {
        draft.warn(None, WarningKind::Assumed, "Mermaid diagrams do not record nullability: non-key attributes are imported as nullable");
    }
    resolve_foreign_keys(&mut draft, &mut relationships);
    let described: Vec<String> = draft
        .tables
        .iter()
        .filter(|t| !t.columns.is_empty())
        .map(|t| t.name.clone())
        .collect();
    // Entities drawn without attributes get the default key.
    for table in draft.tables.iter_mut().filter(|t| t.columns.is_empty()) {
        table.columns.push(DraftColumn {
            name: "id".into(),
            ty: FieldType {
                scalar: ScalarType::Uuid,
                array: false,
            },
            nullable: false,
            default: Some(DefaultValue::GeneratedUuid),
            doc: None,
            validations: Vec::new(),
        });
        table.primary_key = vec!["id".into()];
    }
    // Relationship lines no FK attribute accounts for.
    for r in relationships.iter().filter(|r| !r.used) {
        relation_from_line(&mut draft, r, &described);
    }
    if draft.tables.is_empty() {
        return Err(InteropError::NothingToImport {
            file: file.to_string(),
            message: "the erDiagram has no entities".into(),
        });
    }
    draft::lower(draft, file)
}

/// Normalises a name for matching entities: lowercase without `_`, singular.
fn stem(name: &str) -> String {
    let lower: String = name
        .to_ascii_lowercase()
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .collect();
    if let Some(s) = lower.strip_suffix("ies") {
        format!("{s}y")
    } else if let Some(s) = lower.strip_suffix("ses") {
        format!("{s}s")
    } else if let Some(s) = lower.strip_suffix('s') {
        s.to_string()
    } else {
        lower
    }
}

fn entity_for(draft: &Draft, base: &str) -> Option<String> {
    let target = stem(base);
    draft
        .tables
        .iter()
        .find(|t| stem(&t.name) == target)
        .map(|t| t.name.clone())
}

/// The child side (holding the foreign key) of a relationship line, the parent, and
/// whether the reference is optional and unique.
fn sides(r: &Relationship) -> Option<(String, String, bool, bool)> {
    let (lm, rm) = (many(&r.left_card), many(&r.right_card));
    match (lm, rm) {
        (true, true) => None,
        (true, false) => Some((
            r.left.clone(),
            r.right.clone(),
            optional(&r.right_card),
            false,
        )),
        (false, true) => Some((
            r.right.clone(),
            r.left.clone(),
            optional(&r.left_card),
            false,
        )),
        (false, false) => {
            if optional(&r.left_card) && !optional(&r.right_card) {
                Some((r.left.clone(), r.right.clone(), false, true))
            } else {
                Some((
                    r.right.clone(),
                    r.left.clone(),
                    optional(&r.left_card),
                    true,
                ))
            }
        }
    }
}

fn resolve_foreign_keys(draft: &mut Draft, relationships: &mut [Relationship]) {
    let mut warnings = Vec::new();
    let names: Vec<String> = draft.tables.iter().map(|t| t.name.clone()).collect();
    for table_name in names {
        let Some(table) = draft.table(&table_name).cloned() else {
            continue;
        };
        let mut fks = table.foreign_keys.clone();
        // Pass 1: by name.
        for fk in &mut fks {
            let column = &fk.columns[0];
            let base = draft::relation_name(column);
            let by_label = relationships.iter().position(|r| {
                !r.used
                    && r.label.eq_ignore_ascii_case(&base)
                    && sides(r).is_some_and(|(child, _, _, _)| child == table_name)
            });
            let mut target = entity_for(draft, &base);
            if target.is_none() {
                let words = draft::words(&base);
                for k in 1..words.len() {
                    if let Some(t) = entity_for(draft, &words[k..].join("_")) {
                        target = Some(t);
                        break;
                    }
                }
            }
            if let Some(index) = by_label {
                if let Some((_, parent, _, _)) = sides(&relationships[index]) {
                    if target.as_ref().is_none_or(|t| *t == parent) {
                        target = Some(parent);
                    }
                }
            }
            if let Some(target) = target {
                let line = relationships
                    .iter()
                    .position(|r| {
                        !r.used
                            && sides(r).is_some_and(|(c, p, _, _)| c == table_name && p == target)
                            && (by_label.is_none() || r.label.eq_ignore_ascii_case(&base))
                    })
                    .or_else(|| {
                        relationships.iter().position(|r| {
                            !r.used
                                && sides(r)
                                    .is_some_and(|(c, p, _, _)| c == table_name && p == target)
                        })
                    });
                if let Some(line) = line {
                    relationships[line].used = true;
                    if let Some((_, _, _, unique)) = sides(&relationships[line]) {
                        fk.unique = unique;
                    }
                }
                fk.target = target;
            }
        }
        // Pass 2: the entity's remaining relationship lines, in order.
        for fk in fks.iter_mut().filter(|f| f.target.is_empty()) {
            let line = relationships
                .iter()
                .position(|r| !r.used && sides(r).is_some_and(|(c, _, _, _)| c == table_name));
            match line {
                Some(line) => {
                    relationships[line].used = true;
                    let (_, parent, _, unique) = sides(&relationships[line]).unwrap_or_default();
                    warnings.push((
                        fk.location.clone(),
                        WarningKind::Assumed,
                        format!("{table_name}.{}: target not evident from the name; assumed `{parent}` from the relationship line at {}", fk.columns[0], relationships[line].location),
                    ));
                    fk.target = parent;
                    fk.unique = unique;
                }
                None => warnings.push((
                    fk.location.clone(),
                    WarningKind::Unsupported,
                    format!("{table_name}.{}: marked FK but no entity or relationship identifies its target; kept as a plain column", fk.columns[0]),
                )),
            }
        }
        fks.retain(|f| !f.target.is_empty());
        if let Some(t) = draft.table_mut(&table_name) {
            // The reference's nullability: from the line when known, else the attribute's.
            t.foreign_keys = fks;
        }
    }
    for (location, kind, message) in warnings {
        draft.warn(location, kind, message);
    }
}

/// A relationship line no FK attribute accounts for: in entities without attributes the
/// line defines the relation; otherwise it is reported.
fn relation_from_line(draft: &mut Draft, r: &Relationship, described: &[String]) {
    let Some((child, parent, optional, unique)) = sides(r) else {
        draft.no_equivalent(
            Some(r.location.clone()),
            Construct::ManyToMany,
            format!(
                "many-to-many relationship {} {}--{} {} is not imported: declare a join model",
                r.left, r.left_card, r.right_card, r.right
            ),
        );
        return;
    };
    let has_attributes = described.contains(&child);
    if has_attributes {
        draft.warn(
            Some(r.location.clone()),
            WarningKind::Unsupported,
            format!(
                "relationship {} → {} ({}) has no FK attribute in `{child}`; not imported",
                child, parent, r.label
            ),
        );
        return;
    }
    let words = draft::words(&r.label);
    let single_word_label = words.len() == 1 && words[0] != "has" && words[0] != "owns";
    let base =
        if single_word_label && draft.tables.iter().filter(|_| true).count() > 0 && child == parent
        {
            words[0].clone()
        } else {
            let parent_words = draft::words(&parent);
            let refs: Vec<&str> = parent_words.iter().map(String::as_str).collect();
            tessera_schema::ir::Naming::CamelCase.join(&refs)
        };
    let existing = draft
        .table(&child)
        .map(|t| t.foreign_keys.iter().filter(|f| f.target == parent).count())
        .unwrap_or(0);
    let base = if existing > 0 && !words.is_empty() {
        let mut all = vec![base.as_str()];
        all.extend(words.iter().map(String::as_str));
        tessera_schema::ir::Naming::CamelCase.join(&all)
    } else {
        base
    };
    let column = format!("{base}Id");
    let Some(table) = draft.table_mut(&child) else {
        return;
    };
    table.foreign_keys.push(DraftForeignKey {
        columns: vec![column.clone()],
        target: parent,
        target_columns: Vec::new(),
        on_delete: None,
        name: Some(base),
        unique,
        location: Some(r.location.clone()),
    });
    table.columns.push(DraftColumn {
        name: column,
        ty: FieldType {
            scalar: ScalarType::Uuid,
            array: false,
        },
        nullable: optional,
        default: None,
        doc: if r.label.is_empty() {
            None
        } else {
            Some(r.label.clone())
        },
        validations: Vec::new(),
    });
}
