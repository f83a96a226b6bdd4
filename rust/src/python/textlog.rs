//! What the log bindings share: the local time zone through Python's `datetime`, and the
//! one conversion each way between [`CanFrame`] and `can.Message`.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyString};

use super::message;
use crate::asc::{Civil, LocalTime};
use crate::frame::{
    CanFrame, CANFD_BRS, CANFD_ESI, CANFD_FDF, CANFD_MAX_DLEN, CAN_EFF_FLAG, CAN_EFF_MASK,
    CAN_ERR_FLAG, CAN_RTR_FLAG,
};

/// The local time zone, through Python's `datetime` (naive datetimes are local time), as
/// python-can converts ASC dates.
pub struct PyLocalTime;

impl LocalTime for PyLocalTime {
    fn unix_of_local(&self, c: &Civil) -> Option<f64> {
        Python::attach(|py| {
            let dt = py
                .import("datetime")
                .ok()?
                .getattr("datetime")
                .ok()?
                .call1((c.year, c.month, c.day, c.hour, c.minute, c.second, c.micros))
                .ok()?;
            dt.call_method0("timestamp").ok()?.extract::<f64>().ok()
        })
    }

    fn local_of_unix(&self, t: f64) -> Option<Civil> {
        Python::attach(|py| {
            let dt = py
                .import("datetime")
                .ok()?
                .getattr("datetime")
                .ok()?
                .call_method1("fromtimestamp", (t,))
                .ok()?;
            let get = |name: &str| dt.getattr(name).ok()?.extract::<i64>().ok();
            Some(Civil {
                year: i32::try_from(get("year")?).ok()?,
                month: u8::try_from(get("month")?).ok()?,
                day: u8::try_from(get("day")?).ok()?,
                hour: u8::try_from(get("hour")?).ok()?,
                minute: u8::try_from(get("minute")?).ok()?,
                second: u8::try_from(get("second")?).ok()?,
                micros: u32::try_from(get("microsecond")?).ok()?,
            })
        })
    }
}

/// `bool(obj)`, with the two bool singletons recognised without a call.
#[inline]
fn truthy(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    let p = obj.as_ptr();
    // SAFETY: Py_True / Py_False return borrowed pointers to the immortal bool singletons.
    let (t, f) = unsafe { (pyo3::ffi::Py_True(), pyo3::ffi::Py_False()) };
    if p == t {
        Ok(true)
    } else if p == f {
        Ok(false)
    } else {
        obj.is_truthy()
    }
}

fn bad_field(name: &str, v: &Bound<'_, PyAny>, why: &str) -> PyErr {
    PyValueError::new_err(format!(
        "cannot write a message whose {name} is {}: {why}",
        v.repr().map(|r| r.to_string()).unwrap_or_default()
    ))
}

/// A message as a frame, its timestamp (None if it has none) and its channel object.
pub fn message_frame<'py>(
    msg: &Bound<'py, PyAny>,
    frame: &mut CanFrame,
) -> PyResult<(Option<f64>, Bound<'py, PyAny>)> {
    if let Some(channel) = message_frame_fast(msg, frame) {
        // SAFETY: a field pointer of `msg` (see `message_frame_fast`), still in its slot: no
        // Python code ran since it was read; a new reference is taken at once.
        return Ok((Some(frame.timestamp), unsafe {
            Bound::from_borrowed_ptr(msg.py(), channel)
        }));
    }
    let (f, timestamp, channel) = message_frame_slow(msg)?;
    *frame = f;
    Ok((timestamp, channel))
}

/// A message's channel as [`message_frame_channel`] returns it: the two common kinds without
/// a Python object, anything else as the object itself.
pub enum Channel<'py> {
    /// `channel` is None.
    None,
    /// `channel` is an exact `int` that fits an i64.
    Int(i64),
    /// Any other value (a string, an int subclass, a huge int, ...).
    Object(Bound<'py, PyAny>),
}

