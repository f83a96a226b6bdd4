//! `can._core.MessageBase`: the native base type of `can.Message`.
//!
//! Design (docs/architecture.rst, measured in shared/notes/message-crossing.md): a heap type made
//! with `PyType_FromSpec` (stable ABI) whose fields are plain object slots (`Py_T_OBJECT_EX`
//! members) at offsets fixed at compile time, plus a weakref slot. `can.Message` is a Python
//! subclass with `__slots__ = ()` that adds the Python-level methods. Rust code builds messages
//! by allocating through the type's `tp_alloc` and storing each field reference directly, so no
//! Python `__init__` runs per frame; attribute reads are ordinary slot reads.
//!
//! The type behaves as a `__slots__` class does: attributes can be reassigned to any object and
//! deleted (reading a deleted one raises AttributeError), unknown attributes cannot be set,
//! instances take part in cycle collection and support weak references.

use std::ffi::{c_int, c_void, CStr};
use std::panic::AssertUnwindSafe;
use std::ptr;

use pyo3::exceptions::{PySystemError, PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyByteArray, PyBytes, PyFloat, PyInt, PyString, PyTuple, PyType};

/// Field slots in storage order. `FIELD_NAMES[i]` is stored at `MessageObject::slots[i]`.
pub const FIELD_NAMES: [&CStr; NFIELDS] = [
    c"timestamp",
    c"arbitration_id",
    c"is_extended_id",
    c"is_remote_frame",
    c"is_error_frame",
    c"channel",
    c"dlc",
    c"data",
    c"is_fd",
    c"is_rx",
    c"bitrate_switch",
    c"error_state_indicator",
];
pub const NFIELDS: usize = 12;

pub const TIMESTAMP: usize = 0;
pub const ARBITRATION_ID: usize = 1;
pub const IS_EXTENDED_ID: usize = 2;
pub const IS_REMOTE_FRAME: usize = 3;
pub const IS_ERROR_FRAME: usize = 4;
pub const CHANNEL: usize = 5;
pub const DLC: usize = 6;
pub const DATA: usize = 7;
pub const IS_FD: usize = 8;
pub const IS_RX: usize = 9;
pub const BITRATE_SWITCH: usize = 10;
pub const ERROR_STATE_INDICATOR: usize = 11;

/// Memory layout of a message instance (fixed; subclasses append their own slots after it).
#[repr(C)]
pub struct MessageObject {
    ob_base: ffi::PyObject,
    /// Owned references, or null for a deleted / not yet set attribute.
    slots: [*mut ffi::PyObject; NFIELDS],
    weakreflist: *mut ffi::PyObject,
}

/// The constructor's parameters in the positional order of the python-can 3.3.2 manual
/// (section 3.3), followed by python-can 4.x's keyword `is_rx`.
const PARAMS: [&str; 14] = [
    "timestamp",
    "arbitration_id",
    "is_extended_id",
    "is_remote_frame",
    "is_error_frame",
    "channel",
    "dlc",
    "data",
    "is_fd",
    "bitrate_switch",
    "error_state_indicator",
    "extended_id",
    "check",
    "is_rx",
];
const MAX_POSITIONAL: usize = 13;
const P_EXTENDED_ID: usize = 11;
const P_CHECK: usize = 12;

/// Storage slot of each constructor parameter that is a field (None for extended_id/check).
const PARAM_SLOT: [Option<usize>; 14] = [
    Some(TIMESTAMP),
    Some(ARBITRATION_ID),
    Some(IS_EXTENDED_ID),
    Some(IS_REMOTE_FRAME),
    Some(IS_ERROR_FRAME),
    Some(CHANNEL),
    Some(DLC),
    Some(DATA),
    Some(IS_FD),
    Some(BITRATE_SWITCH),
    Some(ERROR_STATE_INDICATOR),
    None,
    None,
    Some(IS_RX),
];

static MESSAGE_BASE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static PARAM_NAMES: PyOnceLock<Vec<Py<PyString>>> = PyOnceLock::new();

/// Index in `PARAMS` of a keyword argument name.
///
/// Keyword names at call sites are interned strings, so a pointer comparison with our interned
/// names finds them without decoding; other strings fall back to a full comparison.
fn param_index(py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<usize> {
    let names = PARAM_NAMES.get_or_init(py, || {
        PARAMS
            .iter()
            .map(|p| PyString::intern(py, p).unbind())
            .collect()
    });
    if let Some(i) = names.iter().position(|n| n.as_ptr() == key.as_ptr()) {
        return Ok(i);
    }
    let key = key
        .cast::<PyString>()
        .map_err(|_| PyTypeError::new_err("Message() keywords must be strings"))?;
    for (i, n) in names.iter().enumerate() {
        if PyAnyMethods::eq(key.as_any(), n.bind(py))? {
            return Ok(i);
        }
    }
    Err(PyTypeError::new_err(format!(
        "Message() got an unexpected keyword argument {}",
        repr_of(key)
    )))
}
static ZERO_FLOAT: PyOnceLock<Py<PyFloat>> = PyOnceLock::new();

/// The `MessageBase` type object (created when the module is imported).
pub fn base_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    MESSAGE_BASE
        .get(py)
        .map(|t| t.bind(py))
        .ok_or_else(|| PySystemError::new_err("can._core.MessageBase is not initialised"))
}

/// The first subclass of `MessageBase` whose instance `is_message` saw (in practice
/// `can.Message`), kept alive here so that its address identifies it for good.
static KNOWN_SUBCLASS: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Whether `obj` is an instance of `MessageBase` (so its slots may be read directly).
#[inline]
pub(crate) fn is_message(py: Python<'_>, obj: &Bound<'_, PyAny>) -> bool {
    // SAFETY: `obj` is a live object; only its type pointer is read.
    let tp = unsafe { ffi::Py_TYPE(obj.as_ptr()) };
    if KNOWN_SUBCLASS
        .get(py)
        .is_some_and(|k| k.as_ptr().cast() == tp)
    {
        return true;
    }
    let Some(base) = MESSAGE_BASE.get(py) else {
        return false;
    };
    // SAFETY: both pointers are valid objects; PyObject_TypeCheck only reads the type chain.
    let ok = unsafe { ffi::PyObject_TypeCheck(obj.as_ptr(), base.as_ptr().cast()) != 0 };
    if ok && tp != base.as_ptr().cast() {
        // A subclass: remembered (once) so that later checks skip PyType_IsSubtype.
        let _ = KNOWN_SUBCLASS.get_or_init(py, || obj.get_type().unbind());
    }
    ok
}

