//! `can._core.BlfReader` / `BlfWriter`: the BLF codec of [`crate::blf`] over Python files.
//!
//! The reader is its own iterator and hands out one message per `__next__`, built from a
//! [`CanFrame`] by [`MessageFactory`] without running Python code; the writer's
//! `write_message` reads a message's slots directly. Bytes move through the Python file
//! object's `read`/`write`/`seek` in large blocks (one per container or 256 KiB).

use std::cell::UnsafeCell;
use std::io::{Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicBool, Ordering};

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyDict, PyFloat, PyInt, PyString, PyType};
use pyo3::{PyTraverseError, PyVisit};

use super::error::io_error;
use super::file::PyFile;
use super::message::{self, MessageFactory, NFIELDS};
use super::textlog::{message_frame_channel, Channel};
use super::writer::{writer_class, WriteMessage, WriteReceived, WriterCore};
use crate::blf::reader::Next;
use crate::blf::{self, Reader, Writer};
use crate::frame::{CanFrame, CANFD_BRS, CANFD_ESI, CANFD_FDF};

/// A reader's error, naming its file.
fn blf_err(e: blf::Error, name: &str) -> PyErr {
    crate::Error::from(e).in_file(name).into()
}

/// Whether the interpreter has a GIL that serialises every call into this module: true
/// unless it is a free-threaded build (decided when the module is imported).
static GIL_SERIALISES: AtomicBool = AtomicBool::new(false);

/// The mutable state of a reader or writer, reached from `&self` methods of a frozen class.
///
/// PyO3's own borrow flag for `&mut self` methods is an atomic compare-and-swap per call
/// (measured ~7 ns of a ~60 ns write call). Here a call that finds the state in use (a
/// re-entrant call from Python code the codec runs, or another thread while the GIL is
/// released inside one) is a `RuntimeError`, as with PyO3's flag; the flag itself is a plain
/// load and store when the GIL serialises every access to it, and a compare-and-swap
/// otherwise.
struct GilCell<T> {
    busy: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: `value` is reached only through `get`, which hands out one `GilRef` at a time: the
// `busy` flag is set while one exists. With a GIL, every access to the flag holds the GIL
// (`get` takes the token), and the GIL's release/acquire orders them across threads; without
// one, the flag is taken with an acquiring compare-and-swap and dropped with a release store.
// `T: Send` because the value is used from whichever thread holds it.
unsafe impl<T: Send> Sync for GilCell<T> {}

impl<T> GilCell<T> {
    fn new(value: T) -> Self {
        GilCell {
            busy: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    #[inline(always)]
    fn get(&self, _py: Python<'_>) -> PyResult<GilRef<'_, T>> {
        let free = if GIL_SERIALISES.load(Ordering::Relaxed) {
            !self.busy.load(Ordering::Relaxed) && {
                self.busy.store(true, Ordering::Relaxed);
                true
            }
        } else {
            self.busy
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        };
        if free {
            Ok(GilRef { cell: self })
        } else {
            Err(PyRuntimeError::new_err(
                "the BLF reader/writer is already in use (a re-entrant or concurrent call)",
            ))
        }
    }

    /// The value for the garbage collector's traverse, unless a call is using it.
    ///
    /// # Safety
    /// Only from `tp_traverse`: the collector runs with the GIL held (or, free-threaded,
    /// with the other threads stopped), so no `GilRef` can be made while the result lives.
    unsafe fn peek(&self) -> Option<&T> {
        if self.busy.load(Ordering::Acquire) {
            None
        } else {
            // SAFETY: not in use, and cannot become so (see above).
            Some(unsafe { &*self.value.get() })
        }
    }
}

/// Exclusive access to a [`GilCell`]'s value.
struct GilRef<'a, T> {
    cell: &'a GilCell<T>,
}

impl<T> std::ops::Deref for GilRef<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the `busy` flag is ours while this guard lives (see `GilCell::get`).
        unsafe { &*self.cell.value.get() }
    }
}

impl<T> std::ops::DerefMut for GilRef<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only reference through the guard.
        unsafe { &mut *self.cell.value.get() }
    }
}

impl<T> Drop for GilRef<'_, T> {
    fn drop(&mut self) {
        self.cell.busy.store(false, Ordering::Release);
    }
}

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

/// Iterator of the messages of a BLF file.
#[pyclass(module = "can._core", frozen)]
pub struct BlfReader {
    state: GilCell<ReaderState>,
    /// The file object, also held by the reader, for the garbage collector's traverse.
    file: Py<PyAny>,
    factory: MessageFactory,
    /// Names the file in error messages ("" for none).
    name: String,
}

struct ReaderState {
    inner: Reader<PyFile>,
    /// The frame being decoded (reused).
    frame: CanFrame,
    on_end: Option<Py<PyAny>>,
    finished: bool,
    markers: u64,
}

