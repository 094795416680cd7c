//! The access rules never leak, checked against an independent oracle.
//!
//! proptest generates a multi-tenant world (tenants, users in one or several of them with
//! roles, roles holding permissions through data, projects with members at levels, pages,
//! feedback, some of it in the trash) and a sequence of operations by random callers: the
//! service, anonymous callers and users, with or without a tenant header naming a tenant
//! they may or may not belong to. Reads (filtered, with to-one and to-many embeds, counted,
//! paged), inserts (single and bulk), updates (some moving rows to another tenant, project
//! or user) and deletes run on the engine and on the oracle (`rules_oracle/world.rs`),
//! which evaluates each rule of `rules_oracle/schema.tsr` by hand for each row and caller.
//! Every answer must agree: the rows (inside embeds too), the count, the written rows, the
//! refusals (401, 403, 422), and after each write the whole database as the service sees it.
//!
//! The short form runs a few cases per engine. The long form, for `scripts/reliability
//! rules`:
//!
//! * `TESSERA_RULES_CASES`: cases per engine (default 4);
//! * `TESSERA_RULES_OPERATIONS`: operations per case (default 50);
//! * `TESSERA_RULES_SEED`: the seed (default: a random one, printed), to replay a run;
//! * `TESSERA_RULES_SHRINK`: shrinking iterations after a failure (default 32);
//! * `TESSERA_RULES_REPORT`: a file the figures of each engine are appended to, one JSON
//!   line each.

#[path = "rules_oracle/gen.rs"]
mod gen;
#[path = "rules_oracle/run.rs"]
mod run;
#[path = "rules_oracle/world.rs"]
mod world;

use std::cell::RefCell;
use std::io::Write as _;
use std::time::Instant;

use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use tessera_testkit::{Database, Engine};

fn setting(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, not {value:?}")),
        Err(_) => default,
    }
}

fn prove(engine: Engine) {
    let cases = setting("TESSERA_RULES_CASES", 4);
    let operations = setting("TESSERA_RULES_OPERATIONS", 50);
    let seed = setting("TESSERA_RULES_SEED", rand_seed());
    let shrink = setting("TESSERA_RULES_SHRINK", 32);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    if runtime.block_on(Database::create_or_skip(engine)).is_none() {
        return;
    }
    eprintln!(
        "rules oracle on {engine}: {cases} cases of {operations} operations, seed {seed} \
         (TESSERA_RULES_SEED={seed} replays it)"
    );
    let stats = RefCell::new(run::Stats::default());
    let mut runner = TestRunner::new(Config {
        cases: u32::try_from(cases).expect("cases"),
        max_shrink_iters: u32::try_from(shrink).expect("shrink"),
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(seed),
        ..Config::default()
    });
    let started = Instant::now();
    let strategy = (gen::world(), gen::steps(operations as usize));
    let outcome = runner.run(&strategy, |(world, steps)| {
        let mut stats = stats.borrow_mut();
        runtime
            .block_on(async {
                let db = Database::create(engine).await.expect("a fresh database");
                run::run_case(&db, &world, &steps, &mut stats).await
            })
            .map_err(|d| TestCaseError::fail(d.message))
    });
    let stats = stats.into_inner();
    report(engine, seed, started.elapsed().as_secs_f64(), &stats);
    if let Err(failure) = outcome {
        panic!("the engine and the oracle disagree on {engine} (seed {seed}): {failure}");
    }
}

/// A seed from the clock, when none is given.
fn rand_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

fn report(engine: Engine, seed: u64, seconds: f64, s: &run::Stats) {
    let line = serde_json::json!({
        "engine": engine.name(), "seed": seed, "seconds": seconds,
        "cases": s.cases, "operations": s.operations, "reads": s.reads, "counts": s.counts,
        "embeds": s.embeds, "inserts": s.inserts, "bulk_inserts": s.bulk_inserts,
        "updates": s.updates, "moves": s.moves, "deletes": s.deletes,
        "refused_401": s.refused_401, "refused_403": s.refused_403,
        "refused_422": s.refused_422, "rows_compared": s.rows_compared,
        "granted_reads": s.granted_reads, "granted_writes": s.granted_writes,
        "disagreements": s.disagreements, "leaks": s.leaks,
    });
    eprintln!("rules oracle on {engine}: {line}");
    if let Ok(path) = std::env::var("TESSERA_RULES_REPORT") {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        writeln!(file, "{line}").expect("write the report");
    }
}

#[test]
fn the_rules_never_leak_on_sqlite() {
    prove(Engine::Sqlite);
}

#[test]
fn the_rules_never_leak_on_postgres() {
    prove(Engine::Postgres);
}
