//! The binding of the SQLite reader ([`crate::sqlite`]): `SqliteDatabase`, one open table,
//! and `SqliteRows`, an iteration over it that yields `can.Message` objects.
//!
//! SQLite reads a batch of rows with the interpreter released; the messages are then built
//! one per `__next__` through the one [`MessageFactory`]. The connection is behind a mutex,
//! taken only while detached from the interpreter, so readers in several threads take turns.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyFloat, PyType};

use super::message::{int_object, MessageFactory};
use crate::error::Error;
use crate::sqlite::{Batch, Cursor, Database};

/// Rows read per batch: large enough that a batch's statement costs nothing per row, small
/// enough that the first message comes at once and a writer waits at most a moment.
const BATCH_ROWS: usize = 4096;

/// A table of messages in an SQLite database, open for reading.
#[pyclass(module = "can._core", frozen)]
pub struct SqliteDatabase {
    db: Mutex<Option<Database>>,
    file: String,
}

impl SqliteDatabase {
    fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&Database) -> crate::Result<T> + Send,
    ) -> PyResult<T> {
        let result = py.detach(|| match self.lock().as_ref() {
            Some(db) => f(db),
            None => Err(Error::Value(format!(
                "{}: the database is closed",
                self.file
            ))),
        });
        Ok(result?)
    }

    fn lock(&self) -> MutexGuard<'_, Option<Database>> {
        // A panic while the lock was held cannot have left the connection half-changed.
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[pymethods]
impl SqliteDatabase {
    /// Opens the database at `path` (named `file` in errors) for reading `table`.
    #[new]
    fn new(py: Python<'_>, path: PathBuf, file: String, table: String) -> PyResult<Self> {
        let db = py.detach(|| Database::open(&path, &file, &table))?;
        Ok(SqliteDatabase {
            db: Mutex::new(Some(db)),
            file,
        })
    }

    /// The number of rows in the table.
    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        let n = self.with(py, |db| db.count())?;
        usize::try_from(n).map_err(|_| PyValueError::new_err("too many rows"))
    }

    /// An iterator over the rows as messages of `message_class`, from the first.
    fn rows(slf: &Bound<'_, Self>, message_class: &Bound<'_, PyType>) -> PyResult<SqliteRows> {
        Ok(SqliteRows {
            db: slf.clone().unbind(),
            factory: MessageFactory::new(message_class)?,
            cursor: Cursor::default(),
            batch: Batch::default(),
            next: 0,
            ended: false,
            pending: None,
        })
    }

    /// Closes the connection; iterations still under way fail with ValueError.
    fn close(&self, py: Python<'_>) {
        let db = py.detach(|| self.lock().take());
        drop(db);
    }
}

/// The messages of a table, read in batches.
#[pyclass(module = "can._core")]
pub struct SqliteRows {
    db: Py<SqliteDatabase>,
    factory: MessageFactory,
    cursor: Cursor,
    batch: Batch,
    /// The next row of `batch` to hand out.
    next: usize,
    ended: bool,
    /// The error that ended the last batch, raised once its good rows are handed out.
    pending: Option<PyErr>,
}

#[pymethods]
impl SqliteRows {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        if self.next >= self.batch.rows.len() {
            if let Some(e) = self.pending.take() {
                return Err(e);
            }
            if self.ended {
                return Ok(None);
            }
            let (cursor, batch) = (&mut self.cursor, &mut self.batch);
            let read = self
                .db
                .get()
                .with(py, |db| db.read(cursor, BATCH_ROWS, batch));
            self.next = 0;
            match read {
                Ok(n) => self.ended = n < BATCH_ROWS,
                // The rows before the bad one come first.
                Err(e) => {
                    self.ended = true;
                    self.pending = Some(e);
                }
            }
            if self.batch.rows.is_empty() {
                return match self.pending.take() {
                    Some(e) => Err(e),
                    None => Ok(None),
                };
            }
        }
        let Some(row) = self.batch.rows.get(self.next) else {
            return Ok(None);
        };
        self.next += 1;
        let b = |v: bool| PyBool::new(py, v).to_owned().into_any();
        let fields = [
            PyFloat::new(py, row.timestamp).into_any(),
            int_object(py, row.arbitration_id),
            b(row.extended),
            b(row.remote),
            b(row.error),
            py.None().into_bound(py),
            int_object(py, row.dlc),
            PyByteArray::new(py, self.batch.data(row)).into_any(),
            b(false),
            b(true),
            b(false),
            b(false),
        ];
        self.factory.build(py, fields).map(Some)
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<SqliteDatabase>()?;
    m.add_class::<SqliteRows>()?;
    Ok(())
}
