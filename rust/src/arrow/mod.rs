//! Log files as Arrow columns: frames of any [`FrameReader`] gathered into record batches of
//! fixed-width columns, handed out through the Arrow C data interface ([`ffi`]).
//!
//! A [`FrameBatches`] pulls frames from a reader, drops those the acceptance filters, the
//! channel list or the time window reject before any column is touched, and appends the rest
//! to one [`Batch`] of at most `batch_size` rows, so memory is bounded by one batch whatever
//! the file's size. The columns and their Arrow types are [`Column`]; the values are those of
//! the `can.Message` path: timestamps in seconds (and in nanoseconds, rounded from them), the
//! channel as the format's reader names it (an integer, or a candump log's interface name),
//! the flags, the `dlc` and the payload bytes.
//!
//! The column layouts follow the Arrow columnar format specification
//! (<https://arrow.apache.org/docs/format/Columnar.html>): bit-packed booleans (LSB first),
//! little-endian fixed-width values, `binary` / `utf8` as `i32` offsets plus values, no
//! validity bitmaps (no column has nulls).

pub mod ffi;

use std::io::Read;

use crate::asc::{self, LocalTime};
use crate::blf;
use crate::candump;
use crate::error::{Error, Result};
use crate::filter::FilterSet;
use crate::frame::{CanFrame, CANFD_BRS, CANFD_ESI};
use crate::log::{Event, Format, FrameReader, ReadSummary};
use crate::trc;

/// One column a table can hold, in the table's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    /// `float64`: seconds, as `Message.timestamp`.
    Timestamp,
    /// `int64`: the timestamp in nanoseconds, rounded to the nearest.
    TimestampNs,
    /// `int64` (BLF, ASC, TRC: `Message.channel`) or `utf8` (candump log: the interface name).
    Channel,
    /// `uint32`: the identifier without its type bits.
    ArbitrationId,
    IsExtendedId,
    IsRemoteFrame,
    IsErrorFrame,
    IsFd,
    BitrateSwitch,
    ErrorStateIndicator,
    IsRx,
    /// `uint8`: `Message.dlc`.
    Dlc,
    /// `binary`: the payload bytes.
    Data,
}

impl Column {
    pub const ALL: [Column; 13] = [
        Column::Timestamp,
        Column::TimestampNs,
        Column::Channel,
        Column::ArbitrationId,
        Column::IsExtendedId,
        Column::IsRemoteFrame,
        Column::IsErrorFrame,
        Column::IsFd,
        Column::BitrateSwitch,
        Column::ErrorStateIndicator,
        Column::IsRx,
        Column::Dlc,
        Column::Data,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Column::Timestamp => "timestamp",
            Column::TimestampNs => "timestamp_ns",
            Column::Channel => "channel",
            Column::ArbitrationId => "arbitration_id",
            Column::IsExtendedId => "is_extended_id",
            Column::IsRemoteFrame => "is_remote_frame",
            Column::IsErrorFrame => "is_error_frame",
            Column::IsFd => "is_fd",
            Column::BitrateSwitch => "bitrate_switch",
            Column::ErrorStateIndicator => "error_state_indicator",
            Column::IsRx => "is_rx",
            Column::Dlc => "dlc",
            Column::Data => "data",
        }
    }

    pub fn from_name(name: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The column's Arrow format string (C data interface) for a file in `format`.
    pub fn arrow_format(self, format: Format) -> &'static str {
        match self {
            Column::Timestamp => "g",
            Column::TimestampNs => "l",
            Column::Channel if format == Format::Log => "u",
            Column::Channel => "l",
            Column::ArbitrationId => "I",
            Column::Dlc => "C",
            Column::Data => "z",
            _ => "b",
        }
    }
}

