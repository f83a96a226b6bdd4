//! The one generic reader binding of the log formats (`BlfReader`, `AscReader`,
//! `CanutilsLogReader`, `TrcReader`, `CsvReader`): a core reader over a Python file, turned
//! into an iterator of `can.Message` objects.
//!
//! [`ReaderCore`] does what every reader does: build each message through the one
//! frame-to-message conversion ([`build_message`] and [`MessageFactory`]), hand the format's
//! warnings to Python as they come, report at the end how the input was cut short and how many
//! malformed lines were skipped, call `on_end()` once when the iteration ends (also by an
//! error, before it is raised) and map errors through the one conversion of
//! [`super::error`], naming the file. Its state lives in a [`WriterCell`], as a writer's
//! does: the classes are frozen, a call costs a plain flag, a second thread waits its turn and
//! a re-entrant call is a `RuntimeError`. The format says only how it reads frames
//! ([`FrameSource`]) and what a message's `channel` is ([`MessageChannel`]); [`reader_class!`]
//! gives each class the common Python methods.

use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyFloat, PyType};
use pyo3::{PyTraverseError, PyVisit};

use super::file::PyFile;
use super::message::{self, MessageFactory, NFIELDS};
use super::textlog::warn;
use super::writer_cell::{self, CellRef, WriterCell};
use crate::frame::{CanFrame, CANFD_BRS, CANFD_ESI, CANFD_FDF};
use crate::lines::{LineFormat, TextReader};
use crate::log::ReadSummary;

/// A core reader as the generic binding reads it.
pub trait FrameSource: Send {
    /// The warning class of a file cut short (`module`, `class`).
    const TRUNCATED_WARNING: (&'static str, &'static str) =
        ("can.io.generic", "TruncatedLogWarning");

    /// Whether [`take_warnings`](Self::take_warnings) can hand out anything (false: it is
    /// not asked per frame).
    const WARNS: bool = true;

    /// Decodes the next frame into `frame`: true, or false at the end of the input.
    fn next_into(&mut self, frame: &mut CanFrame) -> crate::Result<bool>;

    /// Things the user should know that are no error, handed out once.
    fn take_warnings(&mut self) -> Vec<String> {
        Vec::new()
    }

    /// What was skipped or cut short so far.
    fn summary(&self) -> ReadSummary;

    /// The Python file the frames are read from (for the garbage collector).
    fn file(&self) -> &PyFile;
}

impl<F: LineFormat + Send> FrameSource for TextReader<PyFile, F> {
    #[inline(always)]
    fn next_into(&mut self, frame: &mut CanFrame) -> crate::Result<bool> {
        match self.next_frame() {
            Ok(Some(f)) => {
                *frame = f;
                Ok(true)
            }
            Ok(None) => Ok(false),
            Err(e) => Err(crate::Error::text(e, F::FORMAT)),
        }
    }

    fn take_warnings(&mut self) -> Vec<String> {
        TextReader::take_warnings(self)
    }

    fn summary(&self) -> ReadSummary {
        crate::log::FrameReader::summary(self)
    }

    fn file(&self) -> &PyFile {
        self.get_ref()
    }
}

/// The core reader of a text format over a Python file.
pub type Lines<F> = TextReader<PyFile, F>;

impl<F: LineFormat + Send, C: MessageChannel<Lines<F>>> ReaderCore<Lines<F>, C> {
    /// A reader of text `file` (a file object, text or binary; see [`PyFile::text_source`])
    /// in `format`; with `strict` false, malformed lines are skipped and counted.
    #[allow(clippy::too_many_arguments)]
    pub fn lines(
        py: Python<'_>,
        file: Py<PyAny>,
        format: F,
        channels: C,
        message_class: &Bound<'_, PyType>,
        name: &str,
        strict: bool,
        on_end: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let source = TextReader::with_format(
            PyFile::text_source(py, file),
            format,
            strict,
            crate::lines::MAX_LINE_LEN,
        );
        Self::new(py, source, channels, message_class, name, on_end)
    }
}

/// How the frames of source `S` name their channel in a `can.Message`.
pub trait MessageChannel<S>: Send {
    fn channel<'py>(
        &mut self,
        py: Python<'py>,
        source: &S,
        frame: &CanFrame,
    ) -> PyResult<Bound<'py, PyAny>>;
}

