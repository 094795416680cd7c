//! Identity: the accounts of the schema's `@@auth` model and their sessions.
//!
//! Accounts are rows of the identity model, written through the same path as any insert
//! (validations, trimming, hashing apply). Sessions are refresh tokens kept in
//! `_tessera_sessions`, stored only as SHA-256 digests: a token is used once and replaced
//! by the next of its family; presenting a used token again revokes the whole family (it
//! was stolen, or the client is confused, and either way no one should go on with it).

use sea_query::{Alias, Expr, Query};
use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};
use tessera_schema::ir::{Field, FieldType, Identity, Model, Registration, ScalarType, Transform};

use crate::caller::Caller;
use crate::db::Tx;
use crate::error::{Code, ErrorKind, RuntimeError};
use crate::exec::passwords::{hash_password, verify_password};
use crate::exec::{finish, Runner};
use crate::plan::values::coerce;
use crate::plan::{Comparison, Predicate, Principal};
use crate::render::Renderer;
use crate::request::{
    Condition, Deleted, Filter, FilterValue, InsertRequest, Operator, ReadRequest, SelectItem,
};
use crate::secrets::random_secret;

/// The engine's tables of refresh tokens and of recent failed sign-ins per email (for
/// lockout), declared in [`tessera_sql::system`] and created by migrations.
pub use tessera_sql::system::{SESSIONS_TABLE, SIGN_IN_FAILURES_TABLE};

/// How failed sign-ins lock an email out: after `max_failures` failures within
/// `window_seconds`, sign-ins with that email are refused for `lock_seconds`, whatever the
/// password. Kept in the database, so every node of a deployment agrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lockout {
    pub max_failures: u32,
    pub window_seconds: i64,
    pub lock_seconds: i64,
}

impl Default for Lockout {
    /// Five failures within 15 minutes lock the email for 15 minutes.
    fn default() -> Self {
        Lockout {
            max_failures: 5,
            window_seconds: 15 * 60,
            lock_seconds: 15 * 60,
        }
    }
}

/// A signed-in account: its id (the identity model's key, as text) and email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub email: String,
}

/// A new refresh token and the account it belongs to.
#[derive(Debug, Clone)]
pub struct Session {
    pub account: Account,
    pub refresh_token: String,
}

fn identity(runner: &Runner) -> Result<(&Model, &Identity), RuntimeError> {
    runner.schema().identity_model().ok_or_else(|| {
        RuntimeError::new(
            ErrorKind::NotFound,
            Code::NoAccounts,
            "this schema has no accounts: sign-up and sign-in need a model with @@auth",
        )
    })
}

fn invalid_credentials() -> RuntimeError {
    RuntimeError::new(
        ErrorKind::BadRequest,
        Code::InvalidCredentials,
        "Invalid login credentials",
    )
}

fn invalid_refresh_token() -> RuntimeError {
    RuntimeError::new(
        ErrorKind::BadRequest,
        Code::InvalidRefreshToken,
        "Invalid refresh token: it is unknown, expired or already used",
    )
    .with_hint("Sign in again")
}

fn now_seconds() -> i64 {
    chrono::Utc::now().timestamp()
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn key_text(value: &Json) -> String {
    tessera_sql::value::text_of(value)
}

fn random_token() -> Result<String, RuntimeError> {
    random_secret().map_err(|e| RuntimeError::internal(format!("no randomness: {e}")))
}

/// A hash of a random password, verified when no account is found so that unknown
/// emails take as long to refuse as wrong passwords.
async fn absent_account_hash() -> Result<&'static str, RuntimeError> {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(hash) = HASH.get() {
        return Ok(hash);
    }
    let hash = hash_password(&random_token()?).await?;
    Ok(HASH.get_or_init(|| hash))
}

