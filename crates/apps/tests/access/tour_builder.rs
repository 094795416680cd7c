//! Who may do what in the tour builder: the access table of `apps/tour-builder/README.md`
//! and the world it is checked on.
//!
//! The world: three projects — `Team` (private, created by `creator`; `owner` owns it by
//! membership, `editor`, `reviewer` and `viewer` are members, `invitee` is invited as an
//! editor but has not accepted, and its production presentation is granted to `customer`),
//! `Public` (a public presentation) and `Other` (private); both of the latter belong to
//! `stranger`, who is no caller. `admin` holds every permission through the
//! `Administrator` role, `custom` holds every permission as custom permissions; `outsider`
//! is signed in and nothing more.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::access::{key_of, Cell, Entry, Matrix, Phrase, Section, Who, World};
use crate::support::{send, AppServer};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Proj {
    Team,
    Public,
    Other,
}

const PROJECTS: [Proj; 3] = [Proj::Team, Proj::Public, Proj::Other];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Env {
    Dev,
    Stage,
    Production,
}

const ENVS: [Env; 3] = [Env::Dev, Env::Stage, Env::Production];

impl Env {
    fn name(self) -> &'static str {
        match self {
            Env::Dev => "dev",
            Env::Stage => "stage",
            Env::Production => "production",
        }
    }
}

/// What the access rules look at in a row: its project, environment, whether it is a public
/// asset, and the accounts it is of (an account itself, a membership's member, a log's
/// user, the holders of a role or a permission, the owner of a file).
#[derive(Clone, Debug, Default)]
pub struct Row {
    pub project: Option<Proj>,
    pub env: Option<Env>,
    pub public: bool,
    pub users: Vec<&'static str>,
}

impl Row {
    fn in_project(project: Proj) -> Row {
        Row {
            project: Some(project),
            ..Row::default()
        }
    }

    fn of(users: &[&'static str]) -> Row {
        Row {
            users: users.to_vec(),
            ..Row::default()
        }
    }
}

/// Every account of the world; `anonymous` is the caller without one.
pub const ACCOUNTS: [&str; 11] = [
    "outsider", "invitee", "customer", "viewer", "reviewer", "editor", "owner", "creator", "admin",
    "custom", "stranger",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    Owner,
    Editor,
    Reviewer,
    Viewer,
}

/// The access level `caller` holds in `project` through an accepted membership, or as
/// its creator.
fn level(caller: &str, project: Proj) -> Option<Level> {
    match (project, caller) {
        (Proj::Team, "owner" | "creator") => Some(Level::Owner),
        (Proj::Team, "editor") => Some(Level::Editor),
        (Proj::Team, "reviewer") => Some(Level::Reviewer),
        (Proj::Team, "viewer") => Some(Level::Viewer),
        (Proj::Public | Proj::Other, "stranger") => Some(Level::Owner),
        _ => None,
    }
}

/// The projects `user` has a membership in (accepted or not).
fn memberships_of(user: &str) -> &'static [Proj] {
    match user {
        "owner" | "editor" | "reviewer" | "viewer" | "invitee" => &[Proj::Team],
        "stranger" => &[Proj::Public, Proj::Other],
        _ => &[],
    }
}

fn member(caller: &str, row: &Row) -> bool {
    row.project.is_some_and(|p| level(caller, p).is_some())
}

fn owns(caller: &str, row: &Row) -> bool {
    row.project
        .is_some_and(|p| level(caller, p) == Some(Level::Owner))
}

fn presented(caller: &str, row: &Row) -> bool {
    row.project
        .is_some_and(|p| p == Proj::Public || (p == Proj::Team && caller == "customer"))
}

fn production(row: &Row) -> bool {
    row.env == Some(Env::Production)
}

fn own(caller: &str, row: &Row) -> bool {
    row.users.contains(&caller)
}

