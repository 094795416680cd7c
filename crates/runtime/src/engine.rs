//! The engine: the public face of the data layer. Each operation resolves its caller,
//! plans the request and runs the plan, on a task of its own.

use std::future::Future;
use std::sync::Arc;

use tessera_schema::Schema;
use tessera_sql::db::PoolStats;
use tessera_sql::{Database, DbError, DialectKind};

use crate::caller::Caller;
use crate::error::{Code, ErrorKind, RuntimeError};
use crate::exec::Runner;
use crate::identity::{self, Account, Lockout, Session};
use crate::plan::Planner;
use crate::request::*;

/// Runs requests against one database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Engine {
    inner: Arc<Runner>,
}

impl Engine {
    /// Connects to `sqlite://PATH` (created when missing; WAL, foreign keys on, a busy
    /// timeout) or `postgres://...`. The database must already be migrated to `schema`.
    pub async fn connect(schema: Schema, database_url: &str) -> Result<Engine, RuntimeError> {
        let db = Database::connect(database_url)
            .await
            .map_err(connect_error)?;
        Ok(Engine {
            inner: Arc::new(Runner {
                planner: Planner::new(schema),
                db,
            }),
        })
    }

    pub fn schema(&self) -> &Schema {
        self.inner.schema()
    }

    pub fn dialect(&self) -> DialectKind {
        self.inner.db.kind()
    }

    /// The engine's pool, for the server's own tables (its settings): every request's
    /// work goes through the engine's operations.
    pub fn database(&self) -> &Database {
        &self.inner.db
    }

    /// Runs `SELECT 1`, for readiness checks.
    pub async fn ping(&self) -> Result<(), RuntimeError> {
        self.inner.db.ping().await.map_err(connect_error)
    }

    pub fn pool_stats(&self) -> PoolStats {
        self.inner.db.stats()
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.inner.db.close().await
    }

