//! A request body into the server's JSON reader: every input is a value within the
//! limits or a 4xx, never a panic, and the depth check agrees with the JSON parser.

#![no_main]

use axum::body::Bytes;
use axum::http::HeaderMap;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tessera_server::media::{json_body, JsonLimits};

fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(members) => 1 + members.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fuzz_target!(|data: &[u8]| {
    let limits = JsonLimits {
        max_depth: 8,
        max_rows: 16,
        max_keys: 16,
    };
    match json_body(&HeaderMap::new(), &Bytes::copy_from_slice(data), &limits) {
        Ok(value) => {
            assert!(depth(&value) <= limits.max_depth);
            if let Value::Array(rows) = &value {
                assert!(rows.len() <= limits.max_rows);
            }
        }
        Err(error) => {
            let status = error.status().as_u16();
            assert!((400..500).contains(&status), "{error:?}");
            if let Ok(value) = serde_json::from_slice::<Value>(data) {
                let rows: Vec<&Value> = match &value {
                    Value::Array(rows) => rows.iter().collect(),
                    other => vec![other],
                };
                assert!(
                    depth(&value) > limits.max_depth
                        || rows.len() > limits.max_rows
                        || rows
                            .iter()
                            .any(|row| row.as_object().is_some_and(|m| m.len() > limits.max_keys)),
                    "refused a body within the limits: {error:?}"
                );
            }
        }
    }
});
