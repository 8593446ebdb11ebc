//! Fuzzes the reference-data JSON importer: any bytes, for each table, give rows or a refusal,
//! never a panic. The first byte picks the table.
#![no_main]

use cuakhau_data::{Table, parse_json};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let table = Table::ALL[pick as usize % Table::ALL.len()];
    let _ = parse_json(table, rest);
});
