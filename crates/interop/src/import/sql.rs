//! `tessera import sql`: SQL DDL (a file, a Markdown document's ```` ```sql ```` blocks, or
//! a folder of migrations applied in order) to a schema.

use std::path::Path;

use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, AlterType, AlterTypeAddValuePosition,
    AlterTypeOperation, ColumnDef, ColumnOption, CommentObject, DataType, Expr, ObjectName,
    ObjectType, ReferentialAction, Statement as Sql, TableConstraint, UnaryOperator,
    UserDefinedTypeRepresentation, Value,
};
use sqlparser::dialect::{GenericDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;
use tessera_schema::ir::{DefaultValue, FieldType, OnDelete, Rule, ScalarType, Validation};

use super::draft::{self, Draft, DraftColumn, DraftEnum, DraftForeignKey, DraftIndex, DraftTable};
use super::source::{self, Source, Statement};
use super::{Construct, Import, Location, WarningKind};
use crate::InteropError;

/// The SQL dialect the DDL is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    #[default]
    Postgres,
    Sqlite,
    Mysql,
}

impl std::str::FromStr for Dialect {
    type Err = InteropError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" | "pg" => Ok(Dialect::Postgres),
            "sqlite" => Ok(Dialect::Sqlite),
            "mysql" | "mariadb" => Ok(Dialect::Mysql),
            other => Err(InteropError::UnknownDialect(other.to_string())),
        }
    }
}

/// Imports a file, a Markdown document or a folder of migrations.
pub fn import_path(path: &Path, dialect: Dialect) -> Result<Import, InteropError> {
    let mut sources = Vec::new();
    if path.is_dir() {
        for file in source::migration_files(path)? {
            sources.push(Source {
                file: file.display().to_string(),
                text: source::read(&file)?,
                first_line: 1,
            });
        }
    } else {
        let text = source::read(path)?;
        let file = path.display().to_string();
        if source::is_markdown(path) {
            sources = source::fenced_blocks(&file, &text, "sql");
        } else {
            sources.push(Source {
                file,
                text,
                first_line: 1,
            });
        }
    }
    let name = path.display().to_string();
    if sources.iter().all(|s| s.text.trim().is_empty()) {
        return Err(InteropError::NothingToImport {
            file: name,
            message: "no SQL found (a Markdown document needs ```sql blocks)".into(),
        });
    }
    import_sources(&name, &sources, dialect)
}

/// Imports SQL text.
pub fn import_str(file: &str, text: &str, dialect: Dialect) -> Result<Import, InteropError> {
    import_sources(
        file,
        &[Source {
            file: file.to_string(),
            text: text.to_string(),
            first_line: 1,
        }],
        dialect,
    )
}

fn import_sources(
    name: &str,
    sources: &[Source],
    dialect: Dialect,
) -> Result<Import, InteropError> {
    import_sources_into(Draft::default(), name, sources, dialect)
}

/// Applies `sources` to `draft` (which may hold warnings already) and lowers the result.
pub(crate) fn import_sources_into(
    draft: Draft,
    name: &str,
    sources: &[Source],
    dialect: Dialect,
) -> Result<Import, InteropError> {
    let mut importer = Importer {
        draft,
        dialect,
        domains: Vec::new(),
        composites: Vec::new(),
        partitions: Vec::new(),
        views: Vec::new(),
        ignored_data: 0,
    };
    let mut placeholders = 0;
    for source in sources {
        let (text, count) = expand_placeholders(&source.text);
        placeholders += count;
        for statement in source::split_statements(&text, source.first_line) {
            importer.statement(&source.file, &statement);
        }
        if importer.ignored_data > 0 {
            let count = importer.ignored_data;
            importer.draft.no_equivalent(
                Some(Location {
                    file: source.file.clone(),
                    line: source.first_line,
                    column: 1,
                }),
                Construct::Data,
                format!("{count} data statement(s) (INSERT, UPDATE, DELETE, COPY) ignored: import reads structure only"),
            );
            importer.ignored_data = 0;
        }
    }
    if placeholders > 0 {
        importer.draft.note(format!(
            "{placeholders} template placeholder(s) `{{{{ … }}}}` read as the default schema (before `.`) or as a name"
        ));
    }
    if importer.draft.tables.is_empty() {
        return Err(InteropError::NothingToImport {
            file: name.to_string(),
            message: "no CREATE TABLE statement found".into(),
        });
    }
    draft::lower(importer.draft, name)
}

/// `ALTER TABLE t VALIDATE CONSTRAINT c`: checks existing rows against a constraint added
/// `NOT VALID`; the schema does not change.
fn validates_constraint(text: &str) -> bool {
    regex::Regex::new(
        r#"(?is)^\s*ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?[\w".]+\s+VALIDATE\s+CONSTRAINT\s+[\w"]+\s*;?\s*$"#,
    )
    .is_ok_and(|re| re.is_match(text))
}

/// `ALTER TABLE t [NO] FORCE ROW LEVEL SECURITY` (which sqlparser does not read): `t`.
fn forces_row_level_security(text: &str) -> Option<String> {
    let re = regex::Regex::new(
        r#"(?is)^\s*ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(?:[\w"]+\.)?"?(\w+)"?\s+(?:NO\s+)?FORCE\s+ROW\s+LEVEL\s+SECURITY\s*;?\s*$"#,
    )
    .ok()?;
    Some(re.captures(text)?[1].to_string())
}

/// The name of the view a `CREATE [OR REPLACE] [MATERIALIZED] VIEW` statement creates.
fn view_name(text: &str) -> Option<String> {
    let re = regex::Regex::new(
        r#"(?is)^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:MATERIALIZED\s+)?VIEW\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:[\w"]+\.)?"?(\w+)"?"#,
    )
    .ok()?;
    Some(re.captures(text)?[1].to_string())
}

/// A `CREATE INDEX` statement without its operator classes (`email text_pattern_ops`,
/// `embedding public.vector_cosine_ops`), which sqlparser does not read, and the classes.
fn without_operator_classes(text: &str) -> (String, Vec<String>) {
    let Ok(re) = regex::Regex::new(
        r#"(?i)(\S)\s+((?:[\w"]+\.)?"?\w+_ops"?)(\s*[,)]|\s+(?:ASC|DESC|NULLS)\b)"#,
    ) else {
        return (text.to_string(), Vec::new());
    };
    let mut classes = Vec::new();
    let out = re.replace_all(text, |caps: &regex::Captures| {
        classes.push(caps[2].trim_matches('"').to_string());
        format!("{}{}", &caps[1], &caps[3])
    });
    (out.into_owned(), classes)
}

/// `ALTER TABLE [ONLY] parent ATTACH PARTITION child …`: (parent, child).
fn attached_partition(text: &str) -> Option<(String, String)> {
    let re = regex::Regex::new(
        r#"(?is)^\s*ALTER\s+TABLE\s+(?:ONLY\s+)?(?:[\w"]+\.)?"?(\w+)"?\s+ATTACH\s+PARTITION\s+(?:[\w"]+\.)?"?(\w+)"?"#,
    )
    .ok()?;
    let caps = re.captures(text)?;
    Some((caps[1].to_string(), caps[2].to_string()))
}

/// Migrations written as Go templates (gobuffalo/pop, as in supabase/auth) qualify names
/// with `{{ index .Options "Namespace" }}.`: such a qualifier is dropped (the default
/// schema); any other `{{ … }}` becomes the name `template_value`. Lines keep their
/// numbers. Returns the text and the number of placeholders.
fn expand_placeholders(text: &str) -> (String, usize) {
    if !text.contains("{{") {
        return (text.to_string(), 0);
    }
    let (Ok(qualifier), Ok(other)) = (
        regex::Regex::new(r"\{\{[^}\n]*\}\}\s*\."),
        regex::Regex::new(r"\{\{[^}\n]*\}\}"),
    ) else {
        return (text.to_string(), 0);
    };
    let count = other.find_iter(text).count();
    let text = qualifier.replace_all(text, "");
    let text = other.replace_all(&text, "template_value");
    (text.into_owned(), count)
}

struct Importer {
    draft: Draft,
    dialect: Dialect,
    /// `CREATE DOMAIN` names and their base types.
    domains: Vec<(String, FieldType)>,
    /// Composite types (`CREATE TYPE t AS (…)`), reported and not imported.
    composites: Vec<String>,
    /// Partitions attached to a parent (child, parent): not models; statements on them
    /// (indexes, constraints) go with them.
    partitions: Vec<(String, String)>,
    /// Views and materialized views, reported and not imported; their indexes go with
    /// them.
    views: Vec<String>,
    ignored_data: usize,
}

