//! PEAK-System trace files (`.trc`, PCAN-View, PCAN-Explorer, PEAK-Converter): a streaming
//! reader of file versions 1.0 to 2.1 and a writer of versions 2.1 and 1.1.
//!
//! The layout follows PEAK's public document "PEAK CAN TRC File Format" (PEAK-System Technik
//! GmbH, <https://www.peak-system.com/quick/DOC-TRC-CAN>), whose example of each version the
//! tests read, and the PCAN-View / PEAK-Converter files in `shared/data`. The facts used here:
//!
//! * Lines starting with `;` are comments, except the directives `;$FILEVERSION=x.y`,
//!   `;$STARTTIME=<days>` and (2.x) `;$COLUMNS=<letters>`. A file without `$FILEVERSION` is
//!   version 1.0. Columns are separated by spaces.
//! * `$STARTTIME` is an OLE automation date: days since 1899-12-30 00:00, the fraction being
//!   the time of day. Files without it (version 1.0, some 1.x writers) have a comment line
//!   `;   Start time: 11.09.2002 16:00:20.682` (European `d.m.y`, US `m/d/y` or ISO `y-m-d`;
//!   after the seconds, milliseconds, optionally with a fraction: `…:07.062.001`).
//!   Start times are the recording PC's wall clock; they are read as UTC, as python-can 4.x
//!   reads them, so that a file reads the same everywhere.
//! * Every record has a time offset from the start in milliseconds.
//! * Columns per version (letters of the 2.x `$COLUMNS` directive: N number, O offset, T type,
//!   B bus, I id, d direction, R reserved, l data length in bytes, L data length code, D data):
//!
//! ```text
//! 1.0  N) O I L D          1)      1841      0001  8  00 00 00 00 00 00 00 00
//! 1.1  N) O T I L D        1)      1059.9  Rx         0300  7  00 00 00 00 04 00 00
//! 1.2  N) O B T I L D      1)      1059.900  1  Rx         0300  7  00 00 00 00 04 00 00
//! 1.3  N) O B T I R L D    1)      1059.900 1  Rx        0300 -  7    00 00 00 00 04 00 00
//! 2.0  N O T I d l D       5      1334.416 FD     0500 Tx 12 01 02 03 04 05 06 07 08 09 0A 0B 0C
//! 2.1  N O T B I d R L D   5      1334.416 FD 1      0500 Tx -  9    01 02 03 04 05 06 07 08 09 0A 0B 0C
//! ```
//!
//! * The id has 4 hex digits for an 11-bit id and 8 for a 29-bit one: the digit count says
//!   which (more than 4: extended).
//! * 1.x types: `Rx`, `Tx`, `Warng` (a bus status warning, id `FFFFFFFF`; in 1.0 only the id
//!   says so) and `Error` (an error frame: the id column holds the error type, the data its
//!   direction, position and error counters; 1.0 writes `ERROR` before the data instead). A
//!   remote frame has `RTR` in place of the data.
//! * 2.x types: `DT` data frame, `FD` CAN FD frame, `FB` FD with bit rate switch, `FE` FD with
//!   error state indicator, `BI` FD with both, `RR` remote request, `ER` error frame (data:
//!   error type, direction, position, rx and tx error counters), `ST` hardware status, `EC`
//!   error counter change, `EV` event (free text). In 2.0 the length column `l` is the data
//!   length in bytes, in 2.1 the length column `L` is the DLC (FD: `9` means 12 bytes).
//!
//! Frames become [`CanFrame`]s: bus `n` is [`CanFrame::channel`] `n - 1` (buses count from 1,
//! frame channels from 0, as for ASC and BLF; a file without a bus column is bus 1). An error
//! record becomes an error frame (`CAN_ERR_FLAG`, id 0) whose data are PEAK's five error bytes
//! (error type, direction, position, rx counter, tx counter). Records that are not frames
//! (warnings, status, error counters, events) are skipped and counted.
//!
//! [`CanFrame`]: crate::frame::CanFrame
//! [`CanFrame::channel`]: crate::frame::CanFrame::channel

