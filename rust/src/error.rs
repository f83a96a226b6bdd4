//! The crate's one error type: what every log format's reader and writer (and the converter)
//! reports, whatever the format.
//!
//! Each codec keeps the small error enum that fits its input ([`crate::lines::Error`] for the
//! text formats, which count lines; [`crate::blf::Error`], which counts bytes); both become an
//! [`Error`] here, which adds what the codec does not know: the format and the file's name.
//! The binding layer maps this type, and only this type, to Python exceptions.

use std::io;

use crate::log::Format;

/// Where in its input a parse error is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// A 1-based line of a text file.
    Line(u64),
    /// A byte offset of a binary file.
    Byte(u64),
    /// The file as a whole (it is not in the format at all).
    File,
}

/// Why a log file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is not valid `format`: `what` says what is wrong, and where (it names the
    /// line or byte offset, as `at` holds it); `file` names the input ("" when unknown).
    #[error("{}{what}", file_prefix(file))]
    Parse {
        format: Format,
        file: String,
        at: Position,
        what: String,
    },
    /// A value cannot be written in the output's format (a timestamp, a channel, ...).
    #[error("{0}")]
    Value(String),
    /// The file (or the Python file object behind it) failed.
    #[error("{}{source}", file_prefix(file))]
    Io { file: String, source: io::Error },
    /// A database of messages (SQLite) that cannot be read as one: no such table, not a
    /// database, or (`row`, counted from 1 in the table's order) a row that is no message.
    #[error("{}", database_text(file, table, *row, what))]
    Database {
        file: String,
        table: String,
        row: Option<u64>,
        what: String,
    },
    /// A progress callback asked a conversion to stop.
    #[error("conversion interrupted: {0}")]
    Interrupted(String),
}

fn file_prefix(file: &str) -> String {
    if file.is_empty() {
        String::new()
    } else {
        format!("{file}: ")
    }
}

fn database_text(file: &str, table: &str, row: Option<u64>, what: &str) -> String {
    match row {
        Some(row) => format!("{file}, table '{table}', row {row}: {what}"),
        None => format!("{}{what}", file_prefix(file)),
    }
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A text codec's error in `format`.
    pub fn text(e: crate::lines::Error, format: Format) -> Self {
        use crate::lines::Error as E;
        match e {
            E::Value(v) => Error::Value(v),
            E::Io(source) => Error::from(source),
            other => Error::Parse {
                format,
                file: String::new(),
                at: match &other {
                    E::Malformed { line, .. } | E::LineTooLong { line, .. } => {
                        Position::Line(*line)
                    }
                    _ => Position::File,
                },
                what: other.to_string(),
            },
        }
    }

    /// The same error, naming `file` (unless it names one already, or `file` is empty).
    pub fn in_file(mut self, name: &str) -> Self {
        if let Error::Parse { file, .. } | Error::Io { file, .. } | Error::Database { file, .. } =
            &mut self
        {
            if file.is_empty() {
                name.clone_into(file);
            }
        }
        self
    }

    /// The format of a parse error.
    pub fn format(&self) -> Option<Format> {
        match self {
            Error::Parse { format, .. } => Some(*format),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(source: io::Error) -> Self {
        Error::Io {
            file: String::new(),
            source,
        }
    }
}

impl From<crate::blf::Error> for Error {
    fn from(e: crate::blf::Error) -> Self {
        use crate::blf::Error as E;
        match e {
            E::Value(v) => Error::Value(v),
            E::Io(source) => Error::from(source),
            other => Error::Parse {
                format: Format::Blf,
                file: String::new(),
                at: match &other {
                    E::Corrupt { offset, .. } => Position::Byte(*offset),
                    _ => Position::File,
                },
                what: other.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_error_names_its_file_format_and_line() {
        let e = Error::text(
            crate::lines::Error::Malformed {
                line: 7,
                what: "bad id".into(),
            },
            Format::Asc,
        )
        .in_file("x.asc");
        assert_eq!(e.to_string(), "x.asc: line 7: bad id");
        assert_eq!(e.format(), Some(Format::Asc));
        assert!(matches!(
            e,
            Error::Parse {
                at: Position::Line(7),
                ..
            }
        ));
    }

    #[test]
    fn a_blf_error_names_its_file_and_byte_offset() {
        let e = Error::from(crate::blf::Error::Corrupt {
            offset: 144,
            what: "bad object".into(),
        })
        .in_file("x.blf");
        assert_eq!(
            e.to_string(),
            "x.blf: corrupt BLF file at byte 144: bad object"
        );
        assert!(matches!(
            e,
            Error::Parse {
                at: Position::Byte(144),
                format: Format::Blf,
                ..
            }
        ));
    }

    #[test]
    fn value_and_io_errors_stay_what_they_are() {
        let e = Error::text(crate::lines::Error::Value("too big".into()), Format::Trc);
        assert!(matches!(e, Error::Value(ref v) if v == "too big"));
        let e = Error::from(crate::blf::Error::Io(io::Error::other("disk"))).in_file("f");
        assert_eq!(e.to_string(), "f: disk");
        // A name given first wins over a later one.
        let e = Error::text(crate::lines::Error::NotThisFormat("no".into()), Format::Log)
            .in_file("a")
            .in_file("b");
        assert_eq!(e.to_string(), "a: no");
    }
}
