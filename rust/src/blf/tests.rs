//! Round trips, hand-built objects (the layouts in reader.rs), truncation and corruption.

use std::io::Cursor;

use super::*;
use crate::frame::{
    CanFrame, CANFD_BRS, CANFD_ESI, CANFD_FDF, CAN_EFF_FLAG, CAN_ERR_FLAG, CAN_RTR_FLAG,
};

const T0: f64 = 1_700_000_000.0;

fn frame(i: u32) -> CanFrame {
    let mut f = CanFrame {
        timestamp: T0 + f64::from(i) * 0.001_5,
        can_id: (i * 7919) & 0x7FF,
        channel: (i % 3) as i32,
        is_rx: i % 5 != 0,
        ..CanFrame::default()
    };
    match i % 4 {
        0 => f.set_payload(&[i as u8; 8][..(i % 9) as usize]),
        1 => {
            f.can_id = ((i * 104_729) & 0x1FFF_FFFF) | CAN_EFF_FLAG;
            f.set_payload(&[0xA5, i as u8]);
        }
        2 => {
            f.flags = CANFD_FDF | if i % 8 == 2 { CANFD_BRS } else { CANFD_ESI };
            let data: Vec<u8> = (0..64).map(|k| (k as u32 * i) as u8).collect();
            f.set_payload(&data[..[12, 64, 20, 0][(i / 4 % 4) as usize]]);
        }
        _ => {
            f.can_id |= CAN_RTR_FLAG;
            f.dlc = 5;
        }
    }
    f
}

fn write(frames: &[CanFrame], level: i32, container: usize) -> Vec<u8> {
    // Compressing on the caller's thread and on a worker thread must give the same file.
    let mut files = Vec::new();
    for threaded in [false, true] {
        let mut w = Writer::new(Cursor::new(Vec::new()), level, container).expect("writer");
        w.set_threaded(threaded);
        for f in frames {
            w.write_frame(f).expect("write");
        }
        assert!(w.finish().expect("finish"));
        files.push(w.get_mut().get_ref().clone());
    }
    assert!(files[0] == files[1]);
    files.swap_remove(0)
}

fn read_all(bytes: &[u8]) -> (Vec<Record>, Option<Truncation>) {
    // Both modes must agree: inflating on the reader's thread and on a worker thread.
    let mut results = Vec::new();
    for threaded in [false, true] {
        let mut r = Reader::new(Cursor::new(bytes)).expect("header");
        r.set_threaded(threaded);
        let mut out = Vec::new();
        while let Some(rec) = r.next_record().expect("record") {
            out.push(rec);
        }
        results.push((out, r.truncation().cloned()));
    }
    let second = results.pop().expect("two runs");
    let first = results.pop().expect("two runs");
    assert_eq!(first, second);
    first
}

fn frames_of(recs: &[Record]) -> Vec<CanFrame> {
    recs.iter()
        .filter_map(|r| match r {
            Record::Frame(f) => Some(*f),
            Record::Marker(_) => None,
        })
        .collect()
}

fn assert_same(a: &[CanFrame], b: &[CanFrame]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x.timestamp - y.timestamp).abs() < 1e-6, "{x:?} {y:?}");
        assert_eq!(
            (x.can_id, x.len, x.dlc, x.flags, x.is_rx, x.channel),
            (y.can_id, y.len, y.dlc, y.flags, y.is_rx, y.channel),
            "{x:?} {y:?}"
        );
        assert_eq!(x.payload(), y.payload());
    }
}

#[test]
fn round_trip_every_level_and_container_size() {
    let frames: Vec<CanFrame> = (0..500).map(frame).collect();
    for (level, container) in [
        (-1, 128 * 1024),
        (0, 128 * 1024),
        (9, 1000),
        (1, 37),
        (6, 1),
    ] {
        let bytes = write(&frames, level, container);
        let (recs, trunc) = read_all(&bytes);
        assert_eq!(trunc, None);
        assert_same(&frames, &frames_of(&recs));
        let h = FileHeader::parse(&bytes).expect("header");
        assert_eq!(h.object_count, 500);
        assert_eq!(h.file_size, bytes.len() as u64);
        assert_eq!(h.start.to_unix(), T0);
        assert_eq!(h.stop.to_unix(), 1_700_000_000.749);
    }
}

