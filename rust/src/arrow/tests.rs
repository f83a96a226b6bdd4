#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use super::ffi::{export_stream, ArrowArray, ArrowSchema, StreamEnd};
use super::*;
use crate::asc::Utc;
use crate::filter::Filter;
use std::ffi::CStr;
use std::sync::{Arc, Mutex};

const LOG: &str = "(1.000000) vcan0 123#DEADBEEF\n\
(1.500000) vcan1 1FFFFFFF#R\n\
(2.000000) vcan0 456##30011\n\
(2.250000) vcan0 20000004#0000080000000000\n";

fn batches(columns: Vec<Column>, selection: Selection, size: usize) -> FrameBatches<'static> {
    let src = reader(
        std::io::Cursor::new(LOG.as_bytes()),
        Format::Log,
        Box::new(Utc),
    )
    .unwrap();
    FrameBatches::new(src, Format::Log, columns, selection, size)
}

#[test]
fn columns_hold_the_frames() {
    let mut b = batches(Column::ALL.to_vec(), Selection::default(), 100);
    let batch = b.next_batch().unwrap().unwrap();
    assert_eq!(batch.rows, 4);
    let col = |c: Column| &batch.columns.iter().find(|(k, _)| *k == c).unwrap().1;
    assert_eq!(
        col(Column::Timestamp),
        &Values::F64(vec![1.0, 1.5, 2.0, 2.25])
    );
    assert_eq!(
        col(Column::TimestampNs),
        &Values::I64(vec![
            1_000_000_000,
            1_500_000_000,
            2_000_000_000,
            2_250_000_000
        ])
    );
    assert_eq!(
        col(Column::ArbitrationId),
        &Values::U32(vec![0x123, 0x1FFF_FFFF, 0x456, 0x4])
    );
    // bits LSB first: frame 1 extended; frame 1 remote; frame 2 FD with BRS and ESI; frame 3 error
    assert_eq!(col(Column::IsExtendedId), &Values::Bool(vec![0b1010], 4));
    assert_eq!(col(Column::IsRemoteFrame), &Values::Bool(vec![0b0010], 4));
    assert_eq!(col(Column::IsFd), &Values::Bool(vec![0b0100], 4));
    assert_eq!(col(Column::BitrateSwitch), &Values::Bool(vec![0b0100], 4));
    // flags digit 3 = CANFD_BRS | CANFD_ESI
    assert_eq!(
        col(Column::ErrorStateIndicator),
        &Values::Bool(vec![0b0100], 4)
    );
    assert_eq!(col(Column::IsErrorFrame), &Values::Bool(vec![0b1000], 4));
    assert_eq!(
        col(Column::Channel),
        &Values::Bytes {
            offsets: vec![0, 5, 10, 15, 20],
            values: b"vcan0vcan1vcan0vcan0".to_vec()
        }
    );
    assert_eq!(
        col(Column::Data),
        &Values::Bytes {
            offsets: vec![0, 4, 4, 6, 14],
            values: vec![0xDE, 0xAD, 0xBE, 0xEF, 0x00, 0x11, 0, 0, 8, 0, 0, 0, 0, 0]
        }
    );
    assert!(b.next_batch().unwrap().is_none());
}

#[test]
fn selection_drops_frames_before_the_columns() {
    let sel = Selection {
        filters: FilterSet::new(vec![Filter::new(0x400, 0x400, None)]),
        ..Selection::default()
    };
    let mut b = batches(vec![Column::ArbitrationId], sel, 100);
    let batch = b.next_batch().unwrap().unwrap();
    assert_eq!(batch.columns[0].1, Values::U32(vec![0x1FFF_FFFF, 0x456]));
    let sel = Selection {
        start: Some(1.5),
        stop: Some(2.25),
        channel_names: Some(vec![b"vcan0".to_vec()]),
        ..Selection::default()
    };
    let mut b = batches(vec![Column::Timestamp], sel, 100);
    assert_eq!(
        b.next_batch().unwrap().unwrap().columns[0].1,
        Values::F64(vec![2.0])
    );
}

#[test]
fn batches_are_bounded() {
    let mut b = batches(vec![Column::Dlc], Selection::default(), 3);
    assert_eq!(b.next_batch().unwrap().unwrap().rows, 3);
    assert_eq!(b.next_batch().unwrap().unwrap().rows, 1);
    assert!(b.next_batch().unwrap().is_none());
}

