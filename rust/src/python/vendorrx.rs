//! `can._core.KvaserReader` / `PcanReader`: the receive hot path of the ctypes vendor backends,
//! calling the vendor's read function by its address (crate::vendorrx) and building the
//! `can.Message` in one step. Private to the backends, which fall back to their ctypes path
//! where these are not used.
//!
//! Contract with the Python caller (the backend, never user code): the addresses are those of
//! the loaded library's functions, taken from the ctypes function objects
//! (`ctypes.cast(func, c_void_p).value`), and of the ctypes buffers the backend passes to the
//! same calls; the reader keeps `keep` (those buffers' owners) alive, so the memory stays
//! valid as long as the reader. The library itself must stay loaded: the backend's module
//! holds it for the process's life.

use std::ffi::{c_int, c_uint, c_ulong};
use std::sync::{Mutex, PoisonError};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyFloat, PyInt, PyType};

use super::message::{
    self, int_object, ARBITRATION_ID, BITRATE_SWITCH, DATA, DLC, ERROR_STATE_INDICATOR,
    IS_ERROR_FRAME, IS_EXTENDED_ID, IS_FD, IS_REMOTE_FRAME, NFIELDS,
};
use crate::vendorrx::{kvaser, kvaser_tx_flags, pcan, KvaserWriter};

fn address(what: &str, value: usize) -> PyResult<usize> {
    if value == 0 {
        return Err(PyValueError::new_err(format!("{what}: a null address")));
    }
    Ok(value)
}

fn flag(py: Python<'_>, v: bool) -> Bound<'_, PyAny> {
    PyBool::new(py, v).to_owned().into_any()
}

/// canRead / canReadWait on one CANlib handle.
#[pyclass(name = "KvaserReader", module = "can._core", frozen)]
pub struct KvaserReader {
    reader: kvaser::Reader,
    /// Serialises reads: only ever locked without the GIL, or with `try_lock`.
    lock: Mutex<()>,
    resolution: f64,
    offset: f64,
    channel: Py<PyAny>,
    message_class: Py<PyType>,
    _keep: Py<PyAny>,
}

#[pymethods]
impl KvaserReader {
    /// `buffers`: the addresses of canRead's id, msg (64 bytes), dlc, flag and time
    /// out-parameters. Timestamps are `time * resolution + offset` seconds.
    #[new]
    #[allow(clippy::too_many_arguments)]
    fn new(
        read: usize,
        read_wait: usize,
        handle: c_int,
        buffers: (usize, usize, usize, usize, usize),
        keep: Py<PyAny>,
        resolution: f64,
        offset: f64,
        channel: Py<PyAny>,
        message_class: &Bound<'_, PyType>,
    ) -> PyResult<Self> {
        let base = message::base_type(message_class.py())?;
        if !message_class.is_subclass(base)? {
            return Err(PyValueError::new_err(
                "KvaserReader: message_class must be a can.Message class",
            ));
        }
        let read = address("canRead", read)?;
        let read_wait = address("canReadWait", read_wait)?;
        let (id, data, dlc, flags, time) = buffers;
        let buffers = kvaser::Buffers {
            id: address("id buffer", id)? as *mut _,
            data: address("data buffer", data)? as *mut u8,
            dlc: address("dlc buffer", dlc)? as *mut _,
            flags: address("flag buffer", flags)? as *mut _,
            time: address("time buffer", time)? as *mut _,
        };
        // SAFETY: the module contract: `read` / `read_wait` are CANlib's canRead and
        // canReadWait, whose signatures (canlib.h) the function pointer types spell out, and
        // the buffers belong to the ctypes objects in `keep`, which this reader keeps alive.
        let reader = unsafe {
            kvaser::Reader::new(
                std::mem::transmute::<usize, kvaser::CanRead>(read),
                std::mem::transmute::<usize, kvaser::CanReadWait>(read_wait),
                handle,
                buffers,
            )
        };
        Ok(KvaserReader {
            reader,
            lock: Mutex::new(()),
            resolution,
            offset,
            channel,
            message_class: message_class.clone().unbind(),
            _keep: keep,
        })
    }

    /// Reads a frame: with `wait_ms` None only what is queued (canRead); else canRead, and if
    /// nothing is queued canReadWait for up to `wait_ms` with the GIL released. Returns the
    /// message, the CANlib status if it is not canOK, or None for an error frame or overrun,
    /// left in the buffers for the caller to decode.
    #[pyo3(signature = (wait_ms=None))]
    fn read<'py>(&self, py: Python<'py>, wait_ms: Option<c_ulong>) -> PyResult<Bound<'py, PyAny>> {
        // The queue is usually not empty: canRead does not block (canlib.h), so it is called
        // with the GIL held, saving the release and re-acquire. The lock covers each call and
        // the copy of its out-parameters.
        let r = &self.reader;
        let take = |status: c_int| (status, r.header(), r.data_block());
        let mut got = match self.lock.try_lock() {
            Ok(_guard) => take(r.read()),
            // Another thread is reading: wait for it below, without the GIL.
            Err(_) => take(kvaser::CAN_ERR_NOMSG),
        };
        if got.0 == kvaser::CAN_ERR_NOMSG {
            if let Some(ms) = wait_ms {
                got = py.detach(|| {
                    let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
                    take(r.read_wait(ms))
                });
            }
        }
        let (status, h, block) = got;
        if status != kvaser::CAN_OK {
            return Ok(int_object(py, i64::from(status)));
        }
        let kind = kvaser::Kind::of(h.flags);
        if kind.special {
            return Ok(py.None().into_bound(py));
        }
        let data = if kind.remote {
            PyByteArray::new(py, &[])
        } else {
            PyByteArray::new(py, &block[..(h.dlc as usize).min(kvaser::DATA_SIZE)])
        };
        // `long` is 32 bits on Windows: the conversion is not useless there.
        #[allow(clippy::useless_conversion)]
        let id = i64::from(h.id);
        let fields: [Bound<'py, PyAny>; NFIELDS] = [
            PyFloat::new(py, h.time as f64 * self.resolution + self.offset).into_any(),
            int_object(py, id),
            flag(py, kind.extended),
            flag(py, kind.remote),
            flag(py, false),
            self.channel.bind(py).clone(),
            int_object(py, i64::from(h.dlc)),
            data.into_any(),
            flag(py, kind.fd),
            flag(py, kind.is_rx),
            flag(py, kind.brs),
            flag(py, kind.esi),
        ];
        message::new_message(self.message_class.bind(py), fields)
    }
}

