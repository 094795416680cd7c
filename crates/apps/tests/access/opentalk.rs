//! Who may do what in OpenTalk: the access table of `apps/opentalk/README.md` and the world
//! it is checked on.
//!
//! The world: one tenant (and a second one, for rows put in the wrong tenant). `carl`
//! created the room `Mine` and its event; `ivan` is invited to the event as a user, `mona`
//! as a moderator, `dora` as a moderator who declined; `gina` shares a group with Carl;
//! `olga` is signed in and nothing more. `stranger` (no caller) created the room `Theirs`
//! and its event.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::support::access::{key_of, section, Cell, Matrix, Phrase, Who, World};
use crate::support::AppServer;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Carl's room and event, and everything of them.
    Mine,
    /// The stranger's.
    Theirs,
}

/// Which room or event a row belongs to, the accounts it is of (an account itself, a
/// group's members, an invitee, whoever a new row names as its creator or user), and
/// whether it names a tenant other than its creator's.
#[derive(Clone, Debug, Default)]
pub struct Row {
    pub scope: Option<Scope>,
    pub users: Vec<&'static str>,
    pub foreign_tenant: bool,
}

impl Row {
    fn of(scope: Scope, users: &[&'static str]) -> Row {
        Row {
            scope: Some(scope),
            users: users.to_vec(),
            foreign_tenant: false,
        }
    }

    fn users(users: &[&'static str]) -> Row {
        Row {
            users: users.to_vec(),
            ..Row::default()
        }
    }
}

/// Every account of the world.
const ACCOUNTS: [&str; 7] = ["olga", "gina", "ivan", "dora", "mona", "carl", "stranger"];

/// The groups of the world and their members.
const GROUPS: [(&str, &[&str]); 3] = [
    ("team", &["carl", "gina"]),
    ("solo", &["olga"]),
    ("strangers", &["stranger"]),
];

/// Who sees Carl's room and event: its creator, those invited, and his group.
fn sees(caller: &str) -> bool {
    matches!(caller, "carl" | "gina" | "ivan" | "dora" | "mona")
}

/// Who changes them: the creator and the moderators who have not declined.
fn moderates(caller: &str) -> bool {
    matches!(caller, "carl" | "mona")
}

fn seen(caller: &str, row: &Row) -> bool {
    row.scope == Some(Scope::Mine) && sees(caller)
}

fn moderated(caller: &str, row: &Row) -> bool {
    row.scope == Some(Scope::Mine) && moderates(caller)
}

fn own(caller: &str, row: &Row) -> bool {
    row.users.contains(&caller)
}

fn shares_a_group(caller: &str, user: &str) -> bool {
    GROUPS
        .iter()
        .any(|(_, members)| members.contains(&caller) && members.contains(&user))
}

fn new_where_moderated(caller: &str, row: &Row) -> bool {
    own(caller, row) && moderated(caller, row) && !row.foreign_tenant
}

static NONE: Phrase<Row> = Phrase {
    text: "none",
    holds: |_, _| false,
};
static OWN_ACCOUNT: Phrase<Row> = Phrase {
    text: "own account",
    holds: own,
};
static ACCOUNTS_SEEN: Phrase<Row> = Phrase {
    text: "own account; members of their groups",
    holds: |c, r| own(c, r) || r.users.iter().any(|u| shares_a_group(c, u)),
};
static THEIR_TARIFF: Phrase<Row> = Phrase {
    text: "their tariff",
    holds: own,
};
static THEIR_GROUPS: Phrase<Row> = Phrase {
    text: "of their groups",
    holds: own,
};
static SHARED: Phrase<Row> = Phrase {
    text: "of their group members' rooms and events",
    holds: seen,
};
static INVITED: Phrase<Row> = Phrase {
    text: "of events they are invited to",
    holds: seen,
};
static MODERATED: Phrase<Row> = Phrase {
    text: "of events they moderate",
    holds: moderated,
};
static CREATED: Phrase<Row> = Phrase {
    text: "of their own rooms and events",
    holds: moderated,
};
static NEW_ROOM: Phrase<Row> = Phrase {
    text: "created by them, in their tenant",
    holds: |c, r| own(c, r) && !r.foreign_tenant,
};
static NEW_MODERATED: Phrase<Row> = Phrase {
    text: "created by them, where they moderate",
    holds: new_where_moderated,
};
static NEW_CREATED: Phrase<Row> = Phrase {
    text: "created by them, in their own rooms and events",
    holds: new_where_moderated,
};
static OWN_INVITATION: Phrase<Row> = Phrase {
    text: "their own invitation",
    holds: own,
};
static OWN: Phrase<Row> = Phrase {
    text: "own",
    holds: own,
};
static OWN_SEEN: Phrase<Row> = Phrase {
    text: "own, of events they see",
    holds: |c, r| own(c, r) && seen(c, r),
};
static THEIR_OWN: Phrase<Row> = Phrase {
    text: "their own",
    holds: |c, r| own(c, r) && moderated(c, r),
};

use Cell::{Denied, Rows};

const WHO: &[Who] = &[
    Who {
        name: "anonymous",
        callers: &["anonymous"],
    },
    Who {
        name: "signed-in user",
        callers: &["olga"],
    },
    Who {
        name: "group member",
        callers: &["gina"],
    },
    Who {
        name: "invitee",
        callers: &["ivan", "dora"],
    },
    Who {
        name: "moderator",
        callers: &["mona"],
    },
    Who {
        name: "creator",
        callers: &["carl"],
    },
];

/// OpenTalk's access table.
pub fn matrix() -> Matrix<Row> {
    let denied = [Denied; 4];
    let read_only = |read: &'static Phrase<Row>| [Rows(read), Denied, Denied, Denied];
    let reads = |read: &'static Phrase<Row>| [Rows(read), Denied, Rows(&NONE), Rows(&NONE)];
    Matrix {
        who: WHO,
        sections: vec![
            section(
                WHO,
                &[
                    "tenants",
                    "external_tariffs",
                    "jobs",
                    "job_executions",
                    "job_execution_logs",
                    "casbin_rule",
                    "refinery_schema_history",
                ],
                [denied; 6],
            ),
            section(
                WHO,
                &["tariffs"],
                [
                    denied,
                    read_only(&THEIR_TARIFF),
                    read_only(&THEIR_TARIFF),
                    read_only(&THEIR_TARIFF),
                    read_only(&THEIR_TARIFF),
                    read_only(&THEIR_TARIFF),
                ],
            ),
            section(WHO, &["users"], {
                let account = [Rows(&ACCOUNTS_SEEN), Denied, Rows(&OWN_ACCOUNT), Denied];
                [denied, account, account, account, account, account]
            }),
            section(
                WHO,
                &["groups", "user_groups"],
                [
                    denied,
                    read_only(&THEIR_GROUPS),
                    read_only(&THEIR_GROUPS),
                    read_only(&THEIR_GROUPS),
                    read_only(&THEIR_GROUPS),
                    read_only(&THEIR_GROUPS),
                ],
            ),
            section(
                WHO,
                &["rooms"],
                [
                    denied,
                    [Rows(&NONE), Rows(&NEW_ROOM), Rows(&NONE), Rows(&NONE)],
                    [Rows(&SHARED), Rows(&NEW_ROOM), Rows(&NONE), Rows(&NONE)],
                    [Rows(&INVITED), Rows(&NEW_ROOM), Rows(&NONE), Rows(&NONE)],
                    [
                        Rows(&MODERATED),
                        Rows(&NEW_ROOM),
                        Rows(&MODERATED),
                        Rows(&NONE),
                    ],
                    [
                        Rows(&CREATED),
                        Rows(&NEW_ROOM),
                        Rows(&CREATED),
                        Rows(&THEIR_OWN),
                    ],
                ],
            ),
            section(
                WHO,
                &["events"],
                [
                    denied,
                    reads(&NONE),
                    reads(&SHARED),
                    reads(&INVITED),
                    [
                        Rows(&MODERATED),
                        Rows(&NEW_MODERATED),
                        Rows(&MODERATED),
                        Rows(&NONE),
                    ],
                    [
                        Rows(&CREATED),
                        Rows(&NEW_CREATED),
                        Rows(&CREATED),
                        Rows(&THEIR_OWN),
                    ],
                ],
            ),
            section(
                WHO,
                &["invites", "event_email_invites"],
                [
                    denied,
                    reads(&NONE),
                    reads(&NONE),
                    reads(&NONE),
                    [
                        Rows(&MODERATED),
                        Rows(&NEW_MODERATED),
                        Rows(&MODERATED),
                        Rows(&MODERATED),
                    ],
                    [
                        Rows(&CREATED),
                        Rows(&NEW_CREATED),
                        Rows(&CREATED),
                        Rows(&CREATED),
                    ],
                ],
            ),
            section(
                WHO,
                &["event_invites"],
                [
                    denied,
                    reads(&NONE),
                    reads(&NONE),
                    reads(&OWN_INVITATION),
                    [
                        Rows(&MODERATED),
                        Rows(&NEW_MODERATED),
                        Rows(&MODERATED),
                        Rows(&MODERATED),
                    ],
                    [
                        Rows(&CREATED),
                        Rows(&NEW_CREATED),
                        Rows(&CREATED),
                        Rows(&CREATED),
                    ],
                ],
            ),
            section(
                WHO,
                &["event_exceptions"],
                [
                    denied,
                    reads(&NONE),
                    reads(&SHARED),
                    reads(&INVITED),
                    [
                        Rows(&MODERATED),
                        Rows(&NEW_MODERATED),
                        Rows(&MODERATED),
                        Rows(&MODERATED),
                    ],
                    [
                        Rows(&CREATED),
                        Rows(&NEW_CREATED),
                        Rows(&CREATED),
                        Rows(&CREATED),
                    ],
                ],
            ),
            section(
                WHO,
                &["sip_configs", "event_shared_folders"],
                [
                    denied,
                    reads(&NONE),
                    reads(&SHARED),
                    reads(&INVITED),
                    [Rows(&MODERATED); 4],
                    [Rows(&CREATED); 4],
                ],
            ),
            section(
                WHO,
                &[
                    "room_streaming_targets",
                    "event_training_participation_report_parameter_sets",
                ],
                [
                    denied,
                    reads(&NONE),
                    reads(&NONE),
                    reads(&NONE),
                    [Rows(&MODERATED); 4],
                    [Rows(&CREATED); 4],
                ],
            ),
            section(
                WHO,
                &["assets", "room_assets", "module_resources"],
                [
                    denied,
                    read_only(&NONE),
                    read_only(&SHARED),
                    read_only(&INVITED),
                    read_only(&MODERATED),
                    read_only(&CREATED),
                ],
            ),
            section(WHO, &["event_favorites"], {
                let own = [Rows(&OWN), Rows(&OWN_SEEN), Denied, Rows(&OWN_SEEN)];
                [denied, own, own, own, own, own]
            }),
        ],
    }
}

/// The world every access test of OpenTalk runs in.
pub struct TalkWorld {
    pub server: AppServer,
    users: HashMap<&'static str, String>,
    tokens: HashMap<&'static str, String>,
    tenant: String,
    other_tenant: String,
    tariff: String,
    rooms: HashMap<&'static str, String>,
    events: HashMap<&'static str, String>,
    rows: HashMap<String, Vec<(String, Row)>>,
}

fn id(row: &Value) -> String {
    row["id"].as_str().expect("an id").to_owned()
}

/// `Mine` is Carl's, `Theirs` the stranger's.
fn scope_key(scope: Scope) -> &'static str {
    match scope {
        Scope::Mine => "carl",
        Scope::Theirs => "stranger",
    }
}

impl TalkWorld {
    pub async fn build(server: AppServer) -> TalkWorld {
        let mut world = TalkWorld {
            server,
            users: HashMap::new(),
            tokens: HashMap::new(),
            tenant: String::new(),
            other_tenant: String::new(),
            tariff: String::new(),
            rooms: HashMap::new(),
            events: HashMap::new(),
            rows: HashMap::new(),
        };
        let tenant = world
            .add(
                "tenants",
                json!({ "oidc_tenant_id": "acme" }),
                Row::default(),
            )
            .await;
        let other = world
            .add(
                "tenants",
                json!({ "oidc_tenant_id": "other" }),
                Row::default(),
            )
            .await;
        world.tenant = id(&tenant);
        world.other_tenant = id(&other);
        let basic = world
            .add(
                "tariffs",
                json!({ "name": "basic" }),
                Row::users(&["olga", "gina", "ivan", "dora", "mona", "carl"]),
            )
            .await;
        let premium = world
            .add(
                "tariffs",
                json!({ "name": "premium" }),
                Row::users(&["stranger"]),
            )
            .await;
        world.tariff = id(&basic);
        world
            .add(
                "external_tariffs",
                json!({ "external_id": "ext-basic", "tariff_id": id(&basic) }),
                Row::default(),
            )
            .await;
        for name in ACCOUNTS {
            let tariff = if name == "stranger" {
                id(&premium)
            } else {
                id(&basic)
            };
            let body = world.user_body(name, &tariff);
            let user = world.add("users", body, Row::users(&[name])).await;
            world.users.insert(name, id(&user));
            let token = world
                .server
                .token_for(&id(&user), &format!("{name}@example.com"));
            world.tokens.insert(name, token);
        }
        for (name, members) in GROUPS {
            let group = world
                .add(
                    "groups",
                    json!({ "tenant_id": world.tenant, "name": name }),
                    Row::users(members),
                )
                .await;
            for member in members {
                let body = json!({ "group_id": id(&group), "user_id": world.users[member] });
                world.add("user_groups", body, Row::users(members)).await;
            }
        }
        for scope in [Scope::Mine, Scope::Theirs] {
            let creator = scope_key(scope);
            let room = world
                .add(
                    "rooms",
                    json!({ "created_by": world.users[creator], "tenant_id": world.tenant }),
                    Row::of(scope, &[creator]),
                )
                .await;
            world.rooms.insert(creator, id(&room));
            let event = world
                .add(
                    "events",
                    world.event_body(creator, scope, false),
                    Row::of(scope, &[creator]),
                )
                .await;
            world.events.insert(creator, id(&event));
        }
        for scope in [Scope::Mine, Scope::Theirs] {
            let creator = scope_key(scope);
            for model in [
                "invites",
                "sip_configs",
                "room_streaming_targets",
                "module_resources",
                "event_exceptions",
                "event_email_invites",
                "event_shared_folders",
                "event_training_participation_report_parameter_sets",
            ] {
                let body = world.body(model, creator, scope, 0);
                world.add(model, body, Row::of(scope, &[creator])).await;
            }
            let asset = world
                .add(
                    "assets",
                    json!({ "tenant_id": world.tenant, "filename": "board.pdf", "kind": "whiteboard" }),
                    Row::of(scope, &[]),
                )
                .await;
            world
                .add(
                    "room_assets",
                    json!({ "room_id": world.rooms[creator], "asset_id": id(&asset) }),
                    Row::of(scope, &[]),
                )
                .await;
        }
        for (invitee, role, status) in [
            ("ivan", "user", "accepted"),
            ("dora", "moderator", "declined"),
            ("mona", "moderator", "accepted"),
        ] {
            let body = json!({
                "event_id": world.events["carl"], "invitee": world.users[invitee],
                "created_by": world.users["carl"], "role": role, "status": status,
            });
            world
                .add("event_invites", body, Row::of(Scope::Mine, &[invitee]))
                .await;
        }
        for (user, scope) in [("gina", Scope::Mine), ("stranger", Scope::Theirs)] {
            let body =
                json!({ "user_id": world.users[user], "event_id": world.events[scope_key(scope)] });
            world
                .add("event_favorites", body, Row::of(scope, &[user]))
                .await;
        }
        let job = world
            .add(
                "jobs",
                json!({ "kind": "self_check", "name": "check", "recurrence": "daily", "timeout_secs": 60 }),
                Row::default(),
            )
            .await;
        let execution = world
            .add(
                "job_executions",
                json!({ "job_id": job["id"] }),
                Row::default(),
            )
            .await;
        world
            .add(
                "job_execution_logs",
                json!({ "execution_id": execution["id"], "log_message": "ok" }),
                Row::default(),
            )
            .await;
        world
            .add(
                "casbin_rule",
                json!({ "ptype": "p", "v0": "carl", "v1": "/rooms", "v2": "POST" }),
                Row::default(),
            )
            .await;
        world
            .add(
                "refinery_schema_history",
                json!({ "version": 1, "name": "init" }),
                Row::default(),
            )
            .await;
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

    fn user_body(&self, name: &str, tariff: &str) -> Value {
        json!({
            "tenant_id": self.tenant, "tariff_id": tariff, "oidc_sub": name,
            "display_name": name, "email": format!("{name}@example.com"), "firstname": name,
            "lastname": "Example", "title": "", "id_token_exp": 0,
        })
    }

    /// An event in the room of `scope`, created by `by`.
    fn event_body(&self, by: &str, scope: Scope, foreign_tenant: bool) -> Value {
        json!({
            "created_by": self.users[by], "updated_by": self.users[by],
            "room": self.rooms[scope_key(scope)],
            "tenant_id": if foreign_tenant { &self.other_tenant } else { &self.tenant },
            "title": "Standup", "description": "", "is_time_independent": true,
        })
    }

    /// A row of `model` in the room or event of `scope`, naming `by` as its creator.
    fn body(&self, model: &str, by: &str, scope: Scope, nonce: usize) -> Value {
        let room = &self.rooms[scope_key(scope)];
        let event = &self.events[scope_key(scope)];
        let by = &self.users[by];
        let s = match scope {
            Scope::Mine => 1,
            Scope::Theirs => 2,
        };
        match model {
            "invites" => json!({ "room": room, "created_by": by, "updated_by": by }),
            "sip_configs" => {
                json!({ "room": room, "password": "1234", "sip_id": format!("{}", nonce * 10 + s) })
            }
            "room_streaming_targets" => json!({
                "room_id": room, "name": "Live", "public_url": "https://live.example.com",
                "streaming_endpoint": "rtmp://live.example.com", "streaming_key": "key",
            }),
            "module_resources" => json!({
                "room_id": room, "created_by": by, "tenant_id": self.tenant, "data": {}, "namespace": "whiteboard",
            }),
            "event_exceptions" => json!({
                "event_id": event, "created_by": by, "kind": "cancelled",
                "exception_date": format!("2030-01-{:02}T10:00:00Z", 1 + nonce % 28),
                "exception_date_tz": format!("Europe/Berlin-{nonce}"),
            }),
            "event_email_invites" => json!({
                "event_id": event, "email": format!("guest-{nonce}@example.com"), "created_by": by,
            }),
            "event_shared_folders" => json!({
                "event_id": event, "path": "/shared", "read_password": "r", "read_share_id": "r",
                "read_url": "https://cloud/r", "write_password": "w", "write_share_id": "w",
                "write_url": "https://cloud/w",
            }),
            "event_training_participation_report_parameter_sets" => json!({
                "event_id": event, "checkpoint_interval_after": 1, "checkpoint_interval_within": 1,
                "initial_checkpoint_delay_after": 1, "initial_checkpoint_delay_within": 1,
            }),
            "event_invites" => json!({
                "event_id": event, "invitee": self.users["olga"], "created_by": by,
            }),
            "event_favorites" => json!({ "event_id": event, "user_id": by }),
            "rooms" => json!({ "created_by": by, "tenant_id": self.tenant }),
            other => panic!("no rows of {other}"),
        }
    }

    /// Removes every row of `model` with the service key: rows keyed by their event can be
    /// created once per event.
    async fn clear(&self, model: &str) {
        let schema_model = self.server.schema.model(model).expect("a model");
        let key = schema_model.primary_key_fields().next().expect("a key");
        self.server
            .delete(&format!("/rest/v1/{model}?{}=not.is.null", key.column))
            .await
            .expect(200, "clear");
    }
}

impl World for TalkWorld {
    type Label = Row;

