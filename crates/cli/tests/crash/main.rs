//! Crash safety: a real `tessera serve` killed with SIGKILL (`kill -9`) in the middle of
//! its work, then restarted on the same database, loses nothing it acknowledged, shows
//! nothing half-written, and serves again.
//!
//! Each test runs a workload on SQLite (a file) and on PostgreSQL, in trials: clients
//! write over real HTTP, the server is killed at a moment drawn from a seeded random
//! generator, restarted, and what it holds is compared with what the clients were told.
//! A write answered 2xx must be there exactly as sent; a write without an answer may be
//! there or not, but whole.
//!
//! The short form runs a few trials per workload and engine; `scripts/reliability crash`
//! runs the long form (`TESSERA_CRASH_TRIALS`) and records its figures in
//! `docs/RELIABILITY.md`. A failure names the seed: `TESSERA_CRASH_SEED=N cargo test -p
//! tessera-cli --test crash NAME` replays its kill moments.

#[path = "../support/mod.rs"]
mod support;

mod harness;
mod migration;
mod publish;
mod writes;

use tessera_testkit::{Database, Engine};

use harness::{on_each_engine, run};
use publish::Publishes;
use writes::{Inserts, Updates};

/// Every single-row insert answered 201 before the kill is there after the restart with
/// exactly the content sent; an insert in flight is there whole or not at all; nothing
/// that was never sent appears.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_inserts_survive_kill_9() {
    on_each_engine(|db| run(Inserts::single(), db)).await;
}

/// An array insert is one transaction: after the kill each batch is entirely there (as
/// sent) or entirely absent, and every acknowledged batch is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_inserts_are_all_or_nothing_after_kill_9() {
    on_each_engine(|db| run(Inserts::bulk(), db)).await;
}

/// A `PATCH` over a group of rows is applied to every row and every field of it, or not
/// at all; after the kill each group holds the last acknowledged version or the one in
/// flight, never an older one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_are_whole_or_absent_after_kill_9() {
    on_each_engine(|db| run(Updates, db)).await;
}

/// Publishing the tour builder's dev content to stage, killed at any moment: stage holds
/// the copies of exactly one publish (the last that committed, never a mix of models or
/// generations), every acknowledged publish is logged `success`, and the log says
/// `success` for a run if and only if its copies are there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_is_never_half_applied_after_kill_9() {
    on_each_engine(|db| run(Publishes, db)).await;
}

/// `tessera serve` with schema v2 over a database at v1, killed while it starts and
/// migrates: the migration history and the tables agree (all of v1, or all of v2), no
/// row changes, and the next start completes the migration and serves the rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_migration_killed_midway_is_rolled_back_and_completed_on_restart() {
    on_each_engine(migration::run).await;
}

/// The moment between a publish's copy and its log row's success, reached on purpose
/// (PostgreSQL): killed there, the server comes back with neither the copies nor the
/// success, which commit together.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_killed_before_its_log_row_says_success_keeps_no_copy() {
    let Some(db) = Database::create_or_skip(Engine::Postgres).await else {
        return;
    };
    if let Err(error) = publish::kill_between_copy_and_log(db).await {
        panic!("{error}");
    }
}
