//! The one place where the crate's [`Error`] becomes a Python exception.
//!
//! * a parse error: the format's exception class of `can.io` (`BLFParseError`,
//!   `ASCParseError`, `CanutilsLogParseError`, `TRCParseError`, `CSVParseError`: each a `can.CanError` and a
//!   `ValueError`), its message naming the file and the line or byte offset;
//! * a database that is not one of messages: `can.io.sqlite.SqliteParseError` (also a
//!   `can.CanError` and a `ValueError`), naming the file, the table and the row;
//! * a value that cannot be written: `ValueError`;
//! * an I/O error: the exception the Python file object raised, or the `OSError` subclass
//!   of its errno (`FileNotFoundError`, `PermissionError`, ...) with the file's name;
//! * a conversion stopped by its progress callback: `KeyboardInterrupt`.
//!
//! The exception classes are looked up once per interpreter and kept.

use std::io;

use pyo3::exceptions::{PyKeyboardInterrupt, PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

use crate::error::Error;
use crate::log::Format;

static BLF_PARSE_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static ASC_PARSE_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static LOG_PARSE_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static TRC_PARSE_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static SQLITE_PARSE_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static CSV_PARSE_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// The exception class of `format`'s parse errors.
fn parse_error_class(py: Python<'_>, format: Format) -> PyResult<&Bound<'_, PyType>> {
    let (cell, module, name) = match format {
        Format::Blf => (&BLF_PARSE_ERROR, "can.io.blf", "BLFParseError"),
        Format::Asc => (&ASC_PARSE_ERROR, "can.io.asc", "ASCParseError"),
        Format::Log => (&LOG_PARSE_ERROR, "can.io.canutils", "CanutilsLogParseError"),
        Format::Trc => (&TRC_PARSE_ERROR, "can.io.trc", "TRCParseError"),
        Format::Csv => (&CSV_PARSE_ERROR, "can.io.csv", "CSVParseError"),
    };
    cell.import(py, module, name)
}

impl From<Error> for PyErr {
    fn from(e: Error) -> PyErr {
        match e {
            Error::Io { file, source } => io_error(source, &file),
            Error::Value(msg) => PyValueError::new_err(msg),
            Error::Interrupted(why) => PyKeyboardInterrupt::new_err(why),
            Error::Parse { format, .. } => {
                let msg = e.to_string();
                Python::attach(|py| raise(parse_error_class(py, format), msg))
            }
            Error::Database { .. } => {
                let msg = e.to_string();
                Python::attach(|py| {
                    let class = SQLITE_PARSE_ERROR.import(py, "can.io.sqlite", "SqliteParseError");
                    raise(class, msg)
                })
            }
        }
    }
}

/// An exception of `class` with `msg`.
fn raise(class: PyResult<&Bound<'_, PyType>>, msg: String) -> PyErr {
    match class.and_then(|c| c.call1((msg.clone(),))) {
        Ok(exc) => PyErr::from_value(exc),
        // The package is being torn down: the message still says it all.
        Err(_) => PyValueError::new_err(msg),
    }
}

/// An I/O error as Python sees it: the exception a Python file object raised (carried
/// through `io::Error`), else `OSError(errno, strerror, file)`, which Python turns into the
/// subclass of the errno.
pub fn io_error(e: io::Error, file: &str) -> PyErr {
    if e.get_ref().is_some_and(|inner| inner.is::<PyErr>()) {
        if let Some(inner) = e.into_inner() {
            if let Ok(py_err) = inner.downcast::<PyErr>() {
                return *py_err;
            }
        }
        return PyOSError::new_err("I/O error");
    }
    match e.raw_os_error() {
        Some(code) => {
            let text = e.to_string();
            // Rust appends " (os error N)" to the C library's message.
            let text = text
                .split(" (os error")
                .next()
                .unwrap_or_default()
                .to_owned();
            if file.is_empty() {
                PyOSError::new_err((code, text))
            } else {
                PyOSError::new_err((code, text, file.to_owned()))
            }
        }
        None if file.is_empty() => PyErr::from(e),
        None => PyOSError::new_err(format!("{file}: {e}")),
    }
}

/// The error of a Python call made on behalf of a codec, carried through `io::Error`.
pub fn py_io(e: PyErr) -> io::Error {
    io::Error::other(e)
}
