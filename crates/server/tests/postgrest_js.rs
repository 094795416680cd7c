//! Runs the client suite of `clients/postgrest-js` (`node --test`: the unchanged
//! `@supabase/postgrest-js` data client, and `@supabase/supabase-js` signing up, signing in
//! and writing as the user) against a real server on a real port, on SQLite and PostgreSQL.
//!
//! Needs node (20 or later) and the suite's dependencies (`clients/postgrest-js/setup.sh`,
//! run here when `node_modules` is missing). Without node the test passes after a loud
//! notice; with `CI=true` it fails instead.

mod common;

use std::process::Command;
use std::sync::Mutex;

use common::{TestServer, KEY, TOKEN_SECRET};
use tessera_testkit::{engine_tests, Database};

/// Both engines' runs share `node_modules`: one installing while the other runs the suite
/// would pull the dependencies out from under it, so the check and the install are serial.
static INSTALL: Mutex<()> = Mutex::new(());

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

fn node_available() -> bool {
    Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

engine_tests! {
    async fn postgrest_js_suite_passes(db: Database) {
        if !node_available() {
            let notice = "\n!!! node is not installed: the postgrest-js client suite did NOT run !!!\n";
            assert!(!ci(), "{notice}");
            eprintln!("{notice}");
            return;
        }
        let suite = common::workspace_root().join("clients/postgrest-js");
        {
            let _installing = INSTALL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if !suite.join("node_modules/@supabase/supabase-js/dist").is_dir() {
                let status = Command::new("bash")
                    .arg(suite.join("setup.sh"))
                    .status()
                    .expect("run clients/postgrest-js/setup.sh");
                assert!(status.success(), "clients/postgrest-js/setup.sh failed");
            }
        }
        let server = TestServer::start(&db).await;
        let url = server.url("");
        let output = tokio::process::Command::new("node")
            .arg("--test")
            .arg("--test-reporter=spec")
            .current_dir(&suite)
            .env("TESSERA_URL", url)
            .env("TESSERA_KEY", KEY)
            .env(
                "TESSERA_ANON_KEY",
                tessera_server::TokenSigner::new(TOKEN_SECRET)
                    .and_then(|signer| signer.anon_key())
                    .expect("the anonymous key"),
            )
            .output()
            .await
            .expect("run node --test");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "postgrest-js suite failed on {}:\n{stdout}\n{stderr}", db.engine());
        // The suite really ran: node's summary counts the passed tests.
        let passed = stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix("ℹ pass "))
            .and_then(|n| n.trim().parse::<u32>().ok())
            .unwrap_or(0);
        assert!(passed >= 20, "expected the client suite's tests to run:\n{stdout}");
        println!("{stdout}");
    }
}
