//! Streaming BLF writer.
//!
//! Objects are serialised into a buffer that is cut into LOG_CONTAINERs of exactly
//! `max_container_size` uncompressed bytes (the last one shorter); an object that does not fit
//! continues in the next container, as Vector tools and python-can write it. Each object has
//! a version 1 header with nanosecond timestamps relative to the measurement start, which is
//! the first object's time truncated to milliseconds (the SYSTEMTIME resolution). The file
//! header is written first as a placeholder and rewritten with the final counts, sizes and
//! start/stop times by [`Writer::finish`].
//!
//! Frames are written as CAN_MESSAGE (classic), CAN_FD_MESSAGE_64 (CAN FD) and CAN_ERROR_EXT
//! (error frames); markers as GLOBAL_MARKER. Containers are zlib streams made by the BLF-aware
//! encoder in [`super::deflate`] (level 1..=9), or stored (level 0).

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Seek, SeekFrom, Write};
use std::sync::mpsc;

use super::deflate::Encoder;
use super::header::{FileHeader, SystemTime, MIN_ABSOLUTE_TIMESTAMP};
use super::{
    Error, Result, CAN_ERROR_EXT, CAN_ERROR_EXT_SIZE, CAN_FD_MESSAGE_64, CAN_FD_MSG_64_SIZE,
    CAN_MESSAGE, CAN_MSG_EXT, CAN_MSG_SIZE, FD64_FLAG_BRS, FD64_FLAG_EDL, FD64_FLAG_ESI,
    FILE_HEADER_SIZE, GLOBAL_MARKER, GLOBAL_MARKER_SIZE, LOG_CONTAINER, LOG_CONTAINER_HEADER_SIZE,
    MAX_CONTAINER_SIZE, MSG_FLAG_RTR, MSG_FLAG_TX, NO_COMPRESSION, OBJ_HEADER_BASE_SIZE,
    OBJ_HEADER_V1_SIZE, OBJ_SIGNATURE, TIME_ONE_NANS, ZLIB_DEFLATE,
};
use crate::dlc::len_to_dlc;
use crate::frame::{CanFrame, CANFD_BRS, CANFD_ESI, CAN_MAX_DLEN};

/// Default container size: 128 KiB of uncompressed objects.
pub const DEFAULT_MAX_CONTAINER_SIZE: usize = 128 * 1024;

/// Streaming writer of a BLF file.
pub struct Writer<W: Write + Seek> {
    out: W,
    level: i32,
    max_container_size: usize,
    buf: Vec<u8>,
    /// The zlib encoder (None when containers are stored).
    encoder: Option<Box<Encoder>>,
    /// Whether containers are compressed on worker threads.
    threaded: bool,
    /// The compression threads (started on first use) and the next one to give a container.
    workers: Vec<mpsc::Sender<WorkerJob>>,
    next_worker: usize,
    /// Containers not written yet, in file order: given to a worker, or compressed here.
    pending: VecDeque<Pending>,
    /// How many of them are with a worker.
    with_workers: usize,
    header: FileHeader,
    start_timestamp: Option<f64>,
    stop_timestamp: Option<f64>,
    file_pos: u64,
    finished: bool,
}

impl<W: Write + Seek> Writer<W> {
    /// Starts a new file: writes a placeholder header.
    ///
    /// `level` is a zlib compression level: 0 stores containers uncompressed, 1..=9 compress
    /// (1 fastest, 9 smallest), -1 is zlib's default (6).
    pub fn new(out: W, level: i32, max_container_size: usize) -> Result<Self> {
        let mut w = Self::build(out, level, max_container_size)?;
        let head = w.header.to_bytes();
        w.out.write_all(&head)?;
        w.file_pos = FILE_HEADER_SIZE as u64;
        Ok(w)
    }

    /// Continues an existing file whose header is `header`, at `point` (see
    /// [`append_point`]): the output must already end there. Its counts and times are kept;
    /// the objects of `point.carry` are written again, in the first new container.
    pub fn append(
        mut out: W,
        header: FileHeader,
        point: AppendPoint,
        level: i32,
        max_container_size: usize,
    ) -> Result<Self> {
        if (header.header_size as usize) < FILE_HEADER_SIZE {
            return Err(Error::Value(format!(
                "cannot append to a BLF file whose header is {} bytes: the {FILE_HEADER_SIZE} \
                 bytes this writer rewrites would overwrite objects",
                header.header_size
            )));
        }
        out.seek(SeekFrom::Start(point.offset))?;
        if point.pad_fill > 0 {
            out.write_all(&[0u8; 4][..point.pad_fill.min(4)])?;
        }
        let mut w = Self::build(out, level, max_container_size)?;
        w.file_pos = point.offset + point.pad_fill.min(4) as u64;
        w.header = header;
        if header.start != SystemTime::default() {
            w.start_timestamp = Some(header.start.to_unix());
            w.stop_timestamp = header.stop.to_unix_ms().map(|ms| ms as f64 / 1000.0);
        } else if point.has_objects {
            // The objects there have times relative to a start the header does not hold
            // (a logger stopped before it wrote it): new ones get times from 0, that is
            // absolute ones, so that both read back as they were written.
            w.start_timestamp = Some(0.0);
        }
        w.buf.extend_from_slice(&point.carry);
        Ok(w)
    }

