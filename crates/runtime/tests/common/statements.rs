//! The statements the engine sends to the database, captured from its statement log
//! (`tessera_sql::db::STATEMENT_LOG`) while a piece of work runs.

use std::future::Future;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// One statement as the database received it, and how many rows it read or changed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Statement {
    pub sql: String,
    pub values: String,
    pub rows: u64,
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Statement>>>);

impl<S: Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != tessera_sql::db::STATEMENT_LOG {
            return;
        }
        let mut statement = Statement::default();
        event.record(&mut statement);
        self.0.lock().expect("capture").push(statement);
    }
}

impl Visit for Statement {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "rows" {
            self.rows = value;
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "sql" => self.sql = format!("{value:?}"),
            "values" => self.values = format!("{value:?}"),
            _ => {}
        }
    }
}

/// Runs `work` and answers its result with the statements it sent. The test must run on
/// a current-thread runtime (as `engine_tests!` does), so the engine's tasks log on the
/// thread that captures.
pub async fn captured<T>(work: impl Future<Output = T>) -> (T, Vec<Statement>) {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    let guard = tracing::subscriber::set_default(subscriber);
    let out = work.await;
    drop(guard);
    let statements = capture.0.lock().expect("capture").clone();
    (out, statements)
}
