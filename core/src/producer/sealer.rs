//! Sealing batches with the configured codec (`compression.type`, `compression.level`), one
//! [`CompressionContext`] per producer reused for every batch, and re-encoding a sealed batch
//! as two halves (a batch the broker refused as too large).
//!
//! Guarantees:
//! - `batch.size` counts uncompressed bytes: the accumulator fills a batch with records up to
//!   it (as librdkafka does; the Java client instead estimates the compressed size with its
//!   `CompressionRatioEstimator`, which depends on earlier batches), so a batch's contents do
//!   not depend on how well earlier batches compressed. The codec runs once per batch, at seal.
//! - A sealed batch never exceeds `message.max.bytes`: it is compressed when the compressed
//!   batch fits, else sent uncompressed, which fits by construction (the accumulator keeps
//!   every uncompressed batch within `min(batch.size, message.max.bytes)`, or a single record
//!   `send` checked against `message.max.bytes`). The compressed batch can only be the larger
//!   one when the records do not compress (it is then longer than the uncompressed one), so
//!   splitting it would only give two batches that are larger than their uncompressed
//!   records too. Below that limit a batch that compression made larger is still sent
//!   compressed, as Kafka's Java client does (`MemoryRecordsBuilder` keeps its output).
//! - The bytes are final once sealed: a retry resends them; only renumbering rewrites the
//!   header (producer id, epoch, sequence, CRC), never the compressed records.
//! - Splitting (MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE: the broker's limit is below ours)
//!   decodes the batch, decompresses its records (a compressed batch) and appends them to two
//!   new builders sealed like any batch, so the halves are compressed with the same codec and
//!   level (the Java client's `ProducerBatch.split` keeps the batch's compression). Nothing
//!   beyond the sealed bytes is kept per batch for this rare path.

use alloc::vec::Vec;

use bytes::Bytes;

use super::config::ProducerConfig;
use crate::proto::record_batch::{
    ATTR_TRANSACTIONAL, Compression, CompressionContext, ProducerStamp, RecordBatch, RecordBatchBuilder,
};

/// The producer's codec and its reused state.
#[derive(Debug)]
pub(crate) struct Sealer {
    codec: Compression,
    level: Option<i32>,
    ctx: CompressionContext,
    /// `message.max.bytes`: the most a sealed batch may take.
    max_bytes: usize,
    /// Attribute bits every batch carries: `ATTR_TRANSACTIONAL` with a `transactional.id`.
    flags: i16,
}

impl Default for Sealer {
    /// No compression, no size bound (unit tests of the partition and accumulator).
    fn default() -> Self {
        Sealer {
            codec: Compression::None,
            level: None,
            ctx: CompressionContext::new(),
            max_bytes: usize::MAX,
            flags: 0,
        }
    }
}

impl Sealer {
    /// The sealer `config` asks for (validated: the codec is built in, the level in range).
    pub(crate) fn new(config: &ProducerConfig) -> Self {
        Sealer {
            codec: config.compression,
            level: config.compression_level,
            ctx: CompressionContext::new(),
            max_bytes: config.message_max_bytes,
            flags: if config.transactional_id.is_some() { ATTR_TRANSACTIONAL } else { 0 },
        }
    }

    /// Seals `builder` with `stamp`: compressed with the codec when the compressed batch is
    /// within `message.max.bytes`, else uncompressed (see the module docs). The bytes are the
    /// builder's buffer (no copy when uncompressed; the compressed records are copied back
    /// over the uncompressed ones).
    pub(crate) fn seal(&mut self, builder: RecordBatchBuilder, stamp: ProducerStamp) -> Bytes {
        let (bytes, _) =
            builder.seal_compressed_flagged(stamp, self.codec, self.level, &mut self.ctx, self.max_bytes, self.flags);
        Bytes::from(bytes)
    }