/// Which frames go into the table.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Acceptance filters (an empty set passes every frame).
    pub filters: FilterSet,
    /// Channels kept (numbers as the column holds them); `None` keeps all.
    pub channel_numbers: Option<Vec<i64>>,
    /// Interface names kept (candump logs); `None` keeps all.
    pub channel_names: Option<Vec<Vec<u8>>>,
    /// Frames timestamped before this (seconds) are dropped.
    pub start: Option<f64>,
    /// Frames timestamped at or after this (seconds) are dropped.
    pub stop: Option<f64>,
}

/// A reader of `input` in `format` with the defaults of the format's `can.Message` reader
/// (ASC times relative to the start of the measurement; malformed lines are errors).
pub fn reader<'a, R: Read + Send + 'a>(
    input: R,
    format: Format,
    tz: Box<dyn LocalTime>,
) -> Result<Box<dyn FrameReader + Send + 'a>> {
    Ok(match format {
        Format::Blf => Box::new(blf::Reader::new(input)?),
        Format::Asc => {
            let opts = asc::ReaderOptions {
                relative_timestamp: true,
                strict: true,
                ..asc::ReaderOptions::default()
            };
            Box::new(asc::Reader::new(input, opts, tz))
        }
        Format::Log => Box::new(candump::Reader::new(input, true)),
        Format::Trc => Box::new(trc::Reader::new(input, true)),
        // CSV has no channel column (its messages' channel is None), which the int64 channel
        // column cannot say yet: can.LogReader reads it.
        Format::Csv => {
            return Err(crate::Error::Value(
                "CSV files are not read as Arrow columns yet; use can.LogReader".into(),
            ))
        }
    })
}

/// The values of one column for a batch of rows.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    F64(Vec<f64>),
    I64(Vec<i64>),
    U32(Vec<u32>),
    U8(Vec<u8>),
    /// Bit-packed booleans (bit `i % 8` of byte `i / 8`) and their count.
    Bool(Vec<u8>, usize),
    /// `offsets` (one more than rows) into `values`: `binary` or `utf8`.
    Bytes {
        offsets: Vec<i32>,
        values: Vec<u8>,
    },
}

impl Values {
    /// An empty `binary` / `utf8` column.
    fn empty_bytes() -> Values {
        Values::Bytes {
            offsets: vec![0],
            values: Vec::new(),
        }
    }

    /// Number of rows held.
    pub fn len(&self) -> usize {
        match self {
            Values::F64(v) => v.len(),
            Values::I64(v) => v.len(),
            Values::U32(v) => v.len(),
            Values::U8(v) => v.len(),
            Values::Bool(_, n) => *n,
            Values::Bytes { offsets, .. } => offsets.len() - 1,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn push_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        if let Values::Bytes { offsets, values } = self {
            values.extend_from_slice(bytes);
            let end = i32::try_from(values.len()).map_err(|_| {
                Error::Value("a batch's bytes exceed 2 GiB: use a smaller batch size".into())
            })?;
            offsets.push(end);
        }
        Ok(())
    }
}

/// One record batch: the selected columns, all of the same length.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub columns: Vec<(Column, Values)>,
    pub rows: usize,
}

/// Most rows a batch holds (so that 64-byte payloads keep `i32` offsets).
pub const MAX_BATCH_SIZE: usize = 1 << 24;

/// The timestamp in nanoseconds, rounded (saturating at the ends of `i64`, NaN as 0).
pub fn timestamp_ns(seconds: f64) -> i64 {
    (seconds * 1e9).round() as i64
}

/// Record batches of the frames of a reader.
pub struct FrameBatches<'a> {
    source: Box<dyn FrameReader + Send + 'a>,
    format: Format,
    columns: Vec<Column>,
    selection: Selection,
    batch_size: usize,
    done: bool,
    /// The frames of the batch being built (kept to reuse its allocation).
    frames: Vec<CanFrame>,
    /// Frames read from the source (before the selection).
    pub frames_read: u64,
}

