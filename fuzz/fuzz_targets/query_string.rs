//! A query string, decoded as the server decodes it, into the request parser: every
//! input is a request within the limits or a client error, never a panic.

#![no_main]

#[path = "../../crates/runtime/tests/fuzz_checks/query_string.rs"]
mod fuzz_checks;

use libfuzzer_sys::fuzz_target;
use tessera_runtime::QueryLimits;

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
    fuzz_checks::check(&pairs, &limits);
});
