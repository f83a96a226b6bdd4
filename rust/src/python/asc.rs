//! `can._core.AscReader` / `AscWriter`: the ASC codec of [`crate::asc`] over Python files.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyInt, PyType};
use pyo3::{Borrowed, PyTraverseError, PyVisit};

use super::message::MessageFactory;
use super::textlog::{
    bound_c_function, c_call, channel_number, frame_fields, message_frame, to_pyerr, warn,
    MethodDef, PyLocalTime, PyReadFile, PyWriteFile,
};
use super::writer_cell::{self, close_on_drop, stopped, WriterCell};
use crate::asc::{Base, Reader, ReaderOptions, Writer};
use crate::frame::CanFrame;
use crate::lines::Error;

fn asc_err(py: Python<'_>, e: Error, name: &str) -> PyErr {
    to_pyerr(py, e, name, "can.io.asc", "ASCParseError")
}

/// Iterator of the messages of an ASC file.
#[pyclass(module = "can._core")]
pub struct AscReader {
    inner: Reader<PyReadFile>,
    factory: MessageFactory,
    name: String,
    on_end: Option<Py<PyAny>>,
    finished: bool,
}

impl AscReader {
    fn emit_warnings(&mut self, py: Python<'_>) -> PyResult<()> {
        for w in self.inner.take_warnings() {
            let text = if self.name.is_empty() {
                w
            } else {
                format!("{}: {w}", self.name)
            };
            warn(py, &text)?;
        }
        Ok(())
    }

    fn end(&mut self, py: Python<'_>) -> PyResult<()> {
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        if let Some(first) = self.inner.first_skipped() {
            let where_ = if self.name.is_empty() {
                String::new()
            } else {
                format!("{}: ", self.name)
            };
            warn(
                py,
                &format!(
                    "{where_}skipped {} malformed line(s); the first: {first}",
                    self.inner.skipped()
                ),
            )?;
        }
        if let Some(cb) = self.on_end.take() {
            cb.bind(py).call0()?;
        }
        Ok(())
    }
}

#[pymethods]
impl AscReader {
    /// Reads `file` (a file object, text or binary); `message_class` is `can.Message` or a
    /// subclass; `name` names the file in error messages; `on_end()` is called once when the
    /// iteration ends.
    #[new]
    #[pyo3(signature = (file, message_class, name="", base="hex", relative_timestamp=true, strict=true, on_end=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        file: Py<PyAny>,
        message_class: &Bound<'_, PyType>,
        name: &str,
        base: &str,
        relative_timestamp: bool,
        strict: bool,
        on_end: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let base = match base {
            "hex" => Base::Hex,
            "dec" => Base::Dec,
            other => {
                return Err(PyValueError::new_err(format!(
                    "base must be \"hex\" or \"dec\", not {other:?}"
                )))
            }
        };
        let options = ReaderOptions {
            base,
            relative_timestamp,
            strict,
            ..ReaderOptions::default()
        };
        Ok(AscReader {
            inner: Reader::new(PyReadFile::new(file), options, Box::new(PyLocalTime)),
            factory: MessageFactory::new(message_class)?,
            name: name.to_owned(),
            on_end,
            finished: false,
        })
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Some(cb) = &self.on_end {
            visit.call(cb)?;
        }
        Ok(())
    }

    fn __clear__(&mut self) {
        self.on_end = None;
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        if self.finished {
            return Ok(None);
        }
        let next = self.inner.next_frame();
        self.emit_warnings(py)?;
        match next {
            Ok(Some(f)) => {
                let channel = PyInt::new(py, f.channel).into_any();
                self.factory
                    .build(py, frame_fields(py, &f, channel))
                    .map(Some)
            }
            Ok(None) => {
                self.end(py)?;
                Ok(None)
            }
            Err(e) => {
                // The iteration ends here too: the file is closed before the error is raised.
                self.finished = true;
                let err = asc_err(py, e, &self.name);
                if let Some(cb) = self.on_end.take() {
                    cb.bind(py).call0()?;
                }
                Err(err)
            }
        }
    }

    /// Malformed lines skipped so far (with strict=False).
    #[getter]
    fn skipped_lines(&self) -> u64 {
        self.inner.skipped()
    }

    /// Number of the line read last.
    #[getter]
    fn line_no(&self) -> u64 {
        self.inner.line_no()
    }
}

/// Writer of ASC files; `write_message` takes a `can.Message`.
///
/// Threads may share it (their calls take turns, see [`WriterCell`]). Lines are buffered
/// until 64 KiB are formatted when `lend` is set (a file the Python side opened for it),
/// else handed to the file after every call (a file the caller passed in, which they may
/// read or close at any time). `close()` ends the file; a writer dropped without it is
/// closed then, an error on the way being reported as unraisable.
#[pyclass(module = "can._core", frozen)]
pub struct AscWriter {
    state: WriterCell<AscState>,
    /// File channel (counted from 1) for messages without a channel number.
    default_channel: i64,
    /// Lines go to the file after every call instead of being buffered.
    through: bool,
}

struct AscState {
    /// None once closed.
    inner: Option<Writer<PyWriteFile>>,
    /// The frame of the message being written (reused).
    frame: CanFrame,
}

