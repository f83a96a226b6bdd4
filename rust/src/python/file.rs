//! The one adapter from Python file objects to `Read` / `Write` / `Seek`, for every codec.
//!
//! * Reading takes what `read()` returns, `str` (text files, as UTF-8) or bytes; the `io`
//!   module's own binary files are read with `readinto()` straight into the codec's buffer.
//!   A binary-only reader (BLF) refuses `str`.
//! * Writing hands text files a `str` of whole lines and binary files bytes: lent as a
//!   read-only memoryview (released when `write()` returns) to files that copy what they are
//!   given, else as a `bytes` object. A raw file (`io.RawIOBase`) that takes less than it was
//!   given is written to again until it took everything.
//! * Seeking goes to `seek()` when the file says it is `seekable()`.
//!
//! An exception the file object raises travels inside the `io::Error` and is raised as it was
//! (see [`super::error::io_error`]).

use std::io::{self, Read, Seek, SeekFrom, Write};

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyString};

use super::error::py_io;

/// `PyBUF_READ` / `PyBUF_WRITE` of CPython's `Include/object.h` (not exported by pyo3-ffi under
/// the stable ABI): the access of a memoryview made from memory.
const PY_BUF_READ: std::ffi::c_int = 0x100;
const PY_BUF_WRITE: std::ffi::c_int = 0x200;

/// A Python file object as a `Read` / `Write` / `Seek`.
pub struct PyFile {
    pub file: Py<PyAny>,
    /// Writes go as `str` (a text-mode file).
    text: bool,
    /// The file copies what it is given and keeps no reference to it (one of the `io`
    /// module's own binary files, or one the Python side opened): buffers are lent to it as
    /// memoryviews instead of copied into `bytes` objects first.
    lend: bool,
    /// The file is an `io.RawIOBase`, whose `write()` may take less than it was given and
    /// returns None when it takes nothing.
    raw: bool,
    /// Reading: `read()` must return bytes (a binary format).
    binary_only: bool,
    /// Bytes read but not yet handed out (a `read()` that returned more than was asked).
    pending: Vec<u8>,
    pos: usize,
}

impl PyFile {
    /// A binary file, lent buffers if it is one of the `io` module's own classes; `str`
    /// from `read()` is refused.
    pub fn binary(py: Python<'_>, file: Py<PyAny>) -> Self {
        let lend = is_io_binary(file.bind(py));
        let mut f = PyFile::with(py, file, false, lend);
        f.binary_only = true;
        f
    }

    /// A file read by a text format: `read()` may return `str` or bytes.
    pub fn text_source(py: Python<'_>, file: Py<PyAny>) -> Self {
        let lend = is_io_binary(file.bind(py));
        PyFile::with(py, file, false, lend)
    }

    /// A file written by a text format: `text` says whether it takes `str`; `lend` that it is
    /// a buffered binary file the Python side opened.
    pub fn text_sink(py: Python<'_>, file: Py<PyAny>, text: bool, lend: bool) -> Self {
        PyFile::with(py, file, text, lend && !text)
    }

    fn with(py: Python<'_>, file: Py<PyAny>, text: bool, lend: bool) -> Self {
        let raw = !text && is_raw(file.bind(py));
        PyFile {
            file,
            text,
            lend,
            raw,
            binary_only: false,
            pending: Vec::new(),
            pos: 0,
        }
    }

    /// A memoryview of `buf` (`flags`: PY_BUF_READ or PY_BUF_WRITE) for `f`, released when
    /// `f` returns whatever it did with it, so that even a file that kept a reference could
    /// not reach the memory afterwards.
    fn with_view<'py, T>(
        py: Python<'py>,
        ptr: *mut u8,
        len: usize,
        flags: std::ffi::c_int,
        f: impl FnOnce(&Bound<'py, PyAny>) -> PyResult<T>,
    ) -> PyResult<T> {
        let n = pyo3::ffi::Py_ssize_t::try_from(len)?;
        // SAFETY: `ptr..ptr+len` is a live buffer of the caller's (writable when PY_BUF_WRITE
        // is asked), borrowed for this call; the view is released below before returning.
        let view = unsafe {
            Bound::from_owned_ptr_or_err(
                py,
                pyo3::ffi::PyMemoryView_FromMemory(ptr.cast(), n, flags),
            )
        }?;
        let result = f(&view);
        view.call_method0(pyo3::intern!(py, "release"))?;
        result
    }

