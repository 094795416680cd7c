//! The physical limit of the database: the benchmark workloads as hand-written SQL through
//! sqlx alone (no HTTP, no query planning, no validation), and the seeding of the
//! benchmark data through the HTTP API. Used by `bench/run.sh`.
//!
//! ```text
//! bench_driver seed API_URL KEY                 # prints the ids the workloads use
//! bench_driver run DATABASE_URL WORKLOAD SECONDS CONCURRENCY PROJECT_ID
//! ```
//!
//! `run` prints one JSON line: `{"workload", "requests", "rps", "p50_ms", "p99_ms"}`.
//! Workloads: read_one, list_50, embed, insert, update.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sqlx::{PgPool, Row, SqlitePool};

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("seed") if args.len() == 3 => seed(&args[1], &args[2]).await,
        Some("run") if args.len() == 6 => {
            run(
                &args[1],
                &args[2],
                args[3].parse()?,
                args[4].parse()?,
                &args[5],
            )
            .await
        }
        _ => {
            eprintln!("usage: bench_driver seed API_URL KEY | run DATABASE_URL WORKLOAD SECONDS CONCURRENCY PROJECT_ID");
            std::process::exit(2);
        }
    }
}

/// 20 projects; the first has 200 pages (the list workload), the others 5 each (the embed
/// workload). Prints `{"project": ID}`.
async fn seed(api: &str, key: &str) -> Result<(), Error> {
    let client = reqwest::Client::new();
    let mut first = None;
    for p in 0..20 {
        let rows: Value = client
            .post(format!("{api}/rest/v1/projects"))
            .bearer_auth(key)
            .header("prefer", "return=representation")
            .json(
                &json!({"name": format!("Bench project {p}"), "slug": format!("bench-{p}"),
                          "description": "A project of the benchmark"}),
            )
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let id = rows[0]["id"].as_str().ok_or("no id")?.to_owned();
        let pages = if p == 0 { 200 } else { 5 };
        let body: Vec<Value> = (0..pages)
            .map(|i| {
                json!({"projectId": id, "name": format!("Page {i}"), "slug": format!("page-{i}"),
                       "sort_order": i, "environment": if i % 4 == 3 { "stage" } else { "dev" }})
            })
            .collect();
        client
            .post(format!("{api}/rest/v1/tour_pages"))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await?
            .error_for_status()?;
        first.get_or_insert(id);
    }
    println!("{}", json!({ "project": first }));
    Ok(())
}

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

const PROJECT_COLUMNS: &str = r#"id, name, slug, description, logo_url, favicon_url, og_image_url, production_presentation_visibility, "createdAt", "updatedAt", "deletedAt", "createdById", "updatedById", "importHash""#;
const PAGE_COLUMNS: &str = r#"id, environment, source_key, name, slug, sort_order, background_image_url, background_video_url, background_audio_url, background_loop, requires_auth, ui_schema_json, "projectId", "createdAt", "updatedAt", "deletedAt", "createdById", "updatedById", "importHash""#;

