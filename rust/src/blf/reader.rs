//! Streaming BLF reader: constant memory however large the file.
//!
//! The reader pulls one top-level object at a time from its source. A LOG_CONTAINER's payload
//! is inflated (or taken as stored) and appended to a working buffer that still holds the
//! unparsed tail of the previous container, so objects split across containers are joined.
//! Objects found at the top level outside any container go through the same buffer. Memory is
//! bounded by one container plus one object: both sizes are capped ([`MAX_CONTAINER_SIZE`],
//! [`MAX_OBJECT_SIZE`]) and never allocated ahead of the bytes that back them.
//!
//! Object payload layouts (little-endian, after the object header; vector_blf, python-can):
//!
//! - CAN_MESSAGE (1) and CAN_MESSAGE2 (86): channel u16, flags u8 (0x01 Tx, 0x80 remote),
//!   dlc u8, id u32 (bit 31 extended), data\[8\]; CAN_MESSAGE2 adds frame length and bit count.
//! - CAN_ERROR (2): channel u16, length u16, reserved u32.
//! - CAN_ERROR_EXT (73): channel u16, length u16, flags u32, ecc u8, position u8, dlc u8,
//!   reserved u8, frame length u32, id u32, extended flags u16, reserved u16, data\[8\].
//! - CAN_FD_MESSAGE (100): channel u16, flags u8, dlc u8, id u32, frame length u32, bit count
//!   u8, fd flags u8 (EDL, BRS, ESI), valid data bytes u8, reserved\[5\], data\[64\].
//! - CAN_FD_MESSAGE_64 (101): channel u8, dlc u8, valid data bytes u8, tx count u8, id u32,
//!   frame length u32, flags u32 (0x10 remote, 0x1000 EDL, 0x2000 BRS, 0x4000 ESI), two bit
//!   rate configurations u32, two time offsets u32, bit count u16, direction u8, extended
//!   data offset u8, crc u32; then the data bytes.
//! - GLOBAL_MARKER (96): event type u32, foreground u32, background u32, reserved\[3\],
//!   relocatable u8, group name length u32, marker name length u32, description length u32,
//!   reserved\[12\]; then the three strings.

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufReader, ErrorKind, Read};
use std::sync::{mpsc, Arc, Mutex};

use super::header::{show_bytes, FileHeader, FILE_HEADER_FIELDS_SIZE};
use super::{
    le_u16, le_u32, le_u64, Error, Result, CAN_ERROR, CAN_ERROR_EXT, CAN_ERROR_EXT_SIZE,
    CAN_FD_MESSAGE, CAN_FD_MESSAGE_64, CAN_FD_MSG_64_SIZE, CAN_MESSAGE, CAN_MESSAGE2, CAN_MSG_EXT,
    CAN_MSG_SIZE, FD64_FLAG_BRS, FD64_FLAG_EDL, FD64_FLAG_ESI, FD64_FLAG_RTR, FD_FLAG_BRS,
    FD_FLAG_EDL, FD_FLAG_ESI, GLOBAL_MARKER, GLOBAL_MARKER_SIZE, LOG_CONTAINER,
    LOG_CONTAINER_HEADER_SIZE, MAX_CONTAINER_SIZE, MAX_OBJECT_SIZE, MSG_FLAG_RTR, MSG_FLAG_TX,
    NO_COMPRESSION, OBJ_HEADER_BASE_SIZE, OBJ_HEADER_V1_SIZE, OBJ_HEADER_V2_SIZE, OBJ_SIGNATURE,
    TIME_TEN_MICS, ZLIB_DEFLATE,
};
use crate::dlc::DLC_TO_LEN;
use crate::frame::{
    CanFrame, CANFD_BRS, CANFD_ESI, CANFD_FDF, CANFD_MAX_DLEN, CAN_EFF_FLAG, CAN_EFF_MASK,
    CAN_ERR_FLAG, CAN_MAX_DLEN, CAN_RTR_FLAG,
};

/// A GLOBAL_MARKER object: a named point in the recording.
#[derive(Clone, Debug, PartialEq)]
pub struct GlobalMarker {
    pub timestamp: f64,
    pub group_name: String,
    pub marker_name: String,
    pub description: String,
}

/// One decoded object.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    Frame(CanFrame),
    Marker(GlobalMarker),
}

/// What [`Reader::next_into`] found: a frame (written to the caller's [`CanFrame`]) or a
/// marker (kept for [`Reader::take_marker`]). Small, so that the per-frame path moves no
/// more than a tag through its return values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    Frame,
    Marker,
}

/// Where and how a file ended early.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Truncation {
    /// File offset of the object (or LOG_CONTAINER) that is incomplete.
    pub offset: u64,
    /// Number of bytes the file has.
    pub file_end: u64,
    /// What was incomplete.
    pub what: String,
}

impl std::fmt::Display for Truncation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the BLF file is truncated at byte {}: {} (the file ends at byte {}); every \
             complete frame before it was read",
            self.offset, self.what, self.file_end
        )
    }
}