    /// Hands out pending bytes into `buf`.
    fn take_pending(&mut self, buf: &mut [u8]) -> usize {
        let n = (self.pending.len() - self.pos).min(buf.len());
        buf[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
        self.pos += n;
        if self.pos == self.pending.len() {
            self.pending.clear();
            self.pos = 0;
        }
        n
    }
}

/// Whether `file` is an `io.RawIOBase` (a file whose `write()` may be partial).
pub fn is_raw(file: &Bound<'_, PyAny>) -> bool {
    let py = file.py();
    py.import("io")
        .and_then(|io| io.getattr("RawIOBase"))
        .and_then(|raw| file.is_instance(&raw))
        .unwrap_or(false)
}

/// Whether `file` is exactly one of the `io` module's own binary files (`FileIO`,
/// `BufferedReader`, `BufferedWriter`, `BufferedRandom`, `BytesIO`), which copy what they are
/// given and keep no reference to it.
fn is_io_binary(file: &Bound<'_, PyAny>) -> bool {
    let py = file.py();
    py.import("io").is_ok_and(|io| {
        let t = file.get_type();
        [
            "FileIO",
            "BufferedReader",
            "BufferedWriter",
            "BufferedRandom",
            "BytesIO",
        ]
        .iter()
        .any(|name| io.getattr(*name).is_ok_and(|c| c.is(&t)))
    })
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_default()
}

/// How much of `len` bytes a binary file's `write()` took, from what it returned: a raw file
/// says how many (None: a non-blocking file that took nothing, an error); any other file
/// took everything unless it returned a smaller count (a file-like object returning None or
/// something else is taken to have written it all, as python-can assumes).
fn written_count(written: &Bound<'_, PyAny>, len: usize, raw: bool) -> io::Result<usize> {
    if written.is_none() {
        if raw {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                "write() returned None: the non-blocking file could not take the data now",
            ));
        }
        return Ok(len);
    }
    match written.extract::<usize>() {
        Ok(0) => Err(io::Error::new(io::ErrorKind::WriteZero, "write() wrote 0")),
        Ok(n) => Ok(n.min(len)),
        Err(_) if !raw => Ok(len),
        Err(_) => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "write() of a raw file returned {}, not a byte count",
                type_name(written)
            ),
        )),
    }
}

/// `file.flush()`, if the file has one.
pub fn flush_file(py: Python<'_>, file: &Py<PyAny>) -> io::Result<()> {
    let f = file.bind(py);
    match f.getattr(pyo3::intern!(py, "flush")) {
        Ok(flush) => flush.call0().map(drop).map_err(py_io),
        Err(_) => Ok(()),
    }
}

impl Read for PyFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.pos < self.pending.len() {
            return Ok(self.take_pending(buf));
        }
        Python::attach(|py| {
            let f = self.file.bind(py);
            if self.lend {
                let n = PyFile::with_view(py, buf.as_mut_ptr(), buf.len(), PY_BUF_WRITE, |v| {
                    f.call_method1(pyo3::intern!(py, "readinto"), (v,))
                })
                .map_err(py_io)?;
                // None: a non-blocking stream with no data yet, taken as the end.
                return if n.is_none() {
                    Ok(0)
                } else {
                    Ok(n.extract::<usize>().map_err(py_io)?.min(buf.len()))
                };
            }
            let data = f
                .call_method1(pyo3::intern!(py, "read"), (buf.len(),))
                .map_err(py_io)?;
            if let Ok(b) = data.cast::<PyBytes>() {
                self.pending.extend_from_slice(b.as_bytes());
            } else if let Ok(b) = data.cast::<PyByteArray>() {
                self.pending.extend_from_slice(&b.to_vec());
            } else if let (Ok(s), false) = (data.cast::<PyString>(), self.binary_only) {
                self.pending
                    .extend_from_slice(s.to_cow().map_err(py_io)?.as_bytes());
            } else if data.is_none() {
                // A non-blocking stream with no data yet: taken as the end.
                return Ok(0);
            } else {
                let what = if self.binary_only {
                    "files of this format must be opened in binary mode"
                } else {
                    "read() must return str or bytes"
                };
                return Err(py_io(PyTypeError::new_err(format!(
                    "{what}: read() returned {}",
                    type_name(&data)
                ))));
            }
            Ok(self.take_pending(buf))
        })
    }
}

impl Write for PyFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        Python::attach(|py| {
            let f = self.file.bind(py);
            let write = pyo3::intern!(py, "write");
            if self.text {
                // The writers hand over whole lines built from UTF-8 text; a text file
                // takes all of a str.
                let arg = match std::str::from_utf8(buf) {
                    Ok(text) => PyString::new(py, text),
                    Err(_) => PyString::new(py, &String::from_utf8_lossy(buf)),
                };
                f.call_method1(write, (arg,)).map_err(py_io)?;
                return Ok(());
            }
            let mut rest = buf;
            while !rest.is_empty() {
                let written = if self.lend {
                    // The view is read-only: the file cannot write to our buffer.
                    let ptr = rest.as_ptr().cast_mut();
                    PyFile::with_view(py, ptr, rest.len(), PY_BUF_READ, |v| {
                        f.call_method1(write, (v,))
                    })
                } else {
                    f.call_method1(write, (PyBytes::new(py, rest),))
                }
                .map_err(py_io)?;
                // Raw files may write less than asked (or nothing, returning None).
                let n = written_count(&written, rest.len(), self.raw)?;
                rest = &rest[n..];
            }
            Ok(())
        })
    }

    /// Flushes the Python file object.
    fn flush(&mut self) -> io::Result<()> {
        Python::attach(|py| flush_file(py, &self.file))
    }
}

impl Seek for PyFile {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        // Bytes read ahead are dropped: the file's position is where the caller asks.
        self.pending.clear();
        self.pos = 0;
        Python::attach(|py| {
            let f = self.file.bind(py);
            let seekable = match f.call_method0(pyo3::intern!(py, "seekable")) {
                Ok(s) => s.is_truthy().map_err(py_io)?,
                Err(_) => false,
            };
            if !seekable {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "the file is not seekable",
                ));
            }
            let (off, whence) = match pos {
                SeekFrom::Start(n) => (n as i64, 0),
                SeekFrom::Current(n) => (n, 1),
                SeekFrom::End(n) => (n, 2),
            };
            f.call_method1(pyo3::intern!(py, "seek"), (off, whence))
                .and_then(|r| r.extract::<u64>())
                .map_err(py_io)
        })
    }
}
