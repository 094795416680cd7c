//! A query string, decoded as the server decodes it, into the request parser: every
//! input is a request within the limits or a client error, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_runtime::{
    parse_read_within, parse_write_query_within, Condition, ErrorKind, QueryLimits, SelectItem,
};

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

fuzz_target!(|data: &[u8]| {
    // Small limits, so that inputs the fuzzer finds meet them often.
    let limits = QueryLimits {
        max_logic_depth: 4,
        max_conditions: 24,
        max_embed_depth: 3,
        max_embeds: 6,
        max_select_items: 24,
        max_in_items: 8,
        max_order_terms: 4,
    };
    let pairs: Vec<(String, String)> = form_urlencoded::parse(data).into_owned().collect();
    match parse_read_within("items", &pairs, &limits) {
        Ok(request) => {
            assert!(embed_depth(&request.select) <= limits.max_embed_depth);
            assert!(request.filter.len() <= limits.max_conditions);
            assert!(request.order.len() <= limits.max_order_terms);
            for condition in &request.filter {
                assert!(logic_depth(condition) <= limits.max_logic_depth);
            }
        }
        Err(error) => assert_eq!(error.kind, ErrorKind::BadRequest, "{error:?}"),
    }
    if let Err(error) = parse_write_query_within(&pairs, &limits) {
        assert_eq!(error.kind, ErrorKind::BadRequest, "{error:?}");
    }
});
