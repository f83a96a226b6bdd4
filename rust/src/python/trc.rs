//! `can._core.TrcReader` / `TrcWriter`: the PEAK trace file codec of [`crate::trc`] over
//! Python files.
//!
//! Channels are python-can 4.x's: a message's channel is the TRC bus number (a file without a
//! bus column is bus 1), so frame channel `n` (counted from 0 in the core) is message channel
//! `n + 1`.

use pyo3::prelude::*;
use pyo3::types::PyType;

use super::file::PyFile;
use super::reader::{reader_class, Lines, MessageChannel, ReaderCore};
use super::textlog::{channel_number, message_frame_channel, warn, Channel};
use super::writer::{writer_class, WriteMessage, WriteReceived, WriterCore};
use crate::frame::CanFrame;
use crate::lines::Error;
use crate::log::Format;
use crate::trc::{TrcLines, Version, Writer};

fn trc_err(e: Error) -> crate::Error {
    crate::Error::text(e, Format::Trc)
}

/// Largest bus number a record holds (three digits).
const MAX_BUS: i64 = 999;

/// Iterator of the messages of a TRC file (see [`ReaderCore`]).
#[pyclass(module = "can._core", frozen)]
pub struct TrcReader {
    core: ReaderCore<Lines<TrcLines>, TrcChannels>,
}

/// A message's channel is the TRC bus number (frame channel + 1).
struct TrcChannels;

impl MessageChannel<Lines<TrcLines>> for TrcChannels {
    fn channel<'py>(
        &mut self,
        py: Python<'py>,
        _: &Lines<TrcLines>,
        f: &CanFrame,
    ) -> PyResult<Bound<'py, PyAny>> {
        Ok(super::message::int_object(py, i64::from(f.channel) + 1))
    }
}

reader_class!(TrcReader, lines, {
    /// Reads `file` (a file object, text or binary) from its header on; `message_class` is
    /// `can.Message` or a subclass; `name` names the file in error messages; `on_end()` is
    /// called once when the iteration ends.
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
            TrcLines::default(),
            TrcChannels,
            message_class,
            name,
            strict,
            on_end,
        )?;
        core.read_header(py, |s| s.read_header().map_err(trc_err))?;
        Ok(TrcReader { core })
    }

    /// Records skipped so far because they are not frames (warnings, status, events).
    #[getter]
    fn skipped_records(&self, py: Python<'_>) -> PyResult<u64> {
        Ok(self.core.state(py)?.source.format.skipped_records())
    }

    /// The file version as python-can's `TRCFileVersion` value (101 for 1.1).
    #[getter]
    fn file_version(&self, py: Python<'_>) -> PyResult<u32> {
        Ok(self.core.state(py)?.source.format.version().code())
    }

    /// The start of the recording as Unix time, if the file gives it.
    #[getter]
    fn start_time(&self, py: Python<'_>) -> PyResult<Option<f64>> {
        Ok(self.core.state(py)?.source.format.start_time())
    }

    /// The column letters of the records (`"NOTBIdRLD"`).
    #[getter]
    fn columns(&self, py: Python<'_>) -> PyResult<String> {
        use crate::trc::Column::*;
        Ok(self
            .core
            .state(py)?
            .source
            .format
            .columns()
            .iter()
            .map(|c| match c {
                Number => 'N',
                Offset => 'O',
                Type => 'T',
                Bus => 'B',
                Id => 'I',
                Direction => 'd',
                Reserved => 'R',
                Length => 'l',
                Dlc => 'L',
                Data => 'D',
            })
            .collect())
    }
});

/// Writer of TRC files; `write_message` takes a `can.Message` (see [`WriterCore`]). Lines
/// are buffered until 64 KiB are formatted when `lend` is set (a file the Python side opened
/// for it), else handed to the file after every call.
#[pyclass(module = "can._core", frozen)]
pub struct TrcWriter {
    core: WriterCore<Writer<PyFile>, TrcState>,
    /// Bus of messages without a channel number.
    default_bus: i64,
}

/// What a TRC writer keeps besides the core writer.
#[derive(Clone, Copy)]
struct TrcState {
    /// Messages this version cannot hold (CAN FD in 1.1), not written.
    skipped: u64,
    /// The version and whether the header was written, as they were when the writer closed.
    closed: Option<(Version, bool)>,
}

