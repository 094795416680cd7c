//! Access matrices: who may read, create, update and delete which rows of an app's models,
//! written once as the table of the app's README and run cell by cell through HTTP.
//!
//! A matrix has one section per group of models that share their rules; each section has a
//! row per kind of caller (`Who`: anonymous, a signed-in user, a member of some level, a
//! permission holder, ...) and a cell per operation. A cell is either `Denied` (the request
//! is refused: 401 for anonymous callers, 403 for signed-in ones) or a `Phrase`: the words
//! the README shows and the predicate saying which of the world's rows they mean for one
//! caller. The app's test file builds a world (callers and labelled rows, through the
//! service key) and the checks below compare what each caller gets with what the phrase
//! says, for every caller of every row of every section:
//!
//! - read: `GET` answers exactly the rows the phrase holds for;
//! - update: a `PATCH` of every row changes exactly those rows;
//! - create: each candidate row the world offers is created (201) when the phrase holds for
//!   it and refused (403) otherwise;
//! - delete: of fresh candidate rows, a `DELETE` of all removes exactly those the phrase
//!   holds for.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::future::Future;

use reqwest::Method;
use serde_json::Value;
use tessera_schema::ir::Model;

use super::server::{enc, send, AppServer, Response};

/// What a cell of the README says about some rows, and which rows of the world it means for
/// one caller.
pub struct Phrase<L: 'static> {
    pub text: &'static str,
    pub holds: fn(caller: &str, row: &L) -> bool,
}

/// One operation for one kind of caller.
pub enum Cell<L: 'static> {
    /// Refused outright: 401 for anonymous callers, 403 for signed-in ones.
    Denied,
    /// Allowed on the rows the phrase holds for (possibly none of them).
    Rows(&'static Phrase<L>),
}

impl<L> Cell<L> {
    fn text(&self) -> &'static str {
        match self {
            Cell::Denied => "denied",
            Cell::Rows(phrase) => phrase.text,
        }
    }
}

impl<L> Clone for Cell<L> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<L> Copy for Cell<L> {}

/// A kind of caller, and the callers of the world that stand for it.
pub struct Who {
    pub name: &'static str,
    pub callers: &'static [&'static str],
}

/// The four cells of one kind of caller: read, create, update, delete.
pub struct Entry<L: 'static> {
    pub who: &'static str,
    pub cells: [Cell<L>; 4],
}

/// Models that share their rules, with a row per kind of caller.
pub struct Section<L: 'static> {
    pub models: &'static [&'static str],
    pub entries: Vec<Entry<L>>,
}

/// A section of `models` with one row of cells per kind of caller of `who`, in order.
pub fn section<L, const N: usize>(
    who: &[Who],
    models: &'static [&'static str],
    rows: [[Cell<L>; 4]; N],
) -> Section<L> {
    assert_eq!(who.len(), N, "a row per kind of caller");
    Section {
        models,
        entries: who
            .iter()
            .zip(rows)
            .map(|(who, cells)| Entry {
                who: who.name,
                cells,
            })
            .collect(),
    }
}

/// The whole table of an app.
pub struct Matrix<L: 'static> {
    pub who: &'static [Who],
    pub sections: Vec<Section<L>>,
}

const OPERATIONS: [&str; 4] = ["read", "create", "update", "delete"];

/// The marker lines around the generated table in a README.
pub const BEGIN: &str = "<!-- access table: generated from the app's tests; edit both together -->";
pub const END: &str = "<!-- end of access table -->";

impl<L> Matrix<L> {
    /// The table as the README shows it, between the marker lines.
    pub fn render(&self) -> String {
        let mut out = format!("{BEGIN}\n");
        for section in &self.sections {
            let models: Vec<String> = section.models.iter().map(|m| format!("`{m}`")).collect();
            out.push_str(&format!("\n{}\n\n", models.join(", ")));
            out.push_str("| who | read | create | update | delete |\n|---|---|---|---|---|\n");
            for entry in &section.entries {
                let cells: Vec<&str> = entry.cells.iter().map(Cell::text).collect();
                out.push_str(&format!("| {} | {} |\n", entry.who, cells.join(" | ")));
            }
        }
        out.push_str(&format!("\n{END}\n"));
        out
    }

