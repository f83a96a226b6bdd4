//! `can._core.AscReader` / `AscWriter`: the ASC codec of [`crate::asc`] over Python files.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyInt, PyType};
use pyo3::{PyTraverseError, PyVisit};

use super::message::MessageFactory;
use super::textlog::{
    bound_c_function, c_call, channel_number, frame_fields, message_frame, to_pyerr, warn,
    MethodDef, PyLocalTime, PyReadFile, PyWriteFile,
};
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
#[pyclass(module = "can._core")]
pub struct AscWriter {
    inner: Writer<PyWriteFile>,
    /// File channel (counted from 1) for messages without a channel number.
    default_channel: i64,
    /// The frame of the message being written (reused).
    frame: Box<CanFrame>,
}

impl AscWriter {
    fn write(&mut self, py: Python<'_>, msg: &Bound<'_, PyAny>) -> PyResult<()> {
        let (timestamp, channel) = message_frame(msg, &mut self.frame)?;
        let channel = match channel_number(&channel)? {
            Some(c) => c.saturating_add(1),
            None => self.default_channel,
        };
        self.inner
            .write_frame_at(&self.frame, timestamp, channel)
            .map_err(|e| asc_err(py, e, ""))
    }
}

#[pymethods]
impl AscWriter {
    /// Writes to `file` (a file object; `text` says whether it takes str or bytes; `lend`
    /// that it is a buffered binary file the caller opened, which may be lent bytes).
    #[new]
    #[pyo3(signature = (file, text, channel=1, lend=false))]
    fn new(file: Py<PyAny>, text: bool, channel: i64, lend: bool) -> Self {
        AscWriter {
            inner: Writer::new(PyWriteFile { file, text, lend }, Box::new(PyLocalTime)),
            default_channel: channel,
            frame: Box::default(),
        }
    }

    /// Appends one message.
    fn write_message(&mut self, py: Python<'_>, msg: &Bound<'_, PyAny>) -> PyResult<()> {
        self.write(py, msg)
    }

    /// `write_message` as a one-argument C function bound to this writer (the fast path
    /// for `on_message_received`).
    fn message_sink<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        bound_c_function(slf.as_any(), &WRITE_DEF)
    }

    /// Appends a text event.
    #[pyo3(signature = (text, timestamp=None))]
    fn log_event(&mut self, py: Python<'_>, text: &str, timestamp: Option<f64>) -> PyResult<()> {
        self.inner
            .log_event(text, timestamp)
            .map_err(|e| asc_err(py, e, ""))
    }

    /// Hands buffered lines to the file.
    fn flush(&mut self, py: Python<'_>) -> PyResult<()> {
        self.inner.flush().map_err(|e| asc_err(py, e, ""))
    }

    /// Writes `End TriggerBlock` (and the header, if no event came) and flushes.
    fn finish(&mut self, py: Python<'_>) -> PyResult<()> {
        self.inner.finish().map_err(|e| asc_err(py, e, ""))
    }

    #[getter]
    fn finished(&self) -> bool {
        self.inner.is_finished()
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
    // the function was bound to (see `message_sink`) and `msg` the argument, both borrowed.
    unsafe {
        c_call(|py| {
            let writer = Bound::from_borrowed_ptr(py, slf).cast_into::<AscWriter>()?;
            let msg = Bound::from_borrowed_ptr(py, msg);
            let mut writer = writer.try_borrow_mut()?;
            writer.write(py, &msg)
        })
    }
}
