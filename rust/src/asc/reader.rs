//! Streaming ASC reader: one [`CanFrame`] per CAN event line.

use std::io::Read;

use super::{parse_date, LocalTime, ASC_F_FDF, ASC_F_RTR};
use crate::frame::CAN_RTR_FLAG;
use crate::frame::{CanFrame, CANFD_BRS, CANFD_ESI, CANFD_FDF, CAN_EFF_FLAG, CAN_ERR_FLAG};
use crate::lines::{
    hex_val, parse_dec_u32, parse_decimal_f64, parse_hex_u32, Error, LineFormat, Result,
    TextReader, Tokens,
};

/// Number base of identifiers and data bytes (`base hex|dec` header line).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base {
    Hex,
    Dec,
}

/// How to read a file.
#[derive(Clone, Copy, Debug)]
pub struct ReaderOptions {
    /// Base assumed until a `base` header line says otherwise.
    pub base: Base,
    /// True: timestamps count from the start of the measurement (as in the file). False: the
    /// start time from the `date` / `Begin Triggerblock` line is added, giving Unix time.
    pub relative_timestamp: bool,
    /// True: a malformed line is an error. False: it is skipped and counted.
    pub strict: bool,
    /// Longest line accepted.
    pub max_line_len: usize,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        ReaderOptions {
            base: Base::Hex,
            relative_timestamp: true,
            strict: true,
            max_line_len: crate::lines::MAX_LINE_LEN,
        }
    }
}

/// Header state and the per-line parser (kept apart from the line buffer it reads from).
struct State {
    base: Base,
    /// `timestamps relative`: each event's time counts from the previous event.
    deltas: bool,
    /// Running time in `deltas` mode.
    elapsed: f64,
    relative_timestamp: bool,
    /// Added to every timestamp (0 unless `relative_timestamp` is false and a date parsed).
    start_time: f64,
    tz: Box<dyn LocalTime>,
    warnings: Vec<String>,
    /// Lines that hold more than blanks.
    content_lines: u64,
    /// A line was read that is ASC (see [`Reader`]).
    seen_asc: bool,
    /// A CANFD line's Flags field contradicted its explicit fields (reported once).
    flags_conflict: Option<String>,
    flags_conflict_reported: bool,
}

/// Reads CAN frames from an ASC file.
///
/// A file is read as ASC when at least one of its lines is an ASC line: a header line (`date
/// …`, `base hex|dec …`, `internal events logged`, `no internal events logged`, `Begin
/// Triggerblock …`, `End TriggerBlock`) or an event line (a line that starts with a timestamp
/// and reads without error, frame or not). A file with content but no such line (binary data,
/// another log format, text in another encoding) ends in [`Error::NotThisFormat`] once its
/// last line is read, in strict and lenient mode alike; so does a file that starts with a
/// UTF-16 byte order mark, at once. A file without any non-blank line (an empty file) holds
/// no frames and is no error.
pub type Reader<R> = TextReader<R, AscLines>;

/// The ASC format as a [`LineFormat`] (its header lines are parsed where they stand, among
/// the events).
pub struct AscLines(State);

type LineResult = std::result::Result<Option<CanFrame>, String>;

impl<R: Read> Reader<R> {
    /// A reader of `src`; `tz` turns the file's local dates into Unix time.
    pub fn new(src: R, options: ReaderOptions, tz: Box<dyn LocalTime>) -> Self {
        let format = AscLines::new(options, tz);
        TextReader::with_format(src, format, options.strict, options.max_line_len)
    }
}

impl AscLines {
    /// The format's state before the first line (`options.strict` and `max_line_len` are
    /// the reader's).
    pub fn new(options: ReaderOptions, tz: Box<dyn LocalTime>) -> Self {
        AscLines(State {
            base: options.base,
            deltas: false,
            elapsed: 0.0,
            relative_timestamp: options.relative_timestamp,
            start_time: 0.0,
            tz,
            warnings: Vec::new(),
            content_lines: 0,
            seen_asc: false,
            flags_conflict: None,
            flags_conflict_reported: false,
        })
    }
}

impl LineFormat for AscLines {
    const FORMAT: crate::log::Format = crate::log::Format::Asc;

