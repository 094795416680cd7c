//! `tessera serve` as a user runs it: migrates, prints the generated key once, serves,
//! stops gracefully on SIGTERM, and refuses to start over pending destructive steps.

mod support;

use support::{fresh_dir, get, request, Server};

const SCHEMA: &str = "model projects {\n  @@soft_delete\n  name  text  @not_empty\n}\n\nmodel notes {\n  body  text\n}\n";
const WITH_ACCOUNTS: &str = "model users {\n  @@auth(email: email, password: password)\n  @@allow(read, id == auth)\n  email     text  @unique\n  password  text  @hash\n}\n\nmodel notes {\n  @@actors(users)\n  @@allow(all, createdBy == auth)\n  body  text\n}\n";
const WITHOUT_NOTES: &str = "model projects {\n  @@soft_delete\n  name  text  @not_empty\n}\n";

#[test]
fn serve_migrates_prints_the_key_once_and_stops_on_sigterm() {
    let dir = fresh_dir("serve", "first_start");
    let schema = dir.join("schema.tsr");
    std::fs::write(&schema, SCHEMA).expect("schema");

    let mut server = Server::start(&schema);
    assert!(
        server.wait_ready(),
        "serve did not come up:\n{}",
        server.lines.join("\n")
    );
    let key = server
        .printed_key()
        .expect("the generated key is printed on first start");
    assert_eq!(key.len(), 43, "{key}");
    assert!(
        dir.join("tessera.db").exists(),
        "the default database is beside the schema"
    );
    assert_eq!(get(server.port, "/rest/v1/projects", None).0, 401);
    assert_eq!(
        get(server.port, "/rest/v1/projects", Some(&key)),
        (200, "[]".to_owned())
    );
    let (status, _) = request(
        server.port,
        "POST",
        "/rest/v1/projects",
        Some(&key),
        Some(r#"{"name":"One"}"#),
    );
    assert_eq!(status, 201);
    assert_eq!(get(server.port, "/ready", None).0, 200);
    let status = server.terminate();
    assert!(status.success(), "graceful shutdown exits 0, got {status}");

    // Second start: the same key, not printed again; the data is still there.
    let mut server = Server::start(&schema);
    assert!(
        server.wait_ready(),
        "serve did not come back:\n{}",
        server.lines.join("\n")
    );
    assert_eq!(server.printed_key(), None, "the key is printed only once");
    let (status, body) = get(server.port, "/rest/v1/projects?select=name", Some(&key));
    assert_eq!((status, body.as_str()), (200, r#"[{"name":"One"}]"#));
    server.terminate();
}

/// The value of `"name": "..."` in a JSON text.
fn json_string(body: &str, name: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    value.get(name)?.as_str().map(str::to_owned)
}

#[test]
fn serve_signs_users_up_and_their_tokens_outlive_a_restart() {
    let dir = fresh_dir("serve", "accounts");
    let schema = dir.join("schema.tsr");
    std::fs::write(&schema, WITH_ACCOUNTS).expect("schema");
    let mut server = Server::start(&schema);
    assert!(
        server.wait_ready(),
        "serve did not come up:\n{}",
        server.lines.join("\n")
    );
    let (status, session) = request(
        server.port,
        "POST",
        "/auth/v1/signup",
        None,
        Some(r#"{"email":"ann@example.com","password":"correct horse"}"#),
    );
    assert_eq!(status, 200, "{session}");
    let token = json_string(&session, "access_token").expect("an access token");
    let (status, note) = request(
        server.port,
        "POST",
        "/rest/v1/notes?select=body",
        Some(&token),
        Some(r#"{"body":"mine"}"#),
    );
    assert_eq!(status, 201, "{note}");
    server.terminate();

    // The signing secret is kept in the database: a second process accepts the token.
    let mut server = Server::start(&schema);
    assert!(
        server.wait_ready(),
        "serve did not come back:\n{}",
        server.lines.join("\n")
    );
    let (status, body) = get(server.port, "/rest/v1/notes?select=body", Some(&token));
    assert_eq!((status, body.as_str()), (200, r#"[{"body":"mine"}]"#));
    assert_eq!(get(server.port, "/rest/v1/notes", None).0, 401);
    server.terminate();
}

#[test]
fn serve_with_disable_signup_refuses_sign_ups() {
    let dir = fresh_dir("serve", "no_signup");
    let schema = dir.join("schema.tsr");
    std::fs::write(&schema, WITH_ACCOUNTS).expect("schema");
    let mut server = Server::spawn(&[schema.as_os_str(), "--disable-signup".as_ref()], &dir);
    assert!(
        server.wait_ready(),
        "serve did not come up:\n{}",
        server.lines.join("\n")
    );
    let (status, body) = request(
        server.port,
        "POST",
        "/auth/v1/signup",
        None,
        Some(r#"{"email":"ann@example.com","password":"correct horse"}"#),
    );
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        json_string(&body, "code").as_deref(),
        Some("signup_disabled")
    );
    server.terminate();
}

#[test]
fn serve_refuses_pending_destructive_steps() {
    let dir = fresh_dir("serve", "destructive");
    let schema = dir.join("schema.tsr");
    std::fs::write(&schema, SCHEMA).expect("schema");
    let mut server = Server::start(&schema);
    assert!(
        server.wait_ready(),
        "serve did not come up:\n{}",
        server.lines.join("\n")
    );
    let key = server.printed_key().expect("key");
    let (status, _) = request(
        server.port,
        "POST",
        "/rest/v1/notes",
        Some(&key),
        Some(r#"{"body":"keep me"}"#),
    );
    assert_eq!(status, 201);
    server.terminate();

    // Dropping a table with rows loses data: serve names the step and does not start.
    std::fs::write(&schema, WITHOUT_NOTES).expect("schema");
    let server = Server::start(&schema);
    let (status, stderr) = server.wait_exit();
    assert!(!status.success());
    assert!(stderr.contains("notes"), "the step is named:\n{stderr}");
    assert!(stderr.contains("tessera migrate"), "{stderr}");
}

#[test]
fn serve_app_runs_a_bundled_app_with_no_schema_file() {
    let dir = fresh_dir("serve", "bundled_app");
    let mut server = Server::start_app("securecam", &dir);
    assert!(
        server.wait_ready(),
        "serve --app did not come up:\n{}",
        server.lines.join("\n")
    );
    let key = server.printed_key().expect("the generated key is printed");
    assert_eq!(
        get(server.port, "/rest/v1/devices?select=id", Some(&key)),
        (200, "[]".to_owned())
    );
    assert!(
        dir.join("securecam.db").exists(),
        "the database is created in the working directory"
    );
    let written: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with("securecam.db"))
        .collect();
    assert!(
        written.is_empty(),
        "nothing but the database is written: {written:?}"
    );
    assert!(server.terminate().success());
}

#[test]
fn serve_app_with_an_unknown_name_lists_the_bundled_apps() {
    let dir = fresh_dir("serve", "unknown_app");
    let server = Server::start_app("nonexistent", &dir);
    let (status, stderr) = server.wait_exit();
    assert_eq!(status.code(), Some(1));
    assert!(stderr.contains("no bundled app `nonexistent`"), "{stderr}");
    assert!(stderr.contains("tour-builder"), "{stderr}");
}
