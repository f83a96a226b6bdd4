//! CSV log files (python-can manual section 3.4.5): a streaming reader and writer.
//!
//! A header line, then one frame per line, seven comma separated columns:
//!
//! ```text
//! timestamp,arbitration_id,extended,remote,error,dlc,data
//! 1483389946.197,0x00dadada,1,0,0,7,WzQyLCA5XQ==
//! 0.5,0x7ff,0,0,0,0,
//! ```
//!
//! * `timestamp`: seconds as a decimal float, written as Python's `repr()` writes a float
//!   (the shortest text that reads back as the same double);
//! * `arbitration_id`: hexadecimal with `0x`, written with 8 digits for an extended id and 3
//!   for a standard one (lower case);
//! * `extended`, `remote`, `error`: `1` or `0`;
//! * `dlc`: the declared length in decimal (python-can's `Message.dlc`, which may differ from
//!   the number of data bytes, as for a remote frame);
//! * `data`: the data bytes in base64 (RFC 4648, standard alphabet, padded), empty for none.
//!
//! The first line is the header whatever it holds; blank lines are skipped. Reading accepts
//! white space around a field (as Python's `int()` and `float()` do) and an id without `0x`.
//! The channel, the direction and the CAN FD flags are not columns: frames read back as
//! received classic frames of channel 0 (an FD frame keeps its length and data).

use std::io::{Read, Write};

use crate::frame::{
    CanFrame, CANFD_MAX_DLEN, CAN_EFF_FLAG, CAN_EFF_MASK, CAN_ERR_FLAG, CAN_RTR_FLAG,
};
use crate::lines::{find_byte, parse_decimal_f64, LineFormat, LineSink, TextReader};
pub use crate::lines::{Error, Result};

/// The header line (without its line break).
pub const HEADER: &[u8] = b"timestamp,arbitration_id,extended,remote,error,dlc,data";

/// Reads CAN frames from a CSV file.
pub type Reader<R> = TextReader<R, CsvLines>;

/// CSV as a [`LineFormat`]: line 1 is the header, every other line a frame.
#[derive(Default)]
pub struct CsvLines;

impl LineFormat for CsvLines {
    const FORMAT: crate::log::Format = crate::log::Format::Csv;

    fn header_line(&mut self, _: &[u8], line_no: u64) -> Result<bool> {
        Ok(line_no == 1)
    }

    #[inline]
    fn parse_line(&mut self, line: &[u8], line_no: u64) -> Result<Option<CanFrame>> {
        parse_line(line).map_err(|what| Error::Malformed {
            line: line_no,
            what,
        })
    }
}

impl<R: Read> Reader<R> {
    /// A reader of `src`; with `strict` false, malformed lines are skipped and counted.
    pub fn new(src: R, strict: bool) -> Self {
        Self::with_max_line_len(src, strict, crate::lines::MAX_LINE_LEN)
    }

