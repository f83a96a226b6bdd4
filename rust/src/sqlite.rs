//! Reading the SQLite databases of messages that `can.SqliteWriter` (and python-can's) write:
//! one table, one row per message, in the columns of the python-can manual (section 3.4.6):
//!
//! | column           | type    | content                                     |
//! |------------------|---------|---------------------------------------------|
//! | `ts`             | REAL    | the timestamp                               |
//! | `arbitration_id` | INTEGER | the identifier                              |
//! | `extended`       | INTEGER | 1 for a 29-bit identifier, else 0           |
//! | `remote`         | INTEGER | 1 for a remote frame, else 0                |
//! | `error`          | INTEGER | 1 for an error frame, else 0                |
//! | `dlc`            | INTEGER | the data length code                        |
//! | `data`           | BLOB    | the payload (NULL reads as no bytes)        |
//!
//! The rows are read in `rowid` order, in batches: each batch is one short statement that
//! starts after the last row read, so no read lock is held between batches and a writer that
//! is still filling the table can commit while a reader is part-way through it (a reader then
//! goes on to the rows committed since, up to the end of the table when it gets there).
//!
//! A row is not turned into a [`crate::frame::CanFrame`]: the columns hold any SQLite integer
//! (an identifier wider than 29 bits, a DLC above 15, a payload of any length), and a reader
//! hands them on as they are, as python-can does. Values of the wrong storage class (a TEXT
//! identifier, a REAL flag, a TEXT payload) are an error naming the row.
//!
//! The database is opened with the SQLite library compiled into this crate (rusqlite's
//! `bundled`), so nothing depends on the system's libsqlite3.

use std::io;
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::error::{Error, Result};

/// The columns read, in the order of [`Row`].
pub const COLUMNS: &str = "ts, arbitration_id, extended, remote, error, dlc, data";

/// How long a statement waits for a writer's lock before it fails (as Python's `sqlite3`).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// `name` quoted as an SQL identifier, if it is one: an ASCII letter or `_`, then ASCII
/// letters, digits and `_`. Nothing else is accepted, so no table name can carry SQL.
pub fn quote_identifier(name: &str) -> Option<String> {
    let mut chars = name.chars();
    let first = chars.next()?;
    let ok = (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    ok.then(|| format!("\"{name}\""))
}

/// One row of a message table; its payload is `data` in the [`Batch`]'s byte buffer.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub timestamp: f64,
    pub arbitration_id: i64,
    pub extended: bool,
    pub remote: bool,
    pub error: bool,
    pub dlc: i64,
    pub data: Range<usize>,
}

/// Rows read in one go, their payloads side by side in one buffer.
#[derive(Debug, Default)]
pub struct Batch {
    pub rows: Vec<Row>,
    bytes: Vec<u8>,
}

impl Batch {
    /// The payload of `row` (a row of this batch).
    pub fn data(&self, row: &Row) -> &[u8] {
        self.bytes.get(row.data.clone()).unwrap_or_default()
    }

    pub fn clear(&mut self) {
        self.rows.clear();
        self.bytes.clear();
    }
}

/// Where an iteration over a table is: the next `rowid` to read and how many rows were read.
#[derive(Clone, Debug)]
pub struct Cursor {
    /// None once the largest possible rowid was read.
    next_rowid: Option<i64>,
    rows: u64,
}

impl Default for Cursor {
    fn default() -> Self {
        Cursor {
            next_rowid: Some(i64::MIN),
            rows: 0,
        }
    }
}

impl Cursor {
    /// Rows read so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }
}