/// What a reader class holds behind its cell.
pub struct ReaderState<S, C> {
    /// The core reader.
    pub source: S,
    /// The frame being decoded (reused).
    frame: CanFrame,
    channels: C,
    on_end: Option<Py<PyAny>>,
    finished: bool,
}

pub struct ReaderCore<S, C> {
    state: WriterCell<ReaderState<S, C>>,
    factory: MessageFactory,
    /// Names the file in errors and warnings ("" for none).
    name: String,
}

/// The message of `f`, whose channel is `channel`, as an instance of the factory's class.
#[inline(always)]
pub fn build_message<'py>(
    py: Python<'py>,
    factory: &MessageFactory,
    f: &CanFrame,
    channel: Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let flags = [
        f.is_extended(),
        f.is_remote(),
        f.is_error(),
        f.flags & CANFD_FDF != 0,
        f.is_rx,
        f.flags & CANFD_BRS != 0,
        f.flags & CANFD_ESI != 0,
    ];
    let n_yes = flags.iter().filter(|&&v| v).count() as u32;
    // SAFETY: Py_True / Py_False return borrowed pointers to the bool singletons; one new
    // reference is taken here for each field below that holds one (in one update per
    // singleton), and each Bound made below owns one of them.
    let (yes, no) = unsafe {
        let (yes, no) = (pyo3::ffi::Py_True(), pyo3::ffi::Py_False());
        message::incref_n(yes, n_yes);
        message::incref_n(no, flags.len() as u32 - n_yes);
        (yes, no)
    };
    // SAFETY: see above: the reference this Bound owns was taken already.
    let b = |v: bool| unsafe { Bound::from_owned_ptr(py, if v { yes } else { no }) };
    let [ext, remote, error, fd, rx, brs, esi] = flags;
    let fields: [Bound<'py, PyAny>; NFIELDS] = [
        PyFloat::new(py, f.timestamp).into_any(),
        pyo3::types::PyInt::new(py, f.id()).into_any(),
        b(ext),
        b(remote),
        b(error),
        channel,
        message::int_object(py, i64::from(f.dlc)),
        PyByteArray::new(py, f.payload()).into_any(),
        b(fd),
        b(rx),
        b(brs),
        b(esi),
    ];
    factory.build(py, fields)
}

impl<S: FrameSource, C: MessageChannel<S>> ReaderCore<S, C> {
    /// A reader of `source`.
    pub fn new(
        py: Python<'_>,
        source: S,
        channels: C,
        message_class: &Bound<'_, PyType>,
        name: &str,
        on_end: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        writer_cell::init(py);
        Ok(ReaderCore {
            state: WriterCell::new(ReaderState {
                source,
                frame: CanFrame::default(),
                channels,
                on_end,
                finished: false,
            }),
            factory: MessageFactory::new(message_class)?,
            name: name.to_owned(),
        })
    }

