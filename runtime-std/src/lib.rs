//! # idem-std
//!
//! Blocking driver of the idem core over `std::net` and threads. (Under construction.)
#![forbid(unsafe_code)]

pub use idem_core;