static ALL: Phrase<Row> = Phrase {
    text: "all",
    holds: |_, _| true,
};
static NONE: Phrase<Row> = Phrase {
    text: "none",
    holds: |_, _| false,
};
static PUBLIC_PRESENTATIONS: Phrase<Row> = Phrase {
    text: "public presentations",
    holds: |_, r| r.project == Some(Proj::Public),
};
static PRESENTATIONS: Phrase<Row> = Phrase {
    text: "public and granted presentations",
    holds: presented,
};
static THEIR_PROJECTS_AND_PRESENTATIONS: Phrase<Row> = Phrase {
    text: "their projects; public and granted presentations",
    holds: |c, r| member(c, r) || presented(c, r),
};
static THEIR_PROJECTS: Phrase<Row> = Phrase {
    text: "their projects",
    holds: member,
};
static PUBLIC_PRODUCTION: Phrase<Row> = Phrase {
    text: "production of public presentations",
    holds: |_, r| production(r) && r.project == Some(Proj::Public),
};
static PRESENTED_PRODUCTION: Phrase<Row> = Phrase {
    text: "production of public and granted presentations",
    holds: |c, r| production(r) && presented(c, r),
};
static VIEWER_CONTENT: Phrase<Row> = Phrase {
    text: "production of their projects and of presentations",
    holds: |c, r| production(r) && (member(c, r) || presented(c, r)),
};
static REVIEWER_CONTENT: Phrase<Row> = Phrase {
    text: "stage and production of their projects; production of presentations",
    holds: |c, r| {
        member(c, r) && matches!(r.env, Some(Env::Stage | Env::Production))
            || production(r) && presented(c, r)
    },
};
static TEAM_CONTENT: Phrase<Row> = Phrase {
    text: "their projects; production of presentations",
    holds: |c, r| member(c, r) || production(r) && presented(c, r),
};
static DEV_OF_THEIR_PROJECTS: Phrase<Row> = Phrase {
    text: "dev content of their projects",
    holds: |c, r| member(c, r) && r.env == Some(Env::Dev),
};
static PUBLIC_ASSETS_OF_PUBLIC: Phrase<Row> = Phrase {
    text: "public assets of public presentations",
    holds: |_, r| r.public && r.project == Some(Proj::Public),
};
static PUBLIC_ASSETS_PRESENTED: Phrase<Row> = Phrase {
    text: "public assets of public and granted presentations",
    holds: |c, r| r.public && presented(c, r),
};
static TEAM_ASSETS: Phrase<Row> = Phrase {
    text: "their projects; public assets of presentations",
    holds: |c, r| member(c, r) || r.public && presented(c, r),
};
static OWN: Phrase<Row> = Phrase {
    text: "own",
    holds: own,
};
static OWN_AND_OWNED: Phrase<Row> = Phrase {
    text: "own; of projects they own",
    holds: |c, r| own(c, r) || owns(c, r),
};
static OWNED: Phrase<Row> = Phrase {
    text: "of projects they own",
    holds: owns,
};
static OWN_FOR_THEIR_PROJECTS: Phrase<Row> = Phrase {
    text: "own, in their projects",
    holds: |c, r| own(c, r) && member(c, r),
};
static OWN_ACCOUNT: Phrase<Row> = Phrase {
    text: "own account",
    holds: own,
};
static OWN_ACCOUNT_AND_TEAM: Phrase<Row> = Phrase {
    text: "own account; members of projects they own",
    holds: |c, r| {
        own(c, r)
            || r.users.iter().any(|u| {
                memberships_of(u)
                    .iter()
                    .any(|p| level(c, *p) == Some(Level::Owner))
            })
    },
};
static THEIR_ROLE: Phrase<Row> = Phrase {
    text: "their role",
    holds: own,
};
static HELD: Phrase<Row> = Phrase {
    text: "the ones they hold",
    holds: own,
};

use Cell::{Denied, Rows};

const WHO: &[Who] = &[
    Who {
        name: "anonymous",
        callers: &["anonymous"],
    },
    Who {
        name: "signed-in user",
        callers: &["outsider", "invitee"],
    },
    Who {
        name: "presentation grantee",
        callers: &["customer"],
    },
    Who {
        name: "viewer",
        callers: &["viewer"],
    },
    Who {
        name: "reviewer",
        callers: &["reviewer"],
    },
    Who {
        name: "editor",
        callers: &["editor"],
    },
    Who {
        name: "owner",
        callers: &["owner", "creator"],
    },
    Who {
        name: "permission holder",
        callers: &["admin", "custom"],
    },
];

fn section(models: &'static [&'static str], rows: [[Cell<Row>; 4]; 8]) -> Section<Row> {
    Section {
        models,
        entries: WHO
            .iter()
            .zip(rows)
            .map(|(who, cells)| Entry {
                who: who.name,
                cells,
            })
            .collect(),
    }
}

