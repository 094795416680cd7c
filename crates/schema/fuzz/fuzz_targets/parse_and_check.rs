//! Feeds arbitrary bytes to the schema pipeline: lex, parse, check, render, format, print.
//! Nothing may panic; formatting a file that parses is idempotent; a schema that checks
//! prints to text that checks again.
//!
//! Run with `cargo +nightly fuzz run parse_and_check` from `crates/schema`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    match tessera_schema::check_source("fuzz.tsr", source) {
        Ok(checked) => {
            let _ = checked.warnings.render(false);
            let printed = tessera_schema::print_schema(&checked.schema);
            assert!(tessera_schema::check_source("printed.tsr", &printed).is_ok());
        }
        Err(diagnostics) => {
            let _ = diagnostics.render(false);
        }
    }
    if let Ok(once) = tessera_schema::format_source("fuzz.tsr", source) {
        let twice = tessera_schema::format_source("fuzz.tsr", &once).expect("formatted text parses");
        assert_eq!(once, twice);
    }
});
