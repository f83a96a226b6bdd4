//! Streaming ASC writer.
//!
//! The header is written with the first event, because its `date` and `Begin Triggerblock`
//! lines carry the start of the measurement: the first event's timestamp, in local time. Event
//! times are written relative to it, as the python-can manual (section 3.4.7) describes: an
//! event without a timestamp, or with one smaller than the previous event's, gets the previous
//! event's time.

use std::io::Write;

use super::{format_date, Civil, LocalTime, Utc, ASC_F_BRS, ASC_F_ESI, ASC_F_FDF, ASC_F_RTR};
use crate::dlc::len_to_dlc;
use crate::frame::CanFrame;
use crate::lines::{Error, LineSink, Result, LINE_BUF_CAP};

/// Lower-case hex digits (DLCs are written in lower case, as Vector tools do).
const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

/// The largest channel number an ASC file can hold as the reader reads it (nine digits).
pub const MAX_CHANNEL: i64 = 999_999_999;

/// Writes CAN frames and text events to an ASC file.
pub struct Writer<W: Write> {
    sink: LineSink<W>,
    tz: Box<dyn LocalTime>,
    /// Unix time of the start of the measurement, once the header is written.
    started: Option<f64>,
    last: f64,
    finished: bool,
}

impl<W: Write> Writer<W> {
    /// A writer to `out`; `tz` gives the local time for the header's dates.
    pub fn new(out: W, tz: Box<dyn LocalTime>) -> Self {
        Writer {
            sink: LineSink::new(out),
            tz,
            started: None,
            last: 0.0,
            finished: false,
        }
    }

    fn local(&self, t: f64) -> Civil {
        self.tz
            .local_of_unix(t)
            .or_else(|| Utc.local_of_unix(t))
            .unwrap_or(Civil {
                year: 1970,
                month: 1,
                day: 1,
                hour: 0,
                minute: 0,
                second: 0,
                micros: 0,
            })
    }

    fn write_header(&mut self, start: f64) {
        let date = format_date(&self.local(start));
        let b = &mut self.sink.buf;
        b.bytes(b"date ");
        b.bytes(date.as_bytes());
        b.bytes(b"\nbase hex  timestamps absolute\ninternal events logged\n// version 9.0.0\n");
        b.bytes(b"Begin Triggerblock ");
        b.bytes(date.as_bytes());
        b.bytes(b"\n   0.000000 Start of measurement\n");
        self.started = Some(start);
        self.last = start;
    }

    /// See [`LineSink::make_room`].
    fn make_room(&mut self) -> Result<()> {
        Ok(self.sink.make_room()?)
    }

    /// Starts an event line: writes the header if needed, then the event's time, relative to
    /// the start, right-aligned in 11 characters, and a space.
    fn begin_event(&mut self, timestamp: Option<f64>) -> Result<()> {
        self.make_room()?;
        let timestamp = timestamp.filter(|t| t.is_finite());
        let started = match self.started {
            Some(s) => s,
            None => {
                let s = timestamp.unwrap_or(0.0);
                if self
                    .tz
                    .local_of_unix(s)
                    .or_else(|| Utc.local_of_unix(s))
                    .is_none()
                {
                    return Err(Error::Value(format!(
                        "cannot write a message whose timestamp is {s:?}: the file's date \
                         cannot be that far from 1970"
                    )));
                }
                self.write_header(s);
                s
            }
        };
        let t = match timestamp {
            Some(t) if t >= self.last => t,
            _ => self.last,
        };
        self.last = t;
        let b = &mut self.sink.buf;
        let at = b.len();
        b.fixed6(t - started);
        b.pad_from(at, 11);
        b.byte(b' ');
        Ok(())
    }

    fn end_line(&mut self) -> Result<()> {
        self.sink.buf.byte(b'\n');
        self.make_room()
    }

    /// Writes `frame` on its own channel (`frame.channel + 1` in the file).
    pub fn write_frame(&mut self, frame: &CanFrame) -> Result<()> {
        self.write_frame_on(frame, i64::from(frame.channel) + 1)
    }

    /// Writes `frame` on file channel `channel` (counted from 1).
    pub fn write_frame_on(&mut self, frame: &CanFrame, channel: i64) -> Result<()> {
        self.write_frame_at(frame, Some(frame.timestamp), channel)
    }