    fn build(out: W, level: i32, max_container_size: usize) -> Result<Self> {
        if !(-1..=9).contains(&level) {
            return Err(Error::Value(format!(
                "compression level must be -1 or 0..=9, got {level}"
            )));
        }
        if max_container_size == 0 || max_container_size > MAX_CONTAINER_SIZE as usize {
            return Err(Error::Value(format!(
                "the container size must be 1..={MAX_CONTAINER_SIZE} bytes, got \
                 {max_container_size}"
            )));
        }
        let level = if level < 0 { 6 } else { level };
        let encoder = (level > 0).then(|| Box::new(Encoder::new(level)));
        Ok(Writer {
            out,
            level,
            max_container_size,
            buf: Vec::with_capacity(max_container_size + 256),
            encoder,
            threaded: false,
            workers: Vec::new(),
            next_worker: 0,
            with_workers: 0,
            pending: VecDeque::new(),
            header: FileHeader::default(),
            start_timestamp: None,
            stop_timestamp: None,
            file_pos: 0,
            finished: false,
        })
    }

    pub fn level(&self) -> i32 {
        self.level
    }
    pub fn object_count(&self) -> u32 {
        self.header.object_count
    }
    pub fn start_timestamp(&self) -> Option<f64> {
        self.start_timestamp
    }
    pub fn stop_timestamp(&self) -> Option<f64> {
        self.stop_timestamp
    }
    /// Uncompressed bytes of objects not yet written to the file (containers being
    /// compressed counted at their full size).
    pub fn buffered(&self) -> usize {
        self.buf.len() + self.pending.len() * self.max_container_size
    }

    /// Bytes written to the file so far plus those still buffered (uncompressed).
    pub fn size_estimate(&self) -> u64 {
        let pending = (self.pending.len() * self.max_container_size) as u64;
        self.file_pos + self.buf.len() as u64 + pending
    }

    /// Compresses containers on worker threads (one per core, up to four) while the caller
    /// goes on adding objects; off by default.
    pub fn set_threaded(&mut self, threaded: bool) {
        self.threaded = threaded;
    }
    pub fn uncompressed_size(&self) -> u64 {
        self.header.uncompressed_size
    }

    /// The underlying output.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Nanoseconds since the measurement start for an absolute timestamp (at least 0: a
    /// time before the start is written as the start); an error if they do not fit the
    /// object header's 64 bits.
    fn relative_ns(&mut self, ts: f64) -> Result<u64> {
        let start = *self.start_timestamp.get_or_insert_with(|| {
            if ts >= MIN_ABSOLUTE_TIMESTAMP {
                // The SYSTEMTIME in the header holds milliseconds.
                (ts * 1000.0).trunc() / 1000.0
            } else {
                // A relative time: keep it as the offset from zero.
                0.0
            }
        });
        let x = (ts - start) * 1e9;
        let ns = if x <= 0.0 {
            0
        } else if x < 2_251_799_813_685_248.0 {
            // Below 2^51 ns (26 days), adding and subtracting 1.5 * 2^52 rounds to the nearest
            // integer (ties to even) without a libm call.
            const MAGIC: f64 = 6_755_399_441_055_744.0;
            ((x + MAGIC) - MAGIC) as u64
        } else if x >= u64::MAX as f64 {
            return Err(Error::Value(format!(
                "cannot write a message whose timestamp is {}: it is more than 2^64 ns \
                 (584 years) after the first object's time, {}",
                float_text(ts),
                float_text(start)
            )));
        } else {
            x.round() as u64
        };
        self.stop_timestamp = Some(ts);
        Ok(ns)
    }

