//! `can._core.BlfReader` / `BlfWriter`: the BLF codec of [`crate::blf`] over Python files.
//!
//! The reader is the generic [`ReaderCore`] over [`BlfSource`] (the core reader, with the
//! global markers it passes counted); the writer the generic [`WriterCore`], whose
//! `write_message` reads a message's slots directly. Bytes move through the Python file
//! object's `read`/`write`/`seek` in large blocks (one per container or 256 KiB).

use std::io::{Read, Seek, SeekFrom};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyInt, PyString, PyType};

use super::error::io_error;
use super::file::PyFile;
use super::message;
use super::reader::{reader_class, FrameSource, MessageChannel, ReaderCore};
use super::textlog::{message_frame_channel, Channel};
use super::writer::{writer_class, WriteMessage, WriteReceived, WriterCore};
use crate::blf::reader::Next;
use crate::blf::{self, Reader, Writer};
use crate::frame::CanFrame;
use crate::log::ReadSummary;

fn header_dict<'py>(
    py: Python<'py>,
    h: &blf::FileHeader,
    start: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("application_id", h.application[0])?;
    d.set_item("file_size", h.file_size)?;
    d.set_item("uncompressed_size", h.uncompressed_size)?;
    d.set_item("object_count", h.object_count)?;
    d.set_item("start_timestamp", start)?;
    d.set_item("stop_timestamp", h.stop.to_unix())?;
    Ok(d)
}

/// A BLF reader as the generic binding's frame source: markers are counted, not read.
pub struct BlfSource {
    inner: Reader<PyFile>,
    markers: u64,
}

impl FrameSource for BlfSource {
    const TRUNCATED_WARNING: (&'static str, &'static str) = ("can.io.blf", "BLFTruncatedWarning");
    const WARNS: bool = false;

    #[inline(always)]
    fn next_into(&mut self, frame: &mut CanFrame) -> crate::Result<bool> {
        loop {
            match self.inner.next_into(frame)? {
                Some(Next::Frame) => return Ok(true),
                Some(Next::Marker) => self.markers += 1,
                None => return Ok(false),
            }
        }
    }

    fn summary(&self) -> ReadSummary {
        ReadSummary {
            truncation: self.inner.truncation().map(ToString::to_string),
            ..ReadSummary::default()
        }
    }

    fn file(&self) -> &PyFile {
        self.inner.get_ref()
    }
}

/// A message's channel is the frame's (counted from 0, as python-can counts BLF channels).
struct BlfChannels;

impl MessageChannel<BlfSource> for BlfChannels {
    #[inline(always)]
    fn channel<'py>(
        &mut self,
        py: Python<'py>,
        _: &BlfSource,
        f: &CanFrame,
    ) -> PyResult<Bound<'py, PyAny>> {
        Ok(message::int_object(py, i64::from(f.channel)))
    }
}

/// Iterator of the messages of a BLF file (see [`ReaderCore`]).
#[pyclass(module = "can._core", frozen)]
pub struct BlfReader {
    core: ReaderCore<BlfSource, BlfChannels>,
}

reader_class!(BlfReader, {
    /// Reads the header of `file` (a binary file object); `message_class` is `can.Message` or
    /// a subclass; `on_end()` is called once when the iteration ends (a file cut short is
    /// reported first, as a `BLFTruncatedWarning`); `name` names the file in error messages.
    #[new]
    #[pyo3(signature = (file, message_class, on_end=None, threaded=true, name=""))]
    fn new(
        py: Python<'_>,
        file: Py<PyAny>,
        message_class: &Bound<'_, PyType>,
        on_end: Option<Py<PyAny>>,
        threaded: bool,
        name: &str,
    ) -> PyResult<Self> {
        let mut inner = Reader::new(PyFile::binary(py, file))
            .map_err(|e| PyErr::from(crate::Error::from(e).in_file(name)))?;
        // Containers inflate on a second thread while Python consumes the messages.
        inner.set_threaded(threaded);
        let source = BlfSource { inner, markers: 0 };
        Ok(BlfReader {
            core: ReaderCore::new(py, source, BlfChannels, message_class, name, on_end)?,
        })
    }

    /// The file header's fields.
    fn header<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.core.state(py)?;
        header_dict(
            py,
            s.source.inner.header(),
            s.source.inner.start_timestamp(),
        )
    }

    /// Object types skipped so far (neither frames nor markers): {type: count}.
    #[getter]
    fn skipped<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (k, v) in self.core.state(py)?.source.inner.skipped() {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    /// GLOBAL_MARKER objects passed so far.
    #[getter]
    fn markers(&self, py: Python<'_>) -> PyResult<u64> {
        Ok(self.core.state(py)?.source.markers)
    }

    /// Description of the truncation once the end was reached, else None.
    #[getter]
    fn truncation(&self, py: Python<'_>) -> PyResult<Option<String>> {
        Ok(self
            .core
            .state(py)?
            .source
            .inner
            .truncation()
            .map(|t| t.to_string()))
    }
});

