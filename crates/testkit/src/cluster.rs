//! A throwaway PostgreSQL cluster started from the installed binaries.
//!
//! The cluster lives in a temporary directory (`data/` for the cluster, `socket/` for
//! the unix socket, `server.log`) and listens on a free TCP port of 127.0.0.1 with
//! trust authentication for the superuser `postgres`.
//!
//! Cleanup cannot rely on destructors (statics are never dropped) nor on `atexit`
//! (no unsafe code), so a detached watchdog shell is started first: it polls the
//! test process's PID and, once that process is gone, stops the cluster with
//! `pg_ctl stop -m immediate` and deletes the directory. It runs in its own process
//! group so that a Ctrl-C aimed at the test run does not kill it before it has
//! cleaned up.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::error::ServerError;

/// Names a directory holding `initdb` and `pg_ctl`, overriding the search.
pub const PG_BINDIR_ENV: &str = "TESSERA_TEST_PG_BINDIR";

/// The superuser created by `initdb`.
pub(crate) const SUPERUSER: &str = "postgres";

/// The unprivileged OS user that runs the cluster when the tests run as root.
const OS_USER_WHEN_ROOT: &str = "postgres";

/// How often `pg_ctl start` is tried on a fresh port when the port was taken meanwhile.
const START_ATTEMPTS: usize = 5;

/// The watchdog: `$1` is the PID to watch, `$2` the directory to delete, the rest
/// the command that stops the cluster. The second stop catches a server that a
/// `pg_ctl start` orphaned by a killed test process brought up after the first one.
const WATCHDOG_SCRIPT: &str = r#"parent=$1; dir=$2; shift 2
while kill -0 "$parent" 2>/dev/null; do sleep 1; done
"$@" >/dev/null 2>&1
if [ -e "$dir/data/postmaster.pid" ]; then sleep 2; "$@" >/dev/null 2>&1; fi
rm -rf "$dir""#;

/// A running throwaway cluster.
#[derive(Debug)]
pub(crate) struct Cluster {
    root: PathBuf,
    data_dir: PathBuf,
    port: u16,
    pg_ctl: PathBuf,
    run_as: RunAs,
}

impl Cluster {
    /// The temporary directory holding everything of the cluster.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// The cluster's data directory (`PGDATA`).
    pub(crate) fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The TCP port on 127.0.0.1.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server: `fast` ends every session and shuts down cleanly, `immediate`
    /// kills the processes as a crash would.
    pub(crate) fn stop(&self, mode: &str) -> Result<(), ServerError> {
        let mut args = stop_args(&self.data_dir);
        if let Some(position) = args.iter().position(|arg| arg == "immediate") {
            args[position] = mode.into();
        }
        let output = run(&self.run_as.argv(&self.pg_ctl, args), &self.root)
            .map_err(|e| start_error("running pg_ctl stop", e))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(ServerError::ClusterStart {
                step: "pg_ctl stop",
                detail: describe_output(&output),
            })
        }
    }

    /// Starts the stopped server again, on the same port, and waits until it accepts
    /// connections.
    pub(crate) fn start_again(&self) -> Result<(), ServerError> {
        let output = run(
            &self.run_as.argv(
                &self.pg_ctl,
                start_args(&self.root, &self.data_dir, self.port),
            ),
            &self.root,
        )
        .map_err(|e| start_error("running pg_ctl start", e))?;
        if !output.status.success() {
            return Err(ServerError::ClusterStart {
                step: "pg_ctl start",
                detail: format!(
                    "{}\nserver log:\n{}",
                    describe_output(&output),
                    log_tail(&self.root.join("server.log"))
                ),
            });
        }
        wait_until_accepting(self.port)
    }

    /// Stops the server at once and deletes its directory (the watchdog would do it when
    /// the process exits; this does it now).
    pub(crate) fn remove(&self) {
        let _ = self.stop("immediate");
        let _ = fs::remove_dir_all(&self.root);
    }
}

