//! Migrations: from the schema of the last applied migration to the schema in hand.
//!
//! 1. Both schemas become SQL-level [`Catalog`]s for the target dialect, each with the
//!    engine's system tables its [`Snapshot`] includes (`_tessera_sessions`, …; see
//!    [`tessera_sql::system`]): a fresh database's first migration creates them, and a
//!    database migrated by a Tessera that did not migrate them gets them in its next one.
//! 2. [`diff`] compares them into typed [`Step`]s (renames only where the schema says so
//!    with `@was` / `@@was`), ordered so that every reference exists when it is used.
//! 3. [`render`] turns the steps into SQL per dialect (SQLite rebuilds tables it cannot
//!    alter).
//! 4. [`migrate_to`] applies pending migrations in one transaction per run, under a lock,
//!    records each in `_tessera_migrations` with the checksum of its SQL and a snapshot
//!    of the schema, and refuses steps that can lose data unless allowed.
//!
//! ```no_run
//! # async fn example(schema: &tessera_schema::Schema) -> Result<(), tessera_migrate::MigrateError> {
//! use tessera_migrate::{migrate_to, MigrateOptions};
//! let report = migrate_to(schema, "sqlite://app.db", &MigrateOptions::default()).await?;
//! println!("{} migration(s) applied", report.applied.len());
//! # Ok(()) }
//! ```
//!
//! See `docs/migrations.md` for the folder layout and the review workflow.

#![forbid(unsafe_code)]

mod db;
pub mod files;
pub mod render;
pub mod safety;
mod snapshot;
pub mod step;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tessera_schema::Schema;
use tessera_sql::{system, SqlError};

pub use db::HistoryEntry;
pub use files::{checksum, read_migrations, MigrationFiles};
pub use render::{render, RenderedStep};
pub use safety::Destructive;
pub use snapshot::Snapshot;
pub use step::{diff, Step};
pub use tessera_sql::introspect::{introspect, LiveCatalog};
pub use tessera_sql::system::HISTORY_TABLE;
pub use tessera_sql::{DialectKind, UnsupportedUrl};

/// Why a migration could not be planned or applied. Whatever the error, the database is as
/// it was before the run.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    UnsupportedUrl(#[from] UnsupportedUrl),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Sql(#[from] SqlError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("bad migration folder {path}: {reason}")]
    BadMigrationFolder { path: PathBuf, reason: String },
    #[error("cannot store the schema snapshot: {0}")]
    Snapshot(serde_json::Error),
    #[error("the schema snapshot of applied migration {name} is unreadable: {source}")]
    BadHistorySnapshot {
        name: String,
        source: serde_json::Error,
    },
    #[error("migration {name} was edited after it was applied (the checksum of its {dialect} SQL differs from the one recorded); restore the file, and put further changes in a new migration")]
    Tampered { name: String, dialect: DialectKind },
    #[error("migration {name} is recorded as applied but is missing from the migrations folder")]
    MissingFile { name: String },
    #[error("migration {name} is not applied but an older-numbered folder than the last applied migration ({last}); renumber it after {last}")]
    OutOfOrder { name: String, last: String },
    #[error("refusing steps that can lose data (run again with --allow-destructive to apply them):\n{}", list(.0))]
    Destructive(Vec<Destructive>),
    #[error(
        "migration {name} failed at step {step} ({description}): {source}; nothing was applied"
    )]
    StepFailed {
        name: String,
        step: usize,
        description: String,
        source: sqlx::Error,
    },
    #[error("migration {name} leaves rows whose foreign keys point nowhere: {}; nothing was applied", .violations.join(", "))]
    ForeignKeyViolations {
        name: String,
        violations: Vec<String>,
    },
}