    /// Warnings collected so far (a date that could not be parsed).
    fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.0.warnings)
    }

    #[inline]
    fn parse_line(&mut self, line: &[u8], line_no: u64) -> Result<Option<CanFrame>> {
        let state = &mut self.0;
        if line_no == 1 {
            check_not_utf16(line)?;
        }
        let parsed = state.parse(line);
        if let Some(what) = state.flags_conflict.take() {
            state.warnings.push(format!(
                "line {line_no}: {what}; the explicit fields were used (further such lines \
                 are not reported)"
            ));
        }
        parsed.map_err(|what| Error::Malformed {
            line: line_no,
            what,
        })
    }

    /// A line too long to read is content too (it never reaches the parser).
    fn unreadable_line(&mut self) {
        self.0.content_lines += 1;
    }

    /// The error of a file that held no ASC line.
    fn at_end(&mut self) -> Result<()> {
        let content = self.0.content_lines;
        if self.0.seen_asc || content == 0 {
            return Ok(());
        }
        Err(Error::NotThisFormat(format!(
            "not an ASC file: none of its {content} non-blank line(s) is an ASC header line \
             (date, base, Begin Triggerblock, ...) or an event line starting with a timestamp"
        )))
    }
}

/// A first line that starts with a UTF-16 byte order mark: the file is UTF-16 text, which
/// python-can cannot read either (it fails to decode it as UTF-8).
fn check_not_utf16(line: &[u8]) -> Result<()> {
    let order = match line {
        [0xFF, 0xFE, ..] => "little",
        [0xFE, 0xFF, ..] => "big",
        _ => return Ok(()),
    };
    Err(Error::NotThisFormat(format!(
        "not an ASC file: it is UTF-16 ({order}-endian) text; ASC files are ASCII (save it \
         as ASCII or UTF-8)"
    )))
}

impl State {
    fn parse(&mut self, line: &[u8]) -> LineResult {
        let mut tok = Tokens::new(line);
        let Some(first) = tok.next() else {
            return Ok(None);
        };
        self.content_lines += 1;
        if !first[0].is_ascii_digit() {
            if self.header(first, &mut tok)? {
                self.seen_asc = true;
            }
            return Ok(None);
        }
        let parsed = self.event(first, &mut tok);
        if parsed.is_ok() {
            self.seen_asc = true;
        }
        parsed
    }

    /// A line that starts with a digit: `<timestamp> …`.
    fn event(&mut self, first: &[u8], tok: &mut Tokens<'_>) -> LineResult {
        let t = parse_decimal_f64(first).ok_or_else(|| {
            format!(
                "the timestamp {:?} is not a number",
                String::from_utf8_lossy(first)
            )
        })?;
        let t = if self.deltas {
            self.elapsed += t;
            self.elapsed
        } else {
            t
        };
        let timestamp = t + self.start_time;
        let Some(second) = tok.next() else {
            return Ok(None);
        };
        if second == b"CANFD" {
            return self.canfd(timestamp, tok);
        }
        if !second.iter().all(u8::is_ascii_digit) {
            // "Start of measurement", "CAN 1 Status:…", "SV: …", "log trigger event", …
            return Ok(None);
        }
        let channel = channel_index(second)?;
        let Some(third) = tok.next() else {
            return Ok(None);
        };
        if third.eq_ignore_ascii_case(b"ErrorFrame") {
            let mut f = CanFrame {
                timestamp,
                can_id: CAN_ERR_FLAG | CAN_EFF_FLAG,
                channel,
                ..CanFrame::default()
            };
            f.is_rx = true;
            return Ok(Some(f));
        }
        let Some(dir) = tok.next() else {
            return Ok(None);
        };
        let is_rx = match direction(dir) {
            Some(Dir::Rx) => true,
            Some(Dir::Tx) => false,
            // A transmit request is not a frame on the bus; anything else ("Statistic:",
            // "J1939TP …") is another kind of event.
            Some(Dir::TxRq) | None => return Ok(None),
        };
        self.classic(timestamp, channel, third, is_rx, tok)
    }