fn last_name(name: &ObjectName) -> String {
    name.0
        .last()
        .map(|p| {
            p.to_string()
                .trim_matches(|c| c == '"' || c == '`' || c == '[' || c == ']')
                .to_string()
        })
        .unwrap_or_default()
}

fn unquote(ident: &sqlparser::ast::Ident) -> String {
    ident.value.clone()
}

fn first_words(text: &str, n: usize) -> String {
    text.split_whitespace()
        .take(n)
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_uppercase()
}

impl Importer {
    fn location(file: &str, statement: &Statement, needle: Option<&str>) -> Location {
        if let Some(needle) = needle {
            if let Some(offset) = statement.text.find(needle) {
                let before = &statement.text[..offset];
                let lines = before.matches('\n').count() as u64;
                let column = match before.rfind('\n') {
                    Some(nl) => before[nl + 1..].chars().count() as u64 + 1,
                    None => statement.column + before.chars().count() as u64,
                };
                return Location {
                    file: file.to_string(),
                    line: statement.line + lines,
                    column,
                };
            }
        }
        Location {
            file: file.to_string(),
            line: statement.line,
            column: statement.column,
        }
    }

    fn parse(&self, text: &str) -> Result<Vec<Sql>, String> {
        let primary: Box<dyn sqlparser::dialect::Dialect> = match self.dialect {
            Dialect::Postgres => Box::new(PostgreSqlDialect {}),
            Dialect::Sqlite => Box::new(SQLiteDialect {}),
            Dialect::Mysql => Box::new(MySqlDialect {}),
        };
        match Parser::parse_sql(primary.as_ref(), text) {
            Ok(statements) => Ok(statements),
            Err(first) => {
                for fallback in [
                    Box::new(GenericDialect {}) as Box<dyn sqlparser::dialect::Dialect>,
                    Box::new(MySqlDialect {}),
                ] {
                    if fallback.dialect() != primary.dialect() {
                        if let Ok(statements) = Parser::parse_sql(fallback.as_ref(), text) {
                            return Ok(statements);
                        }
                    }
                }
                Err(first.to_string())
            }
        }
    }

    fn statement(&mut self, file: &str, statement: &Statement) {
        let head = first_words(&statement.text, 3);
        let at = Self::location(file, statement, None);
        let ignore = [
            "BEGIN",
            "COMMIT",
            "START TRANSACTION",
            "SET ",
            "RESET",
            "ROLLBACK",
            "PRAGMA",
            "SELECT PG_CATALOG",
            "DROP DATABASE",
            "\\",
        ];
        let upper_all = statement.text.to_ascii_uppercase();
        let ownership = upper_all.starts_with("ALTER") && upper_all.contains(" OWNER TO ");
        if ignore.iter().any(|p| head.starts_with(p))
            || ownership
            || head.starts_with("ALTER SCHEMA")
            || validates_constraint(&statement.text)
        {
            return;
        }
        if ["INSERT", "UPDATE", "DELETE", "COPY", "SELECT"]
            .iter()
            .any(|p| head.starts_with(p))
        {
            self.ignored_data += 1;
            return;
        }
        // Statements that change nothing the import holds: sequences back serial columns
        // (read through `nextval` defaults); a drop of something never imported (a
        // function, a trigger, a view) removes nothing.
        let silent = [
            "CREATE SEQUENCE",
            "ALTER SEQUENCE",
            "DROP SEQUENCE",
            "DROP FUNCTION",
            "DROP PROCEDURE",
            "DROP TRIGGER",
            "DROP VIEW",
            "DROP MATERIALIZED VIEW",
            "DROP POLICY",
            "DROP RULE",
            "DROP AGGREGATE",
            "DROP EXTENSION",
            "DROP SCHEMA",
        ];
        let kinds: &[(&str, Construct)] = &[
            ("CREATE FUNCTION", Construct::Function),
            ("CREATE OR REPLACE FUNCTION", Construct::Function),
            ("CREATE PROCEDURE", Construct::Procedure),
            ("CREATE OR REPLACE PROCEDURE", Construct::Procedure),
            ("CREATE TRIGGER", Construct::Trigger),
            ("CREATE OR REPLACE TRIGGER", Construct::Trigger),
            ("CREATE CONSTRAINT TRIGGER", Construct::Trigger),
            ("CREATE VIEW", Construct::View),
            ("CREATE OR REPLACE VIEW", Construct::View),
            ("CREATE MATERIALIZED VIEW", Construct::MaterializedView),
            ("CREATE POLICY", Construct::Policy),
            ("ALTER POLICY", Construct::Policy),
            ("CREATE RULE", Construct::Rule),
            ("CREATE OR REPLACE RULE", Construct::Rule),
            ("CREATE AGGREGATE", Construct::Aggregate),
            ("CREATE OR REPLACE AGGREGATE", Construct::Aggregate),
            ("CREATE EXTENSION", Construct::Extension),
            ("CREATE SCHEMA", Construct::Schema),
            ("CREATE DATABASE", Construct::Database),
            ("GRANT", Construct::Grant),
            ("REVOKE", Construct::Grant),
            ("ALTER DEFAULT PRIVILEGES", Construct::Grant),
            ("ALTER FUNCTION", Construct::Function),
            ("ALTER PROCEDURE", Construct::Procedure),
            ("ALTER VIEW", Construct::View),
            ("ALTER MATERIALIZED VIEW", Construct::MaterializedView),
            ("ALTER TRIGGER", Construct::Trigger),
            ("ALTER EXTENSION", Construct::Extension),
            ("REFRESH MATERIALIZED VIEW", Construct::MaterializedView),
        ];
        let upper = statement.text.trim_start().to_ascii_uppercase();
        if upper.starts_with("CREATE TRIGGER") && self.serial_trigger(&statement.text) {
            return;
        }
        if silent.iter().any(|p| upper.starts_with(p)) {
            return;
        }
        if let Some((_, construct)) = kinds.iter().find(|(p, _)| upper.starts_with(p)) {
            if matches!(construct, Construct::View | Construct::MaterializedView) {
                if let Some(name) = view_name(&statement.text) {
                    self.views.push(name);
                }
            }
            let name = statement
                .text
                .split_whitespace()
                .skip(2)
                .take(3)
                .collect::<Vec<_>>()
                .join(" ");
            self.draft.no_equivalent(
                Some(at),
                *construct,
                format!(
                    "{construct} has no Tessera equivalent; not imported ({})",
                    truncate(&name, 60)
                ),
            );
            return;
        }
        if upper.starts_with("COMMENT ON") && self.comment_without_equivalent(statement, &at) {
            return;
        }
        if let Some(table) = forces_row_level_security(&statement.text) {
            self.draft.no_equivalent(
                Some(at),
                Construct::RowLevelSecurity,
                format!("{table}: row-level security has no Tessera equivalent (use the schema's access rules)"),
            );
            return;
        }
        if let Some((parent, child)) = attached_partition(&statement.text) {
            let removed = self.draft.table(&child).is_some();
            self.draft
                .tables
                .retain(|t| !t.name.eq_ignore_ascii_case(&child));
            self.partitions.push((child.clone(), parent.clone()));
            if removed {
                self.draft.no_equivalent(
                    Some(at),
                    Construct::Partition,
                    format!("`{child}` is a partition of `{parent}`: its rows are rows of `{parent}`; not imported as a model (nor its own indexes and constraints)"),
                );
            }
            return;
        }
        if upper.starts_with("DO ") || upper.starts_with("DO$") {
            self.do_block(file, statement, at);
            return;
        }
        if upper.starts_with("CREATE DOMAIN") {
            self.domain(statement, at);
            return;
        }
        let mut text = self.rewrite(&statement.text);
        if upper.starts_with("CREATE INDEX") || upper.starts_with("CREATE UNIQUE INDEX") {
            let (without, classes) = without_operator_classes(&text);
            for class in classes {
                self.draft.no_equivalent(
                    Some(at.clone()),
                    Construct::OperatorClass,
                    format!("index operator class `{class}` has no Tessera equivalent; the index is imported on its columns without it"),
                );
            }
            text = without;
        }
        let parsed = match self.parse(&text) {
            Ok(parsed) => parsed,
            Err(error) => {
                self.draft.warn(
                    Some(at),
                    WarningKind::Unparsed,
                    format!("cannot parse `{}`: {error}; skipped", truncate(&head, 40)),
                );
                return;
            }
        };
        for sql in parsed {
            self.apply(file, statement, sql);
        }
    }