/// The tour builder's access table.
pub fn matrix() -> Matrix<Row> {
    let all = [Rows(&ALL); 4];
    let denied = [Denied; 4];
    let read_only = |read: &'static Phrase<Row>| [Rows(read), Denied, Rows(&NONE), Rows(&NONE)];
    Matrix {
        who: WHO,
        sections: vec![
            section(
                &["projects"],
                [
                    [Rows(&PUBLIC_PRESENTATIONS), Denied, Denied, Denied],
                    read_only(&PRESENTATIONS),
                    read_only(&PRESENTATIONS),
                    read_only(&THEIR_PROJECTS_AND_PRESENTATIONS),
                    read_only(&THEIR_PROJECTS_AND_PRESENTATIONS),
                    [
                        Rows(&THEIR_PROJECTS_AND_PRESENTATIONS),
                        Denied,
                        Rows(&THEIR_PROJECTS),
                        Rows(&NONE),
                    ],
                    [
                        Rows(&THEIR_PROJECTS_AND_PRESENTATIONS),
                        Denied,
                        Rows(&THEIR_PROJECTS),
                        Rows(&THEIR_PROJECTS),
                    ],
                    all,
                ],
            ),
            section(
                &[
                    "tour_pages",
                    "project_audio_tracks",
                    "project_transition_settings",
                    "project_ui_control_settings",
                ],
                [
                    [Rows(&PUBLIC_PRODUCTION), Denied, Denied, Denied],
                    read_only(&PRESENTED_PRODUCTION),
                    read_only(&PRESENTED_PRODUCTION),
                    read_only(&VIEWER_CONTENT),
                    read_only(&REVIEWER_CONTENT),
                    [
                        Rows(&TEAM_CONTENT),
                        Rows(&DEV_OF_THEIR_PROJECTS),
                        Rows(&DEV_OF_THEIR_PROJECTS),
                        Rows(&DEV_OF_THEIR_PROJECTS),
                    ],
                    [
                        Rows(&TEAM_CONTENT),
                        Rows(&THEIR_PROJECTS),
                        Rows(&THEIR_PROJECTS),
                        Rows(&THEIR_PROJECTS),
                    ],
                    all,
                ],
            ),
            section(
                &["assets", "asset_variants"],
                [
                    [Rows(&PUBLIC_ASSETS_OF_PUBLIC), Denied, Denied, Denied],
                    read_only(&PUBLIC_ASSETS_PRESENTED),
                    read_only(&PUBLIC_ASSETS_PRESENTED),
                    read_only(&TEAM_ASSETS),
                    read_only(&TEAM_ASSETS),
                    [
                        Rows(&TEAM_ASSETS),
                        Rows(&THEIR_PROJECTS),
                        Rows(&THEIR_PROJECTS),
                        Rows(&THEIR_PROJECTS),
                    ],
                    [
                        Rows(&TEAM_ASSETS),
                        Rows(&THEIR_PROJECTS),
                        Rows(&THEIR_PROJECTS),
                        Rows(&THEIR_PROJECTS),
                    ],
                    all,
                ],
            ),
            section(
                &["project_element_defaults"],
                [
                    denied,
                    read_only(&NONE),
                    read_only(&NONE),
                    read_only(&THEIR_PROJECTS),
                    read_only(&THEIR_PROJECTS),
                    [Rows(&THEIR_PROJECTS); 4],
                    [Rows(&THEIR_PROJECTS); 4],
                    all,
                ],
            ),
            section(
                &["pwa_caches"],
                [
                    [Rows(&PUBLIC_PRODUCTION), Denied, Denied, Denied],
                    read_only(&PRESENTED_PRODUCTION),
                    read_only(&PRESENTED_PRODUCTION),
                    read_only(&TEAM_CONTENT),
                    read_only(&TEAM_CONTENT),
                    read_only(&TEAM_CONTENT),
                    read_only(&TEAM_CONTENT),
                    all,
                ],
            ),
            section(
                &["publish_events"],
                [
                    denied,
                    [Rows(&NONE), Denied, Denied, Denied],
                    [Rows(&NONE), Denied, Denied, Denied],
                    [Rows(&NONE), Denied, Denied, Denied],
                    [Rows(&THEIR_PROJECTS), Denied, Denied, Denied],
                    [Rows(&THEIR_PROJECTS), Denied, Denied, Denied],
                    [Rows(&THEIR_PROJECTS), Denied, Denied, Denied],
                    [Rows(&ALL), Denied, Denied, Denied],
                ],
            ),
            section(
                &["project_memberships"],
                [
                    denied,
                    [Rows(&OWN), Denied, Rows(&NONE), Rows(&OWN)],
                    [Rows(&OWN), Denied, Rows(&NONE), Rows(&OWN)],
                    [Rows(&OWN), Denied, Rows(&NONE), Rows(&OWN)],
                    [Rows(&OWN), Denied, Rows(&NONE), Rows(&OWN)],
                    [Rows(&OWN), Denied, Rows(&NONE), Rows(&OWN)],
                    [
                        Rows(&OWN_AND_OWNED),
                        Rows(&OWNED),
                        Rows(&OWNED),
                        Rows(&OWN_AND_OWNED),
                    ],
                    all,
                ],
            ),
            section(
                &["production_presentation_access"],
                [
                    denied,
                    read_only(&OWN),
                    read_only(&OWN),
                    read_only(&OWN),
                    read_only(&OWN),
                    read_only(&OWN),
                    [
                        Rows(&OWN_AND_OWNED),
                        Rows(&OWNED),
                        Rows(&OWNED),
                        Rows(&OWNED),
                    ],
                    all,
                ],
            ),
            section(
                &["access_logs"],
                [
                    denied,
                    [Rows(&OWN), Rows(&OWN), Denied, Denied],
                    [Rows(&OWN), Rows(&OWN), Denied, Denied],
                    [Rows(&OWN), Rows(&OWN), Denied, Denied],
                    [Rows(&OWN), Rows(&OWN), Denied, Denied],
                    [Rows(&OWN), Rows(&OWN), Denied, Denied],
                    [Rows(&OWN), Rows(&OWN), Denied, Denied],
                    [Rows(&ALL), Rows(&OWN), Denied, Denied],
                ],
            ),
            section(
                &["presigned_url_requests"],
                [
                    denied,
                    [Rows(&OWN), Denied, Denied, Denied],
                    [Rows(&OWN), Denied, Denied, Denied],
                    [Rows(&OWN), Denied, Denied, Denied],
                    [Rows(&OWN), Denied, Denied, Denied],
                    [Rows(&OWN), Rows(&OWN_FOR_THEIR_PROJECTS), Denied, Denied],
                    [Rows(&OWN), Rows(&OWN_FOR_THEIR_PROJECTS), Denied, Denied],
                    [Rows(&ALL), Rows(&OWN), Denied, Denied],
                ],
            ),
            section(
                &["users"],
                [
                    denied,
                    [Rows(&OWN_ACCOUNT), Denied, Rows(&OWN_ACCOUNT), Rows(&NONE)],
                    [Rows(&OWN_ACCOUNT), Denied, Rows(&OWN_ACCOUNT), Rows(&NONE)],
                    [Rows(&OWN_ACCOUNT), Denied, Rows(&OWN_ACCOUNT), Rows(&NONE)],
                    [Rows(&OWN_ACCOUNT), Denied, Rows(&OWN_ACCOUNT), Rows(&NONE)],
                    [Rows(&OWN_ACCOUNT), Denied, Rows(&OWN_ACCOUNT), Rows(&NONE)],
                    [
                        Rows(&OWN_ACCOUNT_AND_TEAM),
                        Denied,
                        Rows(&OWN_ACCOUNT),
                        Rows(&NONE),
                    ],
                    all,
                ],
            ),
            section(
                &["roles"],
                [
                    denied,
                    read_only(&THEIR_ROLE),
                    read_only(&THEIR_ROLE),
                    read_only(&THEIR_ROLE),
                    read_only(&THEIR_ROLE),
                    read_only(&THEIR_ROLE),
                    read_only(&THEIR_ROLE),
                    all,
                ],
            ),
            section(
                &["permissions"],
                [
                    denied,
                    read_only(&HELD),
                    read_only(&HELD),
                    read_only(&HELD),
                    read_only(&HELD),
                    read_only(&HELD),
                    read_only(&HELD),
                    all,
                ],
            ),
            section(
                &[
                    "element_type_defaults",
                    "global_transition_defaults",
                    "global_ui_control_defaults",
                ],
                [
                    [Rows(&ALL), Denied, Denied, Denied],
                    read_only(&ALL),
                    read_only(&ALL),
                    read_only(&ALL),
                    read_only(&ALL),
                    read_only(&ALL),
                    read_only(&ALL),
                    all,
                ],
            ),
            section(
                &["file"],
                [
                    denied,
                    [Rows(&OWN); 4],
                    [Rows(&OWN); 4],
                    [Rows(&OWN); 4],
                    [Rows(&OWN); 4],
                    [Rows(&OWN); 4],
                    [Rows(&OWN); 4],
                    all,
                ],
            ),
            section(
                &[
                    "rolesPermissionsPermissions",
                    "usersCustom_permissionsPermissions",
                ],
                [denied; 8],
            ),
        ],
    }
}

