//! Inserts (single rows or arrays) and updates, on a schema of the suite's own.

use std::collections::HashMap;
use std::path::Path;

use reqwest::Method;
use serde_json::{json, Value as Json};

use crate::harness::{progress, Api, Figures, Outcome, Rng, Service, Workload};

/// Entries are inserted (one per request or in arrays); counters are updated in groups.
const SCHEMA: &str = "model entries {
  @@unique([trial, client, seq])
  trial   int
  client  int
  seq     int
  batch   int?
  label   text
  data    json?
}

model counters {
  trial    int
  grp      int
  version  int   = 0
  label    text  = \"v0\"
  total    int   = 0
}
";

const ENTRY_FIELDS: &str = "trial,client,seq,batch,label,data";

fn writes_service(dir: &Path, database_url: &str) -> Service {
    Service::schema(dir, "schema.tsr", SCHEMA, database_url)
}

/// An entry exactly as a client sends it (text that needs escaping, nested JSON).
fn entry(trial: usize, client: usize, seq: u64, batch: Option<u64>) -> Json {
    json!({
        "trial": trial,
        "client": client,
        "seq": seq,
        "batch": batch,
        "label": format!("entry {trial}/{client}/{seq}: «ünïcödé», \"quoted\", back\\slash"),
        "data": { "seq": seq, "tags": ["crash", format!("client {client}")], "nested": { "odd": seq % 2 == 1 } },
    })
}

/// The key of an entry: (client, seq).
fn entry_key(row: &Json) -> (u64, u64) {
    (
        row["client"].as_u64().unwrap_or(u64::MAX),
        row["seq"].as_u64().unwrap_or(u64::MAX),
    )
}

/// Inserts: each request one row, or (bulk) an array of 5 to 40 rows in one transaction.
#[derive(Clone)]
pub struct Inserts {
    bulk: bool,
}

impl Inserts {
    pub fn single() -> Inserts {
        Inserts { bulk: false }
    }

    pub fn bulk() -> Inserts {
        Inserts { bulk: true }
    }
}

/// One insert request: its rows and what became of it.
pub struct Insert {
    rows: Vec<Json>,
    outcome: Outcome,
}

impl Workload for Inserts {
    type Setup = ();
    type Write = Insert;

    fn name(&self) -> &'static str {
        if self.bulk {
            "bulk insert"
        } else {
            "insert"
        }
    }

    fn clients(&self) -> usize {
        if self.bulk {
            2
        } else {
            4
        }
    }

    fn service(&self, dir: &Path, database_url: &str) -> Service {
        writes_service(dir, database_url)
    }

    async fn prepare(&self, _: &Api, _: usize) -> Result<(), String> {
        Ok(())
    }

    async fn client(self, api: Api, _: (), trial: usize, client: usize, seed: u64) -> Vec<Insert> {
        let mut rng = Rng::new(seed);
        let mut writes = Vec::new();
        for request in 0u64.. {
            let (rows, body) = if self.bulk {
                let rows: Vec<Json> = (0..rng.between(5, 40))
                    .map(|i| entry(trial, client, request * 1000 + i, Some(request)))
                    .collect();
                let body = Json::Array(rows.clone());
                (rows, body)
            } else {
                let row = entry(trial, client, request, None);
                (vec![row.clone()], row)
            };
            let outcome = api.write(Method::POST, "/rest/v1/entries", &body).await;
            writes.push(Insert { rows, outcome });
            if !outcome.acknowledged() {
                break;
            }
        }
        writes
    }

    async fn verify(
        &self,
        api: &Api,
        trial: usize,
        _: &(),
        writes: Vec<Insert>,
        figures: &mut Figures,
    ) {
        let stored = match api
            .rows(&format!(
                "/rest/v1/entries?trial=eq.{trial}&select={ENTRY_FIELDS}"
            ))
            .await
        {
            Ok(rows) => rows,
            Err(error) => return figures.broken(trial, error),
        };
        let mut stored: HashMap<(u64, u64), Json> = stored
            .into_iter()
            .map(|row| (entry_key(&row), row))
            .collect();
        for write in writes {
            let what = format!(
                "insert of {} row(s) from {:?} on",
                write.rows.len(),
                entry_key(&write.rows[0])
            );
            figures.saw(trial, &what, write.outcome);
            let found: Vec<Option<Json>> = write
                .rows
                .iter()
                .map(|row| stored.remove(&entry_key(row)))
                .collect();
            let present = found.iter().filter(|f| f.is_some()).count();
            if present == 0 {
                if write.outcome.acknowledged() {
                    figures.lost(trial, format!("acknowledged {what} is missing"));
                }
                continue;
            }
            if present < write.rows.len() {
                figures.half_applied(
                    trial,
                    format!("{what}: {present} of {} rows are there", write.rows.len()),
                );
            }
            if !write.outcome.may_be_there() {
                figures.broken(
                    trial,
                    format!("{what} never reached the server but is there"),
                );
            }
            for (sent, found) in write.rows.iter().zip(found) {
                match found {
                    Some(found) if &found != sent => {
                        let problem = format!("row {found} was written as {sent}");
                        if write.outcome.acknowledged() {
                            figures.lost(trial, problem);
                        } else {
                            figures.broken(trial, problem);
                        }
                    }
                    _ => {}
                }
            }
        }
        for row in stored.into_values() {
            figures.broken(trial, format!("row {row} was never sent"));
        }
    }

    async fn probe(&self, api: &Api, trial: usize) -> Result<(), String> {
        probe_entries(api, trial).await
    }
}

