//! Shared helpers for idem simulation, interop and end-to-end tests.
//!
//! The deterministic simulation:
//! - [`net`]: a seeded network of ordered byte streams (latency, chunking, stalls, cuts,
//!   refused connects to down brokers).
//! - [`pair`]: [`pair::Pair`], a producer and a cluster joined by a link (the seeded [`net`] or
//!   an in-order [`pair::DirectLink`]) in virtual time: `pump`, `step`, `drive`, and a trace
//!   hash proving that a seed replays byte for byte. Every test that drives a producer against
//!   a cluster goes through it.
//! - [`sim`]: the simulation (a [`pair::Pair`] over the seeded network, virtual time that jumps
//!   to the next deadline, scripted sends and faults) and the seeded schedule.
//! - [`checker`]: asserts the five guarantees (no duplicates, no reordering, no silent loss,
//!   bounded memory, liveness) on a finished run; reads the partition
//!   logs with kafka-protocol's decoder (an implementation no one here wrote).
//! - [`actors`]: the producer/broker interface the driver uses; [`adapters`] implements it for
//!   `idem_core`'s producer and in-memory cluster and derives a whole run from a seed;
//!   [`toy`] is a tiny pair used to prove the harness itself catches bugs.
//! - [`seeds`]: seed sweeps (`IDEM_SIM_SEEDS=A..B`), failure reports with the replay command.
//! - [`scenario`]: named, scripted runs (tests/tests/scenario_*.rs).
//! - [`wiretap`]: readable traces with `IDEM_SIM_TRACE=1`.

pub mod actors;
pub mod adapters;
pub mod checker;
pub mod net;
pub mod pair;
pub mod scenario;
pub mod schedule;
pub mod seeds;
pub mod sim;
pub mod tls;
pub mod toy;
pub mod wiretap;

/// The README's Rust snippets, compiled (not run: they need a broker) by `cargo test --doc`,
/// so that the README keeps matching the real APIs.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeSnippets;