/// CAN_Read on one PCAN-Basic channel (classic CAN).
#[pyclass(name = "PcanReader", module = "can._core", frozen)]
pub struct PcanReader {
    reader: pcan::Reader,
    lock: Mutex<()>,
    offset: f64,
    channel: Py<PyAny>,
    message_class: Py<PyType>,
    _keep: Py<PyAny>,
}

#[pymethods]
impl PcanReader {
    /// `buffer`: the address of the caller's 24-byte TPCANMsg + TPCANTimestamp buffer, owned
    /// by `keep`. Timestamps are `offset + millis * 0.001 + micros * 1e-6` seconds.
    #[new]
    fn new(
        read: usize,
        handle: u16,
        buffer: usize,
        keep: Py<PyAny>,
        offset: f64,
        channel: Py<PyAny>,
        message_class: &Bound<'_, PyType>,
    ) -> PyResult<Self> {
        let base = message::base_type(message_class.py())?;
        if !message_class.is_subclass(base)? {
            return Err(PyValueError::new_err(
                "PcanReader: message_class must be a can.Message class",
            ));
        }
        let read = address("CAN_Read", read)?;
        let buffer = address("receive buffer", buffer)? as *mut u8;
        // SAFETY: the module contract: `read` is PCAN-Basic's CAN_Read, whose signature
        // (PCANBasic.h) the function pointer type spells out, and the 24-byte buffer belongs
        // to the ctypes object in `keep`, which this reader keeps alive.
        let reader = unsafe {
            pcan::Reader::new(
                std::mem::transmute::<usize, pcan::CanRead>(read),
                handle,
                buffer,
            )
        };
        Ok(PcanReader {
            reader,
            lock: Mutex::new(()),
            offset,
            channel,
            message_class: message_class.clone().unbind(),
            _keep: keep,
        })
    }

