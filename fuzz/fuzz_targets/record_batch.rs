//! RecordBatch decoding (verified and not) with full record and header iteration, and the
//! concatenated-batches splitter: any input must give Ok or a typed error, never a panic.
#![no_main]

use idem_core::proto::record_batch::{RecordBatch, batches};
use libfuzzer_sys::fuzz_target;

fn walk(batch: &RecordBatch<'_>) {
    for rec in batch.records() {
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
});