    /// Rewrites what sqlparser does not read into what it does (Tessera's SQLite uuid
    /// check, virtual generated columns, `NOT VALID`). Domain types are resolved where a
    /// type is expected ([`column_type`]), not here.
    fn rewrite(&self, text: &str) -> String {
        let mut out = text.to_string();
        // Tessera's SQLite spellings of a generated uuid and of the uuid shape check
        // (sqlparser reads neither `GLOB` nor the concatenation as a default).
        let uuid = tessera_sql::DialectKind::Sqlite.dialect().uuid_expr();
        // PostgreSQL 18's virtual generated columns (sqlparser reads `STORED` only); they
        // are imported as plain columns, with a warning, either way.
        if let Ok(re) = regex::Regex::new(r"(?is)(GENERATED\s+ALWAYS\s+AS\s*\(.*?\))\s+VIRTUAL\b") {
            out = re.replace_all(&out, "$1 STORED").into_owned();
        }
        if out.contains(&uuid) {
            out = out.replace(&uuid, "gen_random_uuid()");
        }
        if let Ok(re) = regex::Regex::new(
            r#"(?i)length\(("?)(\w+)"?\)\s*=\s*36\s+AND\s+"?(\w+)"?\s+GLOB\s+'[\[\]0-9a-fA-F-]*'"#,
        ) {
            out = re
                .replace_all(&out, |caps: &regex::Captures| {
                    if caps[2] == caps[3] {
                        format!("{UUID_SHAPE}({q}{c}{q})", q = &caps[1], c = &caps[2])
                    } else {
                        caps[0].to_string()
                    }
                })
                .into_owned();
        }
        // `ADD CONSTRAINT … NOT VALID` (PostgreSQL): the constraint is not checked
        // against existing rows; it holds for new ones, which is what the schema states.
        if let Ok(re) = regex::Regex::new(
            r"(?is)^(\s*ALTER\s+TABLE\b.*\bADD\s+CONSTRAINT\b.*?)\s+NOT\s+VALID\b",
        ) {
            out = re.replace_all(&out, "$1").into_owned();
        }
        out
    }

    /// Whether `name` is a partition or a view, which statements on it go with.
    fn is_partition_or_view(&self, name: &str) -> bool {
        self.partitions
            .iter()
            .any(|(child, _)| child.eq_ignore_ascii_case(name))
            || self.views.iter().any(|v| v.eq_ignore_ascii_case(name))
    }

    /// `COMMENT ON` an object sqlparser does not read there. A comment on something that
    /// is not imported (a function, a trigger, a view, a policy…) goes with it: that
    /// object is reported where it is created. A comment on an imported object that cannot
    /// carry one (an index, a constraint, a domain) is reported. A comment on an enum
    /// becomes its doc comment. Returns whether the statement was handled.
    fn comment_without_equivalent(&mut self, statement: &Statement, at: &Location) -> bool {
        let Ok(re) = regex::Regex::new(
            r#"(?is)^\s*COMMENT\s+ON\s+(FUNCTION|PROCEDURE|ROUTINE|AGGREGATE|TRIGGER|VIEW|MATERIALIZED\s+VIEW|POLICY|RULE|SEQUENCE|EXTENSION|SCHEMA|DATABASE|ROLE|INDEX|CONSTRAINT|DOMAIN|TYPE)\s+(?:[\w"]+\.)?"?(\w+)"?"#,
        ) else {
            return false;
        };
        let Some(caps) = re.captures(&statement.text) else {
            return false;
        };
        let object = caps[1]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_ascii_uppercase();
        let name = caps[2].to_string();
        match object.as_str() {
            "INDEX" | "CONSTRAINT" | "DOMAIN" => {
                self.draft.no_equivalent(
                    Some(at.clone()),
                    Construct::Comment,
                    format!(
                        "comment on {} `{name}`: Tessera keeps doc comments on models, fields and enums only; not imported",
                        object.to_ascii_lowercase()
                    ),
                );
            }
            "TYPE" => {
                let comment = regex::Regex::new(r"(?is)\bIS\s+'((?:[^']|'')*)'\s*;?\s*$")
                    .ok()
                    .and_then(|re| {
                        re.captures(&statement.text)
                            .map(|c| c[1].replace("''", "'"))
                    });
                match self
                    .draft
                    .enums
                    .iter_mut()
                    .find(|e| e.name.eq_ignore_ascii_case(&name))
                {
                    Some(e) => e.doc = comment,
                    None => self.draft.no_equivalent(
                        Some(at.clone()),
                        Construct::Comment,
                        format!("comment on type `{name}`, which is not an enum; not imported"),
                    ),
                }
            }
            _ => {}
        }
        true
    }

    /// A `DO $$ … $$` block: its procedural code is not imported, but migrations often
    /// wrap DDL in one (`CREATE TYPE … EXCEPTION WHEN duplicate_object`, `IF NOT EXISTS …
    /// THEN ALTER TABLE …`); those DDL statements are applied as if unconditional.
    fn do_block(&mut self, file: &str, statement: &Statement, at: Location) {
        let text = &statement.text;
        let body = text
            .find("$$")
            .and_then(|open| {
                text.rfind("$$")
                    .filter(|close| *close > open + 1)
                    .map(|close| &text[open + 2..close])
            })
            .unwrap_or("");
        let Ok(prefix) = regex::Regex::new(
            r"(?is)^\s*(?:declare\b.*?\bbegin\b|begin\b|if\b.*?\bthen\b|elsif\b.*?\bthen\b|else\b|exception\b.*?\bthen\b)\s*",
        ) else {
            return;
        };
        let ddl = [
            "CREATE TYPE",
            "CREATE TABLE",
            "ALTER TABLE",
            "CREATE INDEX",
            "CREATE UNIQUE INDEX",
            "ALTER TYPE",
            "COMMENT ON",
        ];
        let mut applied = 0;
        for inner in source::split_statements(body, statement.line) {
            let mut rest = inner.text.as_str();
            while let Some(m) = prefix.find(rest) {
                if m.end() == 0 {
                    break;
                }
                rest = &rest[m.end()..];
            }
            let upper = rest.trim_start().to_ascii_uppercase();
            if ddl.iter().any(|k| upper.starts_with(k)) {
                let piece = Statement {
                    text: rest.trim().to_string(),
                    line: inner.line,
                    column: inner.column,
                };
                self.statement(file, &piece);
                applied += 1;
            }
        }
        self.draft.no_equivalent(
            Some(at),
            Construct::ProceduralCode,
            format!("DO block: procedural code has no Tessera equivalent; {applied} DDL statement(s) inside it applied as if unconditional"),
        );
    }

    /// Tessera's SQLite trigger filling a serial column that is not the key
    /// (`… WHEN NEW.c IS NULL BEGIN UPDATE t SET c = (SELECT coalesce(max(c), 0) + 1 …`):
    /// the column is serial.
    fn serial_trigger(&mut self, text: &str) -> bool {
        let Ok(re) = regex::Regex::new(
            r#"(?is)^\s*CREATE\s+TRIGGER\s+\S+\s+AFTER\s+INSERT\s+ON\s+"?(\w+)"?\s+FOR\s+EACH\s+ROW\s+WHEN\s+NEW\."?(\w+)"?\s+IS\s+NULL\s+BEGIN\s+UPDATE\s+"?(\w+)"?\s+SET\s+"?(\w+)"?\s*=\s*\(\s*SELECT\s+coalesce\s*\(\s*max\s*\(\s*"?(\w+)"?\s*\)\s*,\s*0\s*\)\s*\+\s*1\s+FROM\s+"?(\w+)"?\s*\)"#,
        ) else {
            return false;
        };
        let Some(caps) = re.captures(text) else {
            return false;
        };
        let (table, column) = (&caps[1], &caps[2]);
        if caps[3] != *table || caps[6] != *table || caps[4] != *column || caps[5] != *column {
            return false;
        }
        let Some(c) = self
            .draft
            .table_mut(table)
            .and_then(|t| t.column_mut(column))
        else {
            return false;
        };
        if !c.ty.scalar.is_integer() || c.ty.array {
            return false;
        }
        c.ty.scalar = ScalarType::Serial;
        c.nullable = false;
        c.default = None;
        true
    }

    fn domain(&mut self, statement: &Statement, at: Location) {
        let re = regex::Regex::new(
            r#"(?is)^\s*create\s+domain\s+(?:[\w"]+\.)?"?(\w+)"?\s+(?:as\s+)?([\w ]+?(?:\(\s*\d+(?:\s*,\s*\d+)?\s*\))?)(?:\s+(?:default|constraint|check|not|null|collate)\b.*)?$"#,
        );
        let Ok(re) = re else { return };
        match re.captures(statement.text.trim()) {
            Some(caps) => {
                let name = caps[1].to_string();
                match draft::map_type(&caps[2]) {
                    Ok(Some(ty)) => {
                        if statement.text.to_ascii_uppercase().contains("CHECK") {
                            self.draft.no_equivalent(
                                Some(at),
                                Construct::Check,
                                format!("domain `{name}`: its CHECK constraint is not imported; columns use the base type {ty}"),
                            );
                        }
                        self.domains.push((name, ty));
                    }
                    Err(base) => self.draft.no_equivalent(
                        Some(at),
                        Construct::Type,
                        format!("domain `{name}`: its base type `{base}` has no Tessera equivalent; columns of the domain are imported as text"),
                    ),
                    Ok(None) => self.draft.warn(
                        Some(at),
                        WarningKind::Unsupported,
                        format!("domain `{name}` has an unknown base type; columns of the domain are imported as text"),
                    ),
                }
            }
            None => self.draft.warn(
                Some(at),
                WarningKind::Unparsed,
                "CREATE DOMAIN not understood; not imported",
            ),
        }
    }