    pub fn with_max_line_len(src: R, strict: bool, max_line_len: usize) -> Self {
        TextReader::with_format(src, CsvLines, strict, max_line_len)
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `s` without ASCII white space at either end.
#[inline]
fn trim(s: &[u8]) -> &[u8] {
    s.trim_ascii()
}

/// The seven columns of a line, or a message saying how many it has.
#[inline]
fn split_fields(line: &[u8]) -> std::result::Result<[&[u8]; 7], String> {
    let mut out: [&[u8]; 7] = [&[]; 7];
    let mut rest = line;
    for (i, slot) in out.iter_mut().enumerate() {
        match find_byte(rest, b',') {
            Some(c) if i < 6 => {
                *slot = &rest[..c];
                rest = &rest[c + 1..];
            }
            None if i == 6 => *slot = rest,
            _ => {
                let n = line.iter().filter(|&&b| b == b',').count() + 1;
                let shown = &line[..line.len().min(80)];
                return Err(format!(
                    "expected 7 comma separated fields \
                     (timestamp,arbitration_id,extended,remote,error,dlc,data), got {n}: {:?}",
                    lossy(shown)
                ));
            }
        }
    }
    Ok(out)
}

/// Parses one line: a frame, or `None` for a blank line.
fn parse_line(line: &[u8]) -> std::result::Result<Option<CanFrame>, String> {
    if trim(line).is_empty() {
        return Ok(None);
    }
    let [ts, id, ext, rtr, err, dlc, data] = split_fields(line)?;
    let mut f = CanFrame {
        timestamp: parse_timestamp(ts)?,
        ..CanFrame::default()
    };
    let id = parse_id(id)?;
    f.can_id = id;
    if parse_flag(ext, "extended")? {
        f.can_id |= CAN_EFF_FLAG;
    }
    if parse_flag(rtr, "remote")? {
        f.can_id |= CAN_RTR_FLAG;
    }
    if parse_flag(err, "error")? {
        f.can_id |= CAN_ERR_FLAG;
    }
    let dlc_text = trim(dlc);
    f.dlc = crate::lines::parse_dec_u32(dlc_text)
        .and_then(|v| u8::try_from(v).ok())
        .ok_or_else(|| {
            format!(
                "the dlc column must be a whole number from 0 to 255, not {:?}",
                lossy(dlc)
            )
        })?;
    let n = decode_base64(trim(data), &mut f.data)
        .map_err(|why| format!("the data column is not base64 of at most 64 bytes: {why}"))?;
    f.len = n as u8; // ok: at most 64
    Ok(Some(f))
}

fn parse_timestamp(text: &[u8]) -> std::result::Result<f64, String> {
    if let Some(v) = parse_decimal_f64(text) {
        return Ok(v);
    }
    let t = trim(text);
    std::str::from_utf8(t)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .ok_or_else(|| format!("the timestamp column is not a number: {:?}", lossy(text)))
}

fn parse_id(text: &[u8]) -> std::result::Result<u32, String> {
    let t = trim(text);
    let digits = t
        .strip_prefix(b"0x")
        .or_else(|| t.strip_prefix(b"0X"))
        .unwrap_or(t);
    // Leading zeros do not count against the 8 digits.
    let start = digits
        .iter()
        .position(|&b| b != b'0')
        .unwrap_or(digits.len());
    let significant = &digits[start..];
    let value = if significant.is_empty() && !digits.is_empty() {
        Some(0)
    } else {
        crate::lines::parse_hex_u32(significant)
    };
    match value {
        Some(v) if v <= CAN_EFF_MASK => Ok(v),
        Some(_) => Err(format!(
            "the arbitration_id {:?} is larger than 0x1fffffff",
            lossy(text)
        )),
        None => Err(format!(
            "the arbitration_id column is not a hexadecimal number: {:?}",
            lossy(text)
        )),
    }
}

#[inline]
fn parse_flag(text: &[u8], name: &str) -> std::result::Result<bool, String> {
    match text {
        b"1" => Ok(true),
        b"0" => Ok(false),
        _ => match trim(text) {
            b"1" => Ok(true),
            b"0" => Ok(false),
            _ => Err(format!(
                "the {name} column must be 0 or 1, not {:?}",
                lossy(text)
            )),
        },
    }
}

/// The base64 alphabet of RFC 4648 (section 4).
const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The value of each base64 character, 0xFF for every other byte.
const B64_VALUE: [u8; 256] = {
    let mut t = [0xFFu8; 256];
    let mut i = 0;
    while i < 64 {
        t[B64[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// Base64 of `data` with `=` padding (RFC 4648 section 4), appended to `out`; returns the
/// number of characters written (`4 * ceil(len / 3)`). `out` must have room for them.
pub fn encode_base64(data: &[u8], out: &mut [u8]) -> usize {
    let mut o = 0;
    let mut chunks = data.chunks_exact(3);
    for c in &mut chunks {
        let v = u32::from(c[0]) << 16 | u32::from(c[1]) << 8 | u32::from(c[2]);
        out[o] = B64[(v >> 18) as usize & 63];
        out[o + 1] = B64[(v >> 12) as usize & 63];
        out[o + 2] = B64[(v >> 6) as usize & 63];
        out[o + 3] = B64[v as usize & 63];
        o += 4;
    }
    match *chunks.remainder() {
        [a] => {
            let v = u32::from(a) << 16;
            out[o] = B64[(v >> 18) as usize & 63];
            out[o + 1] = B64[(v >> 12) as usize & 63];
            out[o + 2] = b'=';
            out[o + 3] = b'=';
            o += 4;
        }
        [a, b] => {
            let v = u32::from(a) << 16 | u32::from(b) << 8;
            out[o] = B64[(v >> 18) as usize & 63];
            out[o + 1] = B64[(v >> 12) as usize & 63];
            out[o + 2] = B64[(v >> 6) as usize & 63];
            out[o + 3] = b'=';
            o += 4;
        }
        _ => {}
    }
    o
}

/// Decodes base64 `text` (standard alphabet, the last group padded with `=` to 4 characters,
/// nothing else in it, not even white space) into `out`; returns the number of bytes, or why it cannot. Bits
/// past the last byte are ignored, as Python's `binascii.a2b_base64` ignores them.
pub fn decode_base64(text: &[u8], out: &mut [u8]) -> std::result::Result<usize, String> {
    let body = match text {
        [rest @ .., b'=', b'='] => rest,
        [rest @ .., b'='] => rest,
        _ => text,
    };
    let padded = body.len() != text.len();
    if padded && text.len() % 4 != 0 {
        return Err(format!("incorrect padding in {:?}", lossy(text)));
    }
    if !padded && text.len() % 4 != 0 {
        return Err(format!(
            "{} characters, which is not a multiple of 4 (incorrect padding)",
            text.len()
        ));
    }
    let n = body.len() / 4 * 3
        + match body.len() % 4 {
            0 => 0,
            2 => 1,
            3 => 2,
            // ok: a padded text has 2 or 3 characters in its last group
            _ => return Err(format!("incorrect padding in {:?}", lossy(text))),
        };
    if n > out.len() {
        return Err(format!("{n} bytes, more than {}", out.len()));
    }
    let bad = |i: usize| {
        format!(
            "{:?} at character {} is not a base64 character",
            char::from(body[i]),
            i + 1
        )
    };
    let mut o = 0;
    let mut quads = body.chunks_exact(4);
    let mut at = 0;
    for q in &mut quads {
        let mut v = 0u32;
        for (k, &c) in q.iter().enumerate() {
            let d = B64_VALUE[usize::from(c)];
            if d == 0xFF {
                return Err(bad(at + k));
            }
            v = v << 6 | u32::from(d);
        }
        out[o] = (v >> 16) as u8;
        out[o + 1] = (v >> 8) as u8;
        out[o + 2] = v as u8;
        o += 3;
        at += 4;
    }
    let tail = quads.remainder();
    if !tail.is_empty() {
        let mut v = 0u32;
        for (k, &c) in tail.iter().enumerate() {
            let d = B64_VALUE[usize::from(c)];
            if d == 0xFF {
                return Err(bad(at + k));
            }
            v |= u32::from(d) << (18 - 6 * k);
        }
        out[o] = (v >> 16) as u8;
        o += 1;
        if tail.len() == 3 {
            out[o] = (v >> 8) as u8;
            o += 1;
        }
    }
    Ok(o)
}

/// `v` as Python's `repr(float)` writes it: the shortest digits that read back as `v`, in
/// positional notation for decimal exponents -4 to 15 (`0.0001`, `1483389946.197`, `5.0`),
/// else in scientific notation with a signed exponent of at least two digits (`1e-05`,
/// `1e+16`); `inf`, `-inf`, `nan`. Appended to `out`.
pub fn push_py_float(out: &mut Vec<u8>, v: f64) {
    use std::io::Write as _;
    if v.is_nan() {
        out.extend_from_slice(b"nan");
        return;
    }
    if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"inf" } else { b"-inf" });
        return;
    }
    // Rust's `{:e}` gives the number of digits of the shortest text that reads back as `v`
    // (`-1.2345e-7`); of the texts of that length, Python writes the one nearest to `v`,
    // an exact tie to the even digit (`671155447070589.25` is `...589.2`, where the shortest
    // digits may end in 3): `{:.N$e}`, which rounds exactly and ties to even.
    let mut sci = [0u8; 40];
    let mut cur = std::io::Cursor::new(&mut sci[..]);
    // ok: the shortest digits of a double (at most 17) with sign, dot and exponent fit in 40.
    let _ = write!(cur, "{v:e}");
    let len = cur.position() as usize;
    let e_at = find_byte(&sci[..len], b'e').unwrap_or(len);
    let shortest = sci[..e_at].iter().filter(|b| b.is_ascii_digit()).count();
    let mut cur = std::io::Cursor::new(&mut sci[..]);
    // ok: as above.
    let _ = write!(cur, "{v:.prec$e}", prec = shortest.saturating_sub(1));
    let len = cur.position() as usize;
    let text = &sci[..len];
    let (negative, text) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let e_at = find_byte(text, b'e').unwrap_or(text.len());
    let mut digits = [0u8; 24];
    let mut nd = 0;
    for &b in &text[..e_at] {
        if b.is_ascii_digit() && nd < digits.len() {
            digits[nd] = b;
            nd += 1;
        }
    }
    let digits = &digits[..nd.max(1)];
    let exp_text = text.get(e_at + 1..).unwrap_or_default();
    let exp: i32 = std::str::from_utf8(exp_text)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if negative {
        out.push(b'-');
    }
    if (-4..16).contains(&exp) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.extend_from_slice(digits);
                out.resize(out.len() + int_len - digits.len(), b'0');
                out.extend_from_slice(b".0");
            } else {
                out.extend_from_slice(&digits[..int_len]);
                out.push(b'.');
                out.extend_from_slice(&digits[int_len..]);
            }
        } else {
            out.extend_from_slice(b"0.");
            out.resize(out.len() + (-exp - 1) as usize, b'0');
            out.extend_from_slice(digits);
        }
    } else {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.push(b'0');
        }
        let _ = write!(out, "{e}");
    }
}

