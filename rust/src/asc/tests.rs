//! Reader and writer tests on lines taken from Vector- and can-utils-written files.

use super::*;
use crate::frame::{
    CanFrame, CANFD_BRS, CANFD_ESI, CANFD_FDF, CAN_EFF_FLAG, CAN_ERR_FLAG, CAN_RTR_FLAG,
};

fn read(text: &str, options: ReaderOptions) -> (Vec<CanFrame>, Result<()>, Vec<String>, u64) {
    let mut r = Reader::new(text.as_bytes(), options, Box::new(Utc));
    let mut out = Vec::new();
    let res = loop {
        match r.next_frame() {
            Ok(Some(f)) => out.push(f),
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    let skipped = r.skipped();
    (out, res, r.take_warnings(), skipped)
}

fn read_ok(text: &str) -> Vec<CanFrame> {
    let (frames, res, _, _) = read(text, ReaderOptions::default());
    if let Err(e) = res {
        panic!("{e}");
    }
    frames
}

const HEADER: &str = "date Sam Sep 30 15:06:13.191 2017\n\
                      base hex  timestamps absolute\n\
                      internal events logged\n\
                      // version 9.0.0\n\
                      Begin Triggerblock Sam Sep 30 15:06:13.191 2017\n   \
                      0.000000 Start of measurement\n";

#[test]
fn classic_frames_and_other_events() {
    let text = format!(
        "{HEADER}   0.015991 CAN 1 Status:chip status error passive - TxErr: 132 RxErr: 0\n   \
         1.015991 1  Statistic: D 0 R 0 XD 0 XR 0 E 0 O 0 B 0.00%\n   \
         2.501000 1 ErrorFrame\n   \
         2.501020 2 ErrorFrame Flags = 0xe CodeExt = 0x20a2 Code = 0x82 ID = 0 DLC = 0\n   \
         2.510001 2 100 Tx r\n   \
         2.584921 4 300 Rx r 8 Length = 1704000 BitCount = 145 ID = 88888888x\n   \
         3.098426 1  18EBFF00x       Rx d 8 01 A0 0F A6 60 3B D1 40    Length = 273910 BitCount = 141\n   \
         3.297743 1  J1939TP FEE3p        6    0  0   -   Rx   d 23 A0 0F A6 60\n  \
         17.876708 1  6F9             Rx   d 8 05 0C 00 00 00 00 00 00  Length = 240015\n     \
         2.5010 2   C8             Tx   d 8 09 08 07 06 05 04 03 02\n   \
         4.000000 1  123 TxRq d 1 00\n\
         End TriggerBlock\n"
    );
    let f = read_ok(&text);
    assert_eq!(f.len(), 7);
    assert_eq!((f[0].timestamp, f[0].channel), (2.501, 0));
    assert_eq!(f[0].can_id, CAN_ERR_FLAG | CAN_EFF_FLAG);
    assert!(f[0].is_rx);
    assert_eq!((f[1].timestamp, f[1].channel), (2.50102, 1));
    assert!(f[1].is_error());
    assert_eq!(f[2].can_id, 0x100 | CAN_RTR_FLAG);
    assert_eq!(
        (f[2].dlc, f[2].len, f[2].channel, f[2].is_rx),
        (0, 0, 1, false)
    );
    assert_eq!(
        (f[3].can_id, f[3].dlc, f[3].channel),
        (0x300 | CAN_RTR_FLAG, 8, 3)
    );
    assert_eq!(f[4].can_id, 0x18EB_FF00 | CAN_EFF_FLAG);
    assert_eq!(
        f[4].payload(),
        &[0x01, 0xA0, 0x0F, 0xA6, 0x60, 0x3B, 0xD1, 0x40]
    );
    assert_eq!((f[4].dlc, f[4].timestamp, f[4].is_rx), (8, 3.098426, true));
    assert_eq!((f[5].can_id, f[5].timestamp), (0x6F9, 17.876708));
    assert_eq!(
        (f[6].can_id, f[6].timestamp, f[6].is_rx),
        (0xC8, 2.501, false)
    );
    assert!(f.iter().all(|f| !f.is_fd()));
}

#[test]
fn canfd_lines() {
    let text = format!(
        "{HEADER}  30.005021 CANFD   1 Rx        300                                   1 0 8  8 11 c2 03 04 05 06 07 08   102203  133   303000 e0006659 46500250 4b140250 20011736 2001040d\n  \
         30.005041 CANFD   2 Tx        1C4D80A7x                                   0 1 8  8 12 c2 03 04 05 06 07 08   102203  133   303000 e0006659 46500250 4b140250 20011736 2001040d\n  \
         30.005071 CANFD   3 Rx        30a  Generic_Name_12                  1 1 8  8 01 02 03 04 05 06 07 08   102203  133   303000 e0006659 46500250 4b140250 20011736 2001040d\n  \
         30.300981 CANFD   3 Tx     50005x                                0 0 5 0 140000 73 200050 7a60 46500250 460a0250 20011736 20010205\n  \
         30.806898 CANFD   5 Tx ErrorFrame Not Acknowledge error, dominant error flag fffe c7 31ca Arb. 556 44 0 0 f 64 00\n   \
         0.066082 CANFD   2 Rx        456                                   0 0 0  0   130000  130     1000 0 0 0 0 0\n   \
         0.082193 CANFD   2 Rx        7AB                                   0 1 9 12 FF EE DD CC BB AA 99 88 77 66 00 00   130000  130     5000 0 0 0 0 0\n"
    );
    let f = read_ok(&text);
    assert_eq!(f.len(), 7);
    assert_eq!((f[0].can_id, f[0].channel, f[0].dlc), (0x300, 0, 8));
    assert_eq!(f[0].flags, CANFD_FDF | CANFD_BRS);
    assert_eq!(f[0].payload(), &[0x11, 0xC2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(f[1].can_id, 0x1C4D_80A7 | CAN_EFF_FLAG);
    assert_eq!((f[1].flags, f[1].is_rx), (CANFD_FDF | CANFD_ESI, false));
    assert_eq!((f[2].can_id, f[2].channel), (0x30A, 2));
    assert_eq!(f[2].flags, CANFD_FDF | CANFD_BRS | CANFD_ESI);
    // Flags 0x200050: RTR without FDF, a classic remote frame in the CANFD layout.
    assert_eq!(f[3].can_id, 0x50005 | CAN_EFF_FLAG | CAN_RTR_FLAG);
    assert_eq!((f[3].flags, f[3].dlc, f[3].len), (0, 5, 0));
    assert!(f[4].is_error() && f[4].is_fd() && !f[4].is_rx && f[4].channel == 4);
    // Zero-length CAN FD data frame (can-utils log2asc).
    assert!(!f[5].is_remote() && f[5].is_fd() && f[5].len == 0);
    assert_eq!((f[6].len, f[6].dlc), (12, 12));
    assert_eq!(f[6].flags, CANFD_FDF | CANFD_ESI);
    // RTR with FDF (not valid CAN FD, but written so by us for such a frame read from BLF).
    let f = read_ok(" 1.0 CANFD 1 Rx 123 1 0 f 0 0 0 3010 0 0 0 0 0\n");
    assert!(f[0].is_remote() && f[0].is_fd());
    assert_eq!(
        (f[0].dlc, f[0].len, f[0].flags),
        (64, 0, CANFD_FDF | CANFD_BRS)
    );
    let mut back = Writer::new(Vec::new(), Box::new(Utc));
    assert!(back.write_frame(&f[0]).is_ok() && back.finish().is_ok());
    let text = String::from_utf8_lossy(back.get_mut()).into_owned();
    let mut want = f;
    want[0].timestamp = 0.0; // the writer counts from the first frame
    assert_eq!(read_ok(&text), want);
}

#[test]
fn files_without_header_blocks_still_yield_frames() {
    // log2asc output: no "internal events logged", no Begin Triggerblock, ctime date.
    let text = "date Thu Nov 26 17:45:48 2026\nbase hex  timestamps absolute\n\
                no internal events logged\n   0.000000 1  123             Rx   d 4 DE AD BE EF\n";
    let f = read_ok(text);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].timestamp, 0.0);
    // Only event lines.
    let f = read_ok("0.5 1 7FF Rx d 0\n");
    assert_eq!((f[0].timestamp, f[0].can_id, f[0].len), (0.5, 0x7FF, 0));
}

#[test]
fn absolute_timestamps_from_the_date() {
    let opts = ReaderOptions {
        relative_timestamp: false,
        ..ReaderOptions::default()
    };
    let start = Utc
        .unix_of_local(&Civil {
            year: 2017,
            month: 9,
            day: 30,
            hour: 15,
            minute: 6,
            second: 13,
            micros: 191_000,
        })
        .unwrap_or(0.0);
    let text = format!("{HEADER}   2.501000 1 ErrorFrame\n");
    let (f, res, warnings, _) = read(&text, opts);
    assert!(res.is_ok() && warnings.is_empty());
    assert_eq!(f[0].timestamp, 2.501 + start);
    // The Begin Triggerblock date wins over the date line (12-hour clock here).
    let text = "date Sam Sep 30 15:06:13.191 2017\n\
                Begin Triggerblock Sat Sep 30 10:06:13.191 PM 2017\n 1.0 1 1 Rx d 0\n";
    let (f, _, _, _) = read(text, opts);
    assert_eq!(f[0].timestamp, 1.0 + start + 7.0 * 3600.0);
    // An unknown layout: a warning, timestamps stay relative, no frame is lost.
    let text = "date 2017-09-30T15:06:13\n 1.0 1 1 Rx d 0\n 2.0 1 2 Rx d 0\n";
    let (f, res, warnings, _) = read(text, opts);
    assert!(res.is_ok());
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("2017-09-30T15:06:13"));
    assert_eq!(f.len(), 2);
    assert_eq!(f[0].timestamp, 1.0);
}

#[test]
fn relative_timestamps_mode_accumulates() {
    let text =
        "base hex  timestamps relative\n 1.0 1 1 Rx d 0\n 0.5 1 Statistic: x\n 0.25 1 2 Rx d 0\n";
    let f = read_ok(text);
    assert_eq!(f[0].timestamp, 1.0);
    assert_eq!(f[1].timestamp, 1.75);
}

#[test]
fn decimal_base() {
    let text = "base dec  timestamps absolute\n 1.0 1 291 Rx d 2 255 16\n 1.0 1 4096x Rx d 0\n";
    let f = read_ok(text);
    assert_eq!(f[0].can_id, 0x123);
    assert_eq!(f[0].payload(), &[255, 16]);
    assert_eq!(f[1].can_id, 4096 | CAN_EFF_FLAG);
}

#[test]
fn malformed_lines() {
    for bad in [
        " 1.0 1 123 Rx d 8 01 02\n",
        " 1.0 1 123 Rx d 2 01 GG\n",
        " 1.0 1 20000000 Rx d 0\n",
        " 1.0 1 20000000x Rx d 0\n",
        " 1.0 1 123 Rx q 0\n",
        " 1.0 1 123 Rx d\n",
        " 1.0 1 ZZZ Rx d 0\n",
        " 1.0.0 1 123 Rx d 0\n",
        " 1.0 CANFD 1 Rx 123 1 0 8 8 01 02\n",
        " 1.0 CANFD 1 Rx 123 1 0 8 65\n",
        " 1.0 CANFD 1 Rx 123 2 0 8 0\n",
        " 1.0 CANFD x Rx 123 1 0 8 0\n",
        " 1.0 CANFD 1 Qx 123 1 0 8 0\n",
        "base oct\n",
        " 1.0 99999999999 123 Rx d 0\n",
    ] {
        let text = format!(" 0.5 1 1 Rx d 0\n{bad} 2.0 1 2 Rx d 0\n");
        let (f, res, _, _) = read(&text, ReaderOptions::default());
        assert_eq!(f.len(), 1, "{bad}");
        match res {
            Err(Error::Malformed { line: 2, .. }) => {}
            other => panic!("{bad}: {other:?}"),
        }
        let lenient = ReaderOptions {
            strict: false,
            ..ReaderOptions::default()
        };
        let (f, res, _, skipped) = read(&text, lenient);
        assert!(res.is_ok(), "{bad}");
        assert_eq!((f.len(), skipped), (2, 1), "{bad}");
    }
}

#[test]
fn too_long_line_is_a_line_error() {
    let opts = ReaderOptions {
        max_line_len: 64,
        ..ReaderOptions::default()
    };
    let text = format!(" 1.0 1 1 Rx d 0\n// {}\n 2.0 1 2 Rx d 0\n", "x".repeat(100));
    let (f, res, _, _) = read(&text, opts);
    assert_eq!(f.len(), 1);
    assert!(matches!(res, Err(Error::LineTooLong { line: 2, max: 64 })));
    let (f, res, _, skipped) = read(
        &text,
        ReaderOptions {
            strict: false,
            ..opts
        },
    );
    assert!(res.is_ok());
    assert_eq!((f.len(), skipped), (2, 1));
    // A file of nothing but a line too long (a binary blob without newlines) is not ASC, in
    // lenient mode too.
    let (f, res, _, _) = read(
        &"x".repeat(100),
        ReaderOptions {
            strict: false,
            ..opts
        },
    );
    assert!(
        f.is_empty() && matches!(res, Err(Error::NotThisFormat(_))),
        "{res:?}"
    );
}

fn frame(ts: f64, can_id: u32, data: &[u8]) -> CanFrame {
    let mut f = CanFrame {
        timestamp: ts,
        can_id,
        ..CanFrame::default()
    };
    f.set_payload(data);
    f
}

fn write(frames: &[CanFrame]) -> String {
    let mut w = Writer::new(Vec::new(), Box::new(Utc));
    for f in frames {
        if let Err(e) = w.write_frame(f) {
            panic!("{e}");
        }
    }
    if let Err(e) = w.finish() {
        panic!("{e}");
    }
    String::from_utf8_lossy(w.get_mut()).into_owned()
}

#[test]
fn writer_layout() {
    let t0 = 1_506_783_973.191;
    let mut fd = frame(t0 + 1.5, 0x1C4D_80A7 | CAN_EFF_FLAG, &[0x11, 0x22, 0x33]);
    fd.flags = CANFD_FDF | CANFD_BRS;
    fd.is_rx = false;
    fd.channel = 1;
    let mut remote = frame(t0 + 2.0, 0x100 | CAN_RTR_FLAG, &[]);
    remote.dlc = 3;
    let error = frame(t0 + 2.5, CAN_ERR_FLAG | CAN_EFF_FLAG, &[]);
    let text = write(&[
        frame(t0, 0x123, &[0xDE, 0xAD, 0xBE, 0xEF]),
        fd,
        remote,
        error,
        frame(t0 + 1.0, 0x7FF, &[]), // earlier than the previous: gets its time
    ]);
    let expected = "date Sat Sep 30 15:06:13.191 2017\n\
                    base hex  timestamps absolute\n\
                    internal events logged\n\
                    // version 9.0.0\n\
                    Begin Triggerblock Sat Sep 30 15:06:13.191 2017\n   \
                    0.000000 Start of measurement\n   \
                    0.000000 1  123             Rx   d 4 DE AD BE EF\n   \
                    1.500000 CANFD   2 Tx   1C4D80A7x                                   1 0 3  3 11 22 33        0    0     3000        0        0        0        0        0\n   \
                    2.000000 1  100             Rx   r 3\n   \
                    2.500000 1  ErrorFrame\n   \
                    2.500000 1  7FF             Rx   d 0\n\
                    End TriggerBlock\n";
    assert_eq!(text, expected);
}

#[test]
fn written_files_read_back() {
    let mut frames = Vec::new();
    for i in 0..200u32 {
        let t = 1000.0 + f64::from(i) * 0.001_25;
        let n = (i % 9) as usize;
        let data: Vec<u8> = (0..n as u8)
            .map(|b| b.wrapping_mul(37).wrapping_add(i as u8))
            .collect();
        let mut f = frame(t, i * 7 % 0x800, &data);
        if i % 3 == 0 {
            f.can_id = (i * 0x10001) | CAN_EFF_FLAG;
        }
        if i % 5 == 0 {
            f.flags = CANFD_FDF | if i % 2 == 0 { CANFD_BRS } else { CANFD_ESI };
            let len = [0usize, 5, 8, 12, 16, 20, 24, 32, 48, 64][(i / 5 % 10) as usize];
            let data: Vec<u8> = (0..len).map(|b| b as u8 ^ i as u8).collect();
            f.set_payload(&data);
        }
        f.channel = (i % 4) as i32;
        f.is_rx = i % 7 != 0;
        frames.push(f);
    }
    let text = write(&frames);
    let back = read_ok(&text);
    assert_eq!(back.len(), frames.len());
    for (a, b) in frames.iter().zip(&back) {
        let mut a = *a;
        a.timestamp = (a.timestamp - 1000.0) * 1e6;
        let mut b = *b;
        b.timestamp *= 1e6;
        assert!((a.timestamp - b.timestamp).abs() < 0.5, "{a:?} {b:?}");
        b.timestamp = a.timestamp;
        assert_eq!(a, b);
    }
}

#[test]
fn log_event_and_empty_file() {
    let mut w = Writer::new(Vec::new(), Box::new(Utc));
    assert!(w.log_event("hello\nworld", Some(10.0)).is_ok());
    assert!(w.log_event("", Some(11.0)).is_ok());
    assert!(w.log_event("later", None).is_ok());
    assert!(w.finish().is_ok());
    let text = String::from_utf8_lossy(w.get_mut()).into_owned();
    assert!(text.contains("\n   0.000000 hello world\n   0.000000 later\nEnd TriggerBlock\n"));
    assert!(text.starts_with("date Thu Jan 01 00:00:10.000 1970\n"));
    let mut w = Writer::new(Vec::new(), Box::new(Utc));
    assert!(w.finish().is_ok());
    let text = String::from_utf8_lossy(w.get_mut()).into_owned();
    assert!(
        text.ends_with("Start of measurement\nEnd TriggerBlock\n"),
        "{text}"
    );
    assert!(read_ok(&text).is_empty());
}

#[test]
fn long_event_texts_and_many_lines() {
    let mut w = Writer::new(Vec::new(), Box::new(Utc));
    let long = "y".repeat(5000) + "\nz";
    assert!(w.log_event(&long, Some(1.0)).is_ok());
    let mut f = frame(1.0, 0x123, &[1, 2, 3]);
    for i in 0..20_000 {
        f.timestamp = 1.0 + f64::from(i) * 0.001;
        assert!(w.write_frame(&f).is_ok());
    }
    assert!(w.finish().is_ok());
    let text = String::from_utf8_lossy(w.get_mut()).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[6], format!("   0.000000 {} z", "y".repeat(5000)));
    assert_eq!(lines.len(), 6 + 1 + 20_000 + 1);
    assert_eq!(
        lines[6 + 20_000],
        "  19.999000 1  123             Rx   d 3 01 02 03"
    );
    assert_eq!(read_ok(&text).len(), 20_000);
}

