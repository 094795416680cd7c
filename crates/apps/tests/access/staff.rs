//! Who may do what in the FaceKom apps, whose operators act by role: the access table of
//! `apps/facekom-vuer/README.md` and `apps/facekom-esign/README.md`, and the world both are
//! checked on.
//!
//! The world: accounts of every role (`operator`, `supervisor`, `admin`), an administrator
//! whose account is not active (`deactivated`), and `stranger`, an operator who is no
//! caller. Every model gets a row made from the schema alone (see `support::rows`); models
//! pointing at accounts get one row for each account.

use std::collections::HashMap;

use serde_json::{json, Value};
use tessera_schema::ir::{Model, RelationKind};

use crate::support::access::{key_of, section, Cell, Matrix, Phrase, Who, World};
use crate::support::rows::{creation_order, linked_row};
use crate::support::AppServer;

/// The accounts a row points at (an account itself, an owner, an actor).
#[derive(Clone, Debug, Default)]
pub struct Row {
    pub users: Vec<&'static str>,
}

/// The accounts of the world: name, role, active.
const ACCOUNTS: [(&str, &str, bool); 5] = [
    ("deactivated", "admin", false),
    ("operator", "operator", true),
    ("supervisor", "supervisor", true),
    ("admin", "admin", true),
    ("stranger", "operator", true),
];

static ALL: Phrase<Row> = Phrase {
    text: "all",
    holds: |_, _| true,
};
static OWN_ACCOUNT: Phrase<Row> = Phrase {
    text: "own account",
    holds: |c, r| r.users.contains(&c),
};
static OWN: Phrase<Row> = Phrase {
    text: "own",
    holds: |c, r| r.users.contains(&c),
};

use Cell::{Denied, Rows};

const WHO: &[Who] = &[
    Who {
        name: "anonymous",
        callers: &["anonymous"],
    },
    Who {
        name: "deactivated account",
        callers: &["deactivated"],
    },
    Who {
        name: "operator",
        callers: &["operator"],
    },
    Who {
        name: "supervisor",
        callers: &["supervisor"],
    },
    Who {
        name: "admin",
        callers: &["admin"],
    },
];

/// What a group of models is, for access.
#[allow(dead_code)] // each app has some of them
pub enum Kind {
    /// The records of identification and signing work: staff read, create and update them;
    /// supervisors and admins delete them.
    Operational,
    /// Templates and reference data: staff read them; admins write them.
    Reference,
    /// Configuration and system records: admins only.
    Admin,
    /// Logs and audit trails: admins read them; nobody writes them but the service.
    Log,
    /// Accounts: each their own, admins every one.
    Accounts,
    /// An account's second factors: its owner (and admins) read and remove them.
    Credentials,
    /// Secrets of the sign-in machinery: the service's alone.
    Service,
}

/// The table of an app whose models fall in these groups.
pub fn matrix(groups: Vec<(&'static [&'static str], Kind)>) -> Matrix<Row> {
    let denied = [Denied; 4];
    let all = [Rows(&ALL); 4];
    let read_all = [Rows(&ALL), Denied, Denied, Denied];
    Matrix {
        who: WHO,
        sections: groups
            .into_iter()
            .map(|(models, kind)| {
                let rows = match kind {
                    Kind::Operational => {
                        let staff = [Rows(&ALL), Rows(&ALL), Rows(&ALL), Denied];
                        [denied, denied, staff, all, all]
                    }
                    Kind::Reference => [denied, denied, read_all, read_all, all],
                    Kind::Admin => [denied, denied, denied, denied, all],
                    Kind::Log => [denied, denied, denied, denied, read_all],
                    Kind::Accounts => {
                        let own = [Rows(&OWN_ACCOUNT), Denied, Rows(&OWN_ACCOUNT), Denied];
                        [denied, denied, own, own, all]
                    }
                    Kind::Credentials => {
                        let own = [Rows(&OWN), Denied, Denied, Rows(&OWN)];
                        [
                            denied,
                            denied,
                            own,
                            own,
                            [Rows(&ALL), Denied, Denied, Rows(&ALL)],
                        ]
                    }
                    Kind::Service => [denied; 5],
                };
                section(WHO, models, rows)
            })
            .collect(),
    }
}

