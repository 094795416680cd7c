//! Reading importer input: files, Markdown documents with fenced blocks, folders of
//! migrations, and splitting SQL into statements with their positions.

use std::path::{Path, PathBuf};

use crate::InteropError;

/// A piece of text and where it starts in its file (1-based line).
#[derive(Debug, Clone)]
pub struct Source {
    pub file: String,
    pub text: String,
    pub first_line: u64,
}

pub fn read(path: &Path) -> Result<String, InteropError> {
    std::fs::read_to_string(path).map_err(|source| InteropError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Whether the path names a Markdown document.
pub fn is_markdown(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("md" | "markdown" | "txt")
    )
}

/// The fenced blocks of `language` in a Markdown text (```` ```sql ````), each with the line
/// its content starts on.
pub fn fenced_blocks(file: &str, text: &str, language: &str) -> Vec<Source> {
    let mut out = Vec::new();
    let mut current: Option<(u64, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        match &mut current {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    if info.trim().eq_ignore_ascii_case(language) {
                        current = Some((i as u64 + 2, String::new()));
                    }
                }
            }
            Some((start, body)) => {
                if trimmed.starts_with("```") {
                    out.push(Source {
                        file: file.to_string(),
                        text: std::mem::take(body),
                        first_line: *start,
                    });
                    current = None;
                } else {
                    body.push_str(line);
                    body.push('\n');
                }
            }
        }
    }
    if let Some((start, body)) = current {
        out.push(Source {
            file: file.to_string(),
            text: body,
            first_line: start,
        });
    }
    out
}

/// The SQL files of a migrations folder in the order they apply: sorted by path, down
/// migrations left out.
pub fn migration_files(dir: &Path) -> Result<Vec<PathBuf>, InteropError> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let entries = std::fs::read_dir(&current).map_err(|source| InteropError::Read {
            path: current.clone(),
            source,
        })?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_ascii_lowercase();
            let down = name == "down.sql" || name.ends_with(".down.sql") || name.contains("_down.");
            if name.ends_with(".sql") && !down {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Whether `statement` is a `CREATE TRIGGER … BEGIN` whose `END` has not come yet (its
/// `;`s separate the statements of the body).
fn inside_trigger_body(statement: &str) -> bool {
    let upper = statement.to_ascii_uppercase();
    let words: Vec<&str> = upper
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .collect();
    words.first() == Some(&"CREATE")
        && words.iter().take(4).any(|w| *w == "TRIGGER")
        && words.contains(&"BEGIN")
        && words.last() != Some(&"END")
}

/// One SQL statement and its position.
#[derive(Debug, Clone)]
pub struct Statement {
    pub text: String,
    pub line: u64,
    pub column: u64,
}

/// Splits SQL text on `;` outside quotes, comments and dollar-quoted bodies. Leading
/// comments are skipped so a statement's position is that of its first keyword.
pub fn split_statements(text: &str, first_line: u64) -> Vec<Statement> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start: Option<(u64, u64)> = None;
    let (mut line, mut column) = (first_line, 1u64);
    let mut i = 0;
    let advance = |c: char, line: &mut u64, column: &mut u64| {
        if c == '\n' {
            *line += 1;
            *column = 1;
        } else {
            *column += 1;
        }
    };
    while i < chars.len() {
        let c = chars[i];
        // Comments.
        if c == '-' && chars.get(i + 1) == Some(&'-') {
            while i < chars.len() && chars[i] != '\n' {
                if start.is_some() {
                    current.push(chars[i]);
                }
                advance(chars[i], &mut line, &mut column);
                i += 1;
            }
            continue;
        }
        if c == '/' && chars.get(i + 1) == Some(&'*') {
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                advance(chars[i], &mut line, &mut column);
                i += 1;
            }
            for _ in 0..2 {
                if i < chars.len() {
                    advance(chars[i], &mut line, &mut column);
                    i += 1;
                }
            }
            current.push(' ');
            continue;
        }
        if c.is_whitespace() && start.is_none() {
            advance(c, &mut line, &mut column);
            i += 1;
            continue;
        }
        if start.is_none() {
            start = Some((line, column));
        }
        // Quoted text.
        if c == '\'' || c == '"' || c == '`' {
            current.push(c);
            advance(c, &mut line, &mut column);
            i += 1;
            while i < chars.len() {
                let d = chars[i];
                current.push(d);
                advance(d, &mut line, &mut column);
                i += 1;
                if d == c {
                    if chars.get(i) == Some(&c) {
                        current.push(c);
                        advance(c, &mut line, &mut column);
                        i += 1;
                        continue;
                    }
                    break;
                }
            }
            continue;
        }
        // Dollar quoting: $$ ... $$ or $tag$ ... $tag$.
        if c == '$' {
            let mut j = i + 1;
            while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            if chars.get(j) == Some(&'$') {
                let tag: String = chars[i..=j].iter().collect();
                let tag_chars: Vec<char> = tag.chars().collect();
                for &d in &chars[i..=j] {
                    current.push(d);
                    advance(d, &mut line, &mut column);
                }
                i = j + 1;
                while i < chars.len() {
                    if chars[i..].starts_with(&tag_chars) {
                        for _ in 0..tag_chars.len() {
                            current.push(chars[i]);
                            advance(chars[i], &mut line, &mut column);
                            i += 1;
                        }
                        break;
                    }
                    current.push(chars[i]);
                    advance(chars[i], &mut line, &mut column);
                    i += 1;
                }
                continue;
            }
        }
        if c == ';' && !inside_trigger_body(&current) {
            if let Some((l, col)) = start.take() {
                out.push(Statement {
                    text: std::mem::take(&mut current),
                    line: l,
                    column: col,
                });
            }
            advance(c, &mut line, &mut column);
            i += 1;
            continue;
        }
        current.push(c);
        advance(c, &mut line, &mut column);
        i += 1;
    }
    if let Some((l, col)) = start {
        if !current.trim().is_empty() {
            out.push(Statement {
                text: current,
                line: l,
                column: col,
            });
        }
    }
    out
}
