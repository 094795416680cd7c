//! What a live database contains: tables, columns, keys, foreign keys, indexes and enum
//! types, read from the engine's catalog (`pg_catalog` on PostgreSQL, `sqlite_master` and
//! the `pragma_*` table functions on SQLite).
//!
//! Used to verify migrations and, by the importers, to turn an existing database into a
//! schema. Types and defaults are reported as the engine spells them.

use serde::{Deserialize, Serialize};
use sqlx::{Connection, PgConnection, Row, SqliteConnection};

use crate::dialect::DialectKind;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveCatalog {
    pub dialect: DialectKind,
    pub tables: Vec<LiveTable>,
    /// Enum types with their values in order (PostgreSQL).
    pub enums: Vec<LiveEnum>,
    /// Views, materialized views, functions, procedures and row-level security policies
    /// (PostgreSQL): what the schema holds besides tables and types.
    #[serde(default)]
    pub objects: Vec<LiveObject>,
}

/// A database object that is not a table, a column, a key, an index or a type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveObject {
    pub kind: LiveObjectKind,
    /// The object's name; for a function or procedure with its argument types
    /// (`add(integer, integer)`).
    pub name: String,
    /// The table a policy is on.
    pub table: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LiveObjectKind {
    View,
    MaterializedView,
    Function,
    Procedure,
    Policy,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveEnum {
    pub name: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveTable {
    pub name: String,
    pub columns: Vec<LiveColumn>,
    pub primary_key: Vec<String>,
    pub foreign_keys: Vec<LiveForeignKey>,
    pub indexes: Vec<LiveIndex>,
    /// The expressions of the table's CHECK constraints (without `CHECK`).
    #[serde(default)]
    pub checks: Vec<String>,
    /// The `CREATE TRIGGER` statements of the table's triggers.
    #[serde(default)]
    pub triggers: Vec<String>,
    /// The partitioned table this table is a partition of (PostgreSQL).
    #[serde(default)]
    pub partition_of: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveColumn {
    pub name: String,
    pub data_type: String,
    pub nullable: bool,
    /// The default expression; `GENERATED … AS IDENTITY` for identity columns
    /// (PostgreSQL) and `AUTOINCREMENT` for the key of an `AUTOINCREMENT` table (SQLite).
    pub default: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveForeignKey {
    /// The constraint name (SQLite does not report it).
    pub name: Option<String>,
    pub columns: Vec<String>,
    pub references_table: String,
    pub references_columns: Vec<String>,
    /// `CASCADE`, `SET NULL`, `RESTRICT` or `NO ACTION`.
    pub on_delete: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveIndex {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
    pub partial: bool,
    /// The `WHERE` condition of a partial index.
    #[serde(default)]
    pub predicate: Option<String>,
    /// Per column, whether it is sorted descending.
    #[serde(default)]
    pub descending: Vec<bool>,
}

impl LiveCatalog {
    pub fn table(&self, name: &str) -> Option<&LiveTable> {
        self.tables.iter().find(|t| t.name == name)
    }
}

impl LiveTable {
    pub fn column(&self, name: &str) -> Option<&LiveColumn> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn index(&self, name: &str) -> Option<&LiveIndex> {
        self.indexes.iter().find(|i| i.name == name)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IntrospectError {
    #[error(transparent)]
    UnsupportedUrl(#[from] crate::dialect::UnsupportedUrl),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Connects to `database_url` and reads its catalog.
pub async fn introspect(database_url: &str) -> Result<LiveCatalog, IntrospectError> {
    match DialectKind::from_url(database_url)? {
        DialectKind::Sqlite => {
            let mut conn = SqliteConnection::connect(database_url).await?;
            let catalog = introspect_sqlite(&mut conn).await;
            conn.close().await.ok();
            Ok(catalog?)
        }
        DialectKind::Postgres => {
            let mut conn = PgConnection::connect(database_url).await?;
            let catalog = introspect_postgres(&mut conn).await;
            conn.close().await.ok();
            Ok(catalog?)
        }
    }
}

/// The catalog of the SQLite database on `conn` (internal `sqlite_*` tables excluded).
pub async fn introspect_sqlite(conn: &mut SqliteConnection) -> Result<LiveCatalog, sqlx::Error> {
    let names: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut tables = Vec::new();
    for (name, create_sql) in names {
        let create_sql = create_sql.unwrap_or_default();
        let autoincrement = create_sql.to_ascii_uppercase().contains("AUTOINCREMENT");
        let mut columns = Vec::new();
        let mut key: Vec<(i64, String)> = Vec::new();
        let rows = sqlx::query(
            "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid",
        )
        .bind(&name)
        .fetch_all(&mut *conn)
        .await?;
        for row in rows {
            let column: String = row.try_get(0)?;
            let pk: i64 = row.try_get(4)?;
            if pk > 0 {
                key.push((pk, column.clone()));
            }
            columns.push(LiveColumn {
                name: column,
                data_type: row.try_get(1)?,
                nullable: row.try_get::<i64, _>(2)? == 0,
                default: row.try_get(3)?,
            });
        }
        key.sort();
        if autoincrement && key.len() == 1 {
            if let Some(column) = columns.iter_mut().find(|c| c.name == key[0].1) {
                column.default = Some("AUTOINCREMENT".to_owned());
            }
        }
        let mut foreign_keys: Vec<(i64, LiveForeignKey)> = Vec::new();
        let rows = sqlx::query(
            "SELECT id, \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq",
        )
        .bind(&name)
        .fetch_all(&mut *conn)
        .await?;
        for row in rows {
            let id: i64 = row.try_get(0)?;
            let from: String = row.try_get(2)?;
            let to: Option<String> = row.try_get(3)?;
            match foreign_keys.iter_mut().find(|(fk_id, _)| *fk_id == id) {
                Some((_, fk)) => {
                    fk.columns.push(from);
                    fk.references_columns.extend(to);
                }
                None => foreign_keys.push((
                    id,
                    LiveForeignKey {
                        name: None,
                        columns: vec![from],
                        references_table: row.try_get(1)?,
                        references_columns: to.into_iter().collect(),
                        on_delete: row.try_get(4)?,
                    },
                )),
            }
        }
        let mut indexes = Vec::new();
        let rows = sqlx::query(
            "SELECT l.name, l.\"unique\", l.partial, m.sql FROM pragma_index_list(?) l \
             LEFT JOIN sqlite_master m ON m.type = 'index' AND m.name = l.name \
             WHERE l.origin <> 'pk' ORDER BY l.name",
        )
        .bind(&name)
        .fetch_all(&mut *conn)
        .await?;
        for row in rows {
            let index: String = row.try_get(0)?;
            let keys: Vec<(Option<String>, i64)> = sqlx::query_as(
                "SELECT name, \"desc\" FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno",
            )
            .bind(&index)
            .fetch_all(&mut *conn)
            .await?;
            let partial = row.try_get::<i64, _>(2)? != 0;
            let index_sql: Option<String> = row.try_get(3)?;
            indexes.push(LiveIndex {
                name: index,
                columns: keys
                    .iter()
                    .map(|(c, _)| c.clone().unwrap_or_default())
                    .collect(),
                unique: row.try_get::<i64, _>(1)? != 0,
                partial,
                predicate: index_sql
                    .filter(|_| partial)
                    .and_then(|sql| sqlite_index_predicate(&sql)),
                descending: keys.iter().map(|(_, d)| *d != 0).collect(),
            });
        }
        let triggers: Vec<String> = sqlx::query_scalar(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name",
        )
        .bind(&name)
        .fetch_all(&mut *conn)
        .await?;
        tables.push(LiveTable {
            name,
            columns,
            primary_key: key.into_iter().map(|(_, c)| c).collect(),
            foreign_keys: foreign_keys.into_iter().map(|(_, fk)| fk).collect(),
            indexes,
            checks: sqlite_checks(&create_sql),
            triggers,
            partition_of: None,
        });
    }
    Ok(LiveCatalog {
        dialect: DialectKind::Sqlite,
        objects: Vec::new(),
        tables,
        enums: Vec::new(),
    })
}

/// The views, materialized views, functions, procedures and policies of the current
/// schema. Functions that belong to an extension (`pgcrypto`'s `gen_random_bytes`) are
/// the extension's, not the schema's, and are left out.
async fn postgres_objects(conn: &mut PgConnection) -> Result<Vec<LiveObject>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT kind, name, tab FROM ( \
           SELECT CASE c.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END AS kind, \
                  c.relname::text AS name, NULL::text AS tab \
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
           WHERE n.nspname = current_schema() AND c.relkind IN ('v', 'm') \
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass \
                             AND d.objid = c.oid AND d.deptype = 'e') \
           UNION ALL \
           SELECT CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END, \
                  p.proname::text || '(' || pg_get_function_identity_arguments(p.oid) || ')', NULL \
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
           WHERE n.nspname = current_schema() AND p.prokind IN ('f', 'p', 'a', 'w') \
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass \
                             AND d.objid = p.oid AND d.deptype = 'e') \
           UNION ALL \
           SELECT 'policy', pol.polname::text, c.relname::text \
           FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid \
           JOIN pg_namespace n ON n.oid = c.relnamespace \
           WHERE n.nspname = current_schema() \
         ) o ORDER BY kind, name",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut objects = Vec::new();
    for row in rows {
        let kind: String = row.try_get(0)?;
        objects.push(LiveObject {
            kind: match kind.as_str() {
                "view" => LiveObjectKind::View,
                "materialized view" => LiveObjectKind::MaterializedView,
                "procedure" => LiveObjectKind::Procedure,
                "policy" => LiveObjectKind::Policy,
                _ => LiveObjectKind::Function,
            },
            name: row.try_get(1)?,
            table: row.try_get(2)?,
        });
    }
    Ok(objects)
}

/// The catalog of the current schema (`current_schema()`) of the PostgreSQL database on
/// `conn`.
pub async fn introspect_postgres(conn: &mut PgConnection) -> Result<LiveCatalog, sqlx::Error> {
    let mut tables: Vec<LiveTable> = Vec::new();
    let rows = sqlx::query(
        "SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, \
                pg_get_expr(d.adbin, d.adrelid), a.attidentity::text \
         FROM pg_attribute a \
         JOIN pg_class c ON c.oid = a.attrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped \
         ORDER BY c.relname, a.attnum",
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        let table: String = row.try_get(0)?;
        let identity: String = row.try_get(5)?;
        let mut default: Option<String> = row.try_get(4)?;
        if !identity.is_empty() {
            default = Some(if identity == "a" {
                "GENERATED ALWAYS AS IDENTITY".to_owned()
            } else {
                "GENERATED BY DEFAULT AS IDENTITY".to_owned()
            });
        }
        let column = LiveColumn {
            name: row.try_get(1)?,
            data_type: row.try_get(2)?,
            nullable: row.try_get(3)?,
            default,
        };
        match tables.iter_mut().find(|t| t.name == table) {
            Some(t) => t.columns.push(column),
            None => tables.push(LiveTable {
                name: table,
                columns: vec![column],
                primary_key: Vec::new(),
                foreign_keys: Vec::new(),
                indexes: Vec::new(),
                checks: Vec::new(),
                triggers: Vec::new(),
                partition_of: None,
            }),
        }
    }
    let rows = sqlx::query(
        "SELECT c.relname::text, con.conname::text, con.contype::text, \
                ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(num, ord) \
                      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.ord), \
                coalesce(f.relname::text, ''), \
                ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(num, ord) \
                      JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.ord), \
                con.confdeltype::text, pg_get_constraintdef(con.oid) \
         FROM pg_constraint con \
         JOIN pg_class c ON c.oid = con.conrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_class f ON f.oid = con.confrelid \
         WHERE n.nspname = current_schema() AND con.contype IN ('p', 'f', 'c') \
         ORDER BY c.relname, con.conname",
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        let table: String = row.try_get(0)?;
        let Some(t) = tables.iter_mut().find(|t| t.name == table) else {
            continue;
        };
        let kind: String = row.try_get(2)?;
        let columns: Vec<String> = row.try_get(3)?;
        if kind == "p" {
            t.primary_key = columns;
        } else if kind == "c" {
            let definition: String = row.try_get(7)?;
            let expr = definition
                .trim()
                .trim_end_matches(" NOT VALID")
                .strip_prefix("CHECK ")
                .unwrap_or(&definition)
                .to_owned();
            t.checks.push(expr);
        } else {
            let action: String = row.try_get(6)?;
            t.foreign_keys.push(LiveForeignKey {
                name: Some(row.try_get(1)?),
                columns,
                references_table: row.try_get(4)?,
                references_columns: row.try_get(5)?,
                on_delete: match action.as_str() {
                    "c" => "CASCADE",
                    "n" => "SET NULL",
                    "r" => "RESTRICT",
                    "d" => "SET DEFAULT",
                    _ => "NO ACTION",
                }
                .to_owned(),
            });
        }
    }
    let rows = sqlx::query(
        "SELECT t.relname::text, i.relname::text, ix.indisunique, ix.indpred IS NOT NULL, \
                ARRAY(SELECT coalesce(a.attname::text, '') FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(num, ord) \
                      LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.num ORDER BY k.ord), \
                pg_get_expr(ix.indpred, ix.indrelid), \
                ARRAY(SELECT (o.opt & 1) = 1 FROM unnest(ix.indoption::int2[]) WITH ORDINALITY o(opt, ord) \
                      WHERE o.ord <= ix.indnkeyatts ORDER BY o.ord) \
         FROM pg_index ix \
         JOIN pg_class i ON i.oid = ix.indexrelid \
         JOIN pg_class t ON t.oid = ix.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = current_schema() AND NOT ix.indisprimary \
         ORDER BY t.relname, i.relname",
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        let table: String = row.try_get(0)?;
        let Some(t) = tables.iter_mut().find(|t| t.name == table) else {
            continue;
        };
        t.indexes.push(LiveIndex {
            name: row.try_get(1)?,
            unique: row.try_get(2)?,
            partial: row.try_get(3)?,
            columns: row.try_get(4)?,
            predicate: row.try_get(5)?,
            descending: row.try_get(6)?,
        });
    }
    let rows = sqlx::query(
        "SELECT c.relname::text, pg_get_triggerdef(tg.oid) FROM pg_trigger tg \
         JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND NOT tg.tgisinternal ORDER BY c.relname, tg.tgname",
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        let table: String = row.try_get(0)?;
        if let Some(t) = tables.iter_mut().find(|t| t.name == table) {
            t.triggers.push(row.try_get(1)?);
        }
    }
    let rows = sqlx::query(
        "SELECT t.typname::text, ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) \
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
         WHERE n.nspname = current_schema() AND t.typtype = 'e' ORDER BY t.typname",
    )
    .fetch_all(&mut *conn)
    .await?;
    let enums = rows
        .into_iter()
        .map(|row| {
            Ok(LiveEnum {
                name: row.try_get(0)?,
                values: row.try_get(1)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    let rows = sqlx::query(
        "SELECT c.relname::text, p.relname::text FROM pg_inherits i \
         JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relispartition ORDER BY c.relname",
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        let table: String = row.try_get(0)?;
        if let Some(t) = tables.iter_mut().find(|t| t.name == table) {
            t.partition_of = Some(row.try_get(1)?);
        }
    }
    let objects = postgres_objects(conn).await?;
    Ok(LiveCatalog {
        dialect: DialectKind::Postgres,
        tables,
        enums,
        objects,
    })
}

/// The `WHERE` condition of a `CREATE INDEX` statement as SQLite stores it.
fn sqlite_index_predicate(sql: &str) -> Option<String> {
    let upper = sql.to_ascii_uppercase();
    let at = upper.rfind(" WHERE ")?;
    Some(sql[at + 7..].trim().to_owned())
}

/// The expressions of the `CHECK (…)` clauses of a `CREATE TABLE` statement (quotes and
/// nested parentheses respected).
fn sqlite_checks(sql: &str) -> Vec<String> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut quote: Option<char> = None;
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        if matches!(c, '\'' | '"' | '`') {
            quote = Some(c);
            i += 1;
            continue;
        }
        let word_start = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        let is_check = word_start
            && chars.len() >= i + 5
            && chars[i..i + 5]
                .iter()
                .collect::<String>()
                .eq_ignore_ascii_case("check")
            && chars
                .get(i + 5)
                .is_none_or(|n| !(n.is_alphanumeric() || *n == '_'));
        if !is_check {
            i += 1;
            continue;
        }
        let mut j = i + 5;
        while j < chars.len() && chars[j].is_whitespace() {
            j += 1;
        }
        if chars.get(j) != Some(&'(') {
            i = j;
            continue;
        }
        let (start, mut depth, mut k, mut inner_quote) = (j + 1, 0usize, j, None::<char>);
        while k < chars.len() {
            let d = chars[k];
            match inner_quote {
                Some(q) if d == q => inner_quote = None,
                Some(_) => {}
                None if matches!(d, '\'' | '"' | '`') => inner_quote = Some(d),
                None if d == '(' => depth += 1,
                None if d == ')' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                None => {}
            }
            k += 1;
        }
        out.push(
            chars[start..k.min(chars.len())]
                .iter()
                .collect::<String>()
                .trim()
                .to_owned(),
        );
        i = k + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_checks_are_read_with_nested_parentheses_and_quotes() {
        let sql = "CREATE TABLE \"t\" (\"a\" INTEGER CHECK (\"a\" IN (0, 1)), \"b\" TEXT, \
                   CONSTRAINT \"t_b_check\" CHECK (length(\"b\") <= 5 AND \"b\" <> ')'))";
        assert_eq!(
            sqlite_checks(sql),
            ["\"a\" IN (0, 1)", "length(\"b\") <= 5 AND \"b\" <> ')'"]
        );
    }

    #[test]
    fn sqlite_index_predicates_are_the_text_after_where() {
        assert_eq!(
            sqlite_index_predicate(
                "CREATE UNIQUE INDEX \"i\" ON \"t\" (\"a\") WHERE \"deletedAt\" IS NULL"
            )
            .as_deref(),
            Some("\"deletedAt\" IS NULL")
        );
    }
}
