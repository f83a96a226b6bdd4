//! Binding of the serial writer (`crate::serial`): `SerialWriter` (Unix), which encodes a
//! message as an slcan line or a binary serial frame and writes it to the port's descriptor
//! in one call, so `send()` costs one native call and, normally, one `write` system call.
//!
//! The Python package wraps it in `can.interfaces.serial._port.SerialPort`. Messages that are
//! not the common case (a field of an unusual type, or a frame the framing cannot carry) go
//! through the Python encoder given to the writer, which returns the bytes or raises the
//! `ValueError` that says why. A wait for room releases the GIL; a signal that interrupts it
//! is handed to Python (`check_signals`).

use pyo3::prelude::*;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    #[cfg(unix)]
    m.add_class::<unix::PySerialWriter>()?;
    #[cfg(not(unix))]
    let _ = m;
    Ok(())
}

#[cfg(unix)]
mod unix {
    use std::sync::MutexGuard;
    use std::time::{Duration, Instant};

    use pyo3::exceptions::PyValueError;
    use pyo3::prelude::*;
    use pyo3::sync::PyOnceLock;
    use pyo3::types::{PyBytes, PyType};

    use super::super::textlog::message_frame_fast;
    use crate::frame::CanFrame;
    use crate::serial::encode::{serial_frame, slcan_line};
    use crate::serial::writer::{FdWriter, Pending, WriteError};

    static CAN_OPERATION_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    static CAN_TIMEOUT_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

    #[derive(Clone, Copy)]
    enum Framing {
        Slcan,
        Serial,
    }

    /// Writes frames to a serial port's non-blocking descriptor (see `crate::serial::writer`).
    #[pyclass(name = "SerialWriter", module = "can._core", frozen)]
    pub struct PySerialWriter {
        inner: FdWriter,
        framing: Framing,
        /// Python fallback: message -> bytes, or the ValueError saying why not.
        encode: Py<PyAny>,
        interface: String,
        /// repr() of the port's URL, for messages.
        url: String,
    }

    /// Checks a timeout before anything is written: NaN is no number of seconds.
    fn check_timeout(timeout: Option<f64>) -> PyResult<()> {
        if timeout.is_some_and(f64::is_nan) {
            return Err(PyValueError::new_err(
                "the send timeout must be a number of seconds or None, not nan",
            ));
        }
        Ok(())
    }

    /// The deadline of a wait of `timeout` seconds from now (None: no limit).
    fn deadline_of(timeout: Option<f64>) -> Option<Instant> {
        let t = timeout?;
        let now = Instant::now();
        if t <= 0.0 {
            return Some(now);
        }
        // An infinite or huge timeout is no limit.
        Duration::try_from_secs_f64(t)
            .ok()
            .and_then(|d| now.checked_add(d))
    }

    impl PySerialWriter {
        /// The lock on the pending bytes; waits for it with the GIL released.
        fn acquire(&self, py: Python<'_>) -> MutexGuard<'_, Pending> {
            loop {
                if let Some(g) = self.inner.try_lock() {
                    return g;
                }
                let inner = &self.inner;
                py.detach(|| inner.wait_unlocked());
            }
        }

        /// Writes what `p` holds: one attempt with the GIL held, then waits without it until
        /// `timeout` seconds after that first attempt.
        fn finish(&self, py: Python<'_>, p: &mut Pending, timeout: Option<f64>) -> PyResult<()> {
            match self.inner.write_once(p) {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(e) => return Err(self.error(py, e, timeout)),
            }
            let deadline = deadline_of(timeout);
            let inner = &self.inner;
            loop {
                match py.detach(|| inner.write_until(p, deadline)) {
                    Ok(()) => return Ok(()),
                    Err(WriteError::Interrupted) => {
                        if let Err(e) = py.check_signals() {
                            p.give_up();
                            return Err(e);
                        }
                    }
                    Err(e) => return Err(self.error(py, e, timeout)),
                }
            }
        }

        fn write_bytes(&self, py: Python<'_>, data: &[u8], timeout: Option<f64>) -> PyResult<()> {
            let mut guard = self.acquire(py);
            if guard.is_closed() {
                return Err(self.error(py, WriteError::Closed, timeout));
            }
            guard.push_frame(|b| {
                b.extend_from_slice(data);
                true
            });
            self.finish(py, &mut guard, timeout)
        }

        fn error(&self, py: Python<'_>, err: WriteError, timeout: Option<f64>) -> PyErr {
            let (interface, url) = (&self.interface, &self.url);
            let within = match timeout {
                Some(t) => format!("{t:?} s"),
                None => "the time allowed".to_owned(),
            };
            let (cell, name, text, code) = match err {
                WriteError::Closed => (
                    &CAN_OPERATION_ERROR,
                    "CanOperationError",
                    format!("{interface}: cannot write, {url} is closed"),
                    None,
                ),
                WriteError::TimedOut { partial: false } => (
                    &CAN_TIMEOUT_ERROR,
                    "CanTimeoutError",
                    format!(
                        "{interface}: {url} took no data within {within} (the device is not \
                         reading); the frame was not sent"
                    ),
                    None,
                ),
                WriteError::TimedOut { partial: true } => (
                    &CAN_TIMEOUT_ERROR,
                    "CanTimeoutError",
                    format!(
                        "{interface}: {url} took only part of the frame within {within} (the \
                         device is not reading); the rest is written before the next frame"
                    ),
                    None,
                ),
                WriteError::Interrupted => (
                    &CAN_OPERATION_ERROR,
                    "CanOperationError",
                    format!("{interface}: writing to {url} was interrupted"),
                    None,
                ),
                WriteError::Os(e) => (
                    &CAN_OPERATION_ERROR,
                    "CanOperationError",
                    format!("{interface}: writing to {url} failed: {e}"),
                    e.raw_os_error(),
                ),
            };
            match cell.import(py, "can.exceptions", name) {
                Ok(cls) => PyErr::from_type(cls.clone(), (text, code)),
                Err(e) => e,
            }
        }
    }

