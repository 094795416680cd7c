//! Accounts, sessions and access rules over HTTP: a real server on a real port, on SQLite
//! and PostgreSQL, with a schema of users who sign up and write notes.

mod common;

use common::{send, TestServer, TOKEN_SECRET};
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};
use tessera_server::{ServerConfig, TokenSigner};
use tessera_testkit::{engine_tests, Database};

const SCHEMA: &str = r#"
model users {
  @@auth(email: email, password: password, disabled: disabled, signup: [name])
  @@allow(read, authenticated)
  @@allow(update, id == auth)

  name      text?  @trim
  email     text   @unique @trim @lowercase @email
  password  text   @hash @len(8, 72, "Password must be 8 to 72 characters")
  disabled  bool   = false
  role      text   = "member"
}

model notes {
  @@timestamps
  @@soft_delete
  @@actors(users)
  @@allow(read, public)
  @@allow(create, authenticated)
  @@allow([update, delete], createdBy == auth)

  body  text
}

/// Each board is read in the tenant its team names.
model boards {
  @@allow(read, team == request.tenant)

  team   text
  title  text
}
"#;

const PASSWORD: &str = "correct horse battery";

async fn start(db: &Database) -> TestServer {
    TestServer::start_source(db, SCHEMA, ServerConfig::default()).await
}

/// A request without any credential.
fn anonymous(server: &TestServer, method: Method, path: &str) -> RequestBuilder {
    server.client.request(method, server.url(path))
}

/// A request carrying `token` as `Authorization: Bearer`.
fn bearer(server: &TestServer, method: Method, path: &str, token: &str) -> RequestBuilder {
    anonymous(server, method, path).bearer_auth(token)
}

/// A request carrying the session's access token.
fn as_user(server: &TestServer, method: Method, path: &str, session: &Value) -> RequestBuilder {
    bearer(server, method, path, access_token(session))
}

fn access_token(session: &Value) -> &str {
    session["access_token"].as_str().expect("an access token")
}

fn refresh_token(session: &Value) -> &str {
    session["refresh_token"].as_str().expect("a refresh token")
}

fn user_id(session: &Value) -> &str {
    session["user"]["id"].as_str().expect("the user's id")
}

fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or("")
}

/// Signs up with `email`, the test password and a name; answers the session.
async fn sign_up(server: &TestServer, email: &str, name: &str) -> Value {
    let (status, _, body) = send(
        anonymous(server, Method::POST, "/auth/v1/signup")
            .json(&json!({"email": email, "password": PASSWORD, "data": {"name": name}})),
    )
    .await;
    assert_eq!(status, 200, "sign-up: {body}");
    body
}

async fn sign_in(server: &TestServer, email: &str, password: &str) -> (u16, Value) {
    let (status, _, body) = send(
        anonymous(server, Method::POST, "/auth/v1/token?grant_type=password")
            .json(&json!({"email": email, "password": password})),
    )
    .await;
    (status, body)
}

async fn refresh(server: &TestServer, token: &str) -> (u16, Value) {
    let (status, _, body) = send(
        anonymous(
            server,
            Method::POST,
            "/auth/v1/token?grant_type=refresh_token",
        )
        .json(&json!({"refresh_token": token})),
    )
    .await;
    (status, body)
}

/// Every account, read with the service key.
async fn accounts(server: &TestServer) -> Vec<Value> {
    let (status, _, body) = send(server.get("/rest/v1/users?order=email")).await;
    assert_eq!(status, 200, "{body}");
    body.as_array().expect("rows").clone()
}

/// One note, read with the service key (`Null` when there is none).
async fn stored_note(server: &TestServer, id: &str) -> Value {
    let (status, _, body) = send(server.get(&format!("/rest/v1/notes?id=eq.{id}"))).await;
    assert_eq!(status, 200, "{body}");
    body[0].clone()
}

/// Writes a note as the session's user; answers the new row.
async fn write_note(server: &TestServer, session: &Value, text: &str) -> Value {
    let (status, _, body) = send(
        as_user(server, Method::POST, "/rest/v1/notes", session)
            .header("prefer", "return=representation")
            .json(&json!({"body": text})),
    )
    .await;
    assert_eq!(status, 201, "create a note: {body}");
    body[0].clone()
}

