//! Criterion bench: codec (to be written).

fn main() {}
