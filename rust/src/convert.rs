//! Conversion between the log formats (BLF, ASC, candump log, PEAK TRC, CSV), streaming, frame
//! by frame.
//!
//! Every input is read into [`CanFrame`]s and every output written from them, so conversion
//! holds one frame at a time (plus the codecs' buffers) whatever the file size, and never
//! needs Python objects. What each conversion keeps:
//!
//! * timestamps: BLF and candump logs hold Unix times. ASC files hold times from the start of
//!   the measurement; read here, the `date` / `Begin Triggerblock` line (local time) is added
//!   so that they become Unix times too (when the date cannot be read, a warning is collected
//!   and the times stay relative). The ASC writer writes times from its first frame again.
//! * channels: BLF and ASC channel `n` is frame channel `n - 1`; a candump interface name
//!   gives the number it ends in (`vcan1` -> 1, none -> 0), and frame channel `n` is written
//!   as interface `can<n>`, except that log-to-log conversion keeps the names.
//! * BLF global markers become ASC text events (their group name) and BLF markers; a candump
//!   log has no place for them, nor has a TRC file.
//! * TRC files: times are Unix times (the file's start time plus the record's offset); TRC bus
//!   `n` is frame channel `n - 1`; records that are not frames are skipped. Written as TRC
//!   version 2.1.
//! * CSV files hold neither channels, directions nor CAN FD flags: frames read from one are
//!   received classic frames of channel 0 (an FD frame keeps its length and data); written to
//!   one, those fields are dropped.

use std::io::{Read, Seek, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::asc::{self, LocalTime};
use crate::blf;
use crate::candump;
use crate::csv;
use crate::filter::FilterSet;
use crate::frame::CanFrame;
use crate::log::{Event, FrameReader, FrameWriter, ReadSummary};
use crate::trc;

pub use crate::log::Format;

pub use crate::error::{Error, Result};

/// How to convert.
pub struct Options {
    /// Frames that pass (an empty set passes all).
    pub filters: FilterSet,
    /// False: malformed text lines are skipped and counted instead of failing.
    pub strict: bool,
    /// zlib level of a BLF output.
    pub compression_level: i32,
    /// Uncompressed bytes per BLF container.
    pub max_container_size: usize,
    /// Call the progress callback every this many input frames.
    pub progress_every: u64,
    /// Read and decode the input on a second thread.
    pub threads: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            filters: FilterSet::default(),
            strict: true,
            compression_level: 6,
            max_container_size: blf::writer::DEFAULT_MAX_CONTAINER_SIZE,
            progress_every: 1 << 16,
            threads: true,
        }
    }
}

/// What a conversion did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    pub frames_read: u64,
    pub frames_written: u64,
    /// BLF global markers read.
    pub markers: u64,
    /// Malformed text lines skipped (not strict).
    pub skipped_lines: u64,
    /// The first malformed line skipped.
    pub first_skipped: Option<String>,
    /// BLF: how the input was truncated.
    pub truncation: Option<String>,
    /// Things the user should know (an ASC date that could not be read).
    pub warnings: Vec<String>,
    /// Bytes of the input read.
    pub bytes_read: u64,
}

