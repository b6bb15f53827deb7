//! Hostile input: every decoder of the codec (transaction markers of control batches included)
//! is fed truncated frames, random bytes and mutated valid frames (bit flips, byte
//! replacements, length-field and varint corruption, truncation, insertion, deletion,
//! duplication). Each decode must return Ok or a typed error, never panic,
//! and allocate at most `ALLOC_FACTOR * input + ALLOC_SLACK` bytes (RecordBatch decoding: none;
//! compressed RecordBatches, whose records are decompressed into a scratch buffer: a bound of
//! a few times the decompression limit, whatever the input claims).
//!
//! Reproducible: a run is fully determined by `IDEM_FUZZ_SEED` (default below); a failure prints
//! the seed, the case number and the input. `IDEM_FUZZ_CASES` sets the total number of cases
//! (default 1 000 000, split across the decoders), e.g. `IDEM_FUZZ_CASES=10000000 cargo test --release
//! -p idem-core --test hostile_input`.
//!
//! Allocation is measured by a counting global allocator (`stats_alloc`, which wraps
//! `std::alloc::System`): the workspace forbids `unsafe_code`, so this test cannot implement
//! `GlobalAlloc` itself. Everything runs on the main thread without the libtest harness (`harness = false`), so
//! that no other thread allocates meanwhile; a bound exceeded is measured twice before it fails.
#![allow(clippy::unwrap_used)] // tests unwrap by design

use idem_core::proto::record_batch::control::{EndTransactionMarker, TransactionResult};
use idem_core::proto::record_batch::{
    self, Compression, CompressionContext, ProducerStamp, RecordBatch, RecordBatchBuilder,
};
use idem_core::proto::{
    self, Frame, Message, Reader, RequestHeader, api_versions, describe_groups, fetch, init_producer_id, list_groups,
    list_offsets, metadata, offset_commit, offset_fetch, produce, sasl_authenticate, sasl_handshake,
};
use idem_core::proto::{add_offsets_to_txn, add_partitions_to_txn, end_txn, txn_offset_commit};
use idem_core::proto::{find_coordinator, heartbeat, join_group, leave_group, sync_group};
use idem_core::rand::Rng;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;

/// The message types under test, one line each: direction, type, sample values (encoded in
/// every supported version; samples a version cannot carry are skipped).
macro_rules! for_each_message {
    ($m:ident) => {
        $m!(request api_versions::ApiVersionsRequest = samples::api_versions_request());
        $m!(response api_versions::ApiVersionsResponse = samples::api_versions_response());
        $m!(request metadata::MetadataRequest = samples::metadata_request());
        $m!(response metadata::MetadataResponse = samples::metadata_response());
        $m!(request init_producer_id::InitProducerIdRequest = samples::init_producer_id_request());
        $m!(response init_producer_id::InitProducerIdResponse = samples::init_producer_id_response());
        $m!(request list_offsets::ListOffsetsRequest = samples::list_offsets_request());
        $m!(response list_offsets::ListOffsetsResponse = samples::list_offsets_response());
        $m!(request produce::ProduceRequest = samples::produce_request());
        $m!(response produce::ProduceResponse = samples::produce_response());
        $m!(request fetch::FetchRequest = samples::fetch_request());
        $m!(response fetch::FetchResponse = samples::fetch_response());
        $m!(request sasl_handshake::SaslHandshakeRequest = samples::sasl_handshake_request());
        $m!(response sasl_handshake::SaslHandshakeResponse = samples::sasl_handshake_response());
        $m!(request sasl_authenticate::SaslAuthenticateRequest = samples::sasl_authenticate_request());
        $m!(response sasl_authenticate::SaslAuthenticateResponse = samples::sasl_authenticate_response());
        $m!(request find_coordinator::FindCoordinatorRequest = samples::find_coordinator_request());
        $m!(response find_coordinator::FindCoordinatorResponse = samples::find_coordinator_response());
        $m!(request join_group::JoinGroupRequest = samples::join_group_request());
        $m!(response join_group::JoinGroupResponse = samples::join_group_response());
        $m!(request sync_group::SyncGroupRequest = samples::sync_group_request());
        $m!(response sync_group::SyncGroupResponse = samples::sync_group_response());
        $m!(request heartbeat::HeartbeatRequest = samples::heartbeat_request());
        $m!(response heartbeat::HeartbeatResponse = samples::heartbeat_response());
        $m!(request leave_group::LeaveGroupRequest = samples::leave_group_request());
        $m!(response leave_group::LeaveGroupResponse = samples::leave_group_response());
        $m!(request offset_commit::OffsetCommitRequest = samples::offset_commit_request());
        $m!(response offset_commit::OffsetCommitResponse = samples::offset_commit_response());
        $m!(request offset_fetch::OffsetFetchRequest = samples::offset_fetch_request());
        $m!(response offset_fetch::OffsetFetchResponse = samples::offset_fetch_response());
        $m!(request list_groups::ListGroupsRequest = samples::list_groups_request());
        $m!(response list_groups::ListGroupsResponse = samples::list_groups_response());
        $m!(request describe_groups::DescribeGroupsRequest = samples::describe_groups_request());
        $m!(response describe_groups::DescribeGroupsResponse = samples::describe_groups_response());
        $m!(request add_partitions_to_txn::AddPartitionsToTxnRequest = samples::add_partitions_to_txn_request());
        $m!(response add_partitions_to_txn::AddPartitionsToTxnResponse = samples::add_partitions_to_txn_response());
        $m!(request add_offsets_to_txn::AddOffsetsToTxnRequest = samples::add_offsets_to_txn_request());
        $m!(response add_offsets_to_txn::AddOffsetsToTxnResponse = samples::add_offsets_to_txn_response());
        $m!(request end_txn::EndTxnRequest = samples::end_txn_request());
        $m!(response end_txn::EndTxnResponse = samples::end_txn_response());
        $m!(request txn_offset_commit::TxnOffsetCommitRequest = samples::txn_offset_commit_request());
        $m!(response txn_offset_commit::TxnOffsetCommitResponse = samples::txn_offset_commit_response());
    };
}

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Serialises the tests: allocation counts are process-wide.
static SERIAL: Mutex<()> = Mutex::new(());