    crate::world_accessors!();

    fn patch(&self, model: &str, caller: &str) -> Value {
        let me = self.users.get(caller).unwrap_or(&self.users["carl"]);
        match model {
            "users" => json!({ "display_name": "Changed" }),
            "rooms" => json!({ "waiting_room": true }),
            "invites" => json!({ "updated_by": me, "active": false }),
            "events" => json!({ "updated_by": me, "title": "Changed" }),
            "event_invites" | "event_email_invites" => json!({ "created_by": self.users["carl"] }),
            "sip_configs" => json!({ "enable_lobby": true }),
            "room_streaming_targets" => json!({ "name": "Changed" }),
            "event_exceptions" => json!({ "title": "Changed" }),
            "event_shared_folders" => json!({ "path": "/changed" }),
            "event_training_participation_report_parameter_sets" => {
                json!({ "checkpoint_interval_after": 5 })
            }
            "tariffs" => json!({ "quotas": { "rooms": 1 } }),
            "groups" => json!({ "name": "changed" }),
            "assets" => json!({ "kind": "changed" }),
            "module_resources" => json!({ "tag": "changed" }),
            "jobs" => json!({ "name": "changed" }),
            "job_executions" => json!({ "job_status": "failed" }),
            "job_execution_logs" => json!({ "log_message": "changed" }),
            "casbin_rule" => json!({ "v5": "changed" }),
            "refinery_schema_history" => json!({ "name": "changed" }),
            "tenants" => json!({ "oidc_tenant_id": "changed" }),
            "external_tariffs" => json!({ "tariff_id": self.tariff }),
            // Nothing to change but nothing harmful either (keys, roles, statuses).
            _ => json!({}),
        }
    }

