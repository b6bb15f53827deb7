//! Shared helpers for idem simulation, interop and end-to-end tests.

/// The README's Rust snippets, compiled (not run: they need a broker) by `cargo test --doc`,
/// so that the README keeps matching the real APIs.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeSnippets;