/// Borrowed reference to field `i` of a message, or None if the slot is empty.
fn field<'py>(msg: &Bound<'py, PyAny>, i: usize) -> Option<Bound<'py, PyAny>> {
    let m = msg.as_ptr().cast::<MessageObject>();
    // SAFETY: the caller checked `is_message(msg)`, so the object has our layout; the slot
    // holds an owned reference or null, and we take a new reference while holding the GIL.
    unsafe {
        let p = (*m).slots[i];
        if p.is_null() {
            None
        } else {
            Some(Bound::from_borrowed_ptr(msg.py(), p))
        }
    }
}

/// Reads a field of any message-like object: the slot for our type, getattr otherwise.
fn get_field<'py>(msg: &Bound<'py, PyAny>, i: usize, direct: bool) -> PyResult<Bound<'py, PyAny>> {
    if direct {
        field(msg, i).ok_or_else(|| {
            pyo3::exceptions::PyAttributeError::new_err(format!(
                "message has no attribute {:?} (it was deleted)",
                FIELD_NAMES[i]
            ))
        })
    } else {
        msg.getattr(FIELD_NAMES[i].to_str().unwrap_or_default())
    }
}

/// `(arbitration_id, is_extended_id)` of a message, for filter matching.
pub fn id_and_type(msg: &Bound<'_, PyAny>) -> PyResult<(u64, bool)> {
    let direct = is_message(msg.py(), msg);
    let id = get_field(msg, ARBITRATION_ID, direct)?;
    let id = id.extract::<u64>().map_err(|_| {
        PyValueError::new_err(format!(
            "cannot filter a message whose arbitration_id is {}",
            id.repr().map(|r| r.to_string()).unwrap_or_default()
        ))
    })?;
    let ext = get_field(msg, IS_EXTENDED_ID, direct)?.is_truthy()?;
    Ok((id, ext))
}

// ---------------------------------------------------------------------------------------------
// Type slots
// ---------------------------------------------------------------------------------------------

/// Drops every field reference (`tp_clear`, also used by dealloc).
///
/// # Safety
/// `obj` must point to a live object with the `MessageObject` layout, GIL held.
#[inline(always)]
unsafe fn clear_slots(obj: *mut ffi::PyObject) {
    let m = obj.cast::<MessageObject>();
    // SAFETY: Py_True / Py_False return borrowed pointers to the bool singletons.
    let (yes, no) = unsafe { (ffi::Py_True(), ffi::Py_False()) };
    // The bools (half the fields, as a rule) are released together at the end: they never
    // die, and one update of each counter is cheaper than a chain of dependent ones.
    let (mut n_yes, mut n_no) = (0u32, 0u32);
    for i in 0..NFIELDS {
        // SAFETY: per the function contract the layout is ours; we null the slot before the
        // decref so that a destructor running during the decref never sees a dangling pointer.
        unsafe {
            let p = (*m).slots[i];
            if !p.is_null() {
                (*m).slots[i] = ptr::null_mut();
                let (is_yes, is_no) = (p == yes, p == no);
                n_yes += u32::from(is_yes);
                n_no += u32::from(is_no);
                if !(is_yes || is_no) {
                    decref(p);
                }
            }
        }
    }
    // SAFETY: the references to the singletons the slots held, given up here.
    unsafe {
        if n_yes > 0 {
            decref_n(yes, n_yes);
        }
        if n_no > 0 {
            decref_n(no, n_no);
        }
    }
}

unsafe extern "C" fn message_clear(obj: *mut ffi::PyObject) -> c_int {
    // SAFETY: called by CPython with an instance of our type (or a subclass) and the GIL held.
    unsafe { clear_slots(obj) };
    0
}

unsafe extern "C" fn message_traverse(
    obj: *mut ffi::PyObject,
    visit: ffi::visitproc,
    arg: *mut c_void,
) -> c_int {
    let m = obj.cast::<MessageObject>();
    // SAFETY: called by the cycle collector with an instance of our layout; we only read slots
    // and pass non-null ones to `visit`, as tp_traverse requires. A heap type's instances
    // reference their type, so the type is visited too (required since Python 3.9).
    unsafe {
        for i in 0..NFIELDS {
            let p = (*m).slots[i];
            if !p.is_null() {
                let r = visit(p, arg);
                if r != 0 {
                    return r;
                }
            }
        }
        visit(ffi::Py_TYPE(obj).cast(), arg)
    }
}

unsafe extern "C" fn message_dealloc(obj: *mut ffi::PyObject) {
    // SAFETY: called once by CPython when the refcount reaches zero, GIL held. We untrack the
    // object from the GC before tearing it down, clear weak references, drop the fields, free
    // the memory with the type's tp_free and release the instance's reference to its heap type
    // (subtype_dealloc leaves that to the first heap-type base, which is us).
    unsafe {
        let tp = ffi::Py_TYPE(obj);
        ffi::PyObject_GC_UnTrack(obj.cast());
        let m = obj.cast::<MessageObject>();
        if !(*m).weakreflist.is_null() {
            ffi::PyObject_ClearWeakRefs(obj);
        }
        clear_slots(obj);
        let free = ffi::PyType_GetSlot(tp, ffi::Py_tp_free);
        if free.is_null() {
            ffi::PyObject_GC_Del(obj.cast());
        } else {
            let free: ffi::freefunc = std::mem::transmute(free);
            free(obj.cast());
        }
        decref(tp.cast());
    }
}

unsafe extern "C" fn message_init(
    obj: *mut ffi::PyObject,
    args: *mut ffi::PyObject,
    kwargs: *mut ffi::PyObject,
) -> c_int {
    // SAFETY: CPython calls tp_init with the GIL held.
    let py = unsafe { Python::assume_attached() };
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `obj` is an instance of our layout, `args` a tuple, `kwargs` a dict or null;
        // all are valid for the duration of this call.
        unsafe {
            let obj = Bound::from_borrowed_ptr(py, obj);
            let args = Bound::from_borrowed_ptr(py, args);
            let kwargs = Bound::from_borrowed_ptr_or_opt(py, kwargs);
            init_impl(py, &obj, args.cast_unchecked::<PyTuple>(), kwargs.as_ref())
        }
    }));
    match result {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => {
            e.restore(py);
            -1
        }
        Err(_) => {
            PySystemError::new_err("internal error (panic) in can.Message.__init__").restore(py);
            -1
        }
    }
}

unsafe extern "C" fn message_str(obj: *mut ffi::PyObject) -> *mut ffi::PyObject {
    // SAFETY: CPython calls tp_str with the GIL held and a valid instance of our layout.
    let py = unsafe { Python::assume_attached() };
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: see above; the borrowed reference lives for this call.
        let obj = unsafe { Bound::from_borrowed_ptr(py, obj) };
        format_message(&obj)
    }));
    match result {
        Ok(Ok(s)) => pyo3::types::PyString::new(py, &s).into_ptr(),
        Ok(Err(e)) => {
            e.restore(py);
            ptr::null_mut()
        }
        Err(_) => {
            PySystemError::new_err("internal error (panic) in can.Message.__str__").restore(py);
            ptr::null_mut()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// __init__
// ---------------------------------------------------------------------------------------------

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_owned())
}

