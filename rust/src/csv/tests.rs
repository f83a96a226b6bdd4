//! The CSV codec: expected texts come from the manual's table of columns and example row,
//! RFC 4648's base64 test vectors and CPython's `repr(float)` (its output, pasted).

use super::*;
use crate::frame::CANFD_FDF;

fn read_all(text: &str, strict: bool) -> (Vec<CanFrame>, Result<()>, u64) {
    let mut r = Reader::new(text.as_bytes(), strict);
    let mut out = Vec::new();
    loop {
        match r.next_frame() {
            Ok(Some(f)) => out.push(f),
            Ok(None) => return (out, Ok(()), r.skipped()),
            Err(e) => return (out, Err(e), r.skipped()),
        }
    }
}

fn written(frames: &[CanFrame], header: bool) -> String {
    let mut w = Writer::new(Vec::new(), header);
    for f in frames {
        w.write_frame(f).unwrap();
    }
    w.flush().unwrap();
    String::from_utf8(std::mem::take(w.get_mut())).unwrap()
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

#[test]
fn the_manuals_example_row() {
    // manual 3.4.5: 1483389946.197, 0x00dadada, 1, 0, 0, dlc, WzQyLCA5XQ== (b"[42, 9]")
    let f = frame(1483389946.197, 0x00DA_DADA | CAN_EFF_FLAG, b"[42, 9]");
    assert_eq!(
        written(&[f], true),
        "timestamp,arbitration_id,extended,remote,error,dlc,data\n\
         1483389946.197,0x00dadada,1,0,0,7,WzQyLCA5XQ==\n"
    );
    let text = "timestamp,arbitration_id,extended,remote,error,dlc,data\n\
                1483389946.197,0x00dadada,1,0,0,6,WzQyLCA5XQ==\n";
    let (frames, end, _) = read_all(text, true);
    end.unwrap();
    assert_eq!(frames.len(), 1);
    let g = frames[0];
    assert_eq!(g.timestamp, 1483389946.197);
    assert_eq!(g.can_id, 0x00DA_DADA | CAN_EFF_FLAG);
    assert_eq!((g.dlc, g.payload()), (6, &b"[42, 9]"[..]));
    assert!(g.is_rx && g.channel == 0 && g.flags == 0);
}

#[test]
fn flags_ids_and_dlc_columns() {
    let mut remote = frame(1.0, 0x12 | CAN_RTR_FLAG, b"");
    remote.dlc = 3;
    let frames = [
        frame(0.5, 0x7FF, b""),
        remote,
        frame(2.0, 0x4 | CAN_EFF_FLAG | CAN_ERR_FLAG, &[0, 0x10]),
        frame(3.0, 0x1234, &[1]), // a standard id too large for 3 digits keeps its digits
    ];
    let text = written(&frames, false);
    assert_eq!(
        text,
        "0.5,0x7ff,0,0,0,0,\n\
         1.0,0x012,0,1,0,3,\n\
         2.0,0x00000004,1,0,1,2,ABA=\n\
         3.0,0x1234,0,0,0,1,AQ==\n"
    );
    let (back, end, _) = read_all(&format!("header\n{text}"), true);
    end.unwrap();
    assert_eq!(back, frames);
}

#[test]
fn fd_frames_keep_length_and_data_but_not_their_flags() {
    let mut f = frame(1.0, 1 | CAN_EFF_FLAG, &[7; 64]);
    f.flags = CANFD_FDF | crate::frame::CANFD_BRS;
    f.is_rx = false;
    f.channel = 3;
    let (back, end, _) = read_all(&written(&[f], true), true);
    end.unwrap();
    assert_eq!(
        (back[0].flags, back[0].is_rx, back[0].channel),
        (0, true, 0)
    );
    assert_eq!((back[0].dlc, back[0].payload()), (64, &[7u8; 64][..]));
}

#[test]
fn rfc4648_base64_vectors() {
    for (plain, b64) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        let mut out = [0u8; 16];
        let n = encode_base64(plain.as_bytes(), &mut out);
        assert_eq!(&out[..n], b64.as_bytes());
        let mut back = [0u8; 64];
        let n = decode_base64(b64.as_bytes(), &mut back).unwrap();
        assert_eq!(&back[..n], plain.as_bytes());
    }
    // every byte value, and 64 bytes (the longest payload)
    let all: Vec<u8> = (0..=255u8).collect();
    for chunk in all.chunks(64) {
        let mut enc = [0u8; 88];
        let n = encode_base64(chunk, &mut enc);
        let mut dec = [0u8; 64];
        assert_eq!(decode_base64(&enc[..n], &mut dec).unwrap(), 64);
        assert_eq!(&dec[..], chunk);
    }
    // bits past the last byte are ignored, as binascii.a2b_base64 does: "AB==" is b"\x00"
    let mut dec = [0u8; 64];
    assert_eq!(decode_base64(b"AB==", &mut dec), Ok(1));
    assert_eq!(dec[0], 0);
}