/// Writes CAN frames to a CSV file.
pub struct Writer<W: Write> {
    sink: LineSink<W>,
    /// Scratch space of a line's timestamp.
    ts: Vec<u8>,
}

impl<W: Write> Writer<W> {
    /// A writer to `out`, which starts with the header line if `header` (a new file; not when
    /// appending to one). The header is buffered like every line.
    pub fn new(out: W, header: bool) -> Self {
        let mut sink = LineSink::new(out);
        if header {
            sink.buf.bytes(HEADER);
            sink.buf.byte(b'\n');
        }
        Writer {
            sink,
            ts: Vec::with_capacity(32),
        }
    }

    /// Writes one line for `frame` (its channel, direction and FD flags are not kept).
    #[inline]
    pub fn write_frame(&mut self, frame: &CanFrame) -> Result<()> {
        self.sink.make_room()?;
        self.ts.clear();
        push_py_float(&mut self.ts, frame.timestamp);
        let l = &mut self.sink.buf;
        l.bytes(&self.ts);
        let ext = frame.is_extended();
        let digits = if ext { 8 } else { 3 };
        let id = frame.id();
        // Lower-case hex, at least `digits` digits (a larger standard id keeps all of its).
        let width = digits.max((8 - id.leading_zeros() as usize / 4).max(1));
        let mut idtext = [0u8; 10];
        idtext[0] = b'0';
        idtext[1] = b'x';
        for i in 0..width {
            idtext[2 + i] = HEX_LOWER[(id >> (4 * (width - 1 - i)) & 0xF) as usize];
        }
        l.byte(b',');
        l.bytes(&idtext[..2 + width]);
        let flag = |v: bool| if v { b'1' } else { b'0' };
        l.bytes(&[
            b',',
            flag(ext),
            b',',
            flag(frame.is_remote()),
            b',',
            flag(frame.is_error()),
            b',',
        ]);
        l.u64(u64::from(frame.dlc));
        l.byte(b',');
        let mut b64 = [0u8; CANFD_MAX_DLEN.div_ceil(3) * 4];
        let n = encode_base64(frame.payload(), &mut b64);
        l.bytes(&b64[..n]);
        l.byte(b'\n');
        Ok(())
    }

