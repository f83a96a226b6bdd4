//! Vector ASCII log files (`.asc`): a streaming reader and writer.
//!
//! Vector publishes no specification for the format. The layout here is taken from files Vector
//! CANoe/CANalyzer wrote (shared/data), from can-utils' `asc2log.c` / `log2asc.c` (the event
//! lines and the `Flags` bits of `CANFD` lines: RTR 0x10, FDF 0x1000, BRS 0x2000, ESI 0x4000)
//! and from the python-can manual (section 3.4.7).
//!
//! A file is a header (`date …`, `base hex|dec  timestamps absolute|relative`,
//! `[no] internal events logged`, `// version …`), then events in `Begin Triggerblock …` /
//! `End TriggerBlock` blocks. Every event line starts with its time in seconds since the start
//! of the measurement (`timestamps absolute`) or since the previous event (`timestamps
//! relative`). The CAN events this module reads and writes:
//!
//! ```text
//!    2.501000 1  ErrorFrame
//!    3.098426 1  18EBFF00x       Rx   d 8 01 A0 0F A6 60 3B D1 40  Length = 273910 …
//!    2.584921 4  300             Tx   r 8
//!   30.005071 CANFD   2 Rx        300  Name   1 0 8  8 01 02 03 04 05 06 07 08   102203  133   303000 …
//!   30.806898 CANFD   5 Tx ErrorFrame …
//! ```
//!
//! Channels are numbered from 1 in the file and from 0 in [`CanFrame::channel`].
//! Other events (statistics, chip status, J1939 transport, system variables, comments) are
//! skipped. Dates are local time, as Vector tools write them; the conversion to Unix time is
//! left to a [`LocalTime`] the caller supplies.
//!
//! [`CanFrame::channel`]: crate::frame::CanFrame::channel

pub mod reader;
#[cfg(test)]
mod tests;
pub mod writer;

pub use crate::lines::{Error, Result};
pub use reader::{AscLines, Base, Reader, ReaderOptions};
pub use writer::Writer;

/// `Flags` field of a `CANFD` line: remote frame (classic CAN in the CANFD format).
pub const ASC_F_RTR: u32 = 0x0000_0010;
/// `Flags` field of a `CANFD` line: the frame is a CAN FD frame (EDL).
pub const ASC_F_FDF: u32 = 0x0000_1000;
/// `Flags` field of a `CANFD` line: bit rate switch.
pub const ASC_F_BRS: u32 = 0x0000_2000;
/// `Flags` field of a `CANFD` line: error state indicator.
pub const ASC_F_ESI: u32 = 0x0000_4000;

/// A calendar date and time of day, without a time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    pub year: i32,
    /// 1..=12
    pub month: u8,
    /// 1..=31
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub micros: u32,
}

/// Converts between Unix time and the local calendar time ASC files record.
pub trait LocalTime: Send + Sync {
    /// Unix time of a local calendar time, `None` if it does not exist.
    fn unix_of_local(&self, civil: &Civil) -> Option<f64>;
    /// Local calendar time of a Unix time, `None` if it cannot be represented.
    fn local_of_unix(&self, t: f64) -> Option<Civil>;
}

/// Treats calendar times as UTC (for tests and for callers without a time zone).
#[derive(Clone, Copy, Debug, Default)]
pub struct Utc;

impl LocalTime for Utc {
    fn unix_of_local(&self, c: &Civil) -> Option<f64> {
        let days = days_from_civil(c.year, c.month, c.day)?;
        let secs = days * 86_400
            + i64::from(c.hour) * 3600
            + i64::from(c.minute) * 60
            + i64::from(c.second);
        Some(secs as f64 + f64::from(c.micros) / 1e6)
    }