/// Counts the bytes read through it.
pub struct Counted<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R> Counted<R> {
    pub fn new(inner: R) -> (Self, Arc<AtomicU64>) {
        let count = Arc::new(AtomicU64::new(0));
        (
            Counted {
                inner,
                count: count.clone(),
            },
            count,
        )
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// What the reading side hands to the writing side, in order.
enum Item {
    /// A frame and the index of its interface name (a source that names interfaces;
    /// `u32::MAX` otherwise).
    Frame(CanFrame, u32),
    Marker(blf::GlobalMarker),
    /// The next interface name, announced before its first frame.
    Name(Vec<u8>),
}

/// Items per batch handed from the reading thread to the writing one.
const BATCH: usize = 4096;

/// The reading side: a source and the interface names it has announced.
struct Producer<'a> {
    source: Box<dyn FrameReader + Send + 'a>,
    names: Vec<Vec<u8>>,
    last_name: u32,
}

/// What the reading side knows at the end.
#[derive(Default)]
struct SourceEnd {
    summary: ReadSummary,
    warnings: Vec<String>,
}

impl Producer<'_> {
    /// Appends up to [`BATCH`] items; false once the source is exhausted.
    fn fill(&mut self, batch: &mut Vec<Item>) -> Result<bool> {
        while batch.len() < BATCH {
            match self.source.next_event()? {
                Some(Event::Frame(f)) => {
                    let name = match self.source.channel_name() {
                        Some(name) => {
                            let last = self.names.get(self.last_name as usize);
                            if last.is_none_or(|n| n.as_slice() != name) {
                                self.last_name = match self.names.iter().position(|n| n == name) {
                                    Some(i) => i as u32,
                                    None => {
                                        self.names.push(name.to_vec());
                                        batch.push(Item::Name(name.to_vec()));
                                        (self.names.len() - 1) as u32
                                    }
                                };
                            }
                            self.last_name
                        }
                        None => u32::MAX,
                    };
                    batch.push(Item::Frame(f, name));
                }
                Some(Event::Marker(m)) => batch.push(Item::Marker(m)),
                None => return Ok(false),
            }
        }
        Ok(true)
    }

    fn end(&mut self) -> SourceEnd {
        SourceEnd {
            summary: self.source.summary(),
            warnings: self.source.take_warnings(),
        }
    }
}

/// The writing side: a sink, the filters, the interface names and the counts.
struct Consumer<'a> {
    sink: Box<dyn FrameWriter + 'a>,
    options: &'a Options,
    /// Interface names announced by the source.
    names: Vec<Vec<u8>>,
    stats: Stats,
    bytes: Arc<AtomicU64>,
    progress: &'a mut dyn FnMut(u64, u64) -> std::result::Result<(), String>,
}

impl Consumer<'_> {
    fn take(&mut self, batch: &mut Vec<Item>) -> Result<()> {
        let every = self.options.progress_every.max(1);
        for item in batch.drain(..) {
            let (frame, name) = match item {
                Item::Name(n) => {
                    self.names.push(n);
                    continue;
                }
                Item::Marker(m) => {
                    self.stats.markers += 1;
                    self.sink.write_marker(&m)?;
                    continue;
                }
                Item::Frame(f, name) => (f, name),
            };
            self.stats.frames_read += 1;
            if self.stats.frames_read % every == 0 {
                (self.progress)(self.bytes.load(Ordering::Relaxed), self.stats.frames_read)
                    .map_err(Error::Interrupted)?;
            }
            if !self
                .options
                .filters
                .matches(u64::from(frame.id()), frame.is_extended())
            {
                continue;
            }
            let name = self.names.get(name as usize).map(Vec::as_slice);
            // False: the output cannot hold the frame.
            if self.sink.write_frame(&frame, name)? {
                self.stats.frames_written += 1;
            }
        }
        Ok(())
    }
}

/// A reader of `input` in `format` (`strict` false: malformed text lines are skipped and
/// counted); ASC dates are read as local time through `tz`, so that times are Unix times.
pub fn reader<'a, R: Read + Send + 'a>(
    input: R,
    format: Format,
    strict: bool,
    tz: Box<dyn LocalTime>,
) -> Result<Box<dyn FrameReader + Send + 'a>> {
    Ok(match format {
        Format::Blf => Box::new(blf::Reader::new(input)?),
        Format::Asc => {
            let opts = asc::ReaderOptions {
                relative_timestamp: false,
                strict,
                ..asc::ReaderOptions::default()
            };
            Box::new(asc::Reader::new(input, opts, tz))
        }
        Format::Log => Box::new(candump::Reader::new(input, strict)),
        Format::Trc => Box::new(trc::Reader::new(input, strict)),
        Format::Csv => Box::new(csv::Reader::new(input, strict)),
    })
}