/// Self-service sign-up: inserts an account of the identity model from `email`,
/// `password` (under these names or the model's own) and the fields the model's `@@auth(signup: ...)` lists; every other field
/// takes its default. Returns the new account.
pub(crate) async fn sign_up(runner: &Runner, body: &Json) -> Result<Account, RuntimeError> {
    let (model, identity) = identity(runner)?;
    if identity.registration == Registration::Closed {
        return Err(RuntimeError::new(
            ErrorKind::Forbidden,
            Code::SignupDisabled,
            "sign-ups are closed: accounts are created by an administrator",
        ));
    }
    let row = own_account_fields(identity, body, "a sign-up")?;
    for required in [&identity.email, &identity.password] {
        if !row.contains_key(required) {
            return Err(RuntimeError::bad_request(
                Code::InvalidBody,
                format!("a sign-up needs {required}"),
            ));
        }
    }
    if let Registration::Invited {
        model: invitations,
        field,
    } = &identity.registration
    {
        let email = row[&identity.email].as_str().unwrap_or_default();
        let email = canonical_email(model, identity, email)?;
        let req = ReadRequest {
            model: invitations.clone(),
            select: vec![SelectItem::Field {
                name: field.clone(),
                alias: None,
            }],
            filter: vec![Condition::Filter(Filter {
                field: field.clone(),
                op: Operator::Eq,
                value: FilterValue::Text(email),
            })],
            limit: Some(1),
            ..Default::default()
        };
        if runner
            .read(&Principal::engine(), &req)
            .await?
            .rows
            .is_empty()
        {
            return Err(RuntimeError::new(
                ErrorKind::Forbidden,
                Code::SignupDisabled,
                "sign-ups need an invitation, and none is addressed to this email",
            ));
        }
    }
    let key = single_key(model)?;
    let mut rows = runner
        .insert(
            &Principal::engine(),
            &InsertRequest {
                model: model.name.clone(),
                body: Json::Object(row),
                select: vec![
                    SelectItem::Field {
                        name: key.name.clone(),
                        alias: None,
                    },
                    SelectItem::Field {
                        name: identity.email.clone(),
                        alias: None,
                    },
                ],
                ..InsertRequest::default()
            },
        )
        .await?;
    let row = rows
        .pop()
        .ok_or_else(|| RuntimeError::internal("the sign-up inserted no row"))?;
    Ok(Account {
        id: key_text(&row[&key.name]),
        email: row[&identity.email].as_str().unwrap_or_default().to_owned(),
    })
}

/// A user's change to their own account (email, password, sign-up fields), whatever
/// the access rules say of the account model; the user is recorded as its updater.
/// Returns the account's row as the API shows it.
pub(crate) async fn update_account(
    runner: &Runner,
    principal: &Principal,
    body: &Json,
) -> Result<Json, RuntimeError> {
    let (model, identity) = identity(runner)?;
    let changes = own_account_fields(identity, body, "an account update")?;
    if changes.is_empty() {
        return Err(RuntimeError::bad_request(
            Code::InvalidBody,
            "an account update needs at least one field to change",
        ));
    }
    let id = principal
        .actor()
        .ok_or_else(|| RuntimeError::internal("an account update without a signed-in user"))?;
    account(runner, id).await?;
    let key = single_key(model)?;
    let mut rows = runner
        .update_own_account(principal, model, key, &Json::Object(changes))
        .await?;
    rows.pop()
        .ok_or_else(|| RuntimeError::internal("the account update changed no row"))
}

/// Checks an email and password against the live accounts; disabled accounts are
/// refused after their password is checked. Failed attempts count towards `lockout`
/// per email (known or not, so a lockout tells nothing about which emails exist); a
/// locked-out email is refused (429) before its password is looked at, and a success
/// clears its count.
pub(crate) async fn sign_in(
    runner: &Runner,
    email: &str,
    password: &str,
    lockout: &Lockout,
) -> Result<Account, RuntimeError> {
    let (model, identity) = identity(runner)?;
    let email_field = model
        .field(&identity.email)
        .ok_or_else(|| RuntimeError::internal("identity email field missing"))?;
    let email = canonical_email(model, identity, email)?;
    refuse_if_locked_out(runner, &email).await?;
    let found = account_row(
        runner,
        model,
        identity,
        email_field,
        &Json::String(email.clone()),
    )
    .await?;
    let Some((account, stored, disabled)) = found else {
        verify_password(absent_account_hash().await?, password).await?;
        record_failed_sign_in(runner, &email, lockout).await?;
        return Err(invalid_credentials());
    };
    let matches = match &stored {
        Some(hash) => verify_password(hash, password).await?,
        None => false,
    };
    if !matches {
        record_failed_sign_in(runner, &email, lockout).await?;
        return Err(invalid_credentials());
    }
    if disabled {
        return Err(account_disabled());
    }
    clear_failed_sign_ins(runner, &email).await?;
    Ok(account)
}

