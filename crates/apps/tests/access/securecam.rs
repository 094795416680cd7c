//! Who may do what in SecureCam: the access table of `apps/securecam/README.md` and the
//! world it is checked on.
//!
//! The world: two users, `ann` and `bob`, each with a camera and a phone and one row of
//! every kind of their own (a link, a command, a stream, a recording, an event, ...), plus
//! rows that are Ann's by their owner column but point at one of Bob's devices or events
//! ("crossed"): the rules follow the whole ownership chain, so nobody but the service sees
//! those.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::support::access::{key_of, Cell, Entry, Matrix, Phrase, Section, Who, World};
use crate::support::AppServer;

/// Whose a row is, and whether it points at something of another user.
#[derive(Clone, Debug, Default)]
pub struct Row {
    pub user: Option<&'static str>,
    pub crossed: bool,
}

fn own(caller: &str, row: &Row) -> bool {
    row.user == Some(caller) && !row.crossed
}

static OWN: Phrase<Row> = Phrase {
    text: "own",
    holds: own,
};
static OWN_ACCOUNT: Phrase<Row> = Phrase {
    text: "own account",
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
];

fn section(models: &'static [&'static str], rows: [[Cell<Row>; 4]; 2]) -> Section<Row> {
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

/// SecureCam's access table.
pub fn matrix() -> Matrix<Row> {
    let denied = [Denied; 4];
    Matrix {
        who: WHO,
        sections: vec![
            section(
                &["users"],
                [
                    denied,
                    [Rows(&OWN_ACCOUNT), Denied, Rows(&OWN_ACCOUNT), Denied],
                ],
            ),
            section(
                &[
                    "devices",
                    "device_links",
                    "commands",
                    "stream_sessions",
                    "recordings",
                    "events",
                ],
                [denied, [Rows(&OWN); 4]],
            ),
            section(
                &["notifications"],
                [denied, [Rows(&OWN), Denied, Rows(&OWN), Rows(&OWN)]],
            ),
            section(
                &["notification_deliveries", "audit_logs", "account"],
                [denied, [Rows(&OWN), Denied, Denied, Denied]],
            ),
            section(
                &["session"],
                [denied, [Rows(&OWN), Denied, Denied, Rows(&OWN)]],
            ),
            section(&["verification"], [denied, denied]),
        ],
    }
}

const USERS: [&str; 2] = ["ann", "bob"];

/// The other user of the world.
fn other(user: &str) -> &'static str {
    if user == "ann" {
        "bob"
    } else {
        "ann"
    }
}

/// One user's things, by their ids.
#[derive(Clone, Default)]
struct Home {
    user: String,
    camera: String,
    phone: String,
    stream: String,
    event: String,
}

/// The world every access test of SecureCam runs in.
pub struct CamWorld {
    pub server: AppServer,
    tokens: HashMap<&'static str, String>,
    homes: HashMap<&'static str, Home>,
    rows: HashMap<String, Vec<(String, Row)>>,
}

fn id(row: &Value) -> String {
    row["id"].as_str().expect("an id").to_owned()
}

