//! Migrations against real SQLite and PostgreSQL databases.

use std::path::Path;

use tessera_migrate::{migrate_to, pending_steps, MigrateError, MigrateOptions};
use tessera_schema::Schema;
use tessera_testkit::{engine_tests, Database};

fn schema(source: &str) -> Schema {
    match tessera_schema::check_source("schema.tsr", source) {
        Ok(checked) => checked.schema,
        Err(diagnostics) => panic!("schema does not check:\n{}", diagnostics.render(false)),
    }
}

fn app_source(app: &str) -> String {
    let path = format!("{}/../../apps/{app}/schema.tsr", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).expect("bundled schema is readable")
}

fn options(dir: &Path) -> MigrateOptions {
    MigrateOptions {
        migrations_dir: Some(dir.to_owned()),
        ..MigrateOptions::default()
    }
}

fn destructive(dir: &Path) -> MigrateOptions {
    MigrateOptions {
        allow_destructive: true,
        ..options(dir)
    }
}

/// Replaces exactly one occurrence of `from`, failing loudly when the schema text moved.
fn edit(source: &str, from: &str, to: &str) -> String {
    assert_eq!(
        source.matches(from).count(),
        1,
        "expected one `{from}` in the schema"
    );
    source.replacen(from, to, 1)
}

const APPS: [&str; 6] = [
    "tour-builder",
    "facekom-vuer",
    "facekom-esign",
    "securecam",
    "opentalk",
    "multitenant",
];

const NOTES: &str = "model notes {\n  title text\n  body text?\n}\n";