impl<'a> FrameBatches<'a> {
    /// Batches of at most `batch_size` (1..=[`MAX_BATCH_SIZE`]) rows of `columns` (in that order) of the
    /// frames of `source`, a reader of a `format` file, that `selection` keeps.
    pub fn new(
        source: Box<dyn FrameReader + Send + 'a>,
        format: Format,
        columns: Vec<Column>,
        selection: Selection,
        batch_size: usize,
    ) -> Self {
        FrameBatches {
            source,
            format,
            columns,
            selection,
            batch_size: batch_size.clamp(1, MAX_BATCH_SIZE),
            done: false,
            frames: Vec::new(),
            frames_read: 0,
        }
    }

    pub fn format(&self) -> Format {
        self.format
    }

    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// What the reader skipped or found cut short.
    pub fn summary(&self) -> ReadSummary {
        self.source.summary()
    }

    /// Warnings of the reader (handed out once).
    pub fn take_warnings(&mut self) -> Vec<String> {
        self.source.take_warnings()
    }

    fn keeps(&self, f: &CanFrame) -> bool {
        let sel = &self.selection;
        if !sel.filters.matches(u64::from(f.id()), f.is_extended()) {
            return false;
        }
        // A NaN timestamp is in no window.
        if sel
            .start
            .is_some_and(|start| f.timestamp.partial_cmp(&start).is_none_or(|o| o.is_lt()))
        {
            return false;
        }
        if sel
            .stop
            .is_some_and(|stop| f.timestamp.partial_cmp(&stop).is_none_or(|o| o.is_ge()))
        {
            return false;
        }
        if let Some(numbers) = &sel.channel_numbers {
            if self.format != Format::Log && !numbers.contains(&self.channel_number(f)) {
                return false;
            }
        }
        if let Some(names) = &sel.channel_names {
            let name = self.source.channel_name().unwrap_or_default();
            if self.format == Format::Log && !names.iter().any(|n| n.as_slice() == name) {
                return false;
            }
        }
        true
    }

    /// The channel as the format's `can.Message` reader gives it (TRC counts buses from 1).
    fn channel_number(&self, f: &CanFrame) -> i64 {
        match self.format {
            Format::Trc => i64::from(f.channel) + 1,
            _ => i64::from(f.channel),
        }
    }

    /// An empty column of `column`'s type with room for `capacity` rows.
    fn empty(&self, column: Column, capacity: usize) -> Values {
        match column {
            Column::Timestamp => Values::F64(Vec::with_capacity(capacity)),
            Column::TimestampNs => Values::I64(Vec::with_capacity(capacity)),
            Column::Channel if self.format == Format::Log => Values::empty_bytes(),
            Column::Channel => Values::I64(Vec::with_capacity(capacity)),
            Column::ArbitrationId => Values::U32(Vec::with_capacity(capacity)),
            Column::Dlc => Values::U8(Vec::with_capacity(capacity)),
            Column::Data => {
                let mut offsets = Vec::with_capacity(capacity + 1);
                offsets.push(0);
                Values::Bytes {
                    offsets,
                    values: Vec::with_capacity(capacity * 8),
                }
            }
            _ => Values::Bool(Vec::with_capacity(capacity.div_ceil(8)), 0),
        }
    }