/// Runs one operation of `workload`; returns the number of rows it touched.
async fn once(pool: &Pool, workload: &str, project: &str, n: u64) -> Result<usize, sqlx::Error> {
    macro_rules! on_both {
        ($sql:expr, |$q:ident| $bind:expr) => {
            match pool {
                Pool::Sqlite(pool) => {
                    let $q = sqlx::query($sql);
                    $bind.fetch_all(pool).await.map(|rows| rows.len())
                }
                Pool::Postgres(pool) => {
                    let $q = sqlx::query($sql);
                    $bind.fetch_all(pool).await.map(|rows| rows.len())
                }
            }
        };
    }
    let uuid = if matches!(pool, Pool::Postgres(_)) {
        "::uuid"
    } else {
        ""
    };
    match workload {
        "read_one" => {
            let sql = format!(
                r#"SELECT {PROJECT_COLUMNS} FROM projects WHERE id = $1{uuid} AND "deletedAt" IS NULL"#
            );
            on_both!(&sql, |q| q.bind(project))
        }
        "list_50" => {
            let sql = format!(
                r#"SELECT {PAGE_COLUMNS} FROM tour_pages WHERE "projectId" = $1{uuid} AND environment = 'dev' AND "deletedAt" IS NULL ORDER BY sort_order ASC LIMIT 50"#
            );
            on_both!(&sql, |q| q.bind(project))
        }
        "embed" => {
            // One query per level, as the engine does: parents, then their children.
            let parents = r#"SELECT id, name, slug FROM projects WHERE "deletedAt" IS NULL ORDER BY slug LIMIT 10"#;
            let ids: Vec<String> = match pool {
                Pool::Sqlite(p) => sqlx::query(parents)
                    .fetch_all(p)
                    .await?
                    .iter()
                    .map(|r| r.get::<String, _>(0))
                    .collect(),
                Pool::Postgres(p) => sqlx::query(parents)
                    .fetch_all(p)
                    .await?
                    .iter()
                    .map(|r| r.get::<uuid::Uuid, _>(0).to_string())
                    .collect(),
            };
            let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
            let cast = if matches!(pool, Pool::Postgres(_)) {
                "::text"
            } else {
                ""
            };
            let sql = format!(
                r#"SELECT "projectId", id, name, slug FROM tour_pages WHERE "projectId"{cast} IN ({}) AND "deletedAt" IS NULL"#,
                placeholders.join(", ")
            );
            match pool {
                Pool::Sqlite(p) => {
                    let mut q = sqlx::query(&sql);
                    for id in &ids {
                        q = q.bind(id);
                    }
                    q.fetch_all(p).await.map(|r| r.len() + ids.len())
                }
                Pool::Postgres(p) => {
                    let mut q = sqlx::query(&sql);
                    for id in &ids {
                        q = q.bind(id);
                    }
                    q.fetch_all(p).await.map(|r| r.len() + ids.len())
                }
            }
        }
        "insert" => {
            let id = uuid::Uuid::new_v4().to_string();
            let slug = format!("driver-{n}-{}", &id[..8]);
            match pool {
                Pool::Sqlite(p) => sqlx::query(r#"INSERT INTO tour_pages (id, environment, name, slug, sort_order, background_loop, requires_auth, "projectId", "createdAt", "updatedAt") VALUES ($1, 'dev', 'Driver page', $2, 0, 0, 0, $3, $4, $4) RETURNING id"#)
                    .bind(&id).bind(&slug).bind(project).bind(chrono::Utc::now().to_rfc3339())
                    .fetch_all(p).await.map(|r| r.len()),
                Pool::Postgres(p) => sqlx::query(r#"INSERT INTO tour_pages (id, environment, name, slug, sort_order, background_loop, requires_auth, "projectId", "createdAt", "updatedAt") VALUES ($1::uuid, 'dev', 'Driver page', $2, 0, false, false, $3::uuid, now(), now()) RETURNING id"#)
                    .bind(&id).bind(&slug).bind(project)
                    .fetch_all(p).await.map(|r| r.len()),
            }
        }
        "update" => {
            let description = format!("Updated {n}");
            match pool {
                Pool::Sqlite(p) => sqlx::query(r#"UPDATE projects SET description = $1, "updatedAt" = $2 WHERE id = $3 AND "deletedAt" IS NULL RETURNING id"#)
                    .bind(&description).bind(chrono::Utc::now().to_rfc3339()).bind(project)
                    .fetch_all(p).await.map(|r| r.len()),
                Pool::Postgres(p) => sqlx::query(r#"UPDATE projects SET description = $1, "updatedAt" = now() WHERE id = $2::uuid AND "deletedAt" IS NULL RETURNING id"#)
                    .bind(&description).bind(project)
                    .fetch_all(p).await.map(|r| r.len()),
            }
        }
        other => Err(sqlx::Error::Protocol(format!("unknown workload {other}"))),
    }
}

async fn run(
    url: &str,
    workload: &str,
    seconds: u64,
    concurrency: usize,
    project: &str,
) -> Result<(), Error> {
    let engine = tessera_sql::DialectKind::from_url(url)?;
    let pool = if engine == tessera_sql::DialectKind::Sqlite {
        let options: sqlx::sqlite::SqliteConnectOptions = url.parse()?;
        let options = options
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        Pool::Sqlite(
            sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(concurrency as u32)
                .connect_with(options)
                .await?,
        )
    } else {
        let pg = sqlx::postgres::PgPoolOptions::new()
            .max_connections(concurrency as u32)
            .connect(url)
            .await?;
        // On PostgreSQL the key columns are uuid: compare as uuid.
        Pool::Postgres(pg)
    };
    // Warm up and check that the workload works at all.
    once(&pool, workload, project, 0).await?;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for t in 0..concurrency {
        let pool = pool.clone();
        let workload = workload.to_owned();
        let project = project.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut n = (t as u64) << 40;
            while Instant::now() < deadline {
                n += 1;
                let start = Instant::now();
                match once(&pool, &workload, &project, n).await {
                    Ok(_) => latencies.push(start.elapsed().as_micros() as u64),
                    Err(_) => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (latencies, e) = task.await?;
        all.extend(latencies);
        errors += e;
    }
    all.sort_unstable();
    let pick = |q: f64| {
        all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1)))
            .map_or(0.0, |us| *us as f64 / 1000.0)
    };
    println!(
        "{}",
        json!({
            "workload": workload,
            "requests": all.len(),
            "errors": errors,
            "rps": all.len() as f64 / seconds as f64,
            "p50_ms": pick(0.50),
            "p99_ms": pick(0.99),
        })
    );
    Ok(())
}
