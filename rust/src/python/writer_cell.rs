//! The state of a log writer (or reader), shared by every thread that calls it.
//!
//! Several `Notifier`s (threads) may feed one writer. The GIL does not serialise them: a
//! writer releases it inside the file object's `write()` (and Python switches threads between
//! bytecodes), so a second thread can call in while the first is still inside. A call that
//! finds the writer busy waits, without the GIL, until the other thread is done; only a
//! re-entrant call (the file's own `write()` calling back into the writer on the same thread)
//! is an error, since waiting for itself would never end.
//!
//! The uncontended call costs what a plain flag costs: a load and a store when the GIL
//! serialises every access to the flag, a compare-and-swap on a free-threaded interpreter.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

/// Whether the interpreter has a GIL that serialises every call into this module: true
/// unless it is a free-threaded build (decided when the module is imported).
static GIL_SERIALISES: AtomicBool = AtomicBool::new(false);

/// Records whether the interpreter serialises calls with a GIL (PEP 703 builds say in their
/// config that they do not; anything unknown counts as free-threaded).
pub fn init(py: Python<'_>) {
    let gil_disabled = py
        .import("sysconfig")
        .and_then(|s| s.call_method1("get_config_var", ("Py_GIL_DISABLED",)))
        .map_or(true, |v| v.is_truthy().unwrap_or(true));
    GIL_SERIALISES.store(!gil_disabled, Ordering::Relaxed);
}

/// A number that identifies the calling thread while it lives (never 0): the address of its
/// Python thread state. (A Rust thread-local would cost a `__tls_get_addr` call per use in a
/// shared library; this is a read of the interpreter's current thread state.)
#[inline(always)]
fn thread_token(_py: Python<'_>) -> usize {
    // SAFETY: the caller is attached to the interpreter (`_py`), so there is a current
    // thread state, which PyThreadState_Get returns without side effects.
    unsafe { pyo3::ffi::PyThreadState_Get() as usize }
}

/// The longest a waiting thread sleeps before it looks at the flag again (a wake-up can be
/// missed when the release and the wait cross; this bounds what that costs).
const RECHECK: Duration = Duration::from_millis(1);

pub struct WriterCell<T> {
    busy: AtomicBool,
    /// [`thread_token`] of the thread holding the value, 0 when free.
    owner: AtomicUsize,
    /// Threads waiting for the value.
    waiters: AtomicUsize,
    lock: Mutex<()>,
    freed: Condvar,
    value: UnsafeCell<T>,
}

// SAFETY: `value` is reached only through `get` (one `CellRef` at a time: `busy` is set while
// one exists) or through `get_mut` (`&mut self`, so no `CellRef` exists). With a GIL, the flag
// is taken and dropped while holding the GIL, whose release/acquire orders the accesses across
// threads; without one, it is taken with an acquiring compare-and-swap and dropped with a
// release store. `T: Send` because the value is used from whichever thread holds it.
unsafe impl<T: Send> Sync for WriterCell<T> {}

impl<T> WriterCell<T> {
    pub fn new(value: T) -> Self {
        WriterCell {
            busy: AtomicBool::new(false),
            owner: AtomicUsize::new(0),
            waiters: AtomicUsize::new(0),
            lock: Mutex::new(()),
            freed: Condvar::new(),
            value: UnsafeCell::new(value),
        }
    }

    #[inline(always)]
    fn try_take(&self) -> bool {
        if GIL_SERIALISES.load(Ordering::Relaxed) {
            !self.busy.load(Ordering::Relaxed) && {
                self.busy.store(true, Ordering::Relaxed);
                true
            }
        } else {
            self.busy
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        }
    }