    /// Hands buffered lines to the output and flushes it.
    pub fn flush(&mut self) -> Result<()> {
        Ok(self.sink.flush()?)
    }

    /// Hands buffered lines to the output (without flushing it).
    pub fn drain(&mut self) -> Result<()> {
        Ok(self.sink.drain()?)
    }

    /// Bytes formatted but not yet handed to the output.
    pub fn buffered(&self) -> usize {
        self.sink.buffered()
    }

    /// Forgets the formatted bytes not yet handed to the output.
    pub fn clear_buffer(&mut self) {
        self.sink.clear_buffer();
    }

    /// The output.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.sink.out
    }
}

const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

impl<W: Write> crate::log::FrameWriter for Writer<W> {
    /// Every frame is written; what CSV has no column for is left out.
    fn write_frame(&mut self, frame: &CanFrame, _name: Option<&[u8]>) -> crate::Result<bool> {
        Writer::write_frame(self, frame).map_err(csv_err)?;
        Ok(true)
    }

    fn drain(&mut self) -> crate::Result<()> {
        Writer::drain(self).map_err(csv_err)
    }

    fn flush(&mut self) -> crate::Result<()> {
        Writer::flush(self).map_err(csv_err)
    }

    /// A CSV file has no end: finishing flushes.
    fn finish(&mut self) -> crate::Result<bool> {
        Writer::flush(self).map_err(csv_err)?;
        Ok(true)
    }

    fn buffered(&self) -> usize {
        Writer::buffered(self)
    }

    fn clear_buffer(&mut self) {
        Writer::clear_buffer(self);
    }
}

fn csv_err(e: Error) -> crate::Error {
    crate::Error::text(e, crate::log::Format::Csv)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
