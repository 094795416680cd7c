//! The engine: a schema and a connection pool.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tessera_schema::Schema;

use crate::error::{ErrorKind, RuntimeError};
use crate::request::*;

/// The database engine behind an [`Engine`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialectKind {
    Sqlite,
    Postgres,
}

/// Connection pool figures, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Open connections.
    pub size: u32,
    /// Open connections not in use.
    pub idle: u32,
}

#[derive(Debug, Clone)]
pub(crate) enum DbPool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) schema: Arc<Schema>,
    pub(crate) pool: DbPool,
    /// The account fields access rules compare (`auth.tenant`): read once per request of
    /// a signed-in user.
    pub(crate) account_fields: Vec<String>,
}

/// Runs requests against one database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Engine {
    pub(crate) inner: Arc<Inner>,
}

impl Engine {
    /// Connects to `sqlite://PATH` (created when missing; WAL, foreign keys on, a busy
    /// timeout) or `postgres://...`. The database must already be migrated to `schema`.
    pub async fn connect(schema: Schema, database_url: &str) -> Result<Engine, RuntimeError> {
        let pool = if database_url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(database_url)
                .map_err(|e| config_error(database_url, e))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await
                .map_err(connect_error)?;
            DbPool::Sqlite(pool)
        } else if database_url.starts_with("postgres:") || database_url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(database_url)
                .map_err(|e| config_error(database_url, e))?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .connect_with(options)
                .await
                .map_err(connect_error)?;
            DbPool::Postgres(pool)
        } else {
            return Err(RuntimeError::new(
                ErrorKind::Internal,
                "XX000",
                "unsupported database URL: expected sqlite:// or postgres://",
            ));
        };
        Ok(Engine {
            inner: Arc::new(Inner {
                account_fields: crate::access::account_fields(&schema),
                schema: Arc::new(schema),
                pool,
            }),
        })
    }

    pub fn schema(&self) -> &Schema {
        &self.inner.schema
    }

    pub fn dialect(&self) -> DialectKind {
        match self.inner.pool {
            DbPool::Sqlite(_) => DialectKind::Sqlite,
            DbPool::Postgres(_) => DialectKind::Postgres,
        }
    }

    /// Runs `SELECT 1`, for readiness checks.
    pub async fn ping(&self) -> Result<(), RuntimeError> {
        match &self.inner.pool {
            DbPool::Sqlite(pool) => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()),
            DbPool::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()),
        }
        .map_err(connect_error)
    }

    pub fn pool_stats(&self) -> PoolStats {
        match &self.inner.pool {
            DbPool::Sqlite(pool) => PoolStats {
                size: pool.size(),
                idle: pool.num_idle() as u32,
            },
            DbPool::Postgres(pool) => PoolStats {
                size: pool.size(),
                idle: pool.num_idle() as u32,
            },
        }
    }

    /// Closes every connection.
    pub async fn close(&self) {
        match &self.inner.pool {
            DbPool::Sqlite(pool) => pool.close().await,
            DbPool::Postgres(pool) => pool.close().await,
        }
    }

    /// Reads rows (as JSON objects) and, when `req.count`, the number of matching rows.
    pub async fn read(&self, ctx: &Context, req: &ReadRequest) -> Result<ReadResult, RuntimeError> {
        let ctx = self.caller(ctx).await?;
        crate::plan::read(self, &ctx, req).await
    }

    /// Inserts (or upserts) the rows of `req.body` in one transaction; returns them.
    pub async fn insert(
        &self,
        ctx: &Context,
        req: &InsertRequest,
    ) -> Result<Vec<serde_json::Value>, RuntimeError> {
        let ctx = self.caller(ctx).await?;
        crate::write::insert(self, &ctx, req).await
    }

    /// Updates every live row matching the filter; returns the updated rows.
    pub async fn update(
        &self,
        ctx: &Context,
        req: &UpdateRequest,
    ) -> Result<Vec<serde_json::Value>, RuntimeError> {
        let ctx = self.caller(ctx).await?;
        crate::write::update(self, &ctx, req).await
    }

    /// Deletes (soft-deletes where the model has soft delete) every live row matching the
    /// filter, cascading as the schema says; returns the deleted rows.
    pub async fn delete(
        &self,
        ctx: &Context,
        req: &DeleteRequest,
    ) -> Result<Vec<serde_json::Value>, RuntimeError> {
        let ctx = self.caller(ctx).await?;
        crate::write::delete(self, &ctx, req).await
    }

    /// Restores soft-deleted rows matching the filter and what their delete cascaded to;
    /// returns the restored rows.
    pub async fn restore(
        &self,
        ctx: &Context,
        req: &RestoreRequest,
    ) -> Result<Vec<serde_json::Value>, RuntimeError> {
        let ctx = self.caller(ctx).await?;
        crate::write::restore(self, &ctx, req).await
    }

    /// Publishes the environment content of one scope row (such as a project) from
    /// `req.from` to the next environment: copies matched by lineage are updated, missing
    /// ones inserted, copies whose source is gone deleted, all in one transaction. The run
    /// is recorded in the scope's publish log (inserted as `running` before the copy,
    /// finished as `success` with the counts or `failed` with the error); returns the log
    /// row (or, without a log model, a summary of the run).
    pub async fn publish(
        &self,
        ctx: &Context,
        req: &crate::publish::PublishRequest,
    ) -> Result<serde_json::Value, RuntimeError> {
        let ctx = self.caller(ctx).await?;
        crate::publish::publish(self, &ctx, req).await
    }

    /// Publishes the one live row of `scope_model` matching `filter` (404 when no row
    /// matches, 400 when several do); see [`Engine::publish`].
    pub async fn publish_matching(
        &self,
        ctx: &Context,
        scope_model: &str,
        filter: &[Condition],
        from: &str,
        to: &str,
    ) -> Result<serde_json::Value, RuntimeError> {
        let scope_key = crate::publish::one_key(self, scope_model, filter).await?;
        let req = crate::publish::PublishRequest {
            scope_model: scope_model.to_owned(),
            scope_key,
            from: from.to_owned(),
            to: to.to_owned(),
        };
        self.publish(ctx, &req).await
    }
}

fn config_error(url: &str, error: sqlx::Error) -> RuntimeError {
    let scheme = url.split(':').next().unwrap_or_default();
    RuntimeError::internal(format!("invalid {scheme} database URL")).with_details(error.to_string())
}

fn connect_error(error: sqlx::Error) -> RuntimeError {
    RuntimeError::new(
        ErrorKind::Internal,
        "PGRST000",
        "could not connect to the database",
    )
    .with_details(error.to_string())
}