    /// The state (the core reader is its `source`).
    pub fn state(&self, py: Python<'_>) -> PyResult<CellRef<'_, ReaderState<S, C>>> {
        self.state.get(py)
    }

    fn where_(&self) -> String {
        if self.name.is_empty() {
            String::new()
        } else {
            format!("{}: ", self.name)
        }
    }

    /// An error of the core reader, naming the file.
    pub fn error(&self, e: crate::Error) -> PyErr {
        e.in_file(&self.name).into()
    }

    /// Reads the header now (`read` on the source), so that what it says is known before
    /// the first message; its warnings are emitted.
    pub fn read_header(
        &self,
        py: Python<'_>,
        read: impl FnOnce(&mut S) -> crate::Result<()>,
    ) -> PyResult<()> {
        let mut s = self.state.get(py)?;
        let result = read(&mut s.source);
        let warnings = s.source.take_warnings();
        drop(s);
        self.emit(py, warnings)?;
        result.map_err(|e| self.error(e))
    }

    fn emit(&self, py: Python<'_>, warnings: Vec<String>) -> PyResult<()> {
        for w in warnings {
            warn(py, &format!("{}{w}", self.where_()))?;
        }
        Ok(())
    }

    /// The end of the iteration (`summary`: the source's): the truncation and skipped
    /// lines are reported, `on_end` is called.
    fn end(&self, py: Python<'_>, summary: ReadSummary, on_end: Option<Py<PyAny>>) -> PyResult<()> {
        let reported = (|| {
            if let Some(cut) = &summary.truncation {
                let (module, class) = S::TRUNCATED_WARNING;
                let category = py.import(module)?.getattr(class)?.cast_into::<PyType>()?;
                PyErr::warn(
                    py,
                    &category,
                    &std::ffi::CString::new(format!("{}{cut}", self.where_()).replace('\0', " "))?,
                    1,
                )?;
            }
            if let Some(first) = &summary.first_skipped {
                warn(
                    py,
                    &format!(
                        "{}skipped {} malformed line(s); the first: {first}",
                        self.where_(),
                        summary.skipped_lines
                    ),
                )?;
            }
            Ok(())
        })();
        // The file is closed even when a warning was turned into an error.
        if let Some(cb) = on_end {
            cb.bind(py).call0()?;
        }
        reported
    }

    #[inline]
    pub fn next<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let mut s = self.state.get(py)?;
        if s.finished {
            return Ok(None);
        }
        let st = &mut *s;
        let next = st.source.next_into(&mut st.frame);
        let warnings = if S::WARNS {
            st.source.take_warnings()
        } else {
            Vec::new()
        };
        if let (Ok(true), true) = (&next, warnings.is_empty()) {
            let channel = st.channels.channel(py, &st.source, &st.frame)?;
            return build_message(py, &self.factory, &st.frame, channel).map(Some);
        }
        // The rare paths run Python code (warnings, `on_end`) with the state released.
        match next {
            Ok(true) => {
                let channel = st.channels.channel(py, &st.source, &st.frame)?;
                let msg = build_message(py, &self.factory, &st.frame, channel)?;
                drop(s);
                self.emit(py, warnings)?;
                Ok(Some(msg))
            }
            Ok(false) => {
                st.finished = true;
                let on_end = st.on_end.take();
                let summary = st.source.summary();
                drop(s);
                self.emit(py, warnings)?;
                self.end(py, summary, on_end)?;
                Ok(None)
            }
            Err(e) => {
                // The iteration ends here too: the file is closed before the error is raised.
                st.finished = true;
                let on_end = st.on_end.take();
                drop(s);
                let err = self.error(e);
                self.emit(py, warnings)?;
                if let Some(cb) = on_end {
                    cb.bind(py).call0()?;
                }
                Err(err)
            }
        }
    }

    pub fn traverse(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        // SAFETY: this is tp_traverse; `peek` skips a state in use.
        if let Some(s) = unsafe { self.state.peek() } {
            visit.call(&s.source.file().file)?;
            if let Some(cb) = &s.on_end {
                visit.call(cb)?;
            }
        }
        Ok(())
    }

    pub fn clear(&self, py: Python<'_>) {
        if let Some(mut s) = self.state.try_get(py) {
            s.on_end = None;
        }
    }
}

/// The `#[pymethods]` of a reader class `$class` (whose [`ReaderCore`] is its `core` field):
/// iteration and garbage collection (and, with `lines`, the text formats' `skipped_lines`
/// and `line_no`), then the class's own (`$extra`: its constructor and getters).
macro_rules! reader_class {
    ($class:ident, lines, { $($extra:tt)* }) => {
        $crate::python::reader::reader_class!($class, {
            /// Malformed lines skipped so far (with strict=False).
            #[getter]
            fn skipped_lines(&self, py: Python<'_>) -> PyResult<u64> {
                Ok(self.core.state(py)?.source.skipped())
            }

            /// Number of the line read last.
            #[getter]
            fn line_no(&self, py: Python<'_>) -> PyResult<u64> {
                Ok(self.core.state(py)?.source.line_no())
            }

            $($extra)*
        });
    };
    ($class:ident, { $($extra:tt)* }) => {
        #[pymethods]
        impl $class {
            fn __traverse__(
                &self,
                visit: pyo3::PyVisit<'_>,
            ) -> Result<(), pyo3::PyTraverseError> {
                self.core.traverse(visit)
            }

            fn __clear__(&self) {
                Python::attach(|py| self.core.clear(py));
            }

            fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
                slf
            }

            fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
                self.core.next(py)
            }

            $($extra)*
        }
    };
}
pub(crate) use reader_class;