/// The world every access test of a FaceKom app runs in.
pub struct StaffWorld {
    pub server: AppServer,
    accounts: HashMap<&'static str, Value>,
    tokens: HashMap<&'static str, String>,
    /// One row of each model, the parents of the rows made later.
    created: HashMap<String, Value>,
    rows: HashMap<String, Vec<(String, Row)>>,
    account_model: String,
}

impl StaffWorld {
    pub async fn build(server: AppServer) -> StaffWorld {
        let schema = server.schema.clone();
        let (account_model, _) = schema.identity_model().expect("an account model");
        let mut world = StaffWorld {
            server,
            accounts: HashMap::new(),
            tokens: HashMap::new(),
            created: HashMap::new(),
            rows: HashMap::new(),
            account_model: account_model.name.clone(),
        };
        for (n, (name, role, active)) in ACCOUNTS.into_iter().enumerate() {
            let mut body = linked_row(&schema, account_model, n + 1, &world.created);
            body.insert("username".into(), json!(name));
            body.insert("email".into(), json!(format!("{name}@example.com")));
            body.insert("role".into(), json!(role));
            body.insert("active".into(), json!(active));
            let row = world
                .add(
                    &account_model.name,
                    Value::Object(body),
                    Row { users: vec![name] },
                )
                .await;
            let token = world.server.token_for(
                row["id"].as_str().expect("an id"),
                &format!("{name}@example.com"),
            );
            world.tokens.insert(name, token);
            world.accounts.insert(name, row);
        }
        world.created.insert(
            account_model.name.clone(),
            world.accounts["stranger"].clone(),
        );
        let mut n = 100;
        for model in creation_order(&schema) {
            if model.name == account_model.name {
                continue;
            }
            let mut owners: Vec<&'static str> = vec!["stranger"];
            if world.points_at_accounts(model) {
                owners.extend(["deactivated", "operator", "supervisor", "admin"]);
            }
            for owner in owners {
                n += 1;
                let body = world.body(model, owner, n);
                let row = world
                    .add(&model.name, body, Row { users: vec![owner] })
                    .await;
                world.created.entry(model.name.clone()).or_insert(row);
            }
        }
        world
    }

    async fn add(&mut self, model: &str, body: Value, label: Row) -> Value {
        let row = self.server.create(model, body).await;
        let schema_model = self.server.schema.model(model).expect("a model");
        self.rows
            .entry(model.to_string())
            .or_default()
            .push((key_of(schema_model, &row), label));
        row
    }

    /// Whether `model` has a to-one relation to the accounts.
    fn points_at_accounts(&self, model: &Model) -> bool {
        model.relations.iter().any(|r| {
            matches!(&r.kind, RelationKind::ToOne { target, .. } if *target == self.account_model)
        })
    }

    /// A valid row of `model` whose references to accounts name `owner`.
    fn body(&self, model: &Model, owner: &str, n: usize) -> Value {
        let mut parents = self.created.clone();
        parents.insert(self.account_model.clone(), self.accounts[owner].clone());
        Value::Object(linked_row(&self.server.schema, model, n, &parents))
    }

    /// Like [`StaffWorld::body`], with a fresh parent (made with the service key) for each
    /// relation that takes a parent once only (`app -> App @unique`).
    async fn fresh_body(&self, model: &Model, owner: &str, n: usize) -> Value {
        let mut body = self.body(model, owner, n);
        for relation in &model.relations {
            let RelationKind::ToOne {
                target,
                field,
                references,
                ..
            } = &relation.kind
            else {
                continue;
            };
            let once = model.indexes.iter().any(|i| {
                i.unique
                    && i.fields.len() == 1
                    && (i.fields[0].field == *field || i.fields[0].field == relation.name)
            });
            let (Some(fk), Some(parent_model)) =
                (model.field(field), self.server.schema.model(target))
            else {
                continue;
            };
            if once {
                let parent = self
                    .server
                    .create(target, self.body(parent_model, owner, n + 50_000))
                    .await;
                body[&fk.column] = parent[references].clone();
            }
        }
        body
    }
}

impl World for StaffWorld {
    type Label = Row;

    crate::world_accessors!();