    /// For each room or event: a row naming the caller as its creator (or user), and one
    /// naming someone else; rooms and events also in another tenant.
    async fn creatable(&self, model: &str, caller: &str, nonce: usize) -> Vec<(Value, Row)> {
        // Nonce 0 is the world's own rows'.
        let nonce = nonce + 1;
        let me: &'static str = ACCOUNTS
            .iter()
            .find(|a| **a == caller)
            .copied()
            .unwrap_or("carl");
        let someone_else = if me == "carl" { "olga" } else { "carl" };
        let mut bodies = Vec::new();
        match model {
            "rooms" => {
                for by in [me, someone_else] {
                    bodies.push((self.body(model, by, Scope::Mine, nonce), Row::users(&[by])));
                }
                let mut foreign = self.body(model, me, Scope::Mine, nonce);
                foreign["tenant_id"] = json!(self.other_tenant);
                bodies.push((
                    foreign,
                    Row {
                        foreign_tenant: true,
                        ..Row::users(&[me])
                    },
                ));
            }
            "events" => {
                for scope in [Scope::Mine, Scope::Theirs] {
                    for by in [me, someone_else] {
                        bodies.push((self.event_body(by, scope, false), Row::of(scope, &[by])));
                    }
                }
                bodies.push((
                    self.event_body(me, Scope::Mine, true),
                    Row {
                        foreign_tenant: true,
                        ..Row::of(Scope::Mine, &[me])
                    },
                ));
            }
            "event_shared_folders" | "event_training_participation_report_parameter_sets" => {
                self.clear(model).await;
                for scope in [Scope::Mine, Scope::Theirs] {
                    bodies.push((self.body(model, me, scope, nonce), Row::of(scope, &[me])));
                }
            }
            "sip_configs" | "room_streaming_targets" => {
                for scope in [Scope::Mine, Scope::Theirs] {
                    bodies.push((self.body(model, me, scope, nonce), Row::of(scope, &[me])));
                }
            }
            "event_favorites" => {
                // One favorite per user and event: the caller's own go first.
                let filter = format!("user_id=eq.{}", self.users[me]);
                self.server
                    .delete(&format!("/rest/v1/event_favorites?{filter}"))
                    .await
                    .expect(200, "clear");
                for scope in [Scope::Mine, Scope::Theirs] {
                    bodies.push((self.body(model, me, scope, nonce), Row::of(scope, &[me])));
                }
                let mut theirs = self.body(model, "ivan", Scope::Mine, nonce);
                if me == "ivan" {
                    theirs = self.body(model, "mona", Scope::Mine, nonce);
                }
                let other = if me == "ivan" { "mona" } else { "ivan" };
                bodies.push((theirs, Row::of(Scope::Mine, &[other])));
            }
            "invites" | "event_exceptions" | "event_email_invites" | "event_invites" => {
                for (n, scope) in [Scope::Mine, Scope::Theirs].into_iter().enumerate() {
                    for (m, by) in [me, someone_else].into_iter().enumerate() {
                        let body = self.body(model, by, scope, nonce * 4 + n * 2 + m);
                        bodies.push((body, Row::of(scope, &[by])));
                    }
                }
            }
            "users" => {
                let mut body = self.user_body(&format!("new-{nonce}"), &self.tariff);
                body["email"] = json!(format!("new-{nonce}@example.com"));
                bodies.push((body, Row::default()));
            }
            "tenants" => bodies.push((json!({ "oidc_tenant_id": format!("t-{nonce}") }), Row::default())),
            "tariffs" => bodies.push((json!({ "name": format!("tariff-{nonce}") }), Row::default())),
            "external_tariffs" => bodies.push((
                json!({ "external_id": format!("ext-{nonce}"), "tariff_id": self.tariff }),
                Row::default(),
            )),
            "groups" => bodies.push((
                json!({ "tenant_id": self.tenant, "name": format!("group-{nonce}") }),
                Row::default(),
            )),
            "user_groups" => {
                let group = self.server.get("/rest/v1/groups?name=eq.strangers").await;
                bodies.push((
                    json!({ "group_id": group.row()["id"], "user_id": self.users[me] }),
                    Row::default(),
                ));
            }
            "assets" => bodies.push((
                json!({ "tenant_id": self.tenant, "filename": "x.pdf", "kind": "whiteboard" }),
                Row::default(),
            )),
            "room_assets" => {
                let asset = self
                    .server
                    .create(
                        "assets",
                        json!({ "tenant_id": self.tenant, "filename": "y.pdf", "kind": "whiteboard" }),
                    )
                    .await;
                bodies.push((
                    json!({ "room_id": self.rooms["carl"], "asset_id": asset["id"] }),
                    Row::of(Scope::Mine, &[]),
                ));
            }
            "module_resources" => bodies.push((
                self.body(model, me, Scope::Mine, nonce),
                Row::of(Scope::Mine, &[me]),
            )),
            "jobs" => bodies.push((
                json!({ "kind": "self_check", "name": "check", "recurrence": "daily", "timeout_secs": 60 }),
                Row::default(),
            )),
            "job_executions" | "job_execution_logs" => {
                let job = self.server.get("/rest/v1/jobs?select=id").await;
                let body = if model == "job_executions" {
                    json!({ "job_id": job.row()["id"] })
                } else {
                    let execution = self.server.get("/rest/v1/job_executions?select=id").await;
                    json!({ "execution_id": execution.row()["id"], "log_message": "x" })
                };
                bodies.push((body, Row::default()));
            }
            "casbin_rule" => bodies.push((
                json!({ "ptype": "p", "v0": format!("user-{nonce}"), "v1": "/rooms", "v2": "GET" }),
                Row::default(),
            )),
            "refinery_schema_history" => bodies.push((
                json!({ "version": 100 + nonce, "name": "next" }),
                Row::default(),
            )),
            other => panic!("no rows to create in {other}"),
        }
        bodies
    }