    fn begin_object(&mut self, obj_type: u32, payload_len: usize, ts: f64) -> Result<()> {
        if self.finished {
            return Err(Error::Value(
                "the BLF writer is already finished".to_owned(),
            ));
        }
        check_timestamp(ts)?;
        let ns = self.relative_ns(ts)?;
        let obj_size = (OBJ_HEADER_V1_SIZE + payload_len) as u32;
        // Base header, then the version 1 header; built in place and appended at once.
        let mut h = [0u8; OBJ_HEADER_V1_SIZE];
        h[..4].copy_from_slice(OBJ_SIGNATURE);
        h[4..6].copy_from_slice(&(OBJ_HEADER_V1_SIZE as u16).to_le_bytes());
        h[6..8].copy_from_slice(&1u16.to_le_bytes());
        h[8..12].copy_from_slice(&obj_size.to_le_bytes());
        h[12..16].copy_from_slice(&obj_type.to_le_bytes());
        h[16..20].copy_from_slice(&TIME_ONE_NANS.to_le_bytes());
        // 20..24: client index, object version (0)
        h[24..32].copy_from_slice(&ns.to_le_bytes());
        self.buf.extend_from_slice(&h);
        Ok(())
    }

    fn end_object(&mut self, obj_size: usize) -> Result<()> {
        // Objects are followed by `size % 4` padding bytes (vector_blf, python-can).
        let pad = obj_size % 4;
        self.buf.extend_from_slice(&[0u8; 4][..pad]);
        self.header.object_count = self.header.object_count.wrapping_add(1);
        while self.buf.len() >= self.max_container_size {
            self.write_container(self.max_container_size)?;
        }
        Ok(())
    }

    /// Appends one frame: CAN_ERROR_EXT for error frames, CAN_FD_MESSAGE_64 for CAN FD,
    /// CAN_MESSAGE otherwise. The channel is written 1-based (`frame.channel + 1`).
    pub fn write_frame(&mut self, f: &CanFrame) -> Result<()> {
        let channel = i64::from(f.channel) + 1;
        let id = if f.is_extended() {
            f.id() | CAN_MSG_EXT
        } else {
            f.id()
        };
        let data = f.payload();
        if f.is_error() {
            let channel = u16::try_from(channel).map_err(|_| bad_channel(f.channel, 65535))?;
            let dlc = len_to_dlc(usize::from(f.dlc)).unwrap_or(f.dlc);
            self.begin_object(CAN_ERROR_EXT, CAN_ERROR_EXT_SIZE, f.timestamp)?;
            let b = &mut self.buf;
            b.extend_from_slice(&channel.to_le_bytes());
            b.extend_from_slice(&[0u8; 6]); // length, flags
            b.extend_from_slice(&[0, 0, dlc, 0]); // ecc, position, dlc, reserved
            b.extend_from_slice(&[0u8; 4]); // frame length
            b.extend_from_slice(&id.to_le_bytes());
            b.extend_from_slice(&[0u8; 4]); // extended flags, reserved
            b.extend_from_slice(&classic_data(f));
            self.end_object(OBJ_HEADER_V1_SIZE + CAN_ERROR_EXT_SIZE)
        } else if f.is_fd() {
            let channel = u8::try_from(channel).map_err(|_| bad_channel(f.channel, 255))?;
            let dlc = len_to_dlc(usize::from(f.dlc)).ok_or_else(|| {
                Error::Value(format!(
                    "a CAN FD frame's dlc must be at most 64 bytes, got {}",
                    f.dlc
                ))
            })?;
            let mut flags = FD64_FLAG_EDL;
            if f.flags & CANFD_BRS != 0 {
                flags |= FD64_FLAG_BRS;
            }
            if f.flags & CANFD_ESI != 0 {
                flags |= FD64_FLAG_ESI;
            }
            let payload_len = CAN_FD_MSG_64_SIZE + data.len();
            self.begin_object(CAN_FD_MESSAGE_64, payload_len, f.timestamp)?;
            let b = &mut self.buf;
            b.extend_from_slice(&[channel, dlc, data.len() as u8, 0]);
            b.extend_from_slice(&id.to_le_bytes());
            b.extend_from_slice(&[0u8; 4]); // frame length
            b.extend_from_slice(&flags.to_le_bytes());
            b.extend_from_slice(&[0u8; 16]); // bit rate configurations, time offsets
            b.extend_from_slice(&[0u8; 2]); // bit count
            b.push(u8::from(!f.is_rx));
            b.push(0); // extended data offset
            b.extend_from_slice(&[0u8; 4]); // crc
            b.extend_from_slice(data);
            self.end_object(OBJ_HEADER_V1_SIZE + payload_len)
        } else {
            let channel = u16::try_from(channel).map_err(|_| bad_channel(f.channel, 65535))?;
            let mut flags = if f.is_rx { 0 } else { MSG_FLAG_TX };
            if f.is_remote() {
                flags |= MSG_FLAG_RTR;
            }
            self.begin_object(CAN_MESSAGE, CAN_MSG_SIZE, f.timestamp)?;
            let b = &mut self.buf;
            b.extend_from_slice(&channel.to_le_bytes());
            b.push(flags);
            b.push(f.dlc);
            b.extend_from_slice(&id.to_le_bytes());
            b.extend_from_slice(&classic_data(f));
            self.end_object(OBJ_HEADER_V1_SIZE + CAN_MSG_SIZE)
        }
    }

