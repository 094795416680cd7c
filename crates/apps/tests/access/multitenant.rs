//! Who may do what in the multi-tenant platform: the access table of
//! `apps/multitenant/README.md` and the world it is checked on.
//!
//! The world: one tenant with its roles, permissions and OAuth client; two active users,
//! `ann` and `bob`, and a suspended one, `sam`, each with a row of every model that belongs
//! to a user (memberships, passkeys, tokens, logs, notifications, an invitation to their
//! address). Tenant-scoped models are closed to every caller but the service until a
//! request can name its tenant.

use std::collections::HashMap;

use serde_json::{json, Value};
use tessera_schema::ir::{Model, RelationKind};

use crate::support::access::{key_of, section, Cell, Matrix, Phrase, Who, World};
use crate::support::rows::{creation_order, linked_row};
use crate::support::AppServer;

/// The account a row is of (the account itself, its owner, the address it invites).
#[derive(Clone, Debug, Default)]
pub struct Row {
    pub user: Option<&'static str>,
}

/// The accounts: name and status.
const ACCOUNTS: [(&str, &str); 3] = [("ann", "active"), ("bob", "active"), ("sam", "suspended")];

fn own(caller: &str, row: &Row) -> bool {
    row.user == Some(caller)
}

static OWN: Phrase<Row> = Phrase {
    text: "own",
    holds: own,
};
static OWN_ACCOUNT: Phrase<Row> = Phrase {
    text: "own account",
    holds: own,
};
static TO_THEM: Phrase<Row> = Phrase {
    text: "addressed to their email",
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
        callers: &["ann", "bob"],
    },
    Who {
        name: "suspended user",
        callers: &["sam"],
    },
];

/// The platform's access table.
pub fn matrix() -> Matrix<Row> {
    let denied = [Denied; 4];
    let read_own = |phrase: &'static Phrase<Row>| [Rows(phrase), Denied, Denied, Denied];
    Matrix {
        who: WHO,
        sections: vec![
            section(
                WHO,
                &["User"],
                [
                    denied,
                    [Rows(&OWN_ACCOUNT), Denied, Rows(&OWN_ACCOUNT), Denied],
                    denied,
                ],
            ),
            section(
                WHO,
                &[
                    "TenantUser",
                    "LoginHistory",
                    "SecurityAuditLog",
                    "ActivityLog",
                ],
                [denied, read_own(&OWN), denied],
            ),
            section(
                WHO,
                &["Authenticator", "OAuthToken"],
                [denied, [Rows(&OWN), Denied, Denied, Rows(&OWN)], denied],
            ),
            section(
                WHO,
                &["Notification"],
                [denied, [Rows(&OWN), Denied, Rows(&OWN), Rows(&OWN)], denied],
            ),
            section(WHO, &["Invitation"], [denied, read_own(&TO_THEM), denied]),
            section(
                WHO,
                &[
                    "Tenant",
                    "Role",
                    "Permission",
                    "RolePermission",
                    "OAuthClient",
                ],
                [denied; 3],
            ),
        ],
    }
}

/// The world every access test of the platform runs in.
pub struct TenantWorld {
    pub server: AppServer,
    accounts: HashMap<&'static str, Value>,
    tokens: HashMap<&'static str, String>,
    created: HashMap<String, Value>,
    rows: HashMap<String, Vec<(String, Row)>>,
}

/// Whether `model` belongs to a user: it has a required to-one relation `user`.
fn of_a_user(model: &Model) -> bool {
    model.relations.iter().any(|r| {
        r.name == "user"
            && matches!(&r.kind, RelationKind::ToOne { target, .. } if target == "User")
    })
}

impl TenantWorld {
    pub async fn build(server: AppServer) -> TenantWorld {
        let schema = server.schema.clone();
        let mut world = TenantWorld {
            server,
            accounts: HashMap::new(),
            tokens: HashMap::new(),
            created: HashMap::new(),
            rows: HashMap::new(),
        };
        let user_model = schema.model("User").expect("User");
        for (n, (name, status)) in ACCOUNTS.into_iter().enumerate() {
            let mut body = linked_row(&schema, user_model, n + 1, &world.created);
            body.insert("email".into(), json!(format!("{name}@example.com")));
            body.insert("status".into(), json!(status));
            let row = world
                .add("User", Value::Object(body), Row { user: Some(name) })
                .await;
            let token = world.server.token_for(
                row["id"].as_str().expect("an id"),
                &format!("{name}@example.com"),
            );
            world.tokens.insert(name, token);
            world.accounts.insert(name, row);
        }
        world
            .created
            .insert("User".into(), world.accounts["ann"].clone());
        let mut n = 100;
        for model in creation_order(&schema) {
            if model.name == "User" {
                continue;
            }
            let owners: Vec<Option<&'static str>> =
                if of_a_user(model) || model.name == "Invitation" {
                    ACCOUNTS.iter().map(|(name, _)| Some(*name)).collect()
                } else {
                    vec![None]
                };
            for owner in owners {
                n += 1;
                let body = world.body(model, owner, n);
                let row = world.add(&model.name, body, Row { user: owner }).await;
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

    /// A valid row of `model`, of `owner` where it belongs to a user (an invitation: sent
    /// to `owner`'s address).
    fn body(&self, model: &Model, owner: Option<&str>, n: usize) -> Value {
        let mut parents = self.created.clone();
        if let Some(owner) = owner {
            parents.insert("User".into(), self.accounts[owner].clone());
        }
        let mut body = Value::Object(linked_row(&self.server.schema, model, n, &parents));
        if model.name == "Invitation" {
            body["email"] = json!(format!("{}@example.com", owner.unwrap_or("nobody")));
        }
        body
    }
}

impl World for TenantWorld {
    type Label = Row;

    crate::world_accessors!();

    fn patch(&self, model: &str, _caller: &str) -> Value {
        match model {
            "User" => json!({ "name": "Changed" }),
            "Notification" => json!({ "read": true }),
            _ => json!({}),
        }
    }

    /// A fresh row of `model` for each account (one row where the model belongs to none).
    async fn creatable(&self, model: &str, _caller: &str, nonce: usize) -> Vec<(Value, Row)> {
        let schema_model = self.server.schema.model(model).expect("a model");
        let n = 10_000 + nonce * 4;
        if model == "User" {
            let mut body = self.body(schema_model, None, n);
            body["email"] = json!(format!("new-{nonce}@example.com"));
            return vec![(body, Row::default())];
        }
        if of_a_user(schema_model) || model == "Invitation" {
            ACCOUNTS
                .iter()
                .enumerate()
                .map(|(i, (name, _))| {
                    (
                        self.body(schema_model, Some(name), n + i),
                        Row { user: Some(name) },
                    )
                })
                .collect()
        } else {
            vec![(self.body(schema_model, None, n), Row::default())]
        }
    }
}
