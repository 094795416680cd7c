//! The Tessera data layer.
//!
//! [`Engine`] runs PostgREST-style reads and validated writes over a database migrated to
//! a [`Schema`], with the same results on SQLite and PostgreSQL. A request goes through
//! four stages, each in its own module:
//!
//! 1. **parse** ([`request`]): PostgREST's URL grammar into an unresolved request, with
//!    no schema ([`parse_read`], [`parse_write_query`]);
//! 2. **plan** (`plan`): one pure step from the schema, the caller and the request to a
//!    plan, with every name resolved, every value typed and the caller's access rules
//!    folded into every level — the only way to reach rows;
//! 3. **render** (`render`): the plan as SQL for the database's dialect, through the
//!    dialect trait of `tessera_sql`;
//! 4. **execute** (`exec`): the statements run in one unit of work, rows out as JSON.
//!
//! What the engine does:
//!
//! * reads ([`Engine::read`]): field lists, renames, embedded relations of every kind
//!   (to-one, to-many, many-to-many, self reference, polymorphic) to any depth with one
//!   SQL query per embed level (limits applied per parent, in the database), filters,
//!   `or`/`and`/`not`, ordering, pagination, counts;
//! * writes ([`Engine::insert`], [`Engine::update`], [`Engine::delete`],
//!   [`Engine::restore`]): defaults, transforms, validations with the schema's messages,
//!   enums, password hashing, secret and virtual fields, engine-managed timestamps and
//!   actor columns, import-hash dedup, upserts, soft delete with cascades and restore;
//! * publishing ([`Engine::publish`]): environment content (`@@environment`) copied to the
//!   next environment in one transaction, each run recorded in the publish log;
//! * access rules (`@@allow`): every operation runs for a [`Caller`] (the service, a
//!   signed-in user, or an anonymous caller) and sees or writes only what the rules grant;
//! * accounts (`@@auth`): sign-up ([`Engine::sign_up`]), password sign-in with lockout
//!   ([`Engine::sign_in`]) and sessions of single-use refresh tokens
//!   ([`Engine::start_session`], [`Engine::refresh_session`], [`Engine::end_sessions`]).
//!
//! `docs/api.md` is the reference of the grammar and the semantics.

#![forbid(unsafe_code)]
// `RuntimeError` is a plain struct with public fields (the HTTP layer's contract); its
// size is fine on the error path.
#![allow(clippy::result_large_err)]

mod caller;
mod db;
mod dberror;
mod engine;
mod error;
mod exec;
mod identity;
mod plan;
mod render;
pub mod request;
mod secrets;

pub use caller::Caller;
pub use engine::Engine;
pub use error::{Code, ErrorKind, FieldError, RuntimeError};
pub use exec::passwords::{
    hash_password, hash_password_blocking, verify_password, verify_password_blocking,
};
pub use identity::{Account, Lockout, Session, SESSIONS_TABLE, SIGN_IN_FAILURES_TABLE};
pub use plan::write::is_bcrypt_hash;
pub use request::{
    parse_read, parse_read_within, parse_select, parse_write_query, parse_write_query_within,
    Condition, DeleteRequest, Deleted, Embed, Filter, FilterValue, InsertRequest, Operator,
    OrderTerm, PublishRequest, QueryLimits, ReadRequest, ReadResult, Resolution, RestoreRequest,
    Returning, ScopeRow, SelectItem, UpdateRequest, WriteQuery,
};
pub use secrets::random_secret;
pub use tessera_schema::Schema;
pub use tessera_sql::db::PoolStats;
pub use tessera_sql::DialectKind;
