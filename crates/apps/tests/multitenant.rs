//! The multitenant app through the HTTP API, on SQLite and PostgreSQL.

mod support;

use serde_json::json;
use support::walk::walk_every_model;
use support::AppServer;
use tessera_testkit::{engine_tests, Database};

const APP: &str = "multitenant";

engine_tests! {
    /// Every model can be created, read back with all its relations embedded, updated and
    /// deleted.
    async fn every_model_round_trips_through_the_api(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let failures = walk_every_model(&server).await;
        assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    }
}