/// A writer of `output` in `format`, with the conversion's options (a BLF output's
/// compression; TRC is written as version 2.1).
pub fn writer<'a, W: Write + Seek + 'a>(
    output: W,
    format: Format,
    options: &Options,
    tz: Box<dyn LocalTime>,
) -> Result<Box<dyn FrameWriter + 'a>> {
    Ok(match format {
        Format::Blf => Box::new(blf::Writer::new(
            output,
            options.compression_level,
            options.max_container_size,
        )?),
        Format::Asc => Box::new(asc::Writer::new(output, tz)),
        Format::Log => Box::new(candump::Writer::new(output)),
        Format::Trc => Box::new(
            trc::Writer::new(output, trc::Version::V2_1)
                .map_err(|e| Error::text(e, Format::Trc))?,
        ),
        Format::Csv => Box::new(csv::Writer::new(output, true)),
    })
}

/// Converts `input` (in `from` format) to `output` (in `to` format).
///
/// `tz` converts the local dates of ASC files. `progress(bytes_read, frames_read)` is called
/// every [`Options::progress_every`] frames and at the end; an `Err(reason)` from it stops the
/// conversion with [`Error::Interrupted`] (the output is left incomplete). With
/// [`Options::threads`], the input is read and decoded on a second thread while this one
/// formats and writes.
pub fn convert<R, W>(
    input: R,
    from: Format,
    output: W,
    to: Format,
    options: &Options,
    tz: &dyn Fn() -> Box<dyn LocalTime>,
    progress: &mut dyn FnMut(u64, u64) -> std::result::Result<(), String>,
) -> Result<Stats>
where
    R: Read + Send,
    W: Write + Seek,
{
    let (input, bytes) = Counted::new(input);
    let source = reader(input, from, options.strict, tz())?;
    let sink = writer(output, to, options, tz())?;
    let mut producer = Producer {
        source,
        names: Vec::new(),
        last_name: u32::MAX,
    };
    let mut consumer = Consumer {
        sink,
        options,
        names: Vec::new(),
        stats: Stats::default(),
        bytes: bytes.clone(),
        progress,
    };
    let end = if options.threads {
        run_threaded(producer, &mut consumer)?
    } else {
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            let more = producer.fill(&mut batch)?;
            consumer.take(&mut batch)?;
            if !more {
                break;
            }
        }
        producer.end()
    };
    consumer.sink.finish()?;
    let mut stats = consumer.stats;
    stats.skipped_lines = end.summary.skipped_lines;
    stats.first_skipped = end.summary.first_skipped;
    stats.truncation = end.summary.truncation;
    stats.warnings = end.warnings;
    stats.bytes_read = bytes.load(Ordering::Relaxed);
    (consumer.progress)(stats.bytes_read, stats.frames_read).map_err(Error::Interrupted)?;
    Ok(stats)
}