impl CamWorld {
    pub async fn build(server: AppServer) -> CamWorld {
        let mut world = CamWorld {
            server,
            tokens: HashMap::new(),
            homes: HashMap::new(),
            rows: HashMap::new(),
        };
        for user in USERS {
            let account = world
                .add(
                    "users",
                    json!({ "email": format!("{user}@example.com"), "name": user }),
                    Row {
                        user: Some(user),
                        crossed: false,
                    },
                )
                .await;
            let token = world
                .server
                .token_for(&id(&account), &format!("{user}@example.com"));
            world.tokens.insert(user, token);
            let mut home = Home {
                user: id(&account),
                ..Home::default()
            };
            for (kind, is_camera) in [("camera", true), ("client", false)] {
                let device = world
                    .add(
                        "devices",
                        json!({ "user_id": home.user, "name": kind, "role": kind, "is_camera": is_camera }),
                        Row {
                            user: Some(user),
                            crossed: false,
                        },
                    )
                    .await;
                if is_camera {
                    home.camera = id(&device);
                } else {
                    home.phone = id(&device);
                }
            }
            world.homes.insert(user, home);
        }
        // The streams and events other rows point at: each user's own.
        for user in USERS {
            let home = world.homes[user].clone();
            let stream = world
                .add(
                    "stream_sessions",
                    world.body("stream_sessions", &home, &home, 0),
                    Row {
                        user: Some(user),
                        crossed: false,
                    },
                )
                .await;
            let event = world
                .add(
                    "events",
                    world.body("events", &home, &home, 0),
                    Row {
                        user: Some(user),
                        crossed: false,
                    },
                )
                .await;
            let home = world.homes.get_mut(user).expect("a home");
            home.stream = id(&stream);
            home.event = id(&event);
        }
        for user in USERS {
            let home = world.homes[user].clone();
            let theirs = world.homes[other(user)].clone();
            for model in [
                "device_links",
                "commands",
                "recordings",
                "notifications",
                "notification_deliveries",
                "audit_logs",
            ] {
                world
                    .add(
                        model,
                        world.body(model, &home, &home, 0),
                        Row {
                            user: Some(user),
                            crossed: false,
                        },
                    )
                    .await;
                world
                    .add(
                        model,
                        world.body(model, &home, &theirs, 1),
                        Row {
                            user: Some(user),
                            crossed: true,
                        },
                    )
                    .await;
            }
            for model in ["stream_sessions", "events"] {
                world
                    .add(
                        model,
                        world.body(model, &home, &theirs, 1),
                        Row {
                            user: Some(user),
                            crossed: true,
                        },
                    )
                    .await;
            }
            for model in ["account", "session"] {
                world
                    .add(
                        model,
                        world.body(model, &home, &home, 0),
                        Row {
                            user: Some(user),
                            crossed: false,
                        },
                    )
                    .await;
            }
        }
        world
            .add(
                "verification",
                json!({ "identifier": "ann@example.com", "value": "123456", "expires_at": "2030-01-01T00:00:00" }),
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

    /// A row of `model` owned by `mine`'s user whose devices, stream and event are those
    /// of `things` (the same home, or another user's for a crossed row).
    fn body(&self, model: &str, mine: &Home, things: &Home, nonce: usize) -> Value {
        let owner = &mine.user;
        match model {
            "devices" => json!({ "user_id": owner, "name": "new", "role": "camera" }),
            "device_links" => {
                json!({ "owner_user_id": owner, "camera_device_id": things.camera, "client_device_id": mine.phone })
            }
            "commands" => {
                json!({ "owner_user_id": owner, "source_device_id": mine.phone, "target_device_id": things.camera, "command_type": "start_stream" })
            }
            "stream_sessions" => {
                json!({ "owner_user_id": owner, "camera_device_id": things.camera, "requester_device_id": mine.phone })
            }
            "recordings" => json!({
                "owner_user_id": owner, "stream_session_id": mine.stream, "camera_device_id": mine.camera,
                "requester_device_id": mine.phone, "event_id": things.event,
                "object_key": format!("rec-{nonce}.mp4"), "bucket": "recordings",
            }),
            "events" => json!({ "user_id": owner, "device_id": things.camera, "title": "Motion" }),
            "notifications" => {
                json!({ "user_id": owner, "event_id": things.event, "channel": "push" })
            }
            "notification_deliveries" => {
                json!({ "owner_user_id": owner, "recipient_device_id": things.phone, "type": "event" })
            }
            "audit_logs" => {
                json!({ "owner_user_id": owner, "actor_device_id": things.phone, "action": "login" })
            }
            "account" => {
                json!({ "user_id": owner, "account_id": owner, "provider_id": "credential" })
            }
            "session" => json!({
                "user_id": owner, "token": format!("session-{owner}-{nonce}"), "expires_at": "2030-01-01T00:00:00",
            }),
            "verification" => {
                json!({ "identifier": "x@example.com", "value": "1", "expires_at": "2030-01-01T00:00:00" })
            }
            "users" => json!({ "email": format!("new-{nonce}@example.com"), "name": "New" }),
            other => panic!("no rows of {other}"),
        }
    }
}

impl World for CamWorld {
    type Label = Row;

    crate::world_accessors!();

    fn patch(&self, model: &str, _caller: &str) -> Value {
        match model {
            "users" => json!({ "name": "Changed" }),
            "devices" => json!({ "status": "online" }),
            "device_links" => json!({ "status": "paused" }),
            "commands" => json!({ "retry_count": 1 }),
            "stream_sessions" => json!({ "status": "live" }),
            "recordings" => json!({ "status": "ready" }),
            "events" => json!({ "status": "closed" }),
            "notifications" => json!({ "is_read": true }),
            "notification_deliveries" => json!({ "attempts": 1 }),
            "audit_logs" => json!({ "action": "changed" }),
            "account" => json!({ "scope": "email" }),
            "session" => json!({ "user_agent": "changed" }),
            "verification" => json!({ "value": "654321" }),
            other => panic!("no change for {other}"),
        }
    }

    /// For each user: a row of their own, and (where the model points at devices, streams
    /// or events) one of theirs pointing at the other user's things.
    async fn creatable(&self, model: &str, _caller: &str, nonce: usize) -> Vec<(Value, Row)> {
        let mut bodies = Vec::new();
        for (n, user) in USERS.into_iter().enumerate() {
            let home = &self.homes[user];
            let theirs = &self.homes[other(user)];
            let own_nonce = 1000 + nonce * 10 + n * 2;
            bodies.push((
                self.body(model, home, home, own_nonce),
                Row {
                    user: (model != "users" && model != "verification").then_some(user),
                    crossed: false,
                },
            ));
            if matches!(
                model,
                "device_links"
                    | "commands"
                    | "stream_sessions"
                    | "recordings"
                    | "events"
                    | "notifications"
                    | "notification_deliveries"
                    | "audit_logs"
            ) {
                let mut crossed = self.body(model, home, theirs, own_nonce + 1);
                if model == "device_links" {
                    // A camera is linked to a client once: these pairs are not in the world.
                    bodies.last_mut().expect("the own row").0["camera_device_id"] =
                        json!(home.phone);
                    bodies.last_mut().expect("the own row").0["client_device_id"] =
                        json!(home.camera);
                    crossed["camera_device_id"] = json!(home.phone);
                    crossed["client_device_id"] = json!(theirs.camera);
                }
                bodies.push((
                    crossed,
                    Row {
                        user: Some(user),
                        crossed: true,
                    },
                ));
            }
            if model == "users" || model == "verification" {
                break;
            }
        }
        bodies
    }
}
