//! Criterion bench: producer (to be written).

fn main() {}
