//! The streaming TRC reader (see the [module documentation](super) for the format).

use std::io::Read;

use super::{ole_to_unix, parse_start_time, Column, Version};
use crate::dlc::{dlc_to_len, is_valid_fd_len};
use crate::frame::{
    CanFrame, CANFD_BRS, CANFD_ESI, CANFD_FDF, CAN_EFF_FLAG, CAN_EFF_MASK, CAN_ERR_FLAG,
    CAN_MAX_DLEN, CAN_RTR_FLAG,
};
use crate::lines::{hex_val, is_space, parse_decimal_f64, LineFormat, TextReader, Tokens};
pub use crate::lines::{Error, Result};

/// Most columns a `$COLUMNS` directive may list (each letter once).
const MAX_COLUMNS: usize = 10;

/// What one record line holds.
enum Record {
    Frame(CanFrame),
    /// A record that is not a frame (a warning, status, error counter change or event).
    NotFrame,
    Blank,
}

/// Reads CAN frames from a TRC file.
pub type Reader<R> = TextReader<R, TrcLines>;

/// The TRC format as a [`LineFormat`]: a header of `;` comment lines (directives, the start
/// time), then one record per line.
pub struct TrcLines {
    version: Version,
    columns: Vec<Column>,
    /// `$STARTTIME` as Unix time.
    start_directive: Option<f64>,
    /// The `Start time:` comment as Unix time.
    start_comment: Option<f64>,
    skipped_records: u64,
    warnings: Vec<String>,
}

impl<R: Read> Reader<R> {
    /// A reader of `src`; with `strict` false, malformed lines are skipped and counted.
    pub fn new(src: R, strict: bool) -> Self {
        Self::with_max_line_len(src, strict, crate::lines::MAX_LINE_LEN)
    }

    pub fn with_max_line_len(src: R, strict: bool, max_line_len: usize) -> Self {
        TextReader::with_format(src, TrcLines::default(), strict, max_line_len)
    }

    /// The file version (1.0 until the header says otherwise).
    pub fn version(&self) -> Version {
        self.format.version()
    }

    /// The start of the recording as Unix time, if the header gives it.
    pub fn start_time(&self) -> Option<f64> {
        self.format.start_time()
    }

    /// The columns of the record lines.
    pub fn columns(&self) -> &[Column] {
        self.format.columns()
    }

    /// Number of records skipped because they are not frames (warnings, status, events…).
    pub fn skipped_records(&self) -> u64 {
        self.format.skipped_records()
    }
}

impl LineFormat for TrcLines {
    const FORMAT: crate::log::Format = crate::log::Format::Trc;

    /// A start time that could not be read.
    fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    /// Blank lines and `;` comments (directives, the start time) until the first record.
    fn header_line(&mut self, line: &[u8], line_no: u64) -> Result<bool> {
        let text = trim(line);
        if text.is_empty() {
            return Ok(true);
        }
        if text[0] != b';' {
            return Ok(false);
        }
        self.comment_line(text, line_no)
            .map(|()| true)
            .map_err(|what| Error::Malformed {
                line: line_no,
                what,
            })
    }

    #[inline]
    fn parse_line(&mut self, line: &[u8], line_no: u64) -> Result<Option<CanFrame>> {
        let start = self.start_directive.or(self.start_comment);
        match parse_record(line, self.version, &self.columns, start) {
            Ok(Record::Frame(f)) => Ok(Some(f)),
            Ok(Record::Blank) => Ok(None),
            Ok(Record::NotFrame) => {
                self.skipped_records += 1;
                Ok(None)
            }
            Err(what) => Err(Error::Malformed {
                line: line_no,
                what,
            }),
        }
    }
}

impl Default for TrcLines {
    /// A version 1.0 file until the header says otherwise.
    fn default() -> Self {
        TrcLines {
            version: Version::V1_0,
            columns: Version::V1_0.default_columns().to_vec(),
            start_directive: None,
            start_comment: None,
            skipped_records: 0,
            warnings: Vec::new(),
        }
    }
}

impl TrcLines {
    /// The file version (1.0 until the header says otherwise).
    pub fn version(&self) -> Version {
        self.version
    }

    /// The start of the recording as Unix time, if the header gives it.
    pub fn start_time(&self) -> Option<f64> {
        self.start_directive.or(self.start_comment)
    }

