//! Migration at startup: `tessera serve` brings an empty or out-of-date database to the
//! schema when every pending step is safe, and refuses to start, naming the steps, when a
//! step can lose data (those are applied with `tessera migrate --allow-destructive` after
//! review).

use std::path::PathBuf;
use std::sync::Arc;

use tessera_migrate::{MigrateError, MigrateOptions};
use tessera_schema::Schema;

/// Why the server cannot start on this database.
#[derive(Debug, thiserror::Error)]
pub enum StartupMigrationError {
    #[error(
        "the database needs steps that can lose data; review and apply them with `tessera migrate --allow-destructive`, then start again:\n{}",
        .0.join("\n")
    )]
    Destructive(Vec<String>),
    #[error("migration failed: {0}")]
    Migrate(#[from] MigrateError),
}

/// What was done.
#[derive(Debug, Clone, Default)]
pub struct StartupMigration {
    /// Names of the migrations applied.
    pub applied: Vec<String>,
    pub steps: usize,
}

/// Migrates `database_url` to `schema` unless a pending step is destructive, logging each
/// migration and step as it is applied (a large table can take a while).
/// `migrations_dir`: the project's migrations folder, when it has one.
pub async fn migrate_for_serve_in(
    schema: &Schema,
    database_url: &str,
    migrations_dir: Option<PathBuf>,
) -> Result<StartupMigration, StartupMigrationError> {
    let options = MigrateOptions {
        migrations_dir,
        allow_destructive: false,
        progress: Some(Arc::new(|line: &str| {
            tracing::info!("migration: {}", line.trim());
        })),
        ..Default::default()
    };
    let plan = tessera_migrate::pending_steps(schema, database_url, &options).await?;
    let destructive = plan.destructive();
    if !destructive.is_empty() {
        return Err(StartupMigrationError::Destructive(
            destructive
                .iter()
                .map(|d| format!("  - {}: {} ({})", d.migration, d.step, d.reason))
                .collect(),
        ));
    }
    if plan.is_empty() {
        return Ok(StartupMigration::default());
    }
    let report = tessera_migrate::migrate_to(schema, database_url, &options).await?;
    Ok(StartupMigration {
        applied: report.applied,
        steps: report.steps,
    })
}

/// [`migrate_for_serve_in`] without a migrations folder (the database's own history is
/// the starting point).
pub async fn migrate_for_serve(
    schema: &Schema,
    database_url: &str,
) -> Result<StartupMigration, StartupMigrationError> {
    migrate_for_serve_in(schema, database_url, None).await
}
