//! Shared helpers for idem simulation, interop and end-to-end tests.