    /// Appends a GLOBAL_MARKER with the given group name, marker name and description.
    pub fn write_marker(&mut self, ts: f64, group: &str, marker: &str, desc: &str) -> Result<()> {
        let texts = [group.as_bytes(), marker.as_bytes(), desc.as_bytes()];
        let text_len: usize = texts.iter().map(|t| t.len()).sum();
        if text_len > (1 << 20) {
            return Err(Error::Value(format!(
                "a marker's texts may be at most 1 MiB together, got {text_len} bytes"
            )));
        }
        let payload_len = GLOBAL_MARKER_SIZE + text_len;
        self.begin_object(GLOBAL_MARKER, payload_len, ts)?;
        let b = &mut self.buf;
        b.extend_from_slice(&0u32.to_le_bytes()); // commented event type
        b.extend_from_slice(&0x00FF_FFFFu32.to_le_bytes()); // foreground: white
        b.extend_from_slice(&0x00FF_3300u32.to_le_bytes()); // background
        b.extend_from_slice(&[0, 0, 0, 0]); // reserved, relocatable
        for t in texts {
            b.extend_from_slice(&(t.len() as u32).to_le_bytes());
        }
        b.extend_from_slice(&[0u8; 12]);
        for t in texts {
            b.extend_from_slice(t);
        }
        self.end_object(OBJ_HEADER_V1_SIZE + payload_len)
    }

    /// Compresses and writes the first `n` buffered bytes as one LOG_CONTAINER; with worker
    /// threads, hands them to the next one and writes the containers finished, in order.
    fn write_container(&mut self, n: usize) -> Result<()> {
        let n = n.min(self.buf.len());
        if n == 0 {
            return Ok(());
        }
        // Swap in a fresh buffer holding only the bytes after the container.
        let mut next = Vec::with_capacity(self.max_container_size + 256);
        next.extend_from_slice(&self.buf[n..]);
        self.buf.truncate(n);
        let raw = std::mem::replace(&mut self.buf, next);
        if self.threaded && self.level > 0 && self.start_workers() {
            if self.with_workers < PIPELINE_DEPTH * self.workers.len() {
                let i = self.next_worker % self.workers.len();
                self.next_worker = self.next_worker.wrapping_add(1);
                let (tx, rx) = mpsc::sync_channel(1);
                self.workers[i]
                    .send((raw, tx))
                    .map_err(|_| stopped_worker())?;
                self.pending.push_back(Pending::Worker(rx));
                self.with_workers += 1;
            } else {
                // The workers are busy: this thread compresses the container itself rather
                // than wait, so that every core works (and no more threads than cores run).
                let c = compress(self.encoder.as_deref_mut(), raw);
                self.pending.push_back(Pending::Done(c));
            }
            self.write_ready()?;
            while self.pending.len() > MAX_PENDING {
                self.write_pending()?;
            }
            return Ok(());
        }
        let c = compress(self.encoder.as_deref_mut(), raw);
        self.emit(&c)
    }

    /// Writes the oldest pending container (waiting for its worker if need be).
    fn write_pending(&mut self) -> Result<()> {
        let c = match self.pending.pop_front() {
            None => return Ok(()),
            Some(Pending::Done(c)) => c,
            Some(Pending::Worker(rx)) => {
                self.with_workers -= 1;
                rx.recv().map_err(|_| stopped_worker())?
            }
        };
        self.emit(&c)
    }

    /// Writes the pending containers that are ready, in order, without waiting.
    fn write_ready(&mut self) -> Result<()> {
        loop {
            let c = match self.pending.front() {
                None => return Ok(()),
                Some(Pending::Done(_)) => match self.pending.pop_front() {
                    Some(Pending::Done(c)) => c,
                    _ => return Ok(()),
                },
                Some(Pending::Worker(rx)) => match rx.try_recv() {
                    Ok(c) => {
                        self.pending.pop_front();
                        self.with_workers -= 1;
                        c
                    }
                    Err(mpsc::TryRecvError::Empty) => return Ok(()),
                    Err(mpsc::TryRecvError::Disconnected) => return Err(stopped_worker()),
                },
            };
            self.emit(&c)?;
        }
    }