/// Inserts an entry on the restarted server and reads it back.
async fn probe_entries(api: &Api, trial: usize) -> Result<(), String> {
    let row = entry(trial, 9999, 0, None);
    api.create("/rest/v1/entries", &row).await?;
    let read = api
        .rows(&format!(
            "/rest/v1/entries?trial=eq.{trial}&client=eq.9999&select={ENTRY_FIELDS}"
        ))
        .await?;
    if read != [row] {
        return Err(format!("the probe entry reads back as {read:?}"));
    }
    Ok(())
}

/// Updates: each client sets a new version on its group of rows, one `PATCH` per
/// version, every field of every row of the group in one statement.
#[derive(Clone)]
pub struct Updates;

/// Rows per group.
const GROUP: usize = 4;

/// One update request: the version it sets on its client's group.
pub struct Update {
    client: usize,
    version: u64,
    outcome: Outcome,
}

/// The fields of a counter at `version`.
fn counter_at(version: u64) -> Json {
    json!({ "version": version, "label": format!("v{version}"), "total": version * GROUP as u64 })
}

impl Workload for Updates {
    type Setup = ();
    type Write = Update;

    fn name(&self) -> &'static str {
        "update"
    }

    fn clients(&self) -> usize {
        3
    }

    fn service(&self, dir: &Path, database_url: &str) -> Service {
        writes_service(dir, database_url)
    }

    async fn prepare(&self, api: &Api, trial: usize) -> Result<(), String> {
        let rows: Vec<Json> = (0..self.clients())
            .flat_map(|grp| (0..GROUP).map(move |_| json!({ "trial": trial, "grp": grp })))
            .collect();
        api.create("/rest/v1/counters", &Json::Array(rows))
            .await
            .map(drop)
    }

    async fn client(self, api: Api, _: (), trial: usize, client: usize, _: u64) -> Vec<Update> {
        let path = format!("/rest/v1/counters?trial=eq.{trial}&grp=eq.{client}");
        let mut writes = Vec::new();
        for version in 1.. {
            let outcome = api.write(Method::PATCH, &path, &counter_at(version)).await;
            writes.push(Update {
                client,
                version,
                outcome,
            });
            if !outcome.acknowledged() {
                break;
            }
        }
        writes
    }

    async fn verify(
        &self,
        api: &Api,
        trial: usize,
        _: &(),
        writes: Vec<Update>,
        figures: &mut Figures,
    ) {
        let stored = match api
            .rows(&format!(
                "/rest/v1/counters?trial=eq.{trial}&select=grp,version,label,total"
            ))
            .await
        {
            Ok(rows) => rows,
            Err(error) => return figures.broken(trial, error),
        };
        for client in 0..self.clients() {
            let mine: Vec<&Update> = writes.iter().filter(|w| w.client == client).collect();
            for write in &mine {
                figures.saw(
                    trial,
                    &format!("update to version {} of group {client}", write.version),
                    write.outcome,
                );
            }
            let (acknowledged, in_flight) = progress(mine.iter().map(|w| (w.version, w.outcome)));
            let rows: Vec<&Json> = stored
                .iter()
                .filter(|r| r["grp"].as_u64() == Some(client as u64))
                .collect();
            if rows.len() != GROUP {
                figures.broken(trial, format!("group {client} has {} rows", rows.len()));
                continue;
            }
            let versions: Vec<u64> = rows
                .iter()
                .map(|r| r["version"].as_u64().unwrap_or(u64::MAX))
                .collect();
            for row in &rows {
                let version = row["version"].as_u64().unwrap_or(u64::MAX);
                let mut expected = counter_at(version);
                expected["grp"] = json!(client);
                if **row != expected {
                    figures.half_applied(trial, format!("counter {row} is torn"));
                }
            }
            if versions.iter().any(|v| *v != versions[0]) {
                figures.half_applied(
                    trial,
                    format!("group {client} mixes versions {versions:?} of one update"),
                );
                continue;
            }
            figures.check_version(
                trial,
                &format!("group {client}"),
                versions[0],
                acknowledged,
                in_flight,
            );
        }
    }

    async fn probe(&self, api: &Api, trial: usize) -> Result<(), String> {
        probe_entries(api, trial).await
    }
}