/// Largest ratio of inflated to deflated size zlib can reach (deflate's limit is 1032:1).
const MAX_INFLATE_RATIO: u64 = 1032;
const READ_BUFFER_SIZE: usize = 256 * 1024;

/// Where the bytes of the working buffer came from, for error messages.
#[derive(Clone, Copy, Debug)]
struct Origin {
    /// File offset of the LOG_CONTAINER (or top-level object).
    offset: u64,
    /// Whether the bytes are the payload of a LOG_CONTAINER (else a top-level object).
    container: bool,
    /// Index in the working buffer of that payload's first byte (may be negative once the
    /// start has been consumed).
    base: isize,
}

/// Streaming reader of the records of a BLF file.
pub struct Reader<R: Read> {
    src: BufReader<R>,
    header: FileHeader,
    start_timestamp: f64,
    /// Bytes consumed from the source.
    file_pos: u64,
    /// Decoded object stream: the unparsed tail of earlier data plus the latest payload.
    buf: Vec<u8>,
    pos: usize,
    /// Origin of the bytes from `current.base` on, and of the bytes before it.
    current: Origin,
    previous: Origin,
    inflater: libdeflater::Decompressor,
    /// Top-level objects read ahead, in file order.
    queue: VecDeque<Pending>,
    /// Whether zlib containers are inflated on a worker thread.
    threaded: bool,
    /// The marker found last, until [`Reader::take_marker`].
    marker: Option<GlobalMarker>,
    worker: Option<mpsc::Sender<(Arc<JobSlot>, mpsc::SyncSender<Chunk>)>>,
    /// No more top-level objects will be read.
    eof: bool,
    /// The working buffer holds the last bytes there will be.
    done: bool,
    truncation: Option<Truncation>,
    skipped: BTreeMap<u32, u64>,
    objects: u64,
}

