//! `can._core.convert_log`: file-to-file conversion of [`crate::convert`], run without the GIL.

use std::fs::File;
use std::path::PathBuf;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::error::io_error;
use super::filter::parse_filters;
use super::textlog::PyLocalTime;
use crate::asc::LocalTime;
use crate::convert::{convert, Error, Format, Options};

fn format_of(path: &std::path::Path, given: Option<&str>) -> PyResult<Format> {
    let name = match given {
        Some(g) => format!(".{g}"),
        None => path.to_string_lossy().into_owned(),
    };
    Format::from_name(&name).ok_or_else(|| {
        PyValueError::new_err(match given {
            Some(g) => {
                format!("unknown log format {g:?}: expected \"blf\", \"asc\", \"log\", \"trc\" or \"csv\"")
            }
            None => format!(
                "cannot tell the format of {} from its suffix: expected .blf, .asc, .log, .trc or .csv",
                path.display()
            ),
        })
    })
}

/// A conversion's error, naming the file it is about: a parse error the input (or, from
/// the output's writer, the output), an I/O error opening a file that file.
fn convert_err(e: Error, input: &str, from: Format, output: &str) -> PyErr {
    let name = match e.format() {
        Some(f) if f != from => output,
        _ => input,
    };
    match e {
        Error::Parse { .. } => e.in_file(name).into(),
        other => other.into(),
    }
}

/// Converts the log file `input` to `output` (formats from their suffixes unless given) and
/// returns what was done as a dict. `filters` are python-can filter dicts; with `strict`
/// false malformed text lines are skipped and counted; `progress(bytes_read, frames_read)` is
/// called every `progress_every` frames and at the end (an exception from it stops the
/// conversion). The GIL is released while converting.
#[pyfunction]
#[pyo3(signature = (input, output, in_format=None, out_format=None, filters=None, strict=true, compression_level=6, progress=None, progress_every=65536))]
#[allow(clippy::too_many_arguments)]
fn convert_log<'py>(
    py: Python<'py>,
    input: PathBuf,
    output: PathBuf,
    in_format: Option<&str>,
    out_format: Option<&str>,
    filters: Option<&Bound<'py, PyAny>>,
    strict: bool,
    compression_level: i32,
    progress: Option<Py<PyAny>>,
    progress_every: u64,
) -> PyResult<Bound<'py, PyDict>> {
    let from = format_of(&input, in_format)?;
    let to = format_of(&output, out_format)?;
    if !(-1..=9).contains(&compression_level) {
        return Err(PyValueError::new_err(format!(
            "compression_level must be -1..=9, got {compression_level}"
        )));
    }
    let options = Options {
        filters: parse_filters(filters)?,
        strict,
        compression_level,
        progress_every,
        ..Options::default()
    };
    let in_name = input.display().to_string();
    let out_name = output.display().to_string();
    let src = File::open(&input).map_err(|e| io_error(e, &in_name))?;
    if let (Ok(a), Ok(b)) = (input.canonicalize(), output.canonicalize()) {
        if a == b {
            return Err(PyValueError::new_err(format!(
                "the input and output are the same file: {in_name}"
            )));
        }
    }
    let dst = File::create(&output).map_err(|e| io_error(e, &out_name))?;
    let mut callback_error: Option<PyErr> = None;
    let result = py.detach(|| {
        let tz = || -> Box<dyn LocalTime> { Box::new(PyLocalTime) };
        let mut report = |bytes: u64, frames: u64| -> Result<(), String> {
            Python::attach(|py| {
                let res = py.check_signals().and_then(|()| match &progress {
                    Some(cb) => cb.bind(py).call1((bytes, frames)).map(|_| ()),
                    None => Ok(()),
                });
                res.map_err(|e| {
                    let why = e.to_string();
                    callback_error = Some(e);
                    why
                })
            })
        };
        convert(
            src,
            from,
            // The writers buffer themselves (whole containers, 64 KiB of lines).
            dst,
            to,
            &options,
            &tz,
            &mut report,
        )
    });
    let stats = match result {
        Ok(stats) => stats,
        Err(Error::Interrupted(why)) => {
            return Err(callback_error
                .unwrap_or_else(|| pyo3::exceptions::PyKeyboardInterrupt::new_err(why)))
        }
        Err(e) => return Err(convert_err(e, &in_name, from, &out_name)),
    };
    let d = PyDict::new(py);
    d.set_item("frames_read", stats.frames_read)?;
    d.set_item("frames_written", stats.frames_written)?;
    d.set_item("markers", stats.markers)?;
    d.set_item("skipped_lines", stats.skipped_lines)?;
    d.set_item("first_skipped", stats.first_skipped)?;
    d.set_item("truncation", stats.truncation)?;
    d.set_item("warnings", stats.warnings)?;
    d.set_item("bytes_read", stats.bytes_read)?;
    Ok(d)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(convert_log, m)?)?;
    Ok(())
}