impl BlfReader {
    #[inline(always)]
    fn message<'py>(&self, py: Python<'py>, f: &CanFrame) -> PyResult<Bound<'py, PyAny>> {
        let flags = [
            f.is_extended(),
            f.is_remote(),
            f.is_error(),
            f.flags & CANFD_FDF != 0,
            f.is_rx,
            f.flags & CANFD_BRS != 0,
            f.flags & CANFD_ESI != 0,
        ];
        let n_yes = flags.iter().filter(|&&v| v).count() as u32;
        // SAFETY: Py_True / Py_False return borrowed pointers to the bool singletons; one
        // new reference is taken here for each field below that holds one (in one update
        // per singleton), and each Bound made below owns one of them.
        let (yes, no) = unsafe {
            let (yes, no) = (pyo3::ffi::Py_True(), pyo3::ffi::Py_False());
            message::incref_n(yes, n_yes);
            message::incref_n(no, flags.len() as u32 - n_yes);
            (yes, no)
        };
        // SAFETY: see above: the reference this Bound owns was taken already.
        let b = |v: bool| unsafe { Bound::from_owned_ptr(py, if v { yes } else { no }) };
        let [ext, remote, error, fd, rx, brs, esi] = flags;
        let fields: [Bound<'py, PyAny>; NFIELDS] = [
            PyFloat::new(py, f.timestamp).into_any(),
            PyInt::new(py, f.id()).into_any(),
            b(ext),
            b(remote),
            b(error),
            message::int_object(py, i64::from(f.channel)),
            message::int_object(py, i64::from(f.dlc)),
            PyByteArray::new(py, f.payload()).into_any(),
            b(fd),
            b(rx),
            b(brs),
            b(esi),
        ];
        self.factory.build(py, fields)
    }
}

#[pymethods]
impl BlfReader {
    /// Reads the header of `file` (a binary file object); `message_class` is `can.Message` or
    /// a subclass; `on_end(truncation)` is called once when the iteration ends, with a
    /// description of the truncation or None; `name` names the file in error messages.
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
        let factory = MessageFactory::new(message_class)?;
        let file_ref = file.clone_ref(py);
        let mut inner = Reader::new(PyFile::binary(py, file)).map_err(|e| blf_err(e, name))?;
        // Containers inflate on a second thread while Python consumes the messages.
        inner.set_threaded(threaded);
        Ok(BlfReader {
            state: GilCell::new(ReaderState {
                inner,
                frame: CanFrame::default(),
                on_end,
                finished: false,
                markers: 0,
            }),
            file: file_ref,
            factory,
            name: name.to_owned(),
        })
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.file)?;
        // SAFETY: this is tp_traverse; `peek` skips a state in use.
        let state = unsafe { self.state.peek() };
        if let Some(cb) = state.and_then(|s| s.on_end.as_ref()) {
            visit.call(cb)?;
        }
        Ok(())
    }

    fn __clear__(&self) {
        Python::attach(|py| {
            if let Ok(mut s) = self.state.get(py) {
                s.on_end = None;
            }
        });
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let mut s = self.state.get(py)?;
        if s.finished {
            return Ok(None);
        }
        loop {
            let ReaderState { inner, frame, .. } = &mut *s;
            match inner.next_into(frame) {
                Ok(Some(Next::Frame)) => return self.message(py, frame).map(Some),
                Ok(Some(Next::Marker)) => s.markers += 1,
                Ok(None) => {
                    s.finished = true;
                    let cb = s.on_end.take();
                    let t = s.inner.truncation().map(|t| t.to_string());
                    // The callback (which closes the file) runs with the state released.
                    drop(s);
                    if let Some(cb) = cb {
                        cb.bind(py).call1((t,))?;
                    }
                    return Ok(None);
                }
                Err(e) => {
                    // The iteration ends here too: the file is closed before the error is
                    // raised (a path the reader opened is not left to the collector).
                    s.finished = true;
                    let cb = s.on_end.take();
                    drop(s);
                    let err = blf_err(e, &self.name);
                    if let Some(cb) = cb {
                        cb.bind(py).call1((None::<String>,))?;
                    }
                    return Err(err);
                }
            }
        }
    }

    /// The file header's fields.
    fn header<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.state.get(py)?;
        header_dict(py, s.inner.header(), s.inner.start_timestamp())
    }

    /// Object types skipped so far (neither frames nor markers): {type: count}.
    #[getter]
    fn skipped<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (k, v) in self.state.get(py)?.inner.skipped() {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    /// GLOBAL_MARKER objects passed so far.
    #[getter]
    fn markers(&self, py: Python<'_>) -> PyResult<u64> {
        Ok(self.state.get(py)?.markers)
    }

    /// Description of the truncation once the end was reached, else None.
    #[getter]
    fn truncation(&self, py: Python<'_>) -> PyResult<Option<String>> {
        Ok(self
            .state
            .get(py)?
            .inner
            .truncation()
            .map(|t| t.to_string()))
    }
}

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
    // A free-threaded build says so in its config (PEP 703); anything unknown counts as one.
    let py = m.py();
    let gil_disabled = py
        .import("sysconfig")
        .and_then(|s| s.call_method1("get_config_var", ("Py_GIL_DISABLED",)))
        .map_or(true, |v| v.is_truthy().unwrap_or(true));
    GIL_SERIALISES.store(!gil_disabled, Ordering::Relaxed);
    m.add_class::<BlfReader>()?;
    m.add_class::<BlfWriter>()?;
    Ok(())
}