/// Bytes one decode may allocate per input byte (decoded structs are larger than their wire
/// form, and vectors may grow by doubling) ...
const ALLOC_FACTOR: usize = 32;
/// ... plus this constant.
const ALLOC_SLACK: usize = 4096;
/// Valid inputs kept per target to mutate further (decoded-Ok mutants are added up to this).
const MAX_CORPUS: usize = 256;

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => v.parse().ok(),
    }
}

fn master_seed() -> u64 {
    env_u64("IDEM_FUZZ_SEED").unwrap_or(0x1DE3_F022_5EED)
}

/// This test's share (in per mille) of the total case budget.
fn budget(per_mille: u64) -> u64 {
    (env_u64("IDEM_FUZZ_CASES").unwrap_or(1_000_000) * per_mille / 1000).max(1)
}

/// Values that break length fields.
const INTERESTING: [i64; 16] = [
    -1,
    -2,
    0,
    1,
    0x7F,
    0x80,
    0xFF,
    0x7FFF,
    0x8000,
    0xFFFF,
    0x1_0000,
    1_000_000,
    i32::MAX as i64,
    i32::MIN as i64,
    5,
    48,
];

fn random_bytes(rng: &mut Rng, max: u64) -> Vec<u8> {
    let n = rng.below(max + 1) as usize;
    (0..n).map(|_| rng.next_u64() as u8).collect()
}

fn mutate(rng: &mut Rng, v: &mut Vec<u8>) {
    let pos = |rng: &mut Rng, v: &Vec<u8>| rng.below(v.len() as u64 + 1) as usize;
    match rng.below(9) {
        0 if !v.is_empty() => {
            let i = rng.below(v.len() as u64) as usize;
            v[i] ^= 1 << rng.below(8);
        }
        1 if !v.is_empty() => {
            let i = rng.below(v.len() as u64) as usize;
            v[i] = if rng.chance(0.5) { rng.next_u64() as u8 } else { INTERESTING[rng.below(16) as usize] as u8 };
        }
        2 => {
            // Length-field corruption: an int16, int32 or varint of an interesting value.
            let x = if rng.chance(0.2) {
                v.len() as i64 + rng.below(5) as i64 - 2
            } else {
                INTERESTING[rng.below(16) as usize]
            };
            let bytes: Vec<u8> = match rng.below(3) {
                0 => (x as i16).to_be_bytes().to_vec(),
                1 => (x as i32).to_be_bytes().to_vec(),
                _ => {
                    let mut u = ((x << 1) ^ (x >> 63)) as u64 & 0xFFFF_FFFF;
                    let mut out = Vec::new();
                    while u >= 0x80 {
                        out.push(u as u8 | 0x80);
                        u >>= 7;
                    }
                    out.push(u as u8);
                    out
                }
            };
            let at = pos(rng, v).min(v.len().saturating_sub(bytes.len()));
            for (k, b) in bytes.into_iter().enumerate() {
                match v.get_mut(at + k) {
                    Some(slot) => *slot = b,
                    None => v.push(b),
                }
            }
        }
        3 => v.truncate(pos(rng, v)),
        4 => {
            let at = pos(rng, v);
            let extra = random_bytes(rng, 8);
            v.splice(at..at, extra);
        }
        5 => {
            let a = pos(rng, v);
            let b = (a + rng.below(16) as usize).min(v.len());
            v.drain(a..b);
        }
        6 => {
            let a = pos(rng, v);
            let b = (a + rng.below(32) as usize).min(v.len());
            let chunk = v[a..b].to_vec();
            let at = pos(rng, v);
            v.splice(at..at, chunk);
        }
        7 => {
            // An overlong or maximal varint.
            let at = pos(rng, v);
            let mut run = vec![0xFF; 1 + rng.below(10) as usize];
            run.push(if rng.chance(0.5) { 0x7F } else { 0x0F });
            v.splice(at..at, run);
        }
        _ => {
            let tail = random_bytes(rng, 16);
            v.extend(tail);
        }
    }
}

