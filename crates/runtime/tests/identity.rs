//! Accounts (`@@auth`), sessions, conditional defaults and `random_secret()`.

mod common;

use common::{checked, engine_with};
use serde_json::{json, Value};
use tessera_runtime::{Caller, Engine, ErrorKind, InsertRequest, Lockout, RuntimeError};
use tessera_testkit::{engine_tests, Database};

const SCHEMA: &str = r#"
model users {
  @@soft_delete
  @@auth(email: email, password: password, disabled: disabled, signup: [firstName])
  firstName      text?  @trim
  email          text   @unique @trim @lowercase @email
  password       text   @hash(bcrypt) @default_if(provider != "local", random_secret())
  disabled       bool   = false
  emailVerified  bool   = false  @default_if(provider != "local", true)
  provider       text   = "local"
  apiToken       text   = random_secret()  @secret
}
"#;

async fn engine(db: &Database) -> Engine {
    engine_with(db, checked("identity.tsr", SCHEMA)).await
}

async fn create(engine: &Engine, body: Value) -> Result<Value, RuntimeError> {
    let mut rows = engine
        .insert(
            &Caller::service(),
            &InsertRequest {
                model: "users".into(),
                body,
                ..InsertRequest::default()
            },
        )
        .await?;
    Ok(rows.remove(0))
}

fn refused(result: Result<impl std::fmt::Debug, RuntimeError>) -> RuntimeError {
    match result {
        Ok(value) => panic!("expected a refusal, got {value:?}"),
        Err(error) => error,
    }
}