/// Starts a throwaway cluster whose lifetime is that of the current process.
pub(crate) fn start() -> Result<Cluster, ServerError> {
    let bin_dir = find_bin_dir().ok_or(ServerError::Unavailable)?;
    let initdb = bin_dir.join("initdb");
    let pg_ctl = bin_dir.join("pg_ctl");
    let run_as = RunAs::detect()?;

    let root = tempfile::Builder::new()
        .prefix("tessera-pg-")
        .tempdir_in(run_as.temp_parent())
        .map_err(|e| start_error("creating the temporary directory", e))?
        .keep();
    let data_dir = root.join("data");

    // From here on the watchdog removes everything when this process exits, whatever
    // happens below.
    spawn_watchdog(&root, &run_as.argv(&pg_ctl, stop_args(&data_dir)))?;

    let started = init_and_start(&root, &data_dir, &initdb, &pg_ctl, &run_as);
    match started {
        Ok(port) => Ok(Cluster {
            root,
            data_dir,
            port,
            pg_ctl,
            run_as,
        }),
        Err(error) => {
            // Best effort: do not keep a half-started cluster until the process exits.
            let _ = run(&run_as.argv(&pg_ctl, stop_args(&data_dir)), &root);
            let _ = fs::remove_dir_all(&root);
            Err(error)
        }
    }
}

fn init_and_start(
    root: &Path,
    data_dir: &Path,
    initdb: &Path,
    pg_ctl: &Path,
    run_as: &RunAs,
) -> Result<u16, ServerError> {
    let socket_dir = root.join("socket");
    fs::create_dir(&socket_dir).map_err(|e| start_error("creating the socket directory", e))?;
    run_as.take_ownership(root)?;

    let initdb_args: Vec<OsString> = vec![
        "--pgdata".into(),
        data_dir.into(),
        "--username".into(),
        SUPERUSER.into(),
        "--auth".into(),
        "trust".into(),
        "--encoding".into(),
        "UTF8".into(),
        "--no-locale".into(),
        "--no-sync".into(),
    ];
    let output = run(&run_as.argv(initdb, initdb_args), root)
        .map_err(|e| start_error("running initdb", e))?;
    if !output.status.success() {
        return Err(ServerError::ClusterStart {
            step: "initdb",
            detail: describe_output(&output),
        });
    }

    append_settings(data_dir, &socket_dir)?;

    let log_file = root.join("server.log");
    let mut last_failure = String::new();
    for _ in 0..START_ATTEMPTS {
        let port = free_port()?;
        let output = run(&run_as.argv(pg_ctl, start_args(root, data_dir, port)), root)
            .map_err(|e| start_error("running pg_ctl start", e))?;
        if output.status.success() {
            wait_until_accepting(port)?;
            return Ok(port);
        }
        let log = log_tail(&log_file);
        last_failure = format!("{}\nserver log:\n{log}", describe_output(&output));
        if !log.contains("Address already in use") {
            break;
        }
    }
    Err(ServerError::ClusterStart {
        step: "pg_ctl start",
        detail: last_failure,
    })
}

fn start_args(root: &Path, data_dir: &Path, port: u16) -> Vec<OsString> {
    vec![
        "start".into(),
        "--pgdata".into(),
        data_dir.into(),
        "--log".into(),
        root.join("server.log").into(),
        "--wait".into(),
        "--timeout".into(),
        "60".into(),
        "-o".into(),
        format!("-p {port}").into(),
    ]
}

fn stop_args(data_dir: &Path) -> Vec<OsString> {
    vec![
        "stop".into(),
        "--pgdata".into(),
        data_dir.into(),
        "--mode".into(),
        "immediate".into(),
        "--wait".into(),
    ]
}

/// Server settings for a disposable test cluster: reachable on 127.0.0.1 only, socket
/// inside the temporary directory, durability traded for speed, room for parallel tests.
fn append_settings(data_dir: &Path, socket_dir: &Path) -> Result<(), ServerError> {
    let socket_dir = socket_dir
        .to_str()
        .ok_or_else(|| ServerError::ClusterStart {
            step: "writing postgresql.conf",
            detail: format!("the path {} is not UTF-8", socket_dir.display()),
        })?;
    let settings = format!(
        "\n# Added by tessera-testkit\n\
         listen_addresses = '127.0.0.1'\n\
         unix_socket_directories = '{}'\n\
         max_connections = 200\n\
         fsync = off\n\
         synchronous_commit = off\n\
         full_page_writes = off\n",
        conf_quote(socket_dir)
    );
    fs::OpenOptions::new()
        .append(true)
        .open(data_dir.join("postgresql.conf"))
        .and_then(|mut file| file.write_all(settings.as_bytes()))
        .map_err(|e| start_error("writing postgresql.conf", e))
}

