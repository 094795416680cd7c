//! The property of the `json_body` fuzz target (`fuzz/`), shared with its short form in
//! `crates/server/tests/json_body_fuzz.rs`: a body is read within the limits or refused
//! with a client error in PostgREST's shape, never a panic, and text the JSON parser reads
//! within the limits is never refused (a row's members are counted as written: a repeated
//! key counts each time).

use axum::body::Bytes;
use axum::http::HeaderMap;
use serde_json::Value;
use tessera_server::media::{json_body, JsonLimits};

fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(members) => 1 + members.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

pub fn check(bytes: &[u8], limits: &JsonLimits) {
    match json_body(&HeaderMap::new(), &Bytes::copy_from_slice(bytes), limits) {
        Ok(value) => {
            assert!(depth(&value) <= limits.max_depth);
            if let Value::Array(rows) = &value {
                assert!(rows.len() <= limits.max_rows);
            }
        }
        Err(error) => {
            let status = error.status().as_u16();
            assert!((400..500).contains(&status), "{error:?}");
            assert!(error.body()["code"].is_string());
            // Text the parser reads within the limits is never refused.
            if let Ok(value) = serde_json::from_slice::<Value>(bytes) {
                let rows = value.as_array().map_or(1, Vec::len);
                assert!(
                    depth(&value) > limits.max_depth
                        || rows > limits.max_rows
                        || written_members(bytes).is_some_and(|m| m > limits.max_keys),
                    "refused a body within the limits: {error:?}"
                );
            }
        }
    }
}

/// The most members written in one row object of a JSON text (the top-level object, or
/// an object element of the top-level array), a repeated key counted each time, as the
/// parser reads them; `None` when the text is not JSON.
pub fn written_members(bytes: &[u8]) -> Option<usize> {
    use serde::de::{Deserializer as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use std::fmt;

    /// Counts the members of a map; `top`: counts those of the rows of an array too.
    struct Members {
        top: bool,
    }

    impl<'de> Visitor<'de> for Members {
        type Value = usize;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("JSON")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<usize, A::Error> {
            let mut members = 0;
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {
                members += 1;
            }
            Ok(members)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
            let mut most = 0;
            if self.top {
                while let Some(Row(members)) = seq.next_element::<Row>()? {
                    most = most.max(members);
                }
            } else {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
            }
            Ok(most)
        }

        fn visit_bool<E>(self, _: bool) -> Result<usize, E> {
            Ok(0)
        }

        fn visit_i64<E>(self, _: i64) -> Result<usize, E> {
            Ok(0)
        }

        fn visit_u64<E>(self, _: u64) -> Result<usize, E> {
            Ok(0)
        }

        fn visit_f64<E>(self, _: f64) -> Result<usize, E> {
            Ok(0)
        }

        fn visit_str<E>(self, _: &str) -> Result<usize, E> {
            Ok(0)
        }

        fn visit_unit<E>(self) -> Result<usize, E> {
            Ok(0)
        }
    }

    struct Row(usize);

    impl<'de> serde::Deserialize<'de> for Row {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Row, D::Error> {
            d.deserialize_any(Members { top: false }).map(Row)
        }
    }

    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let members = (&mut deserializer)
        .deserialize_any(Members { top: true })
        .ok()?;
    deserializer.end().ok()?;
    Some(members)
}