/// `email` as the account model stores it (after its `@trim`, `@lowercase`).
fn canonical_email(
    model: &Model,
    identity: &Identity,
    email: &str,
) -> Result<String, RuntimeError> {
    let email_field = model
        .field(&identity.email)
        .ok_or_else(|| RuntimeError::internal("identity email field missing"))?;
    let mut email = email.to_owned();
    for t in &email_field.transforms {
        match t {
            Transform::Trim => email = email.trim().to_owned(),
            Transform::Lowercase => email = email.to_lowercase(),
        }
    }
    Ok(email)
}

pub(crate) async fn refuse_if_locked_out(runner: &Runner, email: &str) -> Result<(), RuntimeError> {
    let big = FieldType {
        scalar: ScalarType::BigInt,
        array: false,
    };
    let mut q = Query::select();
    q.column(Alias::new("locked_until"))
        .from(Alias::new(SIGN_IN_FAILURES_TABLE))
        .and_where(Expr::col(Alias::new("email")).eq(email));
    let mut tx = Tx::read_single(&runner.db, runner.planner.schema_arc()).await?;
    let rows = tx.fetch(None, &q, &[big]).await?;
    tx.commit().await?;
    let now = now_seconds();
    match rows.first().and_then(|r| r[0].as_i64()) {
        Some(until) if until > now => Err(RuntimeError::new(
            ErrorKind::TooManyRequests,
            Code::TooManyAttempts,
            format!(
                "Too many failed sign-ins with this email: try again in {} seconds",
                until - now
            ),
        )
        .with_hint("Wait for the lockout to end, or reset the password")),
        _ => Ok(()),
    }
}

/// Counts a failed sign-in: the first of a window starts it, the one reaching the
/// limit locks the email and starts over.
pub(crate) async fn record_failed_sign_in(
    runner: &Runner,
    email: &str,
    lockout: &Lockout,
) -> Result<(), RuntimeError> {
    let now = now_seconds();
    let table = Alias::new(SIGN_IN_FAILURES_TABLE);
    let (email_col, failures, first_at, locked_until) = (
        Alias::new("email"),
        Alias::new("failures"),
        Alias::new("first_at"),
        Alias::new("locked_until"),
    );
    let mut tx = Tx::write(&runner.db, runner.planner.schema_arc()).await?;
    // Counts whose window and lock are both over say nothing any more; without this,
    // guesses at many emails would fill the table.
    let mut stale = Query::delete();
    stale
        .from_table(table.clone())
        .and_where(
            Expr::col(first_at.clone())
                .lt(now - lockout.window_seconds.max(0) - lockout.lock_seconds.max(0)),
        )
        .and_where(
            Expr::col(locked_until.clone())
                .is_null()
                .or(Expr::col(locked_until.clone()).lt(now)),
        );
    tx.execute(None, &stale).await?;
    let mut seed = Query::insert();
    seed.into_table(table.clone())
        .columns([email_col.clone(), failures.clone(), first_at.clone()])
        .values([email.into(), 0i64.into(), now.into()])
        .map_err(|e| RuntimeError::internal(format!("sign-in failure insert: {e}")))?
        .on_conflict(
            sea_query::OnConflict::column(email_col.clone())
                .do_nothing()
                .to_owned(),
        );
    tx.execute(None, &seed).await?;
    let window_over = Expr::col(first_at.clone()).lt(now - lockout.window_seconds);
    let mut count = Query::update();
    count
        .table(table.clone())
        .value(
            failures.clone(),
            Expr::case(window_over.clone(), 1i64).finally(Expr::col(failures.clone()).add(1i64)),
        )
        .value(
            first_at.clone(),
            Expr::case(window_over, now).finally(Expr::col(first_at.clone())),
        )
        .and_where(Expr::col(email_col.clone()).eq(email));
    tx.execute(None, &count).await?;
    let mut lock = Query::update();
    lock.table(table)
        .value(locked_until, now.saturating_add(lockout.lock_seconds))
        .value(failures.clone(), 0i64)
        .value(first_at, now)
        .and_where(Expr::col(email_col).eq(email))
        .and_where(Expr::col(failures).gte(i64::from(lockout.max_failures)));
    tx.execute(None, &lock).await?;
    tx.commit().await
}