/// A valid bcrypt hash (of "password"): `@hash(bcrypt)` keeps it as it is, so accounts are
/// made without hashing a password for each.
const BCRYPT: &str = "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy";

/// The `{ACTION}_{MODEL}` permissions of every declared model.
fn permission_names(server: &AppServer) -> Vec<String> {
    let mut names = Vec::new();
    for model in &server.schema.models {
        if model.kind != tessera_schema::ir::ModelKind::Declared {
            continue;
        }
        for action in ["READ", "CREATE", "UPDATE", "DELETE"] {
            names.push(format!("{action}_{}", model.name.to_uppercase()));
        }
    }
    names
}

/// The world every access test of the tour builder runs in.
pub struct TourWorld {
    pub server: AppServer,
    pub users: HashMap<&'static str, String>,
    pub tokens: HashMap<&'static str, String>,
    pub projects: HashMap<Proj, String>,
    rows: HashMap<String, Vec<(String, Row)>>,
    /// Assets by project and public flag, for variants.
    assets: Vec<(String, Proj, bool)>,
    create_projects: String,
    unused_role: String,
    nonce: AtomicUsize,
}

impl TourWorld {
    pub async fn build(server: AppServer) -> TourWorld {
        let mut world = TourWorld {
            server,
            users: HashMap::new(),
            tokens: HashMap::new(),
            projects: HashMap::new(),
            rows: HashMap::new(),
            assets: Vec::new(),
            create_projects: String::new(),
            unused_role: String::new(),
            nonce: AtomicUsize::new(0),
        };
        world.accounts().await;
        world.projects().await;
        world.content().await;
        world
    }

    fn register(&mut self, model: &str, row: &Value, label: Row) {
        let schema_model = self.server.schema.model(model).expect("a model");
        let key = key_of(schema_model, row);
        self.rows
            .entry(model.to_string())
            .or_default()
            .push((key, label));
    }

