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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveColumn {
    pub name: String,
    pub data_type: String,
    pub nullable: bool,
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
    #[error("unsupported database URL `{0}` (expected sqlite://PATH or postgres://…)")]
    UnsupportedUrl(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Connects to `database_url` and reads its catalog.
pub async fn introspect(database_url: &str) -> Result<LiveCatalog, IntrospectError> {
    match DialectKind::from_url(database_url) {
        Some(DialectKind::Sqlite) => {
            let mut conn = SqliteConnection::connect(database_url).await?;
            let catalog = introspect_sqlite(&mut conn).await;
            conn.close().await.ok();
            Ok(catalog?)
        }
        Some(DialectKind::Postgres) => {
            let mut conn = PgConnection::connect(database_url).await?;
            let catalog = introspect_postgres(&mut conn).await;
            conn.close().await.ok();
            Ok(catalog?)
        }
        None => Err(IntrospectError::UnsupportedUrl(database_url.to_owned())),
    }
}

/// The catalog of the SQLite database on `conn` (internal `sqlite_*` tables excluded).
pub async fn introspect_sqlite(conn: &mut SqliteConnection) -> Result<LiveCatalog, sqlx::Error> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut tables = Vec::new();
    for name in names {
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
            "SELECT name, \"unique\", partial FROM pragma_index_list(?) WHERE origin <> 'pk' ORDER BY name",
        )
        .bind(&name)
        .fetch_all(&mut *conn)
        .await?;
        for row in rows {
            let index: String = row.try_get(0)?;
            let columns: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_index_info(?) ORDER BY seqno")
                    .bind(&index)
                    .fetch_all(&mut *conn)
                    .await?;
            indexes.push(LiveIndex {
                name: index,
                columns,
                unique: row.try_get::<i64, _>(1)? != 0,
                partial: row.try_get::<i64, _>(2)? != 0,
            });
        }
        tables.push(LiveTable {
            name,
            columns,
            primary_key: key.into_iter().map(|(_, c)| c).collect(),
            foreign_keys: foreign_keys.into_iter().map(|(_, fk)| fk).collect(),
            indexes,
        });
    }
    Ok(LiveCatalog {
        dialect: DialectKind::Sqlite,
        tables,
        enums: Vec::new(),
    })
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
                con.confdeltype::text \
         FROM pg_constraint con \
         JOIN pg_class c ON c.oid = con.conrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_class f ON f.oid = con.confrelid \
         WHERE n.nspname = current_schema() AND con.contype IN ('p', 'f') \
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
                      LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.num ORDER BY k.ord) \
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
        });
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
    Ok(LiveCatalog {
        dialect: DialectKind::Postgres,
        tables,
        enums,
    })
}