/// Reads until `out` is full or the source ends; returns the number of bytes read.
fn read_full<R: Read>(src: &mut R, out: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < out.len() {
        match src.read(&mut out[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Appends up to `n` bytes from `src` to `out`, growing `out` only as bytes arrive.
fn read_up_to<R: Read>(src: &mut R, n: u64, out: &mut Vec<u8>) -> std::io::Result<u64> {
    out.reserve(n.min(4 << 20) as usize);
    let got = src.take(n).read_to_end(out)?;
    Ok(got as u64)
}

/// Position of the next object signature: at `pos` or after up to 4 padding bytes.
fn find_signature(buf: &[u8], pos: usize) -> Option<usize> {
    (pos..pos + 5).find(|&p| buf.get(p..p + 4) == Some(OBJ_SIGNATURE.as_slice()))
}

fn type_name(obj_type: u32) -> &'static str {
    match obj_type {
        CAN_MESSAGE => "CAN_MESSAGE",
        CAN_ERROR => "CAN_ERROR",
        LOG_CONTAINER => "LOG_CONTAINER",
        CAN_ERROR_EXT => "CAN_ERROR_EXT",
        CAN_MESSAGE2 => "CAN_MESSAGE2",
        GLOBAL_MARKER => "GLOBAL_MARKER",
        CAN_FD_MESSAGE => "CAN_FD_MESSAGE",
        CAN_FD_MESSAGE_64 => "CAN_FD_MESSAGE_64",
        _ => "object",
    }
}

impl<R: Read> Reader<R> {
    /// Reads the file header. A source that is not BLF fails here with [`Error::NotBlf`].
    pub fn new(src: R) -> Result<Self> {
        let mut src = BufReader::with_capacity(READ_BUFFER_SIZE, src);
        let mut head = [0u8; FILE_HEADER_FIELDS_SIZE];
        let n = read_full(&mut src, &mut head)?;
        let header = FileHeader::parse(&head[..n])?;
        let rest = u64::from(header.header_size) - FILE_HEADER_FIELDS_SIZE as u64;
        let skipped = std::io::copy(&mut (&mut src).take(rest), &mut std::io::sink())?;
        let origin = Origin {
            offset: 0,
            container: false,
            base: 0,
        };
        let mut reader = Reader {
            src,
            header,
            start_timestamp: header.start.to_unix(),
            file_pos: n as u64 + skipped,
            buf: Vec::new(),
            pos: 0,
            current: origin,
            previous: origin,
            inflater: libdeflater::Decompressor::new(),
            queue: VecDeque::new(),
            threaded: false,
            marker: None,
            worker: None,
            eof: false,
            done: false,
            truncation: None,
            skipped: BTreeMap::new(),
            objects: 0,
        };
        if skipped < rest {
            reader.done = true;
            reader.eof = true;
            reader.truncation = Some(Truncation {
                offset: 0,
                file_end: reader.file_pos,
                what: format!(
                    "the file header declares {} bytes but the file has only {}",
                    header.header_size, reader.file_pos
                ),
            });
        }
        Ok(reader)
    }

    /// Inflates zlib containers on a worker thread, overlapping with the consumer of the
    /// records (worth it where a second core is free; off by default).
    pub fn set_threaded(&mut self, threaded: bool) {
        self.threaded = threaded;
    }

    /// The source the reader pulls from.
    pub fn get_ref(&self) -> &R {
        self.src.get_ref()
    }

    pub fn header(&self) -> &FileHeader {
        &self.header
    }

    /// Unix time of the start of the measurement (0.0 when the header has none).
    pub fn start_timestamp(&self) -> f64 {
        self.start_timestamp
    }

    /// Set once the end of the file is reached if the file ended inside an object.
    pub fn truncation(&self) -> Option<&Truncation> {
        self.truncation.as_ref()
    }

    /// Object types that were skipped (neither a frame nor a marker), with their counts.
    pub fn skipped(&self) -> &BTreeMap<u32, u64> {
        &self.skipped
    }

    /// Objects seen so far inside containers or at the top level (containers not counted).
    pub fn objects_read(&self) -> u64 {
        self.objects
    }

    /// The next frame or marker, `Ok(None)` at the end of the file.
    pub fn next_record(&mut self) -> Result<Option<Record>> {
        let mut f = CanFrame::default();
        Ok(match self.next_into(&mut f)? {
            Some(Next::Frame) => Some(Record::Frame(f)),
            Some(Next::Marker) => self.take_marker().map(Record::Marker),
            None => None,
        })
    }

    /// The marker [`Self::next_into`] found last (once).
    pub fn take_marker(&mut self) -> Option<GlobalMarker> {
        self.marker.take()
    }

    /// [`Self::next_record`] writing a frame into `out` (every field, and zeros past its
    /// length) instead of returning it: the hot path of the Python binding, without moving
    /// the frame through the return values.
    pub fn next_into(&mut self, out: &mut CanFrame) -> Result<Option<Next>> {
        loop {
            if let Some(rec) = self.parse_buffered(out)? {
                return Ok(Some(rec));
            }
            if self.done {
                return Ok(None);
            }
            self.fill()?;
        }
    }

    /// Describes where buffer index `p` came from.
    fn locate(&self, p: usize) -> (u64, String) {
        let p = p as isize;
        let o = if p >= self.current.base {
            self.current
        } else {
            self.previous
        };
        let d = (p - o.base).max(0) as u64;
        if o.container {
            (
                o.offset,
                format!("byte {d} of the uncompressed data of the LOG_CONTAINER starting there"),
            )
        } else {
            (o.offset + d, "a top-level object".to_owned())
        }
    }

    fn corrupt_at(&self, p: usize, what: String) -> Error {
        let (offset, place) = self.locate(p);
        Error::Corrupt {
            offset,
            what: format!("{what} (at {place})"),
        }
    }

    /// Decodes objects from the working buffer until a frame or marker is found; `Ok(None)`
    /// when the buffer holds no complete object.
    fn parse_buffered(&mut self, out: &mut CanFrame) -> Result<Option<Next>> {
        loop {
            let len = self.buf.len();
            let pos = self.pos;
            if pos >= len {
                return Ok(None);
            }
            let p = match find_signature(&self.buf, pos) {
                Some(p) => p,
                None if len - pos < 8 => return Ok(None),
                // Zero padding after the last object of a container (Vector's converter
                // declares it in the container's size): dropped when the next data comes.
                None if self.buf[pos..].iter().all(|&b| b == 0) => return Ok(None),
                None => {
                    let end = (pos + 8).min(len);
                    return Err(self.corrupt_at(
                        pos,
                        format!(
                            "expected an object signature \"LOBJ\", found {}",
                            show_bytes(&self.buf[pos..end])
                        ),
                    ));
                }
            };
            if len - p < OBJ_HEADER_BASE_SIZE {
                self.pos = p;
                return Ok(None);
            }
            let b = &self.buf[p..];
            let header_size = usize::from(le_u16(b, 4));
            let header_version = le_u16(b, 6);
            let obj_size = le_u32(b, 8);
            let obj_type = le_u32(b, 12);
            if (obj_size as usize) < OBJ_HEADER_BASE_SIZE || obj_size > MAX_OBJECT_SIZE {
                return Err(self.corrupt_at(
                    p,
                    format!(
                        "a {} object declares a size of {obj_size} bytes",
                        type_name(obj_type)
                    ),
                ));
            }
            let obj_size = obj_size as usize;
            if len - p < obj_size {
                // The object continues in the next container.
                self.pos = p;
                return Ok(None);
            }
            self.pos = p + obj_size;
            self.objects += 1;
            let rec = self.decode(p, obj_size, obj_type, header_size, header_version, out)?;
            if rec.is_some() {
                return Ok(rec);
            }
        }
    }

    fn skip(&mut self, obj_type: u32) -> Result<Option<Next>> {
        *self.skipped.entry(obj_type).or_insert(0) += 1;
        Ok(None)
    }

    fn decode(
        &mut self,
        p: usize,
        obj_size: usize,
        obj_type: u32,
        header_size: usize,
        header_version: u16,
        f: &mut CanFrame,
    ) -> Result<Option<Next>> {
        if !matches!(
            obj_type,
            CAN_MESSAGE
                | CAN_MESSAGE2
                | CAN_ERROR
                | CAN_ERROR_EXT
                | CAN_FD_MESSAGE
                | CAN_FD_MESSAGE_64
                | GLOBAL_MARKER
        ) {
            return self.skip(obj_type);
        }
        // Versions 1 and 3 (CANoe 15+) have flags at 16 and the timestamp at 24; version 2
        // too, followed by an original timestamp.
        let min_header = match header_version {
            1 | 3 => OBJ_HEADER_V1_SIZE,
            2 => OBJ_HEADER_V2_SIZE,
            _ => return self.skip(obj_type),
        };
        if header_size < min_header || header_size > obj_size {
            return Err(self.corrupt_at(
                p,
                format!(
                    "a {} object of {obj_size} bytes declares a version {header_version} header \
                     of {header_size} bytes",
                    type_name(obj_type)
                ),
            ));
        }
        let obj = &self.buf[p..p + obj_size];
        let flags = le_u32(obj, 16);
        let raw_ts = le_u64(obj, 24);
        // As python-can: 10 us units only when the flags are exactly TIME_TEN_MICS.
        let rel = if flags == TIME_TEN_MICS {
            raw_ts as f64 / 1e5
        } else {
            raw_ts as f64 / 1e9
        };
        let timestamp = rel + self.start_timestamp;
        let payload = &obj[header_size..];
        let need = match obj_type {
            CAN_MESSAGE | CAN_MESSAGE2 => CAN_MSG_SIZE,
            CAN_ERROR => 2,
            CAN_ERROR_EXT => CAN_ERROR_EXT_SIZE,
            // The data beyond the valid bytes may be left out.
            CAN_FD_MESSAGE => 20,
            CAN_FD_MESSAGE_64 => CAN_FD_MSG_64_SIZE,
            _ => GLOBAL_MARKER_SIZE,
        };
        if payload.len() < need {
            return Err(self.corrupt_at(
                p,
                format!(
                    "a {} object needs {need} bytes after its header, this one has {}",
                    type_name(obj_type),
                    payload.len()
                ),
            ));
        }
        f.timestamp = timestamp;
        f.flags = 0;
        f.is_rx = true;
        // Bytes of `f.data` written below: the rest is zeroed at the end.
        let written;
        match obj_type {
            CAN_MESSAGE | CAN_MESSAGE2 => {
                let msg_flags = payload[2];
                let dlc = payload[3];
                let id = le_u32(payload, 4);
                f.channel = i32::from(le_u16(payload, 0)) - 1;
                f.can_id = blf_id(id);
                if msg_flags & MSG_FLAG_RTR != 0 {
                    f.can_id |= CAN_RTR_FLAG;
                }
                f.is_rx = msg_flags & MSG_FLAG_TX == 0;
                let n = usize::from(dlc).min(CAN_MAX_DLEN);
                f.data[..CAN_MAX_DLEN].copy_from_slice(&payload[8..8 + CAN_MAX_DLEN]);
                written = CAN_MAX_DLEN;
                f.data[n..CAN_MAX_DLEN].fill(0);
                f.len = n as u8;
                f.dlc = dlc;
            }
            CAN_ERROR => {
                f.channel = i32::from(le_u16(payload, 0)) - 1;
                f.can_id = CAN_ERR_FLAG;
                f.len = 0;
                f.dlc = 0;
                written = 0;
            }
            CAN_ERROR_EXT => {
                let dlc = payload[10];
                let id = le_u32(payload, 16);
                f.channel = i32::from(le_u16(payload, 0)) - 1;
                f.can_id = blf_id(id) | CAN_ERR_FLAG;
                let n = usize::from(dlc).min(CAN_MAX_DLEN);
                f.data[..n].copy_from_slice(&payload[24..24 + n]);
                written = n;
                f.len = n as u8;
                f.dlc = dlc;
            }
            CAN_FD_MESSAGE => {
                let msg_flags = payload[2];
                let dlc = payload[3];
                let id = le_u32(payload, 4);
                let fd_flags = payload[13];
                let valid = usize::from(payload[14]).min(CANFD_MAX_DLEN);
                let avail = (payload.len() - 20).min(valid);
                f.channel = i32::from(le_u16(payload, 0)) - 1;
                f.can_id = blf_id(id);
                if msg_flags & MSG_FLAG_RTR != 0 {
                    f.can_id |= CAN_RTR_FLAG;
                }
                f.is_rx = msg_flags & MSG_FLAG_TX == 0;
                f.flags = fd_bits(
                    fd_flags & FD_FLAG_EDL != 0,
                    fd_flags & FD_FLAG_BRS != 0,
                    fd_flags & FD_FLAG_ESI != 0,
                );
                f.data[..avail].copy_from_slice(&payload[20..20 + avail]);
                written = avail;
                f.len = valid as u8;
                f.dlc = dlc_len(dlc);
            }
            CAN_FD_MESSAGE_64 => {
                let dlc = payload[1];
                let valid = usize::from(payload[2]).min(CANFD_MAX_DLEN);
                let id = le_u32(payload, 4);
                let fd_flags = le_u32(payload, 12);
                let direction = payload[34];
                let ext_data_offset = usize::from(payload[35]);
                // The data runs up to the extended data (if any) or the end of the object;
                // missing bytes read as zero, as CANoe does (python-can issue 1905).
                let data_end = if ext_data_offset != 0 {
                    ext_data_offset.saturating_sub(header_size)
                } else {
                    payload.len()
                }
                .min(payload.len());
                let avail = data_end.saturating_sub(CAN_FD_MSG_64_SIZE).min(valid);
                f.channel = i32::from(payload[0]) - 1;
                f.can_id = blf_id(id);
                if fd_flags & FD64_FLAG_RTR != 0 {
                    f.can_id |= CAN_RTR_FLAG;
                }
                f.is_rx = direction == 0;
                f.flags = fd_bits(
                    fd_flags & FD64_FLAG_EDL != 0,
                    fd_flags & FD64_FLAG_BRS != 0,
                    fd_flags & FD64_FLAG_ESI != 0,
                );
                f.data[..avail]
                    .copy_from_slice(&payload[CAN_FD_MSG_64_SIZE..CAN_FD_MSG_64_SIZE + avail]);
                written = avail;
                f.len = valid as u8;
                f.dlc = dlc_len(dlc);
            }
            _ => {
                let lens = [
                    le_u32(payload, 16) as usize,
                    le_u32(payload, 20) as usize,
                    le_u32(payload, 24) as usize,
                ];
                let mut at = GLOBAL_MARKER_SIZE;
                let mut texts: [String; 3] = Default::default();
                for (i, n) in lens.iter().enumerate() {
                    let end = at.saturating_add(*n).min(payload.len());
                    let s = &payload[at.min(end)..end];
                    texts[i] = String::from_utf8_lossy(s).trim_end_matches('\0').to_owned();
                    at = end;
                }
                let [group_name, marker_name, description] = texts;
                self.marker = Some(GlobalMarker {
                    timestamp,
                    group_name,
                    marker_name,
                    description,
                });
                return Ok(Some(Next::Marker));
            }
        }
        if f.is_remote() {
            // A remote frame carries no data, whatever bytes the object holds (python-can
            // 4.x reads it so too).
            f.data = [0; CANFD_MAX_DLEN];
            f.len = 0;
        } else if written < CANFD_MAX_DLEN {
            f.data[written..].fill(0);
        }
        Ok(Some(Next::Frame))
    }

    /// Drops the consumed part of the working buffer before new bytes are appended.
    fn compact(&mut self, new_origin: u64, container: bool) {
        // What is left unread is zero padding (no object starts with a zero byte): drop it.
        if self.buf[self.pos..].iter().all(|&b| b == 0) {
            self.buf.truncate(self.pos);
        }
        let consumed = self.pos;
        self.buf.drain(..consumed);
        self.pos = 0;
        let shift = consumed as isize;
        self.previous = if self.buf.is_empty() {
            self.current
        } else {
            // The tail came from the current origin unless it started before it.
            let mut o = if (consumed as isize) >= self.current.base {
                self.current
            } else {
                self.previous
            };
            o.base -= shift;
            o
        };
        self.current = Origin {
            offset: new_origin,
            container,
            base: self.buf.len() as isize,
        };
    }

    fn set_truncated(&mut self, offset: u64, what: String) {
        self.done = true;
        if self.truncation.is_none() {
            self.truncation = Some(Truncation {
                offset,
                file_end: self.file_pos,
                what,
            });
        }
    }

    /// Called at the end of the file: anything left in the working buffer is an incomplete
    /// object (padding aside).
    fn finish(&mut self) {
        self.done = true;
        let tail = &self.buf[self.pos..];
        if !tail.is_empty() && tail.iter().any(|&b| b != 0) {
            let (offset, place) = self.locate(self.pos);
            let what = match find_signature(&self.buf, self.pos) {
                Some(p) if self.buf.len() - p >= OBJ_HEADER_BASE_SIZE => format!(
                    "an incomplete {} object of {} bytes ({} present) at {place}",
                    type_name(le_u32(&self.buf, p + 12)),
                    le_u32(&self.buf, p + 8),
                    self.buf.len() - p
                ),
                _ => format!("{} bytes of an incomplete object at {place}", tail.len()),
            };
            self.set_truncated(offset, what);
        }
        // A header `file_size` beyond the end is no truncation by itself: only an object cut
        // short is (writers leave the field stale, and a file cut between two objects has
        // every object it holds whole).
    }

    /// Moves the next chunk of the object stream into the working buffer, keeping up to
    /// [`PIPELINE_DEPTH`] top-level objects read (and their containers inflating) ahead.
    fn fill(&mut self) -> Result<()> {
        while !self.eof && self.queue.len() < PIPELINE_DEPTH {
            let pending = self.read_top();
            self.queue.push_back(pending);
        }
        let Some(pending) = self.queue.pop_front() else {
            self.finish();
            return Ok(());
        };
        let chunk = match pending {
            Pending::Ready(chunk) => chunk,
            Pending::Deferred(job) => return self.run_here(job),
            Pending::Inflating(slot, rx) => match slot.take() {
                // The worker has not started it: inflate it here, straight into the buffer.
                Some(job) => return self.run_here(job),
                None => rx.recv().unwrap_or_else(|_| Chunk {
                    outcome: Err(Error::Io(std::io::Error::other(
                        "the inflate thread stopped",
                    ))),
                    ..Chunk::default()
                }),
            },
        };
        self.compact(chunk.origin, chunk.container);
        let data = chunk.outcome?;
        self.buf.extend_from_slice(&data);
        if let Some((offset, what)) = chunk.truncation {
            self.set_truncated(offset, what);
        }
        Ok(())
    }

    /// Reads one top-level object. Errors and truncation become chunks, so that they are
    /// reported after every frame before them; reading stops at the first of them.
    fn read_top(&mut self) -> Pending {
        match self.read_top_inner() {
            Ok(p) => p,
            Err(e) => {
                self.eof = true;
                Pending::Ready(Chunk {
                    origin: self.file_pos,
                    outcome: Err(e),
                    ..Chunk::default()
                })
            }
        }
    }

    fn read_top_inner(&mut self) -> Result<Pending> {
        let start = self.file_pos;
        let mut base = [0u8; OBJ_HEADER_BASE_SIZE];
        let n = read_full(&mut self.src, &mut base)?;
        self.file_pos += n as u64;
        let truncated = |what: String| {
            Pending::Ready(Chunk {
                origin: start,
                truncation: Some((start, what)),
                ..Chunk::default()
            })
        };
        if n < OBJ_HEADER_BASE_SIZE {
            self.eof = true;
            if base[..n].iter().all(|&b| b == 0) {
                // The end of the file, or zero padding at its end.
                return Ok(Pending::Ready(Chunk {
                    origin: start,
                    ..Chunk::default()
                }));
            }
            return Ok(truncated(format!(
                "an object header is incomplete ({n} of 16 bytes)"
            )));
        }
        if &base[..4] != OBJ_SIGNATURE {
            return Err(Error::Corrupt {
                offset: start,
                what: format!(
                    "expected an object signature \"LOBJ\", found {}",
                    show_bytes(&base[..4])
                ),
            });
        }
        let obj_size = le_u32(&base, 8);
        let obj_type = le_u32(&base, 12);
        let padding = u64::from(obj_size % 4);
        if obj_type == LOG_CONTAINER {
            return self.read_container(start, obj_size, padding);
        }
        if (obj_size as usize) < OBJ_HEADER_BASE_SIZE || obj_size > MAX_OBJECT_SIZE {
            return Err(Error::Corrupt {
                offset: start,
                what: format!(
                    "a top-level {} object declares a size of {obj_size} bytes",
                    type_name(obj_type)
                ),
            });
        }
        // An object outside any container joins the object stream as it is.
        let mut data = base.to_vec();
        let body = u64::from(obj_size) - OBJ_HEADER_BASE_SIZE as u64;
        let got = read_up_to(&mut self.src, body, &mut data)?;
        self.file_pos += got;
        let mut chunk = Chunk {
            origin: start,
            container: false,
            outcome: Ok(data),
            ..Chunk::default()
        };
        if got < body {
            self.eof = true;
            chunk.truncation = Some((
                start,
                format!(
                    "a top-level {} object of {obj_size} bytes is incomplete",
                    type_name(obj_type)
                ),
            ));
        } else {
            self.skip_padding(padding)?;
        }
        Ok(Pending::Ready(chunk))
    }

    fn skip_padding(&mut self, padding: u64) -> Result<()> {
        if padding > 0 {
            let mut pad = [0u8; 4];
            let n = read_full(&mut self.src, &mut pad[..padding as usize])?;
            self.file_pos += n as u64;
        }
        Ok(())
    }

    fn read_container(&mut self, start: u64, obj_size: u32, padding: u64) -> Result<Pending> {
        let min = (OBJ_HEADER_BASE_SIZE + LOG_CONTAINER_HEADER_SIZE) as u32;
        if obj_size < min {
            return Err(Error::Corrupt {
                offset: start,
                what: format!("a LOG_CONTAINER declares a size of {obj_size} bytes"),
            });
        }
        let mut ch = [0u8; LOG_CONTAINER_HEADER_SIZE];
        let n = read_full(&mut self.src, &mut ch)?;
        self.file_pos += n as u64;
        if n < LOG_CONTAINER_HEADER_SIZE {
            self.eof = true;
            return Ok(Pending::Ready(Chunk {
                origin: start,
                container: true,
                truncation: Some((start, "a LOG_CONTAINER header is incomplete".to_owned())),
                ..Chunk::default()
            }));
        }
        let method = le_u16(&ch, 0);
        let declared = le_u32(&ch, 8);
        let body = u64::from(obj_size - min);
        let mut compressed = Vec::new();
        let got = read_up_to(&mut self.src, body, &mut compressed)?;
        self.file_pos += got;
        let complete = got == body;
        let truncation = if complete {
            self.skip_padding(padding)?;
            None
        } else {
            self.eof = true;
            Some((
                start,
                format!("a LOG_CONTAINER of {obj_size} bytes is incomplete"),
            ))
        };
        let job = Job {
            compressed,
            method,
            declared,
            complete,
            start,
            truncation,
        };
        if method == ZLIB_DEFLATE && self.threaded && complete {
            if let Some(worker) = self.worker() {
                let (tx, rx) = mpsc::sync_channel(1);
                let slot = Arc::new(JobSlot(Mutex::new(Some(job))));
                if worker.send((Arc::clone(&slot), tx)).is_ok() {
                    return Ok(Pending::Inflating(slot, rx));
                }
                return Err(Error::Io(std::io::Error::other(
                    "the inflate thread stopped",
                )));
            }
        }
        Ok(Pending::Deferred(job))
    }

    /// Decodes a container reached in the stream onto the working buffer, on this thread.
    fn run_here(&mut self, mut job: Job) -> Result<()> {
        self.compact(job.start, true);
        let truncation = job.truncation.take();
        job.run_into(&mut self.inflater, &mut self.buf)?;
        if let Some((offset, what)) = truncation {
            self.set_truncated(offset, what);
        }
        Ok(())
    }

    /// The inflate thread, started on first use.
    fn worker(&mut self) -> Option<&mpsc::Sender<(Arc<JobSlot>, mpsc::SyncSender<Chunk>)>> {
        if self.worker.is_none() {
            let (tx, rx) = mpsc::channel::<(Arc<JobSlot>, mpsc::SyncSender<Chunk>)>();
            let spawned = std::thread::Builder::new()
                .name("blf-inflate".to_owned())
                .spawn(move || {
                    let mut inflater = libdeflater::Decompressor::new();
                    while let Ok((slot, reply)) = rx.recv() {
                        // A job the consumer took back (it got there first) is skipped.
                        if let Some(job) = slot.take() {
                            // A reader dropped early no longer listens: nothing to do then.
                            let _ = reply.send(job.run(&mut inflater));
                        }
                    }
                });
            if spawned.is_err() {
                self.threaded = false;
                return None;
            }
            self.worker = Some(tx);
        }
        self.worker.as_ref()
    }
}

/// How many top-level objects the reader keeps read ahead (their containers inflating on the
/// worker thread while the consumer handles the frames of the current one).
const PIPELINE_DEPTH: usize = 2;

/// One top-level object's contribution to the object stream.
struct Chunk {
    origin: u64,
    container: bool,
    /// The bytes to append, or the error to raise when this chunk is reached.
    outcome: Result<Vec<u8>>,
    /// Set when the file ends inside this object: (its offset, what is incomplete).
    truncation: Option<(u64, String)>,
}

impl Default for Chunk {
    fn default() -> Self {
        Chunk {
            origin: 0,
            container: true,
            outcome: Ok(Vec::new()),
            truncation: None,
        }
    }
}

enum Pending {
    Ready(Chunk),
    /// A container handed to the worker thread; if the worker has not started it by the
    /// time it is reached, the consumer takes it back and inflates it itself rather than
    /// wait for a thread that may not get a core.
    Inflating(Arc<JobSlot>, mpsc::Receiver<Chunk>),
    /// A container to inflate straight into the working buffer when it is reached (without
    /// a worker thread: no buffer of its own, no copy).
    Deferred(Job),
}

/// A job shared by the consumer and the worker thread: whichever takes it first runs it.
struct JobSlot(Mutex<Option<Job>>);

impl JobSlot {
    fn take(&self) -> Option<Job> {
        // A poisoned lock (a panic while holding it) still holds a consistent Option.
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// A LOG_CONTAINER's payload to decode.
struct Job {
    compressed: Vec<u8>,
    method: u16,
    declared: u32,
    complete: bool,
    start: u64,
    truncation: Option<(u64, String)>,
}

impl Job {
    /// Decodes the payload into a chunk of its own (on the worker thread).
    fn run(mut self, inflater: &mut libdeflater::Decompressor) -> Chunk {
        let mut out = Vec::new();
        let truncation = self.truncation.take();
        let origin = self.start;
        let outcome = self.run_into(inflater, &mut out).map(|()| out);
        Chunk {
            origin,
            container: true,
            outcome,
            truncation,
        }
    }

    /// Decodes the payload onto the end of `out`; on an error `out` is as it was.
    fn run_into(self, inflater: &mut libdeflater::Decompressor, out: &mut Vec<u8>) -> Result<()> {
        match self.method {
            NO_COMPRESSION => {
                if out.is_empty() {
                    *out = self.compressed;
                } else {
                    out.extend_from_slice(&self.compressed);
                }
                Ok(())
            }
            ZLIB_DEFLATE => inflate(
                inflater,
                &self.compressed,
                self.declared,
                self.complete,
                self.start,
                out,
            ),
            method => Err(Error::Corrupt {
                offset: self.start,
                what: format!(
                    "a LOG_CONTAINER uses compression method {method}, which is not \
                     {NO_COMPRESSION} (none) or {ZLIB_DEFLATE} (zlib)"
                ),
            }),
        }
    }
}

/// Inflates a LOG_CONTAINER's zlib stream onto the end of `out`. A container cut short by
/// the end of the file (`complete` false) gives whatever inflates. On an error `out` is as
/// it was.
fn inflate(
    inflater: &mut libdeflater::Decompressor,
    compressed: &[u8],
    declared: u32,
    complete: bool,
    start: u64,
    out: &mut Vec<u8>,
) -> Result<()> {
    let clen = compressed.len() as u64;
    // Memory is bounded by what really inflates (and what the compressed bytes present can
    // inflate to), never by the declared size: a container that declares more than it holds
    // reads as python-can reads it.
    let limit =
        (clen.saturating_mul(MAX_INFLATE_RATIO) + 1024).min(u64::from(MAX_CONTAINER_SIZE)) as usize;
    let base = out.len();
    if complete && (declared as usize) <= limit {
        out.resize(base + declared as usize, 0);
        let r = inflater.zlib_decompress(compressed, &mut out[base..]);
        match r {
            Ok(n) => {
                out.truncate(base + n);
                return Ok(());
            }
            // The declared size is wrong: inflate without it below.
            Err(libdeflater::DecompressionError::InsufficientSpace) => out.truncate(base),
            Err(libdeflater::DecompressionError::BadData) => {
                out.truncate(base);
                return Err(Error::Corrupt {
                    offset: start,
                    what: format!(
                        "the zlib data of the LOG_CONTAINER starting there ({clen} bytes) is \
                         corrupt"
                    ),
                });
            }
        }
    }
    let (ok, why) = inflate_stream(compressed, limit, out);
    if ok || !complete {
        return Ok(());
    }
    out.truncate(base);
    Err(Error::Corrupt {
        offset: start,
        what: format!(
            "the zlib data of the LOG_CONTAINER starting there ({clen} bytes) cannot be \
             inflated: {why}"
        ),
    })
}

/// Inflates a zlib stream onto `out`, at most `limit` bytes. Returns whether the stream
/// ended properly and, if not, why; whatever inflated is kept in `out` either way.
fn inflate_stream(input: &[u8], limit: usize, out: &mut Vec<u8>) -> (bool, String) {
    use miniz_oxide::inflate::stream::{inflate, InflateState};
    use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};
    let mut state = InflateState::new_boxed(DataFormat::Zlib);
    let mut chunk = vec![0u8; 64 * 1024];
    let mut input = input;
    let mut total = 0usize;
    loop {
        let r = inflate(&mut state, input, &mut chunk, MZFlush::None);
        input = &input[r.bytes_consumed.min(input.len())..];
        let n = r.bytes_written.min(limit - total);
        out.extend_from_slice(&chunk[..n]);
        total += n;
        match r.status {
            Ok(MZStatus::StreamEnd) => return (true, String::new()),
            _ if total >= limit => {
                return (false, format!("it inflates to more than {limit} bytes"));
            }
            Ok(_) if r.bytes_consumed == 0 && r.bytes_written == 0 => {
                return (
                    false,
                    "the data ends before the zlib stream does".to_owned(),
                );
            }
            Ok(_) => {}
            Err(MZError::Buf) => {
                return (
                    false,
                    "the data ends before the zlib stream does".to_owned(),
                );
            }
            Err(e) => return (false, format!("{e:?}")),
        }
    }
}

impl<R: Read> Iterator for Reader<R> {
    type Item = Result<Record>;
    fn next(&mut self) -> Option<Self::Item> {
        match self.next_record() {
            Ok(Some(r)) => Some(Ok(r)),
            Ok(None) => None,
            Err(e) => {
                // An error ends the iteration.
                self.done = true;
                self.buf.clear();
                self.pos = 0;
                Some(Err(e))
            }
        }
    }
}

/// `can_id` of a BLF identifier (bit 31: extended).
#[inline]
fn blf_id(id: u32) -> u32 {
    if id & CAN_MSG_EXT != 0 {
        (id & CAN_EFF_MASK) | CAN_EFF_FLAG
    } else {
        id & CAN_EFF_MASK
    }
}

#[inline]
fn fd_bits(edl: bool, brs: bool, esi: bool) -> u8 {
    (if edl { CANFD_FDF } else { 0 })
        | (if brs { CANFD_BRS } else { 0 })
        | (if esi { CANFD_ESI } else { 0 })
}

/// Bytes of a CAN FD DLC; python-can maps codes above 15 to 64.
#[inline]
fn dlc_len(dlc: u8) -> u8 {
    DLC_TO_LEN.get(usize::from(dlc)).copied().unwrap_or(64)
}

impl<R: Read> crate::log::FrameReader for Reader<R> {
    fn next_event(&mut self) -> crate::Result<Option<crate::log::Event>> {
        Ok(match self.next_record()? {
            Some(Record::Frame(f)) => Some(crate::log::Event::Frame(f)),
            Some(Record::Marker(m)) => Some(crate::log::Event::Marker(m)),
            None => None,
        })
    }

    fn summary(&self) -> crate::log::ReadSummary {
        crate::log::ReadSummary {
            truncation: self.truncation().map(ToString::to_string),
            ..crate::log::ReadSummary::default()
        }
    }
}