pub(crate) async fn clear_failed_sign_ins(
    runner: &Runner,
    email: &str,
) -> Result<(), RuntimeError> {
    let mut q = Query::delete();
    q.from_table(Alias::new(SIGN_IN_FAILURES_TABLE))
        .and_where(Expr::col(Alias::new("email")).eq(email));
    let mut tx = Tx::write(&runner.db, runner.planner.schema_arc()).await?;
    tx.execute(None, &q).await?;
    tx.commit().await
}

/// The live, enabled account with this id.
pub(crate) async fn account(runner: &Runner, id: &str) -> Result<Account, RuntimeError> {
    let (model, identity) = identity(runner)?;
    let key = single_key(model)?;
    match account_row(runner, model, identity, key, &Json::String(id.to_owned())).await? {
        Some((_, _, true)) => Err(account_disabled()),
        Some((account, _, false)) => Ok(account),
        None => Err(RuntimeError::new(
            ErrorKind::Unauthorized,
            Code::StaleToken,
            "the account of this token no longer exists",
        )),
    }
}

/// The account row matching `field = value`: the account, its password hash and
/// whether it is disabled.
pub(crate) async fn account_row(
    runner: &Runner,
    model: &Model,
    identity: &Identity,
    field: &Field,
    value: &Json,
) -> Result<Option<(Account, Option<String>, bool)>, RuntimeError> {
    let schema = runner.schema();
    let key = single_key(model)?;
    let lookup = |name: &str| {
        model
            .field(name)
            .ok_or_else(|| RuntimeError::internal(format!("identity field {name} missing")))
    };
    let email = lookup(&identity.email)?;
    let password = lookup(&identity.password)?;
    let disabled = identity.disabled.as_deref().map(lookup).transpose()?;
    let value = match coerce(schema, field, value) {
        Ok(v) => v,
        // An id of the wrong shape names no account.
        Err(_) => return Ok(None),
    };
    let mut fields = vec![key, email, password];
    fields.extend(disabled);
    let mut only = vec![Predicate::Compare(field, Comparison::Eq, value)];
    only.extend(Predicate::live(model, Deleted::Exclude));
    // A password hash reads as text, whatever the column's type.
    let text = FieldType {
        scalar: ScalarType::Text,
        array: false,
    };
    let mut types = vec![key.ty.clone(), text.clone(), text];
    types.extend(disabled.map(|d| d.ty.clone()));
    let mut tx = Tx::read_single(&runner.db, runner.planner.schema_arc()).await?;
    let mut q = Renderer::new(schema, tx.dialect()).rows_of(model, &fields, &only);
    q.limit(1);
    let rows = tx.fetch(Some(model), &q, &types).await;
    let mut rows = finish(tx, rows).await?;
    let Some(row) = rows.pop() else {
        return Ok(None);
    };
    let account = Account {
        id: key_text(&row[0]),
        email: row[1].as_str().unwrap_or_default().to_owned(),
    };
    let stored = row[2].as_str().map(str::to_owned);
    let is_disabled = row.get(3).and_then(Json::as_bool).unwrap_or(false);
    Ok(Some((account, stored, is_disabled)))
}

/// The caller as plans see it: for a signed-in user, with the values of their account
/// that access rules compare, read as stored now (a deleted account has none).
pub(crate) async fn resolve(runner: &Runner, caller: Caller) -> Result<Principal, RuntimeError> {
    let mut values = Map::new();
    let Some(id) = caller.user_id() else {
        return Ok(Principal::new(caller, values));
    };
    let names = runner.planner.account_fields();
    if names.is_empty() {
        return Ok(Principal::new(caller, values));
    }
    let (model, _) = identity(runner)?;
    let key = single_key(model)?;
    let fields: Vec<&Field> = names.iter().filter_map(|name| model.field(name)).collect();
    if let (Ok(id), false) = (
        coerce(runner.schema(), key, &Json::String(id.to_owned())),
        fields.is_empty(),
    ) {
        let mut only = vec![Predicate::Compare(key, Comparison::Eq, id)];
        only.extend(Predicate::live(model, Deleted::Exclude));
        let types: Vec<FieldType> = fields.iter().map(|f| f.ty.clone()).collect();
        let mut tx = Tx::read_single(&runner.db, runner.planner.schema_arc()).await?;
        let q = Renderer::new(runner.schema(), tx.dialect()).rows_of(model, &fields, &only);
        let rows = tx.fetch(Some(model), &q, &types).await;
        let rows = finish(tx, rows).await?;
        if let Some(row) = rows.into_iter().next() {
            for (f, value) in fields.iter().zip(row) {
                values.insert(f.name.clone(), value);
            }
        }
    }
    Ok(Principal::new(caller, values))
}

