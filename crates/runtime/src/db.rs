//! One transaction on either engine: run sea-query statements, decode rows to JSON.

use sea_query::{PostgresQueryBuilder, QueryStatementWriter, SqliteQueryBuilder};
use sea_query_binder::SqlxBinder;
use serde_json::Value as Json;
use sqlx::pool::PoolConnection;
use std::sync::Arc;

use tessera_schema::ir::{FieldType, Model};
use tessera_schema::Schema;

use crate::dberror::map_sqlx_error;
use crate::engine::{DbPool, DialectKind};
use crate::error::RuntimeError;
use crate::value::{decode_pg, decode_sqlite};

pub(crate) enum Conn {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
    /// A pooled connection without a transaction, for a read of one statement (which is
    /// atomic on its own): it saves the BEGIN and COMMIT round trips.
    SqliteSingle(PoolConnection<sqlx::Sqlite>),
    PostgresSingle(PoolConnection<sqlx::Postgres>),
}

/// The connection a statement runs on, whatever holds it.
enum Executor<'a> {
    Sqlite(&'a mut sqlx::SqliteConnection),
    Postgres(&'a mut sqlx::PgConnection),
}

pub(crate) struct Tx {
    conn: Conn,
    schema: Arc<Schema>,
    /// A write transaction; on SQLite its foreign keys are checked, and named, at commit.
    write: bool,
}

/// A statement that sea-query can render and sqlx can run.
pub(crate) trait Statement: QueryStatementWriter + SqlxBinder {}
impl<T: QueryStatementWriter + SqlxBinder> Statement for T {}

impl Tx {
    /// A read transaction (one snapshot for a request's queries).
    pub(crate) async fn read(pool: &DbPool, schema: Arc<Schema>) -> Result<Tx, RuntimeError> {
        let conn = match pool {
            DbPool::Sqlite(p) => {
                Conn::Sqlite(p.begin().await.map_err(|e| map_sqlx_error(None, None, e))?)
            }
            DbPool::Postgres(p) => {
                Conn::Postgres(p.begin().await.map_err(|e| map_sqlx_error(None, None, e))?)
            }
        };
        Ok(Tx {
            conn,
            schema,
            write: false,
        })
    }

    /// A connection for a read that is one statement: no transaction needed.
    pub(crate) async fn read_single(
        pool: &DbPool,
        schema: Arc<Schema>,
    ) -> Result<Tx, RuntimeError> {
        let conn = match pool {
            DbPool::Sqlite(p) => Conn::SqliteSingle(
                p.acquire()
                    .await
                    .map_err(|e| map_sqlx_error(None, None, e))?,
            ),
            DbPool::Postgres(p) => Conn::PostgresSingle(
                p.acquire()
                    .await
                    .map_err(|e| map_sqlx_error(None, None, e))?,
            ),
        };
        Ok(Tx {
            conn,
            schema,
            write: false,
        })
    }

    fn executor(&mut self) -> Executor<'_> {
        match &mut self.conn {
            Conn::Sqlite(tx) => Executor::Sqlite(tx),
            Conn::SqliteSingle(conn) => Executor::Sqlite(conn),
            Conn::Postgres(tx) => Executor::Postgres(tx),
            Conn::PostgresSingle(conn) => Executor::Postgres(conn),
        }
    }

    /// A write transaction (SQLite: `BEGIN IMMEDIATE`, so concurrent writers wait for the
    /// lock instead of failing on upgrade).
    pub(crate) async fn write(pool: &DbPool, schema: Arc<Schema>) -> Result<Tx, RuntimeError> {
        let conn = match pool {
            DbPool::Sqlite(p) => {
                let mut tx = p
                    .begin_with("BEGIN IMMEDIATE")
                    .await
                    .map_err(|e| map_sqlx_error(None, None, e))?;
                // SQLite's immediate foreign-key error names neither the constraint nor the
                // columns; deferred to commit, the violation can be found and named.
                sqlx::query("PRAGMA defer_foreign_keys = ON")
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| map_sqlx_error(None, None, e))?;
                Conn::Sqlite(tx)
            }
            DbPool::Postgres(p) => {
                Conn::Postgres(p.begin().await.map_err(|e| map_sqlx_error(None, None, e))?)
            }
        };
        Ok(Tx {
            conn,
            schema,
            write: true,
        })
    }

    pub(crate) fn dialect(&self) -> DialectKind {
        match self.conn {
            Conn::Sqlite(_) | Conn::SqliteSingle(_) => DialectKind::Sqlite,
            Conn::Postgres(_) | Conn::PostgresSingle(_) => DialectKind::Postgres,
        }
    }

    pub(crate) async fn commit(self) -> Result<(), RuntimeError> {
        let schema = self.schema.clone();
        match self.conn {
            Conn::Sqlite(mut tx) if self.write => {
                match foreign_key_violation(&mut tx, &schema).await {
                    Ok(None) => tx.commit().await,
                    Ok(Some(violation)) => {
                        tx.rollback()
                            .await
                            .map_err(|e| map_sqlx_error(Some(&schema), None, e))?;
                        return Err(violation);
                    }
                    Err(e) => Err(e),
                }
            }
            Conn::Sqlite(tx) => tx.commit().await,
            Conn::Postgres(tx) => tx.commit().await,
            Conn::SqliteSingle(_) | Conn::PostgresSingle(_) => Ok(()),
        }
        .map_err(|e| map_sqlx_error(Some(&schema), None, e))
    }

    /// Rolls the transaction back now (rather than when the connection is reused), so
    /// its locks are released before the caller's next statement.
    pub(crate) async fn rollback(self) -> Result<(), RuntimeError> {
        let schema = self.schema.clone();
        match self.conn {
            Conn::Sqlite(tx) => tx.rollback().await,
            Conn::Postgres(tx) => tx.rollback().await,
            Conn::SqliteSingle(_) | Conn::PostgresSingle(_) => Ok(()),
        }
        .map_err(|e| map_sqlx_error(Some(&schema), None, e))
    }

    /// Runs a query and decodes each row's columns with the given types.
    pub(crate) async fn fetch<S: Statement>(
        &mut self,
        model: Option<&Model>,
        stmt: &S,
        types: &[FieldType],
    ) -> Result<Vec<Vec<Json>>, RuntimeError> {
        let schema = self.schema.clone();
        let schema = &schema;
        // The same code for both engines; only the query builder and the decoder differ.
        macro_rules! fetch_with {
            ($tx:expr, $builder:expr, $decode:path) => {{
                let (sql, values) = stmt.build_sqlx($builder);
                tracing::debug!(%sql, "query");
                let rows = sqlx::query_with(&sql, values)
                    .fetch_all(&mut *$tx)
                    .await
                    .map_err(|e| map_sqlx_error(Some(schema), model, e))?;
                rows.iter()
                    .map(|row| {
                        types
                            .iter()
                            .enumerate()
                            .map(|(i, t)| $decode(row, i, t.array, &t.scalar))
                            .collect()
                    })
                    .collect()
            }};
        }
        match self.executor() {
            Executor::Sqlite(tx) => fetch_with!(tx, SqliteQueryBuilder, decode_sqlite),
            Executor::Postgres(tx) => fetch_with!(tx, PostgresQueryBuilder, decode_pg),
        }
    }

    /// Runs a statement; returns the number of rows it affected.
    pub(crate) async fn execute<S: Statement>(
        &mut self,
        model: Option<&Model>,
        stmt: &S,
    ) -> Result<u64, RuntimeError> {
        let schema = self.schema.clone();
        let schema = &schema;
        macro_rules! execute_with {
            ($tx:expr, $builder:expr) => {{
                let (sql, values) = stmt.build_sqlx($builder);
                tracing::debug!(%sql, "execute");
                sqlx::query_with(&sql, values)
                    .execute(&mut *$tx)
                    .await
                    .map(|r| r.rows_affected())
                    .map_err(|e| map_sqlx_error(Some(schema), model, e))
            }};
        }
        match self.executor() {
            Executor::Sqlite(tx) => execute_with!(tx, SqliteQueryBuilder),
            Executor::Postgres(tx) => execute_with!(tx, PostgresQueryBuilder),
        }
    }
}

