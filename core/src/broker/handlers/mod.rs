//! One request handler per API. Each decodes its request (a decode failure closes the
//! connection) and returns the encoded response frame, or what to do instead.

pub(crate) mod api_versions;
pub(crate) mod fetch;
pub(crate) mod group;
pub(crate) mod init_producer_id;
pub(crate) mod list_offsets;
pub(crate) mod metadata;
pub(crate) mod produce;
pub(crate) mod sasl;
pub(crate) mod txn;

#[cfg(test)]
pub(crate) mod tests;