    /// Starts the compression threads on first use: one per core but the one this thread
    /// runs on (at least one, at most MAX_WORKERS). False if none could be started.
    fn start_workers(&mut self) -> bool {
        if self.workers.is_empty() {
            let count = std::thread::available_parallelism()
                .map_or(1, |n| n.get().saturating_sub(1))
                .clamp(1, MAX_WORKERS);
            for i in 0..count {
                let level = self.level;
                let (tx, rx) = mpsc::channel::<WorkerJob>();
                let spawned = std::thread::Builder::new()
                    .name(format!("blf-deflate-{i}"))
                    .spawn(move || {
                        let mut encoder = Encoder::new(level);
                        while let Ok((raw, reply)) = rx.recv() {
                            let _ = reply.send(compress(Some(&mut encoder), raw));
                        }
                    });
                if spawned.is_err() {
                    break;
                }
                self.workers.push(tx);
            }
            if self.workers.is_empty() {
                self.threaded = false;
            }
        }
        !self.workers.is_empty()
    }

    fn emit(&mut self, c: &Compressed) -> Result<()> {
        let data = if c.method == NO_COMPRESSION {
            &c.raw
        } else {
            &c.data
        };
        let obj_size = OBJ_HEADER_BASE_SIZE + LOG_CONTAINER_HEADER_SIZE + data.len();
        let mut head = [0u8; OBJ_HEADER_BASE_SIZE + LOG_CONTAINER_HEADER_SIZE];
        head[..4].copy_from_slice(OBJ_SIGNATURE);
        head[4..6].copy_from_slice(&(OBJ_HEADER_BASE_SIZE as u16).to_le_bytes());
        head[6..8].copy_from_slice(&1u16.to_le_bytes());
        head[8..12].copy_from_slice(&(obj_size as u32).to_le_bytes());
        head[12..16].copy_from_slice(&LOG_CONTAINER.to_le_bytes());
        head[16..18].copy_from_slice(&c.method.to_le_bytes());
        head[24..28].copy_from_slice(&(c.raw.len() as u32).to_le_bytes());
        self.out.write_all(&head)?;
        self.out.write_all(data)?;
        let pad = obj_size % 4;
        self.out.write_all(&[0u8; 4][..pad])?;
        self.file_pos += (obj_size + pad) as u64;
        self.header.uncompressed_size +=
            (OBJ_HEADER_BASE_SIZE + LOG_CONTAINER_HEADER_SIZE + c.raw.len()) as u64;
        Ok(())
    }

    /// Writes every buffered object in containers (the last one may be short).
    pub fn flush(&mut self) -> Result<()> {
        while !self.buf.is_empty() {
            let n = self.buf.len().min(self.max_container_size);
            self.write_container(n)?;
        }
        while !self.pending.is_empty() {
            self.write_pending()?;
        }
        self.out.flush()?;
        Ok(())
    }

    /// Flushes and rewrites the file header with the final counts and times. Returns false
    /// when the output cannot seek, so the placeholder header stays. Later calls do nothing.
    pub fn finish(&mut self) -> Result<bool> {
        if self.finished {
            return Ok(true);
        }
        self.flush()?;
        self.finished = true;
        self.header.file_size = self.file_pos;
        self.header.start = self
            .start_timestamp
            .map_or_else(SystemTime::default, SystemTime::from_unix);
        self.header.stop = self
            .stop_timestamp
            .map_or_else(SystemTime::default, SystemTime::from_unix);
        match self.out.seek(SeekFrom::Start(0)) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Unsupported => return Ok(false),
            Err(e) => return Err(e.into()),
        }
        let head = self.header.to_bytes();
        self.out.write_all(&head)?;
        self.out.seek(SeekFrom::Start(self.file_pos))?;
        self.out.flush()?;
        Ok(true)
    }
}

/// The first eight data bytes of a frame with the bytes past its length zeroed, without a
/// variable-length copy.
#[inline]
fn classic_data(f: &CanFrame) -> [u8; 8] {
    let mut d = [0u8; 8];
    d.copy_from_slice(&f.data[..8]);
    let n = usize::from(f.len).min(CAN_MAX_DLEN);
    let keep = if n == 8 {
        u64::MAX
    } else {
        (1u64 << (8 * n)) - 1
    };
    (u64::from_le_bytes(d) & keep).to_le_bytes()
}

/// The latest time a BLF file header can hold (9999-12-31 23:59:59 UTC).
const MAX_TIMESTAMP: f64 = 253_402_300_799.0;

