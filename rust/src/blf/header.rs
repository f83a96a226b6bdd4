//! The BLF file header and its SYSTEMTIME timestamps.
//!
//! Layout (little-endian; vector_blf FileStatistics, python-can FILE_HEADER_STRUCT):
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0 | 4 | signature `"LOGG"` |
//! | 4 | 4 | header size (144) |
//! | 8 | 4 | application id, major, minor, build |
//! | 12 | 4 | binlog major, minor, build, patch |
//! | 16 | 8 | file size |
//! | 24 | 8 | uncompressed size |
//! | 32 | 4 | object count |
//! | 36 | 4 | objects read |
//! | 40 | 16 | measurement start, SYSTEMTIME |
//! | 56 | 16 | last object time, SYSTEMTIME |
//! | 72 | .. | reserved up to the header size |

use super::{le_u16, le_u32, le_u64, Error, Result, FILE_HEADER_SIZE, FILE_SIGNATURE};

/// Bytes of the header that carry fields; the rest up to `header_size` is reserved.
pub const FILE_HEADER_FIELDS_SIZE: usize = 72;

/// Unix time 1990-01-01: python-can writes an all-zero SYSTEMTIME for earlier timestamps,
/// which are taken to be relative times rather than dates.
pub const MIN_ABSOLUTE_TIMESTAMP: f64 = 631_152_000.0;

