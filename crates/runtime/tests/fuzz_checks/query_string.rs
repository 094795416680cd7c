//! The property of the `query_string` fuzz target (`fuzz/`), shared with its short form in
//! `crates/runtime/tests/parser_fuzz.rs`: a query string is a request within the limits it
//! was parsed under, or a typed client error (400 with a code a PostgREST client knows).

use tessera_runtime::{
    parse_read_within, parse_write_query_within, Condition, ErrorKind, QueryLimits, ReadRequest,
    RuntimeError, SelectItem,
};

/// A parse result is fine when it is a request or a client error with a code a PostgREST
/// client knows.
pub fn assert_typed<T>(result: &Result<T, RuntimeError>) {
    if let Err(error) = result {
        assert_eq!(error.kind, ErrorKind::BadRequest, "{error:?}");
        assert!(
            ["PGRST100", "PGRST108"].contains(&error.code.as_str()),
            "{error:?}"
        );
        assert!(!error.message.is_empty());
    }
}

fn logic_depth(condition: &Condition) -> usize {
    match condition {
        Condition::Filter(_) => 0,
        Condition::Not(inner) => logic_depth(inner),
        Condition::And(list) | Condition::Or(list) => {
            1 + list.iter().map(logic_depth).max().unwrap_or(0)
        }
    }
}

fn embed_depth(items: &[SelectItem]) -> usize {
    items
        .iter()
        .map(|item| match item {
            SelectItem::Embed(embed) => 1 + embed_depth(&embed.select),
            _ => 0,
        })
        .max()
        .unwrap_or(0)
}

/// A request that parsed is within the limits it was parsed under.
pub fn assert_within(request: &ReadRequest, limits: &QueryLimits) {
    assert!(embed_depth(&request.select) <= limits.max_embed_depth);
    for condition in &request.filter {
        assert!(logic_depth(condition) <= limits.max_logic_depth);
    }
    assert!(request.filter.len() <= limits.max_conditions);
    assert!(request.order.len() <= limits.max_order_terms);
}

/// Parses `pairs` as a read and as a write query under `limits`, asserting the property.
pub fn check(pairs: &[(String, String)], limits: &QueryLimits) {
    let read = parse_read_within("projects", pairs, limits);
    assert_typed(&read);
    if let Ok(request) = &read {
        assert_within(request, limits);
    }
    assert_typed(&parse_write_query_within(pairs, limits));
}
