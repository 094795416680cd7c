//! A real `tessera serve` process for the CLI's tests: started with its arguments in a
//! directory of its own, probed until it serves, then stopped with SIGTERM or killed with
//! SIGKILL; and a plain HTTP/1.1 request to talk to it without a client library.
//!
//! Each test target uses the part it needs.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a server may take to come up before a test gives up on it.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// An empty directory under the target's temporary directory: `<group>/<test>`.
pub fn fresh_dir(group: &str, test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(group)
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A port of 127.0.0.1 that nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A running `tessera serve` and what it wrote so far (its log on stdout, messages on
/// stderr).
pub struct Server {
    child: Child,
    pub port: u16,
    started: Instant,
    output: mpsc::Receiver<(Instant, String)>,
    /// The threads reading stdout and stderr; they end when the process is gone.
    readers: Vec<std::thread::JoinHandle<()>>,
    pub lines: Vec<String>,
    /// When each line arrived, after the start.
    arrivals: Vec<Duration>,
}

impl Server {
    /// `tessera serve SCHEMA`, run in the schema's directory.
    pub fn start(schema: &Path) -> Server {
        let dir = schema.parent().unwrap_or(Path::new("."));
        Server::spawn(&[schema.as_os_str()], dir)
    }

    /// `tessera serve --app NAME`, run in `dir`.
    pub fn start_app(app: &str, dir: &Path) -> Server {
        Server::spawn(&["--app".as_ref(), app.as_ref()], dir)
    }

    /// `tessera serve ARGS --listen 127.0.0.1:PORT`, run in `dir`, with none of the
    /// environment variables that configure it.
    pub fn spawn(args: &[&OsStr], dir: &Path) -> Server {
        Server::spawn_with_env(args, dir, &[])
    }

    /// [`Server::spawn`], with the environment variables `env` set.
    pub fn spawn_with_env(args: &[&OsStr], dir: &Path, env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let started = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
            .arg("serve")
            .args(args)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .current_dir(dir)
            .env_remove("TESSERA_JWT_SECRET")
            .env_remove("TESSERA_SERVICE_KEY")
            .env_remove("DATABASE_URL")
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tessera serve starts");
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let readers = vec![read_lines(stdout, tx.clone()), read_lines(stderr, tx)];
        Server {
            child,
            port,
            started,
            output: rx,
            readers,
            lines: Vec::new(),
            arrivals: Vec::new(),
        }
    }

    /// The resident memory of the process, in KiB (from `/proc/PID/status`; 0 where that
    /// cannot be read).
    pub fn rss_kib(&self) -> i64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default()
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// Waits until `/ready` answers 200 (the server listens and its database answers);
    /// false when the process exits first or does not come up in a minute.
    pub fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline {
            self.drain();
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if get(self.port, "/ready", None).0 == 200 {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    /// Everything the server wrote so far, one line each.
    pub fn output(&mut self) -> String {
        self.drain();
        self.lines.join("\n")
    }

    fn drain(&mut self) {
        while let Ok((at, line)) = self.output.try_recv() {
            self.arrivals
                .push(at.saturating_duration_since(self.started));
            self.lines.push(line);
        }
    }

    /// How long after the start the server first wrote a line containing `text`.
    pub fn wrote_after(&mut self, text: &str) -> Option<Duration> {
        self.drain();
        let at = self.lines.iter().position(|l| l.contains(text))?;
        Some(self.arrivals[at])
    }

    /// The key printed on stderr, if any: the first word alone on a line after the
    /// notice (log lines from stdout may come between).
    pub fn printed_key(&mut self) -> Option<String> {
        self.drain();
        let at = self
            .lines
            .iter()
            .position(|l| l.contains("service key was generated"))?;
        self.lines[at + 1..]
            .iter()
            .map(|l| l.trim())
            .find(|l| !l.is_empty() && !l.contains(' '))
            .map(str::to_owned)
    }

    /// Kills the process with SIGKILL (no chance to finish anything) and reaps it;
    /// everything it wrote before it died.
    pub fn kill(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.all_output()
    }

    /// Once the process is gone: every line it wrote.
    fn all_output(&mut self) -> String {
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        self.output()
    }

    /// Sends SIGTERM and waits for the graceful shutdown; panics after 20 seconds.
    pub fn terminate(mut self) -> ExitStatus {
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

    /// Waits for the process to exit on its own; its status and everything it wrote.
    pub fn wait_exit(mut self) -> (ExitStatus, String) {
        let status = self.child.wait().expect("exit status");
        (status, self.all_output())
    }
}

impl Drop for Server {
    /// A server a failing test leaves behind does not outlive it.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A thread sending each line read from `pipe`, with the moment it arrived, to `lines`,
/// until the pipe closes.
fn read_lines(
    pipe: impl Read + Send + 'static,
    lines: mpsc::Sender<(Instant, String)>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if lines.send((Instant::now(), line)).is_err() {
                break;
            }
        }
    })
}

/// A plain HTTP/1.1 request; returns the status and the body (status 0: no answer).
pub fn request(
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
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    answer(&response)
}

/// The status and the body of an HTTP/1.1 answer (status 0: none).
fn answer(response: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(response);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Writes the raw bytes of `request` (on a thread of its own, as the server may answer
/// before reading them all) and reads the answer: (status, body).
pub fn send_raw(port: u16, request: Vec<u8>) -> (u16, String) {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return (0, "connect failed".into());
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let writer = stream.try_clone().map(|mut w| {
        std::thread::spawn(move || {
            // The server may close once it has answered: a failed write is expected.
            let _ = w.write_all(&request);
        })
    });
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    if let Ok(writer) = writer {
        let _ = stream.shutdown(std::net::Shutdown::Both);
        let _ = writer.join();
    }
    answer(&response)
}

/// A plain `GET`.
pub fn get(port: u16, path: &str, key: Option<&str>) -> (u16, String) {
    request(port, "GET", path, key, None)
}

/// Prints a reliability figure and appends it to the report file the reliability scripts
/// name in `TESSERA_RELIABILITY_REPORT`.
pub fn report(lines: &str) {
    println!("{lines}");
    if let Ok(path) = std::env::var("TESSERA_RELIABILITY_REPORT") {
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = writeln!(file, "{lines}");
        }
    }
}