/// [`message_frame`] for writers that need the channel as a number: an exact int or None
/// channel costs no reference counting.
pub fn message_frame_channel<'py>(
    msg: &Bound<'py, PyAny>,
    frame: &mut CanFrame,
) -> PyResult<(Option<f64>, Channel<'py>)> {
    use pyo3::ffi;
    if let Some(p) = message_frame_fast(msg, frame) {
        if let Some(v) = message::small_int_value(p) {
            return Ok((Some(frame.timestamp), Channel::Int(v)));
        }
        // SAFETY: `p` is the channel field of `msg`, still in its slot (no Python code ran
        // since it was read), so it is a live object. Only its type is compared and, for an
        // exact int, PyLong_AsLongLong (which runs no Python code) reads it; an overflow
        // error is cleared and the object returned instead. Otherwise a new reference is
        // taken at once.
        let channel = unsafe {
            if p == ffi::Py_None() {
                Channel::None
            } else if ffi::Py_TYPE(p) == std::ptr::addr_of_mut!(ffi::PyLong_Type) {
                let v = ffi::PyLong_AsLongLong(p);
                if v == -1 && !ffi::PyErr_Occurred().is_null() {
                    ffi::PyErr_Clear();
                    Channel::Object(Bound::from_borrowed_ptr(msg.py(), p))
                } else {
                    Channel::Int(v)
                }
            } else {
                Channel::Object(Bound::from_borrowed_ptr(msg.py(), p))
            }
        };
        return Ok((Some(frame.timestamp), channel));
    }
    let (f, timestamp, channel) = message_frame_slow(msg)?;
    *frame = f;
    let channel = if channel.is_none() {
        Channel::None
    } else {
        Channel::Object(channel)
    };
    Ok((timestamp, channel))
}

/// The common case without reference counting or calls: a `can.Message` whose fields are
/// exact floats, ints, bools and bytes/bytearray; returns the channel field as a borrowed
/// pointer (valid while `msg` holds it, that is until Python code runs). None for anything
/// else (the slow path then converts it, or reports what is wrong).
#[inline(always)]
pub(crate) fn message_frame_fast(
    msg: &Bound<'_, PyAny>,
    frame: &mut CanFrame,
) -> Option<*mut pyo3::ffi::PyObject> {
    use pyo3::ffi;
    use pyo3::types::PyFloat;
    use pyo3::Borrowed;
    let p = message::field_ptrs(msg)?;
    let py = msg.py();
    // SAFETY: the pointers are the message's own field references (non-null, checked by
    // `field_ptrs`); `msg` keeps them alive, and nothing below runs Python code that could
    // replace them: only exact built-in types are read, through calls that never call back.
    let field = |i: usize| unsafe { Borrowed::from_ptr(py, p[i]) };
    // SAFETY: Py_True / Py_False return borrowed pointers to the immortal bool singletons.
    let (t, f) = unsafe { (pyo3::ffi::Py_True(), pyo3::ffi::Py_False()) };
    let flag = |i: usize| {
        if p[i] == t {
            Some(true)
        } else if p[i] == f {
            Some(false)
        } else {
            None
        }
    };
    let int = |i: usize, max: i64| -> Option<i64> {
        if let Some(v) = message::small_int_value(p[i]) {
            return (v <= max).then_some(v);
        }
        // SAFETY: `p[i]` is a live object (see above). For an exact int, PyLong_AsLongLong
        // runs no Python code; it sets an error only on overflow, which is cleared here (the
        // slow path then reports the value).
        let v = unsafe {
            if ffi::Py_TYPE(p[i]) != std::ptr::addr_of_mut!(ffi::PyLong_Type) {
                return None;
            }
            let v = ffi::PyLong_AsLongLong(p[i]);
            if v == -1 && !ffi::PyErr_Occurred().is_null() {
                ffi::PyErr_Clear();
                return None;
            }
            v
        };
        (0..=max).contains(&v).then_some(v)
    };
    let ts = field(message::TIMESTAMP)
        .cast_exact::<PyFloat>()
        .ok()?
        .value();
    frame.timestamp = ts;
    frame.can_id = int(message::ARBITRATION_ID, i64::from(CAN_EFF_MASK))? as u32;
    frame.dlc = int(message::DLC, 255)? as u8;
    frame.is_rx = flag(message::IS_RX)?;
    frame.flags = 0;
    if flag(message::IS_EXTENDED_ID)? {
        frame.can_id |= CAN_EFF_FLAG;
    }
    if flag(message::IS_REMOTE_FRAME)? {
        frame.can_id |= CAN_RTR_FLAG;
    }
    if flag(message::IS_ERROR_FRAME)? {
        frame.can_id |= CAN_ERR_FLAG;
    }
    if flag(message::IS_FD)? {
        frame.flags |= CANFD_FDF;
    }
    if flag(message::BITRATE_SWITCH)? {
        frame.flags |= CANFD_BRS;
    }
    if flag(message::ERROR_STATE_INDICATOR)? {
        frame.flags |= CANFD_ESI;
    }
    let data = field(message::DATA);
    let n = if let Ok(b) = data.cast_exact::<PyByteArray>() {
        // SAFETY: copied out at once; no Python code runs that could resize the bytearray.
        copy_data(frame, unsafe { b.as_bytes() })
    } else if let Ok(b) = data.cast_exact::<PyBytes>() {
        copy_data(frame, b.as_bytes())
    } else {
        None
    }?;
    frame.len = n as u8;
    Some(p[message::CHANNEL])
}