    fn callers(&self, who: &str) -> &'static [&'static str] {
        self.who
            .iter()
            .find(|w| w.name == who)
            .unwrap_or_else(|| panic!("no kind of caller `{who}`"))
            .callers
    }

    /// Panics unless every model of `app` is in exactly one section and every section has
    /// one row per kind of caller, in order.
    pub fn assert_complete(&self, server: &AppServer) {
        let mut listed: Vec<&str> = self
            .sections
            .iter()
            .flat_map(|s| s.models.iter().copied())
            .collect();
        listed.sort();
        let mut models: Vec<&str> = server
            .schema
            .models
            .iter()
            .map(|m| m.name.as_str())
            .collect();
        models.sort();
        assert_eq!(listed, models, "the access table lists every model once");
        let who: Vec<&str> = self.who.iter().map(|w| w.name).collect();
        for section in &self.sections {
            let rows: Vec<&str> = section.entries.iter().map(|e| e.who).collect();
            assert_eq!(rows, who, "the rows of the section of {:?}", section.models);
        }
    }

    /// `(model, who, caller, cell)` for operation `op` (0 read .. 3 delete).
    fn cells(&self, op: usize) -> Vec<(&'static str, &'static str, &'static str, Cell<L>)> {
        let mut cells = Vec::new();
        for section in &self.sections {
            for model in section.models {
                for entry in &section.entries {
                    for caller in self.callers(entry.who) {
                        cells.push((*model, entry.who, *caller, entry.cells[op]));
                    }
                }
            }
        }
        cells
    }
}

/// Panics unless `readme` holds `matrix`'s table, printing the table to paste.
pub fn assert_readme_shows<L>(readme: &str, matrix: &Matrix<L>) {
    let table = matrix.render();
    assert!(
        readme.contains(&table),
        "the README's access table differs from the tested one; it should read:\n\n{table}"
    );
}

/// The accessors of a [`World`] that keeps its server in `server`, its callers' tokens in
/// `tokens` and its rows by model in `rows`; written inside the `impl World` block.
#[macro_export]
macro_rules! world_accessors {
    () => {
        fn server(&self) -> &AppServer {
            &self.server
        }

        fn token(&self, caller: &str) -> Option<String> {
            self.tokens.get(caller).cloned()
        }

        fn rows(&self, model: &str) -> Vec<(String, Self::Label)> {
            self.rows.get(model).cloned().unwrap_or_default()
        }
    };
}

/// The callers and rows of an app, as its test builds them.
pub trait World {
    type Label: Debug;

    fn server(&self) -> &AppServer;

    /// The access token of `caller`; `None` for anonymous callers.
    fn token(&self, caller: &str) -> Option<String>;

    /// Headers `caller` sends with every request besides their token (the tenant a
    /// request is for, say); none by default.
    fn headers(&self, _caller: &str) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    /// Every row of `model` (its key, see [`key_of`]) with its label.
    fn rows(&self, model: &str) -> Vec<(String, Self::Label)>;

    /// A change `caller` makes to every row of `model`, moving none of them out of anyone's
    /// reach.
    fn patch(&self, model: &str, caller: &str) -> Value;

    /// Rows `caller` may try to create in `model` (bodies, each made unique by `nonce`).
    fn creatable(
        &self,
        model: &str,
        caller: &str,
        nonce: usize,
    ) -> impl Future<Output = Vec<(Value, Self::Label)>>;

    /// Fresh rows of `model` for `caller` to try to delete, created with the service key;
    /// answers their keys. By default the rows of [`World::creatable`].
    fn deletable(
        &self,
        model: &str,
        caller: &str,
        nonce: usize,
    ) -> impl Future<Output = Vec<(String, Self::Label)>> {
        async move {
            let server = self.server();
            let schema_model = server.schema.model(model).expect("a model").clone();
            let mut rows = Vec::new();
            for (body, label) in self.creatable(model, caller, nonce).await {
                let row = server.create(model, body).await;
                rows.push((key_of(&schema_model, &row), label));
            }
            rows
        }
    }
}

/// A request of `caller`: their token (none for anonymous callers) and their headers.
fn request_of<W: World>(
    world: &W,
    caller: &str,
    method: Method,
    path: &str,
) -> reqwest::RequestBuilder {
    let token = world.token(caller);
    world.headers(caller).into_iter().fold(
        world.server().request_as(token.as_deref(), method, path),
        |request, (name, value)| request.header(name, value),
    )
}

