//! Shared helpers of the benchmark programs in `src/bin/` (run by the scripts in `bench/`).

// A benchmark measures wall time: it reads the timer itself.
#![allow(clippy::disallowed_methods)]

/// A SplitMix64 generator: the benchmarks need cheap, seeded, reproducible numbers.
#[derive(Debug, Clone)]
pub struct Mix(pub u64);

impl Mix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The server's allocator (see `cuakhau-cli`), so the benchmarks measure what runs.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

pub mod server;
