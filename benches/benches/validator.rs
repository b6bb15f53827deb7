//! Criterion bench: validator (to be written).

fn main() {}