    /// Exclusive access to the value; waits (without the GIL) while another thread has it.
    /// A re-entrant call from the thread that has it is a `RuntimeError`.
    #[inline(always)]
    pub fn get(&self, py: Python<'_>) -> PyResult<CellRef<'_, T>> {
        if self.try_take() {
            self.owner.store(thread_token(py), Ordering::Relaxed);
            return Ok(CellRef { cell: self });
        }
        self.get_contended(py)
    }

    #[cold]
    #[inline(never)]
    fn get_contended(&self, py: Python<'_>) -> PyResult<CellRef<'_, T>> {
        let me = thread_token(py);
        loop {
            if self.try_take() {
                self.owner.store(me, Ordering::Relaxed);
                return Ok(CellRef { cell: self });
            }
            if self.owner.load(Ordering::Relaxed) == me {
                return Err(PyRuntimeError::new_err(
                    "the log reader or writer is already in use by this thread (a re-entrant \
                     call, e.g. from the file object's read() or write())",
                ));
            }
            self.waiters.fetch_add(1, Ordering::SeqCst);
            // Only the synchronisation fields cross into the GIL-free closure, not the value.
            let (lock, busy, freed) = (&self.lock, &self.busy, &self.freed);
            py.detach(|| {
                let mut guard = lock.lock().unwrap_or_else(|e| e.into_inner());
                while busy.load(Ordering::SeqCst) {
                    guard = match freed.wait_timeout(guard, RECHECK) {
                        Ok((g, _)) => g,
                        Err(e) => e.into_inner().0,
                    };
                }
            });
            self.waiters.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Exclusive access to the value if nobody has it, without waiting.
    pub fn try_get(&self, py: Python<'_>) -> Option<CellRef<'_, T>> {
        if self.try_take() {
            self.owner.store(thread_token(py), Ordering::Relaxed);
            Some(CellRef { cell: self })
        } else {
            None
        }
    }

    /// The value for the garbage collector's traverse, unless a call is using it.
    ///
    /// # Safety
    /// Only from `tp_traverse`: the collector runs with the GIL held (or, free-threaded, with
    /// the other threads stopped), so no `CellRef` can be made while the result lives.
    pub unsafe fn peek(&self) -> Option<&T> {
        if self.busy.load(Ordering::Acquire) {
            None
        } else {
            // SAFETY: not in use, and cannot become so (see above).
            Some(unsafe { &*self.value.get() })
        }
    }

    /// The value, when no call can be using it (`&mut self`: the object is being dropped).
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }
}

/// Exclusive access to a [`WriterCell`]'s value.
pub struct CellRef<'a, T> {
    cell: &'a WriterCell<T>,
}

impl<T> std::ops::Deref for CellRef<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the `busy` flag is ours while this guard lives (see `WriterCell::get`).
        unsafe { &*self.cell.value.get() }
    }
}

impl<T> std::ops::DerefMut for CellRef<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only reference through the guard.
        unsafe { &mut *self.cell.value.get() }
    }
}

impl<T> Drop for CellRef<'_, T> {
    #[inline(always)]
    fn drop(&mut self) {
        let cell = self.cell;
        cell.owner.store(0, Ordering::Relaxed);
        cell.busy.store(false, Ordering::Release);
        if cell.waiters.load(Ordering::SeqCst) != 0 {
            let _guard = cell.lock.lock().unwrap_or_else(|e| e.into_inner());
            cell.freed.notify_all();
        }
    }
}

/// The error of a write to a closed writer: a `ValueError`, as for a write to a closed file.
pub fn stopped(class_name: &str) -> PyErr {
    pyo3::exceptions::PyValueError::new_err(format!(
        "I/O operation on a stopped {class_name}: stop() was called, or the writer was closed \
         at interpreter exit"
    ))
}

/// Runs `close` for a writer being dropped without having been closed (no `stop()`): the
/// buffered data goes to the file. An error is reported as unraisable (as a file object's
/// finaliser reports one); an exception being raised meanwhile is kept.
pub fn close_on_drop(class_name: &str, close: impl FnOnce(Python<'_>) -> PyResult<()>) {
    // Objects are dropped with the GIL held, so this only takes the token.
    Python::attach(|py| {
        let pending = PyErr::take(py);
        if let Err(e) = close(py) {
            let err = PyRuntimeError::new_err(format!(
                "{class_name} dropped without stop(): its buffered data could not be written"
            ));
            err.set_cause(py, Some(e));
            err.write_unraisable(py, None);
        }
        if let Some(p) = pending {
            p.restore(py);
        }
    });
}
