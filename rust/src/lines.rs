//! Line-oriented reading for the text log formats (ASC, candump `-L` log), with a bounded line
//! length, and the error type their readers and writers share.
//!
//! [`LineReader`] hands out one line at a time as a byte slice into its own buffer, so a reader
//! parses without allocating per line. Lines end at `\n`, `\r\n` or a lone `\r` (the universal
//! newlines of Python's text files, which python-can reads these logs with), and the last line
//! may lack its terminator. A line longer than the limit is never held in memory: its
//! bytes are read and dropped up to the next `\n`, and the reader reports
//! [`Error::LineTooLong`] for it, after which it can go on with the next line.

use std::io::{self, Read};

/// Longest line the readers accept (1 MiB). A CAN XL line in an ASC file, the longest event in
/// any of our formats, is under 7 KB.
pub const MAX_LINE_LEN: usize = 1 << 20;

/// Bytes asked of the source per read.
const CHUNK: usize = 256 << 10;

/// Why a text log could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A line that should hold a frame (or a header the format requires) does not parse.
    #[error("line {line}: {what}")]
    Malformed { line: u64, what: String },
    /// A line is longer than the reader's limit; its bytes were dropped.
    #[error("line {line} is longer than {max} bytes")]
    LineTooLong { line: u64, max: usize },
    /// A value cannot be written in this format.
    #[error("{0}")]
    Value(String),
    /// The input is not in the reader's format at all (an error about the whole file, which a
    /// lenient reader does not skip).
    #[error("{0}")]
    NotThisFormat(String),
    /// The underlying file failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl Error {
    /// The 1-based line number the error is about, if it is about a line.
    pub fn line(&self) -> Option<u64> {
        match self {
            Error::Malformed { line, .. } | Error::LineTooLong { line, .. } => Some(*line),
            _ => None,
        }
    }

    /// Whether a lenient reader may skip the line this error is about and go on.
    pub fn is_line_error(&self) -> bool {
        self.line().is_some()
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// Reads lines from `R` into a reusable buffer, at most `max_len` bytes each.
pub struct LineReader<R> {
    src: R,
    buf: Vec<u8>,
    /// Start of the unconsumed bytes in `buf`.
    start: usize,
    /// End of the valid bytes in `buf`.
    end: usize,
    /// `buf[start..scanned]` is known to hold no `\n`.
    scanned: usize,
    eof: bool,
    /// The last line ended with a `\r` at the end of the buffer: a `\n` that follows belongs
    /// to that terminator.
    after_cr: bool,
    line_no: u64,
    max_len: usize,
    bytes_consumed: u64,
    /// The line returned last had no terminator: it ended the input.
    unterminated: bool,
}

impl<R: Read> LineReader<R> {
    pub fn new(src: R) -> Self {
        Self::with_max_len(src, MAX_LINE_LEN)
    }

    /// A reader whose lines may be at most `max_len` bytes long (terminator excluded).
    pub fn with_max_len(src: R, max_len: usize) -> Self {
        LineReader {
            src,
            buf: Vec::new(),
            start: 0,
            end: 0,
            scanned: 0,
            eof: false,
            after_cr: false,
            line_no: 0,
            max_len: max_len.max(1),
            bytes_consumed: 0,
            unterminated: false,
        }
    }

    /// Whether the line returned last ended the input without a line terminator (in a log a
    /// writer ends every line, so that line may have been cut).
    pub fn last_line_unterminated(&self) -> bool {
        self.unterminated
    }

    /// Number of the line most recently returned (1-based; 0 before the first).
    pub fn line_no(&self) -> u64 {
        self.line_no
    }

    /// Bytes of the source consumed so far (whole lines, terminators included).
    pub fn bytes_consumed(&self) -> u64 {
        self.bytes_consumed
    }

    /// Reads more bytes into the buffer; false at the end of the source.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 && (self.start == self.end || self.buf.len() - self.end < CHUNK) {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.scanned -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < CHUNK {
            // Exact growth keeps the buffer at most `max_len` plus two chunks.
            self.buf.reserve_exact(self.end + CHUNK - self.buf.len());
            self.buf.resize(self.end + CHUNK, 0);
        }
        loop {
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n.min(self.buf.len() - self.end);
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Drops bytes up to and including the next line terminator (or to the end of the source).
    fn skip_rest_of_line(&mut self) -> io::Result<()> {
        loop {
            if let Some(i) = find_eol(&self.buf[self.start..self.end]) {
                let next = self.after_terminator(self.start + i);
                self.bytes_consumed += (next - self.start) as u64;
                self.start = next;
                self.scanned = next;
                return Ok(());
            }
            self.bytes_consumed += (self.end - self.start) as u64;
            self.start = self.end;
            self.scanned = self.end;
            if !self.fill()? {
                return Ok(());
            }
        }
    }

    /// Index after the terminator that starts at `eol` (a `\n`, `\r\n` or lone `\r`). A `\r`
    /// that is the last byte of the buffer is taken whole; a `\n` read next is dropped then.
    fn after_terminator(&mut self, eol: usize) -> usize {
        if self.buf[eol] != b'\r' {
            return eol + 1;
        }
        if eol + 1 == self.end {
            self.after_cr = true;
            eol + 1
        } else if self.buf[eol + 1] == b'\n' {
            eol + 2
        } else {
            eol + 1
        }
    }

    /// The next line without its terminator, `None` at the end of the source.
    pub fn next_line(&mut self) -> Result<Option<&[u8]>> {
        loop {
            if self.after_cr && self.start < self.end {
                // The `\n` of a `\r\n` split between two reads.
                self.after_cr = false;
                if self.buf[self.start] == b'\n' {
                    self.start += 1;
                    self.scanned = self.scanned.max(self.start);
                    self.bytes_consumed += 1;
                }
            }
            if let Some(i) = find_eol(&self.buf[self.scanned..self.end]) {
                let nl = self.scanned + i;
                let line_start = self.start;
                self.unterminated = false;
                let next = self.after_terminator(nl);
                self.line_no += 1;
                self.bytes_consumed += (next - line_start) as u64;
                self.start = next;
                self.scanned = next;
                if nl - line_start > self.max_len {
                    return Err(Error::LineTooLong {
                        line: self.line_no,
                        max: self.max_len,
                    });
                }
                return Ok(Some(self.finish_line(line_start, nl)));
            }
            self.scanned = self.end;
            if self.end - self.start > self.max_len {
                // Too long: drop it without keeping it, then report it.
                self.line_no += 1;
                let line = self.line_no;
                self.bytes_consumed += (self.end - self.start) as u64;
                self.start = self.end;
                self.scanned = self.end;
                self.skip_rest_of_line()?;
                return Err(Error::LineTooLong {
                    line,
                    max: self.max_len,
                });
            }
            if !self.fill()? {
                if self.start == self.end {
                    return Ok(None);
                }
                // The last line, without a terminator.
                self.unterminated = true;
                let line_start = self.start;
                let end = self.end;
                self.line_no += 1;
                self.bytes_consumed += (end - line_start) as u64;
                self.start = end;
                self.scanned = end;
                return Ok(Some(self.finish_line(line_start, end)));
            }
        }
    }

    /// `buf[from..to]` without a UTF-8 byte order mark on line 1.
    fn finish_line(&self, mut from: usize, to: usize) -> &[u8] {
        if self.line_no == 1 && self.buf[from..to].starts_with(b"\xEF\xBB\xBF") {
            from += 3;
        }
        &self.buf[from..to]
    }
}

/// What a text log format does with the lines [`TextReader`] splits its input into.
///
/// The reader owns everything the text formats share (line splitting with `\n`, `\r\n` and
/// lone `\r`, the line length limit, strict or lenient reading, counting and remembering
/// skipped lines); the format only parses.
pub trait LineFormat {
    /// Which format this is (for its errors).
    const FORMAT: crate::log::Format;

    /// Things the user should know that are no error (a date that could not be read),
    /// handed out once.
    fn take_warnings(&mut self) -> Vec<String> {
        Vec::new()
    }

    /// The interface name of the line parsed last, for a format that names interfaces.
    fn channel_name(&self) -> Option<&[u8]> {
        None
    }

    /// A line before the first record: `Ok(true)` if it belongs to the header (and was
    /// taken in), `Ok(false)` if the header ended before it (it is then parsed as a record).
    /// Formats without a header keep the default.
    fn header_line(&mut self, line: &[u8], line_no: u64) -> Result<bool> {
        let _ = (line, line_no);
        Ok(false)
    }

    /// Parses line `line_no`: a frame, `None` for a line that holds none, or an error. A
    /// line error ([`Error::is_line_error`]) is skipped and counted when reading leniently;
    /// any other error ends the reading.
    fn parse_line(&mut self, line: &[u8], line_no: u64) -> Result<Option<crate::frame::CanFrame>>;

    /// A line too long to be read (it never reaches [`parse_line`](Self::parse_line)).
    fn unreadable_line(&mut self) {}

    /// The end of the input: an error if what was read is not in this format at all.
    fn at_end(&mut self) -> Result<()> {
        Ok(())
    }
}

/// A streaming reader of a text log: [`LineReader`] lines parsed by a [`LineFormat`].
pub struct TextReader<R, F> {
    lines: LineReader<R>,
    /// The format's state (its header, the interface of the last line, ...).
    pub format: F,
    strict: bool,
    skipped: u64,
    first_skipped: Option<Error>,
    header_done: bool,
    /// The line that ended the header, and its number, parsed next.
    pending: Option<(Vec<u8>, u64)>,
    /// Set when the input ended inside a line that does not parse (a cut file).
    truncation: Option<String>,
}

impl<R: Read, F: LineFormat> TextReader<R, F> {
    /// A reader of `src` in `format`; with `strict` false, malformed lines are skipped and
    /// counted; lines may be at most `max_line_len` bytes long.
    pub fn with_format(src: R, format: F, strict: bool, max_line_len: usize) -> Self {
        TextReader {
            lines: LineReader::with_max_len(src, max_line_len),
            format,
            strict,
            skipped: 0,
            first_skipped: None,
            header_done: false,
            pending: None,
            truncation: None,
        }
    }

    /// Reads the header (see [`LineFormat::header_line`]), keeping the line that ended it
    /// for [`next_frame`](Self::next_frame); called by it if not called before.
    pub fn read_header(&mut self) -> Result<()> {
        while !self.header_done {
            let no = self.lines.line_no() + 1;
            let error = match self.lines.next_line() {
                Ok(None) => break,
                Ok(Some(line)) => match self.format.header_line(line, no) {
                    Ok(true) => continue,
                    Ok(false) => {
                        self.pending = Some((line.to_vec(), no));
                        break;
                    }
                    Err(e) if e.is_line_error() => e,
                    Err(e) => return Err(e),
                },
                Err(e) if e.is_line_error() => {
                    self.format.unreadable_line();
                    e
                }
                Err(e) => return Err(e),
            };
            self.skip_or_fail(error)?;
        }
        self.header_done = true;
        Ok(())
    }

    /// The next frame, `None` at the end of the input.
    #[inline]
    pub fn next_frame(&mut self) -> Result<Option<crate::frame::CanFrame>> {
        if !self.header_done {
            self.read_header()?;
        }
        if let Some((line, no)) = self.pending.take() {
            match self.format.parse_line(&line, no) {
                Ok(Some(f)) => return Ok(Some(f)),
                Ok(None) => {}
                Err(e) if e.is_line_error() => self.skip_or_fail(e)?,
                Err(e) => return Err(e),
            }
        }
        loop {
            // A line read without error is the next one.
            let no = self.lines.line_no() + 1;
            let error = match self.lines.next_line() {
                Ok(None) => {
                    self.format.at_end()?;
                    return Ok(None);
                }
                Ok(Some(line)) => match self.format.parse_line(line, no) {
                    Ok(Some(f)) => return Ok(Some(f)),
                    Ok(None) => continue,
                    Err(e) if e.is_line_error() => e,
                    Err(e) => return Err(e),
                },
                Err(e) if e.is_line_error() => {
                    self.format.unreadable_line();
                    e
                }
                Err(e) => return Err(e),
            };
            if self.lines.last_line_unterminated() {
                // The input ends inside this line: a file cut while it was written. What came
                // before it is read; the cut line is left out and reported, not an error.
                self.truncation = Some(format!(
                    "the file ends inside line {no}, which is left out ({error})"
                ));
                self.format.at_end()?;
                return Ok(None);
            }
            self.skip_or_fail(error)?;
        }
    }

    /// The source the lines are read from.
    pub fn get_ref(&self) -> &R {
        &self.lines.src
    }

    /// Where the input ended inside a line that does not parse, if it did (a cut file).
    pub fn truncation(&self) -> Option<&str> {
        self.truncation.as_deref()
    }

    fn skip_or_fail(&mut self, error: Error) -> Result<()> {
        if self.strict {
            return Err(error);
        }
        self.skipped += 1;
        if self.first_skipped.is_none() {
            self.first_skipped = Some(error);
        }
        Ok(())
    }

    /// Number of malformed lines skipped (only when not strict).
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// The first malformed line skipped, if any.
    pub fn first_skipped(&self) -> Option<&Error> {
        self.first_skipped.as_ref()
    }

    /// Number of the line read last.
    pub fn line_no(&self) -> u64 {
        self.lines.line_no()
    }

    /// Bytes of the input consumed so far.
    pub fn bytes_consumed(&self) -> u64 {
        self.lines.bytes_consumed()
    }

    /// Things the user should know that are no error, handed out once.
    pub fn take_warnings(&mut self) -> Vec<String> {
        self.format.take_warnings()
    }
}

impl<R: Read, F: LineFormat> crate::log::FrameReader for TextReader<R, F> {
    fn next_event(&mut self) -> crate::Result<Option<crate::log::Event>> {
        match self.next_frame() {
            Ok(f) => Ok(f.map(crate::log::Event::Frame)),
            Err(e) => Err(crate::Error::text(e, F::FORMAT)),
        }
    }

    fn channel_name(&self) -> Option<&[u8]> {
        self.format.channel_name()
    }

    fn take_warnings(&mut self) -> Vec<String> {
        self.format.take_warnings()
    }

    fn summary(&self) -> crate::log::ReadSummary {
        crate::log::ReadSummary {
            skipped_lines: self.skipped,
            first_skipped: self.first_skipped.as_ref().map(ToString::to_string),
            truncation: self.truncation.clone(),
        }
    }
}

/// Formatted bytes a text log writer hands to its output in blocks of [`LineSink::FLUSH_AT`]:
/// the buffer and the output that the ASC, candump and TRC writers share.
pub struct LineSink<W> {
    pub out: W,
    /// Formatted lines not yet handed to `out`.
    pub buf: LineBuf,
}

impl<W: std::io::Write> LineSink<W> {
    /// Bytes formatted before they are handed to the output.
    pub const FLUSH_AT: usize = 64 << 10;

    pub fn new(out: W) -> Self {
        LineSink {
            out,
            buf: LineBuf::with_capacity(Self::FLUSH_AT + 4 * LINE_BUF_CAP),
        }
    }

    /// Hands the buffer to the output once it holds [`FLUSH_AT`](Self::FLUSH_AT) bytes, so
    /// that a whole line always fits after it.
    #[inline]
    pub fn make_room(&mut self) -> io::Result<()> {
        if self.buf.len() >= Self::FLUSH_AT {
            self.drain()?;
        }
        Ok(())
    }

    /// Hands buffered lines to the output (without flushing it).
    pub fn drain(&mut self) -> io::Result<()> {
        self.out.write_all(self.buf.as_slice())?;
        self.buf.clear();
        Ok(())
    }

    /// Hands buffered lines to the output and flushes it.
    pub fn flush(&mut self) -> io::Result<()> {
        self.drain()?;
        self.out.flush()
    }

    /// Bytes formatted but not yet handed to the output.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Forgets the formatted bytes not yet handed to the output (after an error handing
    /// them over was reported).
    pub fn clear_buffer(&mut self) {
        self.buf.clear();
    }
}

/// Position of the first line terminator byte (`\n` or `\r`) in `hay`.
///
/// The bit trick of [`find_byte`] for both bytes at once: the lowest flagged byte of either
/// test is exact, so the lower of the two is the first terminator.
#[inline]
pub fn find_eol(hay: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const LF: u64 = LO * b'\n' as u64;
    const CR: u64 = LO * b'\r' as u64;
    let mut chunks = hay.chunks_exact(8);
    let mut base = 0;
    for c in chunks.by_ref() {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let w = u64::from_le_bytes(w);
        let (a, b) = (w ^ LF, w ^ CR);
        let found = (a.wrapping_sub(LO) & !a | b.wrapping_sub(LO) & !b) & HI;
        if found != 0 {
            return Some(base + (found.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map(|i| base + i)
}

/// Position of the first `\n` in `hay`.
#[inline]
pub fn find_newline(hay: &[u8]) -> Option<usize> {
    find_byte(hay, b'\n')
}

/// Position of the first `needle` in `hay`.
///
/// Scans eight bytes at a time with the classic "has zero byte" bit trick, which keeps the
/// line splitter well under the cost of parsing the line.
#[inline]
pub fn find_byte(hay: &[u8], needle: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let pattern = LO * u64::from(needle);
    let mut chunks = hay.chunks_exact(8);
    let mut base = 0;
    for c in chunks.by_ref() {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let x = u64::from_le_bytes(w) ^ pattern;
        let found = x.wrapping_sub(LO) & !x & HI;
        if found != 0 {
            return Some(base + (found.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == needle)
        .map(|i| base + i)
}

/// Splits a line into whitespace-separated tokens (spaces and tabs).
#[derive(Clone)]
pub struct Tokens<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Tokens<'a> {
    pub fn new(s: &'a [u8]) -> Self {
        Tokens { s, pos: 0 }
    }

    /// The unread rest of the line, leading whitespace skipped.
    pub fn rest(&self) -> &'a [u8] {
        let mut p = self.pos;
        while p < self.s.len() && is_space(self.s[p]) {
            p += 1;
        }
        &self.s[p..]
    }

    /// The next token without consuming it.
    pub fn peek(&self) -> Option<&'a [u8]> {
        self.clone().next()
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let s = self.s;
        let mut p = self.pos;
        while p < s.len() && is_space(s[p]) {
            p += 1;
        }
        if p == s.len() {
            self.pos = p;
            return None;
        }
        let start = p;
        while p < s.len() && !is_space(s[p]) {
            p += 1;
        }
        self.pos = p;
        Some(&s[start..p])
    }
}

/// Field separators of the text logs: space and tab.
#[inline]
pub fn is_space(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// 0..=15 for the hexadecimal digits, 0xFF for every other byte.
const HEX_TABLE: [u8; 256] = {
    let mut t = [0xFFu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// Value of one hexadecimal digit.
#[inline]
pub fn hex_val(b: u8) -> Option<u8> {
    let v = HEX_TABLE[usize::from(b)];
    (v != 0xFF).then_some(v)
}

/// A hexadecimal number of 1 to 8 digits.
pub fn parse_hex_u32(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 8 {
        return None;
    }
    let mut v = 0u32;
    for &b in s {
        v = (v << 4) | u32::from(hex_val(b)?);
    }
    Some(v)
}

/// A decimal number of 1 to 9 digits.
pub fn parse_dec_u32(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 9 {
        return None;
    }
    let mut v = 0u32;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(b - b'0');
    }
    Some(v)
}

/// A non-negative decimal number with an optional fraction (`12`, `12.`, `12.345`), converted
/// exactly as Python's `float()` converts the same text (correctly rounded).
pub fn parse_decimal_f64(s: &[u8]) -> Option<f64> {
    let (int_text, frac_text) = match find_byte(s, b'.') {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, &s[..0]),
    };
    // Up to 19 digits fit a u64 exactly; longer text takes the general path (wrapping here
    // only keeps the arithmetic defined).
    let mut mantissa: u64 = 0;
    for &b in int_text {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d));
    }
    for &b in frac_text {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d));
    }
    let digits = (int_text.len() + frac_text.len()) as u32;
    let frac_digits = frac_text.len() as u32;
    if digits == 0 || s.len() > 512 {
        return None;
    }
    // Clinger's fast path: an integer below 2^53 and a power of ten up to 10^22 are both exact
    // doubles, so one division gives the correctly rounded value, as float() does.
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    if digits <= 19 && mantissa < (1u64 << 53) && (frac_digits as usize) < POW10.len() {
        return Some(mantissa as f64 / POW10[frac_digits as usize]);
    }
    // Every byte is an ASCII digit or a dot, so the text is valid UTF-8.
    std::str::from_utf8(s).ok()?.parse::<f64>().ok()
}

/// Number of decimal digits of `v`.
#[inline]
fn decimal_digits(v: u64) -> usize {
    let mut n = 1;
    let mut x = v;
    while x >= 10 {
        x /= 10;
        n += 1;
    }
    n
}

/// The two upper-case hex digits of every byte.
const HEX_PAIRS: [[u8; 2]; 256] = {
    let mut t = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [HEX_UPPER[i >> 4], HEX_UPPER[i & 0xF]];
        i += 1;
    }
    t
};

/// `dst.copy_from_slice(src)` for the short copies of the text writers, without a call to
/// `memcpy`: two overlapping fixed-size moves cover 4..=16 bytes, a loop of 16-byte moves
/// longer ones. `dst` and `src` must have the same length.
#[inline]
pub fn copy_small(dst: &mut [u8], src: &[u8]) {
    let n = src.len().min(dst.len());
    let (dst, src) = (&mut dst[..n], &src[..n]);
    match n {
        0 => {}
        1..=3 => {
            for (d, s) in dst.iter_mut().zip(src) {
                *d = *s;
            }
        }
        4..=7 => {
            dst[..4].copy_from_slice(&src[..4]);
            dst[n - 4..].copy_from_slice(&src[n - 4..]);
        }
        8..=16 => {
            dst[..8].copy_from_slice(&src[..8]);
            dst[n - 8..].copy_from_slice(&src[n - 8..]);
        }
        _ => {
            let mut i = 0;
            while i + 16 <= n {
                dst[i..i + 16].copy_from_slice(&src[i..i + 16]);
                i += 16;
            }
            if i < n {
                dst[n - 16..].copy_from_slice(&src[n - 16..]);
            }
        }
    }
}

/// Capacity of a [`LineBuf`]: any frame line of the text formats fits, including a
/// six-decimal rendering of the largest double; longer parts (interface names, event texts)
/// are written around it.
pub const LINE_BUF_CAP: usize = 1024;

/// The output buffer of the text writers: lines are formatted straight into it, field by
/// field, and it is handed to the file when it holds enough. Writes that do not fit are
/// dropped, so callers keep [`LINE_BUF_CAP`] bytes free before each line (every frame line
/// of the text formats fits in that; longer parts, interface names and event texts, are
/// written around it).
pub struct LineBuf {
    buf: Box<[u8]>,
    len: usize,
    /// The whole seconds [`fixed6`](Self::fixed6) wrote last, and their digits (the last
    /// `last_int_len` bytes of `last_int_text`).
    last_int: u64,
    last_int_text: [u8; 20],
    last_int_len: usize,
}

impl Default for LineBuf {
    fn default() -> Self {
        Self::with_capacity(LINE_BUF_CAP)
    }
}

impl LineBuf {
    pub fn with_capacity(capacity: usize) -> Self {
        LineBuf {
            buf: vec![0; capacity].into_boxed_slice(),
            len: 0,
            last_int: 0,
            last_int_text: [0; 20],
            last_int_len: 0,
        }
    }

    #[inline]
    pub fn clear(&mut self) {
        self.len = 0;
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes that can still be written.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.len
    }

    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The bytes written from `from` on.
    #[inline]
    pub fn tail_mut(&mut self, from: usize) -> &mut [u8] {
        let len = self.len;
        &mut self.buf[from.min(len)..len]
    }

    #[inline]
    pub fn byte(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    /// Room for `n` more bytes, as a slice to fill (None if the line is full).
    #[inline]
    fn room(&mut self, n: usize) -> Option<&mut [u8]> {
        let out = self.buf.get_mut(self.len..self.len + n)?;
        self.len += n;
        Some(out)
    }

    #[inline]
    pub fn bytes(&mut self, s: &[u8]) {
        if let Some(out) = self.room(s.len()) {
            copy_small(out, s);
        }
    }

    /// `n` spaces.
    #[inline]
    pub fn spaces(&mut self, n: usize) {
        if let Some(out) = self.room(n) {
            out.fill(b' ');
        }
    }

    /// Moves the bytes from `from` on right by `width - (len - from)` spaces, so that they end
    /// up right-aligned in `width` characters.
    pub fn pad_from(&mut self, from: usize, width: usize) {
        let n = self.len - from;
        if n >= width || self.len + (width - n) > self.buf.len() {
            return;
        }
        let pad = width - n;
        self.buf.copy_within(from..self.len, from + pad);
        self.buf[from..from + pad].fill(b' ');
        self.len += pad;
    }

    /// `v` in decimal.
    #[inline]
    pub fn u64(&mut self, mut v: u64) {
        let digits = decimal_digits(v);
        let Some(out) = self.room(digits) else {
            return;
        };
        let mut i = digits;
        while i >= 2 {
            i -= 2;
            out[i..i + 2].copy_from_slice(pair((v % 100) as u32));
            v /= 100;
        }
        if i == 1 {
            out[0] = b'0' + v as u8;
        }
    }

    /// `v` in decimal, with a minus sign if negative.
    #[inline]
    pub fn i64(&mut self, v: i64) {
        if v < 0 {
            self.byte(b'-');
        }
        self.u64(v.unsigned_abs());
    }

    /// `v` with six decimals, as [`push_fixed6`].
    #[inline]
    pub fn fixed6(&mut self, v: f64) {
        match crate::fmt::micros(v) {
            Some((negative, micros)) if micros < u128::from(u64::MAX) => {
                if negative {
                    self.byte(b'-');
                }
                let m = micros as u64;
                let (int_part, frac) = (m / 1_000_000, (m % 1_000_000) as u32);
                // Consecutive timestamps mostly share their whole seconds: their digits are
                // made once and reused.
                if int_part != self.last_int || self.last_int_len == 0 {
                    let mut v = int_part;
                    let mut i = self.last_int_text.len();
                    while v >= 100 {
                        i -= 2;
                        self.last_int_text[i..i + 2].copy_from_slice(pair((v % 100) as u32));
                        v /= 100;
                    }
                    if v >= 10 {
                        i -= 2;
                        self.last_int_text[i..i + 2].copy_from_slice(pair(v as u32));
                    } else {
                        i -= 1;
                        self.last_int_text[i] = b'0' + v as u8;
                    }
                    self.last_int = int_part;
                    self.last_int_len = self.last_int_text.len() - i;
                }
                let n = self.last_int_len;
                let Some(out) = self.buf.get_mut(self.len..self.len + n + 7) else {
                    return;
                };
                copy_small(&mut out[..n], &self.last_int_text[20 - n..]);
                out[n] = b'.';
                let (hi, rest) = (frac / 10_000, frac % 10_000);
                out[n + 1..n + 3].copy_from_slice(pair(hi));
                out[n + 3..n + 5].copy_from_slice(pair(rest / 100));
                out[n + 5..n + 7].copy_from_slice(pair(rest % 100));
                self.len += n + 7;
            }
            _ => {
                let mut out = Vec::new();
                push_fixed6(&mut out, v);
                self.bytes(&out);
            }
        }
    }

    /// The upper-case hex digits of `v` without leading zeros.
    #[inline]
    pub fn hex(&mut self, v: u32) {
        let digits = (8 - v.leading_zeros() as usize / 4).max(1);
        self.hex_digits(v, digits);
    }

    /// The last `digits` (at most 8) upper-case hex digits of `v`.
    #[inline]
    pub fn hex_digits(&mut self, v: u32, digits: usize) {
        let digits = digits.min(8);
        let Some(out) = self.room(digits) else {
            return;
        };
        // Two digits per table look-up, from the last byte of `v` backwards.
        let mut i = digits;
        let mut v = v;
        while i >= 2 {
            i -= 2;
            out[i..i + 2].copy_from_slice(&HEX_PAIRS[(v & 0xFF) as usize]);
            v >>= 8;
        }
        if i == 1 {
            out[0] = HEX_UPPER[(v & 0xF) as usize];
        }
    }

    /// Two upper-case hex digits per byte, `sep` before each byte if given.
    #[inline]
    pub fn hex_bytes(&mut self, data: &[u8], sep: Option<u8>) {
        match sep {
            Some(sep) => {
                if let Some(out) = self.room(3 * data.len()) {
                    for (o, &x) in out.chunks_exact_mut(3).zip(data) {
                        o[0] = sep;
                        o[1..3].copy_from_slice(&HEX_PAIRS[usize::from(x)]);
                    }
                }
            }
            None => {
                if let Some(out) = self.room(2 * data.len()) {
                    for (o, &x) in out.chunks_exact_mut(2).zip(data) {
                        o.copy_from_slice(&HEX_PAIRS[usize::from(x)]);
                    }
                }
            }
        }
    }
}

/// Appends `v` with exactly six decimals, rounded as `printf("%.6f")` and Python's `'%.6f'`
/// round (the exact binary value, half to even), without allocating. Agrees with
/// [`crate::fmt::fixed6`], which the tests check.
pub fn push_fixed6(out: &mut Vec<u8>, v: f64) {
    match crate::fmt::micros(v) {
        Some((negative, micros)) => {
            if negative {
                out.push(b'-');
            }
            // 64-bit arithmetic whenever it suffices (|v| below about 1.8e13): u128 division
            // is a slow library call.
            let (int_part, frac) = match u64::try_from(micros) {
                Ok(m) => (u128::from(m / 1_000_000), (m % 1_000_000) as u32),
                Err(_) => (micros / 1_000_000, (micros % 1_000_000) as u32),
            };
            match u64::try_from(int_part) {
                Ok(i) => push_u64(out, i),
                Err(_) => push_u128(out, int_part),
            }
            let mut f = [b'.'; 7];
            let (hi, rest) = (frac / 10_000, frac % 10_000);
            f[1..3].copy_from_slice(pair(hi));
            f[3..5].copy_from_slice(pair(rest / 100));
            f[5..7].copy_from_slice(pair(rest % 100));
            out.extend_from_slice(&f);
        }
        None => out.extend_from_slice(format!("{v:.6}").as_bytes()),
    }
}

/// "00" to "99".
const DIGIT_PAIRS: &[u8; 200] = b"00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";

/// The two digits of `v` (0..=99).
#[inline]
fn pair(v: u32) -> &'static [u8] {
    let i = 2 * (v as usize % 100);
    &DIGIT_PAIRS[i..i + 2]
}

/// `v` in decimal, two digits at a time.
pub fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    while v >= 100 {
        i -= 2;
        tmp[i..i + 2].copy_from_slice(pair((v % 100) as u32));
        v /= 100;
    }
    if v >= 10 {
        i -= 2;
        tmp[i..i + 2].copy_from_slice(pair(v as u32));
    } else {
        i -= 1;
        tmp[i] = b'0' + v as u8;
    }
    out.extend_from_slice(&tmp[i..]);
}