fn message_frame_slow<'py>(
    msg: &Bound<'py, PyAny>,
) -> PyResult<(CanFrame, Option<f64>, Bound<'py, PyAny>)> {
    let [ts, id, ext, remote, error, channel, dlc, data, fd, rx, brs, esi] =
        message::message_fields(msg)?;
    let mut f = CanFrame::default();
    let timestamp = if ts.is_none() {
        None
    } else {
        Some(
            ts.extract::<f64>()
                .map_err(|_| bad_field("timestamp", &ts, "not a number"))?,
        )
    };
    f.can_id = id
        .extract::<u32>()
        .ok()
        .filter(|&v| v <= CAN_EFF_MASK)
        .ok_or_else(|| bad_field("arbitration_id", &id, "not an int in 0..=0x1FFFFFFF"))?;
    if truthy(&ext)? {
        f.can_id |= CAN_EFF_FLAG;
    }
    if truthy(&remote)? {
        f.can_id |= CAN_RTR_FLAG;
    }
    if truthy(&error)? {
        f.can_id |= CAN_ERR_FLAG;
    }
    f.dlc = if dlc.is_none() {
        0
    } else {
        dlc.extract::<u8>()
            .map_err(|_| bad_field("dlc", &dlc, "not an int in 0..=255"))?
    };
    let n = if let Ok(b) = data.cast::<PyBytes>() {
        copy_data(&mut f, b.as_bytes())
    } else if let Ok(b) = data.cast::<PyByteArray>() {
        // SAFETY: the bytes are copied out at once, with no Python code running in between
        // that could resize the bytearray (we hold the GIL).
        copy_data(&mut f, unsafe { b.as_bytes() })
    } else if data.is_none() {
        Some(0)
    } else {
        let v = data
            .py()
            .get_type::<PyBytes>()
            .call1((&data,))
            .map_err(|_| bad_field("data", &data, "not bytes-like"))?;
        copy_data(&mut f, v.cast::<PyBytes>()?.as_bytes())
    };
    f.len = n.ok_or_else(|| bad_field("data", &data, "longer than 64 bytes"))? as u8;
    if truthy(&fd)? {
        f.flags |= CANFD_FDF;
    }
    if truthy(&brs)? {
        f.flags |= CANFD_BRS;
    }
    if truthy(&esi)? {
        f.flags |= CANFD_ESI;
    }
    f.is_rx = truthy(&rx)?;
    f.timestamp = timestamp.unwrap_or(0.0);
    Ok((f, timestamp, channel))
}