/// Writer of BLF files; `write_message` takes a `can.Message` (see [`WriterCore`]).
/// `close()` writes what is buffered and completes the header.
#[pyclass(module = "can._core", frozen)]
pub struct BlfWriter {
    /// The extra state: the statistics at the time the writer closed.
    core: WriterCore<Writer<PyFile>, Option<Stats>>,
    /// Channel (1-based, as stored) for messages whose channel is None or not a number.
    default_channel: i64,
    /// The file is the caller's, who may close it: every write first checks it is open.
    check_closed: bool,
}

/// python-can's `channel2int` for a channel that is neither None nor an exact int: an int
/// (subclass) as it is, the number a string ends in (saturated: too large to store either
/// way), else None.
fn channel_number(ch: &Bound<'_, PyAny>) -> PyResult<Option<i64>> {
    if let Ok(s) = ch.cast::<PyString>() {
        let s = s.to_cow()?;
        let digits = s.bytes().rev().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Ok(None);
        }
        let n = s.as_bytes()[s.len() - digits..].iter().fold(0i64, |n, &d| {
            n.saturating_mul(10).saturating_add(i64::from(d - b'0'))
        });
        return Ok(Some(n));
    }
    if ch.is_instance_of::<PyInt>() {
        return ch.extract::<i64>().map(Some).map_err(|_| out_of_range(ch));
    }
    Ok(None)
}

/// Whether a message's `dlc` is None (a slot read for `can.Message`).
fn dlc_is_none(msg: &Bound<'_, PyAny>) -> PyResult<bool> {
    if let Some(p) = message::field_ptrs(msg) {
        // SAFETY: Py_None returns a borrowed pointer to the None singleton; only compared.
        return Ok(p[message::DLC] == unsafe { pyo3::ffi::Py_None() });
    }
    Ok(msg.getattr(pyo3::intern!(msg.py(), "dlc"))?.is_none())
}

/// Whether a file object says it is closed (one without `closed` is taken as open).
fn file_closed(py: Python<'_>, file: &Py<PyAny>) -> bool {
    file.bind(py)
        .getattr(pyo3::intern!(py, "closed"))
        .and_then(|c| c.is_truthy())
        .unwrap_or(false)
}

fn out_of_range(ch: &dyn std::fmt::Display) -> PyErr {
    PyValueError::new_err(format!(
        "cannot write a message whose channel is {ch}: out of range"
    ))
}

impl BlfWriter {
    /// The error of a write to a file the caller closed.
    #[inline]
    fn check_open(&self, py: Python<'_>, w: &mut Writer<PyFile>) -> PyResult<()> {
        if self.check_closed && file_closed(py, &w.get_mut().file) {
            return Err(PyValueError::new_err(
                "I/O operation on closed file: the file given to BLFWriter was closed",
            ));
        }
        Ok(())
    }

    fn stats(&self, py: Python<'_>) -> PyResult<Stats> {
        let s = self.core.state(py)?;
        Ok(match &s.writer {
            Some(w) => Stats::of(w),
            None => s.extra.unwrap_or_default(),
        })
    }
}