fn repr_of(obj: &Bound<'_, PyAny>) -> String {
    obj.repr()
        .map(|r| r.to_string())
        .unwrap_or_else(|_| "?".to_owned())
}

/// Owned references to the fields being built; released on drop unless handed over.
struct OwnedFields([*mut ffi::PyObject; NFIELDS]);

impl Drop for OwnedFields {
    fn drop(&mut self) {
        for p in self.0 {
            // SAFETY: every non-null entry is an owned reference created while the GIL is
            // held, and OwnedFields never leaves the tp_init call that holds it.
            unsafe { ffi::Py_XDECREF(p) };
        }
    }
}

/// A new reference to `p`.
///
/// # Safety
/// `p` must be a valid object pointer and the GIL held.
unsafe fn new_ref(p: *mut ffi::PyObject) -> *mut ffi::PyObject {
    // SAFETY: per the function contract.
    unsafe { ffi::Py_INCREF(p) };
    p
}

/// `p` is null ("not given") or None.
///
/// # Safety
/// `p` must be null or a valid object pointer.
unsafe fn absent(p: *mut ffi::PyObject) -> bool {
    // SAFETY: Py_None only returns the address of the None singleton.
    p.is_null() || p == unsafe { ffi::Py_None() }
}

/// `Message.__init__`, working on borrowed pointers so that the common call costs little more
/// than the stores: no wrapper objects, no reference count traffic for arguments not given.
fn init_impl(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    args: &Bound<'_, PyTuple>,
    kwargs: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    // Borrowed references to the arguments, indexed like PARAMS; null where not given. The
    // args tuple and kwargs dict keep them alive for the whole call.
    let mut given: [*mut ffi::PyObject; 14] = [ptr::null_mut(); 14];
    let nargs = args.len();
    if nargs > MAX_POSITIONAL {
        return Err(PyTypeError::new_err(format!(
            "Message() takes at most {MAX_POSITIONAL} positional arguments ({nargs} given)"
        )));
    }
    for (i, slot) in given.iter_mut().enumerate().take(nargs) {
        // SAFETY: `args` is a tuple with more than `i` items; the item is borrowed.
        *slot = unsafe { ffi::PyTuple_GetItem(args.as_ptr(), i as ffi::Py_ssize_t) };
    }
    if let Some(kwargs) = kwargs {
        let mut pos: ffi::Py_ssize_t = 0;
        let mut key: *mut ffi::PyObject = ptr::null_mut();
        let mut value: *mut ffi::PyObject = ptr::null_mut();
        // SAFETY: CPython passes a dict as tp_init's kwargs; PyDict_Next yields borrowed
        // pointers and nothing in the loop body mutates the dict.
        while unsafe { ffi::PyDict_Next(kwargs.as_ptr(), &mut pos, &mut key, &mut value) } != 0 {
            // SAFETY: `key` is a valid borrowed pointer from the dict.
            let idx = param_index(py, unsafe { &Bound::from_borrowed_ptr(py, key) })?;
            if !given[idx].is_null() {
                return Err(PyTypeError::new_err(format!(
                    "Message() got multiple values for argument '{}'",
                    PARAMS[idx]
                )));
            }
            given[idx] = value;
        }
    }

    let mut fields = OwnedFields([ptr::null_mut(); NFIELDS]);
    for (p, slot) in PARAM_SLOT.iter().enumerate() {
        if let Some(slot) = slot {
            if !given[p].is_null() {
                // SAFETY: a valid borrowed argument; we take our own reference.
                fields.0[*slot] = unsafe { new_ref(given[p]) };
            }
        }
    }

    // is_extended_id: None means "not given"; the deprecated extended_id fills in for it.
    let extended_id = given[P_EXTENDED_ID];
    // SAFETY: null or a valid borrowed argument.
    if !unsafe { absent(extended_id) } {
        PyErr::warn(
            py,
            &py.get_type::<pyo3::exceptions::PyDeprecationWarning>(),
            c"The extended_id parameter is deprecated, use is_extended_id instead",
            2,
        )?;
    }
    // SAFETY: the pointers are null or valid; Py_True, Py_None and our cached zero float are
    // immortal or kept alive by their owners, and each stored one gets its own reference.
    unsafe {
        if absent(fields.0[IS_EXTENDED_ID]) {
            let value = if absent(extended_id) {
                ffi::Py_True()
            } else {
                extended_id
            };
            ffi::Py_XDECREF(fields.0[IS_EXTENDED_ID]);
            fields.0[IS_EXTENDED_ID] = new_ref(value);
        }

        // A remote frame carries no data: whatever was given is dropped, as python-can 3.3.2
        // and 4.x do (its dlc, if not given, is then 0). The common call gives no
        // is_remote_frame or False, which costs one comparison here.
        let remote = fields.0[IS_REMOTE_FRAME];
        if !remote.is_null()
            && remote != ffi::Py_False()
            && Bound::from_borrowed_ptr(py, remote).is_truthy()?
            && !absent(fields.0[DATA])
        {
            ffi::Py_XDECREF(fields.0[DATA]);
            fields.0[DATA] = ptr::null_mut();
        }

        let data = fields.0[DATA];
        if absent(data) {
            ffi::Py_XDECREF(data);
            fields.0[DATA] = ptr::null_mut();
            let empty = ffi::PyByteArray_FromStringAndSize(ptr::null(), 0);
            fields.0[DATA] = Bound::from_owned_ptr_or_err(py, empty)?.into_ptr();
        } else if ffi::PyByteArray_CheckExact(data) == 0 {
            let converted = to_bytearray(py, &Bound::from_borrowed_ptr(py, data))?;
            fields.0[DATA] = converted.into_ptr();
            ffi::Py_DECREF(data);
        }
        if absent(fields.0[DLC]) {
            let len = ffi::PyObject_Size(fields.0[DATA]);
            if len < 0 {
                return Err(PyErr::fetch(py));
            }
            ffi::Py_XDECREF(fields.0[DLC]);
            fields.0[DLC] = ptr::null_mut();
            fields.0[DLC] =
                Bound::from_owned_ptr_or_err(py, ffi::PyLong_FromSsize_t(len))?.into_ptr();
        }

        let zero = ZERO_FLOAT.get_or_init(py, || PyFloat::new(py, 0.0).unbind());
        for (i, f) in fields.0.iter_mut().enumerate() {
            if f.is_null() {
                *f = new_ref(match i {
                    TIMESTAMP => zero.as_ptr(),
                    ARBITRATION_ID => {
                        *f = Bound::from_owned_ptr_or_err(py, ffi::PyLong_FromLong(0))?.into_ptr();
                        continue;
                    }
                    IS_RX => ffi::Py_True(),
                    CHANNEL => ffi::Py_None(),
                    _ => ffi::Py_False(),
                });
            }
        }
    }

    let check = given[P_CHECK];
    // SAFETY: null or a valid borrowed argument.
    if !check.is_null() && unsafe { Bound::from_borrowed_ptr(py, check) }.is_truthy()? {
        // SAFETY: every field is now a valid owned reference; the Bound copies take their own.
        let bound: [Bound<'_, PyAny>; NFIELDS] =
            std::array::from_fn(|i| unsafe { Bound::from_borrowed_ptr(py, fields.0[i]) });
        validate(py, &bound)?;
    }

    let m = obj.as_ptr().cast::<MessageObject>();
    let owned = std::mem::replace(&mut fields.0, [ptr::null_mut(); NFIELDS]);
    for (i, f) in owned.into_iter().enumerate() {
        // SAFETY: `obj` has our layout (this is its tp_init); each slot takes over an owned
        // reference and the previous value (re-initialisation) is released after the store.
        unsafe {
            let old = (*m).slots[i];
            (*m).slots[i] = f;
            ffi::Py_XDECREF(old);
        }
    }
    Ok(())
}

/// `bytearray(d)` with fast paths for bytes and lists/tuples of small ints.
fn to_bytearray<'py>(py: Python<'py>, d: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    if let Ok(b) = d.cast::<PyBytes>() {
        return Ok(PyByteArray::new(py, b.as_bytes()).into_any());
    }
    if let Some(made) = small_int_sequence(py, d) {
        return Ok(made);
    }
    // The C constructor behind bytearray(d), called directly: no argument tuple, no lookup.
    // SAFETY: `d` is a valid object and we hold the GIL; PyByteArray_FromObject returns a new
    // reference, or null with an exception set, which from_owned_ptr_or_err turns into an Err.
    let made = unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyByteArray_FromObject(d.as_ptr())) };
    made.map_err(|e| {
        let text = format!(
            "Message data must be bytes, a bytearray or an iterable of ints in 0..=255, \
             got {} ({})",
            repr_of(d),
            e.value(py)
        );
        // A wrong type stays a TypeError, a byte out of range a ValueError.
        let err = if e.is_instance_of::<PyTypeError>(py) {
            PyTypeError::new_err(text)
        } else if e.is_instance_of::<PyValueError>(py) {
            PyValueError::new_err(text)
        } else {
            return e;
        };
        err.set_cause(py, Some(e));
        err
    })
}