    /// Header and block lines (they start with a word); true for the lines of an ASC header
    /// (see [`Reader`]), false for anything else.
    fn header(&mut self, first: &[u8], tok: &mut Tokens<'_>) -> std::result::Result<bool, String> {
        let word = |t: Option<&[u8]>, w: &[u8]| t.is_some_and(|t| t.eq_ignore_ascii_case(w));
        if first.eq_ignore_ascii_case(b"date") {
            self.set_start(tok.rest(), "date");
        } else if first.eq_ignore_ascii_case(b"base") {
            let base = tok.next().unwrap_or_default();
            self.base = if base.eq_ignore_ascii_case(b"hex") {
                Base::Hex
            } else if base.eq_ignore_ascii_case(b"dec") {
                Base::Dec
            } else {
                return Err(format!(
                    "base must be hex or dec, not {:?}",
                    String::from_utf8_lossy(base)
                ));
            };
            if tok
                .next()
                .is_some_and(|t| t.eq_ignore_ascii_case(b"timestamps"))
            {
                let mode = tok.next().unwrap_or_default();
                if mode.eq_ignore_ascii_case(b"relative") {
                    self.deltas = true;
                } else if mode.eq_ignore_ascii_case(b"absolute") {
                    self.deltas = false;
                } else {
                    return Err(format!(
                        "timestamps must be absolute or relative, not {:?}",
                        String::from_utf8_lossy(mode)
                    ));
                }
            }
        } else if first.eq_ignore_ascii_case(b"begin")
            && tok
                .next()
                .is_some_and(|t| t.eq_ignore_ascii_case(b"triggerblock"))
        {
            self.elapsed = 0.0;
            let rest = tok.rest();
            if !rest.is_empty() {
                self.set_start(rest, "Begin Triggerblock");
            }
        } else {
            let mut ahead = tok.clone();
            // "End TriggerBlock", "internal events logged", "no internal events logged";
            // anything else ("// version …", notes) is passed over.
            return Ok(if first.eq_ignore_ascii_case(b"end") {
                word(ahead.next(), b"triggerblock")
            } else {
                let first = if first.eq_ignore_ascii_case(b"no") {
                    ahead.next()
                } else {
                    Some(first)
                };
                word(first, b"internal")
                    && word(ahead.next(), b"events")
                    && word(ahead.next(), b"logged")
            });
        }
        Ok(true)
    }

    /// Takes the measurement start from a date, when absolute timestamps are wanted.
    fn set_start(&mut self, date: &[u8], what: &str) {
        if self.relative_timestamp {
            return;
        }
        match parse_date(date).and_then(|c| self.tz.unix_of_local(&c)) {
            Some(t) => self.start_time = t,
            None => self.warnings.push(format!(
                "cannot read the {what} line's date {:?}; timestamps stay relative to the start \
                 of the measurement",
                String::from_utf8_lossy(date).trim()
            )),
        }
    }

    fn parse_id(&self, tok: &[u8]) -> std::result::Result<u32, String> {
        let (digits, ext) = match tok.last() {
            Some(b'x' | b'X') => (&tok[..tok.len() - 1], true),
            _ => (tok, false),
        };
        let id = match self.base {
            Base::Hex => parse_hex_u32(digits),
            Base::Dec => parse_dec_u32(digits),
        };
        let bad = || format!("{:?} is not a CAN identifier", String::from_utf8_lossy(tok));
        let id = id.ok_or_else(bad)?;
        if ext {
            if id > crate::frame::CAN_EFF_MASK {
                return Err(format!("extended identifier {id:#X} exceeds 29 bits"));
            }
            Ok(id | CAN_EFF_FLAG)
        } else if id > crate::frame::CAN_EFF_MASK {
            Err(format!("identifier {id:#X} exceeds 29 bits"))
        } else {
            // A standard id above 0x7FF is not valid CAN, but files hold them (python-can
            // reads them too); the value is kept as it is.
            Ok(id)
        }
    }

    fn parse_byte(&self, tok: &[u8]) -> Option<u8> {
        match self.base {
            Base::Hex => match tok {
                [a] => hex_val(*a),
                [a, b] => Some(hex_val(*a)? << 4 | hex_val(*b)?),
                _ => None,
            },
            Base::Dec => {
                if tok.len() > 3 {
                    return None;
                }
                u8::try_from(parse_dec_u32(tok)?).ok()
            }
        }
    }

    /// A DLC 0..=15: one hex digit, or in a decimal file up to two decimal digits.
    /// The length field of a classic `d` line that is a CAN FD data length beyond 8 rather than
    /// a DLC: two hex digits (`0C` to `40`), or in a decimal file 16 to 64 (12 is DLC 12 there).
    fn fd_length(&self, tok: &[u8]) -> Option<u8> {
        if tok.len() != 2 {
            return None;
        }
        let value = match self.base {
            Base::Hex => u32::from(hex_val(tok[0])?) * 16 + u32::from(hex_val(tok[1])?),
            Base::Dec => parse_dec_u32(tok).filter(|&v| v > 15)?,
        };
        let len = u8::try_from(value).ok()?;
        matches!(len, 12 | 16 | 20 | 24 | 32 | 48 | 64).then_some(len)
    }

    fn parse_dlc(&self, tok: &[u8]) -> Option<u8> {
        match (tok, self.base) {
            ([d], _) => hex_val(*d),
            ([_, _], Base::Dec) => u8::try_from(parse_dec_u32(tok)?).ok().filter(|&d| d <= 15),
            _ => None,
        }
    }