#[test]
fn containers_hold_at_most_the_maximum() {
    let frames: Vec<CanFrame> = (0..300).map(frame).collect();
    let bytes = write(&frames, 0, 1000);
    let mut pos = FILE_HEADER_SIZE;
    let mut sizes = Vec::new();
    while pos < bytes.len() {
        assert_eq!(&bytes[pos..pos + 4], OBJ_SIGNATURE);
        let size = le_u32(&bytes, pos + 8) as usize;
        assert_eq!(le_u32(&bytes, pos + 12), LOG_CONTAINER);
        sizes.push(le_u32(&bytes, pos + 24));
        pos += size + size % 4;
    }
    assert!(sizes.len() > 5);
    assert!(sizes[..sizes.len() - 1].iter().all(|&s| s == 1000));
    assert!(*sizes.last().expect("one") <= 1000);
}

#[test]
fn relative_timestamps_stay_relative() {
    let mut f = frame(0);
    f.timestamp = 12.25;
    let bytes = write(&[f], 6, 1024);
    let h = FileHeader::parse(&bytes).expect("header");
    assert_eq!(h.start, SystemTime::default());
    let (recs, _) = read_all(&bytes);
    assert_eq!(frames_of(&recs)[0].timestamp, 12.25);
}

#[test]
fn marker_round_trip() {
    let mut w = Writer::new(Cursor::new(Vec::new()), 6, 4096).expect("writer");
    w.write_frame(&frame(0)).expect("frame");
    w.write_marker(T0 + 2.0, "group", "name", "what happened")
        .expect("marker");
    w.finish().expect("finish");
    let bytes = w.get_mut().get_ref().clone();
    let (recs, _) = read_all(&bytes);
    assert_eq!(recs.len(), 2);
    assert_eq!(
        recs[1],
        Record::Marker(GlobalMarker {
            timestamp: T0 + 2.0,
            group_name: "group".into(),
            marker_name: "name".into(),
            description: "what happened".into()
        })
    );
}

/// An object with a header of the given version, built by hand.
fn object(obj_type: u32, version: u16, flags: u32, ts: u64, payload: &[u8]) -> Vec<u8> {
    let header_size: usize = if version == 2 { 40 } else { 32 };
    let size = header_size + payload.len();
    let mut o = Vec::new();
    o.extend_from_slice(b"LOBJ");
    o.extend_from_slice(&(header_size as u16).to_le_bytes());
    o.extend_from_slice(&version.to_le_bytes());
    o.extend_from_slice(&(size as u32).to_le_bytes());
    o.extend_from_slice(&obj_type.to_le_bytes());
    o.extend_from_slice(&flags.to_le_bytes());
    o.extend_from_slice(&[0u8; 4]);
    o.extend_from_slice(&ts.to_le_bytes());
    if version == 2 {
        o.extend_from_slice(&[0u8; 8]);
    }
    o.extend_from_slice(payload);
    o.extend_from_slice(&[0u8; 4][..size % 4]);
    o
}

fn file_of(objects: &[Vec<u8>]) -> Vec<u8> {
    let h = FileHeader {
        start: SystemTime::from_unix(T0),
        ..FileHeader::default()
    };
    let mut b = h.to_bytes().to_vec();
    for o in objects {
        b.extend_from_slice(o);
    }
    b
}

fn can_message(channel: u16, flags: u8, dlc: u8, id: u32, data: [u8; 8]) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend_from_slice(&channel.to_le_bytes());
    p.extend_from_slice(&[flags, dlc]);
    p.extend_from_slice(&id.to_le_bytes());
    p.extend_from_slice(&data);
    p
}

