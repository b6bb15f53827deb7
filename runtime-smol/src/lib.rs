//! # idem-smol
//!
//! Async driver of the idem core over smol and async-io. (Under construction.)
#![forbid(unsafe_code)]

pub use idem_core;