    /// Appends the values of `frames` to `values`, the column `column` (`names`: the
    /// frames' interface names, candump logs). Booleans are appended a byte at a time, so
    /// every chunk but the last must hold a multiple of 8 frames.
    fn extend(&self, column: Column, values: &mut Values, frames: &[CanFrame], names: &Values) {
        fn bits(out: &mut Vec<u8>, n: &mut usize, frames: &[CanFrame], get: fn(&CanFrame) -> bool) {
            for chunk in frames.chunks(8) {
                let mut byte = 0u8;
                for (i, f) in chunk.iter().enumerate() {
                    byte |= u8::from(get(f)) << i;
                }
                out.push(byte);
            }
            *n += frames.len();
        }
        let get: fn(&CanFrame) -> bool = match (column, &mut *values) {
            (Column::Timestamp, Values::F64(v)) => {
                return v.extend(frames.iter().map(|f| f.timestamp))
            }
            (Column::TimestampNs, Values::I64(v)) => {
                return v.extend(frames.iter().map(|f| timestamp_ns(f.timestamp)))
            }
            (Column::Channel, Values::I64(v)) => {
                return v.extend(frames.iter().map(|f| self.channel_number(f)))
            }
            (Column::Channel, Values::Bytes { offsets, values }) => {
                if let Values::Bytes {
                    offsets: o,
                    values: names,
                } = names
                {
                    let base = offsets.last().copied().unwrap_or(0);
                    offsets.extend(o.iter().skip(1).map(|x| base + x));
                    values.extend_from_slice(names);
                }
                return;
            }
            (Column::ArbitrationId, Values::U32(v)) => {
                return v.extend(frames.iter().map(CanFrame::id))
            }
            (Column::Dlc, Values::U8(v)) => return v.extend(frames.iter().map(|f| f.dlc)),
            (Column::Data, Values::Bytes { offsets, values }) => {
                for f in frames {
                    values.extend_from_slice(f.payload());
                    // ok: at most 64 bytes a row and at most MAX_BATCH_SIZE rows a batch
                    // keep the end below i32::MAX.
                    offsets.push(values.len() as i32);
                }
                return;
            }
            (Column::IsExtendedId, _) => CanFrame::is_extended,
            (Column::IsRemoteFrame, _) => CanFrame::is_remote,
            (Column::IsErrorFrame, _) => CanFrame::is_error,
            (Column::IsFd, _) => CanFrame::is_fd,
            (Column::BitrateSwitch, _) => |f| f.flags & CANFD_BRS != 0,
            (Column::ErrorStateIndicator, _) => |f| f.flags & CANFD_ESI != 0,
            (Column::IsRx, _) => |f| f.is_rx,
            _ => return,
        };
        if let Values::Bool(out, n) = values {
            bits(out, n, frames, get);
        }
    }

    /// The next batch (never empty); `None` at the end of the input. After an error, the
    /// batches end.
    ///
    /// Frames are gathered [`CHUNK`] at a time and then appended column by column, so that
    /// the columns are built from frames still in the cache.
    pub fn next_batch(&mut self) -> Result<Option<Batch>> {
        if self.done {
            return Ok(None);
        }
        let want_names = self.format == Format::Log && self.columns.contains(&Column::Channel);
        let capacity = self.batch_size.min(1 << 16);
        let mut columns: Vec<(Column, Values)> = self
            .columns
            .iter()
            .map(|&c| (c, self.empty(c, capacity)))
            .collect();
        let mut frames = std::mem::take(&mut self.frames);
        let mut rows = 0;
        while rows < self.batch_size && !self.done {
            frames.clear();
            let mut names = Values::empty_bytes();
            let want = CHUNK.min(self.batch_size - rows);
            while frames.len() < want {
                let event = match self.source.next_event() {
                    Ok(e) => e,
                    Err(e) => {
                        self.done = true;
                        return Err(e);
                    }
                };
                match event {
                    Some(Event::Frame(f)) => {
                        self.frames_read += 1;
                        if self.keeps(&f) {
                            if want_names {
                                names.push_bytes(self.source.channel_name().unwrap_or_default())?;
                            }
                            frames.push(f);
                        }
                    }
                    Some(Event::Marker(_)) => {}
                    None => {
                        self.done = true;
                        break;
                    }
                }
            }
            for (column, values) in columns.iter_mut() {
                self.extend(*column, values, &frames, &names);
            }
            rows += frames.len();
        }
        self.frames = frames;
        Ok((rows > 0).then_some(Batch { columns, rows }))
    }
}

/// Frames gathered before they are appended to the columns (a multiple of 8: see
/// `FrameBatches::extend`): 4096 frames of 88 bytes stay in a core's L2 cache.
const CHUNK: usize = 4096;

#[cfg(test)]
mod tests;