impl AscWriter {
    #[inline]
    fn write(&self, py: Python<'_>, msg: &Bound<'_, PyAny>) -> PyResult<()> {
        let mut s = self.state.get(py)?;
        let AscState { inner, frame } = &mut *s;
        let Some(w) = inner.as_mut() else {
            return Err(stopped("ASCWriter"));
        };
        let (timestamp, channel) = message_frame(msg, frame)?;
        let channel = match channel_number(&channel)? {
            Some(c) => c.saturating_add(1),
            None => self.default_channel,
        };
        w.write_frame_at(frame, timestamp, channel)
            .map_err(|e| asc_err(py, e, ""))?;
        if self.through {
            if let Err(e) = w.drain() {
                // The caller hears of this message's failure now, not again at stop().
                w.clear_buffer();
                return Err(asc_err(py, e, ""));
            }
        }
        Ok(())
    }
}

impl Drop for AscWriter {
    fn drop(&mut self) {
        if let Some(mut w) = self.state.get_mut().inner.take() {
            close_on_drop("ASCWriter", |py| w.finish().map_err(|e| asc_err(py, e, "")));
        }
    }
}

#[pymethods]
impl AscWriter {
    /// Writes to `file` (a file object; `text` says whether it takes str or bytes; `lend`
    /// that it is a buffered binary file the Python side opened, which may be lent bytes and
    /// to which lines are handed in 64 KiB blocks).
    #[new]
    #[pyo3(signature = (file, text, channel=1, lend=false))]
    fn new(py: Python<'_>, file: Py<PyAny>, text: bool, channel: i64, lend: bool) -> Self {
        writer_cell::init(py);
        AscWriter {
            state: WriterCell::new(AscState {
                inner: Some(Writer::new(
                    PyWriteFile::new(py, file, text, lend),
                    Box::new(PyLocalTime),
                )),
                frame: CanFrame::default(),
            }),
            default_channel: channel,
            through: !lend,
        }
    }

    /// Appends one message.
    fn write_message(&self, py: Python<'_>, msg: &Bound<'_, PyAny>) -> PyResult<()> {
        self.write(py, msg)
    }

    /// `write_message` as a one-argument C function bound to this writer (the fast path
    /// for `on_message_received`).
    fn message_sink<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        bound_c_function(slf.as_any(), &WRITE_DEF)
    }

    /// Appends a text event.
    #[pyo3(signature = (text, timestamp=None))]
    fn log_event(&self, py: Python<'_>, text: &str, timestamp: Option<f64>) -> PyResult<()> {
        let mut s = self.state.get(py)?;
        let Some(w) = s.inner.as_mut() else {
            return Err(stopped("ASCWriter"));
        };
        w.log_event(text, timestamp)
            .map_err(|e| asc_err(py, e, ""))?;
        if self.through {
            if let Err(e) = w.drain() {
                // The caller hears of this message's failure now, not again at stop().
                w.clear_buffer();
                return Err(asc_err(py, e, ""));
            }
        }
        Ok(())
    }

    /// Hands buffered lines to the file and flushes it.
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        let mut s = self.state.get(py)?;
        let Some(w) = s.inner.as_mut() else {
            return Err(stopped("ASCWriter"));
        };
        w.flush().map_err(|e| asc_err(py, e, ""))
    }

    /// Ends the file (`End TriggerBlock`, and the header if no event came), flushes it and
    /// closes the writer: later writes raise `ValueError`. Later calls do nothing.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let mut s = self.state.get(py)?;
        match s.inner.take() {
            Some(mut w) => w.finish().map_err(|e| asc_err(py, e, "")),
            None => Ok(()),
        }
    }

    /// Closes the writer without writing anything more (its file was closed); returns how
    /// many formatted bytes that left unwritten.
    fn discard(&self, py: Python<'_>) -> PyResult<usize> {
        Ok(self.state.get(py)?.inner.take().map_or(0, |w| w.buffered()))
    }

    /// Whether the writer is closed.
    #[getter]
    fn closed(&self, py: Python<'_>) -> PyResult<bool> {
        Ok(self.state.get(py)?.inner.is_none())
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<AscReader>()?;
    m.add_class::<AscWriter>()?;
    Ok(())
}

/// `write_message` as a METH_O C function.
static WRITE_DEF: MethodDef = MethodDef(pyo3::ffi::PyMethodDef {
    ml_name: c"write_message".as_ptr(),
    ml_meth: pyo3::ffi::PyMethodDefPointer {
        PyCFunction: asc_write_o,
    },
    ml_flags: pyo3::ffi::METH_O,
    ml_doc: c"write_message(msg): appends one message".as_ptr(),
});

unsafe extern "C" fn asc_write_o(
    slf: *mut pyo3::ffi::PyObject,
    msg: *mut pyo3::ffi::PyObject,
) -> *mut pyo3::ffi::PyObject {
    // SAFETY: CPython calls this METH_O function with the GIL held, `slf` being the writer
    // the function was bound to (only `message_sink` binds it, always to an `AscWriter`, so
    // the unchecked cast is right) and `msg` the argument, both borrowed for the call.
    unsafe {
        c_call(|py| {
            // Only `message_sink` binds this function, always to an `AscWriter`.
            let writer = Borrowed::from_ptr(py, slf).cast_unchecked::<AscWriter>();
            let msg = Borrowed::from_ptr(py, msg);
            writer.get().write(py, &msg)
        })
    }
}