/// The account's row as the API shows it (no secrets).
pub(crate) async fn account_row_json(runner: &Runner, id: &str) -> Result<Json, RuntimeError> {
    let (model, _) = identity(runner)?;
    let key = single_key(model)?;
    let req = ReadRequest {
        model: model.name.clone(),
        filter: key_is(key, id),
        limit: Some(1),
        ..Default::default()
    };
    let mut result = runner.read(&Principal::engine(), &req).await?;
    result.rows.pop().ok_or_else(|| {
        RuntimeError::new(
            ErrorKind::Unauthorized,
            Code::StaleToken,
            "the account of this token no longer exists",
        )
    })
}

/// Starts a session for `account`: a refresh token valid for `lifetime_seconds`.
pub(crate) async fn start_session(
    runner: &Runner,
    account: Account,
    lifetime_seconds: i64,
) -> Result<Session, RuntimeError> {
    let token = random_token()?;
    let family = random_token()?;
    let mut tx = Tx::write(&runner.db, runner.planner.schema_arc()).await?;
    // Expired tokens can no longer be used, nor reused: the user's go at each sign-in.
    let mut expired = Query::delete();
    expired
        .from_table(Alias::new(SESSIONS_TABLE))
        .and_where(Expr::col(Alias::new("user_id")).eq(account.id.as_str()))
        .and_where(Expr::col(Alias::new("expires_at")).lt(now_seconds()));
    tx.execute(None, &expired).await?;
    insert_token(&mut tx, &token, &family, &account.id, lifetime_seconds).await?;
    tx.commit().await?;
    Ok(Session {
        account,
        refresh_token: token,
    })
}

/// Exchanges a refresh token for the next one of its family. A token used before
/// revokes its family; an expired or unknown one is refused.
pub(crate) async fn refresh_session(
    runner: &Runner,
    refresh_token: &str,
    lifetime_seconds: i64,
) -> Result<Session, RuntimeError> {
    let now = now_seconds();
    let hash = digest(refresh_token);
    let mut tx = Tx::write(&runner.db, runner.planner.schema_arc()).await?;
    let text = FieldType {
        scalar: ScalarType::Text,
        array: false,
    };
    let big = FieldType {
        scalar: ScalarType::BigInt,
        array: false,
    };
    let mut q = Query::select();
    q.columns([
        Alias::new("family"),
        Alias::new("user_id"),
        Alias::new("expires_at"),
        Alias::new("revoked_at"),
    ])
    .from(Alias::new(SESSIONS_TABLE))
    .and_where(Expr::col(Alias::new("token_hash")).eq(hash.clone()));
    let rows = tx
        .fetch(None, &q, &[text.clone(), text, big.clone(), big])
        .await?;
    let Some(row) = rows.into_iter().next() else {
        tx.rollback().await?;
        return Err(invalid_refresh_token());
    };
    let family = key_text(&row[0]);
    let user_id = key_text(&row[1]);
    let expired = row[2].as_i64().is_none_or(|at| at <= now);
    if !row[3].is_null() {
        // Reuse of a spent token: end every session of the family.
        let mut revoke = Query::update();
        revoke
            .table(Alias::new(SESSIONS_TABLE))
            .value(Alias::new("revoked_at"), now)
            .and_where(Expr::col(Alias::new("family")).eq(family))
            .and_where(Expr::col(Alias::new("revoked_at")).is_null());
        tx.execute(None, &revoke).await?;
        tx.commit().await?;
        return Err(invalid_refresh_token());
    }
    if expired {
        tx.rollback().await?;
        return Err(invalid_refresh_token());
    }
    // A disabled or deleted account keeps its token unspent: once it is enabled again,
    // the session goes on.
    let account = match account(runner, &user_id).await {
        Ok(account) => account,
        Err(error) => {
            tx.rollback().await?;
            return Err(error);
        }
    };
    let mut spend = Query::update();
    spend
        .table(Alias::new(SESSIONS_TABLE))
        .value(Alias::new("revoked_at"), now)
        .and_where(Expr::col(Alias::new("token_hash")).eq(hash))
        .and_where(Expr::col(Alias::new("revoked_at")).is_null());
    if tx.execute(None, &spend).await? != 1 {
        // Another request spent it first.
        tx.rollback().await?;
        return Err(invalid_refresh_token());
    }
    let token = random_token()?;
    insert_token(&mut tx, &token, &family, &user_id, lifetime_seconds).await?;
    tx.commit().await?;
    Ok(Session {
        account,
        refresh_token: token,
    })
}

