//! Who may do what in the multi-tenant platform: the access table of
//! `apps/multitenant/README.md` and the world it is checked on.
//!
//! The world: three tenants, `acme` and `globex` active and `initech` suspended, each with
//! a role, a permission granted to it, an OAuth client and invitations (a global OAuth
//! client belongs to none); accounts that each belong to one tenant and name one (or none)
//! in `X-Tenant`; and a row of every model that belongs to a user for each account
//! (passkeys, tokens, logs, notifications, an invitation to their address from each tenant).

use std::collections::HashMap;

use serde_json::{json, Value};
use tessera_schema::ir::{Model, RelationKind};

use crate::support::access::{key_of, section, Cell, Matrix, Phrase, Section, Who, World};
use crate::support::rows::{creation_order, linked_row};
use crate::support::AppServer;

/// Whom a row is of: the account (the account itself, its owner, the address it invites)
/// and the tenant (the tenant itself, or the tenant it belongs to).
#[derive(Clone, Debug, Default)]
pub struct Row {
    pub user: Option<&'static str>,
    pub tenant: Option<&'static str>,
}

/// The tenants: name and status.
const TENANTS: [(&str, &str); 3] = [
    ("acme", "active"),
    ("globex", "active"),
    ("initech", "suspended"),
];

/// An account of the world.
struct Account {
    name: &'static str,
    status: &'static str,
    /// The one tenant the account is a member of, and its role names there.
    member_of: &'static str,
    roles: &'static [&'static str],
    /// The tenant its requests name in `X-Tenant`.
    names: Option<&'static str>,
}

const fn account(
    name: &'static str,
    status: &'static str,
    member_of: &'static str,
    roles: &'static [&'static str],
    names: Option<&'static str>,
) -> Account {
    Account {
        name,
        status,
        member_of,
        roles,
        names,
    }
}

const ACCOUNTS: [Account; 7] = [
    account("ann", "active", "acme", &["member"], Some("acme")),
    account("bob", "active", "globex", &["member"], Some("globex")),
    account("ada", "active", "acme", &["admin"], Some("acme")),
    account("nat", "active", "acme", &["member"], None),
    account("eve", "active", "acme", &["member"], Some("globex")),
    account("sue", "active", "initech", &["member"], Some("initech")),
    account("sam", "suspended", "acme", &["member"], Some("acme")),
];

fn account_of(caller: &str) -> Option<&'static Account> {
    ACCOUNTS.iter().find(|a| a.name == caller)
}

/// The tenant whose rows `caller` reaches: the one their requests name, when their active
/// account is a member of it and it is active.
fn tenant_reached(caller: &str) -> Option<&'static str> {
    let account = account_of(caller).filter(|a| a.status == "active")?;
    let tenant = account.names.filter(|t| *t == account.member_of)?;
    TENANTS
        .iter()
        .any(|(name, status)| *name == tenant && *status == "active")
        .then_some(tenant)
}

fn own(caller: &str, row: &Row) -> bool {
    row.user == Some(caller)
}

fn of_their_tenant(caller: &str, row: &Row) -> bool {
    row.tenant.is_some() && row.tenant == tenant_reached(caller)
}

static NONE: Phrase<Row> = Phrase {
    text: "none",
    holds: |_, _| false,
};
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
static THEIR_TENANT: Phrase<Row> = Phrase {
    text: "of their tenant",
    holds: of_their_tenant,
};
static OWN_AND_THEIR_TENANT: Phrase<Row> = Phrase {
    text: "own; of their tenant",
    holds: |caller, row| own(caller, row) || of_their_tenant(caller, row),
};
static TO_THEM_AND_THEIR_TENANT: Phrase<Row> = Phrase {
    text: "addressed to their email; of their tenant",
    holds: |caller, row| own(caller, row) || of_their_tenant(caller, row),
};

use Cell::{Denied, Rows};

const WHO: &[Who] = &[
    Who {
        name: "anonymous",
        callers: &["anonymous"],
    },
    Who {
        name: "member naming their tenant",
        callers: &["ann", "bob"],
    },
    Who {
        name: "member with the role `admin`, naming their tenant",
        callers: &["ada"],
    },
    Who {
        name: "member naming no tenant",
        callers: &["nat"],
    },
    Who {
        name: "member naming a tenant they are not in",
        callers: &["eve"],
    },
    Who {
        name: "member of a suspended tenant, naming it",
        callers: &["sue"],
    },
    Who {
        name: "suspended user",
        callers: &["sam"],
    },
];

