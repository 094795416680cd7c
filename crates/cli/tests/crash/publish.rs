//! Publishing the tour builder's dev content to stage, again and again, each time after
//! editing it.

use std::path::Path;

use reqwest::Method;
use serde_json::{json, Value as Json};
use tessera_testkit::Database;

use crate::harness::{progress, Api, Figures, Outcome, Service, Workload};

/// Dev pages per project.
const PAGES: u64 = 3;
/// The transition setting's duration at generation `g` is `BASE_DURATION + g`.
const BASE_DURATION: u64 = 1000;

/// Each client owns a project and repeats: set generation `g` on every dev page and on
/// the dev transition setting (two `PATCH`es), then publish dev to stage. A publish
/// copies both models in one transaction, so stage always holds one generation: the one
/// of the last publish that committed, and the publish log must say `success` for
/// exactly the publishes whose copies are there.
#[derive(Clone)]
pub struct Publishes;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    EditPages,
    EditSetting,
    Publish,
}

/// One request of a client: its step, the generation it carries, what became of it.
pub struct Request {
    client: usize,
    step: Step,
    generation: u64,
    outcome: Outcome,
}

impl Workload for Publishes {
    /// The projects, one per client.
    type Setup = Vec<String>;
    type Write = Request;

    fn name(&self) -> &'static str {
        "publish"
    }

    fn clients(&self) -> usize {
        2
    }

    fn service(&self, dir: &Path, database_url: &str) -> Service {
        Service::app("tour-builder", dir, database_url)
    }

    async fn prepare(&self, api: &Api, trial: usize) -> Result<Vec<String>, String> {
        let mut projects = Vec::new();
        for client in 0..self.clients() {
            projects.push(new_project(api, &format!("t{trial}-c{client}"), PAGES).await?);
        }
        Ok(projects)
    }

    async fn client(
        self,
        api: Api,
        projects: Vec<String>,
        _: usize,
        client: usize,
        _: u64,
    ) -> Vec<Request> {
        let project = &projects[client];
        let pages = format!("/rest/v1/tour_pages?projectId=eq.{project}&environment=eq.dev");
        let setting = format!(
            "/rest/v1/project_transition_settings?projectId=eq.{project}&environment=eq.dev"
        );
        let publish = format!("/rest/v1/projects/publish?id=eq.{project}");
        let mut requests = Vec::new();
        for generation in 1.. {
            let steps = [
                (
                    Step::EditPages,
                    Method::PATCH,
                    &pages,
                    json!({ "sort_order": generation }),
                ),
                (
                    Step::EditSetting,
                    Method::PATCH,
                    &setting,
                    json!({ "duration_ms": BASE_DURATION + generation }),
                ),
                (
                    Step::Publish,
                    Method::POST,
                    &publish,
                    json!({ "from": "dev", "to": "stage" }),
                ),
            ];
            for (step, method, path, body) in steps {
                let outcome = api.write(method, path, &body).await;
                requests.push(Request {
                    client,
                    step,
                    generation,
                    outcome,
                });
                if !outcome.acknowledged() {
                    return requests;
                }
            }
        }
        requests
    }

    async fn verify(
        &self,
        api: &Api,
        trial: usize,
        projects: &Vec<String>,
        requests: Vec<Request>,
        figures: &mut Figures,
    ) {
        for (client, project) in projects.iter().enumerate() {
            let mine: Vec<&Request> = requests.iter().filter(|r| r.client == client).collect();
            for r in &mine {
                let what = format!(
                    "{:?} to generation {} of project {client}",
                    r.step, r.generation
                );
                figures.saw(trial, &what, r.outcome);
            }
            let sent = |step: Step| {
                progress(
                    mine.iter()
                        .filter(|r| r.step == step)
                        .map(|r| (r.generation, r.outcome)),
                )
            };
            if let Err(error) = check_project(
                api,
                trial,
                project,
                [
                    sent(Step::EditPages),
                    sent(Step::EditSetting),
                    sent(Step::Publish),
                ],
                figures,
            )
            .await
            {
                figures.broken(trial, format!("project {client}: {error}"));
            }
        }
    }

    /// Publishes a project of the trial again: the run succeeds and stage has its content.
    async fn probe(&self, api: &Api, trial: usize) -> Result<(), String> {
        let project = new_project(api, &format!("t{trial}-probe"), PAGES).await?;
        let run = api
            .call(
                Method::POST,
                &format!("/rest/v1/projects/publish?id=eq.{project}"),
                Some(&json!({ "from": "dev", "to": "stage" })),
            )
            .await?;
        if run["status"] != "success" {
            return Err(format!("the probe publish answered {run}"));
        }
        let (stage, _) = content(api, &project, "stage").await?;
        if stage.len() as u64 != PAGES {
            return Err(format!("the probe publish copied {} pages", stage.len()));
        }
        Ok(())
    }
}