/// Reads on a scoped thread, writes on this one; batches travel through a bounded channel
/// and come back empty for reuse.
fn run_threaded(mut producer: Producer<'_>, consumer: &mut Consumer<'_>) -> Result<SourceEnd> {
    use std::sync::mpsc::{channel, sync_channel};
    let (full_tx, full_rx) = sync_channel::<Result<(Vec<Item>, bool)>>(4);
    let (empty_tx, empty_rx) = channel::<Vec<Item>>();
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            loop {
                let mut batch = empty_rx
                    .try_recv()
                    .unwrap_or_else(|_| Vec::with_capacity(BATCH));
                let step = producer.fill(&mut batch).map(|more| (batch, more));
                let stop = !matches!(step, Ok((_, true)));
                // A closed channel means the writing side stopped: nothing more to do.
                if full_tx.send(step).is_err() || stop {
                    break;
                }
            }
            producer.end()
        });
        let mut outcome = Ok(());
        while let Ok(step) = full_rx.recv() {
            match step.and_then(|(mut batch, more)| {
                consumer.take(&mut batch)?;
                // The reader may be gone already; the batch is then simply dropped.
                let _ = empty_tx.send(batch);
                Ok(more)
            }) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
        }
        // Dropping the receiver makes a blocked reader stop.
        drop(full_rx);
        let end = reader.join();
        outcome?;
        end.map_err(|_| Error::Interrupted("the reading thread panicked".to_owned()))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::asc::Utc;
    use crate::filter::Filter;
    use crate::frame::{CANFD_BRS, CANFD_FDF, CAN_EFF_FLAG, CAN_ERR_FLAG};
    use std::io::Cursor;

    fn utc() -> Box<dyn LocalTime> {
        Box::new(Utc)
    }

    fn run(input: &[u8], from: Format, to: Format, options: &Options) -> (Vec<u8>, Stats) {
        let mut out = Cursor::new(Vec::new());
        let stats = convert(input, from, &mut out, to, options, &utc, &mut |_, _| Ok(())).unwrap();
        (out.into_inner(), stats)
    }

    const LOG: &str = "(1700000000.000000) vcan0 123#DEADBEEF R\n\
                       (1700000000.250000) vcan1 1ABCDEF0##5112233 T\n\
                       (1700000000.500000) vcan0 20000004#0000080000000000\n\
                       (1700000000.750000) vcan1 321#R3 R\n";

    fn frames_of_log(text: &[u8]) -> Vec<CanFrame> {
        let mut r = candump::Reader::new(text, true);
        let mut out = Vec::new();
        while let Some(f) = r.next_frame().unwrap() {
            out.push(f);
        }
        out
    }

    #[test]
    fn log_to_log_is_identity() {
        let (out, stats) = run(
            LOG.as_bytes(),
            Format::Log,
            Format::Log,
            &Options::default(),
        );
        assert_eq!(String::from_utf8(out).unwrap(), LOG);
        assert_eq!((stats.frames_read, stats.frames_written), (4, 4));
        assert_eq!(stats.bytes_read, LOG.len() as u64);
    }

    #[test]
    fn through_asc_and_blf_and_back() {
        let want = frames_of_log(LOG.as_bytes());
        for middle in [Format::Asc, Format::Blf] {
            let (mid, _) = run(LOG.as_bytes(), Format::Log, middle, &Options::default());
            let (back, stats) = run(&mid, middle, Format::Log, &Options::default());
            assert_eq!(stats.frames_written, 4);
            let got = frames_of_log(&back);
            let text = String::from_utf8(back).unwrap();
            assert!(
                text.contains(" can1 1ABCDEF0##5112233 T\n"),
                "{middle:?}: {text}"
            );
            for (g, w) in got.iter().zip(&want) {
                assert!((g.timestamp - w.timestamp).abs() < 1e-6, "{middle:?}");
                assert_eq!((g.channel, g.is_error()), (w.channel, w.is_error()));
                if !w.is_error() {
                    assert_eq!((g.can_id, g.flags, g.dlc), (w.can_id, w.flags, w.dlc));
                    assert_eq!((g.payload(), g.is_rx), (w.payload(), w.is_rx));
                }
            }
        }
    }

    #[test]
    fn an_empty_input_gives_a_trc_file_that_starts_now() {
        // As TRCWriter does for a recording without messages (the FrameWriter's finish); the
        // converter used to date it 1970-01-01.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let (out, stats) = run(b"", Format::Log, Format::Trc, &Options::default());
        assert_eq!(stats.frames_written, 0);
        let text = String::from_utf8(out).unwrap();
        let ole: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix(";$STARTTIME="))
            .unwrap()
            .parse()
            .unwrap();
        let start = crate::trc::ole_to_unix(ole).unwrap();
        assert!((start - now).abs() < 60.0, "{start} vs {now}");
    }

    #[test]
    fn trc_converts_to_log_and_back() {
        // PEAK's 2.1 example: 9 frames (data, FD, error, remote) and 4 records that are not.
        let trc = include_bytes!("../../tests/io/data/trc/peak_example_v2_1.trc");
        let (log, stats) = run(trc, Format::Trc, Format::Log, &Options::default());
        assert_eq!((stats.frames_read, stats.frames_written), (9, 9));
        let frames = frames_of_log(&log);
        assert_eq!(frames[4].payload().len(), 12);
        assert!(frames[4].is_fd() && frames[5].is_error() && frames[8].is_remote());
        // 1334.416 ms after $STARTTIME=41766.4648963872 (2014-05-07 11:09:27.047854 UTC).
        assert!((frames[4].timestamp - 1_399_460_968.382_27).abs() < 1e-6);
        let (back, _) = run(&log, Format::Log, Format::Trc, &Options::default());
        let (again, stats) = run(&back, Format::Trc, Format::Log, &Options::default());
        assert_eq!(stats.frames_written, 9);
        assert_eq!(frames_of_log(&again), frames);
        assert_eq!(Format::from_name("x.TRC"), Some(Format::Trc));
    }

    #[test]
    fn single_threaded_gives_the_same_output() {
        let one = Options {
            threads: false,
            ..Options::default()
        };
        for (from, to) in [(Format::Log, Format::Asc), (Format::Log, Format::Log)] {
            let (a, sa) = run(LOG.as_bytes(), from, to, &Options::default());
            let (b, sb) = run(LOG.as_bytes(), from, to, &one);
            let strip_date = |v: &[u8]| {
                String::from_utf8_lossy(v)
                    .lines()
                    .filter(|l| !l.starts_with("date") && !l.starts_with("Begin"))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            assert_eq!(strip_date(&a), strip_date(&b));
            assert_eq!(sa, sb);
        }
    }

    #[test]
    fn many_frames_cross_batches_with_names_in_order() {
        let mut text = String::new();
        for i in 0..3 * BATCH + 17 {
            text.push_str(&format!(
                "({}.000000) if{} {:03X}#{:02X}\n",
                i,
                i % 7,
                i % 0x800,
                i % 256
            ));
        }
        let (out, stats) = run(
            text.as_bytes(),
            Format::Log,
            Format::Log,
            &Options::default(),
        );
        assert_eq!(stats.frames_written, (3 * BATCH + 17) as u64);
        let out = String::from_utf8(out).unwrap();
        for (i, line) in out.lines().enumerate() {
            assert_eq!(
                line,
                format!(
                    "({}.000000) if{} {:03X}#{:02X} R",
                    i,
                    i % 7,
                    i % 0x800,
                    i % 256
                )
            );
        }
    }

    #[test]
    fn filters_select_frames() {
        let options = Options {
            filters: FilterSet::new(vec![Filter::new(0x1ABC_DEF0, 0x1FFF_FFFF, Some(true))]),
            ..Options::default()
        };
        let (out, stats) = run(LOG.as_bytes(), Format::Log, Format::Log, &options);
        assert_eq!((stats.frames_read, stats.frames_written), (4, 1));
        let got = frames_of_log(&out);
        assert_eq!(got[0].can_id, 0x1ABC_DEF0 | CAN_EFF_FLAG);
        assert_eq!(got[0].flags, CANFD_FDF | CANFD_BRS);
    }

    #[test]
    fn asc_dates_make_absolute_times() {
        let asc_text = "date Tue Nov 14 22:13:20.000 2023\nbase hex  timestamps absolute\n\
                        Begin Triggerblock Tue Nov 14 22:13:20.000 2023\n   \
                        0.500000 2  123  Rx  d 1 AA\n   0.600000 1  ErrorFrame\n";
        let (out, _) = run(
            asc_text.as_bytes(),
            Format::Asc,
            Format::Log,
            &Options::default(),
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "(1700000000.500000) can1 123#AA R\n(1700000000.600000) can0 20000080#\n"
        );
        let (_, stats) = run(
            b"date tomorrow\n 1.0 1 1 Rx d 0\n",
            Format::Asc,
            Format::Log,
            &Options::default(),
        );
        assert_eq!(stats.warnings.len(), 1);
    }

    #[test]
    fn malformed_lines_fail_or_are_counted() {
        let bad = b"(1.0) can0 123#11\n(2.0) can0 12#1\n(3.0) can0 124#\n";
        let mut out = Cursor::new(Vec::new());
        let err = convert(
            &bad[..],
            Format::Log,
            &mut out,
            Format::Asc,
            &Options::default(),
            &utc,
            &mut |_, _| Ok(()),
        )
        .unwrap_err();
        assert!(matches!(
            err,
            Error::Parse {
                format: Format::Log,
                at: crate::error::Position::Line(2),
                ..
            }
        ));
        let lenient = Options {
            strict: false,
            ..Options::default()
        };
        let (_, stats) = run(bad, Format::Log, Format::Asc, &lenient);
        assert_eq!((stats.frames_written, stats.skipped_lines), (2, 1));
        assert!(stats.first_skipped.unwrap().starts_with("line 2:"));
    }

    #[test]
    fn progress_can_interrupt() {
        let options = Options {
            progress_every: 2,
            ..Options::default()
        };
        let mut calls = Vec::new();
        let mut out = Cursor::new(Vec::new());
        let err = convert(
            LOG.as_bytes(),
            Format::Log,
            &mut out,
            Format::Blf,
            &options,
            &utc,
            &mut |bytes, frames| {
                calls.push((bytes, frames));
                if frames >= 4 {
                    Err("stop".into())
                } else {
                    Ok(())
                }
            },
        )
        .unwrap_err();
        assert!(matches!(err, Error::Interrupted(_)));
        assert_eq!(calls.iter().map(|c| c.1).collect::<Vec<_>>(), vec![2, 4]);
    }

    #[test]
    fn csv_keeps_what_it_holds_both_ways() {
        let (csv, stats) = run(
            LOG.as_bytes(),
            Format::Log,
            Format::Csv,
            &Options::default(),
        );
        assert_eq!((stats.frames_read, stats.frames_written), (4, 4));
        // The manual's columns: no channel, direction or FD flags; the error frame keeps its
        // class and data, the remote frame its dlc.
        assert_eq!(
            String::from_utf8(csv.clone()).unwrap(),
            "timestamp,arbitration_id,extended,remote,error,dlc,data\n\
             1700000000.0,0x123,0,0,0,4,3q2+7w==\n\
             1700000000.25,0x1abcdef0,1,0,0,3,ESIz\n\
             1700000000.5,0x00000004,1,0,1,8,AAAIAAAAAAA=\n\
             1700000000.75,0x321,0,1,0,3,\n"
        );
        let (log, stats) = run(&csv, Format::Csv, Format::Log, &Options::default());
        assert_eq!(stats.frames_read, 4);
        assert_eq!(
            String::from_utf8(log).unwrap(),
            "(1700000000.000000) can0 123#DEADBEEF R\n\
             (1700000000.250000) can0 1ABCDEF0#112233 R\n\
             (1700000000.500000) can0 20000004#0000080000000000\n\
             (1700000000.750000) can0 321#R3 R\n"
        );
    }

    #[test]
    fn formats_from_names() {
        assert_eq!(Format::from_name("a/b.BLF"), Some(Format::Blf));
        assert_eq!(Format::from_name("x.asc"), Some(Format::Asc));
        assert_eq!(Format::from_name("x.log"), Some(Format::Log));
        assert_eq!(Format::from_name("x.CSV"), Some(Format::Csv));
        assert_eq!(Format::from_name("x.db"), None);
        assert_eq!(Format::from_name("noext"), None);
        let _ = CAN_ERR_FLAG;
    }
}