/// Ends every session of the account (sign-out everywhere).
pub(crate) async fn end_sessions(runner: &Runner, account_id: &str) -> Result<(), RuntimeError> {
    let mut tx = Tx::write(&runner.db, runner.planner.schema_arc()).await?;
    let mut q = Query::update();
    q.table(Alias::new(SESSIONS_TABLE))
        .value(Alias::new("revoked_at"), now_seconds())
        .and_where(Expr::col(Alias::new("user_id")).eq(account_id))
        .and_where(Expr::col(Alias::new("revoked_at")).is_null());
    tx.execute(None, &q).await?;
    tx.commit().await
}

/// The members of `body` a user may write on their own account (email, password and the
/// sign-up fields), under the model's field names; `what` names the request in errors.
fn own_account_fields(
    identity: &Identity,
    body: &Json,
    what: &str,
) -> Result<Map<String, Json>, RuntimeError> {
    let Json::Object(given) = body else {
        return Err(RuntimeError::bad_request(
            Code::InvalidBody,
            format!("{what} expects a JSON object of account fields"),
        ));
    };
    let mut row = Map::new();
    for (key, value) in given {
        // Clients send `email` and `password` whatever the model calls those fields.
        let key = match key.as_str() {
            "email" => &identity.email,
            "password" => &identity.password,
            _ => key,
        };
        let allowed = key == &identity.email
            || key == &identity.password
            || identity.signup_fields.contains(key);
        if !allowed {
            let mut fields = vec![identity.email.as_str(), identity.password.as_str()];
            fields.extend(identity.signup_fields.iter().map(String::as_str));
            return Err(RuntimeError::bad_request(
                Code::UnknownBodyField,
                format!("{what} may not set {key}"),
            )
            .with_hint(format!("It may set: {}", fields.join(", "))));
        }
        if row.insert(key.clone(), value.clone()).is_some() {
            return Err(RuntimeError::bad_request(
                Code::InvalidBody,
                format!("{key} is given twice"),
            ));
        }
    }
    Ok(row)
}

fn account_disabled() -> RuntimeError {
    RuntimeError::new(
        ErrorKind::Forbidden,
        Code::UserDisabled,
        "this account is disabled",
    )
}

/// The filter selecting the account whose key is `id`.
fn key_is(key: &Field, id: &str) -> Vec<Condition> {
    vec![Condition::Filter(Filter {
        field: key.name.clone(),
        op: Operator::Eq,
        value: FilterValue::Text(id.to_owned()),
    })]
}

fn single_key(model: &Model) -> Result<&Field, RuntimeError> {
    match model.primary_key.as_slice() {
        [one] => model
            .field(one)
            .ok_or_else(|| RuntimeError::internal("identity key field missing")),
        _ => Err(RuntimeError::internal(
            "the identity model needs a single-field primary key",
        )),
    }
}

async fn insert_token(
    tx: &mut Tx,
    token: &str,
    family: &str,
    user_id: &str,
    lifetime_seconds: i64,
) -> Result<(), RuntimeError> {
    let now = now_seconds();
    let mut q = Query::insert();
    q.into_table(Alias::new(SESSIONS_TABLE))
        .columns([
            Alias::new("token_hash"),
            Alias::new("family"),
            Alias::new("user_id"),
            Alias::new("created_at"),
            Alias::new("expires_at"),
        ])
        .values([
            digest(token).into(),
            family.into(),
            user_id.into(),
            now.into(),
            now.saturating_add(lifetime_seconds).into(),
        ])
        .map_err(|e| RuntimeError::internal(format!("session insert: {e}")))?;
    tx.execute(None, &q).await?;
    Ok(())
}