    fn apply(&mut self, file: &str, statement: &Statement, sql: Sql) {
        let at = Self::location(file, statement, None);
        match sql {
            Sql::CreateTable(create) => {
                let name = last_name(&create.name);
                if self.draft.table(&name).is_some() {
                    if !create.if_not_exists {
                        self.draft.warn(
                            Some(at),
                            WarningKind::Unsupported,
                            format!(
                                "table `{name}` is created twice; the first definition is kept"
                            ),
                        );
                    }
                    return;
                }
                let mut table = DraftTable {
                    name: name.clone(),
                    location: Some(at.clone()),
                    ..DraftTable::default()
                };
                for column in &create.columns {
                    self.column(file, statement, &mut table, column);
                }
                for constraint in &create.constraints {
                    self.constraint(file, statement, &mut table, constraint);
                }
                if let Some(comment) = create.comment.as_ref() {
                    table.doc = Some(
                        comment
                            .to_string()
                            .trim_start_matches("COMMENT")
                            .trim()
                            .trim_start_matches('=')
                            .trim()
                            .trim_matches('\'')
                            .to_string(),
                    );
                }
                self.draft.tables.push(table);
            }
            Sql::CreateType {
                name,
                representation,
            } => {
                let name = last_name(&name);
                match representation {
                    UserDefinedTypeRepresentation::Enum { labels } => {
                        self.draft.enums.push(DraftEnum {
                            name,
                            values: labels.iter().map(unquote).collect(),
                            doc: None,
                        });
                    }
                    UserDefinedTypeRepresentation::Composite { .. } => {
                        self.composites.push(name.clone());
                        self.draft.no_equivalent(
                            Some(at),
                            Construct::CompositeType,
                            format!(
                                "composite type `{name}` has no Tessera equivalent; not imported"
                            ),
                        );
                    }
                }
            }
            Sql::CreateIndex(index) => {
                let table_name = last_name(&index.table_name);
                let mut columns = Vec::new();
                for column in &index.columns {
                    match &column.expr {
                        Expr::Identifier(ident) => {
                            columns.push((unquote(ident), column.options.asc == Some(false)))
                        }
                        Expr::CompoundIdentifier(parts) => columns.push((
                            parts.last().map(unquote).unwrap_or_default(),
                            column.options.asc == Some(false),
                        )),
                        _ => {
                            self.draft.no_equivalent(Some(at.clone()), Construct::ExpressionIndex, format!("index on expression `{}` of `{table_name}` has no Tessera equivalent; not imported", column.expr));
                            return;
                        }
                    }
                }
                let draft_index = DraftIndex {
                    name: index.name.as_ref().map(last_name),
                    columns,
                    unique: index.unique,
                    predicate: index.predicate.as_ref().map(|p| p.to_string()),
                    location: Some(at.clone()),
                };
                let goes_with_other = self.is_partition_or_view(&table_name);
                match self.draft.table_mut(&table_name) {
                    Some(table) => table.indexes.push(draft_index),
                    // Goes with the partition or view it indexes (reported there).
                    None if goes_with_other => {}
                    None => self.draft.warn(
                        Some(at),
                        WarningKind::Unsupported,
                        format!("index on unknown table `{table_name}`; skipped"),
                    ),
                }
            }
            Sql::AlterTable {
                name, operations, ..
            } => {
                let table_name = last_name(&name);
                if self.draft.table(&table_name).is_none() {
                    if !self.is_partition_or_view(&table_name) {
                        self.draft.warn(
                            Some(at),
                            WarningKind::Unsupported,
                            format!("ALTER TABLE of unknown table `{table_name}`; skipped"),
                        );
                    }
                    return;
                }
                for operation in operations {
                    self.alter(file, statement, &table_name, operation);
                }
            }
            Sql::Drop {
                object_type, names, ..
            } => {
                for name in names {
                    let name = last_name(&name);
                    match object_type {
                        ObjectType::Table => self
                            .draft
                            .tables
                            .retain(|t| !t.name.eq_ignore_ascii_case(&name)),
                        ObjectType::Index => {
                            for table in &mut self.draft.tables {
                                table
                                    .indexes
                                    .retain(|i| i.name.as_deref() != Some(name.as_str()));
                            }
                        }
                        ObjectType::Type => self
                            .draft
                            .enums
                            .retain(|e| !e.name.eq_ignore_ascii_case(&name)),
                        // Views, sequences, schemas…: never imported, nothing to remove.
                        _ => {}
                    }
                }
            }
            Sql::Comment {
                object_type,
                object_name,
                comment,
                ..
            } => {
                let parts: Vec<String> = object_name
                    .0
                    .iter()
                    .map(|p| p.to_string().trim_matches('"').to_string())
                    .collect();
                match object_type {
                    CommentObject::Table => {
                        let table_name = parts.last().cloned().unwrap_or_default();
                        if let Some(table) = self.draft.table_mut(&table_name) {
                            table.doc = comment;
                        }
                    }
                    CommentObject::Column if parts.len() >= 2 => {
                        let (table_name, column_name) =
                            (&parts[parts.len() - 2], &parts[parts.len() - 1]);
                        if let Some(column) = self
                            .draft
                            .table_mut(table_name)
                            .and_then(|t| t.column_mut(column_name))
                        {
                            column.doc = comment;
                        }
                    }
                    // Extensions, schemas, databases, roles: dropped with what they
                    // comment on, which is reported where it is created.
                    _ => {}
                }
            }
            Sql::AlterType(AlterType { name, operation }) => {
                let name = last_name(&name);
                match (
                    operation,
                    self.draft
                        .enums
                        .iter_mut()
                        .find(|e| e.name.eq_ignore_ascii_case(&name)),
                ) {
                    (AlterTypeOperation::AddValue(add), Some(e)) => {
                        let value = unquote(&add.value);
                        if !e.values.contains(&value) {
                            let at = match &add.position {
                                Some(AlterTypeAddValuePosition::Before(v)) => {
                                    e.values.iter().position(|x| *x == v.value)
                                }
                                Some(AlterTypeAddValuePosition::After(v)) => {
                                    e.values.iter().position(|x| *x == v.value).map(|i| i + 1)
                                }
                                None => None,
                            };
                            let at = at.unwrap_or(e.values.len());
                            e.values.insert(at, value);
                        }
                    }
                    (AlterTypeOperation::RenameValue(rename), Some(e)) => {
                        let (from, to) = (unquote(&rename.from), unquote(&rename.to));
                        for v in &mut e.values {
                            if *v == from {
                                *v = to.clone();
                            }
                        }
                    }
                    (AlterTypeOperation::Rename(rename), Some(e)) => {
                        let new = unquote(&rename.new_name);
                        let (old_id, new_id) =
                            (draft::identifier(&e.name), draft::identifier(&new));
                        e.name = new;
                        for column in self
                            .draft
                            .tables
                            .iter_mut()
                            .flat_map(|t| t.columns.iter_mut())
                        {
                            if column.ty.scalar == ScalarType::Enum(old_id.clone()) {
                                column.ty.scalar = ScalarType::Enum(new_id.clone());
                            }
                        }
                    }
                    (_, None) => self.draft.warn(
                        Some(at),
                        WarningKind::Unsupported,
                        format!("ALTER TYPE of unknown enum `{name}`; skipped"),
                    ),
                }
            }
            other => {
                let text = other.to_string();
                self.draft.warn(
                    Some(at),
                    WarningKind::Unsupported,
                    format!(
                        "`{}` is not a statement the importer applies; not imported",
                        truncate(&text, 60)
                    ),
                );
            }
        }
    }

