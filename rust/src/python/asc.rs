//! `can._core.AscReader` / `AscWriter`: the ASC codec of [`crate::asc`] over Python files.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyType;

use super::file::PyFile;
use super::reader::{reader_class, Lines, MessageChannel, ReaderCore};
use super::textlog::{channel_number, message_frame, PyLocalTime};
use super::writer::{writer_class, WriteMessage, WriteReceived, WriterCore};
use crate::asc::{AscLines, Base, ReaderOptions, Writer};
use crate::frame::CanFrame;
use crate::lines::Error;
use crate::log::Format;

fn asc_err(e: Error) -> crate::Error {
    crate::Error::text(e, Format::Asc)
}

/// Iterator of the messages of an ASC file (see [`ReaderCore`]).
#[pyclass(module = "can._core", frozen)]
pub struct AscReader {
    core: ReaderCore<Lines<AscLines>, AscChannels>,
}

/// File channel `n` is message channel `n - 1` (the core counts from 0 already).
struct AscChannels;

impl MessageChannel<Lines<AscLines>> for AscChannels {
    fn channel<'py>(
        &mut self,
        py: Python<'py>,
        _: &Lines<AscLines>,
        f: &CanFrame,
    ) -> PyResult<Bound<'py, PyAny>> {
        Ok(super::message::int_object(py, i64::from(f.channel)))
    }
}

reader_class!(AscReader, lines, {
    /// Reads `file` (a file object, text or binary); `message_class` is `can.Message` or a
    /// subclass; `name` names the file in error messages; `on_end()` is called once when the
    /// iteration ends.
    #[new]
    #[pyo3(signature = (file, message_class, name="", base="hex", relative_timestamp=true, strict=true, on_end=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
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
            ..ReaderOptions::default()
        };
        let format = AscLines::new(options, Box::new(PyLocalTime));
        Ok(AscReader {
            core: ReaderCore::lines(
                py,
                file,
                format,
                AscChannels,
                message_class,
                name,
                strict,
                on_end,
            )?,
        })
    }
});

/// Writer of ASC files; `write_message` takes a `can.Message` (see [`WriterCore`]). Lines
/// are buffered until 64 KiB are formatted when `lend` is set (a file the Python side opened
/// for it), else handed to the file after every call.
#[pyclass(module = "can._core", frozen)]
pub struct AscWriter {
    core: WriterCore<Writer<PyFile>>,
    /// File channel (counted from 1) for messages without a channel number.
    default_channel: i64,
}

impl AscWriter {
    /// Writes `frame` with the message channel `channel` (see `log_event` for `timestamp`).
    #[inline]
    fn put(
        &self,
        w: &mut Writer<PyFile>,
        frame: &CanFrame,
        timestamp: Option<f64>,
        channel: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let channel = match channel_number(channel)? {
            Some(c) => c.saturating_add(1),
            None => self.default_channel,
        };
        w.write_frame_at(frame, timestamp, channel)
            .map_err(|e| asc_err(e).into())
    }
}

impl WriteMessage for AscWriter {
    #[inline]
    fn write(&self, py: Python<'_>, msg: &Bound<'_, PyAny>) -> PyResult<()> {
        self.core.with(py, |w, frame, ()| {
            let (timestamp, channel) = message_frame(msg, frame)?;
            self.put(w, frame, timestamp, &channel)
        })
    }
}

impl WriteReceived for AscWriter {
    #[inline]
    fn write_received(
        &self,
        py: Python<'_>,
        frame: &CanFrame,
        channel: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        self.core.with(py, |w, _, ()| {
            self.put(w, frame, Some(frame.timestamp), channel)
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
            PyFile::text_sink(py, file, text, lend),
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