/// `bytearray(d)` for the common `data=[1, 2, 3]`: an exact list or tuple of at most 64 exact
/// ints in 0..=255. `None` for anything else, which the general path handles (and reports).
fn small_int_sequence<'py>(py: Python<'py>, d: &Bound<'py, PyAny>) -> Option<Bound<'py, PyAny>> {
    let p = d.as_ptr();
    let mut buf = [0u8; 64];
    // SAFETY: we hold the GIL and `p` is a valid object. The item pointers are borrowed from
    // the list or tuple, which `d` keeps alive; nothing below runs Python code (the items are
    // exact ints, whose conversion cannot call back into Python), so the sequence cannot change
    // while we read it. A conversion error is cleared because the general path reports it.
    unsafe {
        let is_list = ffi::PyList_CheckExact(p) != 0;
        if !is_list && ffi::PyTuple_CheckExact(p) == 0 {
            return None;
        }
        let n = if is_list {
            ffi::PyList_Size(p)
        } else {
            ffi::PyTuple_Size(p)
        };
        let n = usize::try_from(n).ok().filter(|&n| n <= buf.len())?;
        for (i, slot) in buf.iter_mut().enumerate().take(n) {
            let item = if is_list {
                ffi::PyList_GetItem(p, i as ffi::Py_ssize_t)
            } else {
                ffi::PyTuple_GetItem(p, i as ffi::Py_ssize_t)
            };
            if item.is_null() || ffi::PyLong_CheckExact(item) == 0 {
                ffi::PyErr_Clear();
                return None;
            }
            let v = ffi::PyLong_AsLong(item);
            if v == -1 && !ffi::PyErr_Occurred().is_null() {
                ffi::PyErr_Clear();
                return None;
            }
            *slot = u8::try_from(v).ok()?;
        }
        Some(PyByteArray::new(py, &buf[..n]).into_any())
    }
}

