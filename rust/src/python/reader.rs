//! The generic reader binding of the text formats (`AscReader`, `CanutilsLogReader`,
//! `TrcReader`): a core [`TextReader`] over a Python file, turned into an iterator of
//! `can.Message` objects.
//!
//! [`ReaderCore`] does what every reader does: build each message through the one
//! frame-to-message conversion ([`frame_fields`] and [`MessageFactory`]), hand the format's
//! warnings to Python as they come, say at the end how many malformed lines were skipped,
//! call `on_end()` once when the iteration ends (also by an error, before it is raised) and
//! map errors through the one conversion of [`super::error`], naming the file. The format
//! says only what a message's `channel` is ([`MessageChannel`]); [`reader_class!`] gives
//! each class the common Python methods.

use pyo3::prelude::*;
use pyo3::types::PyType;
use pyo3::{PyTraverseError, PyVisit};

use super::file::PyFile;
use super::message::MessageFactory;
use super::textlog::{frame_fields, warn, warn_truncated};
use crate::frame::CanFrame;
use crate::lines::{LineFormat, TextReader};

/// How the frames of format `F` name their channel in a `can.Message`.
pub trait MessageChannel<F>: Send {
    fn channel<'py>(
        &mut self,
        py: Python<'py>,
        format: &F,
        frame: &CanFrame,
    ) -> PyResult<Bound<'py, PyAny>>;
}

pub struct ReaderCore<F, C> {
    pub inner: TextReader<PyFile, F>,
    channels: C,
    factory: MessageFactory,
    /// Names the file in errors and warnings ("" for none).
    name: String,
    on_end: Option<Py<PyAny>>,
    finished: bool,
}

impl<F: LineFormat, C: MessageChannel<F>> ReaderCore<F, C> {
    /// A reader of `file` (see [`PyFile::text_source`]).
    pub fn new(
        file: PyFile,
        format: F,
        channels: C,
        message_class: &Bound<'_, PyType>,
        name: &str,
        strict: bool,
        on_end: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let inner = TextReader::with_format(file, format, strict, crate::lines::MAX_LINE_LEN);
        Ok(ReaderCore {
            inner,
            channels,
            factory: MessageFactory::new(message_class)?,
            name: name.to_owned(),
            on_end,
            finished: false,
        })
    }

    fn where_(&self) -> String {
        if self.name.is_empty() {
            String::new()
        } else {
            format!("{}: ", self.name)
        }
    }

    /// Reads the header now (so that what it says is known before the first message).
    pub fn read_header(&mut self, py: Python<'_>) -> PyResult<()> {
        let read = self.inner.read_header();
        self.emit_warnings(py)?;
        read.map_err(|e| self.error(e))
    }

    fn error(&self, e: crate::lines::Error) -> PyErr {
        crate::Error::text(e, F::FORMAT).in_file(&self.name).into()
    }

    fn emit_warnings(&mut self, py: Python<'_>) -> PyResult<()> {
        for w in self.inner.take_warnings() {
            warn(py, &format!("{}{w}", self.where_()))?;
        }
        Ok(())
    }

    /// The end of the iteration: the skipped lines are reported, `on_end` is called.
    fn end(&mut self, py: Python<'_>) -> PyResult<()> {
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        if let Some(cut) = self.inner.truncation() {
            warn_truncated(py, &format!("{}{cut}", self.where_()))?;
        }
        if let Some(first) = self.inner.first_skipped() {
            warn(
                py,
                &format!(
                    "{}skipped {} malformed line(s); the first: {first}",
                    self.where_(),
                    self.inner.skipped()
                ),
            )?;
        }
        if let Some(cb) = self.on_end.take() {
            cb.bind(py).call0()?;
        }
        Ok(())
    }

    pub fn next<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        if self.finished {
            return Ok(None);
        }
        let next = self.inner.next_frame();
        self.emit_warnings(py)?;
        match next {
            Ok(Some(f)) => {
                let channel = self.channels.channel(py, &self.inner.format, &f)?;
                self.factory
                    .build(py, frame_fields(py, &f, channel))
                    .map(Some)
            }
            Ok(None) => {
                self.end(py)?;
                Ok(None)
            }
            Err(e) => {
                // The iteration ends here too: the file is closed before the error is raised.
                self.finished = true;
                let err = self.error(e);
                if let Some(cb) = self.on_end.take() {
                    cb.bind(py).call0()?;
                }
                Err(err)
            }
        }
    }

    pub fn traverse(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Some(cb) = &self.on_end {
            visit.call(cb)?;
        }
        Ok(())
    }

    pub fn clear(&mut self) {
        self.on_end = None;
    }
}

/// The `#[pymethods]` of a text reader class `$class` (whose [`ReaderCore`] is its `core`
/// field): iteration, garbage collection, `skipped_lines` and `line_no`, then the class's
/// own (`$extra`: its constructor and getters).
macro_rules! reader_class {
    ($class:ident, { $($extra:tt)* }) => {
        #[pymethods]
        impl $class {
            fn __traverse__(
                &self,
                visit: pyo3::PyVisit<'_>,
            ) -> Result<(), pyo3::PyTraverseError> {
                self.core.traverse(visit)
            }

            fn __clear__(&mut self) {
                self.core.clear();
            }

            fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
                slf
            }

            fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
                self.core.next(py)
            }

            /// Malformed lines skipped so far (with strict=False).
            #[getter]
            fn skipped_lines(&self) -> u64 {
                self.core.inner.skipped()
            }

            /// Number of the line read last.
            #[getter]
            fn line_no(&self) -> u64 {
                self.core.inner.line_no()
            }

            $($extra)*
        }
    };
}
pub(crate) use reader_class;
