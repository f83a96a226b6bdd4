//! `can._core.CanutilsLogReader` / `CanutilsLogWriter`: the candump log codec of
//! [`crate::candump`] over Python files.

use pyo3::prelude::*;
use pyo3::types::{PyInt, PyString, PyType};

use super::file::PyFile;
use super::reader::{reader_class, Lines, MessageChannel, ReaderCore};
use super::textlog::message_frame;
use super::writer::{writer_class, WriteMessage, WriteReceived, WriterCore};
use crate::candump::{LogLines, Writer};
use crate::frame::CanFrame;
use crate::lines::Error;
use crate::lines::LineFormat;
use crate::log::Format;

fn log_err(e: Error) -> crate::Error {
    crate::Error::text(e, Format::Log)
}

/// Interface names seen: each becomes one Python object, shared by its messages.
const MAX_CACHED_CHANNELS: usize = 64;

/// Iterator of the messages of a candump log (see [`ReaderCore`]).
#[pyclass(module = "can._core", frozen)]
pub struct CanutilsLogReader {
    core: ReaderCore<Lines<LogLines>, LogChannels>,
}

/// Interface names seen: each becomes one Python object, shared by its messages (an int
/// for an all-digit name, as python-can does, else the str).
#[derive(Default)]
struct LogChannels(Vec<(Vec<u8>, Py<PyAny>)>);

impl MessageChannel<Lines<LogLines>> for LogChannels {
    fn channel<'py>(
        &mut self,
        py: Python<'py>,
        source: &Lines<LogLines>,
        _: &CanFrame,
    ) -> PyResult<Bound<'py, PyAny>> {
        let name = source.format.channel_name().unwrap_or_default();
        // Logs have a few interfaces: a short list beats hashing every name.
        if let Some((_, obj)) = self.0.iter().find(|(n, _)| n.as_slice() == name) {
            return Ok(obj.bind(py).clone());
        }
        let text = String::from_utf8_lossy(name);
        let obj = if !name.is_empty() && name.iter().all(u8::is_ascii_digit) {
            match text.parse::<u64>() {
                Ok(n) => PyInt::new(py, n).into_any(),
                Err(_) => PyString::new(py, &text).into_any(),
            }
        } else {
            PyString::new(py, &text).into_any()
        };
        if self.0.len() >= MAX_CACHED_CHANNELS {
            self.0.clear();
        }
        self.0.push((name.to_vec(), obj.clone().unbind()));
        Ok(obj)
    }
}

reader_class!(CanutilsLogReader, lines, {
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
            LogLines::default(),
            LogChannels::default(),
            message_class,
            name,
            strict,
            on_end,
        )?;
        Ok(CanutilsLogReader { core })
    }
});

/// Writer of candump logs; `write_message` takes a `can.Message` (see [`WriterCore`]).
/// Lines are buffered until 64 KiB are formatted when `lend` is set (a file the Python side
/// opened for it), else handed to the file after every call.
#[pyclass(module = "can._core", frozen)]
pub struct CanutilsLogWriter {
    core: WriterCore<Writer<PyFile>, Names>,
    default_channel: String,
}

/// Channel objects seen (held, so that identity stays meaningful) and their names.
type Names = Vec<(Py<PyAny>, Vec<u8>)>;

impl CanutilsLogWriter {
    /// The interface name of a message's channel: an int (or a str of digits) n is "can<n>",
    /// as python-can writes it; None is the default channel.
    fn interface_name(&self, channel: &Bound<'_, PyAny>) -> PyResult<String> {
        Ok(if channel.is_none() {
            self.default_channel.clone()
        } else if let Ok(s) = channel.cast::<PyString>() {
            let s = s.to_cow()?;
            if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
                format!("can{s}")
            } else {
                s.into_owned()
            }
        } else if channel.is_instance_of::<PyInt>() {
            format!("can{}", channel.str()?.to_cow()?)
        } else {
            channel.str()?.to_cow()?.into_owned()
        })
    }
}

impl CanutilsLogWriter {
    /// Writes `frame` with the message channel `channel`.
    #[inline]
    fn put(
        &self,
        w: &mut Writer<PyFile>,
        names: &mut Names,
        frame: &CanFrame,
        timestamp: Option<f64>,
        channel: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let at = match names
            .iter()
            .position(|(obj, _)| obj.as_ptr() == channel.as_ptr())
        {
            Some(i) => i,
            None => {
                let name = self.interface_name(channel)?;
                if names.len() >= MAX_CACHED_CHANNELS {
                    names.clear();
                }
                names.push((channel.clone().unbind(), name.into_bytes()));
                names.len() - 1
            }
        };
        w.write_frame_at(frame, timestamp, &names[at].1)
            .map_err(|e| log_err(e).into())
    }
}

impl WriteMessage for CanutilsLogWriter {
    #[inline]
    fn write(&self, py: Python<'_>, msg: &Bound<'_, PyAny>) -> PyResult<()> {
        self.core.with(py, |w, frame, names| {
            let (timestamp, channel) = message_frame(msg, frame)?;
            self.put(w, names, frame, timestamp, &channel)
        })
    }
}

impl WriteReceived for CanutilsLogWriter {
    #[inline]
    fn write_received(
        &self,
        py: Python<'_>,
        frame: &CanFrame,
        channel: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        self.core.with(py, |w, _, names| {
            self.put(w, names, frame, Some(frame.timestamp), channel)
        })
    }
}

writer_class!(CanutilsLogWriter, close_hook = |_, _| {}, {
    /// Writes to `file` (a file object; `text` says whether it takes str or bytes; `lend`
    /// that it is a buffered binary file the Python side opened, which may be lent bytes and
    /// to which lines are handed in 64 KiB blocks).
    #[new]
    #[pyo3(signature = (file, text, channel="vcan0", lend=false))]
    fn new(py: Python<'_>, file: Py<PyAny>, text: bool, channel: &str, lend: bool) -> Self {
        let writer = Writer::new(PyFile::text_sink(py, file, text, lend));
        CanutilsLogWriter {
            core: WriterCore::new(py, "CanutilsLogWriter", writer, Vec::new(), !lend),
            default_channel: channel.to_owned(),
        }
    }
});

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<CanutilsLogReader>()?;
    m.add_class::<CanutilsLogWriter>()?;
    Ok(())
}