/// A project with its dev content at generation 0 (`pages` pages and a transition
/// setting); its key.
async fn new_project(api: &Api, name: &str, pages: u64) -> Result<String, String> {
    let project = api
        .create(
            "/rest/v1/projects",
            &json!({ "name": format!("Crash {name}"), "slug": format!("crash-{name}") }),
        )
        .await?;
    let id = project
        .first()
        .and_then(|p| p["id"].as_str())
        .ok_or("the project has no id")?
        .to_owned();
    let pages: Vec<Json> = (0..pages)
        .map(|i| json!({ "name": format!("Page {i}"), "slug": format!("page-{i}"), "projectId": id, "sort_order": 0 }))
        .collect();
    api.create("/rest/v1/tour_pages", &Json::Array(pages))
        .await?;
    api.create(
        "/rest/v1/project_transition_settings",
        &json!({ "projectId": id, "environment": "dev", "duration_ms": BASE_DURATION }),
    )
    .await?;
    Ok(id)
}

/// The generations held by the pages and by the transition settings of one environment.
async fn content(api: &Api, project: &str, env: &str) -> Result<(Vec<u64>, Vec<u64>), String> {
    let pages = api
        .rows(&format!(
            "/rest/v1/tour_pages?projectId=eq.{project}&environment=eq.{env}&select=sort_order"
        ))
        .await?;
    let settings = api
        .rows(&format!(
            "/rest/v1/project_transition_settings?projectId=eq.{project}&environment=eq.{env}&select=duration_ms"
        ))
        .await?;
    let number = |row: &Json, field: &str| row[field].as_u64().unwrap_or(u64::MAX);
    Ok((
        pages.iter().map(|p| number(p, "sort_order")).collect(),
        settings
            .iter()
            .map(|s| number(s, "duration_ms").wrapping_sub(BASE_DURATION))
            .collect(),
    ))
}

/// The one generation of an environment's content (0 when it has none), or what is
/// wrong with it.
fn generation_of(pages: &[u64], settings: &[u64]) -> Result<u64, String> {
    if pages.is_empty() && settings.is_empty() {
        return Ok(0);
    }
    let all: Vec<u64> = pages.iter().chain(settings).copied().collect();
    if pages.len() as u64 != PAGES || settings.len() != 1 || all.iter().any(|g| *g != all[0]) {
        return Err(format!("pages at {pages:?} and settings at {settings:?}"));
    }
    Ok(all[0])
}

/// Checks one project after the restart. `sent`: for the page edits, the setting edits
/// and the publishes, the last acknowledged generation and the one in flight.
async fn check_project(
    api: &Api,
    trial: usize,
    project: &str,
    sent: [(u64, Option<u64>); 3],
    figures: &mut Figures,
) -> Result<(), String> {
    let [pages_sent, setting_sent, (published, publishing)] = sent;

    // The edits are updates: each fully applied (every page) or not at all.
    let (pages, settings) = content(api, project, "dev").await?;
    if pages.len() as u64 != PAGES || settings.len() != 1 {
        return Err(format!(
            "dev holds {} pages and {} settings",
            pages.len(),
            settings.len()
        ));
    }
    if pages.iter().any(|g| *g != pages[0]) {
        figures.half_applied(trial, format!("one edit left the dev pages at {pages:?}"));
    } else {
        figures.check_version(trial, "the dev pages", pages[0], pages_sent.0, pages_sent.1);
    }
    figures.check_version(
        trial,
        "the dev setting",
        settings[0],
        setting_sent.0,
        setting_sent.1,
    );

    // Stage holds exactly one publish's copies: those of the last publish that committed.
    let (pages, settings) = content(api, project, "stage").await?;
    let stage = match generation_of(&pages, &settings) {
        Ok(generation) => generation,
        Err(mix) => {
            figures.half_applied(trial, format!("stage mixes publishes: {mix}"));
            return Ok(());
        }
    };
    let log = api
        .rows(&format!(
            "/rest/v1/publish_events?projectId=eq.{project}&select=status,pages_copied,transitions_copied"
        ))
        .await?;
    let status = |s: &str| log.iter().filter(|r| r["status"] == s).count() as u64;
    let (succeeded, running) = (status("success"), status("running"));
    if succeeded + running != log.len() as u64 {
        return Err(format!("unexpected publish log rows: {log:?}"));
    }
    if running > u64::from(publishing.is_some()) {
        return Err(format!("{running} runs are logged as running: {log:?}"));
    }
    for run in log.iter().filter(|r| r["status"] == "success") {
        if run["pages_copied"] != json!(PAGES) || run["transitions_copied"] != json!(1) {
            figures.broken(trial, format!("a successful run counts {run}"));
        }
    }
    let acknowledged = published; // one generation per publish, starting at 1
    match (succeeded.checked_sub(acknowledged), publishing) {
        // The publish in flight committed and was logged: stage has its copies.
        (Some(1), Some(generation)) => {
            figures.count("publish in flight: committed and logged success");
            if stage != generation {
                figures.half_applied(
                    trial,
                    format!("the log says generation {generation} was published, stage holds {stage}"),
                );
            }
        }
        (Some(0), _) if stage == published => figures.count(if running == 1 {
            "publish in flight: rolled back, log row left running"
        } else {
            "no publish in flight, or it had not started"
        }),
        (Some(0), Some(generation)) if stage == generation => {
            figures.count("publish in flight: committed, log row left running");
            figures.half_applied(
                trial,
                format!(
                    "generation {generation} was copied to stage but its publish log row says \
                     `running`, not `success`"
                ),
            );
        }
        (Some(0), _) if stage < published => figures.lost(
            trial,
            format!("the acknowledged publish of generation {published} is not in stage (it holds {stage})"),
        ),
        (None, _) => figures.lost(
            trial,
            format!("{acknowledged} publishes were acknowledged, {succeeded} are logged as successful"),
        ),
        _ => figures.broken(
            trial,
            format!("stage holds generation {stage}: acknowledged {published}, in flight {publishing:?}, log {log:?}"),
        ),
    }
    Ok(())
}