    async fn add(&mut self, model: &str, body: Value, label: Row) -> Value {
        let row = self.server.create(model, body).await;
        self.register(model, &row, label);
        row
    }

    async fn add_all(&mut self, model: &str, bodies: Vec<(Value, Row)>) -> Vec<Value> {
        let (bodies, labels): (Vec<Value>, Vec<Row>) = bodies.into_iter().unzip();
        let created = self
            .server
            .post(&format!("/rest/v1/{model}"), Value::Array(bodies))
            .await
            .expect(201, model);
        let rows = created.rows().to_vec();
        for (row, label) in rows.iter().zip(labels) {
            self.register(model, row, label);
        }
        rows
    }

    /// Permissions, roles, accounts and their tokens.
    async fn accounts(&mut self) {
        let names = permission_names(&self.server);
        let permissions = self
            .add_all(
                "permissions",
                names
                    .iter()
                    .map(|n| (json!({ "name": n }), Row::of(&["admin", "custom"])))
                    .collect(),
            )
            .await;
        let permission_ids: Vec<String> = permissions.iter().map(id).collect();
        self.create_projects = permissions
            .iter()
            .find(|p| p["name"] == "CREATE_PROJECTS")
            .map(id)
            .expect("CREATE_PROJECTS");
        let admin_role = self
            .add(
                "roles",
                json!({ "name": "Administrator" }),
                Row::of(&["admin"]),
            )
            .await;
        let member_role = self
            .add(
                "roles",
                json!({ "name": "Member" }),
                Row::of(&["owner", "editor", "reviewer", "viewer"]),
            )
            .await;
        let unused = self
            .add("roles", json!({ "name": "Unused" }), Row::default())
            .await;
        self.unused_role = id(&unused);
        let links: Vec<(Value, Row)> = permission_ids
            .iter()
            .map(|p| {
                (
                    json!({ "roleId": id(&admin_role), "permissionId": p }),
                    Row::default(),
                )
            })
            .collect();
        self.add_all("rolesPermissionsPermissions", links).await;
        let accounts: Vec<(Value, Row)> = ACCOUNTS
            .iter()
            .map(|name| {
                let role = match *name {
                    "admin" => Some(id(&admin_role)),
                    "owner" | "editor" | "reviewer" | "viewer" => Some(id(&member_role)),
                    _ => None,
                };
                (
                    json!({ "email": format!("{name}@example.com"), "password": BCRYPT, "firstName": name, "app_roleId": role }),
                    Row::of(&[name]),
                )
            })
            .collect();
        let users = self.add_all("users", accounts).await;
        for (name, row) in ACCOUNTS.iter().zip(&users) {
            self.users.insert(name, id(row));
            let token = self
                .server
                .token_for(&id(row), &format!("{name}@example.com"));
            self.tokens.insert(name, token);
        }
        let custom: Vec<(Value, Row)> = permission_ids
            .iter()
            .map(|p| {
                (
                    json!({ "userId": self.users["custom"], "permissionId": p }),
                    Row::default(),
                )
            })
            .collect();
        self.add_all("usersCustom_permissionsPermissions", custom)
            .await;
    }

    /// A project created by `creator`, who may create projects for that moment only.
    async fn as_creator(&self, body: Value) -> Value {
        let link = json!({ "userId": self.users["creator"], "permissionId": self.create_projects });
        self.server
            .create("usersCustom_permissionsPermissions", link)
            .await;
        let created = send(
            self.server
                .request_as(
                    Some(&self.tokens["creator"]),
                    Method::POST,
                    "/rest/v1/projects",
                )
                .json(&body),
        )
        .await
        .expect(201, "the creator creates a project");
        self.server
            .delete(&format!(
                "/rest/v1/usersCustom_permissionsPermissions?userId=eq.{}&permissionId=eq.{}",
                self.users["creator"], self.create_projects
            ))
            .await
            .expect(200, "the creator's permission is withdrawn");
        created.row().clone()
    }

    /// A project of `kind`, with the memberships and grants of the world's project of that
    /// kind.
    async fn project(&self, kind: Proj, slug: &str) -> Value {
        let project = match kind {
            Proj::Team => {
                self.as_creator(json!({ "name": "Team tour", "slug": slug, "production_presentation_visibility": "private" }))
                    .await
            }
            Proj::Public => {
                self.server
                    .create(
                        "projects",
                        json!({ "name": "Public tour", "slug": slug, "production_presentation_visibility": "public" }),
                    )
                    .await
            }
            Proj::Other => {
                self.server
                    .create(
                        "projects",
                        json!({ "name": "Other tour", "slug": slug, "production_presentation_visibility": "private" }),
                    )
                    .await
            }
        };
        let p = id(&project);
        let memberships: Vec<Value> = match kind {
            Proj::Team => [
                ("owner", "owner", true),
                ("editor", "editor", true),
                ("reviewer", "reviewer", true),
                ("viewer", "viewer", true),
                ("invitee", "editor", false),
            ]
            .iter()
            .map(|(user, level, active)| json!({ "projectId": p, "userId": self.users[user], "access_level": level, "is_active": active }))
            .collect(),
            _ => vec![
                json!({ "projectId": p, "userId": self.users["stranger"], "access_level": "owner", "is_active": true }),
            ],
        };
        self.server
            .post("/rest/v1/project_memberships", Value::Array(memberships))
            .await
            .expect(201, "memberships");
        let grantee = match kind {
            Proj::Team => Some("customer"),
            Proj::Other => Some("stranger"),
            Proj::Public => None,
        };
        if let Some(user) = grantee {
            self.server
                .create(
                    "production_presentation_access",
                    json!({ "projectId": p, "userId": self.users[user] }),
                )
                .await;
        }
        project
    }

