//! Shared helpers for idem simulation, interop and end-to-end tests.
//!
//! - [`net`]: a seeded network of ordered byte streams (latency, chunking, stalls, cuts).
//! - [`checker`]: asserts the five guarantees of DESIGN.md on a finished run.

pub mod actors;
pub mod adapters;
pub mod checker;
pub mod net;
pub mod scenario;
pub mod seeds;
pub mod sim;
pub mod toy;
pub mod wiretap;