/// Repairs a mutant (e.g. re-seals a CRC) so that mutations reach deeper.
type Fixup = dyn Fn(&mut [u8]);
/// A decoder under test; returns whether the input decoded Ok.
type Decoder = dyn Fn(&[u8]) -> bool;

/// One target: a decoder and its corpus of valid inputs.
struct Target<'f> {
    name: String,
    corpus: Vec<Vec<u8>>,
    /// Allocation allowed per input byte and constant (0, 0: none at all).
    alloc: (usize, usize),
    /// Applied to mutants half of the time (e.g. re-sealing a RecordBatch CRC).
    fixup: Option<&'f Fixup>,
    /// Decodes; returns whether the input decoded Ok (it is then worth mutating further).
    decode: &'f dyn Fn(&[u8]) -> bool,
}

/// Runs `cases` cases split evenly across `targets`; returns the cases run.
fn run(test: &str, targets: &mut [Target<'_>], cases: u64) -> u64 {
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let seed = master_seed();
    let mut master = Rng::new(seed ^ test.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b))));
    let per_target = (cases / targets.len() as u64).max(200);
    let mut total = 0;
    let mut max_ratio = 0.0f64;
    for t in targets.iter_mut() {
        assert!(!t.corpus.is_empty(), "{}: empty corpus", t.name);
        let mut rng = master.fork();
        for case in 0..per_target {
            let input = match rng.below(16) {
                0 => {
                    let max = if rng.chance(0.9) { 64 } else { 4096 };
                    random_bytes(&mut rng, max)
                }
                1 | 2 => {
                    let s = &t.corpus[rng.below(t.corpus.len() as u64) as usize];
                    s[..rng.below(s.len() as u64 + 1) as usize].to_vec()
                }
                _ => {
                    let mut v = t.corpus[rng.below(t.corpus.len() as u64) as usize].clone();
                    for _ in 0..1 + rng.below(4) {
                        mutate(&mut rng, &mut v);
                    }
                    if let Some(fix) = t.fixup.filter(|_| rng.chance(0.5)) {
                        fix(&mut v);
                    }
                    v
                }
            };
            let measure = || {
                let region = Region::new(GLOBAL);
                let outcome = catch_unwind(AssertUnwindSafe(|| (t.decode)(&input)));
                let stats = region.change();
                (outcome, stats.bytes_allocated + stats.bytes_reallocated.max(0) as usize)
            };
            let (outcome, mut allocated) = measure();
            let bound = t.alloc.0 * input.len() + t.alloc.1;
            if allocated > bound && outcome.is_ok() {
                // Measure again in case another thread allocated meanwhile (the counts are
                // process-wide); a decoder's own allocation repeats.
                allocated = allocated.min(measure().1);
            }
            let shown = &input[..input.len().min(256)];
            let replay = format!(
                "replay: IDEM_FUZZ_SEED={seed:#x} IDEM_FUZZ_CASES={} (test {test}, target {}, case {case}); input ({} bytes) {shown:02x?}",
                budget(1000),
                t.name,
                input.len()
            );
            let Ok(ok) = outcome else { panic!("decoder panicked; {replay}") };
            assert!(allocated <= bound, "allocated {allocated} bytes, bound {bound}; {replay}");
            max_ratio = max_ratio.max(allocated as f64 / (input.len() + 1) as f64);
            if ok && t.corpus.len() < MAX_CORPUS && rng.chance(0.05) && !input.is_empty() {
                t.corpus.push(input);
            }
            total += 1;
        }
    }
    eprintln!(
        "{test}: {total} cases over {} targets, seed {seed:#x}, max bytes allocated per input byte {max_ratio:.2}",
        targets.len()
    );
    total
}