    fn alter(
        &mut self,
        file: &str,
        statement: &Statement,
        table_name: &str,
        operation: AlterTableOperation,
    ) {
        let at = Self::location(file, statement, None);
        let Some(mut table) = self.draft.table(table_name).cloned() else {
            return;
        };
        match operation {
            AlterTableOperation::AddConstraint(constraint) => {
                self.constraint(file, statement, &mut table, &constraint)
            }
            AlterTableOperation::AddColumn { column_def, .. } => {
                self.column(file, statement, &mut table, &column_def)
            }
            AlterTableOperation::DropColumn { column_name, .. } => {
                let name = unquote(&column_name);
                table
                    .columns
                    .retain(|c| !c.name.eq_ignore_ascii_case(&name));
                table
                    .foreign_keys
                    .retain(|f| !f.columns.iter().any(|c| c.eq_ignore_ascii_case(&name)));
                table
                    .indexes
                    .retain(|i| !i.columns.iter().any(|(c, _)| c.eq_ignore_ascii_case(&name)));
                table.primary_key.retain(|c| !c.eq_ignore_ascii_case(&name));
            }
            AlterTableOperation::RenameColumn {
                old_column_name,
                new_column_name,
            } => {
                let (old, new) = (unquote(&old_column_name), unquote(&new_column_name));
                let rename = |c: &mut String| {
                    if c.eq_ignore_ascii_case(&old) {
                        *c = new.clone();
                    }
                };
                if let Some(column) = table.column_mut(&old) {
                    column.name = new.clone();
                }
                table.primary_key.iter_mut().for_each(rename);
                for fk in &mut table.foreign_keys {
                    fk.columns.iter_mut().for_each(rename);
                }
                for index in &mut table.indexes {
                    index.columns.iter_mut().for_each(|(c, _)| rename(c));
                }
            }
            AlterTableOperation::RenameTable {
                table_name: new_name,
            } => {
                let new = last_name(&new_name);
                for other in &mut self.draft.tables {
                    for fk in &mut other.foreign_keys {
                        if fk.target.eq_ignore_ascii_case(&table.name) {
                            fk.target = new.clone();
                        }
                    }
                }
                table
                    .foreign_keys
                    .iter_mut()
                    .filter(|f| f.target.eq_ignore_ascii_case(&table.name))
                    .for_each(|f| f.target = new.clone());
                self.draft
                    .tables
                    .retain(|t| !t.name.eq_ignore_ascii_case(table_name));
                table.name = new;
                self.draft.tables.push(table);
                return;
            }
            AlterTableOperation::AlterColumn { column_name, op } => {
                let name = unquote(&column_name);
                let mut serial = false;
                let mut problem = None;
                let domains = self.domains.clone();
                let enums = self.draft.enums.clone();
                let composites = self.composites.clone();
                if let Some(column) = table.column_mut(&name) {
                    match op {
                        AlterColumnOperation::SetNotNull => column.nullable = false,
                        AlterColumnOperation::DropNotNull => column.nullable = true,
                        AlterColumnOperation::DropDefault => column.default = None,
                        AlterColumnOperation::SetDefault { value } => {
                            match default_value(&value, &column.ty) {
                                Ok(Some(DefaultKind::Value(v))) => column.default = Some(v),
                                Ok(Some(DefaultKind::Sequence)) => serial = true,
                                Ok(None) => column.default = None,
                                Err(reason) => {
                                    problem = Some((
                                        WarningKind::NoEquivalent {
                                            construct: Construct::Default,
                                        },
                                        reason,
                                    ))
                                }
                            }
                        }
                        AlterColumnOperation::SetDataType { data_type, .. } => {
                            match column_type(&data_type, &domains, &enums, &composites) {
                                Ok(ty) => column.ty = ty,
                                Err((kind, reason)) => problem = Some((kind, reason)),
                            }
                        }
                        other => {
                            problem = Some((
                                WarningKind::Unsupported,
                                format!("ALTER COLUMN {other} not applied"),
                            ))
                        }
                    }
                    if serial {
                        column.ty.scalar = match column.ty.scalar {
                            ScalarType::BigInt => ScalarType::BigSerial,
                            _ => ScalarType::Serial,
                        };
                        column.default = None;
                    }
                }
                if let Some((kind, problem)) = problem {
                    self.draft
                        .warn(Some(at), kind, format!("{table_name}.{name}: {problem}"));
                }
            }
            AlterTableOperation::DropConstraint { name, .. } => {
                let name = unquote(&name);
                table
                    .indexes
                    .retain(|i| i.name.as_deref() != Some(name.as_str()));
            }
            AlterTableOperation::EnableRowLevelSecurity
            | AlterTableOperation::DisableRowLevelSecurity => {
                self.draft.no_equivalent(Some(at), Construct::RowLevelSecurity, format!("{table_name}: row-level security has no Tessera equivalent (use the schema's access rules)"));
            }
            other => self.draft.warn(
                Some(at),
                WarningKind::Unsupported,
                format!("{table_name}: `{other}` not applied"),
            ),
        }
        if let Some(slot) = self.draft.table_mut(table_name) {
            *slot = table;
        }
    }

    fn column(
        &mut self,
        file: &str,
        statement: &Statement,
        table: &mut DraftTable,
        def: &ColumnDef,
    ) {
        let name = unquote(&def.name);
        let at = Self::location(file, statement, Some(&def.name.value));
        let mut ty = match &def.data_type {
            DataType::Enum(members, _) => {
                let enum_name = format!("{}_{}", table.name, name);
                let values = members
                    .iter()
                    .map(|m| match m {
                        sqlparser::ast::EnumMember::Name(n)
                        | sqlparser::ast::EnumMember::NamedValue(n, _) => n.clone(),
                    })
                    .collect();
                self.draft.enums.push(DraftEnum {
                    name: enum_name.clone(),
                    values,
                    doc: None,
                });
                self.draft.note(format!(
                    "{}.{name}: inline ENUM becomes enum `{}`",
                    table.name,
                    draft::identifier(&enum_name)
                ));
                FieldType {
                    scalar: ScalarType::Enum(draft::identifier(&enum_name)),
                    array: false,
                }
            }
            other => match column_type(other, &self.domains, &self.draft.enums, &self.composites) {
                Ok(ty) => ty,
                Err((kind, reason)) => {
                    self.draft.warn(
                        Some(at.clone()),
                        kind,
                        format!("{}.{name}: {reason}; imported as text", table.name),
                    );
                    FieldType {
                        scalar: ScalarType::Text,
                        array: false,
                    }
                }
            },
        };
        let mut column = DraftColumn {
            name: name.clone(),
            ty: ty.clone(),
            nullable: true,
            default: None,
            doc: None,
            validations: Vec::new(),
        };
        for option in &def.options {
            match &option.option {
                ColumnOption::Null => column.nullable = true,
                ColumnOption::NotNull => column.nullable = false,
                ColumnOption::Default(expr) => match default_value(expr, &ty) {
                    Ok(Some(DefaultKind::Value(v))) => column.default = Some(v),
                    Ok(Some(DefaultKind::Sequence)) => {
                        ty.scalar = if ty.scalar == ScalarType::BigInt {
                            ScalarType::BigSerial
                        } else {
                            ScalarType::Serial
                        };
                    }
                    Ok(None) => {}
                    Err(reason) => self.draft.no_equivalent(
                        Some(at.clone()),
                        Construct::Default,
                        format!("{}.{name}: {reason}; default not imported", table.name),
                    ),
                },
                ColumnOption::Unique {
                    is_primary: true, ..
                } => {
                    table.primary_key = vec![name.clone()];
                    column.nullable = false;
                }
                ColumnOption::Unique {
                    is_primary: false, ..
                } => table.indexes.push(DraftIndex {
                    name: None,
                    columns: vec![(name.clone(), false)],
                    unique: true,
                    predicate: None,
                    location: Some(at.clone()),
                }),
                ColumnOption::ForeignKey {
                    foreign_table,
                    referred_columns,
                    on_delete,
                    ..
                } => table.foreign_keys.push(DraftForeignKey {
                    columns: vec![name.clone()],
                    target: last_name(foreign_table),
                    target_columns: referred_columns.iter().map(unquote).collect(),
                    on_delete: on_delete.map(action),
                    name: None,
                    unique: false,
                    location: Some(at.clone()),
                }),
                ColumnOption::Check(expr) => {
                    let mut rules = Vec::new();
                    if let Some(shape) = storage_shape(expr)
                        .filter(|(c, _)| c.eq_ignore_ascii_case(&name))
                        .and_then(|(_, shape)| self.shaped(&table.name, &name, &ty, shape))
                    {
                        ty = shape;
                    } else if !check_rules(expr, Some(&name), &ty, &mut rules) {
                        self.draft.no_equivalent(
                            Some(at.clone()),
                            Construct::Check,
                            format!(
                                "{}.{name}: CHECK ({expr}) has no Tessera equivalent; not imported",
                                table.name
                            ),
                        );
                    } else {
                        column
                            .validations
                            .extend(rules.into_iter().map(|(_, rule)| Validation {
                                rule,
                                message: None,
                            }));
                    }
                }
                ColumnOption::Comment(text) => column.doc = Some(text.clone()),
                ColumnOption::DialectSpecific(tokens) => {
                    let text = tokens
                        .iter()
                        .map(|t| t.to_string())
                        .collect::<Vec<_>>()
                        .join(" ")
                        .to_ascii_uppercase();
                    if text.contains("AUTOINCREMENT") || text.contains("AUTO_INCREMENT") {
                        ty.scalar = if ty.scalar == ScalarType::BigInt {
                            ScalarType::BigSerial
                        } else {
                            ScalarType::Serial
                        };
                    }
                }
                ColumnOption::Identity(_) => {
                    ty.scalar = if ty.scalar == ScalarType::BigInt {
                        ScalarType::BigSerial
                    } else {
                        ScalarType::Serial
                    };
                }
                ColumnOption::Generated {
                    generation_expr: None,
                    ..
                } => {
                    ty.scalar = if ty.scalar == ScalarType::BigInt {
                        ScalarType::BigSerial
                    } else {
                        ScalarType::Serial
                    };
                }
                ColumnOption::Generated {
                    generation_expr: Some(expr),
                    ..
                } => {
                    self.draft.no_equivalent(
                        Some(at.clone()),
                        Construct::GeneratedColumn,
                        format!(
                            "{}.{name}: generated column ({expr}) imported as a plain column",
                            table.name
                        ),
                    );
                }
                ColumnOption::OnUpdate(expr) => {
                    self.draft.no_equivalent(
                        Some(at.clone()),
                        Construct::OnUpdate,
                        format!(
                            "{}.{name}: ON UPDATE {expr} not imported (use @updated_at)",
                            table.name
                        ),
                    );
                }
                ColumnOption::CharacterSet(_)
                | ColumnOption::Collation(_)
                | ColumnOption::OnConflict(_) => {}
                other => self.draft.warn(
                    Some(at.clone()),
                    WarningKind::Unsupported,
                    format!(
                        "{}.{name}: column option `{other}` not imported",
                        table.name
                    ),
                ),
            }
        }
        if ty.scalar.is_auto_increment() {
            column.default = None;
        }
        if self.dialect == Dialect::Sqlite && ty == scalar_text() {
            // SQLite has no date and time types: Tessera (and most applications) store
            // them as TEXT. The format of a `strftime` default, or else a name ending in
            // `at` (`created_at`, `deletedAt`), says the column holds a time.
            let by_default = def.options.iter().find_map(|o| match &o.option {
                ColumnOption::Default(expr) => sqlite_time_default(expr),
                _ => None,
            });
            let by_name = draft::words(&name).last().is_some_and(|w| w == "at");
            if let Some(time) = by_default.or(by_name.then_some(ScalarType::Timestamptz)) {
                ty.scalar = time;
            }
        }
        column.ty = ty;
        // SQLite: INTEGER PRIMARY KEY is the rowid and fills itself.
        table
            .columns
            .retain(|c| !c.name.eq_ignore_ascii_case(&name));
        table.columns.push(column);
    }

