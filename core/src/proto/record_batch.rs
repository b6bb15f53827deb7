//! RecordBatch v2 (magic 2): encode with CRC-32C, decode with verification.