#[test]
fn canfd_lines_of_real_files_give_no_flags_warning() {
    // Flags 0 on 64-byte CAN FD frames (python-can's CANoe sample files), BRS/ESI bits that
    // differ from the BRS/ESI fields (logfile.asc): the explicit fields are read, silently.
    let data64 = format!("01 02 03 04{} 64", " 00".repeat(59));
    let text = format!(
        "  30.506898 CANFD   4 Rx  4EE  1 0 f 64 {data64} 1331984 11 0 46500250 460a0250\n  \
         30.005041 CANFD   2 Tx  1C4D80A7x  0 1 8  8 12 c2 03 04 05 06 07 08   102203  133   303000 e0006659\n"
    );
    let (f, res, warnings, _) = read(&text, ReaderOptions::default());
    assert!(res.is_ok() && warnings.is_empty(), "{res:?} {warnings:?}");
    assert_eq!((f[0].len, f[0].flags), (64, CANFD_FDF | CANFD_BRS));
    assert_eq!(f[1].flags, CANFD_FDF | CANFD_ESI);
}

#[test]
fn canfd_flags_that_contradict_the_explicit_fields_lose_to_them_with_one_warning() {
    let text = "   1.0 CANFD 1 Rx 123 0 0 8 8 11 22 33 44 55 66 77 88 130000 130 10 0 0 0 0 0\n   \
                2.0 CANFD 1 Rx 124 1 0 8 8 11 22 33 44 55 66 77 88 130000 130 1\n   \
                3.0 CANFD 1 Rx 125 0 0 9 12 01 02 03 04 05 06 07 08 09 0a 0b 0c 130000 130 100\n   \
                4.0 CANFD 1 Rx 126 0 1 3 3 01 02 03 130000 130 zz\n   \
                5.0 CANFD 1 Rx 127 0 0 3 3 01 02 03 130000 130 0\n   \
                6.0 CANFD 1 Rx 128 0 0 8 0 130000 130 10\n";
    let (f, res, warnings, _) = read(text, ReaderOptions::default());
    assert!(res.is_ok(), "{res:?}");
    assert_eq!(f.len(), 6);
    // Line 1: the RTR bit, but 8 data bytes (and nothing else says FD): a classic data frame
    // with every byte.
    assert!(!f[0].is_remote() && !f[0].is_fd());
    assert_eq!(
        f[0].payload(),
        &[0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]
    );
    // Line 2: flags "1" (cut from 3000?) without FDF, but BRS 1: CAN FD with BRS.
    assert_eq!((f[1].flags, f[1].len), (CANFD_FDF | CANFD_BRS, 8));
    // Line 3: no FDF, but 12 bytes.
    assert_eq!((f[2].flags, f[2].len, f[2].dlc), (CANFD_FDF, 12, 12));
    // Line 4: flags not a hex number: the explicit fields, CAN FD.
    assert_eq!(
        (f[3].flags, f[3].payload()),
        (CANFD_FDF | CANFD_ESI, &[1u8, 2, 3][..])
    );
    // Lines 5 and 6 agree with their flags: classic data and classic remote frames.
    assert!(!f[4].is_fd() && f[4].payload() == [1, 2, 3]);
    assert!(f[5].is_remote() && !f[5].is_fd() && f[5].dlc == 8);
    // One warning for the file, naming the first such line.
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].starts_with("line 1: the Flags field 10 of a CANFD line"));
    assert!(warnings[0].contains("the RTR bit, but 8 data bytes"));
}