/// Replaces every field of `obj` (our layout) with the given references.
fn store_fields(obj: &Bound<'_, PyAny>, fields: [Bound<'_, PyAny>; NFIELDS]) {
    let m = obj.as_ptr().cast::<MessageObject>();
    for (i, f) in fields.into_iter().enumerate() {
        // SAFETY: `obj` has our layout (it came through our tp_init or a type check); we move
        // an owned reference into the slot and release the old one after the store.
        unsafe {
            let old = (*m).slots[i];
            (*m).slots[i] = f.into_ptr();
            if !old.is_null() {
                ffi::Py_DECREF(old);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Validation (check=True and Message._check())
// ---------------------------------------------------------------------------------------------

fn int_field(f: &Bound<'_, PyAny>, what: &str) -> PyResult<i128> {
    if !f.is_instance_of::<PyInt>() {
        return Err(PyValueError::new_err(format!(
            "{what} must be an int, got {} ({})",
            repr_of(f),
            type_name(f)
        )));
    }
    // Python ints are unbounded; anything outside i128 is certainly out of range.
    Ok(f.extract::<i128>().unwrap_or(i128::MAX))
}

fn validate(py: Python<'_>, f: &[Bound<'_, PyAny>; NFIELDS]) -> PyResult<()> {
    let err = |msg: String| Err(PyValueError::new_err(msg));
    let ts = &f[TIMESTAMP];
    let ts_val = ts.extract::<f64>().map_err(|_| {
        PyValueError::new_err(format!(
            "timestamp must be a number, got {} ({})",
            repr_of(ts),
            type_name(ts)
        ))
    })?;
    if ts_val.is_nan() || ts_val.is_infinite() {
        return err(format!("timestamp must be a finite number, got {ts_val}"));
    }
    if ts_val < 0.0 {
        return err(format!("timestamp may not be negative, got {ts_val}"));
    }

    let remote = f[IS_REMOTE_FRAME].is_truthy()?;
    let error = f[IS_ERROR_FRAME].is_truthy()?;
    let is_fd = f[IS_FD].is_truthy()?;
    let extended = f[IS_EXTENDED_ID].is_truthy()?;
    if remote && error {
        return err(
            "a message cannot be a remote frame and an error frame at the same time".to_owned(),
        );
    }
    if remote && is_fd {
        return err("CAN FD frames cannot be remote frames".to_owned());
    }

    let id = int_field(&f[ARBITRATION_ID], "arbitration_id")?;
    if id < 0 {
        return err(format!("arbitration_id may not be negative, got {id}"));
    }
    if extended && id > 0x1FFF_FFFF {
        return err(format!(
            "arbitration_id 0x{id:X} does not fit an extended (29-bit) id: the maximum is 0x1FFFFFFF"
        ));
    }
    if !extended && id > 0x7FF {
        return err(format!(
            "arbitration_id 0x{id:X} does not fit a standard (11-bit) id: the maximum is 0x7FF \
             (set is_extended_id=True for 29-bit ids)"
        ));
    }

    let dlc = int_field(&f[DLC], "dlc")?;
    if dlc < 0 {
        return err(format!("dlc may not be negative, got {dlc}"));
    }
    let data = &f[DATA];
    let data_len = data.len()? as i128;
    if is_fd {
        if dlc > 64 {
            return err(format!(
                "dlc is {dlc}, but a CAN FD frame carries at most 64 bytes"
            ));
        }
        // Any length up to 64 passes, as in python-can 3.3.2 and 4.x: the controller pads a
        // 10-byte frame to the next CAN FD size (12) on the bus.
    } else {
        if dlc > 8 {
            return err(format!(
                "dlc is {dlc}, but a classic CAN frame carries at most 8 bytes (set is_fd=True for CAN FD)"
            ));
        }
        if f[BITRATE_SWITCH].is_truthy()? {
            return err("bitrate_switch is only valid for CAN FD frames (is_fd=True)".to_owned());
        }
        if f[ERROR_STATE_INDICATOR].is_truthy()? {
            return err(
                "error_state_indicator is only valid for CAN FD frames (is_fd=True)".to_owned(),
            );
        }
    }
    if remote {
        if data_len != 0 {
            return err(format!(
                "a remote frame carries no data, but {data_len} data bytes were given"
            ));
        }
    } else if dlc != data_len {
        return err(format!(
            "dlc is {dlc} but the data is {data_len} bytes long: they must match for data frames"
        ));
    }
    let _ = py;
    Ok(())
}

/// `Message._check()`: validates a message's current fields, raising ValueError.
#[pyfunction]
fn check_message(msg: &Bound<'_, PyAny>) -> PyResult<()> {
    let direct = is_message(msg.py(), msg);
    let mut fields = Vec::with_capacity(NFIELDS);
    for i in 0..NFIELDS {
        fields.push(get_field(msg, i, direct)?);
    }
    let fields: [Bound<'_, PyAny>; NFIELDS] = fields
        .try_into()
        .map_err(|_| PySystemError::new_err("field count mismatch"))?;
    validate(msg.py(), &fields)
}

// ---------------------------------------------------------------------------------------------
// __str__: the python-can 3.3.2 printed format (shared/DESIGN.md, "Printed formats")
// ---------------------------------------------------------------------------------------------

/// `format(obj, spec)` through Python, for values outside the fast paths.
fn py_format(obj: &Bound<'_, PyAny>, spec: &str) -> PyResult<String> {
    obj.call_method1(pyo3::intern!(obj.py(), "__format__"), (spec,))?
        .extract::<String>()
}

fn format_timestamp(ts: &Bound<'_, PyAny>) -> PyResult<String> {
    let value = if ts.is_exact_instance_of::<PyFloat>() {
        ts.extract::<f64>().ok()
    } else if ts.is_exact_instance_of::<PyInt>() {
        ts.extract::<i64>().ok().map(|v| v as f64)
    } else {
        None
    };
    match value.and_then(crate::fmt::fixed6) {
        Some(s) => Ok(format!("{s:>15}")),
        None => py_format(ts, ">15.6f"),
    }
}

fn format_message(msg: &Bound<'_, PyAny>) -> PyResult<String> {
    use std::fmt::Write;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let get = |i| get_field(msg, i, true);
    let truthy = |i| -> PyResult<bool> { get(i)?.is_truthy() };
    let mut out = String::with_capacity(128);

    out.push_str("Timestamp: ");
    out.push_str(&format_timestamp(&get(TIMESTAMP)?)?);

    let extended = truthy(IS_EXTENDED_ID)?;
    let id = get(ARBITRATION_ID)?;
    // "ID: " and 4 or 8 hex digits, the whole right-justified to 12 characters.
    let digits = match id.extract::<u64>() {
        Ok(v) if extended => format!("{v:08x}"),
        Ok(v) => format!("{v:04x}"),
        Err(_) => py_format(&id, if extended { "08x" } else { "04x" })?,
    };
    let _ = write!(out, "    {:>12}    ", format!("ID: {digits}"));

    out.push_str(if extended { "X" } else { "S" });
    out.push_str(if truthy(IS_ERROR_FRAME)? { " E" } else { "  " });
    out.push_str(if truthy(IS_REMOTE_FRAME)? { " R" } else { "  " });
    out.push_str(if truthy(IS_FD)? { " F" } else { "  " });
    out.push_str(if truthy(BITRATE_SWITCH)? {
        " BS"
    } else {
        "   "
    });
    out.push_str(if truthy(ERROR_STATE_INDICATOR)? {
        " EI"
    } else {
        "   "
    });

    let dlc_obj = get(DLC)?;
    let dlc = dlc_obj.extract::<i64>();
    match &dlc {
        Ok(d) => {
            let _ = write!(out, "    DLC: {d:>2}    ");
        }
        Err(_) => {
            let _ = write!(out, "    DLC: {}    ", py_format(&dlc_obj, ">2")?);
        }
    }

    let data_obj = get(DATA)?;
    let data: Vec<u8> = if let Ok(b) = data_obj.cast::<PyByteArray>() {
        b.to_vec()
    } else if let Ok(b) = data_obj.cast::<PyBytes>() {
        b.as_bytes().to_vec()
    } else {
        py_bytes(&data_obj)?
    };
    // The bytes shown are data[:min(dlc, len(data))], with Python's slice semantics.
    let len = data.len() as i64;
    let shown = match dlc {
        Ok(d) if d >= 0 => d.min(len),
        Ok(d) => (len + d).max(0),
        Err(_) => len,
    } as usize;
    let start = out.len();
    for (k, b) in data[..shown].iter().enumerate() {
        if k > 0 {
            out.push(' ');
        }
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 0xF) as usize] as char);
    }
    // Left-justified to 24 characters (24 spaces when nothing is shown).
    let width = out.len() - start;
    if width < 24 {
        out.extend(std::iter::repeat_n(' ', 24 - width));
    }
    if !data.is_empty() && data.iter().all(|b| b.is_ascii_alphanumeric()) {
        out.push_str("    '");
        // Every byte is an ASCII letter or digit, so this is exact.
        out.extend(data.iter().map(|&b| b as char));
        out.push('\'');
    }
    let channel = get(CHANNEL)?;
    if !channel.is_none() {
        out.push_str("    Channel: ");
        out.push_str(&channel.str()?.to_string_lossy());
    }
    // Python's str.strip(): Unicode white space plus the separators U+001C..U+001F.
    let trimmed = out.trim_matches(|c: char| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c));
    if trimmed.len() != out.len() {
        out = trimmed.to_owned();
    }
    Ok(out)
}

