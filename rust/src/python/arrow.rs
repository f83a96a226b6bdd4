//! `can._core.ArrowLogStream`: a log file's frames as Arrow record batches, exported through
//! the Arrow PyCapsule interface (`__arrow_c_stream__`), built by [`crate::arrow`].

use std::ffi::CStr;
use std::fs::File;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyString};

use super::error::io_error;
use super::filter::parse_filters;
use super::textlog::PyLocalTime;
use crate::arrow::ffi::{export_stream, ArrowArrayStream, ErrorSlot};
use crate::arrow::{reader, Column, FrameBatches, Selection};
use crate::log::Format;

/// The capsule name the PyCapsule interface gives a stream.
const STREAM_NAME: &CStr = c"arrow_array_stream";

/// The frames of a log file as Arrow record batches (read once, through
/// `__arrow_c_stream__`).
#[pyclass(name = "ArrowLogStream", module = "can._core", frozen)]
pub struct ArrowLogStream {
    batches: Mutex<Option<FrameBatches<'static>>>,
    end: ErrorSlot,
    name: String,
}

fn selected_columns(columns: Option<Vec<String>>) -> PyResult<Vec<Column>> {
    let Some(names) = columns else {
        return Ok(Column::ALL.to_vec());
    };
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let column = Column::from_name(&name).ok_or_else(|| {
            let known: Vec<&str> = Column::ALL.iter().map(|c| c.name()).collect();
            PyValueError::new_err(format!(
                "unknown column {name:?}: the columns are {}",
                known.join(", ")
            ))
        })?;
        if out.contains(&column) {
            return Err(PyValueError::new_err(format!(
                "column {name:?} is named twice"
            )));
        }
        out.push(column);
    }
    Ok(out)
}

/// Channel numbers and interface names to keep, from an iterable of ints and strings.
fn selected_channels(
    channels: Option<&Bound<'_, PyAny>>,
    selection: &mut Selection,
) -> PyResult<()> {
    let Some(channels) = channels else {
        return Ok(());
    };
    if channels.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(
            "channels must be an iterable of channels, not a single string",
        ));
    }
    let (mut numbers, mut names) = (Vec::new(), Vec::new());
    for item in channels.try_iter()? {
        let item = item?;
        if let Ok(text) = item.cast::<PyString>() {
            names.push(text.to_cow()?.as_bytes().to_vec());
        } else if let Ok(n) = item.extract::<i64>() {
            numbers.push(n);
            names.push(n.to_string().into_bytes());
        } else {
            return Err(PyTypeError::new_err(format!(
                "a channel must be an int or a str, got {}",
                item.repr()?
            )));
        }
    }
    selection.channel_numbers = Some(numbers);
    selection.channel_names = Some(names);
    Ok(())
}

unsafe extern "C" fn release_capsule(capsule: *mut pyo3::ffi::PyObject) {
    // SAFETY: called by Python with the capsule made in __arrow_c_stream__, whose pointer is
    // a Box<ArrowArrayStream> of ours; a consumer that took the stream nulled its release,
    // so dropping the box frees only what was not taken.
    unsafe {
        let ptr = pyo3::ffi::PyCapsule_GetPointer(capsule, STREAM_NAME.as_ptr());
        if ptr.is_null() {
            pyo3::ffi::PyErr_Clear();
        } else {
            drop(Box::from_raw(ptr.cast::<ArrowArrayStream>()));
        }
    }
}

#[pymethods]
impl ArrowLogStream {
    /// Opens `path` (a BLF, ASC, candump log or TRC file, by its suffix) for reading as
    /// record batches of at most `batch_size` rows of `columns` (all when None).
    #[new]
    #[pyo3(signature = (path, columns=None, filters=None, channels=None, start=None, stop=None, batch_size=65536))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        path: PathBuf,
        columns: Option<Vec<String>>,
        filters: Option<&Bound<'_, PyAny>>,
        channels: Option<&Bound<'_, PyAny>>,
        start: Option<f64>,
        stop: Option<f64>,
        batch_size: usize,
    ) -> PyResult<Self> {
        let name = path.display().to_string();
        let format = Format::from_name(&name).ok_or_else(|| {
            PyValueError::new_err(format!(
                "{name}: read_table reads .blf, .asc, .log and .trc files, not this suffix"
            ))
        })?;
        if !(1..=crate::arrow::MAX_BATCH_SIZE).contains(&batch_size) {
            return Err(PyValueError::new_err(format!(
                "batch_size must be 1..={}, got {batch_size}",
                crate::arrow::MAX_BATCH_SIZE
            )));
        }
        let columns = selected_columns(columns)?;
        let mut selection = Selection {
            filters: parse_filters(filters)?,
            start,
            stop,
            ..Selection::default()
        };
        selected_channels(channels, &mut selection)?;
        let file = File::open(&path).map_err(|e| io_error(e, &name))?;
        let source = reader(
            // The readers buffer themselves.
            file,
            format,
            Box::new(PyLocalTime),
        )
        .map_err(|e| PyErr::from(e.in_file(&name)))?;
        Ok(ArrowLogStream {
            batches: Mutex::new(Some(FrameBatches::new(
                source, format, columns, selection, batch_size,
            ))),
            end: Arc::default(),
            name,
        })
    }

    /// The batches as an `arrow_array_stream` capsule (the Arrow PyCapsule interface); the
    /// file is read once, so a second call raises ValueError.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        // The schema is fixed by the columns asked for; a requested one is a hint only.
        let _ = requested_schema;
        let batches = self
            .batches
            .lock()
            .ok()
            .and_then(|mut b| b.take())
            .ok_or_else(|| PyValueError::new_err(format!("{}: already read", self.name)))?;
        let stream = Box::into_raw(Box::new(export_stream(batches, self.end.clone())));
        // SAFETY: PyCapsule_New with a valid pointer, a static name and a destructor that
        // frees that pointer; on failure the box is taken back here.
        unsafe {
            let capsule = pyo3::ffi::PyCapsule_New(
                stream.cast(),
                STREAM_NAME.as_ptr(),
                Some(release_capsule),
            );
            if capsule.is_null() {
                drop(Box::from_raw(stream));
                return Err(PyErr::fetch(py));
            }
            Ok(Bound::from_owned_ptr(py, capsule).cast_into_unchecked())
        }
    }

    /// The exception that ended the stream (the reader's typed error), or None.
    fn error(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        let e = self.end.lock().ok()?.error.take()?;
        Some(PyErr::from(e.in_file(&self.name)).into_value(py).into_any())
    }

    /// At the end of the stream: how the file was cut short (None if it was not) and the
    /// reader's warnings.
    fn end_notes(&self) -> (Option<String>, Vec<String>) {
        match self.end.lock() {
            Ok(mut end) => (end.truncation.take(), std::mem::take(&mut end.warnings)),
            Err(_) => (None, Vec::new()),
        }
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ArrowLogStream>()
}