fn frame_body(frame: &[u8]) -> Vec<u8> {
    frame[4..].to_vec()
}

/// Valid request and response frames of every enabled message, every version.
fn all_frames() -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    macro_rules! collect {
        ($dir:ident $ty:ty = $samples:expr) => {{
            let key = <$ty>::API_KEY.supported();
            for v in key.min..=key.max {
                for s in $samples {
                    let mut out = Vec::new();
                    if collect!(@encode $dir, &mut out, v, &s).is_ok() {
                        frames.push(out);
                    }
                }
            }
        }};
        (@encode request, $out:expr, $v:expr, $s:expr) => { proto::encode_request_frame($out, 7, Some("fuzz"), $v, $s) };
        (@encode response, $out:expr, $v:expr, $s:expr) => { proto::encode_response_frame($out, 7, $v, $s) };
    }
    for_each_message!(collect);
    frames
}

fn frames_and_request_headers() {
    let frames = all_frames();
    let requests: Vec<Vec<u8>> = frames.iter().filter(|f| f.len() > 8).map(|f| frame_body(f)).collect();
    let parse = |b: &[u8]| match proto::parse_frame(b, 1 << 20) {
        Ok(Frame::Complete { body, consumed }) => {
            assert!(consumed <= b.len() && body.len() + 4 == consumed);
            true
        }
        Ok(Frame::Partial { needed }) => {
            assert!(needed > 0);
            false
        }
        Err(_) => false,
    };
    let parse_small = |b: &[u8]| matches!(proto::parse_frame(b, 64), Ok(Frame::Complete { .. }));
    let header = |b: &[u8]| {
        let a = RequestHeader::decode(&mut Reader::new(b)).is_ok();
        let b = proto::decode_request_header(b).is_ok();
        assert_eq!(a, b);
        a
    };
    let peek = |b: &[u8]| proto::peek_correlation_id(b).is_ok();
    let mut targets = [
        Target { name: "parse_frame".into(), corpus: frames.clone(), alloc: (0, 0), fixup: None, decode: &parse },
        Target { name: "parse_frame max 64".into(), corpus: frames, alloc: (0, 0), fixup: None, decode: &parse_small },
        Target {
            name: "RequestHeader::decode".into(),
            corpus: requests.clone(),
            alloc: (0, 0),
            fixup: None,
            decode: &header,
        },
        Target { name: "peek_correlation_id".into(), corpus: requests, alloc: (0, 0), fixup: None, decode: &peek },
    ];
    assert!(run("frames_and_request_headers", &mut targets, budget(100)) > 0);
}

fn messages_every_version() {
    let mut names = Vec::new();
    let mut corpora: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut decoders: Vec<Box<Decoder>> = Vec::new();
    macro_rules! add {
        ($dir:ident $ty:ty = $samples:expr) => {{
            let key = <$ty>::API_KEY.supported();
            for v in key.min..=key.max {
                let (mut raw, mut framed) = (Vec::new(), Vec::new());
                for s in $samples {
                    let mut out = Vec::new();
                    if s.encode(v, &mut out).is_ok() {
                        raw.push(out);
                    }
                    let mut out = Vec::new();
                    if add!(@encode $dir, &mut out, v, &s).is_ok() {
                        framed.push(frame_body(&out));
                    }
                }
                assert!(!raw.is_empty(), "{} v{v}: no sample encodes", stringify!($ty));
                names.push(format!("{} v{v} Message::decode", stringify!($ty)));
                corpora.push(raw);
                decoders.push(Box::new(move |b: &[u8]| {
                    let mut r = Reader::new(b);
                    <$ty>::decode(&mut r, v).is_ok() && r.finish().is_ok()
                }));
                names.push(format!("{} v{v} framed", stringify!($ty)));
                corpora.push(framed);
                decoders.push(Box::new(move |b: &[u8]| add!(@decode $dir $ty, b, v)));
            }
        }};
        (@encode request, $out:expr, $v:expr, $s:expr) => { proto::encode_request_frame($out, 7, Some("fuzz"), $v, $s) };
        (@encode response, $out:expr, $v:expr, $s:expr) => { proto::encode_response_frame($out, 7, $v, $s) };
        (@decode request $ty:ty, $b:expr, $v:expr) => {
            match proto::decode_request_header($b) {
                Ok((_, mut r)) => <$ty>::decode(&mut r, $v).is_ok() && r.finish().is_ok(),
                Err(_) => false,
            }
        };
        (@decode response $ty:ty, $b:expr, $v:expr) => { proto::decode_response::<$ty>($b, $v).is_ok() };
    }
    for_each_message!(add);
    let mut targets: Vec<Target<'_>> = names
        .into_iter()
        .zip(corpora)
        .zip(&decoders)
        .map(|((name, corpus), d)| Target {
            name,
            corpus,
            alloc: (ALLOC_FACTOR, ALLOC_SLACK),
            fixup: None,
            decode: &**d,
        })
        .collect();
    assert!(run("messages_every_version", &mut targets, budget(500)) > 0);
}

