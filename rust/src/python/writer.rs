//! The generic log writer binding: what every native writer class (`BlfWriter`, `AscWriter`,
//! `CanutilsLogWriter`, `TrcWriter`) is, whatever its format.
//!
//! A [`WriterCore`] holds a core [`FrameWriter`] in a [`WriterCell`] (threads take turns),
//! together with the frame each message is converted into (reused) and the format's own
//! state. It gives every writer the same guarantees:
//!
//! * a write after `close()` (`stop()`, or the interpreter-exit finaliser of the Python side)
//!   is a `ValueError`, as a write to a closed file is;
//! * `through` writers (a file the caller passed in, which they may read or close at any
//!   time) hand every call's bytes to the file at once; an error doing so is that call's, and
//!   is not raised again at `close()`;
//! * a writer dropped without `close()` is closed then (its buffer written, the file ended),
//!   an error on the way being reported as unraisable;
//! * errors go through the one conversion of [`super::error`].
//!
//! [`writer_class!`] gives each class the common Python methods (`write_message`,
//! `message_sink`, `flush`, `close`, `discard`, `closed`) around its own constructor and
//! extras; the class itself only says how a message becomes a frame for its format
//! ([`WriteMessage`]).

use pyo3::prelude::*;
use pyo3::{Borrowed, PyClass};

use super::textlog::c_call;
use super::writer_cell::{self, close_on_drop, stopped, CellRef, WriterCell};
use crate::frame::CanFrame;
use crate::log::FrameWriter;

/// What a writer class holds behind its cell.
pub struct WriterState<W, X> {
    /// The core writer; None once closed.
    pub writer: Option<W>,
    /// The frame of the message being written (reused).
    pub frame: CanFrame,
    /// The format's own state.
    pub extra: X,
}

pub struct WriterCore<W: FrameWriter, X = ()> {
    state: WriterCell<WriterState<W, X>>,
    /// The Python class name, for messages.
    class: &'static str,
    /// Bytes go to the file after every call instead of being buffered.
    through: bool,
}

impl<W: FrameWriter, X> WriterCore<W, X> {
    pub fn new(py: Python<'_>, class: &'static str, writer: W, extra: X, through: bool) -> Self {
        writer_cell::init(py);
        WriterCore {
            state: WriterCell::new(WriterState {
                writer: Some(writer),
                frame: CanFrame::default(),
                extra,
            }),
            class,
            through,
        }
    }

    /// The state, whether the writer is open or closed.
    pub fn state(&self, py: Python<'_>) -> PyResult<CellRef<'_, WriterState<W, X>>> {
        self.state.get(py)
    }

    /// Runs `f` on the open writer (a `ValueError` once closed); a `through` writer then
    /// hands what `f` formatted to the file.
    #[inline(always)]
    pub fn with<T>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut W, &mut CanFrame, &mut X) -> PyResult<T>,
    ) -> PyResult<T> {
        let mut s = self.state.get(py)?;
        let WriterState {
            writer,
            frame,
            extra,
        } = &mut *s;
        let Some(w) = writer.as_mut() else {
            return Err(stopped(self.class));
        };
        let out = f(w, frame, extra)?;
        if self.through {
            if let Err(e) = w.drain() {
                // The caller hears of this call's failure now, not again at close().
                w.clear_buffer();
                return Err(e.into());
            }
        }
        Ok(out)
    }

    /// Hands buffered bytes to the file and flushes it.
    pub fn flush(&self, py: Python<'_>) -> PyResult<()> {
        let mut s = self.state.get(py)?;
        let Some(w) = s.writer.as_mut() else {
            return Err(stopped(self.class));
        };
        Ok(w.flush()?)
    }

    /// Ends the file and closes the writer: later writes raise `ValueError`; later calls do
    /// nothing (and return True). `on_close` sees the writer last. False: a header could
    /// not be rewritten (the file cannot seek).
    pub fn close_with(&self, py: Python<'_>, on_close: impl FnOnce(&W, &mut X)) -> PyResult<bool> {
        let mut s = self.state.get(py)?;
        let Some(mut w) = s.writer.take() else {
            return Ok(true);
        };
        let done = w.finish();
        on_close(&w, &mut s.extra);
        Ok(done?)
    }

    /// Closes the writer without writing anything more (its file was closed); returns how
    /// much that left unwritten.
    pub fn discard_with(
        &self,
        py: Python<'_>,
        on_close: impl FnOnce(&W, &mut X),
    ) -> PyResult<usize> {
        let mut s = self.state.get(py)?;
        let Some(w) = s.writer.take() else {
            return Ok(0);
        };
        on_close(&w, &mut s.extra);
        Ok(w.buffered())
    }

    /// Whether the writer is closed.
    pub fn closed(&self, py: Python<'_>) -> PyResult<bool> {
        Ok(self.state.get(py)?.writer.is_none())
    }
}

impl<W: FrameWriter, X> Drop for WriterCore<W, X> {
    fn drop(&mut self) {
        if let Some(mut w) = self.state.get_mut().writer.take() {
            close_on_drop(self.class, |_| w.finish().map(drop).map_err(PyErr::from));
        }
    }
}

