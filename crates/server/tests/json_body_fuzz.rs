//! The short form of the `json_body` fuzz target under `fuzz/`, run by the default test
//! suite with a bounded number of cases: arbitrary and generated bodies are read or refused
//! with a client error, never a panic; what is read is within the limits; and the checks
//! agree with the JSON parser.

#[path = "fuzz_checks/json_body.rs"]
mod fuzz_checks;

use axum::body::Bytes;
use axum::http::HeaderMap;
use fuzz_checks::{check, written_members};
use proptest::prelude::*;
use serde_json::Value;
use tessera_server::media::{json_body, JsonLimits};

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "[ -~\\\\\"\\[\\]{}]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(12, 128, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec(("[a-z\\[\"]{0,3}", inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// Regression: a row object repeating its keys is counted as written, with more
/// members than its parsed value keeps (found by the `json_body` fuzz target).
#[test]
fn repeated_keys_count_as_written() {
    let limits = JsonLimits {
        max_depth: 8,
        max_rows: 16,
        max_keys: 2,
    };
    let text = br#"{"a":1,"a":2,"a":3}"#;
    check(text, &limits);
    assert_eq!(written_members(text), Some(3));
    assert!(json_body(&HeaderMap::new(), &Bytes::from_static(text), &limits).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_are_read_or_refused(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        check(&bytes, &JsonLimits::default());
    }

    #[test]
    fn generated_json_is_read_within_small_limits_or_refused(value in json()) {
        let limits = JsonLimits { max_depth: 4, max_rows: 3, max_keys: 3 };
        let text = serde_json::to_vec(&value).unwrap_or_default();
        check(&text, &limits);
        check(&text, &JsonLimits::default());
    }
}
