//! The startup migration: `tessera serve` with schema v2 over a database at v1, killed
//! while it migrates.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value as Json};
use tessera_migrate::LiveCatalog;
use tessera_testkit::Database;

use crate::harness::{fresh_database, seed, trials, Api, Figures, Rng, Service};

const NAME: &str = "migration";

const V1: &str = "model items {
  name  text
  qty   int
  note  text?
}
";

/// From v1: a new table with a foreign key, a column with a default, a widened type and
/// an index (on SQLite, the table is rebuilt).
const V2: &str = "model items {
  @@index([name])
  name    text
  qty     bigint
  note    text?
  status  text    = \"new\"
  tags    tags[]
}

model tags {
  label  text
  item   -> items?  @on_delete(cascade)
}
";

/// Rows written through the API (acknowledged, checked one by one after the restart).
const ACKNOWLEDGED_ROWS: u64 = 200;
/// Rows written directly, so that the migration has real work to do while it is killed.
const FILLER_ROWS: u64 = 20_000;

/// Inserts the filler rows (the same SQL on both engines).
fn filler() -> String {
    format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {FILLER_ROWS}) \
         INSERT INTO items (name, qty, note) \
         SELECT 'filler ' || i, (i * 7) % 1000, CASE WHEN i % 3 = 0 THEN NULL ELSE 'note ' || i END FROM n"
    )
}

/// What must survive the migration: the number of rows and sums over every column.
const FINGERPRINT: [&str; 4] = [
    "SELECT count(*) FROM items",
    "SELECT CAST(sum(qty) AS BIGINT) FROM items",
    "SELECT CAST(sum(length(name)) AS BIGINT) FROM items",
    "SELECT CAST(sum(length(note)) AS BIGINT) FROM items",
];

fn acknowledged_row(i: u64) -> Json {
    json!({ "name": format!("acknowledged {i:03} «ü»"), "qty": i * 3, "note": if i % 2 == 1 { json!(format!("note {i}")) } else { Json::Null } })
}

/// The services of a trial's database: v1 and v2 of the schema, in a project folder that
/// may hold a migrations folder (then `serve` writes each migration there before it
/// applies it).
struct Versions {
    v1: Service,
    v2: Service,
    migrations: Option<PathBuf>,
}

impl Versions {
    fn new(db: &Database, label: &str, with_folder: bool) -> Versions {
        let dir = crate::support::fresh_dir("crash", &format!("migration-{}-{label}", db.engine()));
        let migrations = with_folder.then(|| dir.join("migrations"));
        if let Some(folder) = &migrations {
            std::fs::create_dir_all(folder).expect("the migrations folder");
        }
        Versions {
            v1: Service::schema(&dir, "v1.tsr", V1, db.url()),
            v2: Service::schema(&dir, "v2.tsr", V2, db.url()),
            migrations,
        }
    }

    /// The migrations written in the folder (none without one).
    fn written(&self) -> Result<usize, String> {
        match &self.migrations {
            Some(folder) => tessera_migrate::read_migrations(folder)
                .map(|m| m.len())
                .map_err(|e| e.to_string()),
            None => Ok(0),
        }
    }
}

/// What the database holds, read directly: the applied migrations, the catalog and the
/// data's fingerprint.
struct State {
    migrations: i64,
    catalog: LiveCatalog,
    fingerprint: Vec<i64>,
}

impl State {
    /// Whether the history and the tables are both those of `other`.
    fn schema_of(&self, other: &State) -> bool {
        self.migrations == other.migrations && self.catalog == other.catalog
    }
}

async fn state(db: &Database) -> Result<State, String> {
    let pool = db.pool().await.map_err(|e| format!("connect: {e}"))?;
    let mut numbers = Vec::new();
    for sql in ["SELECT count(*) FROM _tessera_migrations"]
        .iter()
        .chain(&FINGERPRINT)
    {
        numbers.push(
            pool.fetch_i64(sql)
                .await
                .map_err(|e| format!("{sql}: {e}"))?,
        );
    }
    pool.close().await;
    let catalog = tessera_migrate::introspect(db.url())
        .await
        .map_err(|e| format!("introspect: {e}"))?;
    Ok(State {
        migrations: numbers.remove(0),
        catalog,
        fingerprint: numbers,
    })
}

/// Brings a fresh database to v1 with its rows; its state.
async fn at_v1(db: &Database, versions: &Versions) -> Result<State, String> {
    let (server, _) = versions.v1.start()?;
    let rows: Vec<Json> = (0..ACKNOWLEDGED_ROWS).map(acknowledged_row).collect();
    Api::new(&server)
        .create("/rest/v1/items", &Json::Array(rows))
        .await?;
    if !server.terminate().success() {
        return Err("the v1 server did not stop cleanly".into());
    }
    let pool = db.pool().await.map_err(|e| format!("connect: {e}"))?;
    pool.execute(&filler())
        .await
        .map_err(|e| format!("filler rows: {e}"))?;
    pool.close().await;
    state(db).await
}

/// What the server logs once the startup migration is done.
const MIGRATED: &str = "database migrated to the schema";

/// Migrates a database to v2 without a kill: the state of a completed migration, and
/// how long after its start the server had migrated (the kills are drawn around it).
async fn calibrate(db: &Database) -> Result<(State, Duration), String> {
    let versions = Versions::new(db, "calibration", false);
    at_v1(db, &versions).await?;
    let (mut server, took) = versions.v2.start()?;
    let migrated = server.wrote_after(MIGRATED).unwrap_or(took);
    server.terminate();
    Ok((state(db).await?, migrated))
}

