//! Hostile requests at a real `tessera serve` process (the tour builder app), on SQLite
//! and PostgreSQL: a 50 KB URL, `or=` nested 1000 deep, embeds nested 100 deep, an
//! `in.(...)` list of 100,000 values, 10,000 headers, a 50 MB body (declared, and
//! chunked), JSON nested a million deep, too many rows, too many conditions. Each must be
//! answered with a 4xx within a second, the process's memory (RSS from /proc/PID/status)
//! must not grow by more than 64 MiB, and the server must serve normally afterwards.
//!
//! Requests are written on raw TCP sockets, as a client library would refuse to send
//! some of them. `scripts/reliability.d/hostile.sh` records the figures.

mod support;

use std::ffi::OsStr;
use std::time::{Duration, Instant};

use support::{fresh_dir, get, report, send_raw, Server};
use tessera_testkit::{engine_tests, Database};

const KEY: &str = "hostile-service-key-0123456789abcdef";
/// The longest an attack may take to be answered.
const ANSWER_WITHIN: Duration = Duration::from_secs(1);
/// The most the server's RSS may grow by over one attack.
const RSS_GROWTH_KIB: i64 = 64 * 1024;

/// The head of a request carrying the service key, not yet ended by its empty line.
fn head(port: u16, method: &str, target: &str) -> String {
    format!(
        "{method} {target} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nconnection: close\r\nauthorization: Bearer {KEY}\r\n"
    )
}

/// `tessera serve --app tour-builder` on `database_url`, ready.
fn serve(database_url: &str) -> Server {
    let dir = fresh_dir("hostile", &database_url.replace(['/', ':', '?', '='], "_"));
    let words = ["--app", "tour-builder", "--database-url", database_url];
    let args: Vec<&OsStr> = words.iter().map(OsStr::new).collect();
    let mut server = Server::spawn_with_env(
        &args,
        &dir,
        &[("TESSERA_SERVICE_KEY", KEY), ("RUST_LOG", "warn")],
    );
    assert!(
        server.wait_ready(),
        "tessera serve did not become ready:\n{}",
        server.output()
    );
    server
}

/// One attack: its name and the bytes of its request.
struct Attack {
    name: &'static str,
    request: Vec<u8>,
}

fn attacks(port: u16) -> Vec<Attack> {
    let get = |target: String| format!("{}\r\n", head(port, "GET", &target)).into_bytes();
    let post = |body: Vec<u8>| {
        let mut request = format!(
            "{}content-type: application/json\r\ncontent-length: {}\r\n\r\n",
            head(port, "POST", "/rest/v1/projects"),
            body.len()
        )
        .into_bytes();
        request.extend(body);
        request
    };
    let nested_or = format!("({}name.eq.a{})", "or(".repeat(999), ")".repeat(999));
    let nested_embed = format!("id,{}id{}", "x(".repeat(100), ")".repeat(100));
    let in_list = (0..100_000)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let mut many_headers = head(port, "GET", "/rest/v1/projects");
    for i in 0..10_000 {
        many_headers.push_str(&format!("x-h{i}: v\r\n"));
    }
    many_headers.push_str("\r\n");
    let mut chunked = format!(
        "{}content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
        head(port, "POST", "/rest/v1/projects")
    )
    .into_bytes();
    let chunk = vec![b' '; 1024 * 1024];
    for _ in 0..50 {
        chunked.extend(format!("{:x}\r\n", chunk.len()).into_bytes());
        chunked.extend(&chunk);
        chunked.extend(b"\r\n");
    }
    chunked.extend(b"0\r\n\r\n");
    let rows = format!("[{}]", vec!["{}"; 200_000].join(","));
    let conditions = (0..3_000)
        .map(|i| format!("c{i}=eq.1"))
        .collect::<Vec<_>>()
        .join("&");
    vec![
        Attack {
            name: "50 KB URL",
            request: get(format!(
                "/rest/v1/projects?name=eq.{}",
                "a".repeat(50 * 1024)
            )),
        },
        Attack {
            name: "or= nested 1000 deep",
            request: get(format!("/rest/v1/projects?or={}", encode(&nested_or))),
        },
        Attack {
            name: "embeds nested 100 deep",
            request: get(format!(
                "/rest/v1/projects?select={}",
                encode(&nested_embed)
            )),
        },
        Attack {
            name: "in.(...) of 100,000 values",
            request: get(format!("/rest/v1/projects?name=in.({})", encode(&in_list))),
        },
        Attack {
            name: "3,000 filters",
            request: get(format!("/rest/v1/projects?{conditions}")),
        },
        Attack {
            name: "10,000 headers",
            request: many_headers.into_bytes(),
        },
        Attack {
            name: "50 MB body (declared length)",
            request: post(vec![b' '; 50 * 1024 * 1024]),
        },
        Attack {
            name: "50 MB body (chunked)",
            request: chunked,
        },
        Attack {
            name: "JSON nested a million deep",
            request: post(vec![b'['; 1024 * 1024 - 1]),
        },
        Attack {
            name: "JSON of 200,000 rows",
            request: post(rows.into_bytes()),
        },
    ]
}

/// Percent-encodes the characters a request target may not carry as they are.
fn encode(text: &str) -> String {
    text.replace('%', "%25")
        .replace('"', "%22")
        .replace(' ', "%20")
}

engine_tests! {
    async fn hostile_requests_get_a_4xx_in_bounded_time_and_memory(db: Database) {
        let url = db.url().to_owned();
        let engine = db.engine().to_string();
        tokio::task::spawn_blocking(move || {
            let server = serve(&url);
            let port = server.port;
            // Warm up: the first requests allocate the server's pools and caches.
            for _ in 0..3 {
                assert_eq!(get(port, "/rest/v1/projects", Some(KEY)).0, 200);
            }
            let mut failures = Vec::new();
            for attack in attacks(port) {
                let before = server.rss_kib();
                let started = Instant::now();
                let (status, body) = send_raw(port, attack.request);
                let took = started.elapsed();
                let growth = server.rss_kib() - before;
                let (after, _) = get(port, "/rest/v1/projects?limit=1", Some(KEY));
                let code = serde_json::from_str::<serde_json::Value>(body.trim())
                    .ok()
                    .and_then(|b| b["code"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| "(no body)".into());
                report(&format!(
                    "| {engine} | {} | {status} | {code} | {} | {} | {} |",
                    attack.name,
                    took.as_millis(),
                    growth,
                    if after == 200 { "yes" } else { "NO" }
                ));
                if !(400..500).contains(&status) {
                    failures.push(format!("{}: answered {status}, not a 4xx: {body}", attack.name));
                }
                if took > ANSWER_WITHIN {
                    failures.push(format!("{}: answered after {took:?}", attack.name));
                }
                if growth > RSS_GROWTH_KIB {
                    failures.push(format!("{}: RSS grew by {growth} KiB", attack.name));
                }
                if after != 200 {
                    failures.push(format!("{}: the server answered {after} afterwards", attack.name));
                }
            }
            assert!(failures.is_empty(), "{}", failures.join("\n"));
        })
        .await
        .expect("the attacks ran");
    }
}