/// Escapes a value for a single-quoted string in postgresql.conf.
fn conf_quote(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\'', "''")
}

fn free_port() -> Result<u16, ServerError> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| start_error("finding a free TCP port", e))
}

/// `pg_ctl --wait` already waits for the server; this also makes sure TCP connections
/// on 127.0.0.1 are accepted.
fn wait_until_accepting(port: u16) -> Result<(), ServerError> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
            Ok(_) => return Ok(()),
            Err(error) if Instant::now() >= deadline => {
                return Err(start_error(
                    "waiting for the server to accept connections",
                    error,
                ))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

fn spawn_watchdog(root: &Path, stop_command: &[OsString]) -> Result<(), ServerError> {
    Command::new("/bin/sh")
        .arg("-c")
        .arg(WATCHDOG_SCRIPT)
        .arg("tessera-pg-watchdog")
        .arg(std::process::id().to_string())
        .arg(root)
        .args(stop_command)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map(drop)
        .map_err(|e| start_error("starting the cleanup watchdog", e))
}

/// Runs `argv` in `dir`, collecting its output.
fn run(argv: &[OsString], dir: &Path) -> std::io::Result<Output> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "empty command"))?;
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
}

fn describe_output(output: &Output) -> String {
    format!(
        "{}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout).trim_end(),
        String::from_utf8_lossy(&output.stderr).trim_end()
    )
}

fn log_tail(log_file: &Path) -> String {
    let log = fs::read_to_string(log_file).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

fn start_error(step: &'static str, error: std::io::Error) -> ServerError {
    ServerError::ClusterStart {
        step,
        detail: error.to_string(),
    }
}

/// Who runs `initdb` and `pg_ctl`: PostgreSQL refuses to run as root.
#[derive(Debug)]
enum RunAs {
    CurrentUser,
    /// `runuser -u USER -- program args…`
    Runuser {
        runuser: PathBuf,
        user: String,
    },
    /// `su USER -s /bin/sh -c 'exec "$0" "$@"' program args…`
    Su {
        su: PathBuf,
        user: String,
    },
}

impl RunAs {
    fn detect() -> Result<RunAs, ServerError> {
        if !current_user_is_root() {
            return Ok(RunAs::CurrentUser);
        }
        let user = OS_USER_WHEN_ROOT.to_owned();
        let user_exists = Command::new("id")
            .args(["-u", &user])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !user_exists {
            return Err(ServerError::ClusterStart {
                step: "choosing the OS user for the cluster",
                detail: format!(
                    "running as root, which initdb refuses, and there is no `{user}` user \
                     to run it as (create one, or set TESSERA_TEST_DATABASE_URL)"
                ),
            });
        }
        if let Some(runuser) = find_program("runuser", &["/usr/sbin", "/sbin", "/usr/bin"]) {
            return Ok(RunAs::Runuser { runuser, user });
        }
        if let Some(su) = find_program("su", &["/bin", "/usr/bin"]) {
            return Ok(RunAs::Su { su, user });
        }
        Err(ServerError::ClusterStart {
            step: "choosing the OS user for the cluster",
            detail: format!(
                "running as root and neither runuser nor su found to switch to `{user}`"
            ),
        })
    }

    /// The command line running `program` with `args` as this user.
    fn argv(&self, program: &Path, args: Vec<OsString>) -> Vec<OsString> {
        let mut argv: Vec<OsString> = match self {
            RunAs::CurrentUser => vec![],
            RunAs::Runuser { runuser, user } => {
                vec![runuser.into(), "-u".into(), user.into(), "--".into()]
            }
            RunAs::Su { su, user } => vec![
                su.into(),
                user.into(),
                "-s".into(),
                "/bin/sh".into(),
                "-c".into(),
                r#"exec "$0" "$@""#.into(),
            ],
        };
        argv.push(program.into());
        argv.extend(args);
        argv
    }

    /// Where the temporary directory goes: when switching users it must be reachable
    /// by that user, which `$TMPDIR` of root may not be.
    fn temp_parent(&self) -> PathBuf {
        let tmp = Path::new("/tmp");
        match self {
            RunAs::CurrentUser => std::env::temp_dir(),
            RunAs::Runuser { .. } | RunAs::Su { .. } if tmp.is_dir() => tmp.to_path_buf(),
            RunAs::Runuser { .. } | RunAs::Su { .. } => std::env::temp_dir(),
        }
    }

    /// Hands `dir` (recursively) to the user running the cluster.
    fn take_ownership(&self, dir: &Path) -> Result<(), ServerError> {
        let user = match self {
            RunAs::CurrentUser => return Ok(()),
            RunAs::Runuser { user, .. } | RunAs::Su { user, .. } => user,
        };
        let output = Command::new("chown")
            .arg("-R")
            .arg(user)
            .arg(dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| start_error("running chown", e))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(ServerError::ClusterStart {
                step: "chown of the temporary directory",
                detail: describe_output(&output),
            })
        }
    }
}

