//! Pieces shared by the consumer group and transaction codecs (FindCoordinator, JoinGroup,
//! SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, ListGroups, DescribeGroups,
//! AddPartitionsToTxn, TxnOffsetCommit, ...): arrays of structures, of strings and of int32s,
//! and the tagged-field section that closes every structure of a flexible version. (The
//! fewest-bytes helpers are in [`reader`](super::reader).)

use alloc::vec::Vec;

use super::reader::{min_string, min_tags};
use super::{DecodeError, EncodeError, Reader, Writer};

/// Closes a structure: an empty tagged-field section in flexible versions, nothing otherwise.
pub(crate) fn put_end(out: &mut Vec<u8>, flexible: bool) {
    if flexible {
        out.put_empty_tagged_fields();
    }
}

/// Reads the end of a structure: its tagged-field section (every field skipped) in flexible
/// versions, nothing otherwise.
pub(crate) fn end(r: &mut Reader<'_>, flexible: bool) -> Result<(), DecodeError> {
    if flexible { r.skip_tagged_fields() } else { Ok(()) }
}

/// An array of structures (`[]Struct`): the count, then each element as `put` appends it,
/// closed by its tagged-field section in flexible versions.
pub(crate) fn put_structs<T>(
    out: &mut Vec<u8>,
    flexible: bool,
    items: &[T],
    mut put: impl FnMut(&mut Vec<u8>, &T) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    out.put_array_len(flexible, Some(items.len()))?;
    for item in items {
        put(out, item)?;
        put_end(out, flexible);
    }
    Ok(())
}

/// Reads an array of structures (see [`put_structs`]): each element as `element` reads it,
/// then its tagged-field section. `min_size` is the fewest bytes an element's fields take
/// (its tagged-field section is added here).
pub(crate) fn structs<'a, T>(
    r: &mut Reader<'a>,
    flexible: bool,
    min_size: usize,
    mut element: impl FnMut(&mut Reader<'a>) -> Result<T, DecodeError>,
) -> Result<Vec<T>, DecodeError> {
    r.array_of(flexible, min_size + min_tags(flexible), |r| {
        let item = element(r)?;
        end(r, flexible)?;
        Ok(item)
    })
}

/// An array of non-null strings (`[]string`).
pub(crate) fn put_strings(out: &mut Vec<u8>, flexible: bool, values: &[&str]) -> Result<(), EncodeError> {
    out.put_array_len(flexible, Some(values.len()))?;
    values.iter().try_for_each(|s| out.put_string(flexible, s))
}

/// Reads an array of non-null strings (`[]string`).
pub(crate) fn strings<'a>(r: &mut Reader<'a>, flexible: bool) -> Result<Vec<&'a str>, DecodeError> {
    r.array_of(flexible, min_string(flexible), |r| r.string(flexible))
}

/// An array of int32s (`[]int32`).
pub(crate) fn put_i32s(out: &mut Vec<u8>, flexible: bool, values: &[i32]) -> Result<(), EncodeError> {
    out.put_array_len(flexible, Some(values.len()))?;
    values.iter().for_each(|v| out.put_i32(*v));
    Ok(())
}

/// Reads an array of int32s (`[]int32`).
pub(crate) fn i32s(r: &mut Reader<'_>, flexible: bool) -> Result<Vec<i32>, DecodeError> {
    r.array_of(flexible, 4, Reader::i32)
}