impl BlfWriter {
    /// Writes `frame` (its other fields set) on the BLF channel its message `channel` gives.
    #[inline]
    fn put(
        &self,
        w: &mut Writer<PyFile>,
        frame: &mut CanFrame,
        channel: &Channel<'_>,
    ) -> PyResult<()> {
        let number = match channel {
            Channel::Int(v) => Some(*v),
            Channel::None => None,
            Channel::Object(obj) => channel_number(obj)?,
        };
        let number = number.unwrap_or(self.default_channel - 1);
        frame.channel = i32::try_from(number).map_err(|_| match channel {
            Channel::Object(obj) => {
                out_of_range(&obj.repr().map(|r| r.to_string()).unwrap_or_default())
            }
            _ => out_of_range(&number),
        })?;
        Ok(w.write_frame(frame).map_err(crate::Error::from)?)
    }
}

impl WriteMessage for BlfWriter {
    /// Converts and appends one message.
    #[inline]
    fn write(&self, py: Python<'_>, msg: &Bound<'_, PyAny>) -> PyResult<()> {
        self.core.with(py, |w, frame, _| {
            self.check_open(py, w)?;
            let (timestamp, channel) = message_frame_channel(msg, frame)?;
            if timestamp.is_none() {
                return Err(PyValueError::new_err(
                    "cannot write a message whose timestamp is None: not a number",
                ));
            }
            // The shared conversion reads a dlc of None as 0 (as the text logs do); a BLF
            // object needs a real one, as python-can's writer does.
            if frame.dlc == 0 && dlc_is_none(msg)? {
                return Err(PyValueError::new_err(
                    "cannot write a message whose dlc is None: not an int in 0..=255",
                ));
            }
            self.put(w, frame, &channel)
        })
    }
}

impl WriteReceived for BlfWriter {
    #[inline]
    fn write_received(
        &self,
        py: Python<'_>,
        received: &CanFrame,
        channel: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        self.core.with(py, |w, frame, _| {
            self.check_open(py, w)?;
            *frame = *received;
            let channel = if channel.is_none() {
                Channel::None
            } else {
                Channel::Object(channel.clone())
            };
            self.put(w, frame, &channel)
        })
    }
}

/// Where to continue the BLF file `src` (at its start, its header already read): after its
/// last complete object. A file cut inside an object is truncated there, with a warning.
fn prepare_append(
    py: Python<'_>,
    src: &mut PyFile,
    header_size: u64,
    name: &str,
) -> PyResult<blf::writer::AppendPoint> {
    let point = blf::writer::append_point(src, header_size).map_err(crate::Error::from)?;
    if point.offset < point.file_len {
        let f = src.file.bind(py);
        f.call_method1(pyo3::intern!(py, "truncate"), (point.offset,))?;
        let why = point
            .incomplete
            .as_deref()
            .unwrap_or("its last container ends inside an object");
        let mut text = format!(
            "{name}{why}; appending after the last complete object: the file is cut at byte \
             {} (of {})",
            point.offset, point.file_len
        );
        if !point.carry.is_empty() {
            text.push_str(&format!(
                " and the {} bytes of complete objects of the last container are written \
                 again",
                point.carry.len()
            ));
        }
        super::textlog::warn(py, &text)?;
    }
    Ok(point)
}