fn list(items: &[Destructive]) -> String {
    items
        .iter()
        .map(|d| format!("  - {}: {} ({})", d.migration, d.step, d.reason))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Receives a line per step while a migration runs.
pub type Progress = Arc<dyn Fn(&str) + Send + Sync>;

/// How [`migrate_to`] and [`pending_steps`] work.
#[derive(Clone, Default)]
pub struct MigrateOptions {
    /// The migrations folder. With one, pending migrations in it are applied and a new
    /// migration is written there before it is applied; without one, the schema of the
    /// last migration recorded in the database is the starting point.
    pub migrations_dir: Option<PathBuf>,
    /// Apply steps that can lose data.
    pub allow_destructive: bool,
    /// The name of a new migration (default: derived from its first step).
    pub name: Option<String>,
    pub progress: Option<Progress>,
}

impl fmt::Debug for MigrateOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MigrateOptions")
            .field("migrations_dir", &self.migrations_dir)
            .field("allow_destructive", &self.allow_destructive)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A migration that is not applied yet.
#[derive(Debug, Clone)]
pub struct PendingMigration {
    pub id: u32,
    /// `0003_add_users_nickname`.
    pub name: String,
    /// Steps for the target dialect.
    pub steps: Vec<Step>,
    /// SQL for the target dialect.
    pub sql: String,
    pub postgres_sql: String,
    pub sqlite_sql: String,
    /// What the database holds after this migration.
    pub snapshot: Snapshot,
    /// Steps that can lose data on this database.
    pub destructive: Vec<Destructive>,
    /// Planned now (not yet in the migrations folder).
    pub is_new: bool,
}

/// What a database needs to reach a schema.
#[derive(Debug, Clone)]
pub struct Plan {
    pub dialect: DialectKind,
    pub migrations: Vec<PendingMigration>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.migrations.is_empty()
    }

    pub fn destructive(&self) -> Vec<Destructive> {
        self.migrations
            .iter()
            .flat_map(|m| m.destructive.clone())
            .collect()
    }

    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.migrations.iter().flat_map(|m| &m.steps)
    }
}

/// What [`migrate_to`] did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Migrations applied, in order (`0003_add_users_nickname`).
    pub applied: Vec<String>,
    /// The number of steps applied.
    pub steps: usize,
    /// The folder of a migration written by this run.
    pub written: Option<PathBuf>,
}

/// The steps and SQL from a database this Tessera migrated to `old` (none: an empty
/// database, which also needs the system tables) to `new` on `dialect`.
pub fn plan_steps(
    old: Option<&Schema>,
    new: &Schema,
    dialect: DialectKind,
) -> Result<(Vec<Step>, Vec<RenderedStep>), MigrateError> {
    let old = old.map(|schema| Snapshot::current(schema.clone()));
    plan_snapshots(old.as_ref(), &Snapshot::current(new.clone()), dialect)
}

/// The steps and SQL from a database holding `old` (none: an empty database) to one
/// holding `new`, system tables included, on `dialect`.
pub fn plan_snapshots(
    old: Option<&Snapshot>,
    new: &Snapshot,
    dialect: DialectKind,
) -> Result<(Vec<Step>, Vec<RenderedStep>), MigrateError> {
    let old = match old {
        Some(snapshot) => snapshot.catalog(dialect)?,
        None => tessera_sql::Catalog::empty(dialect),
    };
    let new = new.catalog(dialect)?;
    let steps = diff(&old, &new);
    let rendered = render(&steps, &old, &new);
    Ok((steps, rendered))
}

/// A migration script: a header, then each step as `-- step i/n: …` and its statements.
pub fn script(name: &str, dialect: DialectKind, rendered: &[RenderedStep]) -> String {
    let mut out = format!(
        "-- Tessera migration {name} for {dialect}.\n\
         -- `tessera migrate` runs it in one transaction and records its checksum: do not edit it once applied.\n\n"
    );
    let n = rendered.len();
    for (i, step) in rendered.iter().enumerate() {
        let description = step.description.replace(['\n', '\r'], " ");
        out.push_str(&format!("-- step {}/{n}: {description}\n", i + 1));
        for statement in &step.statements {
            out.push_str(statement);
            out.push_str(";\n");
        }
        out.push('\n');
    }
    out
}

/// A script split at its `-- step` lines: (description, SQL) per step.
pub fn script_blocks(sql: &str) -> Vec<(String, String)> {
    let mut blocks: Vec<(String, String)> = Vec::new();
    let mut preamble = String::new();
    for line in sql.lines() {
        if let Some(rest) = line.strip_prefix("-- step ") {
            let description = rest.split_once(": ").map_or(rest, |(_, d)| d).to_owned();
            blocks.push((description, String::new()));
        } else if let Some((_, body)) = blocks.last_mut() {
            body.push_str(line);
            body.push('\n');
        } else {
            preamble.push_str(line);
            preamble.push('\n');
        }
    }
    let has_sql = |text: &str| {
        text.lines()
            .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with("--"))
    };
    if has_sql(&preamble) {
        blocks.insert(0, ("statements before the first step".to_owned(), preamble));
    }
    blocks.retain(|(_, body)| has_sql(body));
    blocks
}

