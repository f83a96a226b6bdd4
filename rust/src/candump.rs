//! can-utils log files (`candump -L`): a streaming reader and writer.
//!
//! One frame per line, as can-utils' `lib.c` (`snprintf_canframe` / `parse_canframe`) and the
//! python-can manual (section 3.4.8) describe it:
//!
//! ```text
//! (1795715148.716977) vcan0 123#DEADBEEF           classic data frame, 3-digit standard id
//! (1795715148.742299) vcan0 1FFFFFFF#0102          8-digit extended id
//! (1795715148.759077) vcan0 12345678#R             remote frame, optionally R<len>
//! (1795715148.775186) vcan1 123##5112233           CAN FD: '#', a flags digit, the data
//! (1795715148.808237) vcan0 20000004#0000080000000000   error frame (CAN_ERR_FLAG in the id)
//! (1.000000) can0 123#11 R                         optional direction (R received, T sent)
//! ```
//!
//! The FD flags digit is one hexadecimal digit: BRS = 1, ESI = 2, FDF = 4, other bits ignored.
//! A classic frame with 8 data bytes may carry a DLC of 9..15 as a `_<dlc>` suffix, and data
//! bytes may be separated by dots (`11.22.33`), as `parse_canframe` accepts. Interface names
//! are kept as written; [`CanFrame::channel`] gets the number they end in (`vcan1` -> 1).

use std::io::{Read, Write};

use crate::frame::{
    CanFrame, CANFD_BRS, CANFD_ESI, CANFD_FDF, CANFD_MAX_DLEN, CAN_EFF_FLAG, CAN_EFF_MASK,
    CAN_ERR_FLAG, CAN_ERR_MASK, CAN_MAX_DLEN, CAN_RTR_FLAG,
};
use crate::lines::{
    find_byte, hex_val, parse_decimal_f64, LineFormat, LineSink, TextReader, Tokens, HEX_UPPER,
    LINE_BUF_CAP,
};
pub use crate::lines::{Error, Result};

/// Error class "bus error" (`linux/can/error.h`), written for an error frame without a class.
pub const CAN_ERR_BUSERROR: u32 = 0x0000_0080;

/// Reads CAN frames from a candump log.
pub type Reader<R> = TextReader<R, LogLines>;

/// The candump log as a [`LineFormat`]: one frame per line, no header.
#[derive(Default)]
pub struct LogLines {
    channel: Interface,
}

impl LineFormat for LogLines {
    const FORMAT: crate::log::Format = crate::log::Format::Log;

    fn channel_name(&self) -> Option<&[u8]> {
        Some(&self.channel.name)
    }