#[test]
fn bad_base64_is_refused() {
    let mut out = [0u8; 64];
    for bad in [
        &b"A"[..],
        b"AQ",
        b"AQ=",
        b"A===",
        b"====",
        b"AQ==AQ==",
        b"A!==",
        b"AQ=x",
        b"Zm9v!mFy",
    ] {
        assert!(
            decode_base64(bad, &mut out).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    // 65 bytes do not fit a frame
    let mut enc = [0u8; 92];
    let n = encode_base64(&[1; 65], &mut enc);
    assert!(decode_base64(&enc[..n], &mut out).is_err());
}

#[test]
fn timestamps_are_written_as_python_repr_writes_them() {
    // CPython 3.11: [repr(v) for v in ...]
    for (v, text) in [
        (0.0_f64, "0.0"),
        (-0.0_f64, "-0.0"),
        (1.0_f64, "1.0"),
        (0.5_f64, "0.5"),
        (1483389946.197_f64, "1483389946.197"),
        (1700000000.1234567_f64, "1700000000.1234567"),
        (0.1_f64, "0.1"),
        (1e-07_f64, "1e-07"),
        (2500000000.3333335_f64, "2500000000.3333335"),
        (1e+16_f64, "1e+16"),
        (9999999999999998.0_f64, "9999999999999998.0"),
        (1000000000000000.0_f64, "1000000000000000.0"),
        (123456789012345.6_f64, "123456789012345.6"),
        (0.0001_f64, "0.0001"),
        (0.00012345_f64, "0.00012345"),
        (1e-05_f64, "1e-05"),
        (1.5e+300_f64, "1.5e+300"),
        (5e-324_f64, "5e-324"),
        (1.7976931348623157e+308_f64, "1.7976931348623157e+308"),
        (-2.5_f64, "-2.5"),
        (100.0_f64, "100.0"),
        (1e+22_f64, "1e+22"),
        (1234567.0_f64, "1234567.0"),
        // an exact tie between two shortest texts: the even last digit
        (671_155_447_070_589.0_f64 + 0.25, "671155447070589.2"),
        (f64::INFINITY, "inf"),
        (f64::NEG_INFINITY, "-inf"),
        (f64::NAN, "nan"),
    ] {
        let mut out = Vec::new();
        push_py_float(&mut out, v);
        assert_eq!(String::from_utf8(out).unwrap(), text);
        if v.is_finite() {
            assert_eq!(
                parse_timestamp(text.as_bytes()).unwrap().to_bits(),
                v.to_bits()
            );
        }
    }
}

#[test]
fn reading_is_lenient_about_white_space_line_ends_and_blank_lines() {
    let text = "timestamp,arbitration_id,extended,remote,error,dlc,data\r\n\
                \r\n\
                 1.5 , 7ff ,0, 1 ,0, 8 , \r\n\
                2.0,0X1,1,0,0,1, AQ== \r\
                \t \n\
                3.0,0x0000000001,0,0,0,0,";
    let (frames, end, _) = read_all(text, true);
    end.unwrap();
    let got: Vec<_> = frames
        .iter()
        .map(|f| (f.timestamp, f.can_id, f.dlc, f.payload().to_vec()))
        .collect();
    assert_eq!(
        got,
        [
            (1.5, 0x7FF | CAN_RTR_FLAG, 8, vec![]),
            (2.0, 1 | CAN_EFF_FLAG, 1, vec![1]),
            (3.0, 1, 0, vec![]),
        ]
    );
}

#[test]
fn the_first_line_is_the_header_whatever_it_holds() {
    let (frames, end, _) = read_all("1.0,0x001,0,0,0,0,\n2.0,0x002,0,0,0,0,\n", true);
    end.unwrap();
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].can_id, 2);
    let (frames, end, _) = read_all("", true);
    end.unwrap();
    assert!(frames.is_empty());
    let (frames, end, _) = read_all("\u{feff}timestamp,x\n", true);
    end.unwrap();
    assert!(frames.is_empty());
}