/// The plan from the migrations folder alone, without a database: the folder's last
/// snapshot (or nothing) to `schema`.
pub fn plan_offline(
    schema: &Schema,
    dialect: DialectKind,
    migrations_dir: Option<&Path>,
    name: Option<&str>,
) -> Result<Plan, MigrateError> {
    let files = match migrations_dir {
        Some(dir) => read_migrations(dir)?,
        None => Vec::new(),
    };
    let base = files.last().map(|f| &f.snapshot);
    let next = files.last().map_or(1, |f| f.id + 1);
    let migrations = new_migration(base, schema, dialect, next, name)?
        .into_iter()
        .collect();
    Ok(Plan {
        dialect,
        migrations,
    })
}

fn new_migration(
    base: Option<&Snapshot>,
    schema: &Schema,
    dialect: DialectKind,
    id: u32,
    name: Option<&str>,
) -> Result<Option<PendingMigration>, MigrateError> {
    let snapshot = Snapshot::current(schema.clone());
    let (steps, _) = plan_snapshots(base, &snapshot, dialect)?;
    if steps.is_empty() {
        return Ok(None);
    }
    // Named after the schema's first change; a migration of system tables alone says so.
    let first_change = steps
        .iter()
        .find(|s| !s.table().is_some_and(system::is_system_table));
    let slug = match name {
        Some(name) => name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect(),
        None if base.is_none() => "init".to_owned(),
        None => first_change.map_or_else(|| "tessera_system_tables".to_owned(), Step::slug),
    };
    let full_name = format!("{id:04}_{slug}");
    let mut sql = [String::new(), String::new()];
    for (slot, d) in [DialectKind::Postgres, DialectKind::Sqlite]
        .into_iter()
        .enumerate()
    {
        let (_, rendered) = plan_snapshots(base, &snapshot, d)?;
        sql[slot] = script(&full_name, d, &rendered);
    }
    let [postgres_sql, sqlite_sql] = sql;
    Ok(Some(PendingMigration {
        id,
        name: full_name,
        steps,
        sql: match dialect {
            DialectKind::Postgres => postgres_sql.clone(),
            DialectKind::Sqlite => sqlite_sql.clone(),
        },
        postgres_sql,
        sqlite_sql,
        snapshot,
        destructive: Vec::new(),
        is_new: true,
    }))
}

/// The migrations `database_url` needs to reach `schema`, each with the steps that can
/// lose data on that database. Reads the database; changes nothing.
pub async fn pending_steps(
    schema: &Schema,
    database_url: &str,
    options: &MigrateOptions,
) -> Result<Plan, MigrateError> {
    let mut db = db::Db::connect(database_url).await?;
    db.begin_read().await?;
    let result = plan_on(&mut db, schema, options).await;
    db.rollback().await.ok();
    db.close().await;
    result
}

/// Brings `database_url` to `schema`: applies pending migrations of the folder, plans,
/// writes and applies a new one when the schema changed, all in one transaction under the
/// migration lock. Refuses (changing nothing) when a step can lose data and
/// `allow_destructive` is off, or when an applied migration file was edited.
pub async fn migrate_to(
    schema: &Schema,
    database_url: &str,
    options: &MigrateOptions,
) -> Result<Report, MigrateError> {
    let mut db = db::Db::connect(database_url).await?;
    db.begin_locked().await?;
    let mut written = None;
    let result = apply_on(&mut db, schema, options, &mut written).await;
    let result = match result {
        Ok(report) => db
            .commit()
            .await
            .map(|()| report)
            .map_err(MigrateError::from),
        Err(error) => Err(error),
    };
    if result.is_err() {
        db.rollback().await.ok();
        if let Some(path) = &written {
            std::fs::remove_dir_all(path).ok();
        }
    }
    db.close().await;
    result
}