engine_tests! {
    /// Every bundled app migrates from an empty database, and migrating again does nothing.
    async fn every_bundled_app_migrates_from_empty_and_then_is_up_to_date(db: Database) -> Result<(), MigrateError> {
        for app in APPS {
            let dir = tempfile::tempdir().expect("temp dir");
            let target = schema(&app_source(app));
            // Apps share table names, so each gets a fresh database of the same engine.
            let fresh = Database::create(db.engine()).await.expect("fresh database");
            let report = migrate_to(&target, fresh.url(), &options(dir.path())).await?;
            assert_eq!(report.applied.len(), 1, "{app}");
            let again = migrate_to(&target, fresh.url(), &options(dir.path())).await?;
            assert!(again.applied.is_empty(), "{app}: second migrate applied {:?}", again.applied);
            assert!(pending_steps(&target, fresh.url(), &options(dir.path())).await?.is_empty());
        }
        Ok(())
    }

    /// Five successive edits of the tour builder schema keep the rows already stored.
    async fn tour_builder_edits_keep_existing_rows(db: Database) -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let pool = db.pool().await?;
        let mut source = app_source("tour-builder");
        migrate_to(&schema(&source), db.url(), &options(dir.path())).await?;
        pool.execute("INSERT INTO projects (name, slug, description) VALUES ('Tour', 'tour', 'A tour')").await?;
        pool.execute("INSERT INTO tour_pages (name, slug, \"projectId\") SELECT 'Home', 'home', id FROM projects").await?;

        // 1. Add a field.
        source = edit(&source, "  description                             text?\n", "  description                             text?\n  subtitle text?\n");
        migrate_to(&schema(&source), db.url(), &options(dir.path())).await?;
        pool.execute("UPDATE projects SET subtitle = 'Sub'").await?;
        // 2. Add an index.
        source = edit(&source, "model projects {\n", "model projects {\n  @@index([name, slug])\n");
        migrate_to(&schema(&source), db.url(), &options(dir.path())).await?;
        // 3. Add a relation.
        source = edit(&source, "  ui_schema_json        json?\n", "  ui_schema_json        json?\n  reviewer -> users? @on_delete(set_null)\n");
        migrate_to(&schema(&source), db.url(), &options(dir.path())).await?;
        // 4. Change a default.
        source = edit(&source, "  sort_order            int           = 0\n", "  sort_order            int           = 10\n");
        migrate_to(&schema(&source), db.url(), &options(dir.path())).await?;
        // 5. Rename a field, saying so.
        source = edit(&source, "  description                             text?\n", "  summary text? @was(\"description\")\n");
        migrate_to(&schema(&source), db.url(), &options(dir.path())).await?;
        // 6. Drop a field, allowing it.
        source = edit(&source, "  subtitle text?\n", "");
        migrate_to(&schema(&source), db.url(), &destructive(dir.path())).await?;

        assert_eq!(pool.fetch_i64("SELECT count(*) FROM projects WHERE name = 'Tour' AND summary = 'A tour'").await?, 1);
        assert_eq!(pool.fetch_i64("SELECT count(*) FROM tour_pages WHERE slug = 'home' AND sort_order = 0 AND \"projectId\" IS NOT NULL").await?, 1);
        pool.execute("INSERT INTO tour_pages (name, slug) VALUES ('Next', 'next')").await?;
        assert_eq!(pool.fetch_i64("SELECT sort_order FROM tour_pages WHERE slug = 'next'").await?, 10);
        assert_eq!(pool.fetch_i64("SELECT count(*) FROM _tessera_migrations").await?, 7);
        assert_eq!(std::fs::read_dir(dir.path())?.count(), 7);
        assert!(pending_steps(&schema(&source), db.url(), &options(dir.path())).await?.is_empty());
        Ok(())
    }

    /// A migration that fails half-way leaves the database as it was.
    async fn a_failing_migration_rolls_back_completely(db: Database) -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let pool = db.pool().await?;
        migrate_to(&schema(NOTES), db.url(), &options(dir.path())).await?;
        let broken = dir.path().join("0002_broken");
        std::fs::create_dir(&broken)?;
        std::fs::copy(dir.path().join("0001_init/schema.json"), broken.join("schema.json"))?;
        let sql = "-- step 1/2: create table extra\nCREATE TABLE extra (id integer);\n-- step 2/2: fail\nINSERT INTO missing_table VALUES (1);\n";
        std::fs::write(broken.join("postgres.sql"), sql)?;
        std::fs::write(broken.join("sqlite.sql"), sql)?;

        let error = migrate_to(&schema(NOTES), db.url(), &options(dir.path())).await.expect_err("fails");
        assert!(matches!(error, MigrateError::StepFailed { step: 2, .. }), "{error}");
        let extra = match db.engine() {
            tessera_testkit::Engine::Sqlite => "SELECT count(*) FROM sqlite_master WHERE name = 'extra'",
            tessera_testkit::Engine::Postgres => "SELECT count(*) FROM information_schema.tables WHERE table_name = 'extra'",
        };
        assert_eq!(pool.fetch_i64(extra).await?, 0);
        assert_eq!(pool.fetch_i64("SELECT count(*) FROM _tessera_migrations").await?, 1);
        Ok(())
    }

    /// A new migration that fails is not left behind in the migrations folder.
    async fn a_failing_new_migration_leaves_no_folder(db: Database) -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let pool = db.pool().await?;
        migrate_to(&schema(NOTES), db.url(), &options(dir.path())).await?;
        pool.execute("INSERT INTO notes (title) VALUES ('kept')").await?;
        let required = edit(NOTES, "  body text?\n", "  body text?\n  author text\n");
        let error = migrate_to(&schema(&required), db.url(), &destructive(dir.path())).await.expect_err("fails");
        assert!(matches!(error, MigrateError::StepFailed { .. }), "{error}");
        assert_eq!(std::fs::read_dir(dir.path())?.count(), 1);
        assert_eq!(pool.fetch_i64("SELECT count(*) FROM notes WHERE title = 'kept'").await?, 1);
        Ok(())
    }

    /// A run killed while it wrote a new migration's files stops no later run: the
    /// partial folder it left is skipped, and the next run writes and applies the
    /// migration.
    async fn a_migration_left_half_written_by_a_kill_is_written_again(db: Database) -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        migrate_to(&schema(NOTES), db.url(), &options(dir.path())).await?;
        let next = edit(NOTES, "  body text?\n", "  body text?\n  author text?\n");
        let plan = pending_steps(&schema(&next), db.url(), &options(dir.path())).await?;
        let name = &plan.migrations[0].name;
        let partial = dir.path().join(format!(".{name}.partial"));
        std::fs::create_dir_all(&partial)?;
        std::fs::write(partial.join("postgres.sql"), "-- the first lines of")?;

        let report = migrate_to(&schema(&next), db.url(), &options(dir.path())).await?;
        assert_eq!(report.applied, std::slice::from_ref(name));
        assert!(!partial.exists());
        let folder = tessera_migrate::read_migrations(dir.path())?;
        assert_eq!(folder.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), ["0001_init", name.as_str()]);
        Ok(())
    }

    /// Two migrations started together apply the migration once.
    async fn concurrent_migrations_apply_once(db: Database) -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let target = schema(NOTES);
        let opts = options(dir.path());
        let (a, b) = tokio::join!(
            migrate_to(&target, db.url(), &opts),
            migrate_to(&target, db.url(), &opts),
        );
        let applied = a?.applied.len() + b?.applied.len();
        assert_eq!(applied, 1);
        let pool = db.pool().await?;
        assert_eq!(pool.fetch_i64("SELECT count(*) FROM _tessera_migrations").await?, 1);
        assert_eq!(std::fs::read_dir(dir.path())?.count(), 1);
        Ok(())
    }

    /// Dropping a column is refused without `allow_destructive`, naming the step.
    async fn destructive_steps_are_refused_by_name(db: Database) -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        migrate_to(&schema(NOTES), db.url(), &options(dir.path())).await?;
        let without_body = edit(NOTES, "  body text?\n", "");
        let error = migrate_to(&schema(&without_body), db.url(), &options(dir.path())).await.expect_err("refused");
        let MigrateError::Destructive(steps) = &error else { panic!("{error}") };
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].step, "drop column notes.body");
        assert!(error.to_string().contains("drop column notes.body"));
        assert_eq!(std::fs::read_dir(dir.path())?.count(), 1, "nothing written");
        migrate_to(&schema(&without_body), db.url(), &destructive(dir.path())).await?;
        Ok(())
    }

    /// Editing a migration file after it was applied is detected.
    async fn an_edited_applied_migration_is_refused(db: Database) -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        migrate_to(&schema(NOTES), db.url(), &options(dir.path())).await?;
        for file in ["postgres.sql", "sqlite.sql"] {
            let path = dir.path().join("0001_init").join(file);
            let text = std::fs::read_to_string(&path)?;
            std::fs::write(&path, text.replace("\"title\"", "\"heading\""))?;
        }
        let error = migrate_to(&schema(NOTES), db.url(), &options(dir.path())).await.expect_err("refused");
        assert!(matches!(&error, MigrateError::Tampered { name, .. } if name == "0001_init"), "{error}");
        Ok(())
    }

    /// Without a folder, the database's own history is the starting point.
    async fn the_history_snapshot_is_the_base_without_a_folder(db: Database) -> Result<(), MigrateError> {
        let no_folder = MigrateOptions::default();
        migrate_to(&schema(NOTES), db.url(), &no_folder).await?;
        let more = edit(NOTES, "  body text?\n", "  body text?\n  pinned bool = false\n");
        let plan = pending_steps(&schema(&more), db.url(), &no_folder).await?;
        let steps: Vec<String> = plan.steps().map(ToString::to_string).collect();
        assert!(steps[0].starts_with("add column notes.pinned bool not null default"), "{steps:?}");
        assert!(plan.destructive().is_empty());
        let report = migrate_to(&schema(&more), db.url(), &no_folder).await?;
        assert_eq!(report.applied, vec!["0002_add_notes_pinned".to_owned()]);
        Ok(())
    }
}