/// Publishes a project on PostgreSQL and kills the server at the one moment the random
/// trials only sometimes hit: the copy made, the log row not yet finished (a lock held on
/// the log row keeps the server there). The copy and the log row's success commit
/// together, so after the restart neither is there: the run is not logged `success` and
/// stage holds no copy.
pub async fn kill_between_copy_and_log(db: Database) -> Result<(), String> {
    use sqlx::Connection as _;

    /// Enough pages that the copy outlasts the moment the test takes its lock.
    const MANY_PAGES: u64 = 300;
    let dir = crate::support::fresh_dir("crash", "publish-between-copy-and-log");
    let service = Service::app("tour-builder", &dir, db.url());
    let (server, _) = service.start()?;
    let api = Api::new(&server);
    let project = new_project(&api, "between", MANY_PAGES).await?;
    let publishing = {
        let api = api.clone();
        let path = format!("/rest/v1/projects/publish?id=eq.{project}");
        tokio::spawn(async move {
            api.write(
                Method::POST,
                &path,
                &json!({ "from": "dev", "to": "stage" }),
            )
            .await
        })
    };

    // Hold the log row as soon as the run has inserted it ...
    let mut lock = sqlx::PgConnection::connect(db.url())
        .await
        .map_err(|e| e.to_string())?;
    let running = poll(|| async {
        let rows = api
            .rows(&format!(
                "/rest/v1/publish_events?projectId=eq.{project}&status=eq.running&select=id"
            ))
            .await?;
        Ok(rows
            .first()
            .and_then(|r| r["id"].as_str())
            .map(str::to_owned))
    })
    .await?;
    sqlx::raw_sql("BEGIN")
        .execute(&mut lock)
        .await
        .map_err(|e| e.to_string())?;
    let held: Option<String> = sqlx::query_scalar(
        "SELECT status::text FROM publish_events WHERE id = $1::uuid FOR UPDATE",
    )
    .bind(&running)
    .fetch_optional(&mut lock)
    .await
    .map_err(|e| e.to_string())?;
    if held.as_deref() != Some("running") {
        return Err(format!(
            "the run finished before the test held its log row ({held:?})"
        ));
    }
    // ... until the run waits for it, its copies made but not committed.
    let mut watcher = sqlx::PgConnection::connect(db.url())
        .await
        .map_err(|e| e.to_string())?;
    let mut waiting = false;
    for _ in 0..200 {
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&mut watcher)
        .await
        .map_err(|e| e.to_string())?;
        if count > 0 {
            waiting = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    watcher.close().await.ok();
    if !waiting {
        return Err("the run never waited for the held log row".to_owned());
    }
    server.kill();
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut lock)
        .await
        .map_err(|e| e.to_string())?;
    lock.close().await.ok();
    let outcome = publishing.await.map_err(|e| e.to_string())?;

    let (server, _) = service.start()?;
    let api = Api::new(&server);
    let (stage, _) = content(&api, &project, "stage").await?;
    let log = api
        .rows(&format!(
            "/rest/v1/publish_events?projectId=eq.{project}&select=status"
        ))
        .await?;
    server.terminate();
    if !stage.is_empty() {
        return Err(format!(
            "stage holds {} copies of a run whose success was never committed (the client saw {outcome:?}, the log reads {log:?})",
            stage.len()
        ));
    }
    if log.iter().any(|row| row["status"] == "success") {
        return Err(format!(
            "the run is logged success, but stage holds no copy (the client saw {outcome:?}, the log reads {log:?})"
        ));
    }
    Ok(())
}

/// Calls `probe` every few milliseconds until it finds something (ten seconds at most).
async fn poll<T, F, Fut>(mut probe: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, String>>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if let Some(found) = probe().await? {
            return Ok(found);
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    Err("gave up waiting after ten seconds".into())
}