    async fn projects(&mut self) {
        for kind in PROJECTS {
            let slug = format!("{kind:?}").to_lowercase();
            let project = self.project(kind, &slug).await;
            self.register("projects", &project, Row::in_project(kind));
            self.projects.insert(kind, id(&project));
        }
        // Register the memberships and grants the projects were made with.
        let memberships = self
            .server
            .get("/rest/v1/project_memberships?select=id,projectId,userId")
            .await;
        for row in memberships.rows().to_vec() {
            let label = self.label_of(&row);
            self.register("project_memberships", &row, label);
        }
        let grants = self
            .server
            .get("/rest/v1/production_presentation_access?select=id,projectId,userId")
            .await;
        for row in grants.rows().to_vec() {
            let label = self.label_of(&row);
            self.register("production_presentation_access", &row, label);
        }
    }

    /// The label of a row with `projectId` and `userId`.
    fn label_of(&self, row: &Value) -> Row {
        let project = self
            .projects
            .iter()
            .find(|(_, id)| row["projectId"] == json!(id))
            .map(|(kind, _)| *kind);
        let users = ACCOUNTS
            .iter()
            .filter(|name| row["userId"] == json!(self.users[*name]))
            .copied()
            .collect();
        Row {
            project,
            users,
            ..Row::default()
        }
    }

    fn env_row(project: Proj, env: Env) -> Row {
        Row {
            project: Some(project),
            env: Some(env),
            ..Row::default()
        }
    }

    /// The body of a row of environment content `model` in `project`'s `env`.
    fn env_body(&self, model: &str, project: Proj, env: Env, nonce: usize) -> Value {
        let p = &self.projects[&project];
        match model {
            "tour_pages" => json!({
                "name": "Page",
                "slug": format!("page-{}-{nonce}", env.name()),
                "projectId": p,
                "environment": env.name(),
            }),
            "project_audio_tracks" => {
                json!({ "name": "Track", "projectId": p, "environment": env.name() })
            }
            "pwa_caches" => {
                json!({ "cache_version": "1", "projectId": p, "environment": env.name() })
            }
            _ => json!({ "projectId": p, "environment": env.name() }),
        }
    }

    async fn content(&mut self) {
        for model in [
            "tour_pages",
            "project_audio_tracks",
            "project_transition_settings",
            "project_ui_control_settings",
            "pwa_caches",
        ] {
            let mut bodies = Vec::new();
            for project in PROJECTS {
                for env in ENVS {
                    bodies.push((
                        self.env_body(model, project, env, 0),
                        TourWorld::env_row(project, env),
                    ));
                }
            }
            self.add_all(model, bodies).await;
        }
        for project in PROJECTS {
            let p = self.projects[&project].clone();
            for public in [true, false] {
                let label = Row {
                    public,
                    ..Row::in_project(project)
                };
                let asset = self
                    .add(
                        "assets",
                        json!({ "asset_type": "image", "is_public": public, "projectId": p }),
                        label.clone(),
                    )
                    .await;
                self.add(
                    "asset_variants",
                    json!({ "assetId": id(&asset), "variant_type": "thumbnail" }),
                    label,
                )
                .await;
                self.assets.push((id(&asset), project, public));
            }
            self.add(
                "project_element_defaults",
                json!({ "projectId": p, "element_type": "button" }),
                Row::in_project(project),
            )
            .await;
            self.add(
                "publish_events",
                json!({ "projectId": p, "from_environment": "dev", "to_environment": "stage" }),
                Row::in_project(project),
            )
            .await;
        }
        let logs = [
            (Proj::Team, Some("viewer")),
            (Proj::Public, Some("outsider")),
            (Proj::Other, Some("stranger")),
            (Proj::Public, None),
        ];
        for (project, user) in logs {
            let body = json!({ "environment": "production", "projectId": self.projects[&project], "userId": user.map(|u| self.users[u].clone()) });
            let label = Row {
                users: user.into_iter().collect(),
                ..Row::in_project(project)
            };
            self.add("access_logs", body, label).await;
        }
        for (project, user) in [(Proj::Team, "editor"), (Proj::Other, "stranger")] {
            let body = json!({ "purpose": "upload", "projectId": self.projects[&project], "userId": self.users[user] });
            let label = Row {
                users: vec![user],
                ..Row::in_project(project)
            };
            self.add("presigned_url_requests", body, label).await;
        }
        for owner in [Some("viewer"), Some("outsider"), Some("stranger"), None] {
            let body = self.file_body(owner);
            self.add(
                "file",
                body,
                Row::of(&owner.into_iter().collect::<Vec<_>>()),
            )
            .await;
        }
        self.add(
            "element_type_defaults",
            json!({ "element_type": "button", "name": "Button" }),
            Row::default(),
        )
        .await;
        self.add("global_transition_defaults", json!({}), Row::default())
            .await;
        self.add("global_ui_control_defaults", json!({}), Row::default())
            .await;
    }

