//! # idem-core
//!
//! The sans-IO heart of idem, an idempotent Kafka producer for Rust programs that do not run
//! tokio. Everything here is pure and synchronous: no clock, no socket, no thread. Time comes in
//! as [`Instant`] parameters, randomness from seeds in configuration, bytes in and out as slices.
//!
//! - [`proto`]: the Kafka wire codec (primitives, headers, framing, the message types a producer
//!   and a small broker need, RecordBatch v2 with CRC-32C, error codes).
//! - [`broker`]: the broker side: the sequence validator (dedup decisions) and an in-memory
//!   Kafka-compatible broker.
//! - [`producer`]: the idempotent producer state machine.
//! - [`crc32c`]: CRC-32C (Castagnoli), hardware-accelerated with `std`, portable without.
//!
//! The crate is `#![no_std]` + `alloc` when built without its default `std` feature.
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub mod broker;
pub mod crc32c;
pub mod producer;
pub mod proto;
pub mod rand;
pub mod time;

pub use time::{Duration, Instant};