/// Copies a payload into `f.data`; with `f.len` still the length of what `f.data` held
/// before, the bytes past the new length are left zero, as `CanFrame` promises, also when the
/// writers reuse one frame for message after message.
#[inline(always)]
fn copy_data(f: &mut CanFrame, bytes: &[u8]) -> Option<usize> {
    let n = bytes.len();
    if n > CANFD_MAX_DLEN {
        return None;
    }
    crate::lines::copy_small(&mut f.data[..n], bytes);
    let old = usize::from(f.len).min(CANFD_MAX_DLEN);
    if old > n {
        f.data[n..old].fill(0);
    }
    Some(n)
}

/// python-can's `channel2int`: an int as it is, the number a string ends in, else None.
pub fn channel_number(ch: &Bound<'_, PyAny>) -> PyResult<Option<i64>> {
    if ch.is_none() {
        return Ok(None);
    }
    if let Ok(s) = ch.cast::<PyString>() {
        let s = s.to_cow()?;
        return Ok(crate::candump::channel_number(s.as_bytes()).map(i64::from));
    }
    if ch.is_instance_of::<pyo3::types::PyInt>() {
        return ch
            .extract::<i64>()
            .map(Some)
            .map_err(|_| bad_field("channel", ch, "out of range"));
    }
    Ok(None)
}

/// Emits a `UserWarning` from native code.
pub fn warn(py: Python<'_>, text: &str) -> PyResult<()> {
    let category = py.get_type::<pyo3::exceptions::PyUserWarning>();
    PyErr::warn(
        py,
        &category,
        &std::ffi::CString::new(text.replace('\0', " "))?,
        1,
    )
}

/// A `PyMethodDef` that CPython only reads.
pub struct MethodDef(pub pyo3::ffi::PyMethodDef);

// SAFETY: the definition is never written after construction; CPython only reads it.
unsafe impl Sync for MethodDef {}

/// The body of a METH_O C function: runs `f` with the GIL token; a Python error or a Rust panic
/// becomes the raised exception (null return), success returns None.
///
/// # Safety
/// Must be called by CPython, as a C function, with the GIL held.
pub unsafe fn c_call(f: impl FnOnce(Python<'_>) -> PyResult<()>) -> *mut pyo3::ffi::PyObject {
    // SAFETY: per the contract CPython called us, holding the GIL.
    let py = unsafe { Python::assume_attached() };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(py))) {
        Ok(Ok(())) => py.None().into_ptr(),
        Ok(Err(e)) => {
            e.restore(py);
            std::ptr::null_mut()
        }
        Err(_) => {
            pyo3::panic::PanicException::new_err("a Rust panic in a log writer").restore(py);
            std::ptr::null_mut()
        }
    }
}

/// A Python callable for the C function of `def` with `owner` as its first argument: a
/// one-argument call goes straight to it, without the argument tuple PyO3's methods need
/// under the stable ABI.
pub fn bound_c_function<'py>(
    owner: &Bound<'py, PyAny>,
    def: &'static MethodDef,
) -> PyResult<Bound<'py, PyAny>> {
    let ml = std::ptr::from_ref(&def.0).cast_mut();
    // SAFETY: `ml` is a 'static, well-formed METH_O definition that CPython only reads;
    // `owner` is a live object, which the new function object keeps a reference to.
    unsafe {
        Bound::from_owned_ptr_or_err(
            owner.py(),
            pyo3::ffi::PyCFunction_NewEx(ml, owner.as_ptr(), std::ptr::null_mut()),
        )
    }
}