engine_tests! {
    /// `X-Tenant` names the tenant a request acts in; rules compare it as `request.tenant`.
    async fn the_x_tenant_header_is_the_requests_tenant_in_rules(db: Database) {
        let server = start(&db).await;
        let (status, _, body) = send(
            server
                .post("/rest/v1/boards")
                .json(&json!([{"team": "red", "title": "Red board"}, {"team": "blue", "title": "Blue board"}])),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        let (status, _, body) = send(
            anonymous(&server, Method::GET, "/rest/v1/boards?select=title").header("x-tenant", "red"),
        )
        .await;
        assert_eq!((status, body), (200, json!([{"title": "Red board"}])));
        let (status, _, body) = send(anonymous(&server, Method::GET, "/rest/v1/boards?select=title")).await;
        assert_eq!((status, body), (200, json!([])), "no tenant named, no rows");
        let (status, _, body) = send(
            anonymous(&server, Method::GET, "/rest/v1/boards").header("x-tenant", "r".repeat(201)),
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["code"], "PGRST100");
    }

    /// `PUT /auth/v1/user` changes the caller's own password and profile; the old password
    /// stops working.
    async fn users_change_their_own_password_and_profile(db: Database) {
        let server = start(&db).await;
        let session = sign_up(&server, "ada@example.com", "Ada").await;
        let (status, _, body) = send(
            as_user(&server, Method::PUT, "/auth/v1/user", &session)
                .json(&json!({"password": "a new long password", "data": {"name": " Ada L. "}})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["name"], json!("Ada L."));
        assert!(body.get("password").is_none());
        assert_eq!(sign_in(&server, "ada@example.com", PASSWORD).await.0, 400);
        assert_eq!(sign_in(&server, "ada@example.com", "a new long password").await.0, 200);
    }

    /// The account endpoint writes what sign-up may: not the role, and only with a token.
    async fn the_account_endpoint_refuses_rights_and_anonymous_callers(db: Database) {
        let server = start(&db).await;
        let session = sign_up(&server, "ada@example.com", "Ada").await;
        let (status, _, body) = send(
            as_user(&server, Method::PUT, "/auth/v1/user", &session).json(&json!({"data": {"role": "admin"}})),
        )
        .await;
        assert_eq!((status, code(&body)), (400, "PGRST204"), "{body}");
        assert_eq!(accounts(&server).await[0]["role"], json!("member"));
        let (status, _, _) = send(anonymous(&server, Method::PUT, "/auth/v1/user").json(&json!({"data": {"name": "X"}}))).await;
        assert_eq!(status, 401);
        let (status, _, body) = send(
            as_user(&server, Method::PUT, "/auth/v1/user", &session).json(&json!({"password": "short"})),
        )
        .await;
        assert_eq!(status, 422, "{body}");
    }

    /// Where accounts start disabled (awaiting approval), a sign-up creates the account
    /// but answers 403 and no session.
    async fn sign_up_of_an_account_that_starts_disabled_answers_403(db: Database) {
        let schema = SCHEMA.replace("disabled  bool   = false", "disabled  bool   = true");
        let server = TestServer::start_source(&db, &schema, ServerConfig::default()).await;
        let (status, _, body) = send(
            anonymous(&server, Method::POST, "/auth/v1/signup")
                .json(&json!({"email": "ada@example.com", "password": PASSWORD})),
        )
        .await;
        assert_eq!((status, code(&body)), (403, "user_disabled"), "{body}");
        assert!(body.get("access_token").is_none());
        assert_eq!(accounts(&server).await.len(), 1);
    }

    /// Repeated wrong passwords lock the email out with 429, even for the right password.
    async fn repeated_failed_sign_ins_answer_429(db: Database) {
        let config = ServerConfig {
            sign_in_lockout: tessera_runtime::Lockout { max_failures: 3, window_seconds: 900, lock_seconds: 900 },
            ..ServerConfig::default()
        };
        let server = TestServer::start_source(&db, SCHEMA, config).await;
        sign_up(&server, "ada@example.com", "Ada").await;
        for _ in 0..3 {
            let (status, body) = sign_in(&server, "ada@example.com", "wrong password").await;
            assert_eq!((status, code(&body)), (400, "invalid_credentials"), "{body}");
        }
        let (status, body) = sign_in(&server, "ada@example.com", PASSWORD).await;
        assert_eq!((status, code(&body)), (429, "too_many_attempts"), "{body}");
    }

    /// A sign-up answers a session; its access token reads the API as the new user.
    async fn sign_up_answers_a_session_whose_token_acts_as_the_new_user(db: Database) {
        let server = start(&db).await;
        let before = chrono::Utc::now().timestamp();
        let (status, _, session) = send(anonymous(&server, Method::POST, "/auth/v1/signup").json(
            &json!({"email": "  Ada@Example.com ", "password": PASSWORD, "data": {"name": " Ada "}}),
        ))
        .await;
        assert_eq!(status, 200, "{session}");
        assert_eq!(session["token_type"], "bearer");
        assert_eq!(session["expires_in"], 3600);
        let expires_at = session["expires_at"].as_i64().expect("expires_at");
        assert!((before + 3600..=before + 3700).contains(&expires_at), "{session}");
        assert!(!refresh_token(&session).is_empty());
        let user = &session["user"];
        assert_eq!(user["email"], "ada@example.com", "trimmed and lowercased");
        assert_eq!(user["name"], "Ada");
        assert_eq!(user["role"], "member");
        assert_eq!(user["disabled"], false);
        // The token reads a model open to signed-in users only.
        let (status, _, rows) = send(as_user(&server, Method::GET, "/rest/v1/users", &session)).await;
        assert_eq!(status, 200, "{rows}");
        assert_eq!(rows, json!([user]));
        let (status, _, me) = send(as_user(&server, Method::GET, "/auth/v1/user", &session)).await;
        assert_eq!((status, &me), (200, user));
    }

    /// A sign-up may set only email, password and the fields of `@@auth(signup: ...)`;
    /// anything else is refused and no account is created.
    async fn sign_up_refuses_fields_outside_the_signup_list(db: Database) {
        let server = start(&db).await;
        for body in [
            json!({"email": "eve@example.com", "password": PASSWORD, "data": {"role": "admin"}}),
            json!({"email": "eve@example.com", "password": PASSWORD, "role": "admin"}),
            json!({"email": "eve@example.com", "password": PASSWORD, "data": {"disabled": false}}),
            json!({"email": "eve@example.com", "password": PASSWORD, "data": {"id": "2a0f3f0e-57d4-4bf4-9d3f-0d6a5bde0d2d"}}),
        ] {
            let (status, _, answer) = send(anonymous(&server, Method::POST, "/auth/v1/signup").json(&body)).await;
            assert_eq!((status, code(&answer)), (400, "PGRST204"), "{body}: {answer}");
            assert!(answer["hint"].as_str().unwrap_or("").contains("name"), "{answer}");
        }
        assert_eq!(accounts(&server).await, Vec::<Value>::new());
    }

    /// A second sign-up with a taken email (in any case) is a conflict; one account stays.
    async fn sign_up_with_a_taken_email_is_a_conflict(db: Database) {
        let server = start(&db).await;
        sign_up(&server, "ada@example.com", "Ada").await;
        let (status, _, body) = send(anonymous(&server, Method::POST, "/auth/v1/signup").json(
            &json!({"email": "ADA@example.com", "password": "another password"}),
        ))
        .await;
        assert_eq!((status, code(&body)), (409, "23505"), "{body}");
        assert!(body.get("access_token").is_none());
        let rows = accounts(&server).await;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["name"], "Ada");
    }

    /// The account's validations apply with the schema's messages; nothing is created.
    async fn sign_up_validates_the_account_with_the_schema_messages(db: Database) {
        let server = start(&db).await;
        let (status, _, body) = send(anonymous(&server, Method::POST, "/auth/v1/signup").json(
            &json!({"email": "ada@example.com", "password": "short"}),
        ))
        .await;
        assert_eq!((status, code(&body)), (422, "23514"), "{body}");
        assert_eq!(
            body["errors"],
            json!([{"field": "password", "rule": "len", "message": "Password must be 8 to 72 characters"}])
        );
        let (status, _, body) = send(anonymous(&server, Method::POST, "/auth/v1/signup").json(
            &json!({"email": "not an email", "password": "short"}),
        ))
        .await;
        assert_eq!(status, 422, "{body}");
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .filter_map(|e| e["field"].as_str())
            .collect();
        assert_eq!(fields, ["email", "password"], "{body}");
        // Email and password are required.
        let (status, _, body) = send(anonymous(&server, Method::POST, "/auth/v1/signup").json(
            &json!({"email": "ada@example.com"}),
        ))
        .await;
        assert_eq!((status, code(&body)), (400, "PGRST102"), "{body}");
        assert_eq!(accounts(&server).await, Vec::<Value>::new());
    }

    /// The password is stored as an argon2 hash, never answered, and signs in.
    async fn the_password_is_stored_hashed_and_never_answered(db: Database) {
        let server = start(&db).await;
        let session = sign_up(&server, "ada@example.com", "Ada").await;
        assert!(session["user"].get("password").is_none(), "{session}");
        let (_, _, me) = send(as_user(&server, Method::GET, "/auth/v1/user", &session)).await;
        assert!(me.get("password").is_none(), "{me}");
        assert!(accounts(&server).await[0].get("password").is_none());
        let (status, _, body) = send(server.get("/rest/v1/users?select=password")).await;
        assert_eq!((status, code(&body)), (400, "42501"), "{body}");
        let pool = db.pool().await.expect("pool");
        let plain = pool
            .fetch_i64(&format!("SELECT count(*) FROM users WHERE password = '{PASSWORD}'"))
            .await
            .expect("count");
        let hashed = pool
            .fetch_i64("SELECT count(*) FROM users WHERE password LIKE '$argon2id$%'")
            .await
            .expect("count");
        pool.close().await;
        assert_eq!((plain, hashed), (0, 1));
        let (status, body) = sign_in(&server, " ADA@example.com", PASSWORD).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["user"], session["user"]);
    }

    /// A wrong password and an unknown email are refused with the same answer.
    async fn sign_in_refuses_a_wrong_password_and_an_unknown_email_alike(db: Database) {
        let server = start(&db).await;
        sign_up(&server, "ada@example.com", "Ada").await;
        let (status, wrong) = sign_in(&server, "ada@example.com", "wrong password").await;
        assert_eq!((status, code(&wrong)), (400, "invalid_credentials"), "{wrong}");
        let (status, unknown) = sign_in(&server, "bob@example.com", PASSWORD).await;
        assert_eq!(status, 400);
        assert_eq!(wrong, unknown);
        // A body without the password is malformed, not a failed sign-in.
        let (status, _, body) = send(
            anonymous(&server, Method::POST, "/auth/v1/token?grant_type=password")
                .json(&json!({"email": "ada@example.com"})),
        )
        .await;
        assert_eq!((status, code(&body)), (400, "PGRST102"), "{body}");
    }

    /// The token endpoint needs a grant type it knows.
    async fn the_token_endpoint_refuses_unknown_grant_types(db: Database) {
        let server = start(&db).await;
        for path in ["/auth/v1/token", "/auth/v1/token?grant_type=client_credentials"] {
            let (status, _, body) = send(
                anonymous(&server, Method::POST, path)
                    .json(&json!({"email": "ada@example.com", "password": PASSWORD})),
            )
            .await;
            assert_eq!((status, code(&body)), (400, "unsupported_grant_type"), "{path}: {body}");
        }
    }

    /// An account disabled with the service key can neither sign in nor renew a session;
    /// a wrong password still gets the answer every wrong password gets.
    async fn a_disabled_account_can_neither_sign_in_nor_refresh(db: Database) {
        let server = start(&db).await;
        let session = sign_up(&server, "ada@example.com", "Ada").await;
        let (status, _, body) = send(
            server
                .patch(&format!("/rest/v1/users?id=eq.{}", user_id(&session)))
                .json(&json!({"disabled": true})),
        )
        .await;
        assert_eq!(status, 204, "{body}");
        let (status, body) = sign_in(&server, "ada@example.com", PASSWORD).await;
        assert_eq!((status, code(&body)), (403, "user_disabled"), "{body}");
        let (status, body) = sign_in(&server, "ada@example.com", "wrong password").await;
        assert_eq!((status, code(&body)), (400, "invalid_credentials"), "{body}");
        let (status, body) = refresh(&server, refresh_token(&session)).await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(code(&body), "user_disabled");
        assert!(body.get("access_token").is_none());
    }

    /// Renewal answers a new working pair; the refresh token it spent is refused after.
    async fn refreshing_answers_a_new_pair_and_spends_the_refresh_token(db: Database) {
        let server = start(&db).await;
        let first = sign_up(&server, "ada@example.com", "Ada").await;
        let (status, second) = refresh(&server, refresh_token(&first)).await;
        assert_eq!(status, 200, "{second}");
        assert_ne!(refresh_token(&second), refresh_token(&first));
        assert_eq!(second["user"], first["user"]);
        let (status, _, me) = send(as_user(&server, Method::GET, "/auth/v1/user", &second)).await;
        assert_eq!((status, me["id"].as_str()), (200, Some(user_id(&first))));
        let (status, third) = refresh(&server, refresh_token(&second)).await;
        assert_eq!(status, 200, "the new refresh token renews in turn: {third}");
        let (status, body) = refresh(&server, refresh_token(&first)).await;
        assert_eq!((status, code(&body)), (400, "invalid_refresh_token"), "{body}");
        let (status, body) = refresh(&server, "never-issued").await;
        assert_eq!((status, code(&body)), (400, "invalid_refresh_token"), "{body}");
    }

    /// Presenting a spent refresh token again ends its whole family: the token that replaced
    /// it stops working too. Sessions started by other sign-ins go on.
    async fn reusing_a_spent_refresh_token_revokes_its_successor(db: Database) {
        let server = start(&db).await;
        let first = sign_up(&server, "ada@example.com", "Ada").await;
        let (_, other) = sign_in(&server, "ada@example.com", PASSWORD).await;
        let (status, second) = refresh(&server, refresh_token(&first)).await;
        assert_eq!(status, 200, "{second}");
        let (status, body) = refresh(&server, refresh_token(&first)).await;
        assert_eq!((status, code(&body)), (400, "invalid_refresh_token"), "{body}");
        let (status, body) = refresh(&server, refresh_token(&second)).await;
        assert_eq!((status, code(&body)), (400, "invalid_refresh_token"), "{body}");
        let (status, body) = refresh(&server, refresh_token(&other)).await;
        assert_eq!(status, 200, "another session of the user: {body}");
    }

    /// Signing out ends every refresh token of the user; it needs the user's access token.
    async fn logging_out_ends_every_session_of_the_user(db: Database) {
        let server = start(&db).await;
        let first = sign_up(&server, "ada@example.com", "Ada").await;
        let (_, second) = sign_in(&server, "ada@example.com", PASSWORD).await;
        let bob = sign_up(&server, "bob@example.com", "Bob").await;
        let (status, _, body) = send(anonymous(&server, Method::POST, "/auth/v1/logout")).await;
        assert_eq!((status, code(&body)), (401, "PGRST302"), "{body}");
        let (status, _, body) = send(as_user(&server, Method::POST, "/auth/v1/logout", &second)).await;
        assert_eq!((status, body), (204, Value::Null));
        for session in [&first, &second] {
            let (status, body) = refresh(&server, refresh_token(session)).await;
            assert_eq!((status, code(&body)), (400, "invalid_refresh_token"), "{body}");
        }
        let (status, body) = refresh(&server, refresh_token(&bob)).await;
        assert_eq!(status, 200, "another user's session: {body}");
    }

    /// `/auth/v1/user` answers the signed-in account, and only to a user's access token.
    async fn the_user_endpoint_answers_the_signed_in_account(db: Database) {
        let server = start(&db).await;
        let session = sign_up(&server, "ada@example.com", "Ada").await;
        let (status, _, me) = send(as_user(&server, Method::GET, "/auth/v1/user", &session)).await;
        assert_eq!((status, &me), (200, &session["user"]));
        let (status, _, body) = send(anonymous(&server, Method::GET, "/auth/v1/user")).await;
        assert_eq!((status, code(&body)), (401, "PGRST302"), "{body}");
        let (status, _, body) = send(server.get("/auth/v1/user")).await;
        assert_eq!((status, code(&body)), (401, "PGRST302"), "service key: {body}");
        let anon = TokenSigner::new(TOKEN_SECRET).expect("signer").anon_key().expect("anon key");
        let (status, _, body) = send(anonymous(&server, Method::GET, "/auth/v1/user").header("apikey", anon)).await;
        assert_eq!((status, code(&body)), (401, "PGRST302"), "anonymous key: {body}");
        let (status, _, body) = send(bearer(&server, Method::GET, "/auth/v1/user", "garbage")).await;
        assert_eq!((status, code(&body)), (401, "PGRST301"), "{body}");
    }

    /// Tokens signed with another secret, malformed or expired are refused, even on a
    /// model anyone may read, in either header.
    async fn forged_malformed_and_expired_tokens_are_refused(db: Database) {
        let server = start(&db).await;
        let session = sign_up(&server, "ada@example.com", "Ada").await;
        let account = tessera_runtime::Account {
            id: user_id(&session).to_owned(),
            email: "ada@example.com".into(),
        };
        let other = TokenSigner::new(b"another-signing-secret-0123456789abcdef").expect("signer");
        let (forged, _) = other.issue(&account, 3600).expect("signs");
        let ours = TokenSigner::new(TOKEN_SECRET).expect("signer");
        let (expired, _) = ours.issue(&account, -30).expect("signs");
        let (valid, _) = ours.issue(&account, 3600).expect("signs");
        let tampered = format!("{}x", &valid[..valid.len() - 1]);
        for token in [forged.as_str(), expired.as_str(), "not.a.token", "garbage", tampered.as_str()] {
            let (status, headers, body) = send(bearer(&server, Method::GET, "/rest/v1/notes", token)).await;
            assert_eq!((status, code(&body)), (401, "PGRST301"), "{token}: {body}");
            assert_eq!(headers["www-authenticate"], "Bearer");
            let (status, _, body) = send(anonymous(&server, Method::GET, "/rest/v1/notes").header("apikey", token)).await;
            assert_eq!((status, code(&body)), (401, "PGRST301"), "{token}: {body}");
        }
        let (status, _, body) = send(bearer(&server, Method::GET, "/rest/v1/users", &valid)).await;
        assert_eq!(status, 200, "the same claims, signed by the server's secret: {body}");
        let (status, _, _) = send(anonymous(&server, Method::GET, "/rest/v1/notes")).await;
        assert_eq!(status, 200, "no credential at all is anonymous");
    }

    /// With sign-ups disabled, the endpoint refuses; accounts made with the service key
    /// still sign in.
    async fn sign_up_can_be_disabled(db: Database) {
        let config = ServerConfig { signup: false, ..ServerConfig::default() };
        let server = TestServer::start_source(&db, SCHEMA, config).await;
        let (status, _, body) = send(anonymous(&server, Method::POST, "/auth/v1/signup").json(
            &json!({"email": "ada@example.com", "password": PASSWORD}),
        ))
        .await;
        assert_eq!((status, code(&body)), (403, "signup_disabled"), "{body}");
        assert_eq!(accounts(&server).await, Vec::<Value>::new());
        let (status, _, body) = send(
            server
                .post("/rest/v1/users")
                .json(&json!({"email": "ada@example.com", "password": PASSWORD})),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        let (status, body) = sign_in(&server, "ada@example.com", PASSWORD).await;
        assert_eq!(status, 200, "{body}");
    }

    /// `registration: closed` in the schema refuses every sign-up, whatever the server's
    /// flag; the service key still creates accounts.
    async fn a_schema_closed_to_sign_ups_refuses_them(db: Database) {
        let schema = SCHEMA.replace("signup: [name])", "signup: [name], registration: closed)");
        let server = TestServer::start_source(&db, &schema, ServerConfig::default()).await;
        let (status, _, body) = send(anonymous(&server, Method::POST, "/auth/v1/signup").json(
            &json!({"email": "ada@example.com", "password": PASSWORD}),
        ))
        .await;
        assert_eq!((status, code(&body)), (403, "signup_disabled"), "{body}");
        assert_eq!(accounts(&server).await, Vec::<Value>::new());
        let (status, _, body) = send(
            server
                .post("/rest/v1/users")
                .json(&json!({"email": "ada@example.com", "password": PASSWORD})),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }

    /// `registration: invited(invitations.email)` admits the emails a live invitation
    /// holds (compared as the account stores them: trimmed and lowercased here), and no
    /// other; withdrawing the invitation closes it again.
    async fn an_invite_only_schema_signs_up_invited_emails_only(db: Database) {
        let schema = format!(
            "{}\nmodel invitations {{\n  @@soft_delete\n  email  text\n}}\n",
            SCHEMA.replace("signup: [name])", "signup: [name], registration: invited(invitations.email))")
        );
        let server = TestServer::start_source(&db, &schema, ServerConfig::default()).await;
        let sign_up = |email: &'static str| {
            send(anonymous(&server, Method::POST, "/auth/v1/signup").json(&json!({"email": email, "password": PASSWORD})))
        };
        let (status, _, body) = sign_up("ada@example.com").await;
        assert_eq!((status, code(&body)), (403, "signup_disabled"), "uninvited: {body}");
        let (status, _, body) = send(server.post("/rest/v1/invitations").json(&json!([{"email": "ada@example.com"}, {"email": "bob@example.com"}]))).await;
        assert_eq!(status, 201, "{body}");
        let (status, _, body) = sign_up(" Ada@Example.com ").await;
        assert_eq!(status, 200, "invited: {body}");
        let (status, _, body) = send(server.delete("/rest/v1/invitations?email=eq.bob@example.com")).await;
        assert_eq!(status, 204, "{body}");
        let (status, _, body) = sign_up("bob@example.com").await;
        assert_eq!((status, code(&body)), (403, "signup_disabled"), "withdrawn: {body}");
        assert_eq!(accounts(&server).await.len(), 1);
    }

    /// The anonymous key reads what anyone may read and is refused elsewhere.
    async fn the_anonymous_key_reads_public_models_only(db: Database) {
        let server = start(&db).await;
        let ada = sign_up(&server, "ada@example.com", "Ada").await;
        write_note(&server, &ada, "hello").await;
        let anon = TokenSigner::new(TOKEN_SECRET).expect("signer").anon_key().expect("anon key");
        let with_key = |method: Method, path: &str| anonymous(&server, method, path).header("apikey", anon.as_str());
        let (status, _, body) = send(with_key(Method::GET, "/rest/v1/notes?select=body")).await;
        assert_eq!((status, body), (200, json!([{"body": "hello"}])));
        let (status, _, body) = send(with_key(Method::GET, "/rest/v1/users")).await;
        assert_eq!((status, code(&body)), (401, "42501"), "{body}");
        let (status, _, body) = send(with_key(Method::POST, "/rest/v1/notes").json(&json!({"body": "x"}))).await;
        assert_eq!((status, code(&body)), (401, "42501"), "{body}");
        // A user's token in Authorization decides over the anonymous key in apikey.
        let (status, _, body) = send(
            with_key(Method::GET, "/rest/v1/users").bearer_auth(access_token(&ada)),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }

    /// Anyone may read notes; anonymous callers may not write them.
    async fn anonymous_callers_read_notes_but_cannot_write_them(db: Database) {
        let server = start(&db).await;
        let ada = sign_up(&server, "ada@example.com", "Ada").await;
        let note = write_note(&server, &ada, "hello").await;
        let id = note["id"].as_str().expect("id");
        let (status, _, body) = send(anonymous(&server, Method::GET, "/rest/v1/notes?select=id,body")).await;
        assert_eq!((status, body), (200, json!([{"id": id, "body": "hello"}])));
        let (status, _, body) = send(anonymous(&server, Method::POST, "/rest/v1/notes").json(&json!({"body": "x"}))).await;
        assert_eq!((status, code(&body)), (401, "42501"), "{body}");
        assert_eq!(body["message"], "permission denied: anonymous callers may not create notes");
        let path = format!("/rest/v1/notes?id=eq.{id}");
        let (status, _, body) = send(anonymous(&server, Method::PATCH, &path).json(&json!({"body": "x"}))).await;
        assert_eq!((status, code(&body)), (401, "42501"), "{body}");
        let (status, _, body) = send(anonymous(&server, Method::DELETE, &path)).await;
        assert_eq!((status, code(&body)), (401, "42501"), "{body}");
        assert_eq!(stored_note(&server, id).await["body"], "hello");
    }

    /// A signed-in user's note records them as its author.
    async fn a_users_note_records_them_as_its_author(db: Database) {
        let server = start(&db).await;
        let ada = sign_up(&server, "ada@example.com", "Ada").await;
        let note = write_note(&server, &ada, "hello").await;
        assert_eq!(note["createdById"], ada["user"]["id"]);
        assert_eq!(note["updatedById"], ada["user"]["id"]);
        let (status, _, rows) = send(anonymous(
            &server,
            Method::GET,
            &format!("/rest/v1/notes?id=eq.{}&select=body,createdBy(name)", note["id"].as_str().expect("id")),
        ))
        .await;
        assert_eq!(status, 401, "users are not public, so anonymous callers cannot embed them: {rows}");
        let (status, _, rows) = send(as_user(
            &server,
            Method::GET,
            "/rest/v1/notes?select=body,createdBy(name)",
            &ada,
        ))
        .await;
        assert_eq!((status, rows), (200, json!([{"body": "hello", "createdBy": {"name": "Ada"}}])));
    }

    /// The author fields are the engine's: a note cannot claim another author.
    async fn a_note_cannot_claim_another_author(db: Database) {
        let server = start(&db).await;
        let ada = sign_up(&server, "ada@example.com", "Ada").await;
        let bob = sign_up(&server, "bob@example.com", "Bob").await;
        for body in [
            json!({"body": "x", "createdById": user_id(&ada)}),
            json!({"body": "x", "createdBy": user_id(&ada)}),
        ] {
            let (status, _, answer) = send(as_user(&server, Method::POST, "/rest/v1/notes", &bob).json(&body)).await;
            assert_eq!((status, code(&answer)), (422, "428C9"), "{body}: {answer}");
            assert_eq!(answer["errors"][0]["rule"], "managed", "{answer}");
        }
        let note = write_note(&server, &ada, "mine").await;
        let (status, _, answer) = send(
            as_user(&server, Method::PATCH, &format!("/rest/v1/notes?id=eq.{}", note["id"].as_str().expect("id")), &ada)
                .json(&json!({"createdById": user_id(&bob)})),
        )
        .await;
        assert_eq!((status, code(&answer)), (422, "428C9"), "{answer}");
        let (_, _, rows) = send(server.get("/rest/v1/notes?select=body,createdById")).await;
        assert_eq!(rows, json!([{"body": "mine", "createdById": user_id(&ada)}]));
    }

    /// Another user's PATCH and DELETE of a note match no row: nothing changes.
    async fn another_user_cannot_change_or_delete_a_note(db: Database) {
        let server = start(&db).await;
        let ada = sign_up(&server, "ada@example.com", "Ada").await;
        let bob = sign_up(&server, "bob@example.com", "Bob").await;
        let note = write_note(&server, &ada, "mine").await;
        let id = note["id"].as_str().expect("id");
        let path = format!("/rest/v1/notes?id=eq.{id}");
        let (status, _, body) = send(as_user(&server, Method::PATCH, &path, &bob).json(&json!({"body": "bob's now"}))).await;
        assert_eq!((status, body), (204, Value::Null));
        let (status, _, body) = send(
            as_user(&server, Method::PATCH, &path, &bob)
                .header("prefer", "return=representation")
                .json(&json!({"body": "bob's now"})),
        )
        .await;
        assert_eq!((status, body), (200, json!([])));
        let (status, _, body) = send(
            as_user(&server, Method::PATCH, &path, &bob)
                .header("accept", "application/vnd.pgrst.object+json")
                .json(&json!({"body": "bob's now"})),
        )
        .await;
        assert_eq!((status, code(&body)), (406, "PGRST116"), "{body}");
        let (status, _, body) = send(as_user(&server, Method::DELETE, &path, &bob).header("prefer", "return=representation")).await;
        assert_eq!((status, body), (200, json!([])));
        let (status, _, body) = send(as_user(&server, Method::DELETE, &path, &bob)).await;
        assert_eq!((status, body), (204, Value::Null));
        assert_eq!(stored_note(&server, id).await, note);
    }

    /// The author may change and delete their note.
    async fn the_author_can_change_and_delete_their_note(db: Database) {
        let server = start(&db).await;
        let ada = sign_up(&server, "ada@example.com", "Ada").await;
        let bob = sign_up(&server, "bob@example.com", "Bob").await;
        let note = write_note(&server, &ada, "draft").await;
        let other = write_note(&server, &bob, "bob's").await;
        let id = note["id"].as_str().expect("id");
        // An unfiltered-looking PATCH touches only the caller's own notes.
        let (status, _, rows) = send(
            as_user(&server, Method::PATCH, "/rest/v1/notes?body=neq.nothing", &ada)
                .header("prefer", "return=representation")
                .json(&json!({"body": "final"})),
        )
        .await;
        assert_eq!(status, 200, "{rows}");
        assert_eq!(rows.as_array().map(Vec::len), Some(1), "{rows}");
        assert_eq!(rows[0]["id"], id);
        assert_eq!(rows[0]["body"], "final");
        assert_eq!(rows[0]["updatedById"], ada["user"]["id"]);
        assert_eq!(stored_note(&server, other["id"].as_str().expect("id")).await["body"], "bob's");
        let (status, _, rows) = send(
            as_user(&server, Method::DELETE, "/rest/v1/notes?body=neq.nothing", &ada)
                .header("prefer", "return=representation"),
        )
        .await;
        assert_eq!(status, 200, "{rows}");
        assert_eq!(rows.as_array().map(Vec::len), Some(1), "{rows}");
        assert_eq!(stored_note(&server, id).await, Value::Null);
        assert_eq!(stored_note(&server, other["id"].as_str().expect("id")).await, other);
    }

    /// A user may update their own account and no one else's.
    async fn a_user_may_update_only_their_own_account(db: Database) {
        let server = start(&db).await;
        let ada = sign_up(&server, "ada@example.com", "Ada").await;
        let bob = sign_up(&server, "bob@example.com", "Bob").await;
        let (status, _, rows) = send(
            as_user(&server, Method::PATCH, &format!("/rest/v1/users?id=eq.{}", user_id(&ada)), &ada)
                .header("prefer", "return=representation")
                .json(&json!({"name": "Ada L."})),
        )
        .await;
        assert_eq!(status, 200, "{rows}");
        assert_eq!(rows[0]["name"], "Ada L.");
        let (status, _, rows) = send(
            as_user(&server, Method::PATCH, &format!("/rest/v1/users?id=eq.{}", user_id(&bob)), &ada)
                .header("prefer", "return=representation")
                .json(&json!({"name": "Mallory"})),
        )
        .await;
        assert_eq!((status, rows), (200, json!([])));
        let (status, _, rows) = send(
            as_user(&server, Method::PATCH, "/rest/v1/users?name=neq.nobody", &ada)
                .header("prefer", "return=representation")
                .json(&json!({"name": "Ada"})),
        )
        .await;
        assert_eq!(status, 200, "{rows}");
        assert_eq!(rows.as_array().map(Vec::len), Some(1), "{rows}");
        let names: Vec<Value> = accounts(&server).await.iter().map(|r| r["name"].clone()).collect();
        assert_eq!(names, [json!("Ada"), json!("Bob")]);
        // Creating and deleting accounts is not granted to users.
        let (status, _, body) = send(
            as_user(&server, Method::DELETE, &format!("/rest/v1/users?id=eq.{}", user_id(&ada)), &ada),
        )
        .await;
        assert_eq!((status, code(&body)), (403, "42501"), "{body}");
        let (status, _, body) = send(
            as_user(&server, Method::POST, "/rest/v1/users", &ada)
                .json(&json!({"email": "eve@example.com", "password": PASSWORD})),
        )
        .await;
        assert_eq!((status, code(&body)), (403, "42501"), "{body}");
    }

    /// A user cannot change the key of their account; the account keeps its key and its
    /// sessions.
    async fn a_user_cannot_change_the_key_of_their_account(db: Database) {
        let server = start(&db).await;
        let ada = sign_up(&server, "ada@example.com", "Ada").await;
        let (status, _, body) = send(
            as_user(&server, Method::PATCH, &format!("/rest/v1/users?id=eq.{}", user_id(&ada)), &ada)
                .json(&json!({"id": "2a0f3f0e-57d4-4bf4-9d3f-0d6a5bde0d2d"})),
        )
        .await;
        assert_eq!((status, code(&body)), (422, "428C9"), "{body}");
        assert_eq!(body["errors"][0]["field"], "id", "{body}");
        let rows = accounts(&server).await;
        assert_eq!(rows[0]["id"], ada["user"]["id"]);
        let (status, _, _) = send(as_user(&server, Method::GET, "/auth/v1/user", &ada)).await;
        assert_eq!(status, 200);
    }

    /// A user cannot lift their own suspension with an access token issued before it:
    /// only the service key writes the `disabled` flag of an account.
    async fn a_disabled_user_cannot_enable_their_own_account(db: Database) {
        let server = start(&db).await;
        let session = sign_up(&server, "ada@example.com", "Ada").await;
        let path = format!("/rest/v1/users?id=eq.{}", user_id(&session));
        let (status, _, body) = send(server.patch(&path).json(&json!({"disabled": true}))).await;
        assert_eq!(status, 204, "{body}");
        let (status, _, body) = send(
            as_user(&server, Method::PATCH, &path, &session).json(&json!({"disabled": false})),
        )
        .await;
        assert_eq!((status, code(&body)), (422, "428C9"), "{body}");
        assert_eq!(
            body["errors"],
            json!([{"field": "disabled", "rule": "managed", "message": "disabled of an account is set with the service key only"}])
        );
        let (status, body) = sign_in(&server, "ada@example.com", PASSWORD).await;
        assert_eq!((status, code(&body)), (403, "user_disabled"), "{body}");
        // Other fields of the account stay the user's to change.
        let (status, _, body) = send(
            as_user(&server, Method::PATCH, &path, &session).json(&json!({"name": "Ada L."})),
        )
        .await;
        assert_eq!(status, 204, "{body}");
    }

    /// The access token lives as long as the server's configuration says.
    async fn the_access_token_lifetime_follows_the_configuration(db: Database) {
        let config = ServerConfig {
            access_token_lifetime: std::time::Duration::from_secs(60),
            ..ServerConfig::default()
        };
        let server = TestServer::start_source(&db, SCHEMA, config).await;
        let before = chrono::Utc::now().timestamp();
        let session = sign_up(&server, "ada@example.com", "Ada").await;
        assert_eq!(session["expires_in"], 60);
        let expires_at = session["expires_at"].as_i64().expect("expires_at");
        assert!((before + 60..=before + 70).contains(&expires_at), "{session}");
        let claims = TokenSigner::new(TOKEN_SECRET)
            .expect("signer")
            .verify(access_token(&session))
            .expect("a valid token");
        assert_eq!(claims.exp, Some(expires_at));
        assert_eq!(claims.sub.as_deref(), Some(user_id(&session)));
        assert_eq!(claims.role, "authenticated");
    }

    /// An upsert that merges duplicates could overwrite anyone's row: it needs the right to
    /// update every row, which an owner rule does not give.
    async fn merging_duplicates_needs_the_right_to_update_every_row(db: Database) {
        let server = start(&db).await;
        let ada = sign_up(&server, "ada@example.com", "Ada").await;
        let bob = sign_up(&server, "bob@example.com", "Bob").await;
        let note = write_note(&server, &ada, "mine").await;
        let (status, _, body) = send(
            as_user(&server, Method::POST, "/rest/v1/notes", &bob)
                .header("prefer", "resolution=merge-duplicates")
                .json(&json!({"id": note["id"], "body": "bob's now"})),
        )
        .await;
        assert_eq!((status, code(&body)), (403, "42501"), "{body}");
        let (status, _, body) = send(
            as_user(&server, Method::POST, "/rest/v1/notes", &bob)
                .header("prefer", "resolution=ignore-duplicates")
                .json(&json!({"id": note["id"], "body": "bob's now"})),
        )
        .await;
        assert_eq!(status, 201, "ignoring duplicates changes no one's row: {body}");
        assert_eq!(stored_note(&server, note["id"].as_str().expect("id")).await, note);
    }

    /// Soft-deleted rows are listed and restored only by those who may update them.
    async fn the_trash_shows_and_restores_only_the_callers_own_rows(db: Database) {
        let server = start(&db).await;
        let ada = sign_up(&server, "ada@example.com", "Ada").await;
        let bob = sign_up(&server, "bob@example.com", "Bob").await;
        let note = write_note(&server, &ada, "mine").await;
        let id = note["id"].as_str().expect("id");
        let (status, _, body) = send(as_user(&server, Method::DELETE, &format!("/rest/v1/notes?id=eq.{id}"), &ada)).await;
        assert_eq!(status, 204, "{body}");
        let (status, _, body) = send(anonymous(&server, Method::GET, "/rest/v1/notes?_deleted=only")).await;
        assert_eq!((status, code(&body)), (401, "42501"), "{body}");
        let (status, _, body) = send(as_user(&server, Method::GET, "/rest/v1/notes?_deleted=only", &bob)).await;
        assert_eq!((status, body), (200, json!([])));
        let (status, _, body) = send(as_user(&server, Method::GET, "/rest/v1/notes?_deleted=only&select=id", &ada)).await;
        assert_eq!((status, body), (200, json!([{"id": id}])));
        let restore = format!("/rest/v1/notes/restore?id=eq.{id}");
        let (status, _, body) = send(
            as_user(&server, Method::POST, &restore, &bob).header("prefer", "return=representation"),
        )
        .await;
        assert_eq!((status, body), (200, json!([])));
        assert_eq!(stored_note(&server, id).await, Value::Null, "still deleted");
        let (status, _, body) = send(
            as_user(&server, Method::POST, &restore, &ada).header("prefer", "return=representation"),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body[0]["body"], "mine", "{body}");
        assert_eq!(stored_note(&server, id).await["body"], "mine");
    }

    /// On their own account a user writes only the email, the password and the sign-up
    /// fields: they cannot grant themselves a role.
    async fn a_user_cannot_grant_themselves_a_role(db: Database) {
        let server = start(&db).await;
        let ada = sign_up(&server, "ada@example.com", "Ada").await;
        let path = format!("/rest/v1/users?id=eq.{}", user_id(&ada));
        let (status, _, body) = send(
            as_user(&server, Method::PATCH, &path, &ada).json(&json!({"role": "admin", "name": "Ada L."})),
        )
        .await;
        assert_eq!((status, code(&body)), (422, "428C9"), "{body}");
        assert_eq!(
            body["errors"],
            json!([{"field": "role", "rule": "managed", "message": "role of an account is set with the service key only"}])
        );
        let (status, _, body) = send(
            as_user(&server, Method::PATCH, &path, &ada)
                .header("prefer", "return=representation")
                .json(&json!({"email": "ada@example.org", "password": "another password"})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body[0]["email"], "ada@example.org");
        let (status, body) = sign_in(&server, "ada@example.org", "another password").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["user"]["role"], "member");
        assert_eq!(body["user"]["name"], "Ada");
        let (status, _, body) = send(server.patch(&path).json(&json!({"role": "admin"}))).await;
        assert_eq!(status, 204, "the service key sets roles: {body}");
    }

    /// A server over a database that was never migrated creates no table of its own: a
    /// sign-in, a renewal and a read are answered 503 saying to run `tessera migrate`,
    /// with no database message.
    async fn a_database_never_migrated_is_answered_with_the_fix(db: Database) {
        let schema = tessera_schema::check_source("schema.tsr", SCHEMA).expect("checks").schema;
        let server = TestServer::serve_url(db.url(), schema, ServerConfig::default()).await;
        let (status, body) = sign_in(&server, "ada@example.com", PASSWORD).await;
        let (refresh_status, refresh_body) = refresh(&server, "some-token").await;
        let (read_status, _, read_body) = send(server.get("/rest/v1/notes")).await;
        for (status, body) in [(status, body), (refresh_status, refresh_body), (read_status, read_body)] {
            assert_eq!((status, code(&body)), (503, "42P01"), "{body}");
            assert!(body["message"].as_str().unwrap_or("").contains("not migrated"), "{body}");
            assert!(body["hint"].as_str().unwrap_or("").contains("tessera migrate"), "{body}");
            let text = body.to_string();
            assert!(!text.contains("no such table") && !text.contains("does not exist"), "{text}");
        }
    }
}
