//! A request body into the server's JSON reader: every input is a value within the
//! limits or a 4xx, never a panic, and the shape checks agree with the JSON parser (a
//! row's members are counted as written: a repeated key counts each time).

#![no_main]

#[path = "../../crates/server/tests/fuzz_checks/json_body.rs"]
mod fuzz_checks;

use libfuzzer_sys::fuzz_target;
use tessera_server::media::JsonLimits;

fuzz_target!(|data: &[u8]| {
    let limits = JsonLimits {
        max_depth: 8,
        max_rows: 16,
        max_keys: 16,
    };
    fuzz_checks::check(data, &limits);
});