    /// Runs one operation on a task of its own and waits for it. The operation ends —
    /// its transaction committed or rolled back — even when the future awaiting it is
    /// dropped (a client hanging up, a request timeout): a transaction cut off between
    /// two statements would keep its connection, and SQLite's write lock, forever.
    async fn detached<T, F>(&self, work: impl FnOnce(Arc<Runner>) -> F) -> Result<T, RuntimeError>
    where
        F: Future<Output = Result<T, RuntimeError>> + Send + 'static,
        T: Send + 'static,
    {
        match tokio::spawn(work(self.inner.clone())).await {
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
    pub async fn read(
        &self,
        caller: &Caller,
        req: &ReadRequest,
    ) -> Result<ReadResult, RuntimeError> {
        let (caller, req) = (caller.clone(), req.clone());
        self.detached(|runner| async move {
            let principal = identity::resolve(&runner, caller).await?;
            runner.read(&principal, &req).await
        })
        .await
    }

    /// Inserts (or upserts) the rows of `req.body` in one transaction; returns them.
    pub async fn insert(
        &self,
        caller: &Caller,
        req: &InsertRequest,
    ) -> Result<Vec<serde_json::Value>, RuntimeError> {
        let (caller, req) = (caller.clone(), req.clone());
        self.detached(|runner| async move {
            let principal = identity::resolve(&runner, caller).await?;
            runner.insert(&principal, &req).await
        })
        .await
    }

    /// Updates every live row matching the filter; returns the updated rows.
    pub async fn update(
        &self,
        caller: &Caller,
        req: &UpdateRequest,
    ) -> Result<Vec<serde_json::Value>, RuntimeError> {
        let (caller, req) = (caller.clone(), req.clone());
        self.detached(|runner| async move {
            let principal = identity::resolve(&runner, caller).await?;
            runner.update(&principal, &req).await
        })
        .await
    }

    /// Deletes (soft-deletes where the model has soft delete) every live row matching the
    /// filter, cascading as the schema says; returns the deleted rows.
    pub async fn delete(
        &self,
        caller: &Caller,
        req: &DeleteRequest,
    ) -> Result<Vec<serde_json::Value>, RuntimeError> {
        let (caller, req) = (caller.clone(), req.clone());
        self.detached(|runner| async move {
            let principal = identity::resolve(&runner, caller).await?;
            runner.delete(&principal, &req).await
        })
        .await
    }

    /// Restores soft-deleted rows matching the filter and what their delete cascaded to;
    /// returns the restored rows.
    pub async fn restore(
        &self,
        caller: &Caller,
        req: &RestoreRequest,
    ) -> Result<Vec<serde_json::Value>, RuntimeError> {
        let (caller, req) = (caller.clone(), req.clone());
        self.detached(|runner| async move {
            let principal = identity::resolve(&runner, caller).await?;
            runner.restore(&principal, &req).await
        })
        .await
    }

    /// Publishes the environment content of one scope row (such as a project) from
    /// `req.from` to the next environment: copies matched by lineage are updated, missing
    /// ones inserted, copies whose source is gone deleted, all in one transaction. The scope
    /// row is found among those the caller may read and update (404 when none is it, 400
    /// when a filter matches several). The run is recorded in the scope's publish log
    /// (inserted as `running` before the copy, finished as `success` with the counts or
    /// `failed` with the error); returns the log row (or, without a log model, a summary
    /// of the run).
    pub async fn publish(
        &self,
        caller: &Caller,
        req: &PublishRequest,
    ) -> Result<serde_json::Value, RuntimeError> {
        let (caller, req) = (caller.clone(), req.clone());
        self.detached(|runner| async move {
            let principal = identity::resolve(&runner, caller).await?;
            runner.publish(&principal, &req).await
        })
        .await
    }

    /// Self-service sign-up: inserts an account of the identity model from `email`,
    /// `password` (under these names or the model's own) and the fields the model's
    /// `@@auth(signup: ...)` lists; every other field takes its default. Returns the new
    /// account.
    pub async fn sign_up(&self, body: &serde_json::Value) -> Result<Account, RuntimeError> {
        let body = body.clone();
        self.detached(|runner| async move { identity::sign_up(&runner, &body).await })
            .await
    }

    /// The signed-in user `id` changes their own account (email, password, sign-up
    /// fields), whatever the access rules say of the account model; they are recorded as
    /// its updater. Returns the account's row as the API shows it.
    pub async fn update_account(
        &self,
        id: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, RuntimeError> {
        let (caller, body) = (Caller::user(id), body.clone());
        self.detached(|runner| async move {
            let principal = identity::resolve(&runner, caller).await?;
            identity::update_account(&runner, &principal, &body).await
        })
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
        self.detached(|runner| async move {
            identity::sign_in(&runner, &email, &password, &lockout).await
        })
        .await
    }

    /// The live, enabled account with this id.
    pub async fn account(&self, id: &str) -> Result<Account, RuntimeError> {
        let id = id.to_owned();
        self.detached(|runner| async move { identity::account(&runner, &id).await })
            .await
    }

    /// The account's row as the API shows it (no secrets).
    pub async fn account_row_json(&self, id: &str) -> Result<serde_json::Value, RuntimeError> {
        let id = id.to_owned();
        self.detached(|runner| async move { identity::account_row_json(&runner, &id).await })
            .await
    }

    /// Starts a session for `account`: a refresh token valid for `lifetime_seconds`.
    pub async fn start_session(
        &self,
        account: Account,
        lifetime_seconds: i64,
    ) -> Result<Session, RuntimeError> {
        self.detached(|runner| async move {
            identity::start_session(&runner, account, lifetime_seconds).await
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
        self.detached(|runner| async move {
            identity::refresh_session(&runner, &token, lifetime_seconds).await
        })
        .await
    }

    /// Ends every session of the account (sign-out everywhere).
    pub async fn end_sessions(&self, account_id: &str) -> Result<(), RuntimeError> {
        let id = account_id.to_owned();
        self.detached(|runner| async move { identity::end_sessions(&runner, &id).await })
            .await
    }
}

/// A failure to reach the database, told without its internals.
fn connect_error(error: DbError) -> RuntimeError {
    match error {
        DbError::UnsupportedUrl(_) | DbError::InvalidUrl(_) => {
            RuntimeError::internal("invalid database URL").with_details(error.to_string())
        }
        other => RuntimeError::new(
            ErrorKind::Unavailable,
            Code::Unavailable,
            "could not connect to the database",
        )
        .with_details(other.to_string()),
    }
}