#[test]
fn stream_exports_schema_batches_and_errors() {
    let end = Arc::new(Mutex::new(StreamEnd::default()));
    let mut stream = export_stream(
        batches(
            vec![Column::ArbitrationId, Column::Data],
            Selection::default(),
            2,
        ),
        end.clone(),
    );
    // SAFETY: the test consumes the stream as the C stream interface says.
    unsafe {
        let mut schema = ArrowSchema::empty();
        assert_eq!((stream.get_schema.unwrap())(&mut stream, &mut schema), 0);
        assert_eq!(CStr::from_ptr(schema.format).to_bytes(), b"+s");
        assert_eq!(schema.n_children, 2);
        let child = &**schema.children.add(1);
        assert_eq!(CStr::from_ptr(child.name).to_bytes(), b"data");
        assert_eq!(CStr::from_ptr(child.format).to_bytes(), b"z");
        let mut rows = 0;
        loop {
            let mut array = ArrowArray::empty();
            assert_eq!((stream.get_next.unwrap())(&mut stream, &mut array), 0);
            if array.release.is_none() {
                break;
            }
            assert_eq!(array.n_children, 2);
            let ids = &**array.children;
            assert_eq!(ids.n_buffers, 2);
            let first = *(*ids.buffers.add(1)).cast::<u32>();
            assert!(first == 0x123 || first == 0x456);
            rows += array.length;
        }
        assert_eq!(rows, 4);
    }
    assert!(end.lock().unwrap().finished);

    // a malformed line ends the stream with an error and its text
    let src = reader(
        std::io::Cursor::new(b"(1.0) vcan0 123#00\nnonsense\n".as_slice()),
        Format::Log,
        Box::new(Utc),
    )
    .unwrap();
    let end = Arc::new(Mutex::new(StreamEnd::default()));
    let b = FrameBatches::new(
        src,
        Format::Log,
        vec![Column::Dlc],
        Selection::default(),
        10,
    );
    let mut stream = export_stream(b, end.clone());
    // SAFETY: as above.
    unsafe {
        let mut array = ArrowArray::empty();
        assert_ne!((stream.get_next.unwrap())(&mut stream, &mut array), 0);
        let text = CStr::from_ptr((stream.get_last_error.unwrap())(&mut stream));
        assert!(text.to_string_lossy().contains("line 2"), "{text:?}");
    }
    assert!(end.lock().unwrap().error.is_some());
}

#[test]
fn columns_span_chunks() {
    // more frames than one chunk, and not a multiple of 8: every 3rd extended, every 5th Tx
    let n = 2 * CHUNK + 13;
    let mut log = String::new();
    for i in 0..n {
        let id = if i % 3 == 0 { "00000123" } else { "123" };
        let dir = if i % 5 == 0 { " T" } else { " R" };
        log.push_str(&format!("({i}.0) can{} {id}#{:02X}{dir}\n", i % 2, i % 256));
    }
    let src = reader(
        std::io::Cursor::new(log.into_bytes()),
        Format::Log,
        Box::new(Utc),
    )
    .unwrap();
    let cols = vec![
        Column::IsExtendedId,
        Column::IsRx,
        Column::Channel,
        Column::Data,
    ];
    let mut b = FrameBatches::new(src, Format::Log, cols, Selection::default(), n + 100);
    let batch = b.next_batch().unwrap().unwrap();
    assert_eq!(batch.rows, n);
    let bit = |v: &Values, i: usize| match v {
        Values::Bool(bits, len) => {
            assert_eq!(*len, n);
            bits[i / 8] >> (i % 8) & 1 == 1
        }
        _ => panic!("not bool"),
    };
    for i in 0..n {
        assert_eq!(bit(&batch.columns[0].1, i), i % 3 == 0, "row {i}");
        assert_eq!(bit(&batch.columns[1].1, i), i % 5 != 0, "row {i}");
    }
    let Values::Bytes { offsets, values } = &batch.columns[2].1 else {
        panic!("not bytes")
    };
    assert_eq!(offsets.len(), n + 1);
    for i in 0..n {
        let name = &values[offsets[i] as usize..offsets[i + 1] as usize];
        assert_eq!(name, format!("can{}", i % 2).as_bytes(), "row {i}");
    }
    let Values::Bytes { offsets, values } = &batch.columns[3].1 else {
        panic!("not bytes")
    };
    assert_eq!(offsets[n] as usize, n);
    assert!(values
        .iter()
        .enumerate()
        .all(|(i, &v)| usize::from(v) == i % 256));
}