/// A timestamp a BLF object can carry and the reader reads back: finite, not negative, and
/// within the years the file header's SYSTEMTIME holds.
fn check_timestamp(ts: f64) -> Result<()> {
    if (0.0..=MAX_TIMESTAMP).contains(&ts) {
        return Ok(());
    }
    let why = if ts.is_nan() || ts.is_infinite() {
        "not a finite number".to_owned()
    } else if ts < 0.0 {
        "BLF stores no time before 0".to_owned()
    } else {
        format!("BLF stores no time after {MAX_TIMESTAMP} (the year 9999)")
    };
    Err(Error::Value(format!(
        "cannot write a message whose timestamp is {}: {why}",
        float_text(ts)
    )))
}

/// A float as Python writes it for the special values (`nan`, `inf`).
fn float_text(v: f64) -> String {
    if v.is_nan() {
        "nan".to_owned()
    } else if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.to_owned()
    } else {
        format!("{v:?}")
    }
}

fn bad_channel(channel: i32, max: u32) -> Error {
    Error::Value(format!(
        "channel {channel} cannot be stored in a BLF file: it must be 0..={} \
         (BLF counts channels from 1)",
        max - 1
    ))
}

/// Where [`Writer::append`] continues a file: after its last complete object.
#[derive(Debug, Default)]
pub struct AppendPoint {
    /// The file offset at which new containers start; what follows it is cut off.
    pub offset: u64,
    /// Zero bytes to write at `offset` first: the padding of the last object kept, which
    /// the file lacks.
    pub pad_fill: usize,
    /// Uncompressed objects (and the tail of an object begun in an earlier container) of the
    /// container that held the last complete object, up to its end: that container is cut
    /// off and these bytes are written again.
    pub carry: Vec<u8>,
    /// The length of the file.
    pub file_len: u64,
    /// Whether the file holds any complete object.
    pub has_objects: bool,
    /// Why the file is cut (what was incomplete, and where), if it ends inside an object.
    pub incomplete: Option<String>,
}

/// A piece of the object stream: a container's inflated objects or a top-level object.
struct StreamChunk {
    file_start: u64,
    file_end: u64,
    /// The whole top-level object is in the file.
    complete: bool,
    /// Padding bytes the file lacks after the top-level object.
    pad_missing: usize,
    stream_start: u64,
    data: Vec<u8>,
}