pub mod reader;
#[cfg(test)]
mod tests;
pub mod writer;

pub use crate::lines::{Error, Result};
pub use reader::{Reader, TrcLines};
pub use writer::Writer;

use crate::asc::days_from_civil;
use crate::lines::parse_decimal_f64;

/// A TRC file version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    V1_0,
    V1_1,
    V1_2,
    V1_3,
    V2_0,
    V2_1,
}

impl Version {
    /// The version of a `$FILEVERSION` value (`1.1`, `2.1`, …).
    pub fn parse(text: &[u8]) -> Option<Version> {
        Some(match text {
            b"1.0" => Version::V1_0,
            b"1.1" => Version::V1_1,
            b"1.2" => Version::V1_2,
            b"1.3" => Version::V1_3,
            b"2.0" => Version::V2_0,
            b"2.1" => Version::V2_1,
            _ => return None,
        })
    }

    /// python-can's `TRCFileVersion` value: 100 * major + minor.
    pub fn code(self) -> u32 {
        match self {
            Version::V1_0 => 100,
            Version::V1_1 => 101,
            Version::V1_2 => 102,
            Version::V1_3 => 103,
            Version::V2_0 => 200,
            Version::V2_1 => 201,
        }
    }

    /// The version of a [`code`](Self::code).
    pub fn from_code(code: u32) -> Option<Version> {
        [
            Version::V1_0,
            Version::V1_1,
            Version::V1_2,
            Version::V1_3,
            Version::V2_0,
            Version::V2_1,
        ]
        .into_iter()
        .find(|v| v.code() == code)
    }

    pub fn is_v2(self) -> bool {
        self >= Version::V2_0
    }

    /// The columns of a file of this version without a `$COLUMNS` directive.
    pub fn default_columns(self) -> &'static [Column] {
        use Column::*;
        match self {
            Version::V1_0 => &[Number, Offset, Id, Dlc, Data],
            Version::V1_1 => &[Number, Offset, Type, Id, Dlc, Data],
            Version::V1_2 => &[Number, Offset, Bus, Type, Id, Dlc, Data],
            Version::V1_3 => &[Number, Offset, Bus, Type, Id, Reserved, Dlc, Data],
            Version::V2_0 => &[Number, Offset, Type, Id, Direction, Length, Data],
            Version::V2_1 => &[
                Number, Offset, Type, Bus, Id, Direction, Reserved, Dlc, Data,
            ],
        }
    }
}

/// One column of a record line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    /// `N`: the record number (1.x: followed by `)`).
    Number,
    /// `O`: time offset in milliseconds.
    Offset,
    /// `T`: record type.
    Type,
    /// `B`: bus number (from 1), `-` for none.
    Bus,
    /// `I`: id in hex.
    Id,
    /// `d`: `Rx` or `Tx`.
    Direction,
    /// `R`: reserved, `-`.
    Reserved,
    /// `l`: data length in bytes.
    Length,
    /// `L`: data length code.
    Dlc,
    /// `D`: data bytes (the rest of the line).
    Data,
}

impl Column {
    /// The column of a `$COLUMNS` letter.
    pub fn from_letter(c: u8) -> Option<Column> {
        Some(match c {
            b'N' => Column::Number,
            b'O' => Column::Offset,
            b'T' => Column::Type,
            b'B' => Column::Bus,
            b'I' => Column::Id,
            b'd' => Column::Direction,
            b'R' => Column::Reserved,
            b'l' => Column::Length,
            b'L' => Column::Dlc,
            b'D' => Column::Data,
            _ => return None,
        })
    }
}

/// Days between 1899-12-30 (day 0 of OLE dates) and 1970-01-01.
pub const OLE_UNIX_EPOCH_DAYS: i64 = 25_569;

