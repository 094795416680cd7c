//! The trial machinery shared by the crash workloads: how many trials and which seed, the
//! seeded random kill moments, the `tessera serve` process of a workload and an HTTP
//! client for it, and the figures each workload reports.
//!
//! Environment:
//!
//! * `TESSERA_CRASH_TRIALS`: trials per workload and engine (default 3, the short form);
//! * `TESSERA_CRASH_SEED`: the seed of the kill moments (default: from the clock; it is
//!   printed, and named in every failure, so that a failing run can be replayed);
//! * `TESSERA_CRASH_REPORT`: a file to which each workload appends its figures as one
//!   line of JSON (read by `scripts/reliability.d/crash.sh`).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::future::Future;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value as Json};
use tessera_testkit::{Database, Engine};

use crate::support::Server;

/// The service key every server of the suite is started with.
pub const SERVICE_KEY: &str = "crash-suite-service-key-0123456789abcdefghij";

const TRIALS_ENV: &str = "TESSERA_CRASH_TRIALS";
const SEED_ENV: &str = "TESSERA_CRASH_SEED";
const REPORT_ENV: &str = "TESSERA_CRASH_REPORT";
const DEFAULT_TRIALS: usize = 3;

/// Trials per workload and engine.
pub fn trials() -> usize {
    std::env::var(TRIALS_ENV)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(DEFAULT_TRIALS)
}

/// The seed of this run (of this test process): `TESSERA_CRASH_SEED`, or else one from
/// the clock.
pub fn seed() -> u64 {
    static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *SEED.get_or_init(|| {
        std::env::var(SEED_ENV)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(0x5eed)
            })
    })
}

