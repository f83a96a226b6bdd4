//! `can._core.CyclicLoop`: the Python face of [`crate::cyclic::TimerLoop`].
//!
//! Each task's payload is the callable that sends one message (normally a small Python wrapper
//! around the bus's `send`), the messages sent in turn, and an error handler. The loop thread is
//! a Python `threading.Thread` started by `can.broadcastmanager`; it calls [`PyCyclicLoop::run`],
//! which detaches from the interpreter while waiting and attaches once per batch of sends that
//! fell due together (waiting for the GIL can take a switch interval, 5 ms, when another thread
//! runs Python code: paying that once per frame starves many tasks).

use std::sync::Arc;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use crate::cyclic::{
    duration_from_secs, period_from_secs, Config, Control, CyclicError, Finish, Status, TaskId,
    TimerLoop,
};

impl From<CyclicError> for PyErr {
    fn from(err: CyclicError) -> Self {
        PyValueError::new_err(err.to_string())
    }
}

struct Payload {
    send: Py<PyAny>,
    messages: Vec<Py<PyAny>>,
    on_error: Option<Py<PyAny>>,
}

type Shared = Arc<Payload>;

fn messages_from(messages: &Bound<'_, PyAny>) -> PyResult<Vec<Py<PyAny>>> {
    let list: Vec<Py<PyAny>> = messages
        .try_iter()?
        .map(|m| m.map(Bound::unbind))
        .collect::<PyResult<_>>()?;
    if list.is_empty() {
        return Err(PyValueError::new_err(
            "a cyclic task needs at least one message",
        ));
    }
    Ok(list)
}

/// Sends one message of a task; errors go to the task's error handler.
fn fire(py: Python<'_>, payload: &Payload, sent: u64) -> Control {
    let len = payload.messages.len() as u64;
    // ok: `messages_from` never stores an empty list, and the index is below its length.
    let Some(msg) = usize::try_from(sent % len.max(1))
        .ok()
        .and_then(|i| payload.messages.get(i))
    else {
        return Control::Stop;
    };
    let err = match payload.send.call1(py, (msg.clone_ref(py),)) {
        Ok(_) => return Control::Continue,
        Err(err) => err,
    };
    let Some(handler) = &payload.on_error else {
        err.write_unraisable(py, Some(payload.send.bind(py)));
        return Control::Stop;
    };
    match handler
        .call1(py, (err.into_value(py),))
        .and_then(|keep_going| keep_going.is_truthy(py))
    {
        Ok(true) => Control::Continue,
        Ok(false) => Control::Stop,
        Err(handler_err) => {
            handler_err.write_unraisable(py, Some(handler.bind(py)));
            Control::Stop
        }
    }
}

/// A set of cyclic send tasks served by one thread, with absolute deadlines.
///
/// ``add`` schedules a task and, when no thread runs the loop, returns the generation number a
/// new thread must pass to ``run``. ``run`` serves the tasks with the GIL released while it
/// waits and returns when no task is left. ``remove`` unschedules a task, waiting a bounded time
/// for a send of it that is under way.
#[pyclass(name = "CyclicLoop", module = "can._core", frozen)]
pub struct PyCyclicLoop {
    inner: Arc<TimerLoop<Shared>>,
}

#[pymethods]
impl PyCyclicLoop {
    /// ``max_spin``: the longest time in seconds the loop thread spins before a deadline
    /// instead of sleeping (the window adapts below it to how precisely the OS wakes threads).
    /// ``max_catch_up``: how far behind schedule (seconds) the loop still sends every slot it
    /// missed, one after the other; further behind, it skips to the most recent due slot.
    #[new]
    #[pyo3(signature = (max_spin=0.001, max_catch_up=0.25))]
    fn new(max_spin: f64, max_catch_up: f64) -> PyResult<Self> {
        let config = Config::with_max_spin(max_spin)?.catching_up(max_catch_up)?;
        Ok(PyCyclicLoop {
            inner: Arc::new(TimerLoop::new(config)),
        })
    }