/// Finds where a BLF file (whose objects start at `header_size`) can be continued so that
/// every complete object in it stays readable and new objects follow the last of them: the
/// object stream of its containers is walked (they are inflated) to its last complete
/// object. A file that ends inside an object (a logger killed while writing) is continued
/// after the last complete one; a container cut short gives back what inflates of it.
/// Corrupt data (not a truncation) is an error.
pub fn append_point<R: std::io::Read + Seek>(src: &mut R, header_size: u64) -> Result<AppendPoint> {
    let file_len = src.seek(SeekFrom::End(0))?;
    let mut point = AppendPoint {
        offset: header_size.min(file_len),
        file_len,
        ..AppendPoint::default()
    };
    if file_len < header_size {
        point.incomplete = Some(format!(
            "the file header is incomplete ({file_len} of {header_size} bytes)"
        ));
        return Ok(point);
    }
    let mut pos = header_size;
    // Stream bytes not yet parsed, from stream offset `work_origin`.
    let mut work: Vec<u8> = Vec::new();
    let mut work_origin = 0u64;
    let mut stream_len = 0u64;
    // The end (with its padding) of the last complete object in the stream, and the chunk
    // that holds it.
    let mut last_end = 0u64;
    let mut kept: Option<StreamChunk> = None;
    loop {
        // (Past the padding of the previous object, which is not read.)
        src.seek(SeekFrom::Start(pos))?;
        let mut base = [0u8; OBJ_HEADER_BASE_SIZE];
        let n = read_full(src, &mut base)?;
        if n == 0 || (n < OBJ_HEADER_BASE_SIZE && base[..n].iter().all(|&b| b == 0)) {
            break;
        }
        if n < OBJ_HEADER_BASE_SIZE {
            point.incomplete = Some(format!(
                "the object header at byte {pos} is incomplete ({n} of 16 bytes)"
            ));
            break;
        }
        if &base[..4] != OBJ_SIGNATURE {
            return Err(Error::Corrupt {
                offset: pos,
                what: format!(
                    "expected an object signature \"LOBJ\", found {}",
                    super::header::show_bytes(&base[..4])
                ),
            });
        }
        let obj_size = u32::from_le_bytes([base[8], base[9], base[10], base[11]]);
        let obj_type = u32::from_le_bytes([base[12], base[13], base[14], base[15]]);
        let container = obj_type == LOG_CONTAINER;
        let min = if container {
            OBJ_HEADER_BASE_SIZE + LOG_CONTAINER_HEADER_SIZE
        } else {
            OBJ_HEADER_BASE_SIZE
        };
        let max = if container {
            MAX_CONTAINER_SIZE
        } else {
            super::MAX_OBJECT_SIZE
        };
        if (obj_size as usize) < min || obj_size > max {
            return Err(Error::Corrupt {
                offset: pos,
                what: format!(
                    "a top-level object of type {obj_type} declares a size of {obj_size} bytes"
                ),
            });
        }
        let end = pos + u64::from(obj_size);
        let complete = end <= file_len;
        let mut body = Vec::new();
        let want = end.min(file_len) - pos - OBJ_HEADER_BASE_SIZE as u64;
        std::io::Read::read_to_end(&mut std::io::Read::take(&mut *src, want), &mut body)?;
        if (body.len() as u64) < want {
            return Err(Error::Io(io::Error::new(
                ErrorKind::UnexpectedEof,
                "the file became shorter while it was read",
            )));
        }
        if !complete {
            point.incomplete = Some(format!(
                "the object at byte {pos} is incomplete ({} of {obj_size} bytes)",
                file_len - pos
            ));
        }
        let data = if container {
            container_objects(&body, complete, pos)?
        } else if complete {
            let mut d = base.to_vec();
            d.extend_from_slice(&body);
            d
        } else {
            Vec::new()
        };
        let pad = (obj_size % 4) as u64;
        let file_end = (end + pad).min(file_len);
        let chunk = StreamChunk {
            file_start: pos,
            file_end,
            complete,
            pad_missing: (end + pad - file_end.max(end)) as usize,
            stream_start: stream_len,
            data,
        };
        stream_len += chunk.data.len() as u64;
        work.extend_from_slice(&chunk.data);
        // The complete objects now in `work`.
        let mut p = 0usize;
        let mut found = false;
        loop {
            let Some(q) =
                (p..p + 5).find(|&q| work.get(q..q + 4) == Some(OBJ_SIGNATURE.as_slice()))
            else {
                if work.len() - p < 8 {
                    break;
                }
                return Err(Error::Corrupt {
                    offset: chunk.file_start,
                    what: "the objects in the LOG_CONTAINER starting there do not follow each \
                           other (no object signature where the next object should start)"
                        .to_owned(),
                });
            };
            if work.len() - q < OBJ_HEADER_BASE_SIZE {
                break;
            }
            let size = u32::from_le_bytes([work[q + 8], work[q + 9], work[q + 10], work[q + 11]]);
            if (size as usize) < OBJ_HEADER_BASE_SIZE || size > super::MAX_OBJECT_SIZE {
                return Err(Error::Corrupt {
                    offset: chunk.file_start,
                    what: format!("an object in the LOG_CONTAINER starting there declares a size of {size} bytes"),
                });
            }
            let size = size as usize;
            if work.len() - q < size {
                break;
            }
            p = q + size;
            last_end = work_origin + (p + size % 4) as u64;
            found = true;
        }
        work.drain(..p.min(work.len()));
        work_origin += p as u64;
        if found {
            point.has_objects = true;
            kept = Some(chunk);
        }
        if !complete {
            break;
        }
        pos = file_end;
    }
    if let Some(k) = kept {
        let stream_end = k.stream_start + k.data.len() as u64;
        if k.complete && last_end >= stream_end {
            // The chunk ends with a complete object (its padding may follow in the next).
            point.offset = k.file_end;
            point.pad_fill = k.pad_missing;
            point.carry = vec![0; (last_end - stream_end) as usize];
        } else {
            // Cut the chunk off and write its complete objects again.
            point.offset = k.file_start;
            point.carry = k.data;
            point.carry.resize((last_end - k.stream_start) as usize, 0);
        }
    }
    Ok(point)
}

/// The inflated objects of a LOG_CONTAINER's body (after its base header); one cut short by
/// the end of the file (`complete` false) gives what inflates.
fn container_objects(body: &[u8], complete: bool, at: u64) -> Result<Vec<u8>> {
    if body.len() < LOG_CONTAINER_HEADER_SIZE {
        return Ok(Vec::new());
    }
    let method = u16::from_le_bytes([body[0], body[1]]);
    let raw_len = u32::from_le_bytes([body[8], body[9], body[10], body[11]]) as usize;
    let payload = &body[LOG_CONTAINER_HEADER_SIZE..];
    match method {
        NO_COMPRESSION => Ok(payload[..payload.len().min(raw_len)].to_vec()),
        ZLIB_DEFLATE => {
            let (out, ended, why) = inflate_partial(payload, MAX_CONTAINER_SIZE as usize);
            if ended || !complete {
                Ok(out)
            } else {
                Err(Error::Corrupt {
                    offset: at,
                    what: format!(
                        "the zlib data of the LOG_CONTAINER starting there cannot be inflated: \
                         {why}"
                    ),
                })
            }
        }
        other => Err(Error::Corrupt {
            offset: at,
            what: format!("the LOG_CONTAINER starting there has compression method {other}"),
        }),
    }
}

