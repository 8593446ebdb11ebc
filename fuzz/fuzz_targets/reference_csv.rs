//! Fuzzes the reference-data CSV importer: any bytes, for each table, give rows or a refusal
//! naming a line, never a panic. The first byte picks the table.
#![no_main]

use cuakhau_data::{Table, parse_csv};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let table = Table::ALL[pick as usize % Table::ALL.len()];
    let mut rows = 0u64;
    let _ = parse_csv(table, rest, &mut |n| rows = n);
});