    /// Schedules ``send(messages[i % len(messages)])`` every ``period`` seconds, the first one
    /// now, for ``duration`` seconds (None: until removed). ``on_error(exc)`` is called when
    /// ``send`` raises and returns whether to go on; without it the task stops. Returns
    /// ``(task_id, generation)`` where ``generation`` is not None when a new loop thread must be
    /// started with ``run(generation)``.
    #[pyo3(signature = (send, messages, period, duration=None, on_error=None))]
    fn add(
        &self,
        send: &Bound<'_, PyAny>,
        messages: &Bound<'_, PyAny>,
        period: f64,
        duration: Option<f64>,
        on_error: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(TaskId, Option<u64>)> {
        if !send.is_callable() {
            return Err(PyTypeError::new_err("send must be callable"));
        }
        if let Some(handler) = on_error {
            if !handler.is_callable() {
                return Err(PyTypeError::new_err("on_error must be callable or None"));
            }
        }
        let period_ns = period_from_secs(period)?;
        let duration = duration_from_secs(duration)?;
        let payload = Arc::new(Payload {
            send: send.clone().unbind(),
            messages: messages_from(messages)?,
            on_error: on_error.map(|h| h.clone().unbind()),
        });
        let added = self.inner.add(payload, period_ns, duration);
        Ok((added.id, added.start_runner))
    }

    /// Serves the tasks in the calling thread until none is left or this generation is told
    /// to exit. The GIL is released while waiting; it is taken once for all the sends that
    /// are due (including those that fell due while waiting for it).
    fn run(&self, py: Python<'_>, generation: u64) {
        let inner = Arc::clone(&self.inner);
        py.detach(move || {
            inner.run(generation, |due| {
                Python::attach(|py| due.send_all(|info, payload| fire(py, payload, info.sent)));
            })
        });
    }

    /// Unschedules a task: no send of it starts after this returns. A send of it under way on
    /// another thread is waited for up to ``timeout`` seconds, then left to finish on its own.
    /// Returns ``(sent, skipped, exiting, detached)``: the task's counters, the generation of
    /// the loop thread that now exits because no task is left (join it) or None, and whether a
    /// send was still under way when the wait ran out.
    #[pyo3(signature = (task_id, timeout=1.0))]
    fn remove(
        &self,
        py: Python<'_>,
        task_id: TaskId,
        timeout: f64,
    ) -> PyResult<(u64, u64, Option<u64>, bool)> {
        let timeout = std::time::Duration::try_from_secs_f64(timeout)
            .map_err(|_| PyValueError::new_err(format!("timeout must be >= 0, got {timeout}")))?;
        let inner = Arc::clone(&self.inner);
        let removed = py.detach(move || inner.remove(task_id, timeout));
        // The payload (Python references) is dropped here, attached to the interpreter.
        Ok((
            removed.stats.sent,
            removed.stats.skipped,
            removed.exiting,
            removed.detached,
        ))
    }

    /// Unschedules every task, waiting up to ``timeout`` seconds for sends under way, and
    /// returns the generation of the loop thread that now exits (join it), or None.
    #[pyo3(signature = (timeout=1.0))]
    fn clear(&self, py: Python<'_>, timeout: f64) -> PyResult<Option<u64>> {
        let timeout = std::time::Duration::try_from_secs_f64(timeout)
            .map_err(|_| PyValueError::new_err(format!("timeout must be >= 0, got {timeout}")))?;
        let inner = Arc::clone(&self.inner);
        Ok(py.detach(move || inner.clear(timeout)))
    }

    /// Replaces the messages of a scheduled task; False if the task is not scheduled.
    fn set_messages(
        &self,
        py: Python<'_>,
        task_id: TaskId,
        messages: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let messages = messages_from(messages)?;
        let Some(current) = self.inner.payload(task_id) else {
            return Ok(false);
        };
        let new = Arc::new(Payload {
            send: current.send.clone_ref(py),
            messages,
            on_error: current.on_error.as_ref().map(|h| h.clone_ref(py)),
        });
        // The payload replaced is dropped here, attached to the interpreter.
        Ok(self.inner.set_payload(task_id, new).is_ok())
    }

    /// ``"active"``, ``"expired"`` (its duration ran out), ``"stopped"`` (sending failed and the
    /// error handler did not keep it going) or ``None`` (removed or unknown).
    fn status(&self, task_id: TaskId) -> Option<&'static str> {
        match self.inner.status(task_id)? {
            Status::Active(_) => Some("active"),
            Status::Finished(Finish::Expired, _) => Some("expired"),
            Status::Finished(Finish::Stopped, _) => Some("stopped"),
        }
    }

    /// ``(sent, skipped)`` counters of a task, or None if it was removed or is unknown.
    fn stats(&self, task_id: TaskId) -> Option<(u64, u64)> {
        match self.inner.status(task_id)? {
            Status::Active(s) | Status::Finished(_, s) => Some((s.sent, s.skipped)),
        }
    }

    /// The generation of the thread currently running the loop, or None.
    fn running_generation(&self) -> Option<u64> {
        self.inner.running_generation()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyCyclicLoop>()
}