    /// Writes `frame` with `timestamp` (None: unknown, the previous event's time is used) on
    /// file channel `channel` (counted from 1).
    pub fn write_frame_at(
        &mut self,
        frame: &CanFrame,
        timestamp: Option<f64>,
        channel: i64,
    ) -> Result<()> {
        // Channel 0 is not Vector's, but the reader reads it (as message channel -1).
        if !(0..=MAX_CHANNEL).contains(&channel) {
            return Err(Error::Value(format!(
                "cannot write a message on ASC channel {channel} (message channel {}): ASC \
                 channels are 0..={MAX_CHANNEL}, message channels -1..={}",
                channel.saturating_sub(1),
                MAX_CHANNEL - 1
            )));
        }
        self.begin_event(timestamp)?;
        let l = &mut self.sink.buf;
        if frame.is_error() {
            l.i64(channel);
            l.bytes(b"  ErrorFrame");
            return self.end_line();
        }
        let dir: &[u8] = if frame.is_rx { b"Rx" } else { b"Tx" };
        let id_digits = if frame.id() == 0 {
            1
        } else {
            8 - frame.id().leading_zeros() as usize / 4
        };
        let id_len = id_digits + usize::from(frame.is_extended());
        if frame.is_fd() {
            l.bytes(b"CANFD ");
            let at = l.len();
            l.i64(channel);
            l.pad_from(at, 3);
            l.byte(b' ');
            l.bytes(dir);
            l.bytes(b"   ");
            l.spaces(8usize.saturating_sub(id_len));
            l.hex(frame.id());
            if frame.is_extended() {
                l.byte(b'x');
            }
            // Two spaces, an empty symbolic name right-aligned in 32, a space.
            l.spaces(35);
            let brs = frame.flags & crate::frame::CANFD_BRS != 0;
            let esi = frame.flags & crate::frame::CANFD_ESI != 0;
            l.bytes(if brs { b"1 " } else { b"0 " });
            l.bytes(if esi { b"1 " } else { b"0 " });
            let len = frame.payload().len();
            // A remote frame (not valid CAN FD, but some files hold one) keeps its DLC.
            let dlc_len = if frame.is_remote() {
                usize::from(frame.dlc)
            } else {
                len
            };
            let dlc = len_to_dlc(dlc_len).unwrap_or(15);
            l.byte(HEX_LOWER[usize::from(dlc & 0xF)]);
            l.byte(b' ');
            if len < 10 {
                l.byte(b' ');
            }
            l.u64(len as u64);
            l.hex_bytes(frame.payload(), Some(b' '));
            let mut flags = ASC_F_FDF;
            if brs {
                flags |= ASC_F_BRS;
            }
            if esi {
                flags |= ASC_F_ESI;
            }
            if frame.is_remote() {
                flags |= ASC_F_RTR;
            }
            // MessageDuration, MessageLength (unknown), Flags, CRC and the four bit timing
            // configurations (unknown).
            l.bytes(b"        0    0 ");
            let at = l.len();
            l.hex(flags);
            l.pad_from(at, 8);
            l.bytes(b"        0        0        0        0        0");
            return self.end_line();
        }
        l.i64(channel);
        l.bytes(b"  ");
        l.hex(frame.id());
        if frame.is_extended() {
            l.byte(b'x');
        }
        l.spaces(15usize.saturating_sub(id_len));
        l.byte(b' ');
        l.bytes(dir);
        l.bytes(b"   ");
        let dlc = frame.dlc.min(15);
        if frame.is_remote() {
            l.bytes(b"r ");
            l.byte(HEX_LOWER[usize::from(dlc)]);
        } else {
            l.bytes(b"d ");
            // The DLC is the byte count, except that 8 bytes may carry a DLC of 9..15.
            let n = frame.payload().len().min(8);
            let dlc = if n == 8 && dlc > 8 { dlc } else { n as u8 };
            l.byte(HEX_LOWER[usize::from(dlc)]);
            l.hex_bytes(&frame.payload()[..n], Some(b' '));
        }
        self.end_line()
    }

    /// Writes a text event (`log_event`); line breaks in `text` become spaces.
    pub fn log_event(&mut self, text: &str, timestamp: Option<f64>) -> Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        self.begin_event(timestamp)?;
        let clean = |c: u8| if c == b'\n' || c == b'\r' { b' ' } else { c };
        if text.len() <= LINE_BUF_CAP {
            let at = self.sink.buf.len();
            self.sink.buf.bytes(text.as_bytes());
            for c in self.sink.buf.tail_mut(at) {
                *c = clean(*c);
            }
        } else {
            // A long text goes around the buffer.
            self.sink.out.write_all(self.sink.buf.as_slice())?;
            self.sink.buf.clear();
            let text: Vec<u8> = text.bytes().map(clean).collect();
            self.sink.out.write_all(&text)?;
        }
        self.end_line()
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

    /// Hands buffered lines to the output and flushes it.
    pub fn flush(&mut self) -> Result<()> {
        Ok(self.sink.flush()?)
    }

    /// Ends the file (`End TriggerBlock`; a file without events still gets its header, dated
    /// now) and flushes it. Later calls do nothing.
    pub fn finish(&mut self) -> Result<()> {
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        if self.started.is_none() {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0);
            self.write_header(now);
        }
        self.make_room()?;
        self.sink.buf.bytes(b"End TriggerBlock\n");
        self.flush()
    }

    /// Whether [`finish`](Self::finish) ran.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The output.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.sink.out
    }
}

impl<W: Write> crate::log::FrameWriter for Writer<W> {
    fn write_frame(&mut self, frame: &CanFrame, _name: Option<&[u8]>) -> crate::Result<bool> {
        Writer::write_frame(self, frame).map_err(asc_err)?;
        Ok(true)
    }

    /// A marker becomes a text event (its group name).
    fn write_marker(&mut self, m: &crate::blf::GlobalMarker) -> crate::Result<bool> {
        self.log_event(&m.group_name, Some(m.timestamp))
            .map_err(asc_err)?;
        Ok(true)
    }

    fn drain(&mut self) -> crate::Result<()> {
        Writer::drain(self).map_err(asc_err)
    }

    fn flush(&mut self) -> crate::Result<()> {
        Writer::flush(self).map_err(asc_err)
    }

    fn finish(&mut self) -> crate::Result<bool> {
        Writer::finish(self).map_err(asc_err)?;
        Ok(true)
    }

    fn buffered(&self) -> usize {
        Writer::buffered(self)
    }

    fn clear_buffer(&mut self) {
        Writer::clear_buffer(self);
    }
}

fn asc_err(e: Error) -> crate::Error {
    crate::Error::text(e, crate::log::Format::Asc)
}