    /// The type a storage CHECK gives a column of type `ty` (Tessera's SQLite checks for
    /// uuids, JSON, arrays and booleans; on SQLite also enums and varchar lengths), or
    /// `None` when the check means something else there.
    fn shaped(
        &mut self,
        table: &str,
        column: &str,
        ty: &FieldType,
        shape: Shape,
    ) -> Option<FieldType> {
        if ty.array {
            return None;
        }
        let sqlite = self.dialect == Dialect::Sqlite;
        let of = |scalar| FieldType {
            scalar,
            array: false,
        };
        match (&ty.scalar, shape) {
            (ScalarType::Text, Shape::Uuid) => Some(of(ScalarType::Uuid)),
            (ScalarType::Text, Shape::Json) => Some(of(ScalarType::Json)),
            (ScalarType::Text, Shape::JsonArray) => Some(FieldType {
                scalar: ScalarType::Text,
                array: true,
            }),
            (s, Shape::Bool) if s.is_integer() => Some(of(ScalarType::Bool)),
            (ScalarType::Text, Shape::MaxLength(n)) if sqlite => Some(of(ScalarType::Varchar(n))),
            (ScalarType::Text, Shape::OneOf(values)) if sqlite && !values.is_empty() => {
                let name = match self.draft.enums.iter().find(|e| e.values == values) {
                    Some(existing) => existing.name.clone(),
                    None => {
                        let name = format!("{table}_{column}");
                        self.draft.note(format!(
                            "{table}.{column}: CHECK ({column} IN ...) becomes enum `{}`",
                            draft::identifier(&name)
                        ));
                        self.draft.enums.push(DraftEnum {
                            name: name.clone(),
                            values,
                            doc: None,
                        });
                        name
                    }
                };
                Some(of(ScalarType::Enum(draft::identifier(&name))))
            }
            _ => None,
        }
    }

    fn constraint(
        &mut self,
        file: &str,
        statement: &Statement,
        table: &mut DraftTable,
        constraint: &TableConstraint,
    ) {
        let needle = match constraint {
            TableConstraint::ForeignKey { columns, .. } => columns.first().map(|c| c.value.clone()),
            _ => None,
        };
        let at = Self::location(file, statement, needle.as_deref());
        match constraint {
            TableConstraint::PrimaryKey { columns, .. } => {
                table.primary_key = columns.iter().map(unquote).collect();
                for column in &mut table.columns {
                    if table
                        .primary_key
                        .iter()
                        .any(|k| k.eq_ignore_ascii_case(&column.name))
                    {
                        column.nullable = false;
                    }
                }
            }
            TableConstraint::Unique { name, columns, .. } => table.indexes.push(DraftIndex {
                name: name.as_ref().map(unquote),
                columns: columns.iter().map(|c| (unquote(c), false)).collect(),
                unique: true,
                predicate: None,
                location: Some(at),
            }),
            TableConstraint::Index { name, columns, .. } => table.indexes.push(DraftIndex {
                name: name.as_ref().map(unquote),
                columns: columns.iter().map(|c| (unquote(c), false)).collect(),
                unique: false,
                predicate: None,
                location: Some(at),
            }),
            TableConstraint::ForeignKey {
                columns,
                foreign_table,
                referred_columns,
                on_delete,
                ..
            } => table.foreign_keys.push(DraftForeignKey {
                columns: columns.iter().map(unquote).collect(),
                target: last_name(foreign_table),
                target_columns: referred_columns.iter().map(unquote).collect(),
                on_delete: on_delete.map(action),
                name: None,
                unique: false,
                location: Some(at),
            }),
            TableConstraint::Check { expr, .. } => {
                if let Some((column, shape)) = storage_shape(expr) {
                    let current = table.column(&column).map(|c| c.ty.clone());
                    if let Some(ty) =
                        current.and_then(|ty| self.shaped(&table.name, &column, &ty, shape))
                    {
                        if let Some(c) = table.column_mut(&column) {
                            c.ty = ty;
                        }
                        return;
                    }
                }
                let mut rules = Vec::new();
                let types: Vec<(String, FieldType)> = table
                    .columns
                    .iter()
                    .map(|c| (c.name.clone(), c.ty.clone()))
                    .collect();
                let ok = check_rules_table(expr, &types, &mut rules);
                if ok {
                    for (column_name, rule) in rules {
                        if let Some(column) = table.column_mut(&column_name) {
                            column.validations.push(Validation {
                                rule,
                                message: None,
                            });
                        }
                    }
                } else {
                    self.draft.no_equivalent(
                        Some(at),
                        Construct::Check,
                        format!(
                            "{}: CHECK ({expr}) has no Tessera equivalent; not imported",
                            table.name
                        ),
                    );
                }
            }
            other => self.draft.warn(
                Some(at),
                WarningKind::Unsupported,
                format!("{}: constraint `{other}` not imported", table.name),
            ),
        }
    }
}

fn scalar_text() -> FieldType {
    FieldType {
        scalar: ScalarType::Text,
        array: false,
    }
}

/// The time type a SQLite `strftime(FORMAT, 'now')` default fills (Tessera's formats).
fn sqlite_time_default(expr: &Expr) -> Option<ScalarType> {
    match expr {
        Expr::Nested(inner) => sqlite_time_default(inner),
        Expr::Function(f) if last_name(&f.name).eq_ignore_ascii_case("strftime") => {
            let args = f.args.to_string();
            let format = args.split('\'').nth(1)?;
            Some(match format {
                "%Y-%m-%d" => ScalarType::Date,
                "%H:%M:%f" | "%H:%M:%S" => ScalarType::Time,
                f if f.ends_with('Z') => ScalarType::Timestamptz,
                _ => ScalarType::Timestamp,
            })
        }
        _ => None,
    }
}

