//! `tessera serve` as a user runs it: migrates, prints the generated key once, serves,
//! stops gracefully on SIGTERM, and refuses to start over pending destructive steps.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const SCHEMA: &str = "model projects {\n  @@soft_delete\n  name  text  @not_empty\n}\n\nmodel notes {\n  body  text\n}\n";
const WITH_ACCOUNTS: &str = "model users {\n  @@auth(email: email, password: password)\n  @@allow(read, id == auth)\n  email     text  @unique\n  password  text  @hash\n}\n\nmodel notes {\n  @@actors(users)\n  @@allow(all, createdBy == auth)\n  body  text\n}\n";
const WITHOUT_NOTES: &str = "model projects {\n  @@soft_delete\n  name  text  @not_empty\n}\n";

fn fresh_dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("serve")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

struct Server {
    child: Child,
    port: u16,
    stderr: mpsc::Receiver<String>,
    lines: Vec<String>,
}

impl Server {
    fn start(schema: &Path) -> Server {
        let dir = schema.parent().unwrap_or(Path::new("."));
        Server::spawn(&[schema.as_os_str()], dir)
    }

    /// `tessera serve --app NAME`, run in `dir`.
    fn start_app(app: &str, dir: &Path) -> Server {
        Server::spawn(&["--app".as_ref(), app.as_ref()], dir)
    }

    fn spawn(args: &[&std::ffi::OsStr], dir: &Path) -> Server {
        let port = free_port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
            .arg("serve")
            .args(args)
            .env_remove("TESSERA_JWT_SECRET")
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .current_dir(dir)
            .env_remove("TESSERA_SERVICE_KEY")
            .env_remove("DATABASE_URL")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tessera serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Server {
            child,
            port,
            stderr: rx,
            lines: Vec::new(),
        }
    }

    /// Waits until /health answers (or the process exits).
    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            self.drain();
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if get(self.port, "/health", None).0 == 200 {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    fn drain(&mut self) {
        while let Ok(line) = self.stderr.try_recv() {
            self.lines.push(line);
        }
    }

    /// The key printed on stderr, if any.
    fn printed_key(&mut self) -> Option<String> {
        self.drain();
        let at = self
            .lines
            .iter()
            .position(|l| l.contains("service key was generated"))?;
        self.lines[at + 1..]
            .iter()
            .map(|l| l.trim())
            .find(|l| !l.is_empty())
            .map(str::to_owned)
    }

    fn terminate(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_exit(mut self) -> (std::process::ExitStatus, String) {
        let status = self.child.wait().expect("exit status");
        std::thread::sleep(Duration::from_millis(100));
        self.drain();
        (status, self.lines.join("\n"))
    }
}

/// A plain HTTP/1.1 request; returns the status and the body.
fn request(
    port: u16,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<&str>,
) -> (u16, String) {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return (0, String::new());
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    if let Some(key) = key {
        head.push_str(&format!("Authorization: Bearer {key}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    head.push_str(body);
    if stream.write_all(head.as_bytes()).is_err() {
        return (0, String::new());
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn get(port: u16, path: &str, key: Option<&str>) -> (u16, String) {
    request(port, "GET", path, key, None)
}

#[test]
fn serve_migrates_prints_the_key_once_and_stops_on_sigterm() {
    let dir = fresh_dir("first_start");
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
    let dir = fresh_dir("accounts");
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
    let dir = fresh_dir("no_signup");
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
    let dir = fresh_dir("destructive");
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
    let dir = fresh_dir("bundled_app");
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
    let dir = fresh_dir("unknown_app");
    let server = Server::start_app("nonexistent", &dir);
    let (status, stderr) = server.wait_exit();
    assert_eq!(status.code(), Some(1));
    assert!(stderr.contains("no bundled app `nonexistent`"), "{stderr}");
    assert!(stderr.contains("tour-builder"), "{stderr}");
}
