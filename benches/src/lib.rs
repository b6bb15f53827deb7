//! Shared helpers for idem benchmarks and the comparison harness.