    /// Re-encodes the records of sealed batch `bytes` as two batches, the first `mid` records
    /// and the rest, each sealed with `stamp` by [`Sealer::seal`]. `None` when the bytes do
    /// not decode (or decompress within `message.max.bytes`) or either half would be empty.
    pub(crate) fn split(&mut self, bytes: &[u8], mid: usize, stamp: ProducerStamp) -> Option<(Bytes, Bytes)> {
        let (rb, _) = RecordBatch::decode(bytes).ok()?;
        let mut scratch = Vec::new();
        let mut builders: [Option<RecordBatchBuilder>; 2] = [None, None];
        let mut headers: Vec<(&str, Option<&[u8]>)> = Vec::new();
        let mut total = 0usize;
        for (k, r) in rb.decompressed_records(&mut scratch, self.max_bytes).ok()?.enumerate() {
            let r = r.ok()?;
            let ts = r.timestamp(&rb.header);
            headers.clear();
            for h in r.headers {
                headers.push(h.ok()?);
            }
            let half = usize::from(k >= mid);
            builders[half]
                .get_or_insert_with(|| RecordBatchBuilder::new(ts))
                .append(ts, r.key, r.value, &headers)
                .ok()?;
            total += 1;
        }
        let [Some(a), Some(b)] = builders else { return None };
        if a.record_count() as usize != mid || b.record_count() as usize != total - mid {
            return None;
        }
        Some((self.seal(a, stamp), self.seal(b, stamp)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rand::Rng;

    /// A batch of `n` records of `len` bytes, random (incompressible) or repetitive.
    fn builder(n: usize, len: usize, random: bool, rng: &mut Rng) -> RecordBatchBuilder {
        let mut b = RecordBatchBuilder::new(1);
        for i in 0..n {
            let v: Vec<u8> = (0..len).map(|k| if random { rng.next_u64() as u8 } else { (i + k % 7) as u8 }).collect();
            b.append(1, None, Some(&v), &[]).unwrap_or_default();
        }
        b
    }

    #[test]
    fn compressed_within_message_max_bytes_else_uncompressed() {
        let mut rng = Rng::new(5);
        for codec in Compression::ALL.into_iter().filter(|c| c.is_enabled() && *c != Compression::None) {
            let plain_size = builder(4, 1000, true, &mut rng).size_in_bytes();
            let config = ProducerConfig { compression: codec, message_max_bytes: plain_size, ..Default::default() };
            let mut sealer = Sealer::new(&config);
            // Repetitive records: compressed, and smaller.
            let bytes = sealer.seal(builder(4, 1000, false, &mut rng), ProducerStamp::NONE);
            let (rb, _) = RecordBatch::decode(&bytes).unwrap_or_else(|e| panic!("{codec:?}: {e}"));
            assert_eq!(rb.header.compression(), Ok(codec));
            assert!(bytes.len() < plain_size / 4, "{codec:?}: {}", bytes.len());
            // Random records: compression makes the batch larger than message.max.bytes, which
            // the uncompressed batch meets: sent uncompressed.
            let bytes = sealer.seal(builder(4, 1000, true, &mut rng), ProducerStamp::NONE);
            let (rb, _) = RecordBatch::decode(&bytes).unwrap_or_else(|e| panic!("{codec:?}: {e}"));
            assert_eq!((rb.header.compression(), bytes.len()), (Ok(Compression::None), plain_size), "{codec:?}");
            // With room to spare, incompressible records are still sent compressed (the Java
            // client's choice), even though that is larger.
            let mut roomy = Sealer::new(&ProducerConfig { message_max_bytes: 2 * plain_size, ..config });
            let bytes = roomy.seal(builder(4, 1000, true, &mut rng), ProducerStamp::NONE);
            let (rb, _) = RecordBatch::decode(&bytes).unwrap_or_else(|e| panic!("{codec:?}: {e}"));
            assert_eq!(rb.header.compression(), Ok(codec));
            assert!(bytes.len() > plain_size, "{codec:?}: random bytes do not compress");
        }
    }
}
