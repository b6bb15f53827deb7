//! RecordBatch decoding (verified and not) with full record and header iteration (compressed
//! batches decompressed, at most 1 MiB), the concatenated-batches splitter, and every codec's
//! decompressor on the raw input: any input must give Ok or a typed error, never a panic.
#![no_main]

use idem_core::proto::record_batch::{Compression, CompressionContext, RecordBatch, batches};
use libfuzzer_sys::fuzz_target;

const LIMIT: usize = 1 << 20;

fn walk(batch: &RecordBatch<'_>) {
    let mut scratch = Vec::new();
    let Ok(records) = batch.decompressed_records(&mut scratch, LIMIT) else { return };
    for rec in records {
        if let Ok(rec) = rec {
            for h in rec.headers {
                let _ = h;
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok((batch, n)) = RecordBatch::decode(data) {
        assert!(n <= data.len());
        walk(&batch);
    }
    if let Ok((batch, _)) = RecordBatch::decode_unverified(data) {
        walk(&batch);
    }
    for batch in batches(data).flatten() {
        walk(&batch);
    }
    let mut ctx = CompressionContext::new();
    for codec in Compression::ALL {
        let mut out = Vec::new();
        if ctx.decompress(codec, data, LIMIT, &mut out).is_ok() {
            assert!(out.len() <= LIMIT);
        }
    }
});