impl TrcWriter {
    /// Writes `frame` (its other fields set) on the bus its message `channel` gives; true
    /// when it is the first frame this version cannot hold (a warning is due).
    #[inline]
    fn put(
        &self,
        w: &mut Writer<PyFile>,
        state: &mut TrcState,
        frame: &mut CanFrame,
        channel: Channel<'_>,
    ) -> PyResult<bool> {
        let bus = match channel {
            Channel::None => self.default_bus,
            Channel::Int(v) => v,
            Channel::Object(obj) => channel_number(&obj)?.unwrap_or(self.default_bus),
        };
        if !(0..=MAX_BUS).contains(&bus) {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "cannot write a message on channel {bus}: TRC bus numbers are 0 to {MAX_BUS}"
            )));
        }
        // ok: 0..=999 fits an i32.
        frame.channel = bus as i32 - 1;
        if w.write_frame(frame).map_err(trc_err)? {
            return Ok(false);
        }
        state.skipped += 1;
        Ok(state.skipped == 1)
    }

    /// The warning of the first frame not written (it may run Python code: outside the
    /// writer's cell).
    fn warn_skipped(py: Python<'_>) -> PyResult<()> {
        warn(
            py,
            "TRC file version 1.1 cannot hold CAN FD frames: they are not written \
             (see TRCWriter.skipped_messages)",
        )
    }
}

impl WriteMessage for TrcWriter {
    #[inline]
    fn write(&self, py: Python<'_>, msg: &Bound<'_, PyAny>) -> PyResult<()> {
        let first_skip = self.core.with(py, |w, frame, state| {
            let (_, channel) = message_frame_channel(msg, frame)?;
            self.put(w, state, frame, channel)
        })?;
        if first_skip {
            Self::warn_skipped(py)?;
        }
        Ok(())
    }
}

impl WriteReceived for TrcWriter {
    #[inline]
    fn write_received(
        &self,
        py: Python<'_>,
        received: &CanFrame,
        channel: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let first_skip = self.core.with(py, |w, frame, state| {
            *frame = *received;
            let channel = if channel.is_none() {
                Channel::None
            } else {
                Channel::Object(channel.clone())
            };
            self.put(w, state, frame, channel)
        })?;
        if first_skip {
            Self::warn_skipped(py)?;
        }
        Ok(())
    }
}

fn version_of(code: u32) -> PyResult<Version> {
    Version::from_code(code).ok_or_else(|| {
        pyo3::exceptions::PyValueError::new_err(format!("unknown TRC file version {code}"))
    })
}

writer_class!(
    TrcWriter,
    close_hook = |w: &Writer<PyFile>, s: &mut TrcState| {
        s.closed = Some((w.version(), w.header_written()));
    },
    {
        /// Writes to `file` (a file object; `text` says whether it takes str or bytes; `lend`
        /// that it is a buffered binary file the Python side opened, which may be lent bytes and
        /// to which lines are handed in 64 KiB blocks). `channel` is the bus of messages
        /// without a channel number; `version` python-can's `TRCFileVersion` value (201 or 101).
        #[new]
        #[pyo3(signature = (file, text, channel=1, version=201, lend=false))]
        fn new(
            py: Python<'_>,
            file: Py<PyAny>,
            text: bool,
            channel: i64,
            version: u32,
            lend: bool,
        ) -> PyResult<Self> {
            let writer = Writer::new(
                PyFile::text_sink(py, file, text, lend),
                version_of(version)?,
            )
            .map_err(trc_err)?;
            Ok(TrcWriter {
                core: WriterCore::new(
                    py,
                    "TRCWriter",
                    writer,
                    TrcState {
                        skipped: 0,
                        closed: None,
                    },
                    !lend,
                ),
                default_bus: channel,
            })
        }

        /// The file version being written (python-can's `TRCFileVersion` value).
        #[getter]
        fn version(&self, py: Python<'_>) -> PyResult<u32> {
            let s = self.core.state(py)?;
            Ok(match (&s.writer, s.extra.closed) {
                (Some(w), _) => w.version().code(),
                (None, Some((v, _))) => v.code(),
                (None, None) => 0,
            })
        }

        /// Changes the version; only before the first message.
        fn set_version(&self, py: Python<'_>, version: u32) -> PyResult<()> {
            let version = version_of(version)?;
            self.core
                .with(py, |w, _, _| Ok(w.set_version(version).map_err(trc_err)?))
        }

        /// Whether the header (written with the first message) is written.
        #[getter]
        fn header_written(&self, py: Python<'_>) -> PyResult<bool> {
            let s = self.core.state(py)?;
            Ok(match (&s.writer, s.extra.closed) {
                (Some(w), _) => w.header_written(),
                (None, Some((_, h))) => h,
                (None, None) => true,
            })
        }

        /// Messages not written because the version cannot hold them.
        #[getter]
        fn skipped_messages(&self, py: Python<'_>) -> PyResult<u64> {
            Ok(self.core.state(py)?.extra.skipped)
        }
    }
);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<TrcReader>()?;
    m.add_class::<TrcWriter>()?;
    Ok(())
}
