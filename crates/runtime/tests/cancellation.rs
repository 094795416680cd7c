//! Operations whose futures are dropped part-way: each one still ends on its own, and the
//! engine keeps serving.

mod common;

use std::future::Future;
use std::time::Duration;

use common::*;
use serde_json::json;
use tessera_testkit::{engine_tests, Database};

/// Polls `work` once (it starts, then waits on the database) and drops it.
async fn start_and_drop<F: Future>(work: F) {
    let mut work = std::pin::pin!(work);
    std::future::poll_fn(|cx| std::task::Poll::Ready(work.as_mut().poll(cx).is_ready())).await;
}

/// Waits until every pooled connection is idle (or the time is up); answers the pool.
async fn settled(engine: &tessera_runtime::Engine) -> tessera_runtime::PoolStats {
    for _ in 0..200 {
        let stats = engine.pool_stats();
        if stats.size == stats.idle {
            return stats;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    engine.pool_stats()
}

engine_tests! {
    /// A write whose caller stops waiting after its first step still runs to its end:
    /// the row is stored, and no connection stays inside its transaction.
    async fn a_dropped_write_still_ends(db: Database) {
        let engine = engine(&db).await;
        let service = ctx();
        for i in 0..20 {
            start_and_drop(insert_as(
                &engine,
                &service,
                "permissions",
                json!({ "name": format!("dropped-{i}") }),
            ))
            .await;
        }
        let mut stored = Vec::new();
        for _ in 0..500 {
            stored = get(&engine, "permissions", "select=name&name=like.dropped-*").await;
            if stored.len() == 20 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(stored.len(), 20, "{stored:?}");
        let stats = settled(&engine).await;
        assert_eq!(stats.size, stats.idle, "connections left busy: {stats:?}");
        insert(&engine, "permissions", json!({ "name": "after" })).await;
    }

    /// Writes dropped after random delays, many at once, leave every later write
    /// working.
    async fn writes_work_after_many_dropped_writes(db: Database) {
        let engine = engine(&db).await;
        let mut tasks = Vec::new();
        for i in 0..64u64 {
            let engine = engine.clone();
            tasks.push(tokio::spawn(async move {
                let service = ctx();
                let write = insert_as(&engine, &service, "permissions", json!({ "name": format!("p{i}") }));
                let _ = tokio::time::timeout(Duration::from_micros(i * 97 % 3000), write).await;
            }));
        }
        for task in tasks {
            task.await.expect("task");
        }
        let stats = settled(&engine).await;
        assert_eq!(stats.size, stats.idle, "connections left busy: {stats:?}");
        for i in 0..5 {
            insert(&engine, "permissions", json!({ "name": format!("later-{i}") })).await;
        }
    }
}
