//! What every log format is, whatever its codec: a [`FrameReader`] (frames out) and a
//! [`FrameWriter`] (frames in), with errors in the crate's one [`Error`] type.
//!
//! BLF ([`crate::blf`]), ASC ([`crate::asc`]), the candump log ([`crate::candump`]), PEAK
//! TRC ([`crate::trc`]) and CSV ([`crate::csv`]) implement both traits; the converter ([`crate::convert`]) and the
//! binding layer's generic reader and writer work on the traits, so a new format is one more
//! implementation (and one more [`Format`]) rather than one more arm in every consumer. The
//! text formats share their line handling through [`crate::lines::TextReader`] and
//! [`crate::lines::LineFormat`].

use crate::blf::GlobalMarker;
pub use crate::error::{Error, Result};
use crate::frame::CanFrame;

/// A log file format with a native codec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Blf,
    Asc,
    Log,
    Trc,
    Csv,
}

impl Format {
    /// Every format, in the order the converter lists them.
    pub const ALL: [Format; 5] = [
        Format::Blf,
        Format::Asc,
        Format::Log,
        Format::Trc,
        Format::Csv,
    ];

    /// The suffix of the format's files, without the dot.
    pub fn suffix(self) -> &'static str {
        match self {
            Format::Blf => "blf",
            Format::Asc => "asc",
            Format::Log => "log",
            Format::Trc => "trc",
            Format::Csv => "csv",
        }
    }

    /// The format of a file name's suffix (`.blf`, `.asc`, `.log`, `.trc`, `.csv`, any case).
    pub fn from_name(name: &str) -> Option<Format> {
        let ext = name.rsplit_once('.')?.1;
        Format::ALL
            .into_iter()
            .find(|f| ext.eq_ignore_ascii_case(f.suffix()))
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Blf => "BLF",
            Format::Asc => "ASC",
            Format::Log => "candump log",
            Format::Trc => "PEAK TRC",
            Format::Csv => "CSV",
        }
    }
}

/// One item of a log: a frame, or a marker (a BLF global marker, which ASC keeps as a text
/// event).
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    Frame(CanFrame),
    Marker(GlobalMarker),
}

/// What a reader knows once it is done: what it skipped and what the user should hear.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReadSummary {
    /// Malformed lines skipped (text formats read with `strict` false).
    pub skipped_lines: u64,
    /// The first of them, as its error says it.
    pub first_skipped: Option<String>,
    /// BLF: how the input was cut short.
    pub truncation: Option<String>,
}

/// A source of frames: a log file being read.
pub trait FrameReader {
    /// The next frame (its timestamp Unix time where the file says when it was recorded,
    /// its channel counted from 0) or marker; `None` at the end of the input.
    fn next_event(&mut self) -> Result<Option<Event>>;

    /// The interface name the last frame was recorded on, for formats that name interfaces
    /// (a candump log) rather than number them.
    fn channel_name(&self) -> Option<&[u8]> {
        None
    }

    /// Things the user should know that are no error (a date that could not be read, no
    /// start time), handed out once.
    fn take_warnings(&mut self) -> Vec<String> {
        Vec::new()
    }

    /// What was skipped so far.
    fn summary(&self) -> ReadSummary;
}

/// A sink of frames: a log file being written.
///
/// Writers buffer what they format; [`drain`](Self::drain) hands the buffer to the output,
/// [`flush`](Self::flush) also flushes the output, [`finish`](Self::finish) ends the file.
pub trait FrameWriter {
    /// Writes `frame` (its channel counted from 0). `name` is the interface name the frame
    /// was read with, which a format that names interfaces keeps; the others number them.
    /// `Ok(false)`: the format (or its version) cannot hold this frame, which is not written.
    fn write_frame(&mut self, frame: &CanFrame, name: Option<&[u8]>) -> Result<bool>;

    /// Writes a marker where the format has a place for one (`Ok(false)`: it has none).
    fn write_marker(&mut self, marker: &GlobalMarker) -> Result<bool> {
        let _ = marker;
        Ok(false)
    }

    /// Hands the formatted bytes to the output (without flushing it).
    fn drain(&mut self) -> Result<()>;

    /// Hands the formatted bytes to the output and flushes it.
    fn flush(&mut self) -> Result<()>;

    /// Ends the file and flushes it; later calls do nothing. `Ok(false)`: the file is
    /// complete but a header could not be rewritten (an output that cannot seek).
    fn finish(&mut self) -> Result<bool>;

    /// Bytes formatted (or objects buffered) but not yet handed to the output.
    fn buffered(&self) -> usize;

    /// Forgets what is buffered (after an error handing it over was reported).
    fn clear_buffer(&mut self);
}

/// `can<n>`, the interface name of frame channel `n` in a candump log, in `buf`.
pub(crate) fn interface_name(buf: &mut [u8; 16], channel: i32) -> &[u8] {
    use std::io::Write;
    let mut cur = std::io::Cursor::new(&mut buf[..]);
    // ok: "can" and an i32 take at most 14 bytes of the 16.
    let _ = write!(cur, "can{channel}");
    let n = cur.position() as usize;
    &buf[..n]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_name_formats_in_any_case() {
        assert_eq!(Format::from_name("a.BLF"), Some(Format::Blf));
        assert_eq!(Format::from_name("dir.x/a.trc"), Some(Format::Trc));
        assert_eq!(Format::from_name("a.CSV"), Some(Format::Csv));
        assert_eq!(Format::from_name("a.db"), None);
        assert_eq!(Format::from_name("noext"), None);
        for f in Format::ALL {
            assert_eq!(Format::from_name(&format!("x.{}", f.suffix())), Some(f));
        }
    }

    #[test]
    fn interface_names() {
        let mut b = [0u8; 16];
        assert_eq!(interface_name(&mut b, 3), b"can3");
        assert_eq!(interface_name(&mut b, i32::MIN), b"can-2147483648");
    }
}