/// Recomputes the CRC of the batch at the front of `v` over what its length field covers.
fn reseal(v: &mut [u8]) {
    if v.len() < 21 {
        return;
    }
    let len = i32::from_be_bytes([v[8], v[9], v[10], v[11]]);
    let end = if len >= 9 { (12 + len as usize).min(v.len()) } else { v.len() };
    let crc = idem_core::crc32c::checksum(&v[21..end]);
    v[17..21].copy_from_slice(&crc.to_be_bytes());
}

fn sample_batch(rng: &mut Rng) -> Vec<u8> {
    sample_batch_with(rng, Compression::None)
}

fn sample_batch_with(rng: &mut Rng, codec: Compression) -> Vec<u8> {
    let mut b = RecordBatchBuilder::new(1_700_000_000_000);
    for i in 0..rng.below(8) {
        let key = (!rng.chance(0.2)).then(|| random_bytes(rng, 24));
        let value = (!rng.chance(0.1)).then(|| random_bytes(rng, 48));
        let hv = random_bytes(rng, 6);
        let headers: Vec<(&str, Option<&[u8]>)> = match rng.below(3) {
            0 => vec![],
            1 => vec![("trace", Some(&hv))],
            _ => vec![("a", None), ("bé", Some(&hv))],
        };
        b.append(1_700_000_000_000 + i as i64 * 3 - 2, key.as_deref(), value.as_deref(), &headers).unwrap();
    }
    let stamp = if rng.chance(0.3) {
        ProducerStamp::NONE
    } else {
        ProducerStamp { producer_id: 9, producer_epoch: 1, base_sequence: i32::MAX - 2 }
    };
    b.seal_compressed(stamp, codec, None, &mut CompressionContext::new()).unwrap()
}

/// Decodes and walks every record and header; panics if an iterator fails to end.
fn walk(batch: &RecordBatch<'_>, input_len: usize) -> bool {
    walk_records(batch, batch.records(), input_len)
}

/// Walks the given records of `batch` and their headers; panics if an iterator runs past
/// `input_len + 1` steps.
fn walk_records(batch: &RecordBatch<'_>, records: record_batch::Records<'_>, input_len: usize) -> bool {
    let mut ok = true;
    let mut steps = 0;
    for rec in records {
        steps += 1;
        assert!(steps <= input_len + 1, "records iterator does not end");
        match rec {
            Ok(rec) => {
                let _ = (rec.timestamp(&batch.header), rec.sequence(&batch.header), rec.offset(&batch.header));
                for h in rec.headers {
                    steps += 1;
                    assert!(steps <= input_len + 1, "headers iterator does not end");
                    ok &= h.is_ok();
                }
            }
            Err(_) => ok = false,
        }
    }
    let h = batch.header;
    let _ = (h.compression(), h.last_sequence(), h.last_offset(), h.is_control(), h.is_transactional());
    // Transaction markers: recognised or refused, never a panic, nothing allocated.
    ok &= EndTransactionMarker::from_batch(batch).is_ok();
    ok
}