/// A section's rows: nothing for anonymous callers and suspended accounts, `named` for
/// members naming their tenant (admins too), `other` for the other active accounts.
fn by_caller(
    models: &'static [&'static str],
    named: [Cell<Row>; 4],
    other: [Cell<Row>; 4],
) -> Section<Row> {
    let denied = [Denied; 4];
    section(
        WHO,
        models,
        [denied, named, named, other, other, other, denied],
    )
}

/// The platform's access table.
pub fn matrix() -> Matrix<Row> {
    let read = |phrase: &'static Phrase<Row>| [Rows(phrase), Denied, Denied, Denied];
    let own_account = [Rows(&OWN_ACCOUNT), Denied, Rows(&OWN_ACCOUNT), Denied];
    let read_delete_own = [Rows(&OWN), Denied, Denied, Rows(&OWN)];
    let notifications = [Rows(&OWN), Denied, Rows(&OWN), Rows(&OWN)];
    Matrix {
        who: WHO,
        sections: vec![
            by_caller(&["User"], own_account, own_account),
            by_caller(
                &["LoginHistory", "SecurityAuditLog", "ActivityLog"],
                read(&OWN),
                read(&OWN),
            ),
            by_caller(
                &["Authenticator", "OAuthToken"],
                read_delete_own,
                read_delete_own,
            ),
            by_caller(&["Notification"], notifications, notifications),
            by_caller(&["TenantUser"], read(&OWN_AND_THEIR_TENANT), read(&OWN)),
            by_caller(
                &["Invitation"],
                read(&TO_THEM_AND_THEIR_TENANT),
                read(&TO_THEM),
            ),
            by_caller(
                &[
                    "Tenant",
                    "Role",
                    "Permission",
                    "RolePermission",
                    "OAuthClient",
                ],
                read(&THEIR_TENANT),
                read(&NONE),
            ),
        ],
    }
}

/// The world every access test of the platform runs in.
pub struct TenantWorld {
    pub server: AppServer,
    accounts: HashMap<&'static str, Value>,
    tokens: HashMap<&'static str, String>,
    /// A row of each model, the parent of rows made later.
    created: HashMap<String, Value>,
    /// The rows of each tenant (itself, its role, permission, ...) that its rows link to.
    of_tenant: HashMap<&'static str, HashMap<String, Value>>,
    rows: HashMap<String, Vec<(String, Row)>>,
}

/// Whether `model` belongs to a user: it has a to-one relation `user` to `User`.
fn of_a_user(model: &Model) -> bool {
    model.relations.iter().any(|r| {
        r.name == "user"
            && matches!(&r.kind, RelationKind::ToOne { target, .. } if target == "User")
    })
}

fn tenant_names() -> impl Iterator<Item = &'static str> {
    TENANTS.iter().map(|(name, _)| *name)
}

/// The rows of `model` the world holds (memberships aside): one per account where it
/// belongs to a user, one per tenant where it belongs to a tenant, an invitation from each
/// tenant to each account, and a global OAuth client.
fn labels(model: &Model) -> Vec<Row> {
    let per_tenant = |user: Option<&'static str>| {
        tenant_names().map(move |tenant| Row {
            user,
            tenant: Some(tenant),
        })
    };
    match model.name.as_str() {
        "Invitation" => ACCOUNTS
            .iter()
            .flat_map(|a| per_tenant(Some(a.name)))
            .collect(),
        "OAuthClient" => per_tenant(None).chain([Row::default()]).collect(),
        "Role" | "Permission" | "RolePermission" => per_tenant(None).collect(),
        _ if of_a_user(model) => ACCOUNTS
            .iter()
            .map(|a| Row {
                user: Some(a.name),
                tenant: None,
            })
            .collect(),
        _ => vec![Row::default()],
    }
}