async fn plan_on(
    db: &mut db::Db,
    schema: &Schema,
    options: &MigrateOptions,
) -> Result<Plan, MigrateError> {
    let dialect = db.dialect();
    let history = db.history().await?;
    let mut migrations = Vec::new();
    let base: Option<Snapshot>;
    let next_id: u32;
    let last_applied = history.last().map(|h| h.id).unwrap_or(0);
    if let Some(dir) = &options.migrations_dir {
        let files = read_migrations(dir)?;
        for entry in &history {
            let Some(file) = files.iter().find(|f| i64::from(f.id) == entry.id) else {
                return Err(MigrateError::MissingFile {
                    name: entry.name.clone(),
                });
            };
            if checksum(file.sql(dialect)) != entry.checksum {
                return Err(MigrateError::Tampered {
                    name: file.name.clone(),
                    dialect,
                });
            }
        }
        let mut previous: Option<&Snapshot> = None;
        for file in &files {
            if !history.iter().any(|h| h.id == i64::from(file.id)) {
                if i64::from(file.id) < last_applied {
                    let last = history.last().map(|h| h.name.clone()).unwrap_or_default();
                    return Err(MigrateError::OutOfOrder {
                        name: file.name.clone(),
                        last,
                    });
                }
                let (steps, _) = plan_snapshots(previous, &file.snapshot, dialect)?;
                migrations.push(PendingMigration {
                    id: file.id,
                    name: file.name.clone(),
                    steps,
                    sql: file.sql(dialect).to_owned(),
                    postgres_sql: file.postgres_sql.clone(),
                    sqlite_sql: file.sqlite_sql.clone(),
                    snapshot: file.snapshot.clone(),
                    destructive: Vec::new(),
                    is_new: false,
                });
            }
            previous = Some(&file.snapshot);
        }
        base = files.last().map(|f| f.snapshot.clone());
        next_id = files.last().map_or(0, |f| f.id).max(last_applied as u32) + 1;
    } else {
        base = match history.last() {
            Some(entry) => Some(Snapshot::from_json(&entry.schema).map_err(|source| {
                MigrateError::BadHistorySnapshot {
                    name: entry.name.clone(),
                    source,
                }
            })?),
            None => None,
        };
        next_id = last_applied as u32 + 1;
    }
    if let Some(new) = new_migration(
        base.as_ref(),
        schema,
        dialect,
        next_id,
        options.name.as_deref(),
    )? {
        migrations.push(new);
    }
    for migration in &mut migrations {
        for (step, reason, condition) in safety::concerns(&migration.steps) {
            let applies = match &condition {
                safety::Condition::Always => true,
                safety::Condition::TableHasRows { table } => db.has_rows(table).await?,
                safety::Condition::ColumnHasNulls { table, column } => {
                    db.has_nulls(table, column).await?
                }
            };
            if applies {
                migration.destructive.push(Destructive {
                    migration: migration.name.clone(),
                    step,
                    reason,
                });
            }
        }
    }
    Ok(Plan {
        dialect,
        migrations,
    })
}

async fn apply_on(
    db: &mut db::Db,
    schema: &Schema,
    options: &MigrateOptions,
    written: &mut Option<PathBuf>,
) -> Result<Report, MigrateError> {
    db.ensure_history().await?;
    let plan = plan_on(db, schema, options).await?;
    let destructive = plan.destructive();
    if !destructive.is_empty() && !options.allow_destructive {
        return Err(MigrateError::Destructive(destructive));
    }
    let progress = |line: &str| {
        if let Some(p) = &options.progress {
            p(line);
        }
    };
    let mut report = Report::default();
    for migration in &plan.migrations {
        if migration.is_new {
            if let Some(dir) = &options.migrations_dir {
                let path = files::write_migration(
                    dir,
                    &migration.name,
                    &migration.postgres_sql,
                    &migration.sqlite_sql,
                    &migration.snapshot,
                )?;
                progress(&format!("wrote {}", path.display()));
                report.written = Some(path.clone());
                *written = Some(path);
            }
        }
        let blocks = script_blocks(&migration.sql);
        let n = blocks.len();
        progress(&format!("applying {} ({n} steps)", migration.name));
        for (i, (description, body)) in blocks.iter().enumerate() {
            progress(&format!("  [{}/{n}] {description}", i + 1));
            db.execute(body)
                .await
                .map_err(|source| MigrateError::StepFailed {
                    name: migration.name.clone(),
                    step: i + 1,
                    description: description.clone(),
                    source,
                })?;
        }
        let violations = db.foreign_key_violations().await?;
        if !violations.is_empty() {
            return Err(MigrateError::ForeignKeyViolations {
                name: migration.name.clone(),
                violations,
            });
        }
        let snapshot = migration
            .snapshot
            .to_json()
            .map_err(MigrateError::Snapshot)?;
        db.record(
            i64::from(migration.id),
            &migration.name,
            &checksum(&migration.sql),
            &snapshot,
        )
        .await?;
        report.applied.push(migration.name.clone());
        report.steps += n;
    }
    Ok(report)
}