/// The first foreign key a SQLite write transaction left violated, named as PostgreSQL
/// names it: the constraint, the model and its fields, the missing parent.
async fn foreign_key_violation(
    tx: &mut sqlx::SqliteConnection,
    schema: &Schema,
) -> Result<Option<RuntimeError>, sqlx::Error> {
    use sqlx::Row;
    let Some(row) = sqlx::query("PRAGMA foreign_key_check")
        .fetch_optional(&mut *tx)
        .await?
    else {
        return Ok(None);
    };
    let table: String = row.try_get("table")?;
    let parent: String = row.try_get("parent")?;
    let fkid: i64 = row.try_get("fkid")?;
    let columns: Vec<String> =
        sqlx::query("SELECT \"from\" FROM pragma_foreign_key_list(?) WHERE id = ? ORDER BY seq")
            .bind(&table)
            .bind(fkid)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>("from"))
            .collect::<Result<_, _>>()?;
    let model = schema.models.iter().find(|m| m.table == table);
    let model_name = model.map_or(table.as_str(), |m| m.name.as_str());
    let parent_name = schema
        .models
        .iter()
        .find(|m| m.table == parent)
        .map_or(parent.as_str(), |m| m.name.as_str());
    let fields: Vec<String> = columns
        .iter()
        .map(|c| {
            model
                .and_then(|m| m.field_by_column(c))
                .map_or_else(|| c.clone(), |f| f.name.clone())
        })
        .collect();
    let constraint = tessera_sql::Catalog::from_schema(schema, tessera_sql::DialectKind::Sqlite)
        .ok()
        .and_then(|catalog| {
            catalog
                .tables
                .iter()
                .find(|t| t.name == table)
                .and_then(|t| t.foreign_keys.iter().find(|fk| fk.columns == columns))
                .map(|fk| fk.name.clone())
        })
        .unwrap_or_else(|| "foreign key".to_owned());
    let fields = fields.join(", ");
    Ok(Some(
        RuntimeError::new(
            crate::error::ErrorKind::Conflict,
            "23503",
            format!("{model_name} ({fields}) references a {parent_name} row that does not exist"),
        )
        .with_details(format!("constraint {constraint}; fields: {fields}")),
    ))
}
