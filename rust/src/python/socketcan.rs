//! Bindings of the SocketCAN core (`crate::socketcan`): `SocketcanRaw`, `SocketcanBcm`,
//! `socketcan_interfaces()` (Linux only) and `describe_error_frame()` (everywhere).
//!
//! The Python package wraps these in `can.interfaces.socketcan`. Received frames become
//! instances of the message class given to `SocketcanRaw` (normally `can.Message`), built
//! without running `__init__` (`message::new_message`). Blocking waits release the GIL; a signal
//! that interrupts one is handed to Python (`check_signals`), so Ctrl-C stops a `recv()` that
//! waits forever.

use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes};

/// Readable text for a SocketCAN error frame: `arbitration_id` is the frame's error class bits
/// (python-can's `arbitration_id` of an error frame), `data` its payload.
#[pyfunction]
#[pyo3(signature = (arbitration_id, data))]
fn describe_error_frame(arbitration_id: u64, data: &Bound<'_, PyAny>) -> PyResult<String> {
    let bytes = bytes_of(data)?;
    let class = u32::try_from(arbitration_id & u64::from(crate::frame::CAN_ERR_MASK))
        .unwrap_or(crate::frame::CAN_ERR_MASK);
    Ok(crate::socketcan::errframe::describe(class, &bytes))
}

/// The bytes of a bytes-like object or an iterable of ints.
fn bytes_of(data: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = data.cast::<PyByteArray>() {
        return Ok(b.to_vec());
    }
    if let Ok(b) = data.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    let b = data.py().get_type::<PyBytes>().call1((data,))?;
    Ok(b.cast_into::<PyBytes>()?.as_bytes().to_vec())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(describe_error_frame, m)?)?;
    #[cfg(target_os = "linux")]
    linux::register(m)?;
    Ok(())
}

#[cfg(target_os = "linux")]
mod linux {
    use std::collections::VecDeque;
    use std::sync::{Mutex, PoisonError};
    use std::time::Duration;

    use pyo3::exceptions::{PyTypeError, PyValueError};
    use pyo3::intern;
    use pyo3::prelude::*;
    use pyo3::sync::PyOnceLock;
    use pyo3::types::{
        PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyType,
    };

    use super::super::message::{self, NFIELDS};
    use super::super::writer::received_sink;
    use crate::frame::{
        CanFrame, CANFD_BRS, CANFD_ESI, CANFD_FDF, CANFD_MAX_DLEN, CAN_EFF_FLAG, CAN_EFF_MASK,
        CAN_ERR_FLAG, CAN_RTR_FLAG,
    };
    use crate::socketcan::bcm::{BcmSocket, Timer};
    use crate::socketcan::raw::{
        Options, Outgoing, RawSocket, Received, RecvScratch, Timestamping, Wait, BATCH,
    };
    use crate::socketcan::{iface, Error, KernelFilter, CAN_ERR_MASK};

    /// Which of python-can's exceptions an error becomes.
    #[derive(Clone, Copy)]
    enum Phase {
        /// Opening a socket: `CanInitializationError`.
        Init,
        /// Using one: `CanOperationError`.
        Operation,
    }

    static EXCEPTIONS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

    /// A `can.exceptions` class by name, with `(message, error_code)`.
    fn can_error(py: Python<'_>, name: &str, text: String, code: Option<i32>) -> PyErr {
        let module = EXCEPTIONS.get_or_try_init(py, || {
            py.import("can.exceptions").map(|m| m.into_any().unbind())
        });
        let cls = module.and_then(|m| m.bind(py).getattr(name));
        match cls.and_then(|c| c.cast_into::<PyType>().map_err(PyErr::from)) {
            Ok(cls) => PyErr::from_type(cls, (text, code)),
            Err(e) => e,
        }
    }

    /// The one place where SocketCAN errors become Python exceptions.
    fn to_pyerr(py: Python<'_>, err: Error, phase: Phase) -> PyErr {
        let code = err.errno();
        match err {
            Error::Invalid(text) => PyValueError::new_err(text),
            Error::TxTimeout { .. } => can_error(py, "CanTimeoutError", err.to_string(), None),
            _ => match phase {
                Phase::Init => can_error(py, "CanInitializationError", err.to_string(), code),
                Phase::Operation => can_error(py, "CanOperationError", err.to_string(), code),
            },
        }
    }

