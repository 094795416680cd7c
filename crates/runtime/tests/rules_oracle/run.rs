//! One case: the generated world seeded into a fresh database, then every operation run
//! twice — by the engine, and by the oracle over its own copy of the world — and the two
//! compared: the status, every row a read answers (inside its embeds too), the count, the
//! rows a write answers, and after every write the whole database as the service sees it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{json, Map, Value as Json};
use tessera_runtime::{
    parse_read, parse_write_query, Caller as EngineCaller, DeleteRequest, Deleted, Engine,
    ErrorKind, InsertRequest, RuntimeError, UpdateRequest,
};
use tessera_testkit::Database;

use super::gen::{CallerSpec, Draft, HeaderSpec, Step, Target, WorldSpec};
use super::world::{
    Admit, Caller, Feedback, Header, Level, Link, Model, Op, Page, Permission, Project,
    ProjectMember, Refusal, Role, Row, Rules, Tenant, TenantMember, TenantRole, Truth, User, Who,
    World,
};

pub const SCHEMA: &str = include_str!("schema.tsr");

/// A bcrypt hash, stored as it is by `@hash(bcrypt)`: no account signs in here.
const PASSWORD: &str = "$2b$04$abcdefghijklmnopqrstuuN1D5VvYdWdSYC4C7z0vXj3rxEnRFyUS";
const NAMES: [&str; 4] = ["alpha", "beta", "gamma", "delta"];
const TITLES: [&str; 4] = ["intro", "tour", "faq", "draft"];
/// Boards, with look-alikes of the open ones that the rule does not name.
const BOARDS: [&str; 5] = ["public", "ideas", "Public", "IDEAS", "internal"];
const TOPICS: [&str; 4] = ["billing", "Billing", "ui", "speed"];
/// A well-formed id that names no row.
const NOBODY: &str = "00000000-0000-4000-8000-000000000000";

/// Figures of a run, over all its cases.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub cases: u64,
    pub operations: u64,
    pub reads: u64,
    pub counts: u64,
    pub embeds: u64,
    pub inserts: u64,
    pub bulk_inserts: u64,
    pub updates: u64,
    pub moves: u64,
    pub deletes: u64,
    pub refused_401: u64,
    pub refused_403: u64,
    pub refused_422: u64,
    /// Rows compared: answered by reads and writes, and held by the database after writes.
    pub rows_compared: u64,
    /// Reads by other callers than the service that showed rows.
    pub granted_reads: u64,
    /// Writes by other callers than the service that wrote rows.
    pub granted_writes: u64,
    pub disagreements: u64,
    pub leaks: u64,
}

/// The engine and the oracle disagree.
#[derive(Debug)]
pub struct Disagreement {
    /// The engine showed or wrote more than the rules grant.
    pub leak: bool,
    pub message: String,
}

/// What an operation comes to: rows (and a count), or a refusal.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Rows(Vec<Json>, Option<u64>),
    Refused(Status),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Unauthorized,
    Forbidden,
    Unprocessable,
}

impl From<Refusal> for Status {
    fn from(r: Refusal) -> Status {
        match r {
            Refusal::Unauthorized => Status::Unauthorized,
            Refusal::Forbidden => Status::Forbidden,
        }
    }
}