/// The function call the uuid shape check `length(c) = 36 AND c GLOB '…'` is read as.
const UUID_SHAPE: &str = "tessera_uuid_shape";

/// What a CHECK says about the values of a column stored without a type of their own
/// (SQLite): the checks Tessera writes for the types SQLite lacks.
#[derive(Debug, Clone, PartialEq)]
enum Shape {
    Uuid,
    Json,
    JsonArray,
    Bool,
    OneOf(Vec<String>),
    MaxLength(u32),
}

/// The shape a CHECK gives one column, when it is one of Tessera's storage checks.
fn storage_shape(expr: &Expr) -> Option<(String, Shape)> {
    use sqlparser::ast::BinaryOperator as Op;
    let call = |e: &Expr, name: &str| -> Option<String> {
        match e {
            Expr::Function(f) if last_name(&f.name).eq_ignore_ascii_case(name) => Some(
                f.args
                    .to_string()
                    .trim_matches(|c| c == '(' || c == ')')
                    .trim_matches('"')
                    .to_string(),
            ),
            _ => None,
        }
    };
    match expr {
        Expr::Nested(inner) => storage_shape(inner),
        e if call(e, UUID_SHAPE).is_some() => call(e, UUID_SHAPE).map(|c| (c, Shape::Uuid)),
        e if call(e, "json_valid").is_some() => call(e, "json_valid").map(|c| (c, Shape::Json)),
        Expr::BinaryOp {
            left,
            op: Op::And,
            right,
        } => {
            let column = call(left, "json_valid")?;
            match right.as_ref() {
                Expr::BinaryOp {
                    left: inner,
                    op: Op::Eq,
                    right: value,
                } if call(inner, "json_type").as_deref() == Some(column.as_str())
                    && value.to_string() == "'array'" =>
                {
                    Some((column, Shape::JsonArray))
                }
                _ => None,
            }
        }
        Expr::BinaryOp {
            left,
            op: Op::LtEq,
            right,
        } => {
            let column = length_of(left)?;
            let n = number_of(right)?;
            (n >= 1.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX))
                .then_some((column, Shape::MaxLength(n as u32)))
        }
        Expr::InList {
            expr,
            list,
            negated: false,
        } => {
            let column = ident_of(expr)?;
            let numbers: Vec<f64> = list.iter().filter_map(number_of).collect();
            if numbers.len() == 2
                && list.len() == 2
                && numbers.contains(&0.0)
                && numbers.contains(&1.0)
            {
                return Some((column, Shape::Bool));
            }
            let values = list
                .iter()
                .map(|item| match item {
                    Expr::Value(v) => match &v.value {
                        Value::SingleQuotedString(s) => Some(s.clone()),
                        _ => None,
                    },
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()?;
            Some((column, Shape::OneOf(values)))
        }
        _ => None,
    }
}

fn truncate(text: &str, n: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= n {
        one_line
    } else {
        format!("{}…", one_line.chars().take(n).collect::<String>())
    }
}

fn action(action: ReferentialAction) -> OnDelete {
    match action {
        ReferentialAction::Cascade => OnDelete::Cascade,
        ReferentialAction::SetNull | ReferentialAction::SetDefault => OnDelete::SetNull,
        ReferentialAction::Restrict => OnDelete::Restrict,
        ReferentialAction::NoAction => OnDelete::NoAction,
    }
}

/// The Tessera type of a column's SQL type: a domain (by name, qualified or not, also as
/// an array) is its base type; then built-in types; then enums. `Err` says why not, and
/// whether the type is one Tessera has no equivalent for.
fn column_type(
    data_type: &DataType,
    domains: &[(String, FieldType)],
    enums: &[DraftEnum],
    composites: &[String],
) -> Result<FieldType, (WarningKind, String)> {
    let no_equivalent = |construct| WarningKind::NoEquivalent { construct };
    let text = data_type.to_string();
    let (base, array) = match text.strip_suffix("[]") {
        Some(base) => (base.trim().trim_matches('"').to_string(), true),
        None => (text.trim_matches('"').to_string(), false),
    };
    // `schema.name`, `"schema"."name"`, `schema.name(20)`: the name without the schema.
    let unqualified = {
        let (name, args) = match base.find('(') {
            Some(open) => base.split_at(open),
            None => (base.as_str(), ""),
        };
        let name = name.rsplit('.').next().unwrap_or(name).trim_matches('"');
        format!("{name}{args}")
    };
    let base_name = unqualified
        .split('(')
        .next()
        .unwrap_or(&unqualified)
        .trim()
        .to_string();
    if let Some((_, ty)) = domains
        .iter()
        .find(|(d, _)| d.eq_ignore_ascii_case(&base_name))
    {
        return Ok(FieldType {
            scalar: ty.scalar.clone(),
            array: array || ty.array,
        });
    }
    let mapped = match draft::map_type(&text) {
        Ok(None) if unqualified != base => {
            draft::map_type(&format!("{unqualified}{}", if array { "[]" } else { "" }))
        }
        other => other,
    };
    match mapped {
        Ok(Some(ty)) => Ok(ty),
        Err(name) => Err((
            no_equivalent(Construct::Type),
            format!("type `{name}` has no Tessera equivalent"),
        )),
        Ok(None) => {
            if composites
                .iter()
                .any(|c| c.eq_ignore_ascii_case(&base_name))
            {
                return Err((
                    no_equivalent(Construct::CompositeType),
                    format!("type `{text}` is a composite type, which has no Tessera equivalent"),
                ));
            }
            if let Some(e) = enums
                .iter()
                .find(|e| e.name.eq_ignore_ascii_case(&base_name))
            {
                return Ok(FieldType {
                    scalar: ScalarType::Enum(draft::identifier(&e.name)),
                    array,
                });
            }
            Err((WarningKind::Unsupported, format!("unknown type `{text}`")))
        }
    }
}

enum DefaultKind {
    Value(DefaultValue),
    /// `nextval(...)`: the column is filled from a sequence.
    Sequence,
}

/// The Tessera default of a SQL default expression.
fn default_value(expr: &Expr, ty: &FieldType) -> Result<Option<DefaultKind>, String> {
    let value = |v| Ok(Some(DefaultKind::Value(v)));
    match expr {
        Expr::Nested(inner) => default_value(inner, ty),
        Expr::Cast { expr, .. } => default_value(expr, ty),
        Expr::Value(v) => match &v.value {
            Value::Null => Ok(None),
            Value::Number(n, _) => value(DefaultValue::Number(n.clone())),
            Value::Boolean(b) => value(DefaultValue::Bool(*b)),
            Value::SingleQuotedString(s)
            | Value::DoubleQuotedString(s)
            | Value::EscapedStringLiteral(s)
            | Value::NationalStringLiteral(s) => {
                if ty.array {
                    return value(DefaultValue::Json(pg_array_literal(s)?));
                }
                if ty.scalar.is_temporal() {
                    let lower = s.to_ascii_lowercase();
                    if lower == "now" || lower == "current_timestamp" {
                        return value(DefaultValue::Now);
                    }
                    return Err(format!("default '{s}' is a fixed date or time"));
                }
                value(DefaultValue::String(s.clone()))
            }
            other => Err(format!("default {other} not understood")),
        },
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => match default_value(expr, ty)? {
            Some(DefaultKind::Value(DefaultValue::Number(n))) => {
                value(DefaultValue::Number(format!("-{n}")))
            }
            _ => Err(format!("default {expr} not understood")),
        },
        Expr::Array(array) => {
            let mut items = Vec::new();
            for elem in &array.elem {
                match default_value(
                    elem,
                    &FieldType {
                        scalar: ty.scalar.clone(),
                        array: false,
                    },
                )? {
                    Some(DefaultKind::Value(DefaultValue::String(s))) => {
                        items.push(serde_json::Value::String(s))
                    }
                    Some(DefaultKind::Value(DefaultValue::Number(n))) => {
                        items.push(serde_json::from_str(&n).map_err(|e| e.to_string())?)
                    }
                    Some(DefaultKind::Value(DefaultValue::Bool(b))) => {
                        items.push(serde_json::Value::Bool(b))
                    }
                    _ => return Err(format!("array default element {elem} not understood")),
                }
            }
            value(DefaultValue::Json(serde_json::Value::Array(items)))
        }
        Expr::Function(function) => {
            let name = last_name(&function.name).to_ascii_lowercase();
            match name.as_str() {
                "now"
                | "current_timestamp"
                | "localtimestamp"
                | "localtime"
                | "current_time"
                | "current_date"
                | "transaction_timestamp"
                | "statement_timestamp"
                | "clock_timestamp"
                | "timezone"
                | "getdate"
                | "sysdate"
                | "datetime"
                | "date"
                | "time"
                | "strftime" => value(DefaultValue::Now),
                "uuid_generate_v4" | "gen_random_uuid" | "uuid" | "uuid_generate_v1" | "uuidv4"
                | "uuidv7" | "newid" => value(DefaultValue::GeneratedUuid),
                "nextval" => Ok(Some(DefaultKind::Sequence)),
                _ => Err(format!(
                    "default {expr} is a function call Tessera cannot evaluate"
                )),
            }
        }
        Expr::AtTimeZone { timestamp, .. } => default_value(timestamp, ty),
        Expr::Identifier(ident) => {
            let name = ident.value.to_ascii_lowercase();
            match name.as_str() {
                "current_timestamp" | "localtimestamp" | "localtime" | "current_time"
                | "current_date" | "now" => value(DefaultValue::Now),
                "true" => value(DefaultValue::Bool(true)),
                "false" => value(DefaultValue::Bool(false)),
                _ => Err(format!("default {expr} not understood")),
            }
        }
        Expr::TypedString { value: v, .. } => default_value(&Expr::Value(v.clone().into()), ty),
        other => Err(format!("default {other} not understood")),
    }
}

/// `'{}'`, `'{a,b}'` (PostgreSQL array literals) and JSON arrays as a list.
fn pg_array_literal(text: &str) -> Result<serde_json::Value, String> {
    let trimmed = text.trim();
    if let Ok(json @ serde_json::Value::Array(_)) = serde_json::from_str(trimmed) {
        return Ok(json);
    }
    let inner = trimmed
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .ok_or_else(|| format!("default '{text}' is not an array"))?;
    if inner.trim().is_empty() {
        return Ok(serde_json::Value::Array(Vec::new()));
    }
    Ok(serde_json::Value::Array(
        inner
            .split(',')
            .map(|item| {
                let item = item.trim().trim_matches('"');
                match item.parse::<f64>() {
                    Ok(_) => {
                        serde_json::from_str(item).unwrap_or(serde_json::Value::String(item.into()))
                    }
                    Err(_) => serde_json::Value::String(item.into()),
                }
            })
            .collect(),
    ))
}

fn ident_of(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Identifier(ident) => Some(ident.value.clone()),
        Expr::CompoundIdentifier(parts) => parts.last().map(|p| p.value.clone()),
        Expr::Nested(inner) => ident_of(inner),
        // A column read as a number (`CAST(col AS REAL)`: Tessera's SQLite range checks
        // on decimals, stored as text).
        Expr::Cast {
            expr: inner,
            data_type,
            ..
        } if draft::map_type(&data_type.to_string())
            .ok()
            .flatten()
            .is_some_and(|ty| ty.scalar.is_numeric() && !ty.array) =>
        {
            ident_of(inner)
        }
        _ => None,
    }
}

