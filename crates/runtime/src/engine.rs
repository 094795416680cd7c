//! The engine: a schema and a connection pool.

use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tessera_schema::Schema;

use crate::error::{ErrorKind, RuntimeError};
use crate::identity::{self, Account, Lockout, Session};
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
                .after_release(|conn, _| {
                    Box::pin(async move {
                        // A transaction dropped without its end queues a rollback on the
                        // connection's worker; the ping waits for it to run.
                        sqlx::Connection::ping(conn).await?;
                        Ok(released_cleanly(conn))
                    })
                })
                .connect_with(options)
                .await
                .map_err(connect_error)?;
            DbPool::Sqlite(pool)
        } else if database_url.starts_with("postgres:") || database_url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(database_url)
                .map_err(|e| config_error(database_url, e))?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .after_release(|conn, _| Box::pin(async move { Ok(released_cleanly(conn)) }))
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

    /// Runs one operation on a task of its own and waits for it. The operation ends —
    /// its transaction committed or rolled back — even when the future awaiting it is
    /// dropped (a client hanging up, a request timeout): a transaction cut off between
    /// two statements would keep its connection, and SQLite's write lock, forever.
    async fn detached<T, F>(&self, work: impl FnOnce(Engine) -> F) -> Result<T, RuntimeError>
    where
        F: Future<Output = Result<T, RuntimeError>> + Send + 'static,
        T: Send + 'static,
    {
        match tokio::spawn(work(self.clone())).await {
            Ok(result) => result,
            Err(failure) => {
                let panic = failure.try_into_panic().ok();
                let detail = panic
                    .as_ref()
                    .and_then(|p| {
                        p.downcast_ref::<String>()
                            .cloned()
                            .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    })
                    .unwrap_or_else(|| "the task was cancelled".to_owned());
                tracing::error!(%detail, "an operation failed unexpectedly");
                Err(RuntimeError::internal("the operation failed unexpectedly"))
            }
        }
    }

    /// Reads rows (as JSON objects) and, when `req.count`, the number of matching rows.
    pub async fn read(&self, ctx: &Context, req: &ReadRequest) -> Result<ReadResult, RuntimeError> {
        let (ctx, req) = (ctx.clone(), req.clone());
        self.detached(|engine| async move {
            let ctx = identity::caller(&engine, &ctx).await?;
            crate::plan::read(&engine, &ctx, &req).await
        })
        .await
    }

    /// Inserts (or upserts) the rows of `req.body` in one transaction; returns them.
    pub async fn insert(
        &self,
        ctx: &Context,
        req: &InsertRequest,
    ) -> Result<Vec<serde_json::Value>, RuntimeError> {
        let (ctx, req) = (ctx.clone(), req.clone());
        self.detached(|engine| async move {
            let ctx = identity::caller(&engine, &ctx).await?;
            crate::write::insert(&engine, &ctx, &req).await
        })
        .await
    }

    /// Updates every live row matching the filter; returns the updated rows.
    pub async fn update(
        &self,
        ctx: &Context,
        req: &UpdateRequest,
    ) -> Result<Vec<serde_json::Value>, RuntimeError> {
        let (ctx, req) = (ctx.clone(), req.clone());
        self.detached(|engine| async move {
            let ctx = identity::caller(&engine, &ctx).await?;
            crate::write::update(&engine, &ctx, &req).await
        })
        .await
    }

    /// Deletes (soft-deletes where the model has soft delete) every live row matching the
    /// filter, cascading as the schema says; returns the deleted rows.
    pub async fn delete(
        &self,
        ctx: &Context,
        req: &DeleteRequest,
    ) -> Result<Vec<serde_json::Value>, RuntimeError> {
        let (ctx, req) = (ctx.clone(), req.clone());
        self.detached(|engine| async move {
            let ctx = identity::caller(&engine, &ctx).await?;
            crate::write::delete(&engine, &ctx, &req).await
        })
        .await
    }

    /// Restores soft-deleted rows matching the filter and what their delete cascaded to;
    /// returns the restored rows.
    pub async fn restore(
        &self,
        ctx: &Context,
        req: &RestoreRequest,
    ) -> Result<Vec<serde_json::Value>, RuntimeError> {
        let (ctx, req) = (ctx.clone(), req.clone());
        self.detached(|engine| async move {
            let ctx = identity::caller(&engine, &ctx).await?;
            crate::write::restore(&engine, &ctx, &req).await
        })
        .await
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
        let (ctx, req) = (ctx.clone(), req.clone());
        self.detached(|engine| async move {
            let ctx = identity::caller(&engine, &ctx).await?;
            crate::publish::publish(&engine, &ctx, &req).await
        })
        .await
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
        let (ctx, scope_model, filter) = (ctx.clone(), scope_model.to_owned(), filter.to_vec());
        let (from, to) = (from.to_owned(), to.to_owned());
        self.detached(|engine| async move {
            let ctx = identity::caller(&engine, &ctx).await?;
            // The row is looked up among those the caller may read and update only: what
            // the answer says must not depend on rows the caller may not see.
            let scope_key = crate::publish::one_key(&engine, &ctx, &scope_model, &filter).await?;
            let req = crate::publish::PublishRequest {
                scope_model,
                scope_key,
                from,
                to,
            };
            crate::publish::publish(&engine, &ctx, &req).await
        })
        .await
    }

    /// Creates the sessions and sign-in failure tables when they are missing (idempotent;
    /// every node may run it).
    pub async fn prepare_identity(&self) -> Result<(), RuntimeError> {
        self.detached(|engine| async move { identity::prepare_identity(&engine).await })
            .await
    }

    /// Self-service sign-up: inserts an account of the identity model from `email`,
    /// `password` (under these names or the model's own) and the fields the model's
    /// `@@auth(signup: ...)` lists; every other field takes its default. Returns the new
    /// account.
    pub async fn sign_up(&self, body: &serde_json::Value) -> Result<Account, RuntimeError> {
        let body = body.clone();
        self.detached(|engine| async move { identity::sign_up(&engine, &body).await })
            .await
    }

    /// A user's change to their own account (email, password, sign-up fields), whatever
    /// the access rules say of the account model; the user is recorded as its updater.
    /// Returns the account's row as the API shows it.
    pub async fn update_account(
        &self,
        id: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, RuntimeError> {
        let (id, body) = (id.to_owned(), body.clone());
        self.detached(|engine| async move { identity::update_account(&engine, &id, &body).await })
            .await
    }

    /// Checks an email and password against the live accounts; disabled accounts are
    /// refused after their password is checked. Failed attempts count towards `lockout`
    /// per email (known or not, so a lockout tells nothing about which emails exist); a
    /// locked-out email is refused (429) before its password is looked at, and a success
    /// clears its count. A client hanging up does not spare a failure from being counted.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        lockout: &Lockout,
    ) -> Result<Account, RuntimeError> {
        let (email, password, lockout) = (email.to_owned(), password.to_owned(), *lockout);
        self.detached(|engine| async move {
            identity::sign_in(&engine, &email, &password, &lockout).await
        })
        .await
    }

    /// The live, enabled account with this id.
    pub async fn account(&self, id: &str) -> Result<Account, RuntimeError> {
        let id = id.to_owned();
        self.detached(|engine| async move { identity::account(&engine, &id).await })
            .await
    }

    /// The account's row as the API shows it (no secrets).
    pub async fn account_row_json(&self, id: &str) -> Result<serde_json::Value, RuntimeError> {
        let id = id.to_owned();
        self.detached(|engine| async move { identity::account_row_json(&engine, &id).await })
            .await
    }

    /// Starts a session for `account`: a refresh token valid for `lifetime_seconds`.
    pub async fn start_session(
        &self,
        account: Account,
        lifetime_seconds: i64,
    ) -> Result<Session, RuntimeError> {
        self.detached(|engine| async move {
            identity::start_session(&engine, account, lifetime_seconds).await
        })
        .await
    }

    /// Exchanges a refresh token for the next one of its family. A token used before
    /// revokes its family; an expired or unknown one is refused.
    pub async fn refresh_session(
        &self,
        refresh_token: &str,
        lifetime_seconds: i64,
    ) -> Result<Session, RuntimeError> {
        let token = refresh_token.to_owned();
        self.detached(|engine| async move {
            identity::refresh_session(&engine, &token, lifetime_seconds).await
        })
        .await
    }

    /// Ends every session of the account (sign-out everywhere).
    pub async fn end_sessions(&self, account_id: &str) -> Result<(), RuntimeError> {
        let id = account_id.to_owned();
        self.detached(|engine| async move { identity::end_sessions(&engine, &id).await })
            .await
    }
}

/// Whether a connection coming back to the pool may serve the next request: one still
/// inside a transaction is closed instead (what it holds, such as SQLite's write lock, is
/// released with it).
fn released_cleanly(conn: &impl sqlx::Connection) -> bool {
    let clean = !conn.is_in_transaction();
    if !clean {
        tracing::error!("a connection came back inside a transaction; it is closed");
    }
    clean
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