fn push_u128(out: &mut Vec<u8>, mut v: u128) {
    let mut tmp = [0u8; 40];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&tmp[i..]);
}

/// Hex text of a byte, upper case.
pub const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn collect(input: &[u8], max: usize, chunk_reader: bool) -> Vec<Result<Vec<u8>>> {
        struct Dribble<'a>(&'a [u8]);
        impl Read for Dribble<'_> {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(out.len()).min(3);
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut out = Vec::new();
        let src: Box<dyn Read> = if chunk_reader {
            Box::new(Dribble(input))
        } else {
            Box::new(input)
        };
        let mut r = LineReader::with_max_len(src, max);
        loop {
            match r.next_line() {
                Ok(Some(l)) => out.push(Ok(l.to_vec())),
                Ok(None) => break,
                Err(e) => out.push(Err(e)),
            }
        }
        out
    }

    #[test]
    fn splits_lines_and_strips_cr() {
        for dribble in [false, true] {
            let got = collect(b"a b\r\n\ncd\nlast", 100, dribble);
            let got: Vec<Vec<u8>> = got.into_iter().map(|r| r.unwrap()).collect();
            assert_eq!(
                got,
                vec![b"a b".to_vec(), vec![], b"cd".to_vec(), b"last".to_vec()]
            );
        }
    }

    #[test]
    fn too_long_line_is_reported_and_skipped() {
        for dribble in [false, true] {
            let mut input = b"ok\n".to_vec();
            input.extend(std::iter::repeat_n(b'x', 50));
            input.extend(b"\nafter\n");
            let got = collect(&input, 10, dribble);
            assert_eq!(got.len(), 3);
            assert_eq!(got[0].as_ref().unwrap(), b"ok");
            match &got[1] {
                Err(Error::LineTooLong { line: 2, max: 10 }) => {}
                other => panic!("unexpected {other:?}"),
            }
            assert_eq!(got[2].as_ref().unwrap(), b"after");
        }
    }

    #[test]
    fn huge_line_uses_bounded_memory() {
        // A reader that produces 64 MiB of 'x' without a newline, then "\nend".
        struct Endless {
            left: usize,
            tail: &'static [u8],
        }
        impl Read for Endless {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                if self.left > 0 {
                    let n = self.left.min(out.len());
                    out[..n].fill(b'x');
                    self.left -= n;
                    return Ok(n);
                }
                let n = self.tail.len().min(out.len());
                out[..n].copy_from_slice(&self.tail[..n]);
                self.tail = &self.tail[n..];
                Ok(n)
            }
        }
        let mut r = LineReader::new(Endless {
            left: 64 << 20,
            tail: b"\nend",
        });
        assert!(matches!(
            r.next_line(),
            Err(Error::LineTooLong { line: 1, .. })
        ));
        assert!(r.buf.capacity() <= MAX_LINE_LEN + 2 * CHUNK);
        assert_eq!(r.next_line().unwrap(), Some(&b"end"[..]));
        assert_eq!(r.line_no(), 2);
        assert!(r.next_line().unwrap().is_none());
    }

    #[test]
    fn bom_is_dropped_on_the_first_line_only() {
        let got = collect(b"\xEF\xBB\xBFdate\n\xEF\xBB\xBFx\n", 100, false);
        assert_eq!(got[0].as_ref().unwrap(), b"date");
        assert_eq!(got[1].as_ref().unwrap(), b"\xEF\xBB\xBFx");
    }

    #[test]
    fn find_newline_agrees_with_position() {
        let mut data = vec![b'a'; 40];
        for i in 0..40 {
            assert_eq!(find_byte(&data, b'a'), Some(i));
            data[i] = b'\n';
            for start in 0..=i {
                assert_eq!(find_newline(&data[start..]), Some(i - start));
            }
            data[i] = 0x8A; // high bit set, must not look like '\n'
        }
        assert_eq!(find_newline(&data), None);
    }

    #[test]
    fn lone_cr_ends_a_line_as_in_python_text_files() {
        // Python's universal newlines: "\n", "\r\n" and a lone "\r" each end one line; a
        // "\r\n" split between two reads (the dribbling reader) is still one terminator.
        for dribble in [false, true] {
            let got = collect(b"a\rb\r\nc\n\rd\r\re\r", 100, dribble);
            let got: Vec<Vec<u8>> = got.into_iter().map(|r| r.unwrap()).collect();
            let want: Vec<&[u8]> = vec![b"a", b"b", b"c", b"", b"d", b"", b"e"];
            assert_eq!(got, want, "dribble {dribble}");
        }
        let mut r = LineReader::new(&b"x\r\ny\rz"[..]);
        while r.next_line().unwrap().is_some() {}
        assert_eq!((r.line_no(), r.bytes_consumed()), (3, 6));
    }

    #[test]
    fn too_long_line_ended_by_a_lone_cr_is_skipped_to_the_cr() {
        for dribble in [false, true] {
            let mut input = vec![b'x'; 50];
            input.extend(b"\r\nafter\rlast");
            let got = collect(&input, 10, dribble);
            assert!(matches!(got[0], Err(Error::LineTooLong { line: 1, .. })));
            assert_eq!(got[1].as_ref().unwrap(), b"after");
            assert_eq!(got[2].as_ref().unwrap(), b"last");
            assert_eq!(got.len(), 3, "dribble {dribble}");
        }
    }

    #[test]
    fn find_eol_agrees_with_position() {
        for term in [b'\n', b'\r'] {
            let mut data = vec![b'a'; 40];
            for i in 0..40 {
                data[i] = term;
                for start in 0..=i {
                    let want = data[start..].iter().position(|&b| b == b'\n' || b == b'\r');
                    assert_eq!(find_eol(&data[start..]), want);
                }
                // High bit set, and the bytes next to the terminators: none looks like one.
                data[i] = [0x8A, 0x8D, 0x0B, 0x0C][i % 4];
            }
            assert_eq!(find_eol(&data), None);
        }
    }

    #[test]
    fn copy_small_copies_every_length() {
        let src: Vec<u8> = (0..100).collect();
        for n in 0..=100 {
            let mut dst = vec![0xFFu8; n];
            copy_small(&mut dst, &src[..n]);
            assert_eq!(dst, &src[..n]);
        }
    }

    #[test]
    fn line_buf_formats() {
        let mut l = LineBuf::default();
        l.fixed6(1795715148.716977);
        l.byte(b' ');
        l.i64(-42);
        l.byte(b' ');
        l.hex(0x1ABCDEF0);
        l.byte(b' ');
        l.hex(0);
        l.byte(b' ');
        l.hex_digits(0x123, 3);
        l.hex_digits(0x1ABCDEF0, 8);
        l.hex_digits(0x7, 1);
        l.byte(b' ');
        let at = l.len();
        l.u64(7);
        l.pad_from(at, 3);
        l.hex_bytes(&[0xDE, 0xAD], Some(b' '));
        assert_eq!(
            l.as_slice(),
            b"1795715148.716977 -42 1ABCDEF0 0 1231ABCDEF07   7 DE AD"
        );
        let mut l = LineBuf::default();
        l.fixed6(1e300);
        assert!(l.as_slice().ends_with(b".000000") && l.len() > 300);
        let mut l = LineBuf::default();
        for _ in 0..LINE_BUF_CAP + 10 {
            l.byte(b'x');
        }
        assert_eq!(l.len(), LINE_BUF_CAP);
    }

    #[test]
    fn push_fixed6_agrees_with_fmt_fixed6() {
        let mut x = 0.123_456_789_f64;
        let mut values = vec![
            0.0,
            -0.0,
            0.0078125,
            3.0 * 0.0078125,
            1795715148.716977,
            1e30,
        ];
        for _ in 0..20_000 {
            x = (x * 1.618_033_988_749 + 0.000_123) % 3_000_000_000.0;
            values.push(x);
            values.push(-x / 7.0);
        }
        // Runs of values with the same whole seconds, to exercise the digits cache.
        for k in 0..2000 {
            values.push(1_795_715_148.0 + f64::from(k / 7) + f64::from(k % 7) * 0.125);
        }
        let mut l = LineBuf::default();
        for v in values {
            let mut out = Vec::new();
            push_fixed6(&mut out, v);
            let want = crate::fmt::fixed6(v).unwrap_or_else(|| format!("{v:.6}"));
            assert_eq!(String::from_utf8(out).unwrap(), want, "{v:e}");
            l.clear();
            l.fixed6(v);
            assert_eq!(l.as_slice(), want.as_bytes(), "{v:e}");
        }
    }

    #[test]
    fn tokens_and_numbers() {
        let t: Vec<&[u8]> = Tokens::new(b"  1.5\t CANFD  2 ").collect();
        assert_eq!(t, vec![&b"1.5"[..], b"CANFD", b"2"]);
        assert_eq!(parse_hex_u32(b"1FFFFFFF"), Some(0x1FFF_FFFF));
        assert_eq!(parse_hex_u32(b"123456789"), None);
        assert_eq!(parse_hex_u32(b"12G"), None);
        assert_eq!(parse_dec_u32(b"0042"), Some(42));
        assert_eq!(parse_decimal_f64(b"2.501000"), Some(2.501));
        assert_eq!(parse_decimal_f64(b"17."), Some(17.0));
        assert_eq!(parse_decimal_f64(b"."), None);
        assert_eq!(parse_decimal_f64(b"1.2.3"), None);
        assert_eq!(parse_decimal_f64(b"-1"), None);
        // The fast path and the general one agree with Rust's (correctly rounded) parser.
        for text in [
            "1795715148.716977",
            "0.000001",
            "30.005071",
            "123456789012345678901234.5",
            "9007199254740993",
            "9007199254740993.0",
            "1.00000000000000000000001",
            "4503599627370495.5",
            "000000000000000000000000001.5",
        ] {
            let want: f64 = text.parse().unwrap();
            assert_eq!(parse_decimal_f64(text.as_bytes()), Some(want), "{text}");
        }
    }
}