/// A filter of a query, as the URL writes it and as the oracle evaluates it (with SQL's
/// truth values: a comparison with null is unknown).
#[derive(Debug, Clone)]
enum Filter {
    Eq(&'static str, Json),
    Lte(&'static str, i64),
    Gte(&'static str, i64),
    Is(&'static str, Json),
    In(&'static str, Vec<Json>),
    Not(Box<Filter>),
    Or(Vec<Filter>),
}

fn text(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Filter {
    fn eval(&self, row: &Map<String, Json>) -> Truth {
        let get = |f: &str| row.get(f).unwrap_or(&Json::Null);
        match self {
            Filter::Eq(f, v) => match get(f) {
                Json::Null => Truth::Unknown,
                x => Truth::of(x == v),
            },
            Filter::Lte(f, n) => get(f)
                .as_i64()
                .map_or(Truth::Unknown, |x| Truth::of(x <= *n)),
            Filter::Gte(f, n) => get(f)
                .as_i64()
                .map_or(Truth::Unknown, |x| Truth::of(x >= *n)),
            Filter::Is(f, v) => Truth::of(get(f) == v),
            Filter::In(f, vs) => match get(f) {
                Json::Null => Truth::Unknown,
                x => Truth::of(vs.contains(x)),
            },
            Filter::Not(inner) => !inner.eval(row),
            Filter::Or(list) => list.iter().fold(Truth::False, |t, f| t | f.eval(row)),
        }
    }

    /// The field and the `op.value` of `field=op.value`.
    fn operator(&self) -> (&'static str, String) {
        match self {
            Filter::Eq(f, v) => (f, format!("eq.{}", text(v))),
            Filter::Lte(f, n) => (f, format!("lte.{n}")),
            Filter::Gte(f, n) => (f, format!("gte.{n}")),
            Filter::Is(f, v) => (f, format!("is.{}", text(v))),
            Filter::In(f, vs) => (
                f,
                format!("in.({})", vs.iter().map(text).collect::<Vec<_>>().join(",")),
            ),
            Filter::Not(inner) => {
                let (f, op) = inner.operator();
                (f, format!("not.{op}"))
            }
            Filter::Or(_) => panic!("or is not a field's operator"),
        }
    }

    /// The filter as a query-string pair.
    fn pair(&self) -> (String, String) {
        match self {
            Filter::Or(list) => {
                let items: Vec<String> = list
                    .iter()
                    .map(|f| {
                        let (field, op) = f.operator();
                        format!("{field}.{op}")
                    })
                    .collect();
                ("or".into(), format!("({})", items.join(",")))
            }
            other => {
                let (field, op) = other.operator();
                (field.into(), op)
            }
        }
    }
}

/// An embedded relation of a read, with what it embeds in turn; `!inner` keeps only the
/// parents with an embedded row the caller may read.
#[derive(Debug, Clone)]
struct Embed {
    relation: &'static str,
    inner: bool,
    nested: Vec<Embed>,
}

fn embed(relation: &'static str, nested: Vec<Embed>) -> Embed {
    Embed {
        relation,
        inner: false,
        nested,
    }
}

fn inner(relation: &'static str, nested: Vec<Embed>) -> Embed {
    Embed {
        relation,
        inner: true,
        nested,
    }
}

fn select(embeds: &[Embed]) -> String {
    let mut s = "*".to_owned();
    for e in embeds {
        let hint = if e.inner { "!inner" } else { "" };
        let _ = write!(s, ",{}{hint}({})", e.relation, select(&e.nested));
    }
    s
}

/// The embeds a read of `model` may ask for; `pick` chooses one set (or none).
fn embeds_of(model: Model, pick: u8) -> Vec<Embed> {
    let options: Vec<Vec<Embed>> = match model {
        Model::Users => vec![vec![], vec![embed("memberships", vec![])]],
        Model::Tenants => vec![
            vec![],
            vec![embed("members", vec![])],
            vec![embed("projects", vec![])],
            vec![embed("projects", vec![embed("pages", vec![])])],
        ],
        Model::TenantMembers => vec![
            vec![],
            vec![embed("tenant", vec![])],
            vec![embed("user", vec![])],
            vec![embed("tenant", vec![]), embed("user", vec![])],
            vec![inner("user", vec![])],
        ],
        Model::Projects => vec![
            vec![],
            vec![embed("pages", vec![])],
            vec![embed("members", vec![])],
            vec![embed("tenant", vec![])],
            vec![embed("pages", vec![]), embed("members", vec![])],
            vec![embed("members", vec![embed("user", vec![])])],
            vec![inner("pages", vec![])],
            vec![inner("members", vec![]), embed("tenant", vec![])],
        ],
        Model::ProjectMembers => vec![
            vec![],
            vec![embed("project", vec![])],
            vec![embed("user", vec![])],
            vec![embed("project", vec![embed("tenant", vec![])])],
        ],
        Model::Pages => vec![
            vec![],
            vec![embed("project", vec![])],
            vec![embed("lock", vec![])],
            vec![embed("project", vec![embed("members", vec![])])],
            vec![inner("project", vec![])],
        ],
        Model::Feedback => vec![vec![], vec![embed("tenant", vec![])]],
    };
    let n = options.len();
    options
        .into_iter()
        .nth(usize::from(pick) % n)
        .unwrap_or_default()
}

/// The id of the row of `model` at `pick` (wrapping), or an id that names no row.
fn id_at(w: &World, model: Model, pick: usize) -> Json {
    match w.len(model) {
        0 => json!(NOBODY),
        n => json!(w.id(model, pick % n)),
    }
}

/// The filter of a read of `model`: none for half the reads, else one `pick` chooses.
fn read_filter(w: &World, model: Model, pick: u8, arg: usize) -> Option<Filter> {
    use Filter::{Eq, Gte, In, Is, Lte, Not, Or};
    let user = id_at(w, Model::Users, arg);
    let tenant = id_at(w, Model::Tenants, arg);
    let options: Vec<Filter> = match model {
        Model::Users => vec![Eq("id", user), Is("staff", json!(true))],
        Model::Tenants => vec![
            Eq("id", tenant),
            Eq("name", json!(format!("tenant-{}", arg % 4))),
        ],
        Model::TenantMembers => vec![
            Eq("role", json!("admin")),
            Eq("tenantId", tenant),
            Eq("userId", user.clone()),
            In("role", vec![json!("admin"), json!("guest")]),
            Or(vec![Eq("role", json!("guest")), Eq("userId", user)]),
        ],
        Model::Projects => vec![
            Is("private", json!(true)),
            Eq("private", json!(false)),
            Lte("tier", 1),
            Is("tier", Json::Null),
            Eq("tenantId", tenant),
            Or(vec![Eq("private", json!(false)), Gte("tier", 2)]),
            Is("showcase", json!(true)),
            Eq("id", id_at(w, Model::Projects, arg)),
            Eq("name", json!(NAMES[arg % NAMES.len()])),
        ],
        Model::ProjectMembers => vec![
            Eq("level", json!("owner")),
            In("level", vec![json!("owner"), json!("editor")]),
            Eq("projectId", id_at(w, Model::Projects, arg)),
            Eq("userId", user),
        ],
        Model::Pages => vec![
            Is("published", json!(true)),
            Is("approved", Json::Null),
            Not(Box::new(Is("approved", json!(true)))),
            Eq("projectId", id_at(w, Model::Projects, arg)),
            Not(Box::new(Is("lockId", Json::Null))),
            Eq("id", id_at(w, Model::Pages, arg)),
        ],
        Model::Feedback => vec![
            Eq("board", json!("public")),
            Is("topic", Json::Null),
            Eq("tenantId", tenant),
        ],
    };
    let pick = usize::from(pick);
    (pick % 2 == 1).then(|| options[(pick / 2) % options.len()].clone())
}

/// The rows a write touches: by id, by ids, by a field, or one of `granted`, the rows the
/// rules let the caller write (when there are some), so that writes within the rules are
/// tried as often as the others.
fn write_filter(w: &World, model: Model, t: &Target, granted: &[usize]) -> Filter {
    use Filter::{Eq, In, Is};
    match t.kind % 6 {
        4 | 5 if !granted.is_empty() => Eq("id", json!(w.id(model, granted[t.a % granted.len()]))),
        0 | 1 | 4 | 5 => Eq("id", id_at(w, model, t.a)),
        2 => In("id", vec![id_at(w, model, t.a), id_at(w, model, t.b)]),
        _ => {
            let options: Vec<Filter> = match model {
                Model::Projects => vec![
                    Is("private", json!(true)),
                    Eq("tenantId", id_at(w, Model::Tenants, t.a)),
                ],
                Model::Pages => vec![
                    Eq("projectId", id_at(w, Model::Projects, t.a)),
                    Is("published", json!(false)),
                ],
                Model::ProjectMembers => vec![
                    Eq("projectId", id_at(w, Model::Projects, t.a)),
                    Eq("level", json!("viewer")),
                ],
                Model::TenantMembers => vec![
                    Eq("tenantId", id_at(w, Model::Tenants, t.a)),
                    Eq("role", json!("guest")),
                ],
                Model::Feedback => vec![Eq("board", json!("public"))],
                Model::Users | Model::Tenants => unreachable!("not written"),
            };
            options[t.b % options.len()].clone()
        }
    }
}

/// The oracle's world and the engine, for one case.
struct Case<'a> {
    engine: &'a Engine,
    w: World,
    stats: &'a mut Stats,
    /// What ran so far, for the report of a disagreement.
    log: Vec<String>,
}

/// Runs one case on a fresh database: seeds the world, then runs every step on both sides.
pub async fn run_case(
    db: &Database,
    spec: &WorldSpec,
    steps: &[Step],
    stats: &mut Stats,
) -> Result<(), Disagreement> {
    let schema = match tessera_schema::check_source("rules_oracle.tsr", SCHEMA) {
        Ok(checked) => checked.schema,
        Err(diagnostics) => panic!("{diagnostics:?}"),
    };
    tessera_migrate::migrate_to(&schema, db.url(), &Default::default())
        .await
        .unwrap_or_else(|e| panic!("migrate: {e}"));
    let engine = Engine::connect(schema, db.url()).await.expect("connect");
    let pool = db.pool().await.expect("a pool");
    let mut case = Case {
        engine: &engine,
        w: World::default(),
        stats,
        log: Vec::new(),
    };
    case.seed(spec, &pool).await;
    pool.close().await;
    case.stats.cases += 1;
    let mut result = case.compare_state("the seeded world").await;
    for (n, step) in steps.iter().enumerate() {
        if result.is_err() {
            break;
        }
        case.stats.operations += 1;
        result = case.step(n, step).await;
    }
    engine.close().await;
    if let Err(d) = &result {
        stats.disagreements += 1;
        stats.leaks += u64::from(d.leak);
    }
    result
}

/// Inserts as the service (which builds the world); panics on failure.
async fn service_insert(engine: &Engine, model: &str, body: Json) -> Vec<Json> {
    engine
        .insert(
            &EngineCaller::service(),
            &InsertRequest {
                model: model.into(),
                body,
                ..InsertRequest::default()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("seeding {model}: {e:?}"))
}

/// Deletes as the service; panics on failure.
async fn service_delete(engine: &Engine, model: &str, ids: &[String]) {
    if ids.is_empty() {
        return;
    }
    let filter = parse_write_query(&[("id".to_owned(), format!("in.({})", ids.join(",")))])
        .expect("filter")
        .filter;
    engine
        .delete(
            &EngineCaller::service(),
            &DeleteRequest {
                model: model.into(),
                filter,
                ..DeleteRequest::default()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("seeding deletes of {model}: {e:?}"));
}

fn ids(rows: &[Json]) -> Vec<String> {
    rows.iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect()
}

/// A record of the oracle's world that is a row of the database once seeded.
trait Seeded {
    fn id(&self) -> &str;
    fn id_mut(&mut self) -> &mut String;
}

macro_rules! seeded {
    ($($record:ty),*) => {
        $(impl Seeded for $record {
            fn id(&self) -> &str {
                &self.id
            }
            fn id_mut(&mut self) -> &mut String {
                &mut self.id
            }
        })*
    };
}

seeded!(User, TenantMember, Project, ProjectMember, Page, Feedback);

/// Inserts one row per record with the service key (its body from `body`) and gives each
/// record the id of its row.
async fn store<R: Seeded>(
    engine: &Engine,
    model: &str,
    records: &mut [R],
    body: impl Fn(&R) -> Json,
) {
    if records.is_empty() {
        return;
    }
    let rows = service_insert(engine, model, records.iter().map(body).collect()).await;
    for (record, id) in records.iter_mut().zip(ids(&rows)) {
        *record.id_mut() = id;
    }
}

/// Moves the records for which `deleted` holds to the trash, with the service key.
async fn trash<R: Seeded>(
    engine: &Engine,
    model: &str,
    records: &[R],
    deleted: impl Fn(&R) -> bool,
) {
    let gone: Vec<String> = records
        .iter()
        .filter(|r| deleted(r))
        .map(|r| r.id().to_owned())
        .collect();
    service_delete(engine, model, &gone).await;
}

/// `UPDATE table SET "createdById" = ... WHERE id = ...`: actor columns are written by
/// the engine for the signed-in user only, so the world's creators are set through SQL.
async fn set_creator(pool: &tessera_testkit::Pool, table: &str, id: &str, user: &str) {
    let sql = format!("UPDATE \"{table}\" SET \"createdById\" = '{user}' WHERE \"id\" = '{id}'");
    pool.execute(&sql).await.expect("set a creator");
}

impl Case<'_> {
    /// Seeds the world through the engine as the service (the rows in the trash deleted
    /// through it too); the creators of projects and pages through SQL.
    async fn seed(&mut self, spec: &WorldSpec, pool: &tessera_testkit::Pool) {
        let engine = self.engine;
        let w = &mut self.w;
        let names = ["MANAGE_PROJECTS", "MANAGE_PAGES", "EXPORT"];
        let rows = service_insert(
            engine,
            "permissions",
            names.iter().map(|n| json!({ "name": n })).collect(),
        )
        .await;
        for (id, name) in ids(&rows).into_iter().zip(names) {
            w.permissions.push(Permission { id, name });
        }
        // Each role holds one permission.
        let roles = ["auditor", "editorial", "plain"];
        let rows = service_insert(
            engine,
            "roles",
            roles.iter().map(|n| json!({ "name": n })).collect(),
        )
        .await;
        for (i, (id, name)) in ids(&rows).into_iter().zip(roles).enumerate() {
            w.roles.push(Role {
                id,
                name,
                permissions: vec![i],
            });
        }
        let links: Vec<Json> = w
            .roles
            .iter()
            .flat_map(|r| {
                r.permissions
                    .iter()
                    .map(|&p| json!({"roleId": r.id, "permissionId": w.permissions[p].id}))
            })
            .collect();
        service_insert(engine, "rolePermissions", Json::Array(links)).await;

        let tenants: Vec<String> = (0..spec.tenants).map(|i| format!("tenant-{i}")).collect();
        let rows = service_insert(
            engine,
            "tenants",
            tenants.iter().map(|n| json!({ "name": n })).collect(),
        )
        .await;
        for (id, name) in ids(&rows).into_iter().zip(tenants) {
            w.tenants.push(Tenant { id, name });
        }
        let nt = w.tenants.len();

        for (i, &(staff, role, home)) in spec.users.iter().enumerate() {
            w.users.push(User {
                id: String::new(),
                email: format!("user{i}@example.test"),
                staff,
                role,
                home: home.map(|h| h % nt),
            });
        }
        store(engine, "users", &mut w.users, |u| {
            json!({
                "email": u.email, "password": PASSWORD, "staff": u.staff,
                "roleId": u.role.map(|r| w.roles[r].id.clone()),
                "homeId": u.home.map(|t| w.tenants[t].id.clone()),
            })
        })
        .await;
        let nu = w.users.len();

        for &(tenant, user, role, deleted) in &spec.tenant_members {
            w.tenant_members.push(TenantMember {
                id: String::new(),
                tenant: tenant % nt,
                user: user % nu,
                role: TenantRole::ALL[usize::from(role) % 3],
                deleted,
            });
        }
        store(engine, "tenant_members", &mut w.tenant_members, |m| {
            json!({"tenantId": w.tenants[m.tenant].id, "userId": w.users[m.user].id, "role": m.role.name()})
        })
        .await;
        trash(engine, "tenant_members", &w.tenant_members, |m| m.deleted).await;

        for p in &spec.projects {
            w.projects.push(Project {
                id: String::new(),
                name: NAMES[p.name % NAMES.len()].to_owned(),
                private: p.private,
                showcase: p.showcase,
                tier: p.tier.map(i64::from),
                tenant: p.tenant % nt,
                created_by: p.created_by.map(|u| u % nu),
                deleted: p.deleted,
            });
        }
        store(engine, "projects", &mut w.projects, |p| {
            json!({"name": p.name, "private": p.private, "showcase": p.showcase, "tier": p.tier, "tenantId": w.tenants[p.tenant].id})
        })
        .await;
        for p in &w.projects {
            if let Some(u) = p.created_by {
                set_creator(pool, "projects", &p.id, &w.users[u].id).await;
            }
        }
        trash(engine, "projects", &w.projects, |p| p.deleted).await;
        let np = w.projects.len();

        for &(project, user, level, deleted) in &spec.project_members {
            w.project_members.push(ProjectMember {
                id: String::new(),
                project: project % np,
                user: user % nu,
                level: Level::ALL[usize::from(level) % 3],
                // The members of a project in the trash are in it too.
                deleted: deleted || w.projects[project % np].deleted,
            });
        }
        store(engine, "project_members", &mut w.project_members, |m| {
            json!({"projectId": w.projects[m.project].id, "userId": w.users[m.user].id, "level": m.level.name()})
        })
        .await;
        trash(engine, "project_members", &w.project_members, |m| m.deleted).await;

        for g in &spec.pages {
            w.pages.push(Page {
                id: String::new(),
                title: TITLES[g.title % TITLES.len()].to_owned(),
                published: g.published,
                approved: g.approved,
                lock: g.lock.map(|u| u % nu),
                project: g.project % np,
                created_by: g.created_by.map(|u| u % nu),
                deleted: g.deleted || w.projects[g.project % np].deleted,
            });
        }
        store(engine, "pages", &mut w.pages, |g| {
            json!({"title": g.title, "published": g.published, "approved": g.approved,
                "lockId": g.lock.map(|u| w.users[u].id.clone()), "projectId": w.projects[g.project].id})
        })
        .await;
        for g in &w.pages {
            if let Some(u) = g.created_by {
                set_creator(pool, "pages", &g.id, &w.users[u].id).await;
            }
        }
        trash(engine, "pages", &w.pages, |g| g.deleted).await;

        for &(board, topic, tenant) in &spec.feedback {
            w.feedback.push(Feedback {
                id: String::new(),
                board: BOARDS[board % BOARDS.len()].to_owned(),
                topic: topic.map(|t| TOPICS[t % TOPICS.len()].to_owned()),
                body: "seeded".to_owned(),
                tenant: tenant % nt,
                removed: false,
            });
        }
        store(engine, "feedback", &mut w.feedback, |f| {
            json!({"board": f.board, "topic": f.topic, "body": f.body, "tenantId": w.tenants[f.tenant].id})
        })
        .await;
    }

    /// The caller of a step, for the oracle and for the engine, and in words.
    fn caller(&self, spec: &CallerSpec) -> (Caller, EngineCaller, String) {
        let header = |h: &HeaderSpec| match h {
            HeaderSpec::None => Header::None,
            HeaderSpec::Tenant(t) => Header::Tenant(t % self.w.tenants.len()),
            HeaderSpec::Own(t) => {
                let own = match spec {
                    CallerSpec::User(u, _) => self.tenants_of(u % self.w.users.len()),
                    _ => Vec::new(),
                };
                match own.len() {
                    0 => Header::Tenant(t % self.w.tenants.len()),
                    n => Header::Tenant(own[t % n]),
                }
            }
            HeaderSpec::Garbage => Header::Garbage,
        };
        let (who, header) = match spec {
            CallerSpec::Service => (Who::Service, Header::None),
            CallerSpec::Anonymous(h) => (Who::Anonymous, header(h)),
            CallerSpec::User(u, h) => (Who::User(u % self.w.users.len()), header(h)),
        };
        let base = match who {
            Who::Service => EngineCaller::service(),
            Who::Anonymous => EngineCaller::anonymous(),
            Who::User(u) => EngineCaller::user(self.w.users[u].id.clone()),
        };
        let (engine_caller, tenant) = match header {
            Header::None => (base, "no X-Tenant".to_owned()),
            Header::Tenant(t) => (
                base.in_tenant(self.w.tenants[t].id.clone()),
                format!(
                    "X-Tenant: {} ({})",
                    self.w.tenants[t].name, self.w.tenants[t].id
                ),
            ),
            Header::Garbage => (
                base.in_tenant("not-a-tenant"),
                "X-Tenant: not-a-tenant".to_owned(),
            ),
        };
        let who_text = match who {
            Who::Service => "the service".to_owned(),
            Who::Anonymous => "an anonymous caller".to_owned(),
            Who::User(u) => self.describe_user(u),
        };
        (
            Caller { who, header },
            engine_caller,
            format!("{who_text}, {tenant}"),
        )
    }

    /// The tenants a user is (or was) a member of, or of a project of.
    fn tenants_of(&self, u: usize) -> Vec<usize> {
        let w = &self.w;
        let mut tenants: Vec<usize> = w
            .tenant_members
            .iter()
            .filter(|m| m.user == u)
            .map(|m| m.tenant)
            .chain(
                self.projects_of(u)
                    .into_iter()
                    .map(|p| w.projects[p].tenant),
            )
            .collect();
        tenants.sort_unstable();
        tenants.dedup();
        tenants
    }

    /// The projects a user is (or was) a member of.
    fn projects_of(&self, u: usize) -> Vec<usize> {
        let mut projects: Vec<usize> = self
            .w
            .project_members
            .iter()
            .filter(|m| m.user == u)
            .map(|m| m.project)
            .collect();
        projects.dedup();
        projects
    }

    /// The rows of `model` the rules let the caller `op` (live ones).
    fn granted(&self, rules: &Rules, model: Model, op: Op) -> Vec<usize> {
        let admit = rules.admit(model, op);
        (0..self.w.len(model))
            .filter(|&i| self.w.live(model, i))
            .filter(|&i| match admit {
                Admit::All => true,
                Admit::Rows => rules.allows(op, i, &self.w.row(model, i)).holds(),
                Admit::Refused(_) => false,
            })
            .collect()
    }

    /// A user with what gives them rights: staff, role, home and memberships.
    fn describe_user(&self, u: usize) -> String {
        let w = &self.w;
        let user = &w.users[u];
        let trash = |deleted: bool| if deleted { " (removed)" } else { "" };
        let tenants: Vec<String> = w
            .tenant_members
            .iter()
            .filter(|m| m.user == u)
            .map(|m| {
                format!(
                    "{} of {}{}",
                    m.role.name(),
                    w.tenants[m.tenant].name,
                    trash(m.deleted)
                )
            })
            .collect();
        let projects: Vec<String> = w
            .project_members
            .iter()
            .filter(|m| m.user == u)
            .map(|m| {
                format!(
                    "{} of project {}{}",
                    m.level.name(),
                    w.projects[m.project].id,
                    trash(m.deleted)
                )
            })
            .collect();
        format!(
            "user {} {} (staff: {}, role: {}, home: {}; tenants: [{}]; projects: [{}])",
            user.email,
            user.id,
            user.staff,
            user.role.map_or("none", |r| w.roles[r].name),
            user.home
                .map_or("none".to_owned(), |t| w.tenants[t].name.clone()),
            tenants.join(", "),
            projects.join(", ")
        )
    }

    fn disagree(&self, n: usize, what: &str, leak: bool, detail: String) -> Disagreement {
        let mut message = format!(
            "operation {n}: {what}\n{}{detail}\n",
            if leak { "LEAK: " } else { "" }
        );
        let _ = writeln!(message, "\nthe operations before it in this case:");
        for line in self.log.iter().rev().take(12).rev() {
            let _ = writeln!(message, "  {line}");
        }
        Disagreement { leak, message }
    }

    async fn step(&mut self, n: usize, step: &Step) -> Result<(), Disagreement> {
        match step {
            Step::Read {
                caller,
                model,
                filter,
                arg,
                embed,
                count,
                limit,
            } => {
                let read = ReadStep {
                    model: *model,
                    filter: *filter,
                    arg: *arg,
                    embed: *embed,
                    count: *count,
                    limit: *limit,
                };
                self.read(n, caller, read).await
            }
            Step::Insert {
                caller,
                model,
                rows,
            } => self.insert(n, caller, *model, rows).await,
            Step::Update {
                caller,
                model,
                target,
                patch,
                fields,
            } => self.update(n, caller, *model, target, patch, *fields).await,
            Step::Delete {
                caller,
                model,
                target,
            } => self.delete(n, caller, *model, target).await,
        }
    }

    /// The row of `model` at `at` as the caller reads it with `embeds`: an embedded row
    /// the caller may not read is null (to-one) or left out (to-many).
    fn render(&self, rules: &Rules, model: Model, at: usize, embeds: &[Embed]) -> Json {
        let w = &self.w;
        let mut obj = w.json(&w.row(model, at));
        for e in embeds {
            let (target, link) = model.relation(e.relation);
            let value = match link {
                Link::ToOne(fk) => {
                    let wanted = obj.get(fk).cloned().unwrap_or(Json::Null);
                    (0..w.len(target))
                        .find(|&j| !wanted.is_null() && json!(w.id(target, j)) == wanted)
                        .filter(|&j| rules.reads(target, j))
                        .map_or(Json::Null, |j| self.render(rules, target, j, &e.nested))
                }
                Link::ToMany(fk) => {
                    let me = obj["id"].clone();
                    let mut children: Vec<usize> = (0..w.len(target))
                        .filter(|&j| w.exists(target, j))
                        .filter(|&j| w.json(&w.row(target, j)).get(fk) == Some(&me))
                        .filter(|&j| rules.reads(target, j))
                        .collect();
                    children.sort_by(|&a, &b| w.id(target, a).cmp(w.id(target, b)));
                    Json::Array(
                        children
                            .into_iter()
                            .map(|j| self.render(rules, target, j, &e.nested))
                            .collect(),
                    )
                }
            };
            obj.insert(e.relation.to_owned(), value);
        }
        Json::Object(obj)
    }

    /// Whether the row keeps its place under `!inner` embeds: each has a row the caller
    /// may read.
    fn has_inner(&self, rules: &Rules, model: Model, at: usize, embeds: &[Embed]) -> bool {
        embeds.iter().filter(|e| e.inner).all(|e| {
            match &self.render(rules, model, at, std::slice::from_ref(e))[e.relation] {
                Json::Null => false,
                Json::Array(items) => !items.is_empty(),
                _ => true,
            }
        })
    }

    /// The first refusal among the models a read reaches.
    fn read_refusal(rules: &Rules, model: Model, embeds: &[Embed]) -> Option<Refusal> {
        if let Admit::Refused(r) = rules.admit(model, Op::Read) {
            return Some(r);
        }
        embeds.iter().find_map(|e| {
            let (target, _) = model.relation(e.relation);
            Self::read_refusal(rules, target, &e.nested)
        })
    }

    async fn read(
        &mut self,
        n: usize,
        caller: &CallerSpec,
        step: ReadStep,
    ) -> Result<(), Disagreement> {
        let ReadStep {
            model,
            filter,
            arg,
            embed,
            count,
            limit,
        } = step;
        let (oracle_caller, engine_caller, who) = self.caller(caller);
        // One read in eight of a model with soft delete lists its trash: the rows the
        // caller may read and restore.
        let trash = model.soft_delete() && filter >= 224;
        let filter = read_filter(&self.w, model, filter, arg);
        let embeds = embeds_of(model, embed);
        let mut pairs = vec![("select".to_owned(), select(&embeds))];
        if trash {
            pairs.push(("_deleted".into(), "only".into()));
        }
        pairs.extend(filter.iter().map(Filter::pair));
        pairs.push(("order".into(), "id.asc".into()));
        if let Some(limit) = limit {
            pairs.push(("limit".into(), limit.to_string()));
        }
        let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let what = format!(
            "as {who}: GET /{}?{}{}",
            model.name(),
            query.join("&"),
            if count { " (Prefer: count=exact)" } else { "" }
        );
        self.stats.reads += 1;
        self.stats.counts += u64::from(count);
        self.stats.embeds += u64::from(!embeds.is_empty());

        let rules = Rules::new(&self.w, oracle_caller);
        let refusal = Self::read_refusal(&rules, model, &embeds).or(match trash {
            true => match rules.admit(model, Op::Update) {
                Admit::Refused(r) => Some(r),
                _ => None,
            },
            false => None,
        });
        let expected = match refusal {
            Some(r) => Outcome::Refused(r.into()),
            None => {
                let w = &self.w;
                let visible = |i: usize| match trash {
                    false => rules.reads(model, i),
                    true => {
                        let row = w.row(model, i);
                        let may = |op| match rules.admit(model, op) {
                            Admit::All => true,
                            Admit::Rows => rules.allows(op, i, &row).holds(),
                            Admit::Refused(_) => false,
                        };
                        w.exists(model, i) && !w.live(model, i) && may(Op::Read) && may(Op::Update)
                    }
                };
                let mut rows: Vec<usize> = (0..w.len(model))
                    .filter(|&i| visible(i))
                    .filter(|&i| self.has_inner(&rules, model, i, &embeds))
                    .filter(|&i| {
                        filter
                            .as_ref()
                            .is_none_or(|f| f.eval(&w.json(&w.row(model, i))).holds())
                    })
                    .collect();
                rows.sort_by(|&a, &b| w.id(model, a).cmp(w.id(model, b)));
                let total = rows.len() as u64;
                if let Some(limit) = limit {
                    rows.truncate(usize::from(limit));
                }
                Outcome::Rows(
                    rows.into_iter()
                        .map(|i| self.render(&rules, model, i, &embeds))
                        .collect(),
                    count.then_some(total),
                )
            }
        };
        let mut req = parse_read(model.name(), &pairs).expect("a read the grammar takes");
        req.count = count;
        let actual = match self.engine.read(&engine_caller, &req).await {
            Ok(result) => Outcome::Rows(
                result
                    .rows
                    .iter()
                    .map(|r| normalize(model, r, &embeds))
                    .collect(),
                result.total,
            ),
            Err(e) => self.refusal(n, &what, e)?,
        };
        self.count(&expected, oracle_caller, Op::Read);
        self.compare(n, &what, &expected, &actual)?;
        self.log.push(what);
        Ok(())
    }

    /// Counts an outcome: refusals by status, rows compared, and the reads and writes that
    /// reached rows for a caller other than the service.
    fn count(&mut self, outcome: &Outcome, caller: Caller, op: Op) {
        match outcome {
            Outcome::Refused(Status::Unauthorized) => self.stats.refused_401 += 1,
            Outcome::Refused(Status::Forbidden) => self.stats.refused_403 += 1,
            Outcome::Refused(Status::Unprocessable) => self.stats.refused_422 += 1,
            Outcome::Rows(rows, _) => {
                self.stats.rows_compared += rows.len() as u64;
                if !rows.is_empty() && caller.who != Who::Service {
                    match op {
                        Op::Read => self.stats.granted_reads += 1,
                        _ => self.stats.granted_writes += 1,
                    }
                }
            }
        }
    }

    /// An engine error as an outcome; an error no rule explains is a disagreement.
    fn refusal(&self, n: usize, what: &str, e: RuntimeError) -> Result<Outcome, Disagreement> {
        Ok(Outcome::Refused(match e.kind {
            ErrorKind::Unauthorized => Status::Unauthorized,
            ErrorKind::Forbidden => Status::Forbidden,
            ErrorKind::Validation => Status::Unprocessable,
            _ => return Err(self.disagree(n, what, false, format!("the engine failed: {e:?}"))),
        }))
    }

    fn compare(
        &self,
        n: usize,
        what: &str,
        expected: &Outcome,
        actual: &Outcome,
    ) -> Result<(), Disagreement> {
        if expected == actual {
            return Ok(());
        }
        let leak = match (expected, actual) {
            (Outcome::Refused(_), Outcome::Rows(..)) => true,
            (Outcome::Rows(e, _), Outcome::Rows(a, _)) => shows_more(a, e),
            _ => false,
        };
        Err(self.disagree(n, what, leak, format!("{}", Diff { expected, actual })))
    }

    /// Reads every written model as the service, trash included, and compares it with the
    /// oracle's world.
    async fn compare_state(&mut self, after: &str) -> Result<(), Disagreement> {
        for model in Model::WRITTEN {
            let mut req = parse_read(model.name(), &[("order".to_owned(), "id.asc".to_owned())])
                .expect("read");
            req.deleted = Deleted::Include;
            let rows = self
                .engine
                .read(&EngineCaller::service(), &req)
                .await
                .unwrap_or_else(|e| panic!("the service reads {}: {e:?}", model.name()));
            let actual: BTreeMap<String, Json> = rows
                .rows
                .iter()
                .map(|r| {
                    let mut v = normalize(model, r, &[]);
                    if model.soft_delete() {
                        v["deleted"] = json!(!r["deletedAt"].is_null());
                    }
                    (r["id"].as_str().unwrap_or_default().to_owned(), v)
                })
                .collect();
            let w = &self.w;
            let expected: BTreeMap<String, Json> = (0..w.len(model))
                .filter(|&i| w.exists(model, i))
                .map(|i| {
                    let mut v = Json::Object(w.json(&w.row(model, i)));
                    if model.soft_delete() {
                        v["deleted"] = json!(!w.live(model, i));
                    }
                    (w.id(model, i).to_owned(), v)
                })
                .collect();
            self.stats.rows_compared += expected.len() as u64;
            if actual != expected {
                let mut detail = format!("the {} table differs:\n", model.name());
                for (id, row) in &expected {
                    match actual.get(id) {
                        None => {
                            let _ = writeln!(detail, "  missing from the database: {row}");
                        }
                        Some(a) if a != row => {
                            let _ = writeln!(detail, "  oracle:   {row}\n  database: {a}");
                        }
                        _ => {}
                    }
                }
                for (id, row) in &actual {
                    if !expected.contains_key(id) {
                        let _ = writeln!(detail, "  only in the database: {row}");
                    }
                }
                let n = self.log.len();
                return Err(self.disagree(n, &format!("the database after {after}"), true, detail));
            }
        }
        Ok(())
    }

    /// One draft as a row of `model` written by the caller, and the body the client sends.
    /// A tenant left out for the engine to fill in is `usize::MAX` until the oracle does.
    fn draft_row(&self, model: Model, d: &Draft, caller: Caller) -> (Row, Map<String, Json>) {
        let w = &self.w;
        let (nt, nu, np) = (w.tenants.len(), w.users.len(), w.projects.len());
        let me = match caller.who {
            Who::User(u) => Some(u),
            _ => None,
        };
        // Someone: often the caller themself (their own membership, their own lock).
        let someone = |flag: bool| match me {
            Some(u) if flag => u,
            _ => d.b % nu,
        };
        // A tenant or a project of the caller's, for a draft `near` them.
        let near = |own: Vec<usize>, otherwise: usize| match own.len() {
            n if n > 0 && d.near => own[d.a % n],
            _ => otherwise,
        };
        let (my_tenants, my_projects) = match me {
            Some(u) => (self.tenants_of(u), self.projects_of(u)),
            None => (Vec::new(), Vec::new()),
        };
        let mut body = Map::new();
        let row = match model {
            Model::Projects => {
                let tenant = (!d.omit_tenant).then_some(near(my_tenants, d.a % nt));
                let p = Project {
                    id: String::new(),
                    name: NAMES[d.text % NAMES.len()].to_owned(),
                    private: d.flag.unwrap_or(true),
                    showcase: d.flag2.unwrap_or(false),
                    tier: d.maybe.flatten().map(i64::from),
                    tenant: tenant.unwrap_or(usize::MAX),
                    created_by: me,
                    deleted: false,
                };
                body.insert("name".into(), json!(p.name));
                if let Some(t) = tenant {
                    body.insert("tenantId".into(), json!(w.tenants[t].id));
                }
                if let Some(b) = d.flag {
                    body.insert("private".into(), json!(b));
                }
                if let Some(b) = d.flag2 {
                    body.insert("showcase".into(), json!(b));
                }
                if d.maybe.is_some() {
                    body.insert("tier".into(), json!(p.tier));
                }
                Row::Project(p)
            }
            Model::Pages => {
                let lock = match d.pick % 4 {
                    0 => Some(someone(true)),
                    1 => Some(d.b % nu),
                    _ => None,
                };
                let g = Page {
                    id: String::new(),
                    title: TITLES[d.text % TITLES.len()].to_owned(),
                    published: d.flag.unwrap_or(false),
                    approved: d.maybe.flatten().map(|x| x % 2 == 0),
                    lock,
                    project: near(my_projects, d.a % np),
                    created_by: me,
                    deleted: false,
                };
                body.insert("title".into(), json!(g.title));
                body.insert("projectId".into(), json!(w.projects[g.project].id));
                if let Some(b) = d.flag {
                    body.insert("published".into(), json!(b));
                }
                if d.maybe.is_some() {
                    body.insert("approved".into(), json!(g.approved));
                }
                if let Some(u) = lock {
                    body.insert("lockId".into(), json!(w.users[u].id));
                }
                Row::Page(g)
            }
            Model::ProjectMembers => {
                let m = ProjectMember {
                    id: String::new(),
                    project: near(my_projects, d.a % np),
                    user: someone(d.flag == Some(true)),
                    level: Level::ALL[usize::from(d.pick) % 3],
                    deleted: false,
                };
                body.insert("projectId".into(), json!(w.projects[m.project].id));
                body.insert("userId".into(), json!(w.users[m.user].id));
                body.insert("level".into(), json!(m.level.name()));
                Row::ProjectMember(m)
            }
            Model::TenantMembers => {
                let tenant = (!d.omit_tenant).then_some(near(my_tenants, d.a % nt));
                let m = TenantMember {
                    id: String::new(),
                    tenant: tenant.unwrap_or(usize::MAX),
                    user: someone(d.flag == Some(true)),
                    role: TenantRole::ALL[usize::from(d.pick) % 3],
                    deleted: false,
                };
                if let Some(t) = tenant {
                    body.insert("tenantId".into(), json!(w.tenants[t].id));
                }
                body.insert("userId".into(), json!(w.users[m.user].id));
                body.insert("role".into(), json!(m.role.name()));
                Row::TenantMember(m)
            }
            Model::Feedback => {
                let f = Feedback {
                    id: String::new(),
                    board: BOARDS[d.text % BOARDS.len()].to_owned(),
                    topic: d
                        .maybe
                        .flatten()
                        .map(|t| TOPICS[usize::from(t) % TOPICS.len()].to_owned()),
                    body: format!("note {}", d.b % 100),
                    tenant: near(my_tenants, d.a % nt),
                    removed: false,
                };
                body.insert("board".into(), json!(f.board));
                if d.maybe.is_some() {
                    body.insert("topic".into(), json!(f.topic));
                }
                body.insert("body".into(), json!(f.body));
                body.insert("tenantId".into(), json!(w.tenants[f.tenant].id));
                Row::Feedback(f)
            }
            Model::Users | Model::Tenants => unreachable!("not written"),
        };
        (row, body)
    }

    async fn insert(
        &mut self,
        n: usize,
        caller: &CallerSpec,
        model: Model,
        drafts: &[Draft],
    ) -> Result<(), Disagreement> {
        let (oracle_caller, engine_caller, who) = self.caller(caller);
        let (mut rows, bodies): (Vec<Row>, Vec<Map<String, Json>>) = drafts
            .iter()
            .map(|d| self.draft_row(model, d, oracle_caller))
            .unzip();
        let body = if bodies.len() == 1 {
            Json::Object(bodies[0].clone())
        } else {
            Json::Array(bodies.into_iter().map(Json::Object).collect())
        };
        let what = format!("as {who}: POST /{} {body}", model.name());
        self.stats.inserts += 1;
        self.stats.bulk_inserts += u64::from(drafts.len() > 1);

        let rules = Rules::new(&self.w, oracle_caller);
        let admit = rules.admit(model, Op::Create);
        let expected = match admit {
            Admit::Refused(r) => Outcome::Refused(r.into()),
            _ => {
                // A tenant left out is the one the request names where the caller's grant
                // requires it; otherwise it is missing.
                let mut missing = false;
                for row in &mut rows {
                    let tenant = match row {
                        Row::Project(p) => &mut p.tenant,
                        Row::TenantMember(m) => &mut m.tenant,
                        _ => continue,
                    };
                    if *tenant == usize::MAX {
                        match (admit, oracle_caller.header) {
                            (Admit::Rows, Header::Tenant(t)) => *tenant = t,
                            _ => missing = true,
                        }
                    }
                }
                // Each row is judged by the world as it stands, without the others.
                let base = self.w.len(model);
                if missing {
                    Outcome::Refused(Status::Unprocessable)
                } else if admit == Admit::Rows
                    && rows
                        .iter()
                        .enumerate()
                        .any(|(i, row)| !rules.allows(Op::Create, base + i, row).holds())
                {
                    Outcome::Refused(Status::Forbidden)
                } else {
                    Outcome::Rows(
                        rows.iter().map(|r| strip_id(self.w.json(r))).collect(),
                        None,
                    )
                }
            }
        };
        let result = self
            .engine
            .insert(
                &engine_caller,
                &InsertRequest {
                    model: model.name().into(),
                    body,
                    ..InsertRequest::default()
                },
            )
            .await;
        let (actual, new_ids) = match result {
            Ok(written) => (
                Outcome::Rows(
                    written
                        .iter()
                        .map(|r| match normalize(model, r, &[]) {
                            Json::Object(map) => strip_id(map),
                            other => other,
                        })
                        .collect(),
                    None,
                ),
                ids(&written),
            ),
            Err(e) => (self.refusal(n, &what, e)?, Vec::new()),
        };
        self.count(&expected, oracle_caller, Op::Create);
        self.compare(n, &what, &expected, &actual)?;
        if let Outcome::Rows(..) = expected {
            let base = self.w.len(model);
            for (i, (mut row, id)) in rows.into_iter().zip(new_ids).enumerate() {
                set_id(&mut row, id);
                self.w.put(base + i, row);
            }
        }
        self.log.push(what.clone());
        self.compare_state(&what).await
    }

    /// The patch of an update: the body, and how it changes a row. `fields` says which of
    /// the model's fields it sets (at least one).
    fn patch(
        &self,
        model: Model,
        d: &Draft,
        fields: u8,
        caller: Caller,
    ) -> (Map<String, Json>, impl Fn(&mut Row) + use<>) {
        let w = &self.w;
        let (nt, nu, np) = (w.tenants.len(), w.users.len(), w.projects.len());
        let me = match caller.who {
            Who::User(u) => Some(u),
            _ => None,
        };
        let count = match model {
            Model::Projects | Model::Pages => 5,
            _ => 3,
        };
        let mut set: Vec<bool> = (0..count).map(|i| fields & (1 << i) != 0).collect();
        if !set.iter().any(|b| *b) {
            set[0] = true;
        }
        let name = NAMES[d.text % NAMES.len()].to_owned();
        let title = TITLES[d.text % TITLES.len()].to_owned();
        let private = d.flag.unwrap_or(false);
        let showcase = d.flag2.unwrap_or(true);
        let published = d.flag.unwrap_or(true);
        let tier = d.maybe.flatten().map(i64::from);
        let approved = d.maybe.flatten().map(|x| x % 2 == 0);
        // Unlock, lock for oneself, or lock for someone.
        let lock = match d.pick % 3 {
            0 => None,
            1 => me.or(Some(d.b % nu)),
            _ => Some(d.b % nu),
        };
        let level = Level::ALL[usize::from(d.pick) % 3];
        let role = TenantRole::ALL[usize::from(d.pick) % 3];
        let board = BOARDS[d.text % BOARDS.len()].to_owned();
        let topic = d
            .maybe
            .flatten()
            .map(|t| TOPICS[usize::from(t) % TOPICS.len()].to_owned());
        let note = format!("edited {}", d.b % 100);
        let (tenant, user, project) = (d.a % nt, d.b % nu, d.a % np);
        let mut body = Map::new();
        let mut put = |on: bool, key: &str, value: Json| {
            if on {
                body.insert(key.to_owned(), value);
            }
        };
        match model {
            Model::Projects => {
                put(set[0], "name", json!(name));
                put(set[1], "private", json!(private));
                put(set[2], "showcase", json!(showcase));
                put(set[3], "tier", json!(tier));
                put(set[4], "tenantId", json!(w.tenants[tenant].id));
            }
            Model::Pages => {
                put(set[0], "title", json!(title));
                put(set[1], "published", json!(published));
                put(set[2], "approved", json!(approved));
                put(set[3], "lockId", json!(lock.map(|u| w.users[u].id.clone())));
                put(set[4], "projectId", json!(w.projects[project].id));
            }
            Model::ProjectMembers => {
                put(set[0], "level", json!(level.name()));
                put(set[1], "projectId", json!(w.projects[project].id));
                put(set[2], "userId", json!(w.users[user].id));
            }
            Model::TenantMembers => {
                put(set[0], "role", json!(role.name()));
                put(set[1], "tenantId", json!(w.tenants[tenant].id));
                put(set[2], "userId", json!(w.users[user].id));
            }
            Model::Feedback => {
                put(set[0], "body", json!(note));
                put(set[1], "board", json!(board));
                put(set[2], "topic", json!(topic));
            }
            Model::Users | Model::Tenants => unreachable!("not written"),
        }
        let apply = move |row: &mut Row| {
            let on = |i: usize| set[i];
            match row {
                Row::Project(p) => {
                    if on(0) {
                        p.name = name.clone();
                    }
                    if on(1) {
                        p.private = private;
                    }
                    if on(2) {
                        p.showcase = showcase;
                    }
                    if on(3) {
                        p.tier = tier;
                    }
                    if on(4) {
                        p.tenant = tenant;
                    }
                }
                Row::Page(g) => {
                    if on(0) {
                        g.title = title.clone();
                    }
                    if on(1) {
                        g.published = published;
                    }
                    if on(2) {
                        g.approved = approved;
                    }
                    if on(3) {
                        g.lock = lock;
                    }
                    if on(4) {
                        g.project = project;
                    }
                }
                Row::ProjectMember(m) => {
                    if on(0) {
                        m.level = level;
                    }
                    if on(1) {
                        m.project = project;
                    }
                    if on(2) {
                        m.user = user;
                    }
                }
                Row::TenantMember(m) => {
                    if on(0) {
                        m.role = role;
                    }
                    if on(1) {
                        m.tenant = tenant;
                    }
                    if on(2) {
                        m.user = user;
                    }
                }
                Row::Feedback(f) => {
                    if on(0) {
                        f.body = note.clone();
                    }
                    if on(1) {
                        f.board = board.clone();
                    }
                    if on(2) {
                        f.topic = topic.clone();
                    }
                }
                Row::User(_) | Row::Tenant(_) => unreachable!("not written"),
            }
        };
        (body, apply)
    }

    /// The rows of `model` a write by the caller under `filter` reaches: live, matching,
    /// and granted `op` as the world stands.
    fn reached(&self, rules: &Rules, model: Model, op: Op, filter: &Filter) -> Vec<usize> {
        let w = &self.w;
        let admit = rules.admit(model, op);
        let mut rows: Vec<usize> = (0..w.len(model))
            .filter(|&i| w.live(model, i))
            .filter(|&i| filter.eval(&w.json(&w.row(model, i))).holds())
            .filter(|&i| admit == Admit::All || rules.allows(op, i, &w.row(model, i)).holds())
            .collect();
        rows.sort_by(|&a, &b| w.id(model, a).cmp(w.id(model, b)));
        rows
    }

    async fn update(
        &mut self,
        n: usize,
        caller: &CallerSpec,
        model: Model,
        target: &Target,
        d: &Draft,
        fields: u8,
    ) -> Result<(), Disagreement> {
        let (oracle_caller, engine_caller, who) = self.caller(caller);
        let granted = self.granted(&Rules::new(&self.w, oracle_caller), model, Op::Update);
        let filter = write_filter(&self.w, model, target, &granted);
        let (body, apply) = self.patch(model, d, fields, oracle_caller);
        let (key, value) = filter.pair();
        let what = format!(
            "as {who}: PATCH /{}?{key}={value} {}",
            model.name(),
            Json::Object(body.clone())
        );
        self.stats.updates += 1;
        self.stats.moves += u64::from(
            ["tenantId", "projectId", "userId"]
                .iter()
                .any(|k| body.contains_key(*k)),
        );

        let rules = Rules::new(&self.w, oracle_caller);
        let admit = rules.admit(model, Op::Update);
        let mut changed: Vec<(usize, Row)> = Vec::new();
        let expected = match admit {
            Admit::Refused(r) => Outcome::Refused(r.into()),
            _ => {
                for at in self.reached(&rules, model, Op::Update, &filter) {
                    let mut row = self.w.row(model, at);
                    apply(&mut row);
                    changed.push((at, row));
                }
                // The rows as changed must still be the caller's to update, judged by the
                // world as it stood before the write.
                if admit == Admit::Rows
                    && changed
                        .iter()
                        .any(|(at, row)| !rules.allows(Op::Update, *at, row).holds())
                {
                    Outcome::Refused(Status::Forbidden)
                } else {
                    Outcome::Rows(
                        changed
                            .iter()
                            .map(|(_, row)| Json::Object(self.w.json(row)))
                            .collect(),
                        None,
                    )
                }
            }
        };
        let filter = parse_write_query(&[(key, value)]).expect("filter").filter;
        let result = self
            .engine
            .update(
                &engine_caller,
                &UpdateRequest {
                    model: model.name().into(),
                    filter,
                    body: Json::Object(body),
                    ..UpdateRequest::default()
                },
            )
            .await;
        let actual = match result {
            Ok(written) => {
                let mut rows: Vec<Json> =
                    written.iter().map(|r| normalize(model, r, &[])).collect();
                rows.sort_by_key(|r| text(&r["id"]));
                Outcome::Rows(rows, None)
            }
            Err(e) => self.refusal(n, &what, e)?,
        };
        self.count(&expected, oracle_caller, Op::Update);
        self.compare(n, &what, &expected, &actual)?;
        if let Outcome::Rows(..) = expected {
            for (at, row) in changed {
                self.w.put(at, row);
            }
        }
        self.log.push(what.clone());
        self.compare_state(&what).await
    }

    async fn delete(
        &mut self,
        n: usize,
        caller: &CallerSpec,
        model: Model,
        target: &Target,
    ) -> Result<(), Disagreement> {
        let (oracle_caller, engine_caller, who) = self.caller(caller);
        let granted = self.granted(&Rules::new(&self.w, oracle_caller), model, Op::Delete);
        let filter = write_filter(&self.w, model, target, &granted);
        let (key, value) = filter.pair();
        let what = format!("as {who}: DELETE /{}?{key}={value}", model.name());
        self.stats.deletes += 1;

        let rules = Rules::new(&self.w, oracle_caller);
        let mut gone = Vec::new();
        let expected = match rules.admit(model, Op::Delete) {
            Admit::Refused(r) => Outcome::Refused(r.into()),
            _ => {
                gone = self.reached(&rules, model, Op::Delete, &filter);
                Outcome::Rows(
                    gone.iter().map(|&i| json!(self.w.id(model, i))).collect(),
                    None,
                )
            }
        };
        let filter = parse_write_query(&[(key, value)]).expect("filter").filter;
        let result = self
            .engine
            .delete(
                &engine_caller,
                &DeleteRequest {
                    model: model.name().into(),
                    filter,
                    ..DeleteRequest::default()
                },
            )
            .await;
        let actual = match result {
            Ok(written) => {
                let mut rows: Vec<Json> = written.iter().map(|r| r["id"].clone()).collect();
                rows.sort_by_key(text);
                Outcome::Rows(rows, None)
            }
            Err(e) => self.refusal(n, &what, e)?,
        };
        self.count(&expected, oracle_caller, Op::Delete);
        self.compare(n, &what, &expected, &actual)?;
        for at in gone {
            self.w.delete(model, at);
        }
        self.log.push(what.clone());
        self.compare_state(&what).await
    }
}

/// A read step's parameters.
#[derive(Clone, Copy)]
struct ReadStep {
    model: Model,
    filter: u8,
    arg: usize,
    embed: u8,
    count: bool,
    limit: Option<u8>,
}

fn strip_id(mut row: Map<String, Json>) -> Json {
    row.remove("id");
    Json::Object(row)
}

fn set_id(row: &mut Row, id: String) {
    match row {
        Row::User(r) => r.id = id,
        Row::Tenant(r) => r.id = id,
        Row::TenantMember(r) => r.id = id,
        Row::Project(r) => r.id = id,
        Row::ProjectMember(r) => r.id = id,
        Row::Page(r) => r.id = id,
        Row::Feedback(r) => r.id = id,
    }
}

/// A row the engine answered, limited to the oracle's fields and embeds; embedded lists
/// sorted by id.
fn normalize(model: Model, row: &Json, embeds: &[Embed]) -> Json {
    let mut out = Map::new();
    for key in model.keys() {
        out.insert(
            (*key).to_owned(),
            row.get(*key).cloned().unwrap_or(json!("<missing>")),
        );
    }
    for e in embeds {
        let (target, _) = model.relation(e.relation);
        let value = match row.get(e.relation) {
            Some(Json::Array(items)) => {
                let mut items: Vec<Json> = items
                    .iter()
                    .map(|i| normalize(target, i, &e.nested))
                    .collect();
                items.sort_by_key(|r| text(&r["id"]));
                Json::Array(items)
            }
            Some(Json::Null) => Json::Null,
            Some(other) => normalize(target, other, &e.nested),
            None => json!("<missing>"),
        };
        out.insert(e.relation.to_owned(), value);
    }
    Json::Object(out)
}

/// Whether the engine's rows show anything the oracle's do not: a row, or an embedded one.
fn shows_more(actual: &[Json], expected: &[Json]) -> bool {
    fn ids(value: &Json, out: &mut Vec<String>) {
        match value {
            Json::Object(map) => {
                if let Some(Json::String(id)) = map.get("id") {
                    out.push(id.clone());
                }
                map.values().for_each(|v| ids(v, out));
            }
            Json::Array(items) => items.iter().for_each(|v| ids(v, out)),
            _ => {}
        }
    }
    let (mut a, mut e) = (Vec::new(), Vec::new());
    actual.iter().for_each(|r| ids(r, &mut a));
    expected.iter().for_each(|r| ids(r, &mut e));
    a.iter().any(|id| !e.contains(id))
}

struct Diff<'a> {
    expected: &'a Outcome,
    actual: &'a Outcome,
}

impl std::fmt::Display for Diff<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.expected, self.actual) {
            (Outcome::Rows(e, et), Outcome::Rows(a, at)) => {
                if et != at {
                    writeln!(f, "count: oracle {et:?}, engine {at:?}")?;
                }
                for row in a.iter().filter(|r| !e.contains(r)) {
                    writeln!(f, "  engine only: {row}")?;
                }
                for row in e.iter().filter(|r| !a.contains(r)) {
                    writeln!(f, "  oracle only: {row}")?;
                }
                if e.len() == a.len() && e.iter().all(|r| a.contains(r)) {
                    writeln!(f, "  the same rows in another order")?;
                }
                Ok(())
            }
            (e, a) => writeln!(f, "oracle: {}\nengine: {}", brief(e), brief(a)),
        }
    }
}

fn brief(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Refused(status) => format!("refused ({status:?})"),
        Outcome::Rows(rows, total) => {
            let mut s = format!("{} row(s)", rows.len());
            if let Some(t) = total {
                let _ = write!(s, ", count {t}");
            }
            for r in rows {
                let _ = write!(s, "\n  {r}");
            }
            s
        }
    }
}