/// SplitMix64: small, fast, and the same sequence for the same seed everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The generator of one workload on one engine: the run's seed mixed with both names,
    /// so each replays on its own.
    pub fn for_run(seed: u64, workload: &str, engine: Engine) -> Rng {
        let mut state = seed;
        for byte in workload.bytes().chain(engine.name().bytes()) {
            state = (state ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        Rng(state)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// A duration in `lo..=hi`, to the microsecond.
    pub fn moment(&mut self, lo: Duration, hi: Duration) -> Duration {
        let (lo, hi) = (lo.as_micros() as u64, hi.as_micros() as u64);
        Duration::from_micros(self.between(lo, hi.max(lo)))
    }
}

/// How a workload's server runs: `tessera serve` with a schema file or a bundled app,
/// over one database, with the suite's service key.
pub struct Service {
    args: Vec<OsString>,
    dir: PathBuf,
}

impl Service {
    /// Serves `schema` (written to `dir/file`) over `database_url`.
    pub fn schema(dir: &Path, file: &str, schema: &str, database_url: &str) -> Service {
        let path = dir.join(file);
        std::fs::write(&path, schema).expect("write the schema");
        Service::new(vec![path.into_os_string()], dir, database_url)
    }

    /// Serves the bundled app `name` over `database_url`.
    pub fn app(name: &str, dir: &Path, database_url: &str) -> Service {
        Service::new(vec!["--app".into(), name.into()], dir, database_url)
    }

    fn new(mut args: Vec<OsString>, dir: &Path, database_url: &str) -> Service {
        args.extend(["--database-url".into(), database_url.into()]);
        Service {
            args,
            dir: dir.to_owned(),
        }
    }

    /// Starts the process without waiting for it.
    pub fn spawn(&self) -> Server {
        let args: Vec<&std::ffi::OsStr> = self.args.iter().map(OsString::as_os_str).collect();
        Server::spawn_with_env(
            &args,
            &self.dir,
            &[
                ("TESSERA_SERVICE_KEY", SERVICE_KEY),
                ("RUST_LOG", "warn,tessera=info"),
            ],
        )
    }

    /// Starts the process and waits until it serves: the server and how long that took,
    /// or what it printed when it did not come up.
    pub fn start(&self) -> Result<(Server, Duration), String> {
        let began = Instant::now();
        let mut server = self.spawn();
        let ready = tokio::task::block_in_place(|| server.wait_ready());
        let took = began.elapsed();
        if ready {
            Ok((server, took))
        } else {
            let output = server.output();
            server.kill();
            Err(format!("the server did not come up:\n{output}"))
        }
    }
}

/// What became of a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx answer was received: the write must be there, whatever happens next.
    Acknowledged,
    /// No answer (the server died with it in flight): it may be there or not, but whole.
    InFlight,
    /// Any other answer: not expected while the server runs.
    Refused(u16),
    /// Never reached the server (it was already dead): it must not be there.
    NotSent,
}

impl Outcome {
    pub fn acknowledged(self) -> bool {
        self == Outcome::Acknowledged
    }

    /// Whether the write may be found in the database.
    pub fn may_be_there(self) -> bool {
        matches!(self, Outcome::Acknowledged | Outcome::InFlight)
    }
}

/// Of writes that each raise a value by one (a version, a generation), in the order
/// sent: the last acknowledged value (0 when none was) and the value in flight, if any.
pub fn progress(writes: impl IntoIterator<Item = (u64, Outcome)>) -> (u64, Option<u64>) {
    let mut acknowledged = 0;
    let mut in_flight = None;
    for (value, outcome) in writes {
        match outcome {
            Outcome::Acknowledged => acknowledged = acknowledged.max(value),
            Outcome::InFlight => in_flight = Some(value),
            Outcome::Refused(_) | Outcome::NotSent => {}
        }
    }
    (acknowledged, in_flight)
}

/// An HTTP client for one server, sending the service key.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    pub fn new(server: &Server) -> Api {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("an HTTP client");
        Api {
            http,
            base: format!("http://127.0.0.1:{}", server.port),
        }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(SERVICE_KEY)
    }

    /// Sends a write; what became of it (the body of the answer is not needed).
    pub async fn write(&self, method: reqwest::Method, path: &str, body: &Json) -> Outcome {
        match self.request(method, path).json(body).send().await {
            Ok(answer) if answer.status().is_success() => Outcome::Acknowledged,
            Ok(answer) => Outcome::Refused(answer.status().as_u16()),
            Err(error) if error.is_connect() => Outcome::NotSent,
            Err(_) => Outcome::InFlight,
        }
    }

    /// Sends a request that must succeed (the set-up of a trial, a read, a probe) and
    /// returns the JSON it answers (the written rows, for a write).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Json>,
    ) -> Result<Json, String> {
        let what = format!("{method} {path}");
        let mut request = self
            .request(method, path)
            .header("Prefer", "return=representation");
        if let Some(body) = body {
            request = request.json(body);
        }
        let answer = request.send().await.map_err(|e| format!("{what}: {e}"))?;
        let status = answer.status();
        let text = answer.text().await.map_err(|e| format!("{what}: {e}"))?;
        if !status.is_success() {
            return Err(format!("{what}: {status}: {text}"));
        }
        serde_json::from_str(&text).map_err(|e| format!("{what}: {e}: {text}"))
    }

    /// Inserts rows that must be inserted; the rows written.
    pub async fn create(&self, path: &str, body: &Json) -> Result<Vec<Json>, String> {
        into_rows(self.call(reqwest::Method::POST, path, Some(body)).await?)
    }

    /// The rows `GET path` answers.
    pub async fn rows(&self, path: &str) -> Result<Vec<Json>, String> {
        into_rows(self.call(reqwest::Method::GET, path, None).await?)
    }
}

fn into_rows(answer: Json) -> Result<Vec<Json>, String> {
    match answer {
        Json::Array(rows) => Ok(rows),
        other => Err(format!("not an array of rows: {other}")),
    }
}

/// What one workload measured on one engine, and every broken promise it found.
pub struct Figures {
    workload: &'static str,
    engine: Engine,
    seed: u64,
    pub trials: usize,
    /// Writes answered 2xx before the kill, each checked after the restart.
    pub acknowledged: u64,
    /// Writes without an answer when the server died (either outcome allowed, whole).
    pub in_flight: u64,
    /// Acknowledged writes missing or changed after the restart.
    pub lost: u64,
    /// Writes, publishes or migrations found partly applied.
    pub half_applied: u64,
    restarts: Vec<Duration>,
    /// Counts of what the kills hit (such as "killed before the commit").
    outcomes: BTreeMap<String, u64>,
    violations: Vec<String>,
}