/// `bytes(obj)` through Python, for data that is neither bytes nor a bytearray.
fn py_bytes(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    obj.py()
        .get_type::<PyBytes>()
        .call1((obj,))?
        .cast_into::<PyBytes>()
        .map(|b| b.as_bytes().to_vec())
        .map_err(PyErr::from)
}

// ---------------------------------------------------------------------------------------------
// Construction from Rust and copying
// ---------------------------------------------------------------------------------------------

/// Allocates an instance of `cls` (which must be `MessageBase` or a subclass) and stores the
/// given fields without running `__init__`.
pub fn new_message<'py>(
    cls: &Bound<'py, PyType>,
    fields: [Bound<'py, PyAny>; NFIELDS],
) -> PyResult<Bound<'py, PyAny>> {
    let py = cls.py();
    let base = base_type(py)?;
    if !cls.is_subclass(base)? {
        return Err(PyTypeError::new_err(format!(
            "{} is not a subclass of can._core.MessageBase",
            repr_of(cls)
        )));
    }
    // SAFETY: `cls` is a subtype of our base, so its tp_alloc makes a zero-filled instance
    // with our layout at the start. Every field object already exists, so no allocation (and
    // so no GC pass) happens between the allocation and the stores.
    unsafe {
        let tp = cls.as_ptr().cast::<ffi::PyTypeObject>();
        let alloc = ffi::PyType_GetSlot(tp, ffi::Py_tp_alloc);
        let alloc: ffi::allocfunc = if alloc.is_null() {
            ffi::PyType_GenericAlloc
        } else {
            std::mem::transmute::<*mut c_void, ffi::allocfunc>(alloc)
        };
        let obj = alloc(tp, 0);
        let obj = Bound::from_owned_ptr_or_err(py, obj)?;
        store_fields(&obj, fields);
        Ok(obj)
    }
}

/// A copy of `msg` of the same class, with its own copy of `data` (a bytearray; an empty one
/// for `None`); other field objects are shared. For the bus and copy.copy()/deepcopy() of plain messages.
#[pyfunction]
fn copy_message<'py>(msg: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = msg.py();
    if !is_message(py, msg) {
        return Err(PyTypeError::new_err(format!(
            "expected a can.Message, got {}",
            type_name(msg)
        )));
    }
    let mut fields: Vec<Bound<'py, PyAny>> = Vec::with_capacity(NFIELDS);
    for i in 0..NFIELDS {
        fields.push(get_field(msg, i, true)?);
    }
    let data = &fields[DATA];
    if let Ok(b) = data.cast::<PyByteArray>() {
        fields[DATA] = PyByteArray::new(py, &b.to_vec()).into_any();
    } else if data.is_none() {
        // `msg.data = None` is accepted; its copy has no data bytes (as python-can's).
        fields[DATA] = PyByteArray::new(py, &[]).into_any();
    } else if !data.is_instance_of::<PyBytes>() {
        fields[DATA] = py.get_type::<PyByteArray>().call1((data,))?;
    }
    let fields: [Bound<'py, PyAny>; NFIELDS] = fields
        .try_into()
        .map_err(|_| PySystemError::new_err("field count mismatch"))?;
    new_message(&msg.get_type(), fields)
}

/// `cls._from_fields(*fields)`: build a message without `__init__`, fields in storage order.
#[pyfunction]
fn new_message_from_fields<'py>(
    cls: &Bound<'py, PyType>,
    fields: &Bound<'py, PyTuple>,
) -> PyResult<Bound<'py, PyAny>> {
    if fields.len() != NFIELDS {
        return Err(PyTypeError::new_err(format!(
            "expected {NFIELDS} fields, got {}",
            fields.len()
        )));
    }
    let fields: [Bound<'py, PyAny>; NFIELDS] = std::array::from_fn(|i| {
        fields
            .get_item(i)
            .unwrap_or_else(|_| cls.py().None().into_bound(cls.py()))
    });
    new_message(cls, fields)
}

// ---------------------------------------------------------------------------------------------
// Type creation
// ---------------------------------------------------------------------------------------------