fn number_of(expr: &Expr) -> Option<f64> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse().ok(),
            _ => None,
        },
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => number_of(expr).map(|n| -n),
        Expr::Nested(inner) | Expr::Cast { expr: inner, .. } => number_of(inner),
        _ => None,
    }
}

/// Length of a column: `char_length(col)`, `length(col)`.
fn length_of(expr: &Expr) -> Option<String> {
    if let Expr::Function(f) = expr {
        let name = last_name(&f.name).to_ascii_lowercase();
        if matches!(name.as_str(), "char_length" | "length" | "character_length") {
            let text = f.args.to_string();
            return Some(
                text.trim_matches(|c| c == '(' || c == ')')
                    .trim_matches('"')
                    .to_string(),
            );
        }
    }
    None
}

fn check_rules_table(
    expr: &Expr,
    columns: &[(String, FieldType)],
    out: &mut Vec<(String, Rule)>,
) -> bool {
    let ty_of = |name: &str| {
        columns
            .iter()
            .find(|(c, _)| c.eq_ignore_ascii_case(name))
            .map(|(_, t)| t.clone())
    };
    let mut rules = Vec::new();
    if !check_rules(
        expr,
        None,
        &FieldType {
            scalar: ScalarType::Text,
            array: false,
        },
        &mut rules,
    ) {
        return false;
    }
    for (column, rule) in rules {
        let Some(ty) = ty_of(&column) else {
            return false;
        };
        let fits = match &rule {
            Rule::Min { .. } | Rule::Max { .. } => ty.scalar.is_numeric(),
            Rule::Length { .. } | Rule::OneOf { .. } | Rule::NotEmpty | Rule::Pattern { .. } => {
                ty.scalar.is_textual()
            }
            _ => true,
        };
        if !fits || ty.array {
            return false;
        }
        out.push((column, rule));
    }
    true
}

/// Range checks (`col >= 0`, `col BETWEEN 1 AND 5`, `char_length(col) <= 80`,
/// `col IN ('a', 'b')`, conjunctions of those) as rules per column.
fn check_rules(
    expr: &Expr,
    column: Option<&str>,
    ty: &FieldType,
    out: &mut Vec<(String, Rule)>,
) -> bool {
    use sqlparser::ast::BinaryOperator as Op;
    let integer = ty.scalar.is_integer();
    match expr {
        Expr::Nested(inner) => check_rules(inner, column, ty, out),
        Expr::BinaryOp {
            left,
            op: Op::And,
            right,
        } => check_rules(left, column, ty, out) && check_rules(right, column, ty, out),
        // `col ~ 'regex'` (PostgreSQL): a pattern, when Tessera's regex engine reads it.
        Expr::BinaryOp {
            left,
            op: Op::PGRegexMatch,
            right,
        } => {
            let (Some(name), Expr::Value(v)) = (ident_of(left), right.as_ref()) else {
                return false;
            };
            let Value::SingleQuotedString(regex) = &v.value else {
                return false;
            };
            if column.is_some_and(|c| !c.eq_ignore_ascii_case(&name))
                || (column.is_some() && !ty.scalar.is_textual())
                || regex::Regex::new(regex).is_err()
            {
                return false;
            }
            out.push((
                name,
                Rule::Pattern {
                    regex: regex.clone(),
                },
            ));
            true
        }
        Expr::BinaryOp { left, op, right } => {
            let (name, n, op, length) =
                if let (Some(name), Some(n)) = (ident_of(left), number_of(right)) {
                    (name, n, op.clone(), false)
                } else if let (Some(n), Some(name)) = (number_of(left), ident_of(right)) {
                    let flipped = match op {
                        Op::Gt => Op::Lt,
                        Op::GtEq => Op::LtEq,
                        Op::Lt => Op::Gt,
                        Op::LtEq => Op::GtEq,
                        other => other.clone(),
                    };
                    (name, n, flipped, false)
                } else if let (Some(name), Some(n)) = (length_of(left), number_of(right)) {
                    (name, n, op.clone(), true)
                } else {
                    return false;
                };
            if column.is_some_and(|c| !c.eq_ignore_ascii_case(&name)) {
                return false;
            }
            if length {
                let n = n as u64;
                let rule = match op {
                    Op::LtEq => Rule::Length {
                        min: None,
                        max: Some(n),
                    },
                    Op::Lt => Rule::Length {
                        min: None,
                        max: Some(n.saturating_sub(1)),
                    },
                    Op::GtEq => Rule::Length {
                        min: Some(n),
                        max: None,
                    },
                    Op::Gt if n == 0 => Rule::NotEmpty,
                    Op::Gt => Rule::Length {
                        min: Some(n + 1),
                        max: None,
                    },
                    _ => return false,
                };
                out.push((name, rule));
                return true;
            }
            let rule = match op {
                Op::GtEq => Rule::Min { value: n },
                Op::LtEq => Rule::Max { value: n },
                Op::Gt if integer => Rule::Min { value: n + 1.0 },
                Op::Lt if integer => Rule::Max { value: n - 1.0 },
                _ => return false,
            };
            out.push((name, rule));
            true
        }
        Expr::Between {
            expr,
            negated: false,
            low,
            high,
        } => {
            let (Some(name), Some(low), Some(high)) =
                (ident_of(expr), number_of(low), number_of(high))
            else {
                return false;
            };
            if column.is_some_and(|c| !c.eq_ignore_ascii_case(&name)) {
                return false;
            }
            out.push((name.clone(), Rule::Min { value: low }));
            out.push((name, Rule::Max { value: high }));
            true
        }
        Expr::InList {
            expr,
            list,
            negated: false,
        } => {
            let Some(name) = ident_of(expr) else {
                return false;
            };
            let mut values = Vec::new();
            for item in list {
                match item {
                    Expr::Value(v) => match &v.value {
                        Value::SingleQuotedString(s) => values.push(s.clone()),
                        _ => return false,
                    },
                    _ => return false,
                }
            }
            if column.is_some() && !ty.scalar.is_textual() {
                return false;
            }
            out.push((name, Rule::OneOf { values }));
            true
        }
        _ => false,
    }
}