    /// The columns of the record lines.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// Number of records skipped because they are not frames (warnings, status, events…).
    pub fn skipped_records(&self) -> u64 {
        self.skipped_records
    }
    /// A comment line of the header: a directive, the start time comment or anything else.
    fn comment_line(&mut self, text: &[u8], line_no: u64) -> std::result::Result<(), String> {
        let body = trim(&text[1..]);
        if let Some(directive) = body.strip_prefix(b"$") {
            let Some(eq) = directive.iter().position(|&b| b == b'=') else {
                return Ok(()); // ";$" alone is a separator line
            };
            let (name, value) = (&directive[..eq], &directive[eq + 1..]);
            // Some writers end the value with '$' or ';'.
            let value = trim(value);
            let value = value
                .strip_suffix(b"$")
                .or_else(|| value.strip_suffix(b";"))
                .unwrap_or(value);
            match name {
                b"FILEVERSION" => {
                    let v = Version::parse(value).ok_or_else(|| {
                        format!(
                            "unknown TRC file version {:?} (known: 1.0 to 1.3, 2.0, 2.1)",
                            lossy(value)
                        )
                    })?;
                    self.version = v;
                    self.columns = v.default_columns().to_vec();
                }
                b"STARTTIME" => {
                    // Negative for times before 1899-12-30 (which the writer may write).
                    let t = parse_signed(value)
                        .and_then(ole_to_unix)
                        .ok_or_else(|| format!("$STARTTIME {:?} is not a date", lossy(value)))?;
                    self.start_directive = Some(t);
                }
                b"COLUMNS" => self.columns = parse_columns(value)?,
                _ => {}
            }
            return Ok(());
        }
        if let Some(rest) = body.strip_prefix(b"Start time:") {
            // A layout we cannot read only loses the absolute time (warned about).
            self.start_comment = parse_start_time(rest);
            if self.start_comment.is_none() && self.start_directive.is_none() {
                self.warnings.push(format!(
                    "line {line_no}: cannot read the start time {:?}",
                    lossy(trim(rest))
                ));
            }
        }
        Ok(())
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if first.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = s {
        if last.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    s
}

/// The columns of a `$COLUMNS` value (`N,O,T,B,I,d,R,L,D`).
fn parse_columns(value: &[u8]) -> std::result::Result<Vec<Column>, String> {
    let bad = |why: &str| format!("$COLUMNS={}: {why}", lossy(value));
    let mut cols = Vec::new();
    for item in value.split(|&b| b == b',') {
        let item = trim(item);
        let [letter] = item else {
            return Err(bad("columns are single letters separated by commas"));
        };
        let col = Column::from_letter(*letter)
            .ok_or_else(|| bad(&format!("unknown column {:?}", *letter as char)))?;
        if cols.contains(&col) {
            return Err(bad(&format!("column {:?} twice", *letter as char)));
        }
        if cols.len() == MAX_COLUMNS {
            return Err(bad("too many columns"));
        }
        cols.push(col);
    }
    for (need, name) in [
        (Column::Offset, "O"),
        (Column::Type, "T"),
        (Column::Id, "I"),
        (Column::Data, "D"),
    ] {
        if !cols.contains(&need) {
            return Err(bad(&format!("the column {name} is missing")));
        }
    }
    if !cols.contains(&Column::Length) && !cols.contains(&Column::Dlc) {
        return Err(bad("a length column (l or L) is missing"));
    }
    if cols.last() != Some(&Column::Data) {
        return Err(bad("the data column D must be the last"));
    }
    Ok(cols)
}

/// The kind of frame a record's type says.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Data,
    Fd(u8),
    Remote,
    Error,
}

fn what_col(col: Column) -> &'static str {
    match col {
        Column::Number => "record number",
        Column::Offset => "time offset",
        Column::Type => "record type",
        Column::Bus => "bus",
        Column::Id => "id",
        Column::Direction => "direction (Rx/Tx)",
        Column::Reserved => "reserved column",
        Column::Length => "data length",
        Column::Dlc => "data length code",
        Column::Data => "data",
    }
}

/// A decimal number with an optional minus sign.
fn parse_signed(t: &[u8]) -> Option<f64> {
    match t.strip_prefix(b"-") {
        Some(rest) => parse_decimal_f64(rest).map(|v| -v),
        None => parse_decimal_f64(t),
    }
}

/// A small decimal number (1 to 3 digits).
fn small_dec(t: &[u8]) -> Option<u32> {
    if t.is_empty() || t.len() > 3 || !t.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(t.iter().fold(0, |v, &b| v * 10 + u32::from(b - b'0')))
}