fn create_type(py: Python<'_>) -> PyResult<Py<PyType>> {
    let slot_size = std::mem::size_of::<*mut ffi::PyObject>() as ffi::Py_ssize_t;
    let slots_offset = std::mem::offset_of!(MessageObject, slots) as ffi::Py_ssize_t;
    let mut members: Vec<ffi::PyMemberDef> = FIELD_NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| ffi::PyMemberDef {
            name: name.as_ptr(),
            type_code: ffi::Py_T_OBJECT_EX,
            offset: slots_offset + i as ffi::Py_ssize_t * slot_size,
            flags: 0,
            doc: ptr::null(),
        })
        .collect();
    members.push(ffi::PyMemberDef {
        name: c"__weaklistoffset__".as_ptr(),
        type_code: ffi::Py_T_PYSSIZET,
        offset: std::mem::offset_of!(MessageObject, weakreflist) as ffi::Py_ssize_t,
        flags: ffi::Py_READONLY,
        doc: ptr::null(),
    });
    members.push(ffi::PyMemberDef {
        name: ptr::null(),
        type_code: 0,
        offset: 0,
        flags: 0,
        doc: ptr::null(),
    });
    // The type keeps pointers into the member table and the spec for its whole life (the
    // interpreter's), so both are leaked on purpose; this runs once per process.
    let members = Box::leak(members.into_boxed_slice());

    let mut slots = vec![
        ffi::PyType_Slot {
            slot: ffi::Py_tp_doc,
            // The first line is the constructor's signature, which inspect.signature() reads.
            pfunc: c"MessageBase(timestamp=0.0, arbitration_id=0, is_extended_id=None, \
                is_remote_frame=False, is_error_frame=False, channel=None, dlc=None, data=None, \
                is_fd=False, bitrate_switch=False, error_state_indicator=False, extended_id=None, \
                check=False, *, is_rx=True)\n--\n\n\
                Native base of can.Message: the message fields as object slots."
                .as_ptr() as *mut c_void,
        },
        ffi::PyType_Slot {
            slot: ffi::Py_tp_new,
            pfunc: ffi::PyType_GenericNew as *mut c_void,
        },
        ffi::PyType_Slot {
            slot: ffi::Py_tp_init,
            pfunc: message_init as *mut c_void,
        },
        ffi::PyType_Slot {
            slot: ffi::Py_tp_dealloc,
            pfunc: message_dealloc as *mut c_void,
        },
        ffi::PyType_Slot {
            slot: ffi::Py_tp_traverse,
            pfunc: message_traverse as *mut c_void,
        },
        ffi::PyType_Slot {
            slot: ffi::Py_tp_clear,
            pfunc: message_clear as *mut c_void,
        },
        ffi::PyType_Slot {
            slot: ffi::Py_tp_str,
            pfunc: message_str as *mut c_void,
        },
        ffi::PyType_Slot {
            slot: ffi::Py_tp_members,
            pfunc: members.as_mut_ptr() as *mut c_void,
        },
        ffi::PyType_Slot {
            slot: 0,
            pfunc: ptr::null_mut(),
        },
    ];
    let slots = Box::leak(std::mem::take(&mut slots).into_boxed_slice());
    let spec = Box::leak(Box::new(ffi::PyType_Spec {
        name: c"can._core.MessageBase".as_ptr(),
        basicsize: std::mem::size_of::<MessageObject>() as c_int,
        itemsize: 0,
        flags: (ffi::Py_TPFLAGS_DEFAULT | ffi::Py_TPFLAGS_BASETYPE | ffi::Py_TPFLAGS_HAVE_GC) as _,
        slots: slots.as_mut_ptr(),
    }));
    // SAFETY: the spec, its slots and members are 'static (leaked above) and well formed: every
    // member offset lies inside `basicsize`, the slot functions have the signatures CPython
    // expects for their slot ids, and the tables are terminated by zeroed entries.
    let tp = unsafe { ffi::PyType_FromSpec(spec) };
    // SAFETY: PyType_FromSpec returns a new reference to a type object or null with an error.
    let tp = unsafe { Bound::from_owned_ptr_or_err(py, tp)? };
    Ok(tp.cast_into::<PyType>()?.unbind())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let tp = MESSAGE_BASE.get_or_try_init(py, || create_type(py))?;
    m.add("MessageBase", tp.bind(py))?;
    m.add(
        "MESSAGE_FIELDS",
        PyTuple::new(
            py,
            FIELD_NAMES.iter().map(|n| n.to_str().unwrap_or_default()),
        )?,
    )?;
    m.add_function(wrap_pyfunction!(check_message, m)?)?;
    m.add_function(wrap_pyfunction!(copy_message, m)?)?;
    m.add_function(wrap_pyfunction!(new_message_from_fields, m)?)?;
    init_small_ints(py);
    // SAFETY: Py_GetVersion returns a static NUL-terminated string ("3.11.7 (main, ...").
    let version = unsafe { CStr::from_ptr(ffi::Py_GetVersion()) }.to_bytes();
    let minor = version.strip_prefix(b"3.").map(|v| {
        v.iter()
            .take_while(|c| c.is_ascii_digit())
            .fold(0u32, |n, &c| n * 10 + u32::from(c - b'0'))
    });
    INLINE_REFCOUNT.store(
        minor.is_some_and(|m| m < 12),
        std::sync::atomic::Ordering::Relaxed,
    );
    Ok(())
}

/// Whether reference counts may be changed in place, as the stable ABI's `Py_INCREF` /
/// `Py_DECREF` of CPython 3.9-3.11 do (`Include/object.h`: `op->ob_refcnt++`, and
/// `if (--op->ob_refcnt == 0) _Py_Dealloc(op)`), instead of through `Py_IncRef` /
/// `Py_DecRef` calls, which is all pyo3-ffi does under abi3. Set at import, for interpreters
/// before 3.12 only: from 3.12 on the count shares its word with immortality bits and flags,
/// and only the interpreter's own functions touch it.
static INLINE_REFCOUNT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `Py_INCREF` without a call on the interpreters where that is the stable ABI's own macro.
///
/// # Safety
/// `p` is a live object; the GIL is held.
#[inline(always)]
pub unsafe fn incref(p: *mut ffi::PyObject) {
    if INLINE_REFCOUNT.load(std::sync::atomic::Ordering::Relaxed) {
        // SAFETY: per the contract, and on 3.9-3.11 `ob_refcnt` is the plain count.
        unsafe { (*p).ob_refcnt += 1 };
    } else {
        // SAFETY: per the contract.
        unsafe { ffi::Py_IncRef(p) };
    }
}

/// `n` times [`incref`] in one step: builders hand out the bool singletons several times per
/// object, and separate in-place increments of one counter wait on each other.
///
/// # Safety
/// As [`incref`].
#[inline(always)]
pub unsafe fn incref_n(p: *mut ffi::PyObject, n: u32) {
    if INLINE_REFCOUNT.load(std::sync::atomic::Ordering::Relaxed) {
        // SAFETY: as in `incref`.
        unsafe { (*p).ob_refcnt += n as ffi::Py_ssize_t };
    } else {
        for _ in 0..n {
            // SAFETY: per the contract.
            unsafe { ffi::Py_IncRef(p) };
        }
    }
}

/// `n` times [`decref`] in one step (see [`incref_n`]).
///
/// # Safety
/// `p` is a live object of which the caller owns `n` references and gives them up; the GIL
/// is held.
#[inline(always)]
pub unsafe fn decref_n(p: *mut ffi::PyObject, n: u32) {
    let n = n as ffi::Py_ssize_t;
    // SAFETY: per the contract; in place only while the object keeps a reference after.
    unsafe {
        if INLINE_REFCOUNT.load(std::sync::atomic::Ordering::Relaxed) && (*p).ob_refcnt > n {
            (*p).ob_refcnt -= n;
        } else {
            for _ in 0..n {
                ffi::Py_DecRef(p);
            }
        }
    }
}

/// `Py_DECREF` without a call unless the object dies (then `Py_DecRef` deallocates it).
///
/// # Safety
/// `p` is a live object whose reference the caller owns and gives up; the GIL is held.
#[inline(always)]
pub unsafe fn decref(p: *mut ffi::PyObject) {
    // SAFETY: per the contract, and on 3.9-3.11 `ob_refcnt` is the plain count; a count of 1
    // (the last reference) goes through the interpreter, which deallocates.
    unsafe {
        if INLINE_REFCOUNT.load(std::sync::atomic::Ordering::Relaxed) && (*p).ob_refcnt > 1 {
            (*p).ob_refcnt -= 1;
        } else {
            ffi::Py_DecRef(p);
        }
    }
}

/// Where CPython keeps its cached small ints 0..=[`SMALL_INT_MAX`]: the address of 0 and the
/// distance between consecutive ones.
#[derive(Clone, Copy)]
struct SmallInts {
    base: usize,
    stride: usize,
}

/// The largest int CPython caches (`_PY_NSMALLPOSINTS - 1` in `Include/internal/pycore_global_objects.h`).
const SMALL_INT_MAX: usize = 256;