#[test]
fn malformed_lines_name_their_line_and_what_is_wrong() {
    for (line, what) in [
        ("1.0,0x001,0,0,0,1", "expected 7 comma separated fields"),
        ("1.0,0x001,0,0,0,1,AQ==,x", "got 8"),
        ("x,0x001,0,0,0,1,AQ==", "timestamp column is not a number"),
        ("1.0,0xZZ,0,0,0,1,AQ==", "not a hexadecimal number"),
        ("1.0,,0,0,0,1,AQ==", "not a hexadecimal number"),
        ("1.0,0x,0,0,0,1,AQ==", "not a hexadecimal number"),
        ("1.0,0x20000000,1,0,0,1,AQ==", "larger than 0x1fffffff"),
        ("1.0,0x001,2,0,0,1,AQ==", "extended column must be 0 or 1"),
        ("1.0,0x001,0,true,0,1,AQ==", "remote column must be 0 or 1"),
        ("1.0,0x001,0,0,,1,AQ==", "error column must be 0 or 1"),
        ("1.0,0x001,0,0,0,256,AQ==", "dlc column"),
        ("1.0,0x001,0,0,0,-1,AQ==", "dlc column"),
        ("1.0,0x001,0,0,0,1,A", "not base64"),
        ("1.0,0x001,0,0,0,1,A*==", "not base64"),
    ] {
        let text = format!("h\n1.0,0x001,0,0,0,0,\n{line}\n2.0,0x002,0,0,0,0,\n");
        let (frames, end, _) = read_all(&text, true);
        assert_eq!(frames.len(), 1, "{line}");
        let e = end.unwrap_err();
        assert_eq!(e.line(), Some(3), "{line}");
        assert!(e.to_string().contains(what), "{line}: {e}");
        let err = crate::Error::text(e, crate::log::Format::Csv).in_file("bad.csv");
        assert!(err.to_string().starts_with("bad.csv: line 3: "), "{err}");
        let (frames, end, skipped) = read_all(&text, false);
        end.unwrap();
        assert_eq!((frames.len(), skipped), (2, 1), "{line}");
    }
}

#[test]
fn a_cut_last_line_ends_the_file_with_a_truncation() {
    let full = written(&[frame(1.0, 1, &[1; 8]), frame(2.0, 2, &[2; 8])], true);
    let cut = &full[..full.len() - 4];
    for strict in [true, false] {
        let mut r = Reader::new(cut.as_bytes(), strict);
        let mut n = 0;
        while let Some(f) = r.next_frame().unwrap() {
            assert_eq!(f.can_id, 1);
            n += 1;
        }
        assert_eq!(n, 1);
        let cut_at = r.truncation().unwrap();
        assert!(cut_at.contains("inside line 3"), "{cut_at}");
    }
}

#[test]
fn a_line_too_long_is_a_line_error() {
    let text = format!("h\n{}\n1.0,0x001,0,0,0,0,\n", "9".repeat(200));
    let mut r = Reader::with_max_line_len(text.as_bytes(), false, 100);
    assert_eq!(r.next_frame().unwrap().map(|f| f.can_id), Some(1));
    assert_eq!(r.skipped(), 1);
}

#[test]
fn as_a_frame_writer_and_reader() {
    use crate::log::{Event, FrameReader, FrameWriter};
    let frames = [
        frame(1.25, 0x123, &[1, 2, 3]),
        frame(1.5, 0x1ABCDE | CAN_EFF_FLAG, &[]),
    ];
    let mut w = Writer::new(Vec::new(), true);
    for f in &frames {
        assert!(FrameWriter::write_frame(&mut w, f, Some(b"can7")).unwrap());
    }
    assert!(FrameWriter::finish(&mut w).unwrap());
    let text = std::mem::take(w.get_mut());
    let mut r = Reader::new(&text[..], true);
    let mut back = Vec::new();
    while let Some(Event::Frame(f)) = r.next_event().unwrap() {
        back.push(f);
    }
    assert_eq!(back, frames);
    assert_eq!(r.summary().skipped_lines, 0);
}
