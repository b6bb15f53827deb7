//! Criterion bench: broker (to be written).

fn main() {}
