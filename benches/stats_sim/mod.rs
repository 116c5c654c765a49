//! Monte-Carlo studies of the tool's statistics, run on the library's own functions:
//! the `validate --baseline` gate ([`gate`]), the certified threshold under selection
//! ([`certificate`]) and the ECE interval coverage ([`ece`]). Shared by the bench binary
//! `benches/stats.rs` (full runs, ≥ 2000 draws) and the fast test `tests/it/stats_sim.rs`.
//! Every draw has its own generator seeded from (seed, draw index): results do not depend on
//! the thread count.

pub mod certificate;
pub mod ece;
pub mod gate;
pub mod rng;