/// Runs the migration trials: each on a fresh database brought to v1, with v2 served
/// and killed at a random moment of its start, then checked, restarted and checked again.
pub async fn run(db: Database) -> Result<(), String> {
    let seed = seed();
    let mut rng = Rng::for_run(seed, NAME, db.engine());
    let mut figures = Figures::new(NAME, db.engine(), seed);
    let (migrated, window) = calibrate(&db).await?;
    for trial in 0..trials() {
        let db = fresh_database(&db).await;
        let kill_at = rng.moment(Duration::ZERO, window.mul_f64(1.25));
        if let Err(error) = run_trial(&db, trial, kill_at, &migrated, &mut figures).await {
            figures.broken(trial, error);
        }
        figures.trials += 1;
    }
    figures.finish()
}

async fn run_trial(
    db: &Database,
    trial: usize,
    kill_at: Duration,
    migrated: &State,
    figures: &mut Figures,
) -> Result<(), String> {
    let with_folder = trial % 2 == 1;
    if with_folder {
        figures.count("trials with a migrations folder");
    }
    let versions = Versions::new(db, &trial.to_string(), with_folder);
    let before = at_v1(db, &versions).await?;

    let server = versions.v2.spawn();
    tokio::time::sleep(kill_at).await;
    let output = server.kill();
    let began = output.contains("migration: applying");
    let finished = output.contains(MIGRATED);

    // What a restart finds: v1 untouched, or v2 complete, and the history saying which.
    let after_kill = state(db).await?;
    if after_kill.fingerprint != before.fingerprint {
        figures.lost(
            trial,
            format!(
                "the data changed from {:?} to {:?}",
                before.fingerprint, after_kill.fingerprint
            ),
        );
    }
    if after_kill.schema_of(&before) && !finished {
        figures.count(if began {
            "killed during the migration: rolled back"
        } else {
            "killed before the migration began"
        });
    } else if after_kill.schema_of(migrated) && began {
        figures.count(if finished {
            "killed after the migration"
        } else {
            "killed during the migration: after its commit"
        });
    } else {
        figures.half_applied(
            trial,
            format!(
                "after the kill the history records {} migration(s) but the tables are {} (the server had {}begun and {}finished the migration)",
                after_kill.migrations,
                describe(&after_kill.catalog, &before.catalog, &migrated.catalog),
                if began { "" } else { "not " },
                if finished { "" } else { "not " },
            ),
        );
    }

    // Every applied migration is in the folder (the restart would refuse to start else).
    if with_folder && versions.written()? < after_kill.migrations as usize {
        figures.half_applied(
            trial,
            format!(
                "{} migrations applied, {} in the folder",
                after_kill.migrations,
                versions.written()?
            ),
        );
    }

    // The restart completes the migration and serves the rows written before it.
    let (server, took) = versions
        .v2
        .start()
        .map_err(|e| format!("after the kill, {e}"))?;
    figures.restarted(took);
    let api = Api::new(&server);
    let rows = api
        .rows("/rest/v1/items?name=like.acknowledged*&select=name,qty,note,status&order=name")
        .await?;
    for i in 0..ACKNOWLEDGED_ROWS {
        let mut expected = acknowledged_row(i);
        expected["status"] = json!("new");
        match rows.get(i as usize) {
            Some(row) if *row == expected => {}
            found => figures.lost(trial, format!("row {expected} reads as {found:?}")),
        }
    }
    figures.acknowledged += ACKNOWLEDGED_ROWS;
    let item = api
        .create(
            "/rest/v1/items",
            &json!({ "name": "after", "qty": 1, "status": "done" }),
        )
        .await?;
    let id = item.first().and_then(|i| i["id"].as_str()).ok_or("no id")?;
    api.call(
        Method::POST,
        "/rest/v1/tags",
        Some(&json!({ "label": "works", "itemId": id })),
    )
    .await?;
    server.terminate();

    let restarted = state(db).await?;
    if with_folder && versions.written()? != 2 {
        figures.broken(
            trial,
            format!(
                "{} migrations in the folder after the restart",
                versions.written()?
            ),
        );
    }
    if !restarted.schema_of(migrated) {
        figures.broken(
            trial,
            format!(
                "after the restart the history records {} migration(s) and the tables are {}",
                restarted.migrations,
                describe(&restarted.catalog, &before.catalog, &migrated.catalog)
            ),
        );
    }
    let expected_rows = (ACKNOWLEDGED_ROWS + FILLER_ROWS + 1) as i64;
    if restarted.fingerprint[0] != expected_rows {
        figures.lost(
            trial,
            format!(
                "{} rows after the restart, {expected_rows} written",
                restarted.fingerprint[0]
            ),
        );
    }
    Ok(())
}

/// How a catalog differs from those of v1 and v2: the tables that match neither.
fn describe(live: &LiveCatalog, v1: &LiveCatalog, v2: &LiveCatalog) -> String {
    let names: Vec<String> = live
        .tables
        .iter()
        .filter(|t| v1.table(&t.name) != Some(t) && v2.table(&t.name) != Some(t))
        .map(|t| format!("{t:?}"))
        .collect();
    if names.is_empty() {
        format!(
            "those of v1 or v2 in part: {:?}",
            live.tables.iter().map(|t| &t.name).collect::<Vec<_>>()
        )
    } else {
        format!("unlike both v1 and v2: {}", names.join("; "))
    }
}