    fn read_data(
        &self,
        frame: &mut CanFrame,
        n: usize,
        tok: &mut Tokens<'_>,
    ) -> std::result::Result<(), String> {
        for i in 0..n {
            let Some(t) = tok.next() else {
                return Err(format!("{n} data bytes expected, found {i}"));
            };
            frame.data[i] = self
                .parse_byte(t)
                .ok_or_else(|| format!("{:?} is not a data byte", String::from_utf8_lossy(t)))?;
        }
        frame.len = n as u8;
        Ok(())
    }

    /// `<id> <Rx|Tx> d <dlc> <data…> [attributes]` or `<id> <Rx|Tx> r [<dlc>] [attributes]`.
    fn classic(
        &self,
        timestamp: f64,
        channel: i32,
        id: &[u8],
        is_rx: bool,
        tok: &mut Tokens<'_>,
    ) -> LineResult {
        let can_id = self.parse_id(id)?;
        let mut f = CanFrame {
            timestamp,
            can_id,
            channel,
            is_rx,
            ..CanFrame::default()
        };
        let kind = tok.next().unwrap_or_default();
        if kind.eq_ignore_ascii_case(b"r") {
            f.can_id |= CAN_RTR_FLAG;
            if let Some(dlc) = tok.peek().and_then(|t| self.parse_dlc(t)) {
                f.dlc = dlc;
            }
            return Ok(Some(f));
        }
        if !kind.eq_ignore_ascii_case(b"d") {
            return Err(format!(
                "expected 'd' (data) or 'r' (remote) after the direction, found {:?}",
                String::from_utf8_lossy(kind)
            ));
        }
        let dlc_tok = tok.next().unwrap_or_default();
        if let Some(len) = self.fd_length(dlc_tok) {
            // A CAN FD length in a classic `d` line (`d 40` and 64 bytes), as some tools
            // write FD frames: every byte the line carries is read, and the frame is CAN FD
            // (more than 8 bytes exist only there).
            self.read_data(&mut f, usize::from(len), tok)?;
            f.dlc = len;
            f.flags |= CANFD_FDF;
            return Ok(Some(f));
        }
        let dlc = self
            .parse_dlc(dlc_tok)
            .ok_or_else(|| format!("{:?} is not a DLC (0-F)", String::from_utf8_lossy(dlc_tok)))?;
        self.read_data(&mut f, usize::from(dlc.min(8)), tok)?;
        f.dlc = dlc;
        Ok(Some(f))
    }