/// How a writer class writes one `can.Message`.
pub trait WriteMessage: PyClass<Frozen = pyo3::pyclass::boolean_struct::True> + Sync {
    fn write(&self, py: Python<'_>, msg: &Bound<'_, PyAny>) -> PyResult<()>;
}

/// `write_message` of a `T` as a METH_O C function: the sink `message_sink` hands out.
///
/// # Safety
/// Only for CPython, through a `PyMethodDef` bound to a `T` (see [`writer_class!`]).
pub unsafe extern "C" fn write_o<T: WriteMessage>(
    slf: *mut pyo3::ffi::PyObject,
    msg: *mut pyo3::ffi::PyObject,
) -> *mut pyo3::ffi::PyObject {
    // SAFETY: CPython calls this METH_O function with the GIL held, `slf` being the object
    // the function was bound to (only `message_sink` of a `T` binds it, always to a `T`, so
    // the unchecked cast is right) and `msg` the argument, both borrowed for the call.
    unsafe {
        c_call(|py| {
            let writer = Borrowed::from_ptr(py, slf).cast_unchecked::<T>();
            let msg = Borrowed::from_ptr(py, msg);
            writer.get().write(py, &msg)
        })
    }
}

/// The `PyMethodDef` of [`write_o`] for `T`.
pub const fn write_def<T: WriteMessage>() -> super::textlog::MethodDef {
    super::textlog::MethodDef(pyo3::ffi::PyMethodDef {
        ml_name: c"write_message".as_ptr(),
        ml_meth: pyo3::ffi::PyMethodDefPointer {
            PyCFunction: write_o::<T>,
        },
        ml_flags: pyo3::ffi::METH_O,
        ml_doc: c"write_message(msg): appends one message".as_ptr(),
    })
}

/// The `#[pymethods]` of a writer class `$class` (whose [`WriterCore`] is its `core` field):
/// the common methods, then the class's own (`$extra`: its constructor, getters, ...).
/// `close_hook` is what the class does with its writer when it closes.
macro_rules! writer_class {
    ($class:ident, close_hook = $hook:expr, { $($extra:tt)* }) => {
        #[pymethods]
        impl $class {
            /// Appends one message.
            fn write_message(&self, py: Python<'_>, msg: &Bound<'_, PyAny>) -> PyResult<()> {
                <Self as $crate::python::writer::WriteMessage>::write(self, py, msg)
            }

            /// `write_message` as a one-argument C function bound to this writer (the fast
            /// path for `on_message_received`).
            fn message_sink<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
                static DEF: $crate::python::textlog::MethodDef =
                    $crate::python::writer::write_def::<$class>();
                $crate::python::textlog::bound_c_function(slf.as_any(), &DEF)
            }

            /// Hands buffered data to the file and flushes it.
            fn flush(&self, py: Python<'_>) -> PyResult<()> {
                self.core.flush(py)
            }

            /// Ends the file, flushes it and closes the writer: later writes raise
            /// `ValueError`. Returns False when a header could not be rewritten (a file
            /// that cannot seek). Later calls do nothing (and return True).
            fn close(&self, py: Python<'_>) -> PyResult<bool> {
                self.core.close_with(py, $hook)
            }

            /// Closes the writer without writing anything more (its file was closed);
            /// returns how many bytes that left unwritten.
            fn discard(&self, py: Python<'_>) -> PyResult<usize> {
                self.core.discard_with(py, $hook)
            }

            /// Whether the writer is closed.
            #[getter]
            fn closed(&self, py: Python<'_>) -> PyResult<bool> {
                self.core.closed(py)
            }

            $($extra)*
        }
    };
}
pub(crate) use writer_class;

/// A writer that also takes frames received by a native bus directly, without a
/// `can.Message` in between (the fast path of `SocketcanRaw.recv_to_writer`). The result is
/// what `write_message` of the message such a bus would have built gives. Only the Linux
/// SocketCAN binding calls it; elsewhere the writers keep the implementations unused.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub trait WriteReceived {
    /// Appends `frame` (its timestamp set), whose message `channel` would be `channel`.
    fn write_received(
        &self,
        py: Python<'_>,
        frame: &CanFrame,
        channel: &Bound<'_, PyAny>,
    ) -> PyResult<()>;
}

/// `obj` as a native writer that takes received frames, if it is one.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub fn received_sink<'a>(obj: &'a Bound<'_, PyAny>) -> Option<&'a dyn WriteReceived> {
    if let Ok(w) = obj.cast::<super::blf::BlfWriter>() {
        return Some(w.get());
    }
    if let Ok(w) = obj.cast::<super::asc::AscWriter>() {
        return Some(w.get());
    }
    if let Ok(w) = obj.cast::<super::candump::CanutilsLogWriter>() {
        return Some(w.get());
    }
    if let Ok(w) = obj.cast::<super::trc::TrcWriter>() {
        return Some(w.get());
    }
    if let Ok(w) = obj.cast::<super::csv::CsvWriter>() {
        return Some(w.get());
    }
    None
}