    #[inline]
    fn parse_line(&mut self, line: &[u8], line_no: u64) -> Result<Option<CanFrame>> {
        parse_line(line, &mut self.channel).map_err(|what| Error::Malformed {
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
        TextReader::with_format(src, LogLines::default(), strict, max_line_len)
    }

    /// Interface name of the frame returned last (valid UTF-8).
    pub fn channel_name(&self) -> &[u8] {
        &self.format.channel.name
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The number an interface name ends in (`vcan1` -> 1, `can` -> none), as python-can's
/// `channel2int` computes it.
pub fn channel_number(name: &[u8]) -> Option<i32> {
    let digits = name.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let mut v: i64 = 0;
    for &b in &name[name.len() - digits..] {
        v = v * 10 + i64::from(b - b'0');
        if v > i64::from(i32::MAX) {
            return None;
        }
    }
    i32::try_from(v).ok()
}

/// The interface of the line read last.
#[derive(Default)]
struct Interface {
    name: Vec<u8>,
    /// The number the name ends in (0 if none).
    number: i32,
}

/// The line as `candump -L` writes it (single spaces, no tabs), parsed without tokenizing;
/// None for any other layout, which [`parse_line`] then reads (or reports) in full.
#[inline]
fn parse_line_fast(
    line: &[u8],
    channel: &mut Interface,
) -> Option<std::result::Result<Option<CanFrame>, String>> {
    if find_byte(line, b'\t').is_some() {
        return None;
    }
    let rest = line.strip_prefix(b"(")?;
    let close = find_byte(rest, b')')?;
    let timestamp = parse_decimal_f64(&rest[..close])?;
    let rest = rest.get(close + 1..)?.strip_prefix(b" ")?;
    let sp = find_byte(rest, b' ')?;
    let (iface, rest) = (&rest[..sp], &rest[sp + 1..]);
    let (text, is_rx) = match find_byte(rest, b' ') {
        None => (rest, true),
        Some(i) => match &rest[i + 1..] {
            b"R" | b"r" => (&rest[..i], true),
            b"T" | b"t" => (&rest[..i], false),
            _ => return None,
        },
    };
    if iface.is_empty() || text.is_empty() {
        return None;
    }
    Some(finish_line(timestamp, iface, text, is_rx, channel).map(Some))
}

/// Parses one line into a frame; the interface name goes to `channel`.
fn parse_line(
    line: &[u8],
    channel: &mut Interface,
) -> std::result::Result<Option<CanFrame>, String> {
    if let Some(parsed) = parse_line_fast(line, channel) {
        return parsed;
    }
    let mut tok = Tokens::new(line);
    let Some(ts) = tok.next() else {
        return Ok(None); // blank line
    };
    let inner = ts
        .strip_prefix(b"(")
        .and_then(|t| t.strip_suffix(b")"))
        .ok_or_else(|| format!("expected '(seconds)' at the start, found {:?}", lossy(ts)))?;
    let timestamp = parse_decimal_f64(inner)
        .ok_or_else(|| format!("the timestamp {:?} is not a number", lossy(inner)))?;
    let iface = tok
        .next()
        .ok_or_else(|| "the interface name is missing".to_owned())?;
    let text = tok
        .next()
        .ok_or_else(|| "the frame is missing".to_owned())?;
    let is_rx = match tok.next() {
        None => true,
        Some(b"R" | b"r") => true,
        Some(b"T" | b"t") => false,
        Some(other) => {
            return Err(format!(
                "expected R or T after the frame, found {:?}",
                lossy(other)
            ))
        }
    };
    if let Some(extra) = tok.next() {
        return Err(format!(
            "unexpected {:?} at the end of the line",
            lossy(extra)
        ));
    }
    finish_line(timestamp, iface, text, is_rx, channel).map(Some)
}

/// The frame of a line whose fields are split apart.
fn finish_line(
    timestamp: f64,
    iface: &[u8],
    text: &[u8],
    is_rx: bool,
    channel: &mut Interface,
) -> std::result::Result<CanFrame, String> {
    let mut frame = parse_frame(text)?;
    frame.timestamp = timestamp;
    frame.is_rx = is_rx;
    if channel.name.as_slice() != iface {
        // Checked once per change of interface, not per line.
        if std::str::from_utf8(iface).is_err() {
            return Err(format!(
                "the interface name {:?} is not UTF-8",
                lossy(iface)
            ));
        }
        channel.name.clear();
        channel.name.extend_from_slice(iface);
        channel.number = channel_number(iface).unwrap_or(0);
    }
    frame.channel = channel.number;
    Ok(frame)
}

/// `ID#DATA`, `ID#R[len]`, `ID##<flags><DATA>`.
pub fn parse_frame(text: &[u8]) -> std::result::Result<CanFrame, String> {
    let hash = find_byte(text, b'#')
        .ok_or_else(|| format!("{:?} has no '#' between identifier and data", lossy(text)))?;
    let (id_text, rest) = (&text[..hash], &text[hash + 1..]);
    let bad_id = || format!("{:?} is not a CAN identifier", lossy(id_text));
    let mut value: u32 = 0;
    if id_text.is_empty() || id_text.len() > 8 {
        return Err(bad_id());
    }
    for &b in id_text {
        value = value << 4 | u32::from(hex_val(b).ok_or_else(bad_id)?);
    }
    let mut f = CanFrame::default();
    if id_text.len() <= 3 {
        // Up to 0xFFF: above 0x7FF not valid CAN, but kept as written, as can-utils does.
        f.can_id = value;
    } else if value & CAN_ERR_FLAG != 0 {
        if value & !(CAN_ERR_FLAG | CAN_ERR_MASK) != 0 {
            return Err(bad_id());
        }
        f.can_id = CAN_ERR_FLAG | CAN_EFF_FLAG | (value & CAN_ERR_MASK);
    } else {
        if value > CAN_EFF_MASK {
            return Err(format!("extended identifier {value:#X} exceeds 29 bits"));
        }
        f.can_id = value | CAN_EFF_FLAG;
    }

    let (data_text, max) = match rest.first() {
        Some(b'#') => {
            if f.is_error() {
                return Err("an error frame cannot be a CAN FD frame".to_owned());
            }
            let flags = rest
                .get(1)
                .and_then(|&b| hex_val(b))
                .ok_or_else(|| "'##' must be followed by a flags digit (0-F)".to_owned())?;
            f.flags = CANFD_FDF | (flags & (CANFD_BRS | CANFD_ESI));
            (&rest[2..], CANFD_MAX_DLEN)
        }
        Some(b'R' | b'r') => {
            if f.is_error() {
                return Err("an error frame cannot be a remote frame".to_owned());
            }
            f.can_id |= CAN_RTR_FLAG;
            f.dlc = match &rest[1..] {
                [] => 0,
                [d] if (b'0'..=b'8').contains(d) => d - b'0',
                [b'8', b'_', d] => hex_val(*d)
                    .filter(|&x| x > 8)
                    .ok_or_else(|| format!("bad remote length {:?}", lossy(rest)))?,
                _ => return Err(format!("bad remote length {:?}", lossy(rest))),
            };
            return Ok(f);
        }
        _ => (rest, CAN_MAX_DLEN),
    };

    // The common case: plain hex pairs.
    if data_text.len() % 2 == 0 && data_text.len() <= 2 * max {
        let mut ok = true;
        for (i, pair) in data_text.chunks_exact(2).enumerate() {
            match (hex_val(pair[0]), hex_val(pair[1])) {
                (Some(hi), Some(lo)) => f.data[i] = hi << 4 | lo,
                _ => {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            f.len = (data_text.len() / 2) as u8;
            f.dlc = f.len;
            return Ok(f);
        }
        f.data = [0; CANFD_MAX_DLEN];
    }
    let mut n = 0;
    let mut i = 0;
    let mut dlc = None;
    while i < data_text.len() {
        match data_text[i] {
            b'.' => i += 1,
            b'_' if !f.is_fd() && n == CAN_MAX_DLEN && i + 2 == data_text.len() => {
                dlc = hex_val(data_text[i + 1]).filter(|&x| x > 8);
                if dlc.is_none() {
                    return Err(format!("bad DLC suffix {:?}", lossy(&data_text[i..])));
                }
                i += 2;
            }
            _ => {
                let (Some(hi), Some(lo)) = (
                    hex_val(data_text[i]),
                    data_text.get(i + 1).and_then(|&b| hex_val(b)),
                ) else {
                    return Err(format!(
                        "{:?} is not hex data (two digits per byte)",
                        lossy(data_text)
                    ));
                };
                if n == max {
                    return Err(format!(
                        "more than {max} data bytes in {:?}",
                        lossy(data_text)
                    ));
                }
                f.data[n] = hi << 4 | lo;
                n += 1;
                i += 2;
            }
        }
    }
    f.len = n as u8;
    f.dlc = dlc.unwrap_or(n as u8);
    Ok(f)
}

/// Writes CAN frames to a candump log.
pub struct Writer<W: Write> {
    sink: LineSink<W>,
    last: Option<f64>,
}

impl<W: Write> Writer<W> {
    pub fn new(out: W) -> Self {
        Writer {
            sink: LineSink::new(out),
            last: None,
        }
    }

    /// The time written for an event at `timestamp`: as the manual says, a missing, zero or
    /// decreasing timestamp gets the previous line's time (zero for the first line).
    fn time_for(&mut self, timestamp: Option<f64>) -> f64 {
        let t = timestamp.filter(|t| t.is_finite() && *t > 0.0);
        let t = match (t, self.last) {
            (Some(t), Some(last)) if t >= last => t,
            (_, Some(last)) => last,
            (Some(t), None) => t,
            (None, None) => 0.0,
        };
        self.last = Some(t);
        t
    }

    /// Writes `frame` on interface `channel`.
    pub fn write_frame(&mut self, frame: &CanFrame, channel: &[u8]) -> Result<()> {
        self.write_frame_at(frame, Some(frame.timestamp), channel)
    }

    /// Writes `frame` on interface `channel` with `timestamp` (None: unknown).
    pub fn write_frame_at(
        &mut self,
        frame: &CanFrame,
        timestamp: Option<f64>,
        channel: &[u8],
    ) -> Result<()> {
        if channel.is_empty() || channel.iter().any(|&b| b <= b' ') {
            return Err(Error::Value(format!(
                "the interface name {:?} is empty or contains white space",
                lossy(channel)
            )));
        }
        let t = self.time_for(timestamp);
        self.sink.make_room()?;
        let l = &mut self.sink.buf;
        l.byte(b'(');
        l.fixed6(t);
        l.bytes(b") ");
        if channel.len() <= LINE_BUF_CAP / 2 {
            l.bytes(channel);
        } else {
            // A long name goes around the buffer.
            self.sink.out.write_all(l.as_slice())?;
            l.clear();
            self.sink.out.write_all(channel)?;
        }
        l.byte(b' ');
        if frame.is_error() {
            let mut class = frame.can_id & CAN_ERR_MASK;
            if class == 0 {
                class = CAN_ERR_BUSERROR;
            }
            l.hex_digits(CAN_ERR_FLAG | class, 8);
            l.byte(b'#');
            l.hex_bytes(frame.payload(), None);
        } else {
            // A standard id too large for 3 digits (not valid CAN) keeps its value in 8.
            if frame.is_extended() || frame.id() > 0xFFF {
                l.hex_digits(frame.id(), 8);
            } else {
                l.hex_digits(frame.id(), 3);
            }
            l.byte(b'#');
            if frame.is_remote() {
                l.byte(b'R');
                match frame.dlc {
                    0 => {}
                    d @ 1..=8 => l.byte(b'0' + d),
                    d => {
                        // 9..=15 as a classic DLC; a byte count above 15 (CAN FD) as its code.
                        let code = if d <= 15 {
                            d
                        } else {
                            crate::dlc::len_to_dlc(usize::from(d)).unwrap_or(15)
                        };
                        l.bytes(b"8_");
                        l.byte(HEX_UPPER[usize::from(code & 0xF)]);
                    }
                }
            } else if frame.is_fd() {
                l.byte(b'#');
                l.byte(HEX_UPPER[usize::from(frame.flags & (CANFD_FDF | CANFD_BRS | CANFD_ESI))]);
                l.hex_bytes(frame.payload(), None);
            } else {
                let data = frame.payload();
                l.hex_bytes(&data[..data.len().min(CAN_MAX_DLEN)], None);
                if data.len() == CAN_MAX_DLEN && (9..=15).contains(&frame.dlc) {
                    l.byte(b'_');
                    l.byte(HEX_UPPER[usize::from(frame.dlc)]);
                }
            }
            l.bytes(if frame.is_rx { b" R" } else { b" T" });
        }
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

    /// Forgets the formatted bytes not yet handed to the output (after an error handing
    /// them over was reported).
    pub fn clear_buffer(&mut self) {
        self.sink.clear_buffer();
    }

    /// The output.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.sink.out
    }
}

impl<W: Write> crate::log::FrameWriter for Writer<W> {
    /// The frame goes on interface `name`, else `can<channel>`.
    fn write_frame(&mut self, frame: &CanFrame, name: Option<&[u8]>) -> crate::Result<bool> {
        let mut buf = [0u8; 16];
        let name = match name {
            Some(n) => n,
            None => crate::log::interface_name(&mut buf, frame.channel),
        };
        Writer::write_frame(self, frame, name).map_err(log_err)?;
        Ok(true)
    }

    fn drain(&mut self) -> crate::Result<()> {
        Writer::drain(self).map_err(log_err)
    }

    fn flush(&mut self) -> crate::Result<()> {
        Writer::flush(self).map_err(log_err)
    }

    /// A candump log has no end: finishing flushes.
    fn finish(&mut self) -> crate::Result<bool> {
        Writer::flush(self).map_err(log_err)?;
        Ok(true)
    }

    fn buffered(&self) -> usize {
        Writer::buffered(self)
    }

    fn clear_buffer(&mut self) {
        Writer::clear_buffer(self);
    }
}

fn log_err(e: Error) -> crate::Error {
    crate::Error::text(e, crate::log::Format::Log)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn read_all(text: &str, strict: bool) -> (Vec<(CanFrame, String)>, Result<()>, u64) {
        let mut r = Reader::new(text.as_bytes(), strict);
        let mut out = Vec::new();
        loop {
            match r.next_frame() {
                Ok(Some(f)) => out.push((f, String::from_utf8(r.channel_name().to_vec()).unwrap())),
                Ok(None) => return (out, Ok(()), r.skipped()),
                Err(e) => return (out, Err(e), r.skipped()),
            }
        }
    }

    #[test]
    fn lines_from_the_manual_and_can_utils() {
        let (frames, res, _) = read_all(
            "(0.0) vcan0 001#8d00100100820100\n\
             (1795715148.716977) vcan0 123#DEADBEEF\n\
             (1795715148.725789) vcan0 7FF#\n\
             (1795715148.742299) vcan0 1FFFFFFF#0102\n\
             (1795715148.759077) vcan0 12345678#R\n\
             (1795715148.767018) vcan0 321#R3\n\
             (1795715148.775186) vcan1 123##5112233\n\
             (1795715148.808237) vcan0 20000004#0000080000000000\n\
             (2.5) can12 123#11 T\n\
             \n",
            true,
        );
        res.unwrap();
        assert_eq!(frames.len(), 9);
        let (f, ch) = &frames[0];
        assert_eq!((f.timestamp, ch.as_str()), (0.0, "vcan0"));
        assert_eq!((f.can_id, f.len, f.dlc), (0x001, 8, 8));
        assert_eq!(f.payload(), &[0x8d, 0, 0x10, 1, 0, 0x82, 1, 0]);
        let f = &frames[1].0;
        assert_eq!(f.timestamp, 1795715148.716977);
        assert_eq!(f.payload(), &[0xDE, 0xAD, 0xBE, 0xEF]);
        assert!(!f.is_extended() && f.is_rx && f.channel == 0);
        assert_eq!(frames[2].0.len, 0);
        assert_eq!(frames[3].0.can_id, 0x1FFF_FFFF | CAN_EFF_FLAG);
        let f = &frames[4].0;
        assert!(f.is_remote() && f.is_extended() && f.dlc == 0 && f.id() == 0x12345678);
        let f = &frames[5].0;
        assert!(f.is_remote() && f.dlc == 3 && f.len == 0);
        let (f, ch) = &frames[6];
        assert_eq!(ch, "vcan1");
        assert_eq!(f.channel, 1);
        assert_eq!(f.flags, CANFD_FDF | CANFD_BRS);
        assert_eq!(f.payload(), &[0x11, 0x22, 0x33]);
        let f = &frames[7].0;
        assert!(f.is_error());
        assert_eq!(f.id(), 0x4);
        assert_eq!(f.payload(), &[0, 0, 8, 0, 0, 0, 0, 0]);
        let f = &frames[8].0;
        assert!(!f.is_rx);
        assert_eq!(f.channel, 12);
    }

    #[test]
    fn malformed_lines_name_their_line() {
        for bad in [
            "(1.0) can0 123#1\n",
            "(1.0) can0 123#112233445566778899\n",
            "(1.0) can0 123\n",
            "1.0 can0 123#11\n",
            "(1.0) can0\n",
            "(x) can0 123#11\n",
            "(1.0) can0 123#11 X\n",
            "(1.0) can0 40000000#11\n",
            "(1.0) can0 123#R9\n",
            "(1.0) can0 123##\n",
            "(1.0) can0 123#11_F\n",
        ] {
            let text = format!("(0.5) can0 001#\n{bad}");
            let (frames, res, _) = read_all(&text, true);
            assert_eq!(frames.len(), 1, "{bad}");
            match res {
                Err(Error::Malformed { line: 2, .. }) => {}
                other => panic!("{bad}: {other:?}"),
            }
            let (frames, res, skipped) = read_all(&format!("{text}(3.0) can0 002#\n"), false);
            res.unwrap();
            assert_eq!((frames.len(), skipped), (2, 1), "{bad}");
        }
    }

    #[test]
    fn dlc_suffix_and_dots() {
        let (frames, res, _) = read_all(
            "(1.0) can0 123#1122334455667788_F\n(1.0) can0 123#11.22.33\n(1.0) can0 123#R8_C\n",
            true,
        );
        res.unwrap();
        assert_eq!((frames[0].0.len, frames[0].0.dlc), (8, 15));
        assert_eq!(frames[1].0.payload(), &[0x11, 0x22, 0x33]);
        assert_eq!(frames[2].0.dlc, 12);
    }

    #[test]
    fn writes_what_it_reads() {
        let text = "(1795715148.716977) vcan0 123#DEADBEEF R\n\
                    (1795715148.716977) vcan0 7FF# T\n\
                    (1795715148.742299) vcan1 1FFFFFFF#0102 R\n\
                    (1795715148.759077) vcan0 12345678#R R\n\
                    (1795715148.767018) vcan0 321#R3 T\n\
                    (1795715148.775186) vcan1 123##5112233 R\n\
                    (1795715148.775186) vcan1 123##7 R\n\
                    (1795715148.808237) vcan0 20000004#0000080000000000\n\
                    (1795715148.808238) vcan0 123#1122334455667788_F R\n";
        let (frames, res, _) = read_all(text, true);
        res.unwrap();
        let mut w = Writer::new(Vec::new());
        for (f, ch) in &frames {
            w.write_frame(f, ch.as_bytes()).unwrap();
        }
        w.flush().unwrap();
        assert_eq!(String::from_utf8(w.sink.out).unwrap(), text);
    }

    #[test]
    fn writer_timestamps_follow_the_manual() {
        let f = CanFrame::default();
        let mut w = Writer::new(Vec::new());
        w.write_frame_at(&f, None, b"can0").unwrap();
        w.write_frame_at(&f, Some(5.0), b"can0").unwrap();
        w.write_frame_at(&f, Some(4.0), b"can0").unwrap();
        w.write_frame_at(&f, Some(0.0), b"can0").unwrap();
        w.write_frame_at(&f, Some(6.5), b"can0").unwrap();
        w.flush().unwrap();
        let out = String::from_utf8(w.sink.out).unwrap();
        let times: Vec<&str> = out.lines().map(|l| &l[..l.find(' ').unwrap()]).collect();
        assert_eq!(
            times,
            [
                "(0.000000)",
                "(5.000000)",
                "(5.000000)",
                "(5.000000)",
                "(6.500000)"
            ]
        );
        let mut w = Writer::new(Vec::new());
        assert!(matches!(w.write_frame(&f, b"can 0"), Err(Error::Value(_))));
    }

    #[test]
    fn huge_timestamps_read_back() {
        // Found by the fuzzer: the writer's text for 1.8e58 was longer than the reader took.
        let mut f = CanFrame::default();
        for t in [1.795_783_405_222_222e58, 1e300, f64::MAX] {
            f.timestamp = t;
            let mut w = Writer::new(Vec::new());
            w.write_frame(&f, b"can0").unwrap();
            w.flush().unwrap();
            let back = frames_of(&w.sink.out);
            assert_eq!(back[0].timestamp, t);
        }
    }

    fn frames_of(text: &[u8]) -> Vec<CanFrame> {
        let mut r = Reader::new(text, true);
        let mut out = Vec::new();
        while let Some(f) = r.next_frame().unwrap() {
            out.push(f);
        }
        out
    }

    #[test]
    fn error_frame_without_class_is_a_bus_error() {
        let f = CanFrame {
            can_id: CAN_ERR_FLAG | CAN_EFF_FLAG,
            ..CanFrame::default()
        };
        let mut w = Writer::new(Vec::new());
        w.write_frame(&f, b"can0").unwrap();
        w.flush().unwrap();
        assert_eq!(w.sink.out, b"(0.000000) can0 20000080#\n");
    }
}