#[test]
fn objects_without_containers_all_header_versions() {
    let msg = can_message(2, MSG_FLAG_TX, 3, 0x8000_0123, [1, 2, 3, 4, 5, 6, 7, 8]);
    let mut msg2 = msg.clone();
    msg2.extend_from_slice(&[0u8; 8]);
    let error = [1u8, 0, 4, 0, 0, 0, 0, 0];
    let objs = vec![
        object(CAN_MESSAGE, 1, TIME_TEN_MICS, 150_000, &msg),
        object(CAN_MESSAGE2, 2, TIME_ONE_NANS, 2_000_000_000, &msg2),
        object(CAN_MESSAGE, 3, TIME_ONE_NANS, 3_000_000_001, &msg),
        object(CAN_ERROR, 1, TIME_ONE_NANS, 4_000_000_000, &error),
        object(999, 1, TIME_ONE_NANS, 0, &[0u8; 13]),
        object(CAN_MESSAGE, 7, TIME_ONE_NANS, 0, &msg),
    ];
    let bytes = file_of(&objs);
    let mut r = Reader::new(Cursor::new(&bytes)).expect("header");
    let mut got = Vec::new();
    while let Some(rec) = r.next_record().expect("record") {
        got.extend(frames_of(&[rec]));
    }
    assert_eq!(r.truncation(), None);
    // The unknown type and the object with an unknown header version are skipped.
    let skipped: Vec<(u32, u64)> = r.skipped().iter().map(|(k, v)| (*k, *v)).collect();
    assert_eq!(skipped, vec![(CAN_MESSAGE, 1), (999, 1)]);
    let times: Vec<f64> = got.iter().map(|f| f.timestamp - T0).collect();
    assert!((times[0] - 1.5).abs() < 1e-9 && (times[1] - 2.0).abs() < 1e-9);
    assert!((times[2] - 3.000_000_001).abs() < 1e-6 && (times[3] - 4.0).abs() < 1e-9);
    for f in &got[..3] {
        assert_eq!(f.can_id, 0x123 | CAN_EFF_FLAG);
        assert_eq!((f.channel, f.dlc, f.len, f.is_rx), (1, 3, 3, false));
        assert_eq!(f.payload(), &[1, 2, 3]);
    }
    assert_eq!(
        (got[3].can_id, got[3].channel, got[3].len),
        (CAN_ERR_FLAG, 0, 0)
    );
}

#[test]
fn fd_objects_by_hand() {
    // CAN_FD_MESSAGE: channel 1, Tx, dlc 9 (12 bytes), BRS + EDL, 12 valid bytes.
    let mut p = Vec::new();
    p.extend_from_slice(&1u16.to_le_bytes());
    p.extend_from_slice(&[MSG_FLAG_TX, 9]);
    p.extend_from_slice(&0x7FFu32.to_le_bytes());
    p.extend_from_slice(&[0u8; 4]);
    p.extend_from_slice(&[0, FD_FLAG_EDL | FD_FLAG_BRS, 12, 0, 0, 0, 0, 0]);
    p.extend((0..64u8).map(|k| k + 1));
    // CAN_FD_MESSAGE_64: channel 3, dlc 15, 64 valid bytes of which 10 present, ESI + EDL.
    let mut q = vec![3u8, 15, 64, 0];
    q.extend_from_slice(&0x1234_5678u32.to_le_bytes());
    q.extend_from_slice(&[0u8; 4]);
    q.extend_from_slice(&(FD64_FLAG_EDL | FD64_FLAG_ESI).to_le_bytes());
    q.extend_from_slice(&[0u8; 16]);
    q.extend_from_slice(&[0, 0, 0, 0]); // bit count, direction Rx, ext data offset
    q.extend_from_slice(&[0u8; 4]);
    q.extend_from_slice(&[9u8; 10]);
    let bytes = file_of(&[
        object(CAN_FD_MESSAGE, 1, TIME_ONE_NANS, 5, &p),
        object(CAN_FD_MESSAGE_64, 1, TIME_ONE_NANS, 6, &q),
    ]);
    let (recs, t) = read_all(&bytes);
    assert_eq!(t, None);
    let f = frames_of(&recs);
    assert_eq!(
        (f[0].can_id, f[0].channel, f[0].dlc, f[0].len, f[0].is_rx),
        (0x7FF, 0, 12, 12, false)
    );
    assert_eq!(f[0].flags, CANFD_FDF | CANFD_BRS);
    assert_eq!(f[0].payload(), (1..=12).collect::<Vec<u8>>().as_slice());
    assert_eq!(
        (f[1].can_id, f[1].channel, f[1].dlc, f[1].len, f[1].is_rx),
        (0x1234_5678, 2, 64, 64, true)
    );
    assert_eq!(f[1].flags, CANFD_FDF | CANFD_ESI);
    assert_eq!(&f[1].payload()[..10], &[9u8; 10]);
    assert!(f[1].payload()[10..].iter().all(|&b| b == 0));
}