fn record_batches() {
    let mut rng = Rng::new(master_seed());
    let mut singles: Vec<Vec<u8>> = (0..32).map(|_| sample_batch(&mut rng)).collect();
    // Control batches (COMMIT and ABORT markers).
    for (result, epoch) in [(TransactionResult::Commit, 0), (TransactionResult::Abort, i32::MAX)] {
        let marker = EndTransactionMarker { result, coordinator_epoch: epoch };
        singles.push(marker.control_batch(9, 1, 1_000, 1_700_000_000_000));
    }
    let multis: Vec<Vec<u8>> =
        (0..16).map(|_| (0..1 + rng.below(3)).flat_map(|_| sample_batch(&mut rng)).collect()).collect();
    let decode = |b: &[u8]| match RecordBatch::decode(b) {
        Ok((batch, n)) => {
            assert!(n <= b.len() && n == batch.as_bytes().len());
            walk(&batch, b.len())
        }
        Err(_) => false,
    };
    let unverified = |b: &[u8]| match RecordBatch::decode_unverified(b) {
        Ok((batch, n)) => {
            assert!(n <= b.len());
            walk(&batch, b.len())
        }
        Err(_) => false,
    };
    let split = |b: &[u8]| {
        let mut ok = true;
        let mut count = 0;
        for batch in record_batch::batches(b) {
            count += 1;
            assert!(count <= b.len() / 61 + 1, "batches iterator does not end");
            match batch {
                Ok(batch) => ok &= walk(&batch, b.len()),
                Err(_) => ok = false,
            }
        }
        ok
    };
    let fix: &Fixup = &reseal;
    let mut targets = [
        Target {
            name: "RecordBatch::decode".into(),
            corpus: singles.clone(),
            alloc: (0, 0),
            fixup: Some(fix),
            decode: &decode,
        },
        Target {
            name: "RecordBatch::decode_unverified".into(),
            corpus: singles,
            alloc: (0, 0),
            fixup: None,
            decode: &unverified,
        },
        Target {
            name: "record_batch::batches".into(),
            corpus: multis,
            alloc: (0, 0),
            fixup: Some(fix),
            decode: &split,
        },
    ];
    assert!(run("record_batches", &mut targets, budget(400)) > 0);
}

/// The decompression limit of the compressed-batch targets.
const DECOMPRESSION_LIMIT: usize = 64 * 1024;

/// Compressed batches of every codec: decode, decompress the records (bounded by
/// [`DECOMPRESSION_LIMIT`]) and walk them. Among the inputs: truncated frames, flipped
/// checksums (the RecordBatch CRC re-sealed half the time so that the mutation reaches the
/// codec), random bytes, and decompression bombs (a few KiB of compressed zeros that would
/// expand to 8 MiB). Allocation stays within a few times the limit however much the input
/// claims or would expand to.
fn compressed_batches() {
    let mut rng = Rng::new(master_seed() ^ 0xC0DEC);
    let decode = |b: &[u8]| match RecordBatch::decode(b) {
        Ok((batch, n)) => {
            assert!(n <= b.len());
            let mut scratch = Vec::new();
            match batch.decompressed_records(&mut scratch, DECOMPRESSION_LIMIT) {
                Ok(records) => walk_records(&batch, records, DECOMPRESSION_LIMIT),
                Err(_) => false,
            }
        }
        Err(_) => false,
    };
    let fix: &Fixup = &reseal;
    let mut targets = Vec::new();
    for codec in [Compression::Gzip, Compression::Snappy, Compression::Lz4, Compression::Zstd] {
        let mut corpus: Vec<Vec<u8>> = (0..24).map(|_| sample_batch_with(&mut rng, codec)).collect();
        // Bombs: 8 MiB of zeros in records of 64 KiB, compressed.
        let mut b = RecordBatchBuilder::new(0);
        for _ in 0..128 {
            b.append(0, None, Some(&[0; 64 * 1024]), &[]).unwrap();
        }
        let bomb = b.seal_compressed(ProducerStamp::NONE, codec, None, &mut CompressionContext::new()).unwrap();
        assert!(bomb.len() < 512 * 1024, "{codec:?} bomb of {} bytes", bomb.len());
        corpus.push(bomb);
        targets.push(Target {
            name: format!("RecordBatch::decompressed_records {}", codec.name()),
            corpus,
            alloc: (0, 3 * DECOMPRESSION_LIMIT + 32 * 1024),
            fixup: Some(fix),
            decode: &decode,
        });
    }
    assert!(run("compressed_batches", &mut targets, budget(100)) > 0);
}

/// One test so that no other test thread allocates while decoders are measured.
fn main() {
    hostile_input();
    println!("hostile_input: every decoder survived");
}

fn hostile_input() {
    frames_and_request_headers();
    messages_every_version();
    record_batches();
    compressed_batches();
}

/// Sample values per message: rich (non-empty arrays, strings, nulls) and default.
#[path = "hostile_input/samples.rs"]
mod samples;