/// The primary key of `row` as one string (values joined by `|`).
pub fn key_of(model: &Model, row: &Value) -> String {
    model
        .primary_key_fields()
        .map(|f| match &row[&f.column] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join("|")
}

fn select_key(model: &Model) -> String {
    model
        .primary_key_fields()
        .map(|f| f.column.clone())
        .collect::<Vec<_>>()
        .join(",")
}

/// A filter matching every row of `model`.
fn every_row(model: &Model) -> String {
    let first = model.primary_key_fields().next().expect("a key");
    format!("{}=not.is.null", first.column)
}

/// A filter matching the rows with these keys.
fn rows_with_keys(model: &Model, keys: &[String]) -> String {
    let fields: Vec<_> = model.primary_key_fields().collect();
    if fields.len() == 1 {
        let values: Vec<String> = keys.iter().map(|k| enc(k)).collect();
        return format!("{}=in.({})", fields[0].column, values.join(","));
    }
    let alternatives: Vec<String> = keys
        .iter()
        .map(|key| {
            let parts: Vec<String> = fields
                .iter()
                .zip(key.split('|'))
                .map(|(f, v)| format!("{}.eq.{}", f.column, enc(v)))
                .collect();
            format!("and({})", parts.join(","))
        })
        .collect();
    format!("or=({})", alternatives.join(","))
}

fn keys(model: &Model, response: &Response) -> BTreeSet<String> {
    response.rows().iter().map(|r| key_of(model, r)).collect()
}

fn denied_status(token: &Option<String>) -> u16 {
    if token.is_some() {
        403
    } else {
        401
    }
}

/// What went wrong in one cell.
fn failure(op: &str, model: &str, who: &str, caller: &str, cell: &str, problem: String) -> String {
    format!("{op} {model} as {caller} ({who}: {cell}): {problem}")
}

/// Compares the rows a request reached with the rows the phrase holds for.
fn compare<L: Debug>(
    model: &Model,
    response: &Response,
    candidates: &[(String, L)],
    expected: impl Fn(&L) -> bool,
) -> Option<String> {
    if response.status != 200 {
        return Some(format!("answered {} {}", response.status, response.body));
    }
    let got = keys(model, response);
    let want: BTreeSet<String> = candidates
        .iter()
        .filter(|(_, label)| expected(label))
        .map(|(key, _)| key.clone())
        .collect();
    if got == want {
        return None;
    }
    let describe = |set: &BTreeSet<String>| -> Vec<String> {
        set.iter()
            .map(|k| match candidates.iter().find(|(key, _)| key == k) {
                Some((_, label)) => format!("{label:?}"),
                None => format!("unknown row {k}"),
            })
            .collect()
    };
    let missing: BTreeSet<String> = want.difference(&got).cloned().collect();
    let extra: BTreeSet<String> = got.difference(&want).cloned().collect();
    Some(format!(
        "missing {:?}, unexpected {:?}",
        describe(&missing),
        describe(&extra)
    ))
}

/// Runs every read cell; answers the failures.
pub async fn check_reads<W: World>(world: &W, matrix: &Matrix<W::Label>) -> Vec<String> {
    let server = world.server();
    let mut failures = Vec::new();
    for (model_name, who, caller, cell) in matrix.cells(0) {
        let model = server.schema.model(model_name).expect("a model");
        let token = world.token(caller);
        let path = format!("/rest/v1/{model_name}?select={}", select_key(model));
        let response = send(request_of(world, caller, Method::GET, &path)).await;
        let problem = match cell {
            Cell::Denied => (response.status != denied_status(&token))
                .then(|| format!("answered {} {}", response.status, response.body)),
            Cell::Rows(phrase) => compare(model, &response, &world.rows(model_name), |l| {
                (phrase.holds)(caller, l)
            }),
        };
        if let Some(problem) = problem {
            failures.push(failure(
                "read",
                model_name,
                who,
                caller,
                cell.text(),
                problem,
            ));
        }
    }
    failures
}

/// Runs every update cell; answers the failures.
pub async fn check_updates<W: World>(world: &W, matrix: &Matrix<W::Label>) -> Vec<String> {
    let server = world.server();
    let mut failures = Vec::new();
    for (model_name, who, caller, cell) in matrix.cells(2) {
        let model = server.schema.model(model_name).expect("a model");
        let token = world.token(caller);
        let path = format!("/rest/v1/{model_name}?{}", every_row(model));
        let response = send(
            request_of(world, caller, Method::PATCH, &path).json(&world.patch(model_name, caller)),
        )
        .await;
        let problem = match cell {
            Cell::Denied => (response.status != denied_status(&token))
                .then(|| format!("answered {} {}", response.status, response.body)),
            Cell::Rows(phrase) => compare(model, &response, &world.rows(model_name), |l| {
                (phrase.holds)(caller, l)
            }),
        };
        if let Some(problem) = problem {
            failures.push(failure(
                "update",
                model_name,
                who,
                caller,
                cell.text(),
                problem,
            ));
        }
    }
    failures
}

/// Runs every create cell; answers the failures. Rows created are deleted again with the
/// service key, so that unique constraints leave room for the next caller.
pub async fn check_creates<W: World>(world: &W, matrix: &Matrix<W::Label>) -> Vec<String> {
    let server = world.server();
    let mut failures = Vec::new();
    for (nonce, (model_name, who, caller, cell)) in matrix.cells(1).into_iter().enumerate() {
        let model = server.schema.model(model_name).expect("a model");
        let token = world.token(caller);
        // Valid rows, so that a refusal is about who asks, not about the body.
        let candidates = world.creatable(model_name, caller, nonce).await;
        if candidates.is_empty() {
            failures.push(failure(
                "create",
                model_name,
                who,
                caller,
                cell.text(),
                "the world offers no row to create".into(),
            ));
        }
        for (body, label) in candidates {
            let response = send(
                request_of(
                    world,
                    caller,
                    Method::POST,
                    &format!("/rest/v1/{model_name}"),
                )
                .json(&body),
            )
            .await;
            let allowed = match &cell {
                Cell::Rows(phrase) => (phrase.holds)(caller, &label),
                Cell::Denied => false,
            };
            let expected = match (allowed, &cell) {
                (true, _) => 201,
                (false, Cell::Denied) => denied_status(&token),
                (false, Cell::Rows(_)) => 403,
            };
            if response.status == 201 {
                let key = key_of(model, response.row());
                server
                    .delete(&format!(
                        "/rest/v1/{model_name}?{}",
                        rows_with_keys(model, &[key])
                    ))
                    .await
                    .expect(200, "the service removes a created row");
            }
            if response.status != expected {
                failures.push(failure(
                    "create",
                    model_name,
                    who,
                    caller,
                    cell.text(),
                    format!(
                        "{label:?}: expected {expected}, answered {} {}",
                        response.status, response.body
                    ),
                ));
            }
        }
    }
    failures
}

/// Runs every delete cell on fresh rows; answers the failures.
pub async fn check_deletes<W: World>(world: &W, matrix: &Matrix<W::Label>) -> Vec<String> {
    let server = world.server();
    let mut failures = Vec::new();
    for (nonce, (model_name, who, caller, cell)) in matrix.cells(3).into_iter().enumerate() {
        let model = server.schema.model(model_name).expect("a model");
        let token = world.token(caller);
        let problem = match cell {
            Cell::Denied => {
                let path = format!("/rest/v1/{model_name}?{}", every_row(model));
                let response = send(request_of(world, caller, Method::DELETE, &path)).await;
                (response.status != denied_status(&token))
                    .then(|| format!("answered {} {}", response.status, response.body))
            }
            Cell::Rows(phrase) => {
                let candidates = world.deletable(model_name, caller, nonce).await;
                if candidates.is_empty() {
                    Some("the world offers no row to delete".to_string())
                } else {
                    let keys: Vec<String> = candidates.iter().map(|(k, _)| k.clone()).collect();
                    let path = format!("/rest/v1/{model_name}?{}", rows_with_keys(model, &keys));
                    let response = send(request_of(world, caller, Method::DELETE, &path)).await;
                    // What the caller left goes too, so that the next caller's fresh rows
                    // find their unique values free.
                    server
                        .delete(&path)
                        .await
                        .expect(200, "the service removes the rest");
                    compare(model, &response, &candidates, |l| (phrase.holds)(caller, l))
                }
            }
        };
        if let Some(problem) = problem {
            failures.push(failure(
                "delete",
                model_name,
                who,
                caller,
                cell.text(),
                problem,
            ));
        }
    }
    failures
}

/// Panics listing `failures`, if there are any.
#[track_caller]
pub fn assert_none(failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} cells do not hold:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