fn hex_byte(t: &[u8]) -> Option<u8> {
    match t {
        [hi, lo] => Some(hex_val(*hi)? << 4 | hex_val(*lo)?),
        _ => None,
    }
}

/// Parses one record line.
fn parse_record(
    line: &[u8],
    version: Version,
    columns: &[Column],
    start: Option<f64>,
) -> std::result::Result<Record, String> {
    let text = trim(line);
    if text.is_empty() {
        return Ok(Record::Blank);
    }
    if text[0] == b';' {
        // A comment between records.
        return Ok(Record::Blank);
    }
    let v2 = version.is_v2();
    let mut tok = Tokens::new(text);
    let mut f = CanFrame::default();
    let mut kind = Kind::Data;
    let mut offset_ms = 0.0;
    // The declared length: (value, is a DLC).
    let mut declared: Option<(u32, bool)> = None;
    let mut error_type: Option<u8> = None;
    for &col in columns {
        if col == Column::Data {
            break;
        }
        if kind == Kind::Error && v2 {
            // 2.0 leaves the id and length of an error record blank, 2.1 writes '-' and 5.
            match col {
                Column::Id | Column::Reserved => {
                    if tok.peek() == Some(b"-") {
                        tok.next();
                    }
                    continue;
                }
                Column::Length | Column::Dlc => {
                    if let Some(t) = tok.peek().filter(|t| t.len() == 1) {
                        declared = Some((small_dec(t).ok_or("bad error record length")?, false));
                        tok.next();
                    }
                    continue;
                }
                _ => {}
            }
        }
        let t = tok
            .next()
            .ok_or_else(|| format!("the {} is missing", what_col(col)))?;
        match col {
            Column::Number => {
                let digits = if v2 {
                    t
                } else {
                    t.strip_suffix(b")").unwrap_or(t)
                };
                if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                    return Err(format!("{:?} is not a record number", lossy(t)));
                }
            }
            Column::Offset => {
                offset_ms = parse_signed(t)
                    .ok_or_else(|| format!("the time offset {:?} is not a number", lossy(t)))?;
            }
            Column::Type => match (v2, t) {
                (false, b"Rx") => f.is_rx = true,
                (false, b"Tx") => f.is_rx = false,
                (false, b"Warng") => return Ok(Record::NotFrame),
                (false, b"Error") => kind = Kind::Error,
                (true, b"DT") => kind = Kind::Data,
                (true, b"FD") => kind = Kind::Fd(0),
                (true, b"FB") => kind = Kind::Fd(CANFD_BRS),
                (true, b"FE") => kind = Kind::Fd(CANFD_ESI),
                (true, b"BI") => kind = Kind::Fd(CANFD_BRS | CANFD_ESI),
                (true, b"RR") => kind = Kind::Remote,
                (true, b"ER") => kind = Kind::Error,
                (true, b"ST" | b"EC" | b"EV") => return Ok(Record::NotFrame),
                _ => return Err(format!("unknown record type {:?}", lossy(t))),
            },
            Column::Bus => {
                if t != b"-" {
                    // Buses count from 1; a 0 (python-can's channel 0) is read back as written.
                    let bus = small_dec(t)
                        .ok_or_else(|| format!("the bus {:?} is not a number", lossy(t)))?;
                    f.channel = bus as i32 - 1;
                }
            }
            Column::Id => {
                if !v2 && t == b"FFFFFFFF" {
                    // A 1.x error warning (bus light / heavy / off).
                    return Ok(Record::NotFrame);
                }
                let bad = || format!("{:?} is not a CAN id", lossy(t));
                if t.is_empty() || t.len() > 8 {
                    return Err(bad());
                }
                let mut value = 0u32;
                for &b in t {
                    value = value << 4 | u32::from(hex_val(b).ok_or_else(bad)?);
                }
                if kind == Kind::Error {
                    // 1.x: the id column of an error frame holds the error type.
                    error_type = Some(
                        u8::try_from(value)
                            .map_err(|_| format!("error type {:?} is not a byte", lossy(t)))?,
                    );
                } else if t.len() > 4 {
                    if value > CAN_EFF_MASK {
                        return Err(format!("extended id {value:#X} exceeds 29 bits"));
                    }
                    f.can_id = value | CAN_EFF_FLAG;
                } else {
                    f.can_id = value;
                }
            }
            Column::Direction => match t {
                b"Rx" => f.is_rx = true,
                b"Tx" => f.is_rx = false,
                _ => return Err(format!("expected Rx or Tx, found {:?}", lossy(t))),
            },
            Column::Reserved => {}
            Column::Length | Column::Dlc => {
                let v = small_dec(t)
                    .ok_or_else(|| format!("the data length {:?} is not a number", lossy(t)))?;
                declared = Some((v, col == Column::Dlc));
            }
            Column::Data => {}
        }
    }

    // The data column: the rest of the line.
    let mut rest = tok.rest();
    if !v2 {
        if let Some(r) = rest.strip_prefix(b"RTR") {
            if r.first().is_none_or(|&b| is_space(b)) {
                rest = r;
                kind = Kind::Remote;
            }
        } else if let Some(r) = rest.strip_prefix(b"ERROR") {
            if r.first().is_none_or(|&b| is_space(b)) {
                rest = r;
                kind = Kind::Error;
            }
        }
    }
    // The data bytes: two hex digits each, separated by spaces (scanned without tokenizing).
    let mut n = 0usize;
    let mut i = 0usize;
    while i < rest.len() {
        if is_space(rest[i]) {
            i += 1;
            continue;
        }
        let end = rest[i..]
            .iter()
            .position(|&b| is_space(b))
            .map_or(rest.len(), |p| i + p);
        let t = &rest[i..end];
        let b = hex_byte(t).ok_or_else(|| format!("{:?} is not a data byte", lossy(t)))?;
        if n == f.data.len() {
            return Err("more than 64 data bytes".to_owned());
        }
        f.data[n] = b;
        n += 1;
        i = end;
    }
    let ts = offset_ms / 1000.0;
    f.timestamp = match start {
        Some(s) => ts + s,
        None => ts,
    };
    match kind {
        Kind::Error => {
            let data = f.data;
            // PEAK's five error bytes: type, direction, position, rx and tx error counter.
            let mut bytes = [0u8; 8];
            let mut len = 0;
            if error_type.is_none() && !v2 {
                // 1.0: `ERROR` in the data column; the id column held the error type.
                error_type = Some(
                    u8::try_from(f.can_id & CAN_EFF_MASK)
                        .map_err(|_| format!("error type {:#X} is not a byte", f.id()))?,
                );
            }
            if let Some(e) = error_type {
                bytes[0] = e;
                len = 1;
            }
            if len + n > CAN_MAX_DLEN {
                return Err(format!(
                    "an error record has {n} data bytes, at most 8 expected"
                ));
            }
            if let Some((d, _)) = declared {
                if d as usize != n {
                    return Err(format!("the length says {d} bytes, the record has {n}"));
                }
            }
            bytes[len..len + n].copy_from_slice(&data[..n]);
            f.can_id = CAN_ERR_FLAG;
            f.set_payload(&bytes[..len + n]);
        }
        Kind::Remote => {
            if n != 0 {
                return Err("a remote frame has no data".to_owned());
            }
            let (d, _) = declared.ok_or("the data length is missing")?;
            f.can_id |= CAN_RTR_FLAG;
            f.dlc = u8::try_from(d)
                .ok()
                .filter(|&d| d <= 15)
                .ok_or_else(|| format!("remote frame length {d} is above 15"))?;
            f.len = 0;
        }
        Kind::Data => {
            let (d, is_dlc) = declared.ok_or("the data length is missing")?;
            let (len, dlc) = if is_dlc {
                if d > 15 {
                    return Err(format!("DLC {d} is above 15"));
                }
                ((d as usize).min(CAN_MAX_DLEN), d as u8)
            } else {
                if d as usize > CAN_MAX_DLEN {
                    return Err(format!("a CAN frame cannot hold {d} bytes"));
                }
                (d as usize, d as u8)
            };
            if n != len {
                return Err(format!("the length says {len} bytes, the record has {n}"));
            }
            f.len = n as u8;
            f.dlc = dlc;
        }
        Kind::Fd(bits) => {
            let (d, is_dlc) = declared.ok_or("the data length is missing")?;
            let len = if is_dlc {
                dlc_to_len(d).ok_or_else(|| format!("DLC {d} is above 15"))?
            } else if is_valid_fd_len(d as usize) {
                d as usize
            } else {
                return Err(format!("{d} is not a CAN FD data length"));
            };
            if n != len {
                return Err(format!("the length says {len} bytes, the record has {n}"));
            }
            f.len = n as u8;
            f.dlc = n as u8;
            f.flags = CANFD_FDF | bits;
        }
    }
    Ok(Record::Frame(f))
}
