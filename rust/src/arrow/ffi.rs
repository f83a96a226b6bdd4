//! The Arrow C data interface and C stream interface, written out by hand: the three structs
//! of <https://arrow.apache.org/docs/format/CDataInterface.html> and
//! <https://arrow.apache.org/docs/format/CStreamInterface.html>, and the export of a
//! [`FrameBatches`] as an `ArrowArrayStream` of struct arrays.
//!
//! Ownership follows the specification: everything exported is owned by the struct's
//! `private_data` and freed by its `release` callback, which the consumer calls once (and
//! which marks the struct released by setting `release` to null). A stream's `get_next`
//! reports an error as a non-zero errno with the text from `get_last_error`, and keeps the
//! crate's [`Error`] in an [`ErrorSlot`] for the binding to raise as its typed exception.
//!
//! Hand-written rather than taken from arrow-rs (`arrow-array`'s `ffi` feature pulls in
//! arrow-buffer, arrow-data, half, num and chrono: minutes more of release build and about a
//! megabyte of wheel) because the crate exports one fixed shape (flat columns of primitive,
//! boolean and binary types, no nulls) and never imports.

use std::ffi::{c_char, c_int, c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::{Arc, Mutex};

use super::{Batch, Column, FrameBatches, Values};
use crate::error::Error;
use crate::log::Format;

/// `struct ArrowSchema` of the C data interface.
#[repr(C)]
pub struct ArrowSchema {
    pub format: *const c_char,
    pub name: *const c_char,
    pub metadata: *const c_char,
    pub flags: i64,
    pub n_children: i64,
    pub children: *mut *mut ArrowSchema,
    pub dictionary: *mut ArrowSchema,
    pub release: Option<unsafe extern "C" fn(*mut ArrowSchema)>,
    pub private_data: *mut c_void,
}

/// `struct ArrowArray` of the C data interface.
#[repr(C)]
pub struct ArrowArray {
    pub length: i64,
    pub null_count: i64,
    pub offset: i64,
    pub n_buffers: i64,
    pub n_children: i64,
    pub buffers: *mut *const c_void,
    pub children: *mut *mut ArrowArray,
    pub dictionary: *mut ArrowArray,
    pub release: Option<unsafe extern "C" fn(*mut ArrowArray)>,
    pub private_data: *mut c_void,
}

/// `struct ArrowArrayStream` of the C stream interface.
#[repr(C)]
pub struct ArrowArrayStream {
    pub get_schema: Option<unsafe extern "C" fn(*mut ArrowArrayStream, *mut ArrowSchema) -> c_int>,
    pub get_next: Option<unsafe extern "C" fn(*mut ArrowArrayStream, *mut ArrowArray) -> c_int>,
    pub get_last_error: Option<unsafe extern "C" fn(*mut ArrowArrayStream) -> *const c_char>,
    pub release: Option<unsafe extern "C" fn(*mut ArrowArrayStream)>,
    pub private_data: *mut c_void,
}

/// errno values `get_next` / `get_schema` return.
const EIO: c_int = 5;
const EINVAL: c_int = 22;

impl ArrowSchema {
    /// A released (empty) schema, for a consumer to fill.
    pub fn empty() -> Self {
        ArrowSchema {
            format: ptr::null(),
            name: ptr::null(),
            metadata: ptr::null(),
            flags: 0,
            n_children: 0,
            children: ptr::null_mut(),
            dictionary: ptr::null_mut(),
            release: None,
            private_data: ptr::null_mut(),
        }
    }
}

impl ArrowArray {
    /// A released (empty) array, for a consumer to fill.
    pub fn empty() -> Self {
        ArrowArray {
            length: 0,
            null_count: 0,
            offset: 0,
            n_buffers: 0,
            n_children: 0,
            buffers: ptr::null_mut(),
            children: ptr::null_mut(),
            dictionary: ptr::null_mut(),
            release: None,
            private_data: ptr::null_mut(),
        }
    }
}

// ----- schemas -----

struct SchemaPrivate {
    _format: CString,
    _name: CString,
    children: Vec<*mut ArrowSchema>,
}

fn c_string(s: &str) -> CString {
    // ok: column names and format strings are static ASCII without NUL bytes.
    CString::new(s).unwrap_or_default()
}

fn schema_node(format: &str, name: &str, children: Vec<ArrowSchema>) -> ArrowSchema {
    let children: Vec<*mut ArrowSchema> = children
        .into_iter()
        .map(|c| Box::into_raw(Box::new(c)))
        .collect();
    let private = Box::new(SchemaPrivate {
        _format: c_string(format),
        _name: c_string(name),
        children,
    });
    ArrowSchema {
        format: private._format.as_ptr(),
        name: private._name.as_ptr(),
        metadata: ptr::null(),
        flags: 0,
        n_children: private.children.len() as i64,
        children: private.children.as_ptr().cast_mut(),
        dictionary: ptr::null_mut(),
        release: Some(release_schema),
        private_data: Box::into_raw(private).cast(),
    }
}

unsafe extern "C" fn release_schema(schema: *mut ArrowSchema) {
    if schema.is_null() {
        return;
    }
    // SAFETY: the consumer hands back a schema this module exported (release is ours), so
    // private_data is the SchemaPrivate box made in schema_node and each child pointer is a
    // Box<ArrowSchema> of ours; each is freed once, as release is nulled below.
    unsafe {
        let s = &mut *schema;
        let private = Box::from_raw(s.private_data.cast::<SchemaPrivate>());
        for &child in &private.children {
            if let Some(release) = (*child).release {
                release(child);
            }
            drop(Box::from_raw(child));
        }
        drop(private);
        s.release = None;
        s.private_data = ptr::null_mut();
    }
}

/// The schema of a stream: a non-nullable struct of the columns (a record batch).
pub fn export_schema(columns: &[Column], format: Format) -> ArrowSchema {
    let children = columns
        .iter()
        .map(|c| schema_node(c.arrow_format(format), c.name(), Vec::new()))
        .collect();
    schema_node("+s", "", children)
}

// ----- arrays -----

struct ArrayPrivate {
    _values: Option<Values>,
    buffers: Vec<*const c_void>,
    children: Vec<*mut ArrowArray>,
}

fn array_node(length: usize, values: Option<Values>, children: Vec<ArrowArray>) -> ArrowArray {
    // Buffer 0 is the validity bitmap: none, as no column has nulls.
    let mut buffers: Vec<*const c_void> = vec![ptr::null()];
    match &values {
        Some(Values::F64(v)) => buffers.push(v.as_ptr().cast()),
        Some(Values::I64(v)) => buffers.push(v.as_ptr().cast()),
        Some(Values::U32(v)) => buffers.push(v.as_ptr().cast()),
        Some(Values::U8(v)) => buffers.push(v.as_ptr().cast()),
        Some(Values::Bool(v, _)) => buffers.push(v.as_ptr().cast()),
        Some(Values::Bytes { offsets, values }) => {
            buffers.push(offsets.as_ptr().cast());
            buffers.push(values.as_ptr().cast());
        }
        None => {}
    }
    let children: Vec<*mut ArrowArray> = children
        .into_iter()
        .map(|c| Box::into_raw(Box::new(c)))
        .collect();
    let private = Box::new(ArrayPrivate {
        _values: values,
        buffers,
        children,
    });
    ArrowArray {
        length: length as i64,
        null_count: 0,
        offset: 0,
        n_buffers: private.buffers.len() as i64,
        n_children: private.children.len() as i64,
        buffers: private.buffers.as_ptr().cast_mut(),
        children: private.children.as_ptr().cast_mut(),
        dictionary: ptr::null_mut(),
        release: Some(release_array),
        private_data: Box::into_raw(private).cast(),
    }
}

unsafe extern "C" fn release_array(array: *mut ArrowArray) {
    if array.is_null() {
        return;
    }
    // SAFETY: as in release_schema: an array this module exported, its private_data the
    // ArrayPrivate box of array_node (which owns the buffers), its children our boxes.
    unsafe {
        let a = &mut *array;
        let private = Box::from_raw(a.private_data.cast::<ArrayPrivate>());
        for &child in &private.children {
            if let Some(release) = (*child).release {
                release(child);
            }
            drop(Box::from_raw(child));
        }
        drop(private);
        a.release = None;
        a.private_data = ptr::null_mut();
    }
}

/// A batch as a struct array (a record batch); the array owns the batch's buffers.
pub fn export_batch(batch: Batch) -> ArrowArray {
    let rows = batch.rows;
    let children = batch
        .columns
        .into_iter()
        .map(|(_, values)| array_node(rows, Some(values), Vec::new()))
        .collect();
    array_node(rows, None, children)
}

// ----- streams -----

/// How a stream ended, for whoever made it: the error that ended it, or (at its end) what
/// the reader found cut short and its warnings.
#[derive(Debug, Default)]
pub struct StreamEnd {
    pub error: Option<Error>,
    pub finished: bool,
    pub truncation: Option<String>,
    pub warnings: Vec<String>,
}

/// Shared between a stream and whoever made it.
pub type ErrorSlot = Arc<Mutex<StreamEnd>>;

struct StreamPrivate {
    batches: FrameBatches<'static>,
    error: ErrorSlot,
    last_error: Option<CString>,
}

impl StreamPrivate {
    fn fail(&mut self, text: String) -> c_int {
        self.last_error = Some(CString::new(text.replace('\0', " ")).unwrap_or_default());
        EIO
    }
}

unsafe extern "C" fn stream_get_schema(
    stream: *mut ArrowArrayStream,
    out: *mut ArrowSchema,
) -> c_int {
    if stream.is_null() || out.is_null() {
        return EINVAL;
    }
    // SAFETY: a stream this module exported and not yet released: private_data is our
    // StreamPrivate; `out` points to a schema struct the consumer owns.
    unsafe {
        let private = &mut *(*stream).private_data.cast::<StreamPrivate>();
        out.write(export_schema(
            private.batches.columns(),
            private.batches.format(),
        ));
    }
    0
}

unsafe extern "C" fn stream_get_next(stream: *mut ArrowArrayStream, out: *mut ArrowArray) -> c_int {
    if stream.is_null() || out.is_null() {
        return EINVAL;
    }
    // SAFETY: as in stream_get_schema; `out` points to an array struct the consumer owns,
    // which is written whole (a released one at the end of the stream).
    unsafe {
        let private = &mut *(*stream).private_data.cast::<StreamPrivate>();
        match catch_unwind(AssertUnwindSafe(|| private.batches.next_batch())) {
            Ok(Ok(Some(batch))) => {
                out.write(export_batch(batch));
                0
            }
            Ok(Ok(None)) => {
                if let Ok(mut end) = private.error.lock() {
                    if !end.finished {
                        end.finished = true;
                        end.truncation = private.batches.summary().truncation;
                        end.warnings = private.batches.take_warnings();
                    }
                }
                out.write(ArrowArray::empty());
                0
            }
            Ok(Err(e)) => {
                let text = e.to_string();
                if let Ok(mut end) = private.error.lock() {
                    end.error.get_or_insert(e);
                }
                private.fail(text)
            }
            Err(_) => private.fail("internal error while reading the log".into()),
        }
    }
}

unsafe extern "C" fn stream_get_last_error(stream: *mut ArrowArrayStream) -> *const c_char {
    if stream.is_null() {
        return ptr::null();
    }
    // SAFETY: as in stream_get_schema; the text lives in private_data until the next call.
    unsafe {
        let private = &*(*stream).private_data.cast::<StreamPrivate>();
        private
            .last_error
            .as_ref()
            .map_or(ptr::null(), |e| e.as_ptr())
    }
}

unsafe extern "C" fn stream_release(stream: *mut ArrowArrayStream) {
    if stream.is_null() {
        return;
    }
    // SAFETY: a stream this module exported, released once (release is nulled here): its
    // private_data is the StreamPrivate box of export_stream.
    unsafe {
        let s = &mut *stream;
        drop(Box::from_raw(s.private_data.cast::<StreamPrivate>()));
        s.release = None;
        s.private_data = ptr::null_mut();
    }
}

/// `batches` as a C stream; an error that ends it is also left in `error`.
pub fn export_stream(batches: FrameBatches<'static>, error: ErrorSlot) -> ArrowArrayStream {
    let private = Box::new(StreamPrivate {
        batches,
        error,
        last_error: None,
    });
    ArrowArrayStream {
        get_schema: Some(stream_get_schema),
        get_next: Some(stream_get_next),
        get_last_error: Some(stream_get_last_error),
        release: Some(stream_release),
        private_data: Box::into_raw(private).cast(),
    }
}

// Used by tests and by the binding when a consumer releases a stream it did not take.
impl Drop for ArrowArrayStream {
    fn drop(&mut self) {
        if let Some(release) = self.release {
            // SAFETY: a stream not released yet; its own release callback frees it.
            unsafe { release(self) }
        }
    }
}

impl Drop for ArrowArray {
    fn drop(&mut self) {
        if let Some(release) = self.release {
            // SAFETY: an array not released yet; its own release callback frees it.
            unsafe { release(self) }
        }
    }
}

impl Drop for ArrowSchema {
    fn drop(&mut self) {
        if let Some(release) = self.release {
            // SAFETY: a schema not released yet; its own release callback frees it.
            unsafe { release(self) }
        }
    }
}