    #[pymethods]
    impl PySerialWriter {
        /// A writer for the non-blocking descriptor `fd`. `wake_r`/`wake_w`: the port's wake
        /// pipe. `framing`: "slcan" or "serial". `encode`: the Python encoder used for
        /// messages the native path does not take. `interface`, `url`: for error messages.
        #[new]
        #[pyo3(signature = (fd, wake_r, wake_w, framing, encode, interface, url))]
        fn new(
            fd: i32,
            wake_r: i32,
            wake_w: i32,
            framing: &str,
            encode: Py<PyAny>,
            interface: String,
            url: &Bound<'_, PyAny>,
        ) -> PyResult<Self> {
            let framing = match framing {
                "slcan" => Framing::Slcan,
                "serial" => Framing::Serial,
                other => {
                    return Err(PyValueError::new_err(format!(
                        "framing must be 'slcan' or 'serial', not {other:?}"
                    )))
                }
            };
            if fd < 0 || wake_r < 0 || wake_w < 0 {
                return Err(PyValueError::new_err(format!(
                    "descriptors must be >= 0, got fd={fd}, wake_r={wake_r}, wake_w={wake_w}"
                )));
            }
            Ok(PySerialWriter {
                inner: FdWriter::new(fd, Some(wake_r), Some(wake_w)),
                framing,
                encode,
                interface,
                url: url.repr()?.to_string(),
            })
        }

        /// Sends `msg` as one frame, waiting up to `timeout` seconds (None: no limit) for the
        /// port to take it; returns once the bytes are handed to the OS.
        #[pyo3(signature = (msg, timeout))]
        fn send(
            &self,
            py: Python<'_>,
            msg: &Bound<'_, PyAny>,
            timeout: Option<f64>,
        ) -> PyResult<()> {
            check_timeout(timeout)?;
            let mut frame = CanFrame::default();
            if message_frame_fast(msg, &mut frame).is_some() {
                let mut guard = self.acquire(py);
                if guard.is_closed() {
                    return Err(self.error(py, WriteError::Closed, timeout));
                }
                let framing = self.framing;
                if guard.push_frame(|b| match framing {
                    Framing::Slcan => slcan_line(&frame, b),
                    Framing::Serial => serial_frame(&frame, b),
                }) {
                    return self.finish(py, &mut guard, timeout);
                }
            }
            // Anything else: the Python encoder gives the bytes or says why there are none.
            let data = self.encode.bind(py).call1((msg,))?;
            let data = data.cast_into::<PyBytes>()?;
            self.write_bytes(py, data.as_bytes(), timeout)
        }

        /// Writes `data` (commands) like a frame, waiting up to `timeout` seconds.
        #[pyo3(signature = (data, timeout))]
        fn write(&self, py: Python<'_>, data: &[u8], timeout: Option<f64>) -> PyResult<()> {
            check_timeout(timeout)?;
            self.write_bytes(py, data, timeout)
        }

        /// Stops writers (one waiting for room raises `CanOperationError`) and wakes the
        /// port's readers; returns when no write is in progress. Idempotent.
        fn close(&self, py: Python<'_>) {
            let inner = &self.inner;
            py.detach(|| inner.close());
        }

        #[getter]
        fn closed(&self) -> bool {
            self.inner.is_closing()
        }

        /// The descriptor written to.
        #[getter]
        fn fd(&self) -> i32 {
            self.inner.fd()
        }
    }
}