    /// `CANFD <ch> <Rx|Tx> <id> [<name>] <brs> <esi> <dlc> <len> <data…> [<duration> <bits>
    /// <flags> …]` or `CANFD <ch> <Rx|Tx> ErrorFrame …`.
    fn canfd(&mut self, timestamp: f64, tok: &mut Tokens<'_>) -> LineResult {
        let ch = tok.next().unwrap_or_default();
        if ch.is_empty() || !ch.iter().all(u8::is_ascii_digit) {
            return Err(format!(
                "{:?} is not a channel number",
                String::from_utf8_lossy(ch)
            ));
        }
        let channel = channel_index(ch)?;
        let dir = tok.next().unwrap_or_default();
        let is_rx = match direction(dir) {
            Some(Dir::Rx) => true,
            Some(Dir::Tx) => false,
            Some(Dir::TxRq) => return Ok(None),
            None => {
                return Err(format!(
                    "expected Rx or Tx after the channel, found {:?}",
                    String::from_utf8_lossy(dir)
                ))
            }
        };
        let id = tok.next().unwrap_or_default();
        let mut f = CanFrame {
            timestamp,
            channel,
            is_rx,
            flags: CANFD_FDF,
            ..CanFrame::default()
        };
        if id.eq_ignore_ascii_case(b"ErrorFrame") {
            f.can_id = CAN_ERR_FLAG | CAN_EFF_FLAG;
            return Ok(Some(f));
        }
        f.can_id = self.parse_id(id)?;
        // An optional symbolic name sits between the id and the BRS bit.
        let is_bit = |t: Option<&[u8]>| matches!(t, Some(b"0" | b"1"));
        let mut ahead = tok.clone();
        if !(is_bit(ahead.next()) && is_bit(ahead.next())) {
            tok.next();
        }
        let bit = |t: Option<&[u8]>, what: &str| match t {
            Some(b"0") => Ok(false),
            Some(b"1") => Ok(true),
            other => Err(format!(
                "expected the {what} bit (0 or 1), found {:?}",
                String::from_utf8_lossy(other.unwrap_or_default())
            )),
        };
        let brs = bit(tok.next(), "BRS")?;
        let esi = bit(tok.next(), "ESI")?;
        let dlc_tok = tok.next().unwrap_or_default();
        let dlc = match dlc_tok {
            [d] => hex_val(*d),
            _ => None,
        }
        .ok_or_else(|| format!("{:?} is not a DLC (0-F)", String::from_utf8_lossy(dlc_tok)))?;
        let len_tok = tok.next().unwrap_or_default();
        let len = parse_dec_u32(len_tok).filter(|&n| n <= 64).ok_or_else(|| {
            format!(
                "{:?} is not a data length (0-64)",
                String::from_utf8_lossy(len_tok)
            )
        })? as usize;
        self.read_data(&mut f, len, tok)?;
        // MessageDuration, MessageLength, Flags (hex); optional.
        let flags_tok = {
            let mut t = tok.clone();
            t.next();
            t.next();
            t.next()
        };
        let mut fd = true;
        let mut remote = false;
        let mut conflict = None;
        match flags_tok.map(|t| (t, parse_hex_u32(t))) {
            None => {}
            Some((t, None)) => {
                conflict = Some(format!(
                    "the Flags field {:?} of a CANFD line is not a hexadecimal number",
                    String::from_utf8_lossy(t)
                ));
            }
            Some((_, Some(fl))) => {
                let rtr = fl & ASC_F_RTR != 0;
                let fdf = fl & ASC_F_FDF != 0;
                let says = |what: String| {
                    Some(format!(
                        "the Flags field {fl:X} of a CANFD line contradicts its explicit \
                         fields: {what}"
                    ))
                };
                if rtr && len > 0 {
                    // A remote frame carries no data: the bytes on the line win.
                    conflict = says(format!("the RTR bit, but {len} data bytes"));
                    fd = fdf || brs || esi || len > 8;
                } else if !fdf && (brs || esi || len > 8) {
                    // The explicit fields say CAN FD. A Flags field of 0 says nothing (CANoe
                    // writes 0 for CAN FD frames of 64 bytes, python-can's sample files show);
                    // any other value without FDF is a cut or odd one.
                    if fl != 0 {
                        conflict = says(if len > 8 {
                            format!("no FDF bit (classic CAN), but {len} data bytes")
                        } else {
                            "no FDF bit (classic CAN), but the BRS or ESI field is 1".to_owned()
                        });
                    }
                } else {
                    fd = fdf;
                    remote = rtr;
                }
            }
        }
        if conflict.is_some() && !self.flags_conflict_reported {
            self.flags_conflict_reported = true;
            self.flags_conflict = conflict;
        }
        if !fd {
            // Classic CAN in the CANFD layout (flags without FDF, BRS and ESI 0, at most 8
            // bytes). The data length wins over a DLC that disagrees (8 bytes may carry
            // 9..15).
            f.flags = 0;
            f.dlc = if len == 8 && dlc > 8 { dlc } else { len as u8 };
            if remote {
                f.can_id |= CAN_RTR_FLAG;
                f.dlc = dlc;
            }
            return Ok(Some(f));
        }
        if remote {
            // The RTR bit with FDF and no data: not valid CAN FD, but kept as the file says.
            f.can_id |= CAN_RTR_FLAG;
            f.dlc = crate::dlc::DLC_TO_LEN[usize::from(dlc & 0xF)];
        } else {
            // Any length up to 64 is kept (a valid CAN FD frame has one of 0-8, 12, 16,
            // 20, 24, 32, 48, 64).
            f.dlc = len as u8;
        }
        if brs {
            f.flags |= CANFD_BRS;
        }
        if esi {
            f.flags |= CANFD_ESI;
        }
        Ok(Some(f))
    }
}

enum Dir {
    Rx,
    Tx,
    TxRq,
}

fn direction(tok: &[u8]) -> Option<Dir> {
    if tok.eq_ignore_ascii_case(b"Rx") {
        Some(Dir::Rx)
    } else if tok.eq_ignore_ascii_case(b"Tx") {
        Some(Dir::Tx)
    } else if tok.eq_ignore_ascii_case(b"TxRq") {
        Some(Dir::TxRq)
    } else {
        None
    }
}

/// File channel (counted from 1) to frame channel (counted from 0).
fn channel_index(tok: &[u8]) -> std::result::Result<i32, String> {
    parse_dec_u32(tok)
        .and_then(|n| i32::try_from(n).ok())
        .map(|n| n - 1)
        .ok_or_else(|| format!("channel {:?} is out of range", String::from_utf8_lossy(tok)))
}
