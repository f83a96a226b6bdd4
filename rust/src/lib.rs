//! Core of the `can` Python package.
//!
//! The modules at the top of this crate are plain Rust and know nothing about Python; they are
//! tested with `cargo test` alone. The PyO3 binding layer lives in [`python`] and is compiled
//! only with the `python` feature, which maturin turns on when it builds `can._core`.

pub mod arrow;
pub mod asc;
pub mod blf;
pub mod candump;
pub mod convert;
pub mod csv;
pub mod cyclic;
pub mod dlc;
pub mod error;
pub mod filter;
pub mod fmt;
pub mod frame;
pub mod lines;
pub mod log;
pub mod serial;
pub mod socketcan;
pub mod sqlite;
pub mod trc;
pub mod vendorrx;

pub use error::{Error, Result};

#[cfg(feature = "python")]
mod python;