    fn file_body(&self, owner: Option<&str>) -> Value {
        match owner {
            Some(user) => json!({
                "name": "avatar.png",
                "publicUrl": "https://cdn.example.com/avatar.png",
                "belongsTo": "users",
                "belongsToId": self.users[user],
                "belongsToColumn": "avatar",
            }),
            None => {
                json!({ "name": "loose.png", "publicUrl": "https://cdn.example.com/loose.png" })
            }
        }
    }

    fn user_label(caller: &str) -> Vec<&'static str> {
        ACCOUNTS.iter().filter(|a| **a == caller).copied().collect()
    }

    /// A fresh account, unknown to the rules (no role, no membership).
    async fn fresh_user(&self, nonce: usize) -> String {
        let n = self.nonce.fetch_add(1, Ordering::Relaxed);
        let row = self
            .server
            .create(
                "users",
                json!({ "email": format!("fresh-{nonce}-{n}@example.com"), "password": BCRYPT }),
            )
            .await;
        id(&row)
    }

    /// Makes room for one more row of a model unique per project and environment among
    /// live rows: the live ones go to the trash.
    async fn clear(&self, model: &str) {
        self.server
            .delete(&format!("/rest/v1/{model}?id=not.is.null"))
            .await
            .expect(200, "clear");
    }
}

fn id(row: &Value) -> String {
    row["id"].as_str().expect("an id").to_owned()
}

impl World for TourWorld {
    type Label = Row;

    crate::world_accessors!();

    fn patch(&self, model: &str, _caller: &str) -> Value {
        match model {
            "projects" => json!({ "description": "changed" }),
            "pwa_caches" => json!({ "cache_version": "2" }),
            "tour_pages" | "project_audio_tracks" | "assets" | "project_element_defaults" => {
                json!({ "name": "Changed" })
            }
            "project_transition_settings" => json!({ "duration_ms": 500 }),
            "project_ui_control_settings" => json!({ "sound_enabled": false }),
            "asset_variants" => json!({ "width_px": 10 }),
            "publish_events" => json!({ "title": "changed" }),
            "access_logs" => json!({ "path": "/changed" }),
            "presigned_url_requests" => json!({ "status": "changed" }),
            "project_memberships" => json!({ "invited_at": "2026-01-01T00:00:00Z" }),
            "users" => json!({ "firstName": "Changed" }),
            "roles" => json!({ "role_customization": "changed" }),
            "element_type_defaults" => json!({ "name": "Changed" }),
            "global_transition_defaults" => json!({ "duration_ms": 500 }),
            "global_ui_control_defaults" => json!({ "sound_enabled": false }),
            "file" => json!({ "sizeInBytes": 10 }),
            // Nothing to change but the update time (grants, permissions' unique names).
            _ => json!({}),
        }
    }

