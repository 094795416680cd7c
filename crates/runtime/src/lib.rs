//! The Tessera data layer.
//!
//! [`Engine`] runs PostgREST-style reads and validated writes over a database migrated to
//! a [`Schema`], with the same results on SQLite and PostgreSQL:
//!
//! * reads ([`Engine::read`]): field lists, renames, embedded relations of every kind
//!   (to-one, to-many, many-to-many, self reference, polymorphic) to any depth with one
//!   SQL query per embed level, filters, `or`/`and`/`not`, ordering, pagination, counts;
//! * writes ([`Engine::insert`], [`Engine::update`], [`Engine::delete`],
//!   [`Engine::restore`]): defaults, transforms, validations with the schema's messages,
//!   enums, password hashing, secret and virtual fields, engine-managed timestamps and
//!   actor columns, import-hash dedup, upserts, soft delete with cascades and restore;
//! * publishing ([`Engine::publish`]): environment content (`@@environment`) copied to the
//!   next environment in one transaction, each run recorded in the publish log;
//! * access rules (`@@allow`): every operation runs as a [`Context`] (the service, a
//!   signed-in user, or an anonymous caller) and sees or writes only what the rules grant;
//! * accounts (`@@auth`): sign-up ([`Engine::sign_up`]), password sign-in with lockout
//!   ([`Engine::sign_in`]) and sessions of single-use refresh tokens
//!   ([`Engine::start_session`], [`Engine::refresh_session`], [`Engine::end_sessions`]).
//!
//! [`parse_read`] and [`parse_filter`] turn PostgREST's URL grammar into requests.
//! `docs/api.md` is the reference of the grammar and the semantics.

#![forbid(unsafe_code)]
// `RuntimeError` is a plain struct with public fields (the HTTP layer's contract); its
// size is fine on the error path.
#![allow(clippy::result_large_err)]

mod access;
mod db;
mod dberror;
mod engine;
mod error;
mod identity;
mod parse;
mod plan;
mod publish;
mod request;
mod value;
mod write;

pub use engine::{DialectKind, Engine, PoolStats};
pub use error::{ErrorKind, FieldError, RuntimeError};
pub use identity::{
    random_secret, Account, Lockout, Session, SESSIONS_TABLE, SIGN_IN_FAILURES_TABLE,
};
pub use parse::{parse_filter, parse_read, parse_select};
pub use publish::PublishRequest;
pub use request::{
    Condition, Context, DeleteRequest, Deleted, Embed, Filter, FilterValue, InsertRequest,
    Operator, OrderTerm, ReadRequest, ReadResult, Resolution, RestoreRequest, Role, SelectItem,
    UpdateRequest, WriteQuery,
};
pub use tessera_schema::Schema;
pub use write::{
    hash_password, hash_password_blocking, is_bcrypt_hash, verify_password,
    verify_password_blocking,
};