#[test]
fn truncated_files_yield_complete_frames_then_report() {
    let frames: Vec<CanFrame> = (0..400).map(frame).collect();
    for level in [0, 6] {
        let bytes = write(&frames, level, 2048);
        // Where the top-level objects end: a file cut there holds whole objects only.
        let mut boundaries = vec![FILE_HEADER_SIZE];
        let mut at = FILE_HEADER_SIZE;
        while at + 16 <= bytes.len() {
            let size = le_u32(&bytes, at + 8) as usize;
            at += size + size % 4;
            boundaries.push(at);
        }
        // One byte short of the last object's data (its padding aside).
        let last_start = boundaries[boundaries.len() - 2];
        let last_cut = last_start + le_u32(&bytes, last_start + 8) as usize - 1;
        let mut last = 0;
        for cut in (FILE_HEADER_SIZE..bytes.len())
            .step_by(97)
            .chain([last_cut])
            .chain(boundaries[..boundaries.len() - 1].iter().copied())
        {
            let (recs, trunc) = read_all(&bytes[..cut]);
            let got = frames_of(&recs);
            assert_same(&frames[..got.len()], &got);
            if boundaries.contains(&cut) {
                // No top-level object is cut: a truncation is reported only for an inner
                // object that the next container would have completed, whatever the
                // header's file_size says.
                match &trunc {
                    None => assert!(cut == FILE_HEADER_SIZE || got.len() < frames.len()),
                    Some(t) => assert!(t.what.contains("incomplete"), "cut {cut}: {t:?}"),
                }
                assert!(cut != FILE_HEADER_SIZE || trunc.is_none());
                continue;
            }
            assert!(got.len() >= last || level == 6, "cut {cut}");
            last = got.len();
            let Some(t) = trunc else {
                panic!("cut {cut} of {}: no truncation reported", bytes.len())
            };
            assert!(t.offset <= cut as u64 && t.file_end == cut as u64, "{t:?}");
        }
    }
}

#[test]
fn not_blf_and_corrupt_input_are_errors() {
    assert!(matches!(
        Reader::new(Cursor::new(b"hello world".to_vec())),
        Err(Error::NotBlf(_))
    ));
    assert!(matches!(
        Reader::new(Cursor::new(Vec::new())),
        Err(Error::NotBlf(_))
    ));
    let frames: Vec<CanFrame> = (0..200).map(frame).collect();
    let bytes = write(&frames, 6, 4096);
    // Damage the zlib stream of the second container.
    let first = le_u32(&bytes, FILE_HEADER_SIZE + 8) as usize;
    let second = FILE_HEADER_SIZE + first + first % 4;
    let mut bad = bytes.clone();
    for b in &mut bad[second + 40..second + 60] {
        *b ^= 0x5A;
    }
    let mut r = Reader::new(Cursor::new(&bad)).expect("header");
    r.set_threaded(true);
    let err = loop {
        match r.next_record() {
            Ok(Some(_)) => {}
            Ok(None) => panic!("corruption not detected"),
            Err(e) => break e,
        }
    };
    match err {
        Error::Corrupt { offset, .. } => assert_eq!(offset, second as u64),
        e => panic!("{e}"),
    }
    // A wrong signature at the top level names its offset.
    let mut bad = bytes.clone();
    bad[second..second + 4].copy_from_slice(b"XXXX");
    let mut r = Reader::new(Cursor::new(&bad)).expect("header");
    let err = std::iter::from_fn(|| r.next()).find_map(|x| x.err());
    assert!(matches!(err, Some(Error::Corrupt { offset, .. }) if offset == second as u64));
}