writer_class!(
    BlfWriter,
    close_hook = |w: &Writer<PyFile>, s: &mut Option<Stats>| {
        *s = Some(Stats::of(w));
    },
    {
        /// Starts a BLF file on `file` (a binary file object opened for writing), or continues
        /// one when `append_file` is given (the same file, opened for reading and writing): after
        /// its last complete object, the tail of a file cut short being truncated (with a
        /// warning). `owned`: the file was opened for the writer; otherwise every write first
        /// checks that the caller has not closed it.
        #[new]
        #[pyo3(signature = (file, channel=1, compression_level=-1, max_container_size=131072, append_file=None, threaded=true, owned=false))]
        #[allow(clippy::too_many_arguments)]
        fn new(
            py: Python<'_>,
            file: Py<PyAny>,
            channel: i64,
            compression_level: i32,
            max_container_size: usize,
            append_file: Option<Py<PyAny>>,
            threaded: bool,
            owned: bool,
        ) -> PyResult<Self> {
            let out = PyFile::binary(py, file);
            let mut inner = match append_file {
                None => Writer::new(out, compression_level, max_container_size),
                Some(file) => {
                    let name = file
                        .bind(py)
                        .getattr("name")
                        .ok()
                        .and_then(|n| n.extract::<String>().ok())
                        .map(|n| format!("{n}: "))
                        .unwrap_or_default();
                    // Re-read the header through the same file object; an empty file is new, as
                    // is one cut inside its header (it holds no object).
                    let mut src = PyFile::binary(py, file);
                    let len = src.seek(SeekFrom::End(0)).map_err(|e| io_error(e, ""))?;
                    src.seek(SeekFrom::Start(0)).map_err(|e| io_error(e, ""))?;
                    let mut head = [0u8; blf::FILE_HEADER_SIZE];
                    let n = (&mut src)
                        .take(head.len() as u64)
                        .read(&mut head)
                        .map_err(|e| io_error(e, ""))?;
                    let cut_header = len > 0
                        && len < blf::FILE_HEADER_SIZE as u64
                        && head[..n.min(4)] == blf::FILE_SIGNATURE[..n.min(4)];
                    if len == 0 || cut_header {
                        if cut_header {
                            src.file
                                .bind(py)
                                .call_method1(pyo3::intern!(py, "truncate"), (0,))?;
                            super::textlog::warn(
                                py,
                                &format!(
                                    "{name}the BLF file ends inside its header ({len} of {} \
                                 bytes) and holds no object: it is started again",
                                    blf::FILE_HEADER_SIZE
                                ),
                            )?;
                        }
                        src.seek(SeekFrom::Start(0)).map_err(|e| io_error(e, ""))?;
                        Writer::new(src, compression_level, max_container_size)
                    } else {
                        src.seek(SeekFrom::Start(0)).map_err(|e| io_error(e, ""))?;
                        let header = {
                            let r = Reader::new(&mut src).map_err(crate::Error::from)?;
                            *r.header()
                        };
                        let point =
                            prepare_append(py, &mut src, u64::from(header.header_size), &name)?;
                        Writer::append(src, header, point, compression_level, max_container_size)
                    }
                }
            }
            .map_err(crate::Error::from)?;
            // Containers compress on a second thread while Python hands over messages.
            inner.set_threaded(threaded);
            Ok(BlfWriter {
                core: WriterCore::new(py, "BLFWriter", inner, None, false),
                default_channel: channel,
                check_closed: !owned,
            })
        }

        /// Appends a GLOBAL_MARKER.
        fn write_marker(
            &self,
            py: Python<'_>,
            timestamp: f64,
            group: &str,
            marker: &str,
            description: &str,
        ) -> PyResult<()> {
            self.core.with(py, |w, _, _| {
                self.check_open(py, w)?;
                Ok(w.write_marker(timestamp, group, marker, description)
                    .map_err(crate::Error::from)?)
            })
        }

        #[getter]
        fn object_count(&self, py: Python<'_>) -> PyResult<u32> {
            Ok(self.stats(py)?.object_count)
        }
        #[getter]
        fn start_timestamp(&self, py: Python<'_>) -> PyResult<Option<f64>> {
            Ok(self.stats(py)?.start_timestamp)
        }
        #[getter]
        fn stop_timestamp(&self, py: Python<'_>) -> PyResult<Option<f64>> {
            Ok(self.stats(py)?.stop_timestamp)
        }
        #[getter]
        fn uncompressed_size(&self, py: Python<'_>) -> PyResult<u64> {
            Ok(self.stats(py)?.uncompressed_size)
        }
        /// Bytes written so far plus those still buffered.
        fn size_estimate(&self, py: Python<'_>) -> PyResult<u64> {
            Ok(self.stats(py)?.size_estimate)
        }
    }
);

/// What the statistics getters report (kept when the writer closes).
#[derive(Clone, Copy, Default)]
struct Stats {
    object_count: u32,
    start_timestamp: Option<f64>,
    stop_timestamp: Option<f64>,
    uncompressed_size: u64,
    size_estimate: u64,
}

impl Stats {
    fn of(w: &Writer<PyFile>) -> Self {
        Stats {
            object_count: w.object_count(),
            start_timestamp: w.start_timestamp(),
            stop_timestamp: w.stop_timestamp(),
            uncompressed_size: w.uncompressed_size(),
            size_estimate: w.size_estimate(),
        }
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<BlfReader>()?;
    m.add_class::<BlfWriter>()?;
    Ok(())
}