/// Unix time of an OLE date (`$STARTTIME`), rounded to whole microseconds the way Python's
/// `timedelta(days=x)` rounds (whole days exact, then the seconds of the fraction, then the
/// microseconds half to even), so that the value agrees with python-can's to the bit.
pub fn ole_to_unix(days: f64) -> Option<f64> {
    // Beyond 10^8 days (270,000 years) the microseconds would overflow an i64.
    if !days.is_finite() || days.abs() > 1.0e8 {
        return None;
    }
    let whole_days = days.trunc();
    let day_frac = days - whole_days;
    let secs = day_frac * 86_400.0;
    let whole_secs = secs.trunc();
    let micros = round_half_even((secs - whole_secs) * 1e6);
    let total_us = ((whole_days as i64 - OLE_UNIX_EPOCH_DAYS) * 86_400 + whole_secs as i64)
        * 1_000_000
        + micros as i64;
    Some(total_us as f64 / 1e6)
}

/// The OLE date (`$STARTTIME`) of a Unix time.
pub fn unix_to_ole(t: f64) -> f64 {
    t / 86_400.0 + OLE_UNIX_EPOCH_DAYS as f64
}

fn round_half_even(x: f64) -> f64 {
    x.round_ties_even()
}

/// The Unix time of a `Start time:` comment's text (`18.12.2021 14:28:07.062.001`,
/// `12/18/2021 2:28:07.062 PM`, `2021-12-18 14:28:07.062001+00:00`), read as UTC.
pub fn parse_start_time(text: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(text).ok()?.trim();
    let mut parts = text.split_whitespace();
    let date = parts.next()?;
    let time = parts.next()?;
    let ampm = parts.next();
    if parts.next().is_some() {
        return None;
    }
    let nums = |s: &str, sep: char| -> Option<Vec<u32>> {
        let v: Option<Vec<u32>> = s
            .split(sep)
            .map(|p| {
                (!p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| p.parse().ok())
                    .flatten()
            })
            .collect();
        v.filter(|v| v.len() == 3)
    };
    let iso = date.contains('-');
    let (year, month, day) = if iso {
        let v = nums(date, '-')?;
        (v[0], v[1], v[2])
    } else if date.contains('/') {
        let v = nums(date, '/')?;
        (v[2], v[0], v[1])
    } else {
        let v = nums(date, '.')?;
        (v[2], v[1], v[0])
    };
    // ISO times may carry a UTC offset (python-can writes "+00:00").
    let (time, offset_secs) = match time.rfind(['+', '-']) {
        Some(i) if iso => {
            let sign = if time.as_bytes()[i] == b'-' { -1 } else { 1 };
            let (h, m) = time[i + 1..].split_once(':')?;
            let off = h.parse::<i64>().ok()? * 3600 + m.parse::<i64>().ok()? * 60;
            (&time[..i], sign * off)
        }
        _ => (time, 0),
    };
    let mut hms = time.splitn(3, ':');
    let mut hour: u32 = hms.next()?.parse().ok()?;
    let minute: u32 = hms.next()?.parse().ok()?;
    let sec_text = hms.next()?;
    let (sec, frac) = sec_text.split_once('.').unwrap_or((sec_text, ""));
    let second: u32 = sec.parse().ok()?;
    let micros: i64 = if frac.is_empty() {
        0
    } else if iso {
        // A fraction of a second.
        let f = parse_decimal_f64(format!("0.{frac}").as_bytes())?;
        (f * 1e6).round() as i64
    } else {
        // Milliseconds, optionally with a fraction of a millisecond after a second dot.
        let ms = parse_decimal_f64(frac.as_bytes())?;
        (ms * 1e3).round() as i64
    };
    match ampm.map(str::to_ascii_uppercase).as_deref() {
        None => {}
        Some("AM") if (1..=12).contains(&hour) => hour %= 12,
        Some("PM") if (1..=12).contains(&hour) => hour = hour % 12 + 12,
        Some(_) => return None,
    }
    if hour > 23 || minute > 59 || second > 60 || !(0..1_000_000).contains(&micros) {
        return None;
    }
    let days = days_from_civil(
        i32::try_from(year).ok()?,
        u8::try_from(month).ok()?,
        u8::try_from(day).ok()?,
    )?;
    let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second) - offset_secs;
    Some((secs * 1_000_000 + micros) as f64 / 1e6)
}