    fn patch(&self, model: &str, _caller: &str) -> Value {
        if model == self.account_model {
            json!({ "name": "Changed" })
        } else {
            // Every model keeps its update time: an empty change touches it, and nothing else.
            json!({})
        }
    }

    /// A fresh row of `model`; where it points at accounts, one of the stranger's and one of
    /// the caller's own.
    async fn creatable(&self, model: &str, caller: &str, nonce: usize) -> Vec<(Value, Row)> {
        let schema_model = self.server.schema.model(model).expect("a model");
        let n = 10_000 + nonce * 3;
        if model == self.account_model {
            let mut body = self.body(schema_model, "stranger", n);
            body["username"] = json!(format!("new-{nonce}"));
            body["email"] = json!(format!("new-{nonce}@example.com"));
            return vec![(body, Row::default())];
        }
        let mut bodies = vec![(
            self.fresh_body(schema_model, "stranger", n).await,
            Row {
                users: vec!["stranger"],
            },
        )];
        if self.points_at_accounts(schema_model) {
            if let Some((name, _, _)) = ACCOUNTS.iter().find(|(name, _, _)| *name == caller) {
                bodies.push((
                    self.fresh_body(schema_model, name, n + 1).await,
                    Row { users: vec![name] },
                ));
            }
        }
        bodies
    }
}

/// The tests of the access table shared by both FaceKom apps, for the app the calling test
/// file names in `APP`, with its `matrix()` and `readme()`.
macro_rules! staff_access_tests {
    () => {
        engine_tests! {
            /// Each account reads exactly what its role gives it, as the README's access table
            /// says; the table covers every model.
            async fn every_read_cell_of_the_access_table_holds(db: Database) {
                let world = StaffWorld::build(AppServer::start(APP, &db).await).await;
                let matrix = matrix();
                matrix.assert_complete(&world.server);
                assert_none(check_reads(&world, &matrix).await);
                assert_readme_shows(&readme(), &matrix);
            }

            /// Each account creates exactly what its role allows.
            async fn every_create_cell_of_the_access_table_holds(db: Database) {
                let world = StaffWorld::build(AppServer::start(APP, &db).await).await;
                assert_none(check_creates(&world, &matrix()).await);
            }

            /// Each account updates exactly what its role allows.
            async fn every_update_cell_of_the_access_table_holds(db: Database) {
                let world = StaffWorld::build(AppServer::start(APP, &db).await).await;
                assert_none(check_updates(&world, &matrix()).await);
            }

            /// Each account deletes exactly what its role allows.
            async fn every_delete_cell_of_the_access_table_holds(db: Database) {
                let world = StaffWorld::build(AppServer::start(APP, &db).await).await;
                assert_none(check_deletes(&world, &matrix()).await);
            }

            /// A self-service sign-up makes an inactive operator account, which may do nothing
            /// until the service activates it; then it works as an operator.
            async fn a_signed_up_account_does_nothing_until_activated(db: Database) {
                let server = AppServer::start(APP, &db).await;
                let (token, account) = server.signed_up_with("new@example.com", json!({ "username": "new" })).await;
                assert_eq!((&account["role"], &account["active"]), (&json!("operator"), &json!(false)));
                let path = "/rest/v1/Customer";
                let refused = support::send(server.request_as(Some(&token), reqwest::Method::GET, path)).await;
                assert_eq!(refused.status, 403, "{}", refused.body);
                let me = format!("/rest/v1/User?id=eq.{}", account["id"].as_str().expect("an id"));
                let promote = || {
                    support::send(
                        server
                            .request_as(Some(&token), reqwest::Method::PATCH, &me)
                            .json(&json!({ "active": true, "role": "admin" })),
                    )
                };
                let refused = promote().await;
                assert_eq!(refused.status, 403, "an inactive account changes nothing: {}", refused.body);
                server.patch(&me, json!({ "active": true })).await.expect(200, "the service activates the account");
                let read = support::send(server.request_as(Some(&token), reqwest::Method::GET, path)).await;
                assert_eq!(read.status, 200, "{}", read.body);
                let refused = promote().await;
                assert_eq!(refused.status, 422, "roles are the service's to give: {}", refused.body);
            }
        }
    };
}
