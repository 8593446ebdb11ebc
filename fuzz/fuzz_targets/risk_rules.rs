//! Fuzzes the customs risk-rule file parser: rules or a refusal, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = cuakhau_data::parse_risk_rules(text);
});