    /// CAN_Read (which never blocks, so the GIL stays held): the message for a plain data or
    /// remote frame, else the status (an error, an empty queue, or PCAN_ERROR_OK with an error
    /// frame or status message left in the buffer for the caller to decode).
    fn read<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let r = &self.reader;
        let (status, buffer) = match self.lock.try_lock() {
            Ok(_guard) => (r.read(), r.buffer()),
            // Another thread is reading: take the lock without the GIL.
            Err(_) => py.detach(|| {
                let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
                (r.read(), r.buffer())
            }),
        };
        if status != pcan::ERROR_OK {
            return Ok(int_object(py, i64::from(status)));
        }
        let c = pcan::Classic::decode(&buffer);
        if !c.is_plain() {
            return Ok(int_object(py, 0));
        }
        let timestamp = self.offset + f64::from(c.millis) * 0.001 + f64::from(c.micros) * 1e-6;
        let fields: [Bound<'py, PyAny>; NFIELDS] = [
            PyFloat::new(py, timestamp).into_any(),
            int_object(py, i64::from(c.id)),
            flag(py, c.msgtype & pcan::MESSAGE_EXTENDED != 0),
            flag(py, c.msgtype & pcan::MESSAGE_RTR != 0),
            flag(py, false),
            self.channel.bind(py).clone(),
            int_object(py, i64::from(c.len)),
            PyBytes::new(py, c.payload()).into_any(),
            flag(py, false),
            flag(py, c.msgtype & pcan::MESSAGE_ECHO == 0),
            flag(py, false),
            flag(py, false),
        ];
        message::new_message(self.message_class.bind(py), fields)
    }
}

// ---------------------------------------------------------------------------------------------
// Sending: only messages whose fields are plain values (exact bools, ints, bytes or bytearray
// data) take the native path; for anything else `write` returns None and the backend's Python
// code sends (and reports the error) as before, so both paths accept and refuse the same.
// ---------------------------------------------------------------------------------------------

/// The plain fields of a message to send.
struct Plain {
    id: i64,
    extended: bool,
    remote: bool,
    error: bool,
    fd: bool,
    brs: bool,
    esi: bool,
    dlc: i64,
    /// At most 64 bytes.
    data: [u8; 64],
    len: usize,
}

fn exact_bool(f: &Bound<'_, PyAny>) -> Option<bool> {
    let py = f.py();
    if f.is(PyBool::new(py, true)) {
        Some(true)
    } else if f.is(PyBool::new(py, false)) {
        Some(false)
    } else {
        None
    }
}

fn exact_int(f: &Bound<'_, PyAny>) -> Option<i64> {
    f.cast_exact::<PyInt>().ok()?.extract::<i64>().ok()
}

fn plain(msg: &Bound<'_, PyAny>) -> PyResult<Option<Plain>> {
    if !message::is_message(msg.py(), msg) {
        return Ok(None);
    }
    let f = message::message_fields(msg)?;
    let (Some(id), Some(dlc)) = (exact_int(&f[ARBITRATION_ID]), exact_int(&f[DLC])) else {
        return Ok(None);
    };
    let flags = [
        IS_EXTENDED_ID,
        IS_REMOTE_FRAME,
        IS_ERROR_FRAME,
        IS_FD,
        BITRATE_SWITCH,
        ERROR_STATE_INDICATOR,
    ]
    .map(|i| exact_bool(&f[i]));
    let [Some(extended), Some(remote), Some(error), Some(fd), Some(brs), Some(esi)] = flags else {
        return Ok(None);
    };
    let mut data = [0u8; 64];
    let len = if let Ok(b) = f[DATA].cast_exact::<PyByteArray>() {
        // SAFETY: the GIL is held and no Python code runs while the slice is alive, so the
        // bytearray cannot be resized or freed during the copy.
        let bytes = unsafe { b.as_bytes() };
        if bytes.len() > 64 {
            return Ok(None);
        }
        data[..bytes.len()].copy_from_slice(bytes);
        bytes.len()
    } else if let Ok(b) = f[DATA].cast_exact::<PyBytes>() {
        let bytes = b.as_bytes();
        if bytes.len() > 64 {
            return Ok(None);
        }
        data[..bytes.len()].copy_from_slice(bytes);
        bytes.len()
    } else {
        return Ok(None);
    };
    Ok(Some(Plain {
        id,
        extended,
        remote,
        error,
        fd,
        brs,
        esi,
        dlc,
        data,
        len,
    }))
}