/// Windows SYSTEMTIME: eight little-endian u16 fields, in UTC as python-can reads and writes it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SystemTime {
    pub year: u16,
    pub month: u16,
    pub day_of_week: u16,
    pub day: u16,
    pub hour: u16,
    pub minute: u16,
    pub second: u16,
    pub milliseconds: u16,
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`]: (year, month, day).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

impl SystemTime {
    pub fn parse(b: &[u8]) -> SystemTime {
        let f = |i: usize| le_u16(b, 2 * i);
        SystemTime {
            year: f(0),
            month: f(1),
            day_of_week: f(2),
            day: f(3),
            hour: f(4),
            minute: f(5),
            second: f(6),
            milliseconds: f(7),
        }
    }

    pub fn to_bytes(self) -> [u8; 16] {
        let mut out = [0u8; 16];
        let fields = [
            self.year,
            self.month,
            self.day_of_week,
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.milliseconds,
        ];
        for (i, v) in fields.iter().enumerate() {
            out[2 * i..2 * i + 2].copy_from_slice(&v.to_le_bytes());
        }
        out
    }

    /// Milliseconds since the Unix epoch, or None when the fields are not a valid date and
    /// time (an all-zero SYSTEMTIME, as written for relative recordings, among them).
    pub fn to_unix_ms(self) -> Option<i64> {
        let (y, m, d) = (
            i64::from(self.year),
            i64::from(self.month),
            i64::from(self.day),
        );
        if !(1..=9999).contains(&y)
            || !(1..=12).contains(&m)
            || d < 1
            || d > days_in_month(y, m)
            || self.hour > 23
            || self.minute > 59
            || self.second > 59
            || self.milliseconds > 999
        {
            return None;
        }
        let secs = days_from_civil(y, m, d) * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second);
        Some(secs * 1000 + i64::from(self.milliseconds))
    }

    /// Unix seconds, 0.0 for an invalid SYSTEMTIME (python-can's convention).
    pub fn to_unix(self) -> f64 {
        // Integer milliseconds divided once: the correctly rounded value, as Python's
        // datetime.timestamp() gives it.
        self.to_unix_ms().map_or(0.0, |ms| ms as f64 / 1000.0)
    }

    /// The SYSTEMTIME of a Unix timestamp rounded to milliseconds; all zero for timestamps
    /// before 1990 (relative times) and for values no SYSTEMTIME can hold.
    pub fn from_unix(ts: f64) -> SystemTime {
        if !(MIN_ABSOLUTE_TIMESTAMP..=253_402_300_799.0).contains(&ts) {
            return SystemTime::default();
        }
        let ms = (ts * 1000.0).round() as i64;
        let days = ms.div_euclid(86_400_000);
        let rem = ms.rem_euclid(86_400_000);
        let (y, m, d) = civil_from_days(days);
        SystemTime {
            year: y as u16,
            month: m as u16,
            // 1970-01-01 was a Thursday; SYSTEMTIME counts from Sunday = 0.
            day_of_week: (days + 4).rem_euclid(7) as u16,
            day: d as u16,
            hour: (rem / 3_600_000) as u16,
            minute: (rem / 60_000 % 60) as u16,
            second: (rem / 1000 % 60) as u16,
            milliseconds: (rem % 1000) as u16,
        }
    }
}

/// The fields of the file header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileHeader {
    pub header_size: u32,
    pub application: [u8; 4],
    pub binlog_version: [u8; 4],
    pub file_size: u64,
    pub uncompressed_size: u64,
    pub object_count: u32,
    pub objects_read: u32,
    pub start: SystemTime,
    pub stop: SystemTime,
}

impl Default for FileHeader {
    fn default() -> Self {
        FileHeader {
            header_size: FILE_HEADER_SIZE as u32,
            // Application id 5 and binlog version 2.6.8.1, as python-can writes them (files
            // Vector tools are known to open).
            application: [5, 0, 0, 0],
            binlog_version: [2, 6, 8, 1],
            file_size: 0,
            uncompressed_size: FILE_HEADER_SIZE as u64,
            object_count: 0,
            objects_read: 0,
            start: SystemTime::default(),
            stop: SystemTime::default(),
        }
    }
}

impl FileHeader {
    /// Parses the first [`FILE_HEADER_FIELDS_SIZE`] bytes of a file (fewer bytes or a wrong
    /// signature: [`Error::NotBlf`]).
    pub fn parse(b: &[u8]) -> Result<FileHeader> {
        if b.len() < FILE_HEADER_FIELDS_SIZE {
            if b.len() >= 4 && &b[..4] == FILE_SIGNATURE {
                return Err(Error::NotBlf(format!(
                    "the file is {} bytes long, shorter than a BLF file header ({} bytes)",
                    b.len(),
                    FILE_HEADER_FIELDS_SIZE
                )));
            }
            return Err(Error::NotBlf(format!(
                "the file is {} bytes long and does not start with {:?}",
                b.len(),
                "LOGG"
            )));
        }
        if &b[..4] != FILE_SIGNATURE {
            return Err(Error::NotBlf(format!(
                "it starts with {} instead of the signature \"LOGG\"",
                show_bytes(&b[..4])
            )));
        }
        let header_size = le_u32(b, 4);
        if (header_size as usize) < FILE_HEADER_FIELDS_SIZE {
            return Err(Error::Corrupt {
                offset: 4,
                what: format!(
                    "the file header declares its size as {header_size} bytes, less than the \
                     {FILE_HEADER_FIELDS_SIZE} bytes of its fields"
                ),
            });
        }
        let mut application = [0u8; 4];
        application.copy_from_slice(&b[8..12]);
        let mut binlog_version = [0u8; 4];
        binlog_version.copy_from_slice(&b[12..16]);
        Ok(FileHeader {
            header_size,
            application,
            binlog_version,
            file_size: le_u64(b, 16),
            uncompressed_size: le_u64(b, 24),
            object_count: le_u32(b, 32),
            objects_read: le_u32(b, 36),
            start: SystemTime::parse(&b[40..56]),
            stop: SystemTime::parse(&b[56..72]),
        })
    }

    /// The header as written: [`FILE_HEADER_SIZE`] bytes.
    pub fn to_bytes(&self) -> [u8; FILE_HEADER_SIZE] {
        let mut out = [0u8; FILE_HEADER_SIZE];
        out[..4].copy_from_slice(FILE_SIGNATURE);
        out[4..8].copy_from_slice(&(FILE_HEADER_SIZE as u32).to_le_bytes());
        out[8..12].copy_from_slice(&self.application);
        out[12..16].copy_from_slice(&self.binlog_version);
        out[16..24].copy_from_slice(&self.file_size.to_le_bytes());
        out[24..32].copy_from_slice(&self.uncompressed_size.to_le_bytes());
        out[32..36].copy_from_slice(&self.object_count.to_le_bytes());
        out[36..40].copy_from_slice(&self.objects_read.to_le_bytes());
        out[40..56].copy_from_slice(&self.start.to_bytes());
        out[56..72].copy_from_slice(&self.stop.to_bytes());
        out
    }
}

/// Bytes as a Python-style bytes literal, for error messages.
pub(crate) fn show_bytes(b: &[u8]) -> String {
    let mut s = String::from("b'");
    for &c in b {
        if c.is_ascii_graphic() && c != b'\'' && c != b'\\' || c == b' ' {
            s.push(c as char);
        } else {
            s.push_str(&format!("\\x{c:02x}"));
        }
    }
    s.push('\'');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systemtime_round_trip() {
        // 2023-11-14 22:13:20.123 UTC is Unix time 1700000000.123 (a Tuesday).
        let st = SystemTime::from_unix(1_700_000_000.123);
        assert_eq!(
            st,
            SystemTime {
                year: 2023,
                month: 11,
                day_of_week: 2,
                day: 14,
                hour: 22,
                minute: 13,
                second: 20,
                milliseconds: 123
            }
        );
        assert_eq!(st.to_unix(), 1_700_000_000.123);
        // Leap day and the end of a leap year.
        for ts in [951_782_400.0, 978_220_800.999, 1_709_164_800.5] {
            assert_eq!(SystemTime::from_unix(ts).to_unix(), ts);
        }
    }

    #[test]
    fn invalid_systemtime_is_zero() {
        assert_eq!(SystemTime::default().to_unix(), 0.0);
        let bad = SystemTime {
            year: 2023,
            month: 2,
            day: 29,
            ..SystemTime::default()
        };
        assert_eq!(bad.to_unix(), 0.0);
        assert_eq!(SystemTime::from_unix(12.5), SystemTime::default());
        assert_eq!(SystemTime::from_unix(f64::NAN), SystemTime::default());
    }

    #[test]
    fn header_round_trip_and_errors() {
        let h = FileHeader {
            object_count: 7,
            file_size: 1234,
            start: SystemTime::from_unix(1_600_000_000.0),
            ..FileHeader::default()
        };
        let bytes = h.to_bytes();
        assert_eq!(FileHeader::parse(&bytes).ok(), Some(h));
        assert!(matches!(FileHeader::parse(b"LOGG"), Err(Error::NotBlf(_))));
        let mut other = bytes;
        other[..4].copy_from_slice(b"\x89PNG");
        let err = FileHeader::parse(&other).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("not a BLF file: it starts with b'\\x89PNG' instead of the signature \"LOGG\"")
        );
    }
}