/// Inflates a zlib stream, at most `limit` bytes: what inflates, whether the stream ended
/// properly and, if not, why (a stream cut short gives what inflates of it).
fn inflate_partial(input: &[u8], limit: usize) -> (Vec<u8>, bool, String) {
    use miniz_oxide::inflate::stream::{inflate, InflateState};
    use miniz_oxide::{DataFormat, MZFlush, MZStatus};
    let mut state = InflateState::new_boxed(DataFormat::Zlib);
    let mut chunk = vec![0u8; 64 * 1024];
    let mut input = input;
    let mut out = Vec::new();
    loop {
        let r = inflate(&mut state, input, &mut chunk, MZFlush::None);
        input = &input[r.bytes_consumed.min(input.len())..];
        let n = r.bytes_written.min(limit - out.len());
        out.extend_from_slice(&chunk[..n]);
        match r.status {
            Ok(MZStatus::StreamEnd) => return (out, true, String::new()),
            _ if out.len() >= limit => {
                return (
                    out,
                    false,
                    format!("it inflates to more than {limit} bytes"),
                );
            }
            Ok(_) if r.bytes_consumed == 0 && r.bytes_written == 0 => {
                return (
                    out,
                    false,
                    "the data ends before the zlib stream does".to_owned(),
                );
            }
            Ok(_) => {}
            Err(e) => return (out, false, format!("{e:?}")),
        }
    }
}

/// Reads until `out` is full or the end; returns how many bytes were read.
fn read_full<R: std::io::Read>(src: &mut R, out: &mut [u8]) -> io::Result<usize> {
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

/// How many containers may wait for each compression thread.
const PIPELINE_DEPTH: usize = 2;
/// Most compression threads one writer starts.
const MAX_WORKERS: usize = 4;
/// Most containers held in memory before this thread waits for the oldest.
const MAX_PENDING: usize = 16;

type WorkerJob = (Vec<u8>, mpsc::SyncSender<Compressed>);

/// A container on its way to the file.
enum Pending {
    /// With a worker thread, which sends it back compressed.
    Worker(mpsc::Receiver<Compressed>),
    /// Compressed by the writing thread.
    Done(Compressed),
}

fn stopped_worker() -> Error {
    Error::Io(io::Error::other("a BLF compression thread stopped"))
}

/// A container's payload: the raw objects and, unless stored, their zlib stream.
struct Compressed {
    method: u16,
    raw: Vec<u8>,
    data: Vec<u8>,
}

fn compress(encoder: Option<&mut Encoder>, raw: Vec<u8>) -> Compressed {
    let Some(e) = encoder else {
        return Compressed {
            method: NO_COMPRESSION,
            raw,
            data: Vec::new(),
        };
    };
    let mut data = Vec::with_capacity(raw.len() / 2 + 64);
    e.compress(&raw, &mut data);
    Compressed {
        method: ZLIB_DEFLATE,
        raw,
        data,
    }
}

impl<W: Write + Seek> crate::log::FrameWriter for Writer<W> {
    fn write_frame(&mut self, frame: &CanFrame, _name: Option<&[u8]>) -> crate::Result<bool> {
        Writer::write_frame(self, frame)?;
        Ok(true)
    }

    fn write_marker(&mut self, m: &super::GlobalMarker) -> crate::Result<bool> {
        Writer::write_marker(
            self,
            m.timestamp,
            &m.group_name,
            &m.marker_name,
            &m.description,
        )?;
        Ok(true)
    }

    /// Containers are written as they fill: nothing to hand over before.
    fn drain(&mut self) -> crate::Result<()> {
        Ok(())
    }

    fn flush(&mut self) -> crate::Result<()> {
        Ok(Writer::flush(self)?)
    }

    fn finish(&mut self) -> crate::Result<bool> {
        Ok(Writer::finish(self)?)
    }

    fn buffered(&self) -> usize {
        Writer::buffered(self)
    }

    /// Buffered objects are only dropped with the writer.
    fn clear_buffer(&mut self) {}
}
