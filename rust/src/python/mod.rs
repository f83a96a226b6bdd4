//! The PyO3 binding layer: everything that knows about Python lives under this module.
//!
//! It stays thin: argument conversion and object construction here, the work itself in the
//! core modules of the crate.

use pyo3::prelude::*;

mod arrow;
mod asc;
mod blf;
mod candump;
mod convert;
mod csv;
mod cyclic;
mod error;
mod file;
mod filter;
pub(crate) mod message;
mod reader;
mod serial;
mod socketcan;
mod sqlite;
mod textlog;
mod trc;
mod vendorrx;
mod writer;
mod writer_cell;

/// The native module `can._core`.
#[pymodule]
#[pyo3(name = "_core")]
fn core_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    message::register(m)?;
    socketcan::register(m)?;
    blf::register(m)?;
    arrow::register(m)?;
    asc::register(m)?;
    candump::register(m)?;
    convert::register(m)?;
    filter::register(m)?;
    cyclic::register(m)?;
    trc::register(m)?;
    sqlite::register(m)?;
    serial::register(m)?;
    csv::register(m)?;
    vendorrx::register(m)?;
    m.add_function(wrap_pyfunction!(dlc2len, m)?)?;
    m.add_function(wrap_pyfunction!(len2dlc, m)?)?;
    Ok(())
}

/// Data length in bytes for a DLC 0..=15.
#[pyfunction]
fn dlc2len(dlc: i64) -> PyResult<usize> {
    u32::try_from(dlc)
        .ok()
        .and_then(crate::dlc::dlc_to_len)
        .ok_or_else(|| {
            pyo3::exceptions::PyValueError::new_err(format!(
                "DLC must be between 0 and 15, got {dlc}"
            ))
        })
}

/// Smallest DLC whose data length holds `length` bytes (0..=64).
#[pyfunction]
fn len2dlc(length: i64) -> PyResult<u8> {
    usize::try_from(length)
        .ok()
        .and_then(crate::dlc::len_to_dlc)
        .ok_or_else(|| {
            pyo3::exceptions::PyValueError::new_err(format!(
                "data length must be between 0 and 64 bytes, got {length}"
            ))
        })
}