/// canWrite on one CANlib handle.
#[pyclass(name = "KvaserWriter", module = "can._core", frozen)]
pub struct PyKvaserWriter {
    writer: KvaserWriter,
}

#[pymethods]
impl PyKvaserWriter {
    #[new]
    fn new(write: usize, handle: c_int) -> PyResult<Self> {
        let write = address("canWrite", write)?;
        // SAFETY: the module contract: `write` is CANlib's canWrite, whose signature
        // (canlib.h) the function pointer type spells out.
        let writer = unsafe {
            KvaserWriter::new(
                std::mem::transmute::<usize, kvaser::CanWrite>(write),
                handle,
            )
        };
        Ok(PyKvaserWriter { writer })
    }

    /// canWrite (which queues and does not block, so the GIL stays held): its status, or None
    /// for a message the backend's Python code sends instead.
    fn write<'py>(&self, py: Python<'py>, msg: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let Some(p) = plain(msg)? else {
            return Ok(py.None().into_bound(py));
        };
        // As the Python path: a remote frame's length is its dlc; an id outside 29 bits is
        // sent as -1, which CANlib refuses (canERR_PARAM).
        let length = if p.remote { p.dlc } else { p.len as i64 };
        let Ok(length) = c_uint::try_from(length) else {
            return Ok(py.None().into_bound(py));
        };
        if length as usize > kvaser::DATA_SIZE {
            return Ok(py.None().into_bound(py));
        }
        let id = if (0..=0x1FFF_FFFF).contains(&p.id) {
            p.id as std::ffi::c_long // ok: at most 29 bits
        } else {
            -1
        };
        let flags = kvaser_tx_flags(p.extended, p.remote, p.error, p.fd, p.brs, p.esi);
        Ok(int_object(
            py,
            i64::from(self.writer.write(id, &p.data, length, flags)),
        ))
    }
}

/// CAN_Write on one PCAN-Basic channel (classic CAN).
#[pyclass(name = "PcanWriter", module = "can._core", frozen)]
pub struct PyPcanWriter {
    writer: pcan::Writer,
}

#[pymethods]
impl PyPcanWriter {
    #[new]
    fn new(write: usize, handle: u16) -> PyResult<Self> {
        let write = address("CAN_Write", write)?;
        // SAFETY: the module contract: `write` is PCAN-Basic's CAN_Write, whose signature
        // (PCANBasic.h) the function pointer type spells out.
        let writer = unsafe {
            pcan::Writer::new(std::mem::transmute::<usize, pcan::CanWrite>(write), handle)
        };
        Ok(PyPcanWriter { writer })
    }

    /// CAN_Write (which queues and does not block, so the GIL stays held) of a classic frame:
    /// its status, or None for a message the backend's Python code sends (or refuses) instead.
    fn write<'py>(&self, py: Python<'py>, msg: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let Some(p) = plain(msg)? else {
            return Ok(py.None().into_bound(py));
        };
        let length = if p.remote { p.dlc } else { p.len as i64 };
        let (Ok(id), Ok(length)) = (u32::try_from(p.id), u8::try_from(length)) else {
            return Ok(py.None().into_bound(py));
        };
        if p.fd || length > 8 {
            return Ok(py.None().into_bound(py));
        }
        let mut msgtype = if p.extended {
            pcan::MESSAGE_EXTENDED
        } else {
            0
        };
        if p.remote {
            msgtype |= pcan::MESSAGE_RTR;
        }
        let frame = pcan::encode_classic(id, msgtype, length, &p.data[..p.len]);
        Ok(int_object(py, i64::from(self.writer.write(&frame))))
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<KvaserReader>()?;
    m.add_class::<PcanReader>()?;
    m.add_class::<PyKvaserWriter>()?;
    m.add_class::<PyPcanWriter>()?;
    Ok(())
}