impl TenantWorld {
    pub async fn build(server: AppServer) -> TenantWorld {
        let schema = server.schema.clone();
        let mut world = TenantWorld {
            server,
            accounts: HashMap::new(),
            tokens: HashMap::new(),
            created: HashMap::new(),
            of_tenant: HashMap::new(),
            rows: HashMap::new(),
        };
        let user_model = schema.model("User").expect("User");
        for (n, account) in ACCOUNTS.iter().enumerate() {
            let name = account.name;
            let mut body = linked_row(&schema, user_model, n + 1, &world.created);
            body.insert("email".into(), json!(format!("{name}@example.com")));
            body.insert("status".into(), json!(account.status));
            let label = Row {
                user: Some(name),
                tenant: None,
            };
            let row = world.add("User", Value::Object(body), label).await;
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
        let tenant_model = schema.model("Tenant").expect("Tenant");
        for (n, (name, status)) in TENANTS.into_iter().enumerate() {
            let mut body = linked_row(&schema, tenant_model, 50 + n, &world.created);
            body.insert("name".into(), json!(name));
            body.insert("slug".into(), json!(name));
            body.insert("status".into(), json!(status));
            let label = Row {
                user: None,
                tenant: Some(name),
            };
            let row = world.add("Tenant", Value::Object(body), label).await;
            world
                .of_tenant
                .entry(name)
                .or_default()
                .insert("Tenant".into(), row);
        }
        for account in &ACCOUNTS {
            let body = json!({
                "userId": world.accounts[account.name]["id"],
                "tenantId": world.of_tenant[account.member_of]["Tenant"]["id"],
                "roles": account.roles,
            });
            let label = Row {
                user: Some(account.name),
                tenant: Some(account.member_of),
            };
            world.add("TenantUser", body, label).await;
        }
        let mut n = 100;
        for model in creation_order(&schema) {
            if ["User", "Tenant", "TenantUser"].contains(&model.name.as_str()) {
                continue;
            }
            for label in labels(model) {
                n += 1;
                let body = world.body(model, &label, n);
                let row = world.add(&model.name, body, label.clone()).await;
                if let Some(tenant) = label.tenant.filter(|_| label.user.is_none()) {
                    world
                        .of_tenant
                        .entry(tenant)
                        .or_default()
                        .insert(model.name.clone(), row.clone());
                }
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

    /// A valid row of `model` of the account and tenant `label` names (an invitation: sent
    /// to the account's address).
    fn body(&self, model: &Model, label: &Row, n: usize) -> Value {
        let mut parents = self.created.clone();
        if let Some(tenant) = label.tenant {
            parents.extend(self.of_tenant[tenant].clone());
        }
        if let Some(user) = label.user {
            parents.insert("User".into(), self.accounts[user].clone());
        }
        let mut body = Value::Object(linked_row(&self.server.schema, model, n, &parents));
        if model.name == "Invitation" {
            let to = label.user.unwrap_or("nobody");
            body["email"] = json!(format!("{to}@example.com"));
        }
        body
    }
}

impl World for TenantWorld {
    type Label = Row;

    crate::world_accessors!();

    /// The tenant the caller's requests are for, by its id.
    fn headers(&self, caller: &str) -> Vec<(&'static str, String)> {
        account_of(caller)
            .and_then(|a| a.names)
            .map(|tenant| {
                let id = self.of_tenant[tenant]["Tenant"]["id"]
                    .as_str()
                    .expect("an id");
                vec![("x-tenant", id.to_owned())]
            })
            .unwrap_or_default()
    }

    fn patch(&self, model: &str, _caller: &str) -> Value {
        match model {
            "User" => json!({ "name": "Changed" }),
            "Notification" => json!({ "read": true }),
            _ => json!({}),
        }
    }

    /// Fresh rows of `model` as the world holds them (a membership of each account in a
    /// tenant it is not yet in).
    async fn creatable(&self, model: &str, _caller: &str, nonce: usize) -> Vec<(Value, Row)> {
        let schema_model = self.server.schema.model(model).expect("a model");
        let n = 10_000 + nonce * 32;
        match model {
            "User" => {
                let mut body = self.body(schema_model, &Row::default(), n);
                body["email"] = json!(format!("new-{nonce}@example.com"));
                vec![(body, Row::default())]
            }
            "TenantUser" => ACCOUNTS
                .iter()
                .map(|a| {
                    let tenant = tenant_names()
                        .find(|t| *t != a.member_of)
                        .expect("a tenant");
                    let label = Row {
                        user: Some(a.name),
                        tenant: Some(tenant),
                    };
                    (self.body(schema_model, &label, n), label)
                })
                .collect(),
            _ => labels(schema_model)
                .into_iter()
                .enumerate()
                .map(|(i, label)| (self.body(schema_model, &label, n + i), label))
                .collect(),
        }
    }
}
