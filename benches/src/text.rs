//! Text-like record values for the compression benchmarks: JSON-ish log lines (field names
//! repeat, numbers and words vary), as the criterion benches and the `compare` compression
//! plan send them. Seeded: the same seed gives the same values.

use idem_core::rand::Rng;

/// One JSON-ish log line, `len` bytes (lines joined by spaces, the last one cut).
pub fn text_record(rng: &mut Rng, len: usize) -> Vec<u8> {
    const WORDS: [&str; 16] = [
        "checkout",
        "payment",
        "cart",
        "search",
        "login",
        "logout",
        "profile",
        "settings",
        "error",
        "timeout",
        "retry",
        "ok",
        "GET",
        "POST",
        "eu-west-1",
        "us-east-2",
    ];
    let mut s = String::with_capacity(len + 200);
    while s.len() < len {
        let w = |rng: &mut Rng| WORDS[rng.below(16) as usize];
        s.push_str(&format!(
            "{{\"ts\":{},\"user\":{},\"action\":\"{}\",\"method\":\"{}\",\"region\":\"{}\",\"latency_ms\":{},\"status\":\"{}\"}} ",
            1_700_000_000_000u64 + rng.below(1_000_000),
            rng.below(100_000),
            w(rng),
            w(rng),
            w(rng),
            rng.below(5000),
            w(rng),
        ));
    }
    s.truncate(len);
    s.into_bytes()
}

/// `n` distinct text records of `len` bytes from `seed` (a pool a load generator cycles
/// through, so that generating values costs nothing while measuring).
pub fn text_values(len: usize, n: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| text_record(&mut rng, len)).collect()
}
