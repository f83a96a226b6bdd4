//! `can._core.CsvReader` / `CsvWriter`: the CSV codec of [`crate::csv`] over Python files.
//!
//! CSV has no channel column: messages read have `channel` None, and a message's channel is
//! not written.

use pyo3::prelude::*;
use pyo3::types::PyType;

use super::file::PyFile;
use super::reader::{reader_class, Lines, MessageChannel, ReaderCore};
use super::textlog::message_frame;
use super::writer::{writer_class, WriteMessage, WriteReceived, WriterCore};
use crate::csv::{CsvLines, Writer};
use crate::frame::CanFrame;
use crate::log::Format;

/// Iterator of the messages of a CSV file (see [`ReaderCore`]).
#[pyclass(module = "can._core", frozen)]
pub struct CsvReader {
    core: ReaderCore<Lines<CsvLines>, NoChannel>,
}

/// CSV frames have no channel: `None`.
struct NoChannel;

impl MessageChannel<Lines<CsvLines>> for NoChannel {
    #[inline]
    fn channel<'py>(
        &mut self,
        py: Python<'py>,
        _: &Lines<CsvLines>,
        _: &CanFrame,
    ) -> PyResult<Bound<'py, PyAny>> {
        Ok(py.None().into_bound(py))
    }
}

reader_class!(CsvReader, lines, {
    /// Reads `file` (a file object, text or binary); `message_class` is `can.Message` or a
    /// subclass; `name` names the file in error messages; `on_end()` is called once when the
    /// iteration ends.
    #[new]
    #[pyo3(signature = (file, message_class, name="", strict=true, on_end=None))]
    fn new(
        py: Python<'_>,
        file: Py<PyAny>,
        message_class: &Bound<'_, PyType>,
        name: &str,
        strict: bool,
        on_end: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let core = ReaderCore::lines(
            py,
            file,
            CsvLines,
            NoChannel,
            message_class,
            name,
            strict,
            on_end,
        )?;
        Ok(CsvReader { core })
    }
});

/// Writer of CSV files; `write_message` takes a `can.Message` (see [`WriterCore`]). Lines
/// are buffered until 64 KiB are formatted when `lend` is set (a file the Python side opened
/// for it), else handed to the file after every call.
#[pyclass(module = "can._core", frozen)]
pub struct CsvWriter {
    core: WriterCore<Writer<PyFile>>,
}

impl WriteMessage for CsvWriter {
    #[inline]
    fn write(&self, py: Python<'_>, msg: &Bound<'_, PyAny>) -> PyResult<()> {
        self.core.with(py, |w, frame, _| {
            message_frame(msg, frame)?;
            w.write_frame(frame)
                .map_err(|e| crate::Error::text(e, Format::Csv).into())
        })
    }
}

impl WriteReceived for CsvWriter {
    #[inline]
    fn write_received(
        &self,
        py: Python<'_>,
        frame: &CanFrame,
        _channel: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        // CSV has no channel column: the frame alone is the line.
        self.core.with(py, |w, _, _| {
            w.write_frame(frame)
                .map_err(|e| crate::Error::text(e, Format::Csv).into())
        })
    }
}

writer_class!(CsvWriter, close_hook = |_, _| {}, {
    /// Writes to `file` (a file object; `text` says whether it takes str or bytes; `lend`
    /// that it is a buffered binary file the Python side opened, which may be lent bytes and
    /// to which lines are handed in 64 KiB blocks), starting with the header line if
    /// `header`. A file that is not lent gets the header at once.
    #[new]
    #[pyo3(signature = (file, text, header=true, lend=false))]
    fn new(
        py: Python<'_>,
        file: Py<PyAny>,
        text: bool,
        header: bool,
        lend: bool,
    ) -> PyResult<Self> {
        let mut writer = Writer::new(PyFile::text_sink(py, file, text, lend), header);
        if !lend {
            writer
                .drain()
                .map_err(|e| PyErr::from(crate::Error::text(e, Format::Csv)))?;
        }
        Ok(CsvWriter {
            core: WriterCore::new(py, "CSVWriter", writer, (), !lend),
        })
    }
});

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<CsvReader>()?;
    m.add_class::<CsvWriter>()?;
    Ok(())
}
