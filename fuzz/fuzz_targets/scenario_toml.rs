//! Fuzzes the simulator's scenario reader: TOML text, parsed and then compiled into a model (where
//! every field is checked), gives a model or a refusal, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(s) = cuakhau_sim::scenario::Scenario::from_toml(text) {
        let variants = s.variants();
        let _ = cuakhau_sim::compile_variants(&variants, std::path::Path::new("/nonexistent"));
    }
});