#[test]
fn files_without_any_asc_line_are_an_error() {
    let lenient = ReaderOptions {
        strict: false,
        ..ReaderOptions::default()
    };
    for text in [
        "(1.000000) can0 123#0102\n(2.000000) can0 124#05\n",
        "hello world\nthis is not asc\n",
        "// a comment only\n",
        "LOGG\u{0}\u{0}binary",
    ] {
        for options in [ReaderOptions::default(), lenient] {
            let (f, res, _, _) = read(text, options);
            assert!(f.is_empty());
            match res {
                Err(Error::NotThisFormat(what)) => {
                    assert!(what.starts_with("not an ASC file: none of its"), "{what}")
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }
    // UTF-16 with a byte order mark: refused at once, whatever follows.
    for bom in [&b"\xFF\xFE"[..], b"\xFE\xFF"] {
        let mut bytes = bom.to_vec();
        for c in "base hex\n 1.0 1 123 Rx d 0\n".bytes() {
            bytes.extend(if bom[0] == 0xFF { [c, 0] } else { [0, c] });
        }
        let mut r = Reader::new(&bytes[..], ReaderOptions::default(), Box::new(Utc));
        match r.next_frame() {
            Err(Error::NotThisFormat(what)) => assert!(what.contains("UTF-16"), "{what}"),
            other => panic!("{other:?}"),
        }
    }
    // No content: no frames, no error (python-can reads an empty file as no messages).
    for text in ["", "\n\n  \t\n", "\u{feff}"] {
        let (f, res, _, _) = read(text, ReaderOptions::default());
        assert!(f.is_empty() && res.is_ok(), "{text:?}");
    }
    // A header alone, or one event line among foreign ones, is ASC.
    for text in [
        "date Mon Jan 1 00:00:00 2024\n",
        "junk\n 1.0 Start of measurement\n",
    ] {
        let (f, res, _, _) = read(text, ReaderOptions::default());
        assert!(f.is_empty() && res.is_ok(), "{text:?}");
    }
    for text in [
        "internal events logged\n",
        "no internal events logged\n",
        "End TriggerBlock\n",
    ] {
        assert!(read(text, ReaderOptions::default()).1.is_ok(), "{text:?}");
    }
}

#[test]
fn cr_only_line_endings_read_as_lf() {
    // Python's text files (python-can's reader) end a line at a lone "\r" too.
    let lf =
        format!("{HEADER}   1.5 1 123 Rx d 2 01 02\n   2.0 1 124 Rx d 1 05\nEnd TriggerBlock\n");
    let cr = lf.replace('\n', "\r");
    let frames = read_ok(&cr);
    assert_eq!(frames.len(), 2);
    assert_eq!(frames, read_ok(&lf));
    assert_eq!(frames[1].payload(), &[5]);
}