/// Set when the module is imported, if the cached ints are laid out evenly (an array, as in
/// every CPython since 3.11); unset otherwise, and then [`small_int_value`] finds nothing.
static SMALL_INTS: std::sync::OnceLock<SmallInts> = std::sync::OnceLock::new();

/// Needs the GIL (`_py`).
fn init_small_ints(_py: Python<'_>) {
    let mut ptrs = [0usize; SMALL_INT_MAX + 1];
    for (i, p) in ptrs.iter_mut().enumerate() {
        // SAFETY: PyLong_FromLong with the GIL held; the new reference is dropped at once.
        // CPython keeps the cached small ints alive for the interpreter's lifetime, so the
        // address stays that of the same int object.
        let (a, b) = unsafe {
            let a = ffi::PyLong_FromLong(i as std::ffi::c_long);
            let b = ffi::PyLong_FromLong(i as std::ffi::c_long);
            let pair = (a as usize, b as usize);
            ffi::Py_XDECREF(a);
            ffi::Py_XDECREF(b);
            pair
        };
        if a == 0 || a != b {
            // Not cached (or an allocation failed): no table.
            // SAFETY: GIL held; a failed allocation left an error that is not ours to raise.
            unsafe { ffi::PyErr_Clear() };
            return;
        }
        *p = a;
    }
    let base = ptrs[0];
    let Some(stride) = ptrs[1].checked_sub(base).filter(|&s| s > 0) else {
        return;
    };
    let even = ptrs
        .iter()
        .enumerate()
        .all(|(i, &p)| p.checked_sub(base) == Some(i * stride));
    if even {
        let _ = SMALL_INTS.set(SmallInts { base, stride });
    }
}

/// A new reference to `v` as an int: CPython's cached object for 0..=256 without a call
/// (refcount changed in place where the stable ABI allows), else `PyLong_FromLongLong`.
#[inline(always)]
pub fn int_object(py: Python<'_>, v: i64) -> Bound<'_, PyAny> {
    if let (Some(t), Ok(i)) = (SMALL_INTS.get(), usize::try_from(v)) {
        if i <= SMALL_INT_MAX {
            let p = (t.base + i * t.stride) as *mut ffi::PyObject;
            // SAFETY: the address of the cached int `i`, alive for the interpreter's lifetime
            // (checked in `init_small_ints`); GIL held (`py`). The new reference taken here
            // is the one the Bound owns.
            unsafe {
                incref(p);
                return Bound::from_owned_ptr(py, p);
            }
        }
    }
    PyInt::new(py, v).into_any()
}

/// The value of `p` if it is one of CPython's cached ints 0..=256, recognised by its address
/// alone (the object's memory is not read). None does not mean `p` is not such an int.
#[inline(always)]
pub fn small_int_value(p: *mut ffi::PyObject) -> Option<i64> {
    let t = SMALL_INTS.get()?;
    let d = (p as usize).wrapping_sub(t.base);
    let i = d / t.stride;
    // Every address base + i * stride for i in 0..=256 was checked to be the int i.
    (d % t.stride == 0 && i <= SMALL_INT_MAX).then_some(i as i64)
}

// ---------------------------------------------------------------------------------------------
// Fast construction and field access for the log readers and writers
// ---------------------------------------------------------------------------------------------

/// A message class checked once, for readers that build millions of messages: the subclass
/// check and the `tp_alloc` lookup of [`new_message`] happen here, not per message.
pub struct MessageFactory {
    cls: Py<PyType>,
    alloc: ffi::allocfunc,
}

impl MessageFactory {
    /// Checks that `cls` is `MessageBase` or a subclass and resolves its allocator.
    pub fn new(cls: &Bound<'_, PyType>) -> PyResult<Self> {
        let base = base_type(cls.py())?;
        if !cls.is_subclass(base)? {
            return Err(PyTypeError::new_err(format!(
                "{} is not a subclass of can.Message",
                repr_of(cls)
            )));
        }
        // SAFETY: `cls` is a live type object; PyType_GetSlot only reads its slot table.
        let alloc = unsafe { ffi::PyType_GetSlot(cls.as_ptr().cast(), ffi::Py_tp_alloc) };
        let alloc: ffi::allocfunc = if alloc.is_null() {
            ffi::PyType_GenericAlloc
        } else {
            // SAFETY: the Py_tp_alloc slot holds a function with the allocfunc signature.
            unsafe { std::mem::transmute::<*mut c_void, ffi::allocfunc>(alloc) }
        };
        Ok(MessageFactory {
            cls: cls.clone().unbind(),
            alloc,
        })
    }

    /// Allocates a message and moves `fields` (in storage order) into its slots without
    /// running `__init__`.
    #[inline]
    pub fn build<'py>(
        &self,
        py: Python<'py>,
        fields: [Bound<'py, PyAny>; NFIELDS],
    ) -> PyResult<Bound<'py, PyAny>> {
        // SAFETY: `self.cls` (kept alive by `self`) was checked to be a subtype of our base
        // in `new`, so `alloc` makes a zero-filled, GC-tracked instance with our layout at the
        // start. Every field object already exists (the caller built them before this call),
        // so no allocation, and so no GC pass that could see the empty slots, happens between
        // the allocation and the stores.
        unsafe {
            let obj = (self.alloc)(self.cls.as_ptr().cast(), 0);
            let obj = Bound::from_owned_ptr_or_err(py, obj)?;
            store_fields(&obj, fields);
            Ok(obj)
        }
    }
}

/// The twelve fields of a message in storage order: read from the slots of a `MessageBase`
/// instance, by attribute for any other message-like object.
pub fn message_fields<'py>(msg: &Bound<'py, PyAny>) -> PyResult<[Bound<'py, PyAny>; NFIELDS]> {
    let direct = is_message(msg.py(), msg);
    let mut out: [Option<Bound<'py, PyAny>>; NFIELDS] = Default::default();
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = Some(get_field(msg, i, direct)?);
    }
    let none = msg.py().None().into_bound(msg.py());
    Ok(out.map(|f| f.unwrap_or_else(|| none.clone())))
}

/// The twelve field objects of a `MessageBase` instance as borrowed pointers (storage order),
/// or None if `msg` is not one or a field was deleted. For the log writers' hot path: the
/// pointers stay valid only while no Python code runs that could reassign the message's
/// attributes, so a caller may only do GIL-held reads of exact built-in values with them.
pub fn field_ptrs(msg: &Bound<'_, PyAny>) -> Option<[*mut ffi::PyObject; NFIELDS]> {
    if !is_message(msg.py(), msg) {
        return None;
    }
    let m = msg.as_ptr().cast::<MessageObject>();
    // SAFETY: `is_message` checked that the object has our layout; the slots are read, not
    // dereferenced, while the GIL is held.
    let slots = unsafe { (*m).slots };
    slots.iter().all(|p| !p.is_null()).then_some(slots)
}