    async fn deletable(&self, model: &str, caller: &str, nonce: usize) -> Vec<(String, Row)> {
        let bodies = match model {
            // A fresh room and event of each creator.
            "rooms" | "events" => [Scope::Mine, Scope::Theirs]
                .into_iter()
                .map(|scope| {
                    let by = scope_key(scope);
                    let body = if model == "rooms" {
                        self.body(model, by, scope, nonce + 1)
                    } else {
                        self.event_body(by, scope, false)
                    };
                    (body, Row::of(scope, &[by]))
                })
                .collect(),
            // Invitations of people who are not callers, to both events.
            "event_invites" => [Scope::Mine, Scope::Theirs]
                .into_iter()
                .flat_map(|scope| ["olga", "gina"].map(move |invitee| (scope, invitee)))
                .map(|(scope, invitee)| {
                    let body = json!({
                        "event_id": self.events[scope_key(scope)], "invitee": self.users[invitee],
                        "created_by": self.users["carl"],
                    });
                    (body, Row::of(scope, &[invitee]))
                })
                .collect(),
            _ => self.creatable(model, caller, nonce).await,
        };
        let schema_model = self.server.schema.model(model).expect("a model");
        let mut rows = Vec::new();
        for (body, label) in bodies {
            let row = self.server.create(model, body).await;
            rows.push((key_of(schema_model, &row), label));
        }
        rows
    }
}