    fn local_of_unix(&self, t: f64) -> Option<Civil> {
        if !t.is_finite() || t.abs() > 1e14 {
            return None;
        }
        let secs = t.floor();
        let micros = (((t - secs) * 1e6).round() as u32).min(999_999);
        let secs = secs as i64;
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        Some(Civil {
            year: i32::try_from(year).ok()?,
            month,
            day,
            hour: (rem / 3600) as u8,
            minute: (rem / 60 % 60) as u8,
            second: (rem % 60) as u8,
            micros,
        })
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
pub fn days_from_civil(year: i32, month: u8, day: u8) -> Option<i64> {
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// The date of a day count since 1970-01-01 (inverse of [`days_from_civil`]).
pub fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Month number of an English or German month name or abbreviation (`Mar`, `März`, `Mrz`,
/// `Okt`, …), case-insensitive; `ä` may be UTF-8 or Latin-1.
fn month_number(tok: &[u8]) -> Option<u8> {
    let lower: Vec<u8> = tok.iter().map(|b| b.to_ascii_lowercase()).collect();
    let t = lower.as_slice();
    let p3 = |s: &[u8]| t.len() >= 3 && &t[..3] == s;
    let german_mar = t.starts_with(b"m\xc3\xa4r")
        || t.starts_with(b"m\xc3\x84r")
        || t.starts_with(b"m\xe4r")
        || t.starts_with(b"m\xc4r")
        || t == b"mrz";
    let m = if german_mar {
        3
    } else if p3(b"jan") {
        1
    } else if p3(b"feb") {
        2
    } else if p3(b"mar") {
        3
    } else if p3(b"apr") {
        4
    } else if p3(b"may") || p3(b"mai") {
        5
    } else if p3(b"jun") {
        6
    } else if p3(b"jul") {
        7
    } else if p3(b"aug") {
        8
    } else if p3(b"sep") {
        9
    } else if p3(b"oct") || p3(b"okt") {
        10
    } else if p3(b"nov") {
        11
    } else if p3(b"dec") || p3(b"dez") {
        12
    } else {
        return None;
    };
    // A longer word must still be this month's name ("September", "Oktober"), not "Mayday".
    if t.len() > 4 && !t.iter().all(|b| b.is_ascii_alphabetic() || *b >= 0x80) {
        return None;
    }
    Some(m)
}

/// Parses the date of a `date` or `Begin Triggerblock` line: `[weekday] month day
/// H:M:S[.fraction] [AM|PM] year`, with English or German names and a 24- or 12-hour clock
/// (`Sam Sep 30 15:06:13.191 2017`, `Sat Sep 30 10:06:13.191 PM 2017`,
/// `Thu Nov 26 17:45:48 2026`). `None` if the text has another layout.
pub fn parse_date(text: &[u8]) -> Option<Civil> {
    let toks: Vec<&[u8]> = crate::lines::Tokens::new(text).collect();
    // With or without the leading weekday.
    parse_date_tokens(toks.get(1..)?).or_else(|| parse_date_tokens(&toks))
}

fn parse_date_tokens(t: &[&[u8]]) -> Option<Civil> {
    let month = month_number(t.first()?)?;
    let day_tok = t.get(1)?.strip_suffix(b".").unwrap_or(t.get(1)?);
    let day = u8::try_from(crate::lines::parse_dec_u32(day_tok)?).ok()?;
    let (hour, minute, second, micros) = parse_clock(t.get(2)?)?;
    let (hour, year_tok) = match t.get(3).map(|s| s.to_ascii_lowercase()) {
        Some(ap) if ap == b"am" || ap == b"pm" => {
            if !(1..=12).contains(&hour) {
                return None;
            }
            let h = hour % 12 + if ap == b"pm" { 12 } else { 0 };
            (h, t.get(4)?)
        }
        _ => (hour, t.get(3)?),
    };
    if hour > 23 {
        return None;
    }
    let year = crate::lines::parse_dec_u32(year_tok)?;
    if !(1970..=9999).contains(&year) {
        return None;
    }
    let year = year as i32;
    days_from_civil(year, month, day)?;
    Some(Civil {
        year,
        month,
        day,
        hour,
        minute,
        second,
        micros,
    })
}

/// `H:M:S` or `H:M:S.fraction` (fraction of up to 6 digits).
fn parse_clock(tok: &[u8]) -> Option<(u8, u8, u8, u32)> {
    let (hms, frac) = match tok.iter().position(|&b| b == b'.') {
        Some(i) => (&tok[..i], Some(&tok[i + 1..])),
        None => (tok, None),
    };
    let mut parts = hms.split(|&b| b == b':');
    let mut field = |max: u32| -> Option<u8> {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 2 {
            return None;
        }
        let v = crate::lines::parse_dec_u32(p)?;
        (v <= max).then_some(v as u8)
    };
    let (h, m, s) = (field(23)?, field(59)?, field(60)?);
    if parts.next().is_some() {
        return None;
    }
    let micros = match frac {
        Some(f) if !f.is_empty() && f.len() <= 6 => {
            crate::lines::parse_dec_u32(f)? * 10u32.pow(6 - f.len() as u32)
        }
        Some(_) => return None,
        None => 0,
    };
    Some((h, m, s.min(59), micros))
}

/// `Sat Sep 30 15:06:13.191 2017`: the English layout Vector tools write, milliseconds
/// truncated.
pub fn format_date(c: &Civil) -> String {
    let days = days_from_civil(c.year, c.month, c.day).unwrap_or(0);
    // 1970-01-01 was a Thursday.
    let weekday = WEEKDAYS[(days + 4).rem_euclid(7) as usize];
    let month = MONTHS[usize::from(c.month.clamp(1, 12) - 1)];
    format!(
        "{weekday} {month} {:02} {:02}:{:02}:{:02}.{:03} {}",
        c.day,
        c.hour,
        c.minute,
        c.second,
        c.micros / 1000,
        c.year
    )
}

#[cfg(test)]
mod date_tests {
    use super::*;

    fn civil(y: i32, mo: u8, d: u8, h: u8, mi: u8, s: u8, us: u32) -> Civil {
        Civil {
            year: y,
            month: mo,
            day: d,
            hour: h,
            minute: mi,
            second: s,
            micros: us,
        }
    }

    #[test]
    fn dates_vector_and_can_utils_write() {
        let sep30 = civil(2017, 9, 30, 15, 6, 13, 191_000);
        assert_eq!(parse_date(b"Sam Sep 30 15:06:13.191 2017"), Some(sep30));
        assert_eq!(parse_date(b"Sat Sep 30 15:06:13.191 2017"), Some(sep30));
        assert_eq!(
            parse_date(b"Sat Sep 30 10:06:13.191 PM 2017"),
            Some(civil(2017, 9, 30, 22, 6, 13, 191_000))
        );
        assert_eq!(
            parse_date(b"Mon Jan 1 12:00:00 AM 2018"),
            Some(civil(2018, 1, 1, 0, 0, 0, 0))
        );
        // log2asc (ctime layout, day padded with a space).
        assert_eq!(
            parse_date(b"Thu Jan  1 00:00:01 1970"),
            Some(civil(1970, 1, 1, 0, 0, 1, 0))
        );
        assert_eq!(
            parse_date(b"Do Okt 12 08:30:00.5 2023"),
            Some(civil(2023, 10, 12, 8, 30, 0, 500_000))
        );
        assert_eq!(
            parse_date("Mi Mär 1 08:30:00 2023".as_bytes()),
            Some(civil(2023, 3, 1, 8, 30, 0, 0))
        );
        assert_eq!(
            parse_date(b"Sep 30 15:06:13 2017"),
            Some(civil(2017, 9, 30, 15, 6, 13, 0))
        );
    }

    #[test]
    fn other_layouts_are_refused() {
        for bad in [
            &b"30.09.2017 15:06:13"[..],
            b"Sam Sep 31 15:06:13 2017",
            b"Sam Foo 30 15:06:13 2017",
            b"Sam Sep 30 25:06:13 2017",
            b"Sam Sep 30 13:06:13 PM 2017",
            b"",
            b"Sam",
        ] {
            assert_eq!(parse_date(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn utc_round_trip_and_known_values() {
        // 2017-09-30T15:06:13.191Z; the value from Python's
        // datetime(2017, 9, 30, 15, 6, 13, 191000, tzinfo=timezone.utc).timestamp().
        let c = civil(2017, 9, 30, 15, 6, 13, 191_000);
        let t = Utc.unix_of_local(&c).unwrap_or(0.0);
        assert!((t - 1_506_783_973.191).abs() < 1e-6, "{t}");
        assert_eq!(Utc.local_of_unix(t), Some(c));
        assert_eq!(Utc.local_of_unix(0.0), Some(civil(1970, 1, 1, 0, 0, 0, 0)));
        assert_eq!(
            Utc.local_of_unix(951_782_400.0),
            Some(civil(2000, 2, 29, 0, 0, 0, 0))
        );
    }

    #[test]
    fn formatted_dates_parse_back() {
        let c = civil(2026, 11, 26, 17, 45, 48, 716_000);
        let s = format_date(&c);
        assert_eq!(s, "Thu Nov 26 17:45:48.716 2026");
        assert_eq!(parse_date(s.as_bytes()), Some(c));
        assert_eq!(
            format_date(&civil(2017, 9, 30, 15, 6, 13, 191_999)),
            "Sat Sep 30 15:06:13.191 2017"
        );
    }
}