impl Figures {
    pub fn new(workload: &'static str, engine: Engine, seed: u64) -> Figures {
        println!("crash suite: {workload} on {engine}, seed {seed} (replay: {SEED_ENV}={seed})");
        Figures {
            workload,
            engine,
            seed,
            trials: 0,
            acknowledged: 0,
            in_flight: 0,
            lost: 0,
            half_applied: 0,
            restarts: Vec::new(),
            outcomes: BTreeMap::new(),
            violations: Vec::new(),
        }
    }

    /// The outcome of a write as the client saw it; an unexpected answer is a violation.
    pub fn saw(&mut self, trial: usize, what: &str, outcome: Outcome) {
        match outcome {
            Outcome::Acknowledged => self.acknowledged += 1,
            Outcome::InFlight => self.in_flight += 1,
            Outcome::Refused(status) => self.broken(
                trial,
                format!("{what} was answered {status} while the server ran"),
            ),
            Outcome::NotSent => {}
        }
    }

    pub fn restarted(&mut self, took: Duration) {
        self.restarts.push(took);
    }

    pub fn count(&mut self, outcome: &str) {
        *self.outcomes.entry(outcome.to_owned()).or_default() += 1;
    }

    /// An acknowledged write that is missing or not as written.
    pub fn lost(&mut self, trial: usize, what: String) {
        self.lost += 1;
        self.violations.push(format!("trial {trial}: LOST: {what}"));
    }

    /// A write, publish or migration applied in part.
    pub fn half_applied(&mut self, trial: usize, what: String) {
        self.half_applied += 1;
        self.violations
            .push(format!("trial {trial}: HALF-APPLIED: {what}"));
    }

    /// Anything else that must not happen (a server that does not come back, a failed
    /// read, a row nobody wrote).
    pub fn broken(&mut self, trial: usize, what: String) {
        self.violations.push(format!("trial {trial}: {what}"));
    }

    /// Checks a value that each acknowledged write raised by one (a version, a
    /// generation): it must be the last acknowledged one, or the one in flight.
    pub fn check_version(
        &mut self,
        trial: usize,
        what: &str,
        found: u64,
        acknowledged: u64,
        in_flight: Option<u64>,
    ) {
        if found < acknowledged {
            self.lost(
                trial,
                format!("{what} is at {found}, but {acknowledged} was acknowledged"),
            );
        } else if found != acknowledged && Some(found) != in_flight {
            self.broken(
                trial,
                format!(
                    "{what} is at {found}, which was never sent (acknowledged: {acknowledged})"
                ),
            );
        }
    }

    /// Appends the figures to the report file (when one is named), then fails with every
    /// violation and the seed to replay them.
    pub fn finish(self) -> Result<(), String> {
        let mut restarts: Vec<u128> = self.restarts.iter().map(Duration::as_millis).collect();
        restarts.sort_unstable();
        let line = json!({
            "workload": self.workload,
            "engine": self.engine.name(),
            "seed": self.seed,
            "trials": self.trials,
            "acknowledged": self.acknowledged,
            "in_flight": self.in_flight,
            "lost": self.lost,
            "half_applied": self.half_applied,
            "restart_ms": restarts,
            "outcomes": self.outcomes,
            "violations": self.violations,
        });
        println!("crash suite: {line}");
        if let Ok(path) = std::env::var(REPORT_ENV) {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|e| format!("{path}: {e}"))?;
            writeln!(file, "{line}").map_err(|e| format!("{path}: {e}"))?;
        }
        if self.violations.is_empty() {
            return Ok(());
        }
        Err(format!(
            "{} on {}: {} violation(s); replay with {SEED_ENV}={} {TRIALS_ENV}={}:\n  {}",
            self.workload,
            self.engine,
            self.violations.len(),
            self.seed,
            self.trials,
            self.violations.join("\n  ")
        ))
    }
}