    async fn creatable(&self, model: &str, caller: &str, nonce: usize) -> Vec<(Value, Row)> {
        let me = TourWorld::user_label(caller);
        match model {
            "projects" => vec![(
                json!({ "name": "New", "slug": format!("new-{nonce}") }),
                Row::default(),
            )],
            "tour_pages"
            | "project_audio_tracks"
            | "project_transition_settings"
            | "project_ui_control_settings"
            | "pwa_caches" => {
                if matches!(
                    model,
                    "project_transition_settings" | "project_ui_control_settings"
                ) {
                    self.clear(model).await;
                }
                let mut bodies = Vec::new();
                for project in PROJECTS {
                    for env in ENVS {
                        bodies.push((
                            self.env_body(model, project, env, nonce),
                            TourWorld::env_row(project, env),
                        ));
                    }
                }
                bodies
            }
            "assets" => PROJECTS
                .iter()
                .flat_map(|p| [true, false].map(|public| (*p, public)))
                .map(|(project, public)| {
                    (
                        json!({ "asset_type": "image", "is_public": public, "projectId": self.projects[&project] }),
                        Row {
                            public,
                            ..Row::in_project(project)
                        },
                    )
                })
                .collect(),
            "asset_variants" => self
                .assets
                .iter()
                .map(|(asset, project, public)| {
                    (
                        json!({ "assetId": asset, "variant_type": "preview" }),
                        Row {
                            public: *public,
                            ..Row::in_project(*project)
                        },
                    )
                })
                .collect(),
            "project_element_defaults" => PROJECTS
                .iter()
                .map(|p| {
                    (
                        json!({ "projectId": self.projects[p], "element_type": format!("custom-{nonce}") }),
                        Row::in_project(*p),
                    )
                })
                .collect(),
            "publish_events" => PROJECTS
                .iter()
                .map(|p| {
                    (
                        json!({ "projectId": self.projects[p], "from_environment": "dev", "to_environment": "stage" }),
                        Row::in_project(*p),
                    )
                })
                .collect(),
            "project_memberships" | "production_presentation_access" => {
                let mut bodies = Vec::new();
                for p in PROJECTS {
                    let user = self.fresh_user(nonce).await;
                    bodies.push((
                        json!({ "projectId": self.projects[&p], "userId": user }),
                        Row::in_project(p),
                    ));
                }
                bodies
            }
            "access_logs" => {
                let mut bodies = vec![(
                    json!({ "environment": "admin", "userId": self.users["stranger"] }),
                    Row::of(&["stranger"]),
                )];
                if let Some(user) = self.users.get(caller) {
                    bodies.push((
                        json!({ "environment": "admin", "userId": user }),
                        Row::of(&me),
                    ));
                }
                bodies
            }
            "presigned_url_requests" => {
                let mut bodies = Vec::new();
                for p in PROJECTS {
                    let mut users = vec!["stranger"];
                    users.extend(me.first().copied());
                    for user in users {
                        bodies.push((
                            json!({ "purpose": "upload", "projectId": self.projects[&p], "userId": self.users[user] }),
                            Row {
                                users: vec![user],
                                ..Row::in_project(p)
                            },
                        ));
                    }
                }
                bodies
            }
            "users" => vec![(
                json!({ "email": format!("new-{nonce}@example.com"), "password": BCRYPT }),
                Row::default(),
            )],
            "roles" => vec![(json!({ "name": format!("Role {nonce}") }), Row::default())],
            "permissions" => vec![(
                json!({ "name": format!("READ_THINGS_{nonce}") }),
                Row::default(),
            )],
            "element_type_defaults" => vec![(
                json!({ "element_type": format!("widget-{nonce}"), "name": "Widget" }),
                Row::default(),
            )],
            "global_transition_defaults" | "global_ui_control_defaults" => {
                vec![(json!({}), Row::default())]
            }
            "file" => {
                let mut bodies = vec![
                    (self.file_body(Some("stranger")), Row::of(&["stranger"])),
                    (self.file_body(None), Row::default()),
                ];
                if self.users.contains_key(caller) {
                    bodies.push((self.file_body(Some(me[0])), Row::of(&me)));
                }
                bodies
            }
            "rolesPermissionsPermissions" => vec![(
                json!({ "roleId": self.unused_role, "permissionId": self.create_projects }),
                Row::default(),
            )],
            "usersCustom_permissionsPermissions" => {
                let user = self.users.get(caller).unwrap_or(&self.users["outsider"]);
                vec![(
                    json!({ "userId": user, "permissionId": self.create_projects }),
                    Row::of(&me),
                )]
            }
            other => panic!("no rows to create in {other}"),
        }
    }

    async fn deletable(&self, model: &str, caller: &str, nonce: usize) -> Vec<(String, Row)> {
        let schema_model = self.server.schema.model(model).expect("a model").clone();
        match model {
            "projects" => {
                let mut rows = Vec::new();
                for kind in PROJECTS {
                    let project = self
                        .project(kind, &format!("gone-{nonce}-{kind:?}").to_lowercase())
                        .await;
                    rows.push((id(&project), Row::in_project(kind)));
                }
                rows
            }
            "project_memberships" => {
                // A fresh member's membership in each project, and one of the caller's own in
                // each project they are not a member of (not accepted: it grants nothing).
                let mut rows = Vec::new();
                for p in PROJECTS {
                    let user = self.fresh_user(nonce).await;
                    let row = self
                        .server
                        .create(
                            model,
                            json!({ "projectId": self.projects[&p], "userId": user }),
                        )
                        .await;
                    rows.push((id(&row), Row::in_project(p)));
                    let Some(me) = self.users.get(caller) else {
                        continue;
                    };
                    if memberships_of(caller).contains(&p) {
                        continue;
                    }
                    let row = self
                        .server
                        .create(
                            model,
                            json!({ "projectId": self.projects[&p], "userId": me }),
                        )
                        .await;
                    rows.push((
                        id(&row),
                        Row {
                            users: TourWorld::user_label(caller),
                            ..Row::in_project(p)
                        },
                    ));
                }
                rows
            }
            _ => {
                let mut rows = Vec::new();
                for (body, label) in self.creatable(model, caller, nonce).await {
                    let row = self.server.create(model, body).await;
                    rows.push((key_of(&schema_model, &row), label));
                }
                rows
            }
        }
    }
}