/// A database file opened for reading one table of messages.
pub struct Database {
    conn: Connection,
    /// Names the file in errors.
    file: String,
    table: String,
    select: String,
    count: String,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("file", &self.file)
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

impl Database {
    /// Opens `path` (named `file` in errors) and checks that it is an SQLite database with a
    /// table `table` holding the columns of a message table. The file must exist; it is not
    /// created.
    pub fn open(path: &Path, file: &str, table: &str) -> Result<Database> {
        let quoted = quote_identifier(table).ok_or_else(|| {
            Error::Value(format!(
                "table_name must be an SQL identifier (letters, digits and _, not starting \
                 with a digit), not {table:?}"
            ))
        })?;
        // Read-write (without create) as Python's sqlite3 opens it, so that a journal left
        // by a writer that died is rolled back; SQLite falls back to read-only by itself
        // when the file is write-protected. The connection is used under a lock by the
        // caller, so SQLite's own mutex is not needed.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| io_error(file, &e))?;
        let db = Database {
            conn,
            file: file.to_owned(),
            table: table.to_owned(),
            select: format!(
                "SELECT rowid, {COLUMNS} FROM {quoted} WHERE rowid >= ?1 ORDER BY rowid LIMIT ?2"
            ),
            count: format!("SELECT COUNT(*) FROM {quoted}"),
        };
        db.conn
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| db.sql_error(e))?;
        let found = db
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get::<_, i64>(0),
            )
            .map_err(|e| db.sql_error(e))?;
        if found == 0 {
            return Err(db.whole(format!("the database has no table {}", py_str(table))));
        }
        // The statement is compiled once here so that a table without the columns fails now.
        if let Err(e) = db.conn.prepare(&db.select) {
            return Err(match e {
                rusqlite::Error::SqlInputError { msg, .. }
                | rusqlite::Error::SqliteFailure(_, Some(msg)) => db.whole(format!(
                    "the table {} is not a table of messages ({COLUMNS}): {msg}",
                    py_str(table)
                )),
                e => db.sql_error(e),
            });
        }
        Ok(db)
    }

    /// The file's name, as given to [`Database::open`].
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The number of rows in the table.
    pub fn count(&self) -> Result<u64> {
        let n = self
            .conn
            .query_row(&self.count, [], |r| r.get::<_, i64>(0))
            .map_err(|e| self.sql_error(e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Reads up to `max` rows after those `cursor` read into `batch` (cleared first) and moves
    /// `cursor` past them. Fewer than `max` rows (none at all, at the end): the table ended.
    /// On an error (a row that is no message), `batch` holds the rows before it.
    pub fn read(&self, cursor: &mut Cursor, max: usize, batch: &mut Batch) -> Result<usize> {
        batch.clear();
        let Some(start) = cursor.next_rowid else {
            return Ok(0);
        };
        let mut stmt = self
            .conn
            .prepare(&self.select)
            .map_err(|e| self.sql_error(e))?;
        let limit = i64::try_from(max).unwrap_or(i64::MAX);
        let mut rows = stmt.query((start, limit)).map_err(|e| self.sql_error(e))?;
        while let Some(r) = rows.next().map_err(|e| self.sql_error(e))? {
            let row_no = cursor.rows + 1;
            let rowid = match r.get_ref(0).map_err(|e| self.sql_error(e))? {
                ValueRef::Integer(i) => i,
                // SQLite gives every rowid as an integer; anything else is reported, not trusted.
                _ => return Err(self.bad_row(row_no, "its rowid is not an integer".into())),
            };
            let mut v = [ValueRef::Null; 7];
            for (i, slot) in v.iter_mut().enumerate() {
                *slot = r.get_ref(i + 1).map_err(|e| self.sql_error(e))?;
            }
            let row = self.row(row_no, v, &mut batch.bytes)?;
            batch.rows.push(row);
            cursor.rows = row_no;
            cursor.next_rowid = rowid.checked_add(1);
        }
        Ok(batch.rows.len())
    }

    /// One row's values checked and converted; the payload is appended to `bytes`.
    fn row(&self, row_no: u64, v: [ValueRef<'_>; 7], bytes: &mut Vec<u8>) -> Result<Row> {
        const NAMES: [&str; 7] = [
            "ts",
            "arbitration_id",
            "extended",
            "remote",
            "error",
            "dlc",
            "data",
        ];
        let wrong = |i: usize| {
            self.bad_row(
                row_no,
                format!(
                    "expected REAL ts, INTEGER arbitration_id, extended, remote, error and dlc, \
                     and a BLOB data, but {} is {}",
                    NAMES[i],
                    describe(&v[i])
                ),
            )
        };
        let int = |i: usize| match v[i] {
            ValueRef::Integer(n) => Ok(n),
            _ => Err(wrong(i)),
        };
        let timestamp = match v[0] {
            ValueRef::Real(t) => t,
            ValueRef::Integer(n) => n as f64,
            _ => return Err(wrong(0)),
        };
        let arbitration_id = int(1)?;
        let extended = int(2)? != 0;
        let remote = int(3)? != 0;
        let error = int(4)? != 0;
        let dlc = int(5)?;
        let payload: &[u8] = match v[6] {
            ValueRef::Blob(b) => b,
            ValueRef::Null => &[],
            _ => return Err(wrong(6)),
        };
        let start = bytes.len();
        bytes.extend_from_slice(payload);
        Ok(Row {
            timestamp,
            arbitration_id,
            extended,
            remote,
            error,
            dlc,
            data: start..bytes.len(),
        })
    }

    /// An error about the database as a whole.
    fn whole(&self, what: String) -> Error {
        Error::Database {
            file: self.file.clone(),
            table: self.table.clone(),
            row: None,
            what,
        }
    }

    fn bad_row(&self, row: u64, what: String) -> Error {
        Error::Database {
            file: self.file.clone(),
            table: self.table.clone(),
            row: Some(row),
            what,
        }
    }

    /// An error of the SQLite library: a file that is no database (or a corrupt one) is a
    /// database error, anything else (a lock held too long, a disk error) an I/O error.
    fn sql_error(&self, e: rusqlite::Error) -> Error {
        match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => self.whole(format!("not an SQLite database: {e}")),
            Some(ErrorCode::DatabaseCorrupt) => self.whole(format!("the database is corrupt: {e}")),
            _ => io_error(&self.file, &e),
        }
    }
}

fn io_error(file: &str, e: &rusqlite::Error) -> Error {
    Error::Io {
        file: file.to_owned(),
        source: io::Error::other(e.to_string()),
    }
}

/// `s` quoted as Python's `repr` quotes a plain string (for the names in messages).
fn py_str(s: &str) -> String {
    if s.contains('\'') && !s.contains('"') {
        format!("\"{s}\"")
    } else {
        format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

/// What a value is, for an error message: its storage class and (in short) its value.
fn describe(v: &ValueRef<'_>) -> String {
    const SHOWN: usize = 40;
    match v {
        ValueRef::Null => "NULL".into(),
        ValueRef::Integer(n) => format!("INTEGER {n}"),
        ValueRef::Real(f) => format!("REAL {f:?}"),
        ValueRef::Text(t) => {
            let text = String::from_utf8_lossy(t);
            let cut: String = text.chars().take(SHOWN).collect();
            let more = if cut.len() < text.len() { "..." } else { "" };
            format!("TEXT {}{more}", py_str(&cut))
        }
        ValueRef::Blob(b) => format!("BLOB of {} bytes", b.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Tmp(std::path::PathBuf);
    impl Drop for Tmp {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    /// A database made by SQLite itself with `sql` run in it.
    fn db_with(name: &str, sql: &str) -> Tmp {
        let path =
            std::env::temp_dir().join(format!("can_sqlite_{}_{name}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let conn = Connection::open(&path).expect("create");
        conn.execute_batch(sql).expect("sql");
        Tmp(path)
    }

    const SCHEMA: &str = "CREATE TABLE messages (ts REAL, arbitration_id INTEGER, \
        extended INTEGER, remote INTEGER, error INTEGER, dlc INTEGER, data BLOB);";

    fn read_all(db: &Database, max: usize) -> Result<Vec<(Row, Vec<u8>)>> {
        let mut cursor = Cursor::default();
        let mut batch = Batch::default();
        let mut out = Vec::new();
        loop {
            let n = db.read(&mut cursor, max, &mut batch)?;
            out.extend(
                batch
                    .rows
                    .iter()
                    .map(|r| (r.clone(), batch.data(r).to_vec())),
            );
            if n < max {
                return Ok(out);
            }
        }
    }

    #[test]
    fn identifiers_only() {
        assert_eq!(
            quote_identifier("messages").as_deref(),
            Some("\"messages\"")
        );
        assert_eq!(quote_identifier("_run_2").as_deref(), Some("\"_run_2\""));
        for bad in ["", "1abc", "a b", "x\"y", "m; DROP TABLE x", "m--", "é"] {
            assert_eq!(quote_identifier(bad), None, "{bad}");
        }
    }

    #[test]
    fn rows_come_in_rowid_order_across_batches() {
        let t = db_with(
            "order",
            &format!(
                "{SCHEMA} INSERT INTO messages VALUES (1.5, 291, 0, 0, 0, 3, x'010203');
                 INSERT INTO messages VALUES (2, 1193046, 1, 0, 0, 0, NULL);
                 INSERT INTO messages VALUES (3.0, 2047, 0, 1, 0, 8, x'');
                 INSERT INTO messages VALUES (4.0, 4, 0, 0, 1, 8, x'0010000000000000');
                 INSERT INTO messages VALUES (5.0, 5, 0, 0, 0, 64, zeroblob(64));"
            ),
        );
        let db = Database::open(&t.0, "x.db", "messages").expect("open");
        assert_eq!(db.count().expect("count"), 5);
        for max in [1, 2, 5, 100] {
            let rows = read_all(&db, max).expect("read");
            assert_eq!(rows.len(), 5, "batches of {max}");
            assert_eq!(rows[0].0.timestamp, 1.5);
            assert_eq!(rows[0].0.arbitration_id, 0x123);
            assert_eq!(rows[0].1, [1, 2, 3]);
            // an INTEGER timestamp is a float; a NULL payload has no bytes
            assert_eq!(rows[1].0.timestamp, 2.0);
            assert!(rows[1].0.extended && rows[1].1.is_empty());
            assert!(rows[2].0.remote && rows[2].0.dlc == 8);
            assert!(rows[3].0.error && rows[3].1.len() == 8);
            assert_eq!(rows[4].1, [0; 64]);
        }
    }

    #[test]
    fn rows_committed_between_batches_are_read() {
        let t = db_with(
            "grow",
            &format!("{SCHEMA} INSERT INTO messages VALUES (1.0, 1, 0, 0, 0, 0, NULL);"),
        );
        let db = Database::open(&t.0, "x.db", "messages").expect("open");
        let (mut cursor, mut batch) = (Cursor::default(), Batch::default());
        assert_eq!(db.read(&mut cursor, 10, &mut batch).expect("read"), 1);
        let writer = Connection::open(&t.0).expect("writer");
        writer
            .execute_batch("INSERT INTO messages VALUES (2.0, 2, 0, 0, 0, 0, NULL);")
            .expect("insert");
        assert_eq!(db.read(&mut cursor, 10, &mut batch).expect("read"), 1);
        assert_eq!(batch.rows[0].arbitration_id, 2);
        assert_eq!(cursor.rows(), 2);
    }

    #[test]
    fn a_bad_row_is_named() {
        let t = db_with(
            "bad",
            &format!(
                "{SCHEMA} INSERT INTO messages VALUES (1.0, 1, 0, 0, 0, 0, NULL);
                 INSERT INTO messages VALUES (1.0, 'abc', 0, 0, 0, 0, x'');"
            ),
        );
        let db = Database::open(&t.0, "x.db", "messages").expect("open");
        let e = read_all(&db, 100).expect_err("bad row");
        assert_eq!(
            e.to_string(),
            "x.db, table 'messages', row 2: expected REAL ts, INTEGER arbitration_id, \
             extended, remote, error and dlc, and a BLOB data, but arbitration_id is TEXT 'abc'"
        );
        for (values, column) in [
            ("('soon', 1, 0, 0, 0, 0, NULL)", "ts is TEXT 'soon'"),
            ("(1.0, 1, 0.5, 0, 0, 0, NULL)", "extended is REAL 0.5"),
            ("(1.0, 1, 0, 0, 0, NULL, NULL)", "dlc is NULL"),
            ("(1.0, 1, 0, 0, 0, 0, 'text')", "data is TEXT 'text'"),
        ] {
            let t = db_with(
                "bad2",
                &format!("{SCHEMA} INSERT INTO messages VALUES {values};"),
            );
            let db = Database::open(&t.0, "y.db", "messages").expect("open");
            let e = read_all(&db, 100).expect_err(values).to_string();
            assert!(e.starts_with("y.db, table 'messages', row 1: "), "{e}");
            assert!(e.ends_with(column), "{e}");
        }
    }

    #[test]
    fn no_table_no_database_no_columns() {
        let t = db_with("none", SCHEMA);
        let e = Database::open(&t.0, "x.db", "other").expect_err("no table");
        assert_eq!(e.to_string(), "x.db: the database has no table 'other'");
        assert!(matches!(e, Error::Database { row: None, .. }));

        let t = db_with(
            "cols",
            "CREATE TABLE messages (ts REAL, arbitration_id INTEGER);",
        );
        let e = Database::open(&t.0, "c.db", "messages").expect_err("no columns");
        assert!(
            e.to_string()
                .starts_with("c.db: the table 'messages' is not a table of messages"),
            "{e}"
        );

        let junk =
            Tmp(std::env::temp_dir().join(format!("can_sqlite_{}_junk.db", std::process::id())));
        std::fs::write(&junk.0, b"this is not a database".repeat(100)).expect("write");
        let e = Database::open(&junk.0, "junk.db", "messages").expect_err("junk");
        assert!(
            e.to_string().starts_with("junk.db: not an SQLite database"),
            "{e}"
        );

        let e = Database::open(&junk.0, "junk.db", "a;b").expect_err("identifier");
        assert!(matches!(e, Error::Value(_)));

        let missing = std::env::temp_dir().join("can_sqlite_surely_missing_dir/none.db");
        let e = Database::open(&missing, "none.db", "messages").expect_err("missing");
        assert!(matches!(e, Error::Io { .. }), "{e:?}");
    }
}