/// Runs `test` on a fresh database of each engine (PostgreSQL skipped, or failing under
/// `CI=true`, when it is missing, as the test support does), on every engine even when
/// one fails, so that each reports its figures; then fails with every failure.
pub async fn on_each_engine<F, Fut>(mut test: F)
where
    F: FnMut(Database) -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let mut failures = Vec::new();
    for engine in Engine::ALL {
        let Some(db) = Database::create_or_skip(engine).await else {
            continue;
        };
        if let Err(failure) = test(db).await {
            failures.push(failure);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A fresh database on the engine of `db` (for workloads that need one per trial).
pub async fn fresh_database(db: &Database) -> Database {
    Database::create(db.engine())
        .await
        .expect("a fresh database on the same engine")
}

/// When, after the clients start writing, the server is killed.
const KILL_AFTER: (Duration, Duration) = (Duration::from_millis(20), Duration::from_millis(500));

/// A workload of concurrent HTTP clients writing to one server until it is killed.
pub trait Workload: Clone + Send + Sync + 'static {
    /// What the set-up of a trial made (keys of the rows the clients then work on).
    type Setup: Clone + Send + Sync + 'static;
    /// A write a client sent, with its outcome.
    type Write: Send + 'static;

    fn name(&self) -> &'static str;
    /// How many clients write at once.
    fn clients(&self) -> usize;
    /// The server of the workload over `database_url`.
    fn service(&self, dir: &Path, database_url: &str) -> Service;
    /// Writes (that must succeed) what a trial's clients start from.
    fn prepare(
        &self,
        api: &Api,
        trial: usize,
    ) -> impl Future<Output = Result<Self::Setup, String>> + Send;
    /// One client's writes, in order, until one is not acknowledged (the server died).
    fn client(
        self,
        api: Api,
        setup: Self::Setup,
        trial: usize,
        client: usize,
        seed: u64,
    ) -> impl Future<Output = Vec<Self::Write>> + Send;
    /// Checks what the restarted server holds against what the clients saw.
    fn verify(
        &self,
        api: &Api,
        trial: usize,
        setup: &Self::Setup,
        writes: Vec<Self::Write>,
        figures: &mut Figures,
    ) -> impl Future<Output = ()> + Send;
    /// A write and a read on the restarted server.
    fn probe(&self, api: &Api, trial: usize) -> impl Future<Output = Result<(), String>> + Send;
}

/// Runs the trials of `workload` on `db`: in each, the clients write, the server is
/// killed with SIGKILL at a random moment, restarted on the same database, and checked.
pub async fn run<W: Workload>(workload: W, db: Database) -> Result<(), String> {
    let seed = seed();
    let mut rng = Rng::for_run(seed, workload.name(), db.engine());
    let mut figures = Figures::new(workload.name(), db.engine(), seed);
    let dir = crate::support::fresh_dir(
        "crash",
        &format!("{}-{}", workload.name().replace(' ', "-"), db.engine()),
    );
    let service = workload.service(&dir, db.url());
    let mut server = Some(service.start()?.0);
    for trial in 0..trials() {
        let Some(running) = server.take() else { break };
        let api = Api::new(&running);
        let setup = match workload.prepare(&api, trial).await {
            Ok(setup) => setup,
            Err(error) => {
                figures.broken(trial, format!("set-up failed: {error}"));
                server = Some(running);
                break;
            }
        };
        let clients: Vec<_> = (0..workload.clients())
            .map(|client| {
                let work = workload.clone();
                tokio::spawn(work.client(api.clone(), setup.clone(), trial, client, rng.next_u64()))
            })
            .collect();
        tokio::time::sleep(rng.moment(KILL_AFTER.0, KILL_AFTER.1)).await;
        running.kill();
        let mut writes = Vec::new();
        for client in clients {
            writes.extend(
                client
                    .await
                    .map_err(|e| format!("a client panicked: {e}"))?,
            );
        }
        figures.trials += 1;
        let (restarted, took) = match service.start() {
            Ok(started) => started,
            Err(error) => {
                figures.broken(trial, format!("after the kill, {error}"));
                break;
            }
        };
        figures.restarted(took);
        let api = Api::new(&restarted);
        workload
            .verify(&api, trial, &setup, writes, &mut figures)
            .await;
        if let Err(error) = workload.probe(&api, trial).await {
            figures.broken(trial, format!("after the restart: {error}"));
        }
        server = Some(restarted);
    }
    if let Some(server) = server {
        server.terminate();
    }
    figures.finish()
}