#[test]
fn huge_size_fields_do_not_allocate() {
    // A container that claims 4 GiB, a decompressed size of 4 GiB and an inner object of
    // 4 GiB: errors or truncation, never an allocation of that size.
    let mut c = Vec::new();
    c.extend_from_slice(b"LOBJ");
    c.extend_from_slice(&16u16.to_le_bytes());
    c.extend_from_slice(&1u16.to_le_bytes());
    c.extend_from_slice(&u32::MAX.to_le_bytes());
    c.extend_from_slice(&LOG_CONTAINER.to_le_bytes());
    c.extend_from_slice(&ZLIB_DEFLATE.to_le_bytes());
    c.extend_from_slice(&[0u8; 6]);
    c.extend_from_slice(&u32::MAX.to_le_bytes());
    c.extend_from_slice(&[0u8; 4]);
    let (recs, t) = read_all(&file_of(&[c.clone()]));
    assert!(recs.is_empty() && t.is_some());
    let mut inner = object(CAN_MESSAGE, 1, 2, 0, &[0u8; 16]);
    inner[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    let mut r = Reader::new(Cursor::new(file_of(&[inner]))).expect("header");
    assert!(matches!(r.next_record(), Err(Error::Corrupt { .. })));
    // Zero-size objects cannot loop forever.
    let mut zero = object(CAN_MESSAGE, 1, 2, 0, &[0u8; 16]);
    zero[8..12].copy_from_slice(&0u32.to_le_bytes());
    let mut r = Reader::new(Cursor::new(file_of(&[zero]))).expect("header");
    assert!(matches!(r.next_record(), Err(Error::Corrupt { .. })));
}

#[test]
fn writer_rejects_unstorable_values() {
    let mut w = Writer::new(Cursor::new(Vec::new()), 6, 1024).expect("writer");
    let mut f = frame(0);
    f.channel = 70_000;
    assert!(matches!(w.write_frame(&f), Err(Error::Value(_))));
    assert!(Writer::new(Cursor::new(Vec::new()), 10, 1024).is_err());
    assert!(Writer::new(Cursor::new(Vec::new()), 6, 0).is_err());
}

#[test]
fn declared_sizes_beyond_the_data_are_not_trusted() {
    let frames: Vec<CanFrame> = (0..300).map(frame).collect();
    let bytes = write(&frames, 6, 4096);
    // The first container declares 100 MiB of uncompressed data (more than the 64 MiB
    // limit) but inflates to its real 4 KiB: read as python-can reads it.
    let mut big = bytes.clone();
    let declared = FILE_HEADER_SIZE + OBJ_HEADER_BASE_SIZE + 8;
    assert_eq!(le_u32(&big, FILE_HEADER_SIZE + 12), LOG_CONTAINER);
    big[declared..declared + 4].copy_from_slice(&(100u32 << 20).to_le_bytes());
    let (recs, t) = read_all(&big);
    assert_eq!(t, None);
    assert_same(&frames, &frames_of(&recs));
    // A header file_size beyond the end of a whole file: no truncation reported.
    let mut long = bytes.clone();
    long[16..24].copy_from_slice(&(bytes.len() as u64 + 10_000).to_le_bytes());
    let (recs, t) = read_all(&long);
    assert_eq!(t, None);
    assert_same(&frames, &frames_of(&recs));
}
