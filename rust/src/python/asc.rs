//! `can._core.AscReader` / `AscWriter`: the ASC codec of [`crate::asc`] over Python files.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyInt, PyType};
use pyo3::{PyTraverseError, PyVisit};

use super::message::MessageFactory;
use super::textlog::{
    channel_number, frame_fields, message_frame, warn, PyLocalTime, PyReadFile, PyWriteFile,
};
use super::writer::{writer_class, WriteMessage, WriterCore};
use crate::asc::{Base, Reader, ReaderOptions, Writer};
use crate::lines::Error;
use crate::log::Format;

fn asc_err(e: Error) -> crate::Error {
    crate::Error::text(e, Format::Asc)
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
                let err = PyErr::from(asc_err(e).in_file(&self.name));
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

/// Writer of ASC files; `write_message` takes a `can.Message` (see [`WriterCore`]). Lines
/// are buffered until 64 KiB are formatted when `lend` is set (a file the Python side opened
/// for it), else handed to the file after every call.
#[pyclass(module = "can._core", frozen)]
pub struct AscWriter {
    core: WriterCore<Writer<PyWriteFile>>,
    /// File channel (counted from 1) for messages without a channel number.
    default_channel: i64,
}

impl WriteMessage for AscWriter {
    #[inline]
    fn write(&self, py: Python<'_>, msg: &Bound<'_, PyAny>) -> PyResult<()> {
        self.core.with(py, |w, frame, ()| {
            let (timestamp, channel) = message_frame(msg, frame)?;
            let channel = match channel_number(&channel)? {
                Some(c) => c.saturating_add(1),
                None => self.default_channel,
            };
            w.write_frame_at(frame, timestamp, channel)
                .map_err(|e| asc_err(e).into())
        })
    }
}

writer_class!(AscWriter, close_hook = |_, _| {}, {
    /// Writes to `file` (a file object; `text` says whether it takes str or bytes; `lend`
    /// that it is a buffered binary file the Python side opened, which may be lent bytes and
    /// to which lines are handed in 64 KiB blocks).
    #[new]
    #[pyo3(signature = (file, text, channel=1, lend=false))]
    fn new(py: Python<'_>, file: Py<PyAny>, text: bool, channel: i64, lend: bool) -> Self {
        let writer = Writer::new(
            PyWriteFile::new(py, file, text, lend),
            Box::new(PyLocalTime),
        );
        AscWriter {
            core: WriterCore::new(py, "ASCWriter", writer, (), !lend),
            default_channel: channel,
        }
    }

    /// Appends a text event.
    #[pyo3(signature = (text, timestamp=None))]
    fn log_event(&self, py: Python<'_>, text: &str, timestamp: Option<f64>) -> PyResult<()> {
        self.core.with(py, |w, _, ()| {
            w.log_event(text, timestamp).map_err(|e| asc_err(e).into())
        })
    }
});

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<AscReader>()?;
    m.add_class::<AscWriter>()?;
    Ok(())
}