engine_tests! {
    /// `@default_if(provider != "local", true)`: OAuth accounts start verified, local ones not.
    async fn oauth_accounts_start_with_a_verified_email(db: Database) {
        let engine = engine(&db).await;
        let oauth = create(&engine, json!({"email": "g@example.com", "provider": "google"})).await.expect("oauth");
        assert_eq!(oauth["emailVerified"], json!(true));
        let local = create(&engine, json!({"email": "l@example.com", "password": "local-password"})).await.expect("local");
        assert_eq!(local["emailVerified"], json!(false));
    }

    /// A value given in the body wins over a conditional default.
    async fn a_given_value_wins_over_a_conditional_default(db: Database) {
        let engine = engine(&db).await;
        let row = create(&engine, json!({"email": "g@example.com", "provider": "google", "emailVerified": false})).await.expect("oauth");
        assert_eq!(row["emailVerified"], json!(false));
    }

    /// OAuth accounts without a password get a random one (hashed, so nobody knows it);
    /// local accounts still need theirs.
    async fn oauth_accounts_get_a_random_password_and_local_ones_need_one(db: Database) {
        let engine = engine(&db).await;
        create(&engine, json!({"email": "g@example.com", "provider": "github"})).await.expect("oauth");
        let error = refused(create(&engine, json!({"email": "l@example.com"})).await);
        assert_eq!(error.kind, ErrorKind::Validation);
        assert_eq!(error.errors[0].field, "password");
        assert_eq!(error.errors[0].rule, "required");
        // The generated password is stored hashed: no guess signs in, not even an empty one.
        assert_eq!(refused(engine.sign_in("g@example.com", "", &Lockout::default()).await).code, "invalid_credentials");
    }

    /// `random_secret()` gives every row its own 43-character secret.
    async fn random_secrets_differ_per_row(db: Database) {
        let engine = engine(&db).await;
        create(&engine, json!({"email": "a@example.com", "password": "a-password"})).await.expect("a");
        create(&engine, json!({"email": "b@example.com", "password": "b-password"})).await.expect("b");
        let tokens: Vec<String> = sqlx_tokens(&db).await;
        assert_eq!(tokens.len(), 2);
        assert!(tokens.iter().all(|t| t.len() == 43));
        assert_ne!(tokens[0], tokens[1]);
    }

    /// Sign-in applies the email field's transforms, checks the hash, and refuses
    /// unknown emails and wrong passwords alike.
    async fn sign_in_checks_the_password_and_normalises_the_email(db: Database) {
        let engine = engine(&db).await;
        let row = create(&engine, json!({"email": "ann@example.com", "password": "correct horse"})).await.expect("ann");
        let account = engine.sign_in("  ANN@example.com ", "correct horse", &Lockout::default()).await.expect("sign in");
        assert_eq!(account.id, row["id"].as_str().expect("id"));
        assert_eq!(account.email, "ann@example.com");
        let wrong = refused(engine.sign_in("ann@example.com", "wrong", &Lockout::default()).await);
        let unknown = refused(engine.sign_in("nobody@example.com", "correct horse", &Lockout::default()).await);
        assert_eq!((wrong.code.as_str(), wrong.message.as_str()), (unknown.code.as_str(), unknown.message.as_str()));
    }

    /// Disabled and soft-deleted accounts cannot sign in.
    async fn disabled_and_deleted_accounts_cannot_sign_in(db: Database) {
        let engine = engine(&db).await;
        create(&engine, json!({"email": "off@example.com", "password": "pass-word", "disabled": true})).await.expect("off");
        assert_eq!(refused(engine.sign_in("off@example.com", "pass-word", &Lockout::default()).await).code, "user_disabled");
        let gone = create(&engine, json!({"email": "gone@example.com", "password": "pass-word"})).await.expect("gone");
        let filter = tessera_runtime::parse_write_query(&common::pairs(&format!("id=eq.{}", gone["id"].as_str().expect("id")))).expect("filter").filter;
        engine.delete(&Caller::service(), &tessera_runtime::DeleteRequest { model: "users".into(), filter, ..Default::default() }).await.expect("delete");
        assert_eq!(refused(engine.sign_in("gone@example.com", "pass-word", &Lockout::default()).await).code, "invalid_credentials");
    }

    /// Sign-up sets only email, password and the listed fields; the rest take defaults.
    async fn sign_up_sets_only_the_listed_fields(db: Database) {
        let engine = engine(&db).await;
        let refused_field = refused(engine.sign_up(&json!({"email": "a@example.com", "password": "pass-word", "emailVerified": true})).await);
        assert_eq!(refused_field.code, "PGRST204");
        let account = engine.sign_up(&json!({"email": "a@example.com", "password": "pass-word", "firstName": " Ann "})).await.expect("sign up");
        let row = engine.account_row_json(&account.id).await.expect("the account");
        assert_eq!((row["firstName"].clone(), row["emailVerified"].clone()), (json!("Ann"), json!(false)));
        assert!(row.get("password").is_none());
    }

    /// After the allowed number of failures an email is locked out: even the right password
    /// is refused (429) until the lock ends.
    async fn repeated_failed_sign_ins_lock_the_email_out(db: Database) {
        let engine = engine(&db).await;
        create(&engine, json!({"email": "ann@example.com", "password": "pass-word"})).await.expect("ann");
        let policy = Lockout { max_failures: 3, window_seconds: 900, lock_seconds: 900 };
        for _ in 0..3 {
            assert_eq!(refused(engine.sign_in("ann@example.com", "guess", &policy).await).code, "invalid_credentials");
        }
        let locked = refused(engine.sign_in("ann@example.com", "pass-word", &policy).await);
        assert_eq!((locked.kind, locked.code.as_str()), (ErrorKind::TooManyRequests, "too_many_attempts"));
        // Another email is not affected.
        create(&engine, json!({"email": "bob@example.com", "password": "pass-word"})).await.expect("bob");
        engine.sign_in("bob@example.com", "pass-word", &policy).await.expect("bob signs in");
    }

    /// Unknown emails lock out like known ones, so a lockout reveals no account.
    async fn unknown_emails_lock_out_like_known_ones(db: Database) {
        let engine = engine(&db).await;
        let policy = Lockout { max_failures: 2, window_seconds: 900, lock_seconds: 900 };
        for _ in 0..2 {
            let e = refused(engine.sign_in("nobody@example.com", "guess", &policy).await);
            assert_eq!(e.code, "invalid_credentials", "{e:?}");
        }
        let e = refused(engine.sign_in("nobody@example.com", "guess", &policy).await);
        assert_eq!(e.code, "too_many_attempts", "{e:?}");
    }

    /// Once the lock has run out, the right password signs in and clears the count.
    async fn a_lockout_ends_and_a_success_clears_the_count(db: Database) {
        let engine = engine(&db).await;
        create(&engine, json!({"email": "ann@example.com", "password": "pass-word"})).await.expect("ann");
        let expired_at_once = Lockout { max_failures: 2, window_seconds: 900, lock_seconds: 0 };
        for _ in 0..2 {
            refused(engine.sign_in("ann@example.com", "guess", &expired_at_once).await);
        }
        engine.sign_in("ann@example.com", "pass-word", &expired_at_once).await.expect("the lock is over");
        // The count started over: one more failure does not lock.
        let strict = Lockout { max_failures: 2, window_seconds: 900, lock_seconds: 900 };
        refused(engine.sign_in("ann@example.com", "guess", &strict).await);
        engine.sign_in("ann@example.com", "pass-word", &strict).await.expect("not locked");
    }

    /// Sign-up and sign-in take `email` and `password` whatever the model calls them.
    async fn sign_up_takes_email_and_password_under_their_usual_names(db: Database) {
        let schema = checked("accounts.tsr", "model accounts {\n  @@auth(email: login, password: secret)\n  login   text  @unique\n  secret  text  @hash\n}\n");
        let engine = engine_with(&db, schema).await;
        let account = engine.sign_up(&json!({"email": "ann@example.com", "password": "pass-word"})).await.expect("sign up");
        assert_eq!(account.email, "ann@example.com");
        engine.sign_in("ann@example.com", "pass-word", &Lockout::default()).await.expect("sign in");
        let twice = refused(engine.sign_up(&json!({"email": "b@example.com", "login": "b@example.com", "password": "pass-word"})).await);
        assert_eq!(twice.code, "PGRST102");
    }

    /// Each sign-in clears the user's expired tokens, so the sessions table does not grow
    /// without end.
    async fn signing_in_clears_the_users_expired_sessions(db: Database) {
        let engine = engine(&db).await;
        create(&engine, json!({"email": "ann@example.com", "password": "pass-word"})).await.expect("ann");
        let account = engine.sign_in("ann@example.com", "pass-word", &Lockout::default()).await.expect("sign in");
        engine.start_session(account.clone(), -1).await.expect("an expired session");
        engine.start_session(account.clone(), -1).await.expect("another");
        engine.start_session(account, 3600).await.expect("a live session");
        assert_eq!(scalar(&db, "SELECT count(*) FROM _tessera_sessions").await, 1);
    }

    /// Failure counts whose window and lock are over are cleared by later failures.
    async fn stale_failure_counts_are_cleared(db: Database) {
        let engine = engine(&db).await;
        let policy = Lockout { max_failures: 5, window_seconds: 60, lock_seconds: 60 };
        refused(engine.sign_in("old@example.com", "guess", &policy).await);
        execute(&db, "UPDATE _tessera_sign_in_failures SET first_at = 0").await;
        refused(engine.sign_in("new@example.com", "guess", &policy).await);
        assert_eq!(scalar(&db, "SELECT count(*) FROM _tessera_sign_in_failures").await, 1);
    }

    /// A refresh token is spent by its use; using it again ends its whole family.
    async fn refresh_tokens_are_single_use_and_reuse_revokes_the_family(db: Database) {
        let engine = engine(&db).await;
        create(&engine, json!({"email": "ann@example.com", "password": "pass-word"})).await.expect("ann");
        let account = engine.sign_in("ann@example.com", "pass-word", &Lockout::default()).await.expect("sign in");
        let first = engine.start_session(account.clone(), 3600).await.expect("session");
        let second = engine.refresh_session(&first.refresh_token, 3600).await.expect("refresh");
        assert_eq!(second.account, account);
        assert_eq!(refused(engine.refresh_session(&first.refresh_token, 3600).await).code, "invalid_refresh_token");
        // The reuse revoked the newer token too.
        assert_eq!(refused(engine.refresh_session(&second.refresh_token, 3600).await).code, "invalid_refresh_token");
    }

    /// Refreshing while the account is disabled is refused without spending the token: the
    /// session goes on once the account is enabled again.
    async fn a_disabled_accounts_session_resumes_when_it_is_enabled_again(db: Database) {
        let engine = engine(&db).await;
        let row = create(&engine, json!({"email": "ann@example.com", "password": "pass-word"})).await.expect("ann");
        let account = engine.sign_in("ann@example.com", "pass-word", &Lockout::default()).await.expect("sign in");
        let session = engine.start_session(account, 3600).await.expect("session");
        let set_disabled = |disabled: bool| {
            let engine = engine.clone();
            let filter = tessera_runtime::parse_write_query(&common::pairs(&format!("id=eq.{}", row["id"].as_str().expect("id")))).expect("filter").filter;
            async move {
                engine.update(&Caller::service(), &tessera_runtime::UpdateRequest { model: "users".into(), filter, body: json!({"disabled": disabled}), ..Default::default() }).await.expect("update");
            }
        };
        set_disabled(true).await;
        assert_eq!(refused(engine.refresh_session(&session.refresh_token, 3600).await).code, "user_disabled");
        set_disabled(false).await;
        engine.refresh_session(&session.refresh_token, 3600).await.expect("the session goes on");
    }

    /// On a database that was never migrated, signing in is refused with an error that
    /// says so (a 503 naming `tessera migrate`), not with the database's own message; the
    /// engine creates no table of its own.
    async fn a_database_never_migrated_is_named_as_such(db: Database) {
        let engine = Engine::connect(checked("identity.tsr", SCHEMA), db.url()).await.expect("connect");
        let error = refused(engine.sign_in("ann@example.com", "pass-word", &Lockout::default()).await);
        assert_eq!(error.kind, ErrorKind::Unavailable, "{error:?}");
        assert_eq!(error.code, "42P01");
        assert!(error.message.contains("not migrated"), "{}", error.message);
        assert!(error.hint.as_deref().is_some_and(|h| h.contains("tessera migrate")), "{error:?}");
        assert!(!format!("{error:?}").contains("no such table"), "{error:?}");
        assert!(!format!("{error:?}").contains("does not exist"), "{error:?}");
        let session = engine.refresh_session("some-token", 3600).await;
        assert_eq!(refused(session).code, "42P01");
    }

    /// Expired refresh tokens and tokens of ended sessions are refused.
    async fn expired_and_ended_sessions_cannot_be_renewed(db: Database) {
        let engine = engine(&db).await;
        create(&engine, json!({"email": "ann@example.com", "password": "pass-word"})).await.expect("ann");
        let account = engine.sign_in("ann@example.com", "pass-word", &Lockout::default()).await.expect("sign in");
        let expired = engine.start_session(account.clone(), -1).await.expect("session");
        assert_eq!(refused(engine.refresh_session(&expired.refresh_token, 3600).await).code, "invalid_refresh_token");
        let live = engine.start_session(account.clone(), 3600).await.expect("session");
        engine.end_sessions(&account.id).await.expect("sign out");
        assert_eq!(refused(engine.refresh_session(&live.refresh_token, 3600).await).code, "invalid_refresh_token");
    }
}

/// Runs `$body` with `$pool` connected to the test database, beside the engine.
macro_rules! on_database {
    ($db:expr, |$pool:ident| $body:expr) => {
        if $db.url().starts_with("sqlite:") {
            let $pool = sqlx::SqlitePool::connect($db.url()).await.expect("connect");
            $body
        } else {
            let $pool = sqlx::PgPool::connect($db.url()).await.expect("connect");
            $body
        }
    };
}

/// The stored `apiToken` values (secret fields are never read through the engine).
async fn sqlx_tokens(db: &Database) -> Vec<String> {
    let sql = "SELECT \"apiToken\" FROM users ORDER BY email";
    on_database!(db, |pool| sqlx::query_scalar(sql)
        .fetch_all(&pool)
        .await
        .expect("tokens"))
}

/// One integer from `sql`.
async fn scalar(db: &Database, sql: &str) -> i64 {
    on_database!(db, |pool| sqlx::query_scalar(sql)
        .fetch_one(&pool)
        .await
        .expect("scalar"))
}

/// Runs `sql`.
async fn execute(db: &Database, sql: &str) {
    on_database!(db, |pool| {
        sqlx::query(sql).execute(&pool).await.expect("execute");
    })
}