fn current_user_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|output| output.status.success() && output.stdout.trim_ascii() == b"0")
}

/// Finds the directory holding both `initdb` and `pg_ctl`: `$TESSERA_TEST_PG_BINDIR`,
/// else `$PATH`, else the highest version under `/usr/lib/postgresql/*/bin` (Debian and
/// Ubuntu), `/usr/pgsql-*/bin` (RHEL) and `/usr/local/pgsql/bin`.
pub(crate) fn find_bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(PG_BINDIR_ENV).filter(|dir| !dir.is_empty()) {
        return Some(PathBuf::from(dir)).filter(|dir| has_cluster_tools(dir));
    }
    if let Some(dir) = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .find(|dir| has_cluster_tools(dir))
    {
        return Some(dir);
    }
    let mut versioned: Vec<(Vec<u32>, PathBuf)> = Vec::new();
    for (parent, prefix, suffix) in [
        ("/usr/lib/postgresql", "", "bin"),
        ("/usr", "pgsql-", "bin"),
    ] {
        let Ok(entries) = fs::read_dir(parent) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(version) = name
                .to_str()
                .and_then(|name| name.strip_prefix(prefix))
                .and_then(parse_version)
            else {
                continue;
            };
            let dir = entry.path().join(suffix);
            if has_cluster_tools(&dir) {
                versioned.push((version, dir));
            }
        }
    }
    versioned.sort();
    versioned
        .pop()
        .map(|(_, dir)| dir)
        .or_else(|| Some(PathBuf::from("/usr/local/pgsql/bin")).filter(|d| has_cluster_tools(d)))
}

/// `"15"` → `[15]`, `"9.6"` → `[9, 6]`; anything else is not a version.
pub(crate) fn parse_version(name: &str) -> Option<Vec<u32>> {
    name.split('.').map(|part| part.parse().ok()).collect()
}

fn has_cluster_tools(dir: &Path) -> bool {
    is_executable(&dir.join("initdb")) && is_executable(&dir.join("pg_ctl"))
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

fn find_program(name: &str, extra_dirs: &[&str]) -> Option<PathBuf> {
    let path_dirs = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    path_dirs
        .into_iter()
        .chain(extra_dirs.iter().map(PathBuf::from))
        .map(|dir| dir.join(OsStr::new(name)))
        .find(|candidate| is_executable(candidate))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        let mut versions: Vec<Vec<u32>> = ["9.6", "15", "10", "16"]
            .into_iter()
            .filter_map(parse_version)
            .collect();
        versions.sort();
        assert_eq!(versions.last(), Some(&vec![16]));
        assert_eq!(versions.first(), Some(&vec![9, 6]));
        assert_eq!(parse_version("main"), None);
    }

    #[test]
    fn conf_values_are_quoted() {
        assert_eq!(conf_quote(r"/tmp/it's\here"), r"/tmp/it''s\\here");
    }

    #[test]
    fn su_passes_the_command_as_arguments() {
        let run_as = RunAs::Su {
            su: "/bin/su".into(),
            user: "postgres".into(),
        };
        let argv = run_as.argv(Path::new("/opt/pg bin/pg_ctl"), vec!["stop".into()]);
        assert_eq!(
            argv,
            [
                "/bin/su",
                "postgres",
                "-s",
                "/bin/sh",
                "-c",
                r#"exec "$0" "$@""#,
                "/opt/pg bin/pg_ctl",
                "stop"
            ]
            .map(OsString::from)
        );
    }
}