    fn type_name(obj: &Bound<'_, PyAny>) -> String {
        obj.get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "?".to_owned())
    }

    // -----------------------------------------------------------------------------------------
    // Message -> frame
    // -----------------------------------------------------------------------------------------

    /// Encodes a message for sending; also returns its `channel` attribute.
    pub(super) fn frame_from_message<'py>(
        msg: &Bound<'py, PyAny>,
    ) -> PyResult<(CanFrame, Bound<'py, PyAny>)> {
        let py = msg.py();
        let flag =
            |name: &Bound<'py, PyString>| -> PyResult<bool> { msg.getattr(name)?.is_truthy() };
        let id_obj = msg.getattr(intern!(py, "arbitration_id"))?;
        let id: u64 = id_obj.extract().map_err(|_| {
            PyValueError::new_err(format!(
                "cannot send a message whose arbitration_id is {} (a non-negative int is needed)",
                id_obj.repr().map(|r| r.to_string()).unwrap_or_default()
            ))
        })?;
        let extended = flag(intern!(py, "is_extended_id"))?;
        let remote = flag(intern!(py, "is_remote_frame"))?;
        let error = flag(intern!(py, "is_error_frame"))?;
        let is_fd = flag(intern!(py, "is_fd"))?;
        // Any 29-bit value is sent as given, also a "standard" id above 0x7FF (the manual's
        // Wireshark example sends 0xC0FFEE that way, and python-can does not check it either);
        // higher bits would turn into the frame's flag bits.
        if id > u64::from(CAN_EFF_MASK) {
            return Err(PyValueError::new_err(format!(
                "arbitration_id 0x{id:X} does not fit in 29 bits (at most 0x1FFFFFFF)"
            )));
        }
        let mut can_id = id as u32;
        if extended {
            can_id |= CAN_EFF_FLAG;
        }
        if remote {
            can_id |= CAN_RTR_FLAG;
        }
        if error {
            can_id |= CAN_ERR_FLAG;
        }
        let mut flags = 0;
        if is_fd {
            flags |= CANFD_FDF;
        }
        if flag(intern!(py, "bitrate_switch"))? {
            flags |= CANFD_BRS;
        }
        if flag(intern!(py, "error_state_indicator"))? {
            flags |= CANFD_ESI;
        }
        let dlc_obj = msg.getattr(intern!(py, "dlc"))?;
        let dlc: usize = dlc_obj
            .extract::<usize>()
            .ok()
            .filter(|&d| d <= CANFD_MAX_DLEN)
            .ok_or_else(|| {
                PyValueError::new_err(format!(
                    "cannot send a message whose dlc is {} (0..=8, or up to 64 for CAN FD)",
                    dlc_obj.repr().map(|r| r.to_string()).unwrap_or_default()
                ))
            })?;
        let mut frame = CanFrame {
            can_id,
            flags,
            ..CanFrame::default()
        };
        if remote {
            frame.dlc = dlc as u8;
        } else {
            // The length sent is `dlc` (as python-can 3.x does): data beyond it is not sent,
            // missing bytes are sent as zeros.
            let data = msg.getattr(intern!(py, "data"))?;
            let n = copy_data(&data, &mut frame.data[..dlc])?;
            frame.data[n..].fill(0);
            frame.len = dlc as u8;
            frame.dlc = dlc as u8;
        }
        let channel = msg.getattr(intern!(py, "channel"))?;
        Ok((frame, channel))
    }

    /// Copies up to `out.len()` bytes of `data` into `out`; returns how many were copied.
    fn copy_data(data: &Bound<'_, PyAny>, out: &mut [u8]) -> PyResult<usize> {
        if let Ok(b) = data.cast::<PyByteArray>() {
            // SAFETY: we hold the GIL and run no Python code while the slice is alive, so the
            // bytearray cannot be resized or freed during the copy.
            let bytes = unsafe { b.as_bytes() };
            let n = bytes.len().min(out.len());
            out[..n].copy_from_slice(&bytes[..n]);
            return Ok(n);
        }
        if data.is_none() {
            return Ok(0);
        }
        let owned;
        let bytes = if let Ok(b) = data.cast::<PyBytes>() {
            b.as_bytes()
        } else {
            owned = data
                .py()
                .get_type::<PyBytes>()
                .call1((data,))
                .map_err(|e| {
                    PyTypeError::new_err(format!(
                        "message data must be bytes-like or an iterable of ints 0..255, got {} ({e})",
                        type_name(data)
                    ))
                })?
                .cast_into::<PyBytes>()?;
            owned.as_bytes()
        };
        let n = bytes.len().min(out.len());
        out[..n].copy_from_slice(&bytes[..n]);
        Ok(n)
    }

    /// Kernel filters from python-can filter dicts (plus an optional `"inverted"` key).
    fn kernel_filters(filters: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<KernelFilter>> {
        let mut out = Vec::new();
        if let Some(filters) = filters.filter(|f| !f.is_none()) {
            for (index, item) in filters.try_iter()?.enumerate() {
                let item = item?;
                let f = item.cast::<PyDict>().map_err(|_| {
                    PyTypeError::new_err(format!(
                        "filter #{index} must be a dict with can_id and can_mask, got {}",
                        type_name(&item)
                    ))
                })?;
                let get = |key: &str| -> PyResult<u64> {
                    let v = f.get_item(key)?.ok_or_else(|| {
                        PyValueError::new_err(format!("filter #{index} has no {key:?} key: {f}"))
                    })?;
                    v.extract::<u64>().map_err(|_| {
                        PyValueError::new_err(format!(
                            "filter #{index}: {key} must be a non-negative integer, got {v}"
                        ))
                    })
                };
                let opt_bool = |key: &str| -> PyResult<Option<bool>> {
                    match f.get_item(key)? {
                        Some(v) if !v.is_none() => Ok(Some(v.is_truthy()?)),
                        _ => Ok(None),
                    }
                };
                let kf = KernelFilter::from_python(
                    get("can_id")?,
                    get("can_mask")?,
                    opt_bool("extended")?,
                    opt_bool("inverted")?.unwrap_or(false),
                )
                .map_err(|e| PyValueError::new_err(format!("filter #{index}: {e}")))?;
                out.push(kf);
            }
        }
        if out.is_empty() {
            out.push(KernelFilter::PASS_ALL);
        }
        Ok(out)
    }

    // -----------------------------------------------------------------------------------------
    // SocketcanRaw
    // -----------------------------------------------------------------------------------------

    struct RxState {
        scratch: RecvScratch,
        queue: VecDeque<Received>,
    }

    /// A CAN_RAW socket whose received frames are messages of `message_class`.
    #[pyclass(name = "SocketcanRaw", module = "can._core", frozen)]
    pub struct PyRaw {
        sock: RawSocket,
        /// Only ever locked without the GIL (inside `detach`) or with `try_lock`, so a thread
        /// holding it never waits for the GIL while another holds the GIL and waits for it.
        rx: Mutex<RxState>,
        message_class: Py<PyType>,
        /// The bound interface's name, the `channel` of every received message.
        channel_name: Py<PyAny>,
        /// For a socket on all interfaces: interface index -> name (locked with the GIL held).
        names: Mutex<Vec<(i32, Py<PyAny>)>>,
        /// For a socket on all interfaces: interface name -> index, for sends.
        indices: Mutex<Vec<(String, i32)>>,
    }

    impl PyRaw {
        fn op_err(&self, py: Python<'_>, e: Error) -> PyErr {
            to_pyerr(py, e, Phase::Operation)
        }

        fn channel_of<'py>(&self, py: Python<'py>, ifindex: i32) -> Bound<'py, PyAny> {
            if self.sock.ifindex() != 0 {
                return self.channel_name.bind(py).clone();
            }
            let mut names = self.names.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((_, n)) = names.iter().find(|(i, _)| *i == ifindex) {
                return n.bind(py).clone();
            }
            let name = match iface::name_of(ifindex) {
                Some(name) => PyString::new(py, &name).into_any(),
                None => PyInt::new(py, ifindex).into_any(),
            };
            if names.len() >= 256 {
                names.clear();
            }
            names.push((ifindex, name.clone().unbind()));
            name
        }

        fn build<'py>(&self, py: Python<'py>, r: &Received) -> PyResult<Bound<'py, PyAny>> {
            let f = &r.frame;
            let b = |v: bool| PyBool::new(py, v).to_owned().into_any();
            let fields: [Bound<'py, PyAny>; NFIELDS] = [
                PyFloat::new(py, f.timestamp).into_any(),
                PyInt::new(py, f.can_id & CAN_EFF_MASK).into_any(),
                b(f.is_extended()),
                b(f.is_remote()),
                b(f.is_error()),
                self.channel_of(py, r.ifindex),
                PyInt::new(py, f.dlc).into_any(),
                PyByteArray::new(py, f.payload()).into_any(),
                b(f.is_fd()),
                b(f.is_rx),
                b(f.flags & CANFD_BRS != 0),
                b(f.flags & CANFD_ESI != 0),
            ];
            message::new_message(self.message_class.bind(py), fields)
        }

        fn ifindex_for(&self, py: Python<'_>, channel: &Bound<'_, PyAny>) -> PyResult<i32> {
            if channel.is_none() {
                return Err(PyValueError::new_err(
                    "this bus receives from all CAN interfaces (channel=''), so every message \
                     it sends must name its interface in msg.channel",
                ));
            }
            let name = channel.str()?.to_string();
            let mut cache = self.indices.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((_, i)) = cache.iter().find(|(n, _)| *n == name) {
                return Ok(*i);
            }
            let index = iface::index_of(&name).map_err(|e| self.op_err(py, e))?;
            if cache.len() >= 256 {
                cache.clear();
            }
            cache.push((name, index));
            Ok(index)
        }

        /// Puts frames taken but not used back at the head of the buffer, in their order.
        fn requeue(&self, py: Python<'_>, rest: &[Received]) {
            if rest.is_empty() {
                return;
            }
            py.detach(|| {
                let mut st = self.rx.lock().unwrap_or_else(PoisonError::into_inner);
                for r in rest.iter().rev() {
                    st.queue.push_front(*r);
                }
                self.sock.set_buffered(true);
            });
        }

        /// Takes up to `max` frames: buffered ones first, else waits for some as `wait` allows.
        fn take(&self, py: Python<'_>, max: usize, mut wait: Wait) -> PyResult<Vec<Received>> {
            loop {
                let res = py.detach(|| -> Result<Vec<Received>, Error> {
                    let mut st = self.rx.lock().unwrap_or_else(PoisonError::into_inner);
                    let RxState { scratch, queue } = &mut *st;
                    // Fetch until `max` are buffered or nothing more is waiting; wait (as
                    // allowed) only while nothing at all is buffered. Each call fetches a
                    // whole batch: what `max` leaves over stays buffered for the next call.
                    while queue.len() < max {
                        let mut now = Wait::Now;
                        let w = if queue.is_empty() {
                            &mut wait
                        } else {
                            &mut now
                        };
                        match self.sock.recv_into(scratch, queue, BATCH, w) {
                            Ok(0) => break,
                            Ok(_) => {}
                            Err(e) if queue.is_empty() => return Err(e),
                            // Frames already buffered are returned even if fetching more
                            // fails; the error shows again on the next call.
                            Err(_) => break,
                        }
                    }
                    let n = max.min(queue.len());
                    let taken = queue.drain(..n).collect();
                    self.sock.set_buffered(!queue.is_empty());
                    Ok(taken)
                });
                match res {
                    Ok(v) => return Ok(v),
                    Err(Error::Interrupted) => py.check_signals()?,
                    Err(e) => return Err(self.op_err(py, e)),
                }
            }
        }
    }

    #[pymethods]
    impl PyRaw {
        /// Opens a CAN_RAW socket on `channel` ("" for all CAN interfaces).
        #[new]
        #[pyo3(signature = (
            channel,
            message_class,
            *,
            fd = false,
            receive_own_messages = false,
            local_loopback = true,
            error_mask = CAN_ERR_MASK,
            receive_buffer_size = None,
            hardware_timestamps = false,
        ))]
        #[allow(clippy::too_many_arguments)]
        fn new(
            py: Python<'_>,
            channel: &str,
            message_class: &Bound<'_, PyType>,
            fd: bool,
            receive_own_messages: bool,
            local_loopback: bool,
            error_mask: u32,
            receive_buffer_size: Option<usize>,
            hardware_timestamps: bool,
        ) -> PyResult<Self> {
            if !message_class.is_subclass(message::base_type(py)?)? {
                return Err(PyTypeError::new_err(format!(
                    "message_class must be a subclass of can.Message, got {}",
                    message_class.repr()?
                )));
            }
            let opts = Options {
                fd,
                receive_own_messages,
                local_loopback,
                error_mask: error_mask & CAN_ERR_MASK,
                receive_buffer: receive_buffer_size,
                timestamping: if hardware_timestamps {
                    Timestamping::Hardware
                } else {
                    Timestamping::Software
                },
            };
            let sock = RawSocket::open(channel, &opts).map_err(|e| to_pyerr(py, e, Phase::Init))?;
            Ok(PyRaw {
                sock,
                rx: Mutex::new(RxState {
                    scratch: RecvScratch::default(),
                    queue: VecDeque::with_capacity(BATCH),
                }),
                message_class: message_class.clone().unbind(),
                channel_name: PyString::new(py, channel).into_any().unbind(),
                names: Mutex::new(Vec::new()),
                indices: Mutex::new(Vec::new()),
            })
        }

        /// Receives one message: None when `timeout` seconds passed without one (None waits
        /// forever, 0 does not wait).
        #[pyo3(signature = (timeout = None))]
        fn recv<'py>(
            &self,
            py: Python<'py>,
            timeout: Option<f64>,
        ) -> PyResult<Option<Bound<'py, PyAny>>> {
            // Fast path: a frame fetched by an earlier batch, without releasing the GIL.
            if let Ok(mut st) = self.rx.try_lock() {
                if let Some(r) = st.queue.pop_front() {
                    self.sock.set_buffered(!st.queue.is_empty());
                    drop(st);
                    return self.build(py, &r).map(Some);
                }
            }
            let got = self.take(py, 1, Wait::from_timeout(timeout))?;
            match got.first() {
                Some(r) => self.build(py, r).map(Some),
                None => Ok(None),
            }
        }

        /// Receives up to `max_messages` messages in one call: every one that is waiting, or,
        /// when none is, the first to arrive within `timeout` (and any that came with it).
        /// Returns an empty list on timeout.
        #[pyo3(signature = (timeout = None, max_messages = 64))]
        fn recv_batch<'py>(
            &self,
            py: Python<'py>,
            timeout: Option<f64>,
            max_messages: usize,
        ) -> PyResult<Bound<'py, PyList>> {
            let got = self.take(py, max_messages.max(1), Wait::from_timeout(timeout))?;
            let list = PyList::empty(py);
            for r in &got {
                list.append(self.build(py, r)?)?;
            }
            Ok(list)
        }

        /// Receives as `recv_batch` does and writes the frames straight to `writer` (a
        /// native log writer of this module: `BlfWriter`, `AscWriter`, `CanutilsLogWriter`
        /// or `TrcWriter`), without making a message of each; the file holds what
        /// `writer.write_message` of the messages `recv_batch` returns would have written.
        /// Returns `(frames, error frames)` written; `(0, 0)` on timeout. When the writer
        /// fails, the frames after the one it failed on stay buffered for the next receive.
        #[pyo3(signature = (writer, timeout = None, max_frames = 64))]
        fn recv_to_writer(
            &self,
            py: Python<'_>,
            writer: &Bound<'_, PyAny>,
            timeout: Option<f64>,
            max_frames: usize,
        ) -> PyResult<(usize, usize)> {
            let sink = received_sink(writer).ok_or_else(|| {
                PyTypeError::new_err(format!(
                    "recv_to_writer needs a native log writer of can._core (BlfWriter, \
                     AscWriter, CanutilsLogWriter or TrcWriter), got {}",
                    type_name(writer)
                ))
            })?;
            let got = self.take(py, max_frames.max(1), Wait::from_timeout(timeout))?;
            let mut errors = 0;
            for (i, r) in got.iter().enumerate() {
                let channel = self.channel_of(py, r.ifindex);
                if let Err(e) = sink.write_received(py, &r.frame, &channel) {
                    self.requeue(py, &got[i + 1..]);
                    return Err(e);
                }
                if r.frame.is_error() {
                    errors += 1;
                }
            }
            Ok((got.len(), errors))
        }

        /// Sends a message. `timeout`: see `SocketcanBus.send`.
        #[pyo3(signature = (msg, timeout = None))]
        fn send(
            &self,
            py: Python<'_>,
            msg: &Bound<'_, PyAny>,
            timeout: Option<f64>,
        ) -> PyResult<()> {
            let (frame, channel) = frame_from_message(msg)?;
            let out = Outgoing::encode(&frame).map_err(|e| self.op_err(py, e))?;
            let ifindex = if self.sock.ifindex() == 0 {
                Some(self.ifindex_for(py, &channel)?)
            } else {
                None
            };
            let mut wait = Wait::from_timeout(timeout);
            loop {
                match py.detach(|| self.sock.send(&out, ifindex, &mut wait)) {
                    Ok(()) => return Ok(()),
                    Err(Error::Interrupted) => py.check_signals()?,
                    Err(e) => return Err(self.op_err(py, e)),
                }
            }
        }

        /// Sets the kernel receive filters from python-can filter dicts (None: receive all).
        #[pyo3(signature = (filters = None))]
        fn set_filters(&self, py: Python<'_>, filters: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
            let kf = kernel_filters(filters)?;
            self.sock.set_filters(&kf).map_err(|e| self.op_err(py, e))
        }

        /// Sets which error classes arrive as error frames (0: none).
        fn set_error_mask(&self, py: Python<'_>, mask: u32) -> PyResult<()> {
            self.sock
                .set_error_mask(mask & CAN_ERR_MASK)
                .map_err(|e| self.op_err(py, e))
        }

        /// A descriptor that is readable exactly while `recv(0)` would return a message
        /// (see `RawSocket::readiness_fd`).
        fn fileno(&self, py: Python<'_>) -> PyResult<i32> {
            self.sock.readiness_fd().map_err(|e| self.op_err(py, e))
        }

        /// The CAN_RAW socket's own descriptor (for socket options; not for waiting: frames
        /// fetched in a batch are no longer announced by it).
        fn socket_fileno(&self, py: Python<'_>) -> PyResult<i32> {
            self.sock.fileno().ok_or_else(|| {
                self.op_err(
                    py,
                    Error::Closed {
                        channel: crate::socketcan::raw::display_channel(self.sock.channel()),
                    },
                )
            })
        }

        /// Closes the socket, waking any thread blocked on it. A second call does nothing.
        fn close(&self, py: Python<'_>) {
            py.detach(|| self.sock.close());
        }

        #[getter]
        fn channel(&self) -> &str {
            self.sock.channel()
        }

        #[getter]
        fn fd(&self) -> bool {
            self.sock.fd_frames()
        }

        #[getter]
        fn closed(&self) -> bool {
            self.sock.is_closed()
        }

        /// Frames the kernel dropped because the receive queue was full (SO_RXQ_OVFL), as
        /// reported with the last frames received.
        #[getter]
        fn dropped_frames(&self) -> u32 {
            self.sock.dropped_frames()
        }

        /// The receive buffer the kernel granted, in bytes (as SO_RCVBUF reports it).
        #[getter]
        fn receive_buffer_size(&self, py: Python<'_>) -> PyResult<usize> {
            self.sock
                .receive_buffer_size()
                .map_err(|e| self.op_err(py, e))
        }
    }

    // -----------------------------------------------------------------------------------------
    // SocketcanBcm
    // -----------------------------------------------------------------------------------------

    /// A broadcast manager socket connected to one interface.
    #[pyclass(name = "SocketcanBcm", module = "can._core", frozen)]
    pub struct PyBcm {
        sock: BcmSocket,
    }

    fn frames_of(messages: &Bound<'_, PyAny>) -> PyResult<Vec<CanFrame>> {
        let base = message::base_type(messages.py())?;
        let mut frames = Vec::new();
        if messages.is_instance(base)? {
            frames.push(frame_from_message(messages)?.0);
        } else {
            for m in messages.try_iter()? {
                frames.push(frame_from_message(&m?)?.0);
            }
        }
        Ok(frames)
    }

    fn interval(value: f64, what: &str) -> PyResult<Duration> {
        Duration::try_from_secs_f64(value).map_err(|_| {
            PyValueError::new_err(format!(
                "{what} must be a non-negative number of seconds, got {value}"
            ))
        })
    }

    #[pymethods]
    impl PyBcm {
        #[new]
        fn new(py: Python<'_>, channel: &str) -> PyResult<Self> {
            let sock = BcmSocket::open(channel).map_err(|e| to_pyerr(py, e, Phase::Init))?;
            Ok(PyBcm { sock })
        }

        /// Wraps a BCM socket opened elsewhere (its descriptor is duplicated).
        #[staticmethod]
        #[pyo3(signature = (fd, channel = ""))]
        fn from_fd(py: Python<'_>, fd: i32, channel: &str) -> PyResult<Self> {
            let sock = BcmSocket::from_fd(fd, channel).map_err(|e| to_pyerr(py, e, Phase::Init))?;
            Ok(PyBcm { sock })
        }

        /// Starts sending `messages` (one message or a sequence, sent in turn) every `period`
        /// seconds, for `duration` seconds if given; the first frame goes out at once.
        #[pyo3(signature = (messages, period, duration = None))]
        fn tx_start(
            &self,
            py: Python<'_>,
            messages: &Bound<'_, PyAny>,
            period: f64,
            duration: Option<f64>,
        ) -> PyResult<()> {
            if period.is_nan() || period <= 0.0 {
                return Err(PyValueError::new_err(format!(
                    "period must be positive, got {period}"
                )));
            }
            let period = interval(period, "period")?;
            let duration = duration.map(|d| interval(d, "duration")).transpose()?;
            let frames = frames_of(messages)?;
            let timer = Timer::periodic(period, duration);
            self.sock
                .tx_setup(&frames, Some(timer))
                .map_err(|e| to_pyerr(py, e, Phase::Operation))
        }

        /// `TX_SETUP` with explicit timer values: `count` frames `ival1` seconds apart, then
        /// one every `ival2` seconds (0: stop after the `count` frames).
        #[pyo3(signature = (messages, count, ival1, ival2))]
        fn tx_setup(
            &self,
            py: Python<'_>,
            messages: &Bound<'_, PyAny>,
            count: u32,
            ival1: f64,
            ival2: f64,
        ) -> PyResult<()> {
            let timer = Timer {
                count,
                ival1: interval(ival1, "ival1")?,
                ival2: interval(ival2, "ival2")?,
            };
            let frames = frames_of(messages)?;
            self.sock
                .tx_setup(&frames, Some(timer))
                .map_err(|e| to_pyerr(py, e, Phase::Operation))
        }

        /// Replaces the frames of the running task for their id without touching its timer.
        fn tx_update(&self, py: Python<'_>, messages: &Bound<'_, PyAny>) -> PyResult<()> {
            let frames = frames_of(messages)?;
            self.sock
                .tx_setup(&frames, None)
                .map_err(|e| to_pyerr(py, e, Phase::Operation))
        }

        /// Deletes the task that sends `message`'s id (`TX_DELETE`). False if there was none.
        fn tx_delete(&self, py: Python<'_>, message: &Bound<'_, PyAny>) -> PyResult<bool> {
            let (frame, _) = frame_from_message(message)?;
            self.sock
                .tx_delete(frame.can_id, frame.is_fd())
                .map_err(|e| to_pyerr(py, e, Phase::Operation))
        }

        fn fileno(&self, py: Python<'_>) -> PyResult<i32> {
            self.sock.fileno().ok_or_else(|| {
                to_pyerr(
                    py,
                    Error::Closed {
                        channel: self.sock.channel().to_owned(),
                    },
                    Phase::Operation,
                )
            })
        }

        /// Closes the socket; the kernel deletes all its tasks. A second call does nothing.
        fn close(&self) {
            self.sock.close();
        }

        #[getter]
        fn channel(&self) -> &str {
            self.sock.channel()
        }

        #[getter]
        fn closed(&self) -> bool {
            self.sock.fileno().is_none()
        }
    }

    /// The names of the machine's CAN interfaces, sorted.
    #[pyfunction]
    fn socketcan_interfaces(py: Python<'_>) -> PyResult<Vec<String>> {
        iface::can_interfaces().map_err(|e| {
            to_pyerr(
                py,
                Error::Os {
                    what: "listing network interfaces",
                    channel: "/sys/class/net".to_owned(),
                    source: e,
                },
                Phase::Operation,
            )
        })
    }

    pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add_class::<PyRaw>()?;
        m.add_class::<PyBcm>()?;
        m.add_function(wrap_pyfunction!(socketcan_interfaces, m)?)?;
        Ok(())
    }
}
