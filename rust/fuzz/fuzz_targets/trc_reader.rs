//! The TRC reader on arbitrary bytes: it must end in frames, counted skips or a typed error,
//! never a panic or a hang; every frame it reads must survive the 2.1 writer and read back the
//! same (but for the time, which goes through a start time and offsets in text); times the
//! writer refuses (out of its range) end the check.
#![no_main]

use _core::frame::CanFrame;
use _core::trc::{Reader, Version, Writer};
use libfuzzer_sys::fuzz_target;

fn read(bytes: &[u8], strict: bool, max_line_len: usize) -> Vec<CanFrame> {
    let mut reader = Reader::with_max_line_len(bytes, strict, max_line_len);
    let mut frames = Vec::new();
    for _ in 0..=bytes.len() {
        match reader.next_frame() {
            Ok(Some(f)) => frames.push(f),
            Ok(None) | Err(_) => break,
        }
    }
    frames
}

fuzz_target!(|data: &[u8]| {
    read(data, true, 1 << 20);
    read(data, false, 48);
    let frames = read(data, false, 1 << 20);
    let Ok(mut writer) = Writer::new(Vec::new(), Version::V2_1) else {
        return;
    };
    for f in &frames {
        match writer.write_frame(f) {
            Ok(written) => assert!(written),
            // A time the format cannot hold (beyond MAX_TIMESTAMP).
            Err(_) => return,
        }
    }
    if writer.finish(0.0).is_err() {
        return;
    }
    let text = std::mem::take(writer.get_mut());
    let back = read(&text, true, 1 << 20);
    assert_eq!(back.len(), frames.len(), "{}", String::from_utf8_lossy(&text));
    for (a, b) in frames.iter().zip(&back) {
        let (mut a, mut b) = (*a, *b);
        a.timestamp = 0.0;
        b.timestamp = 0.0;
        if a.is_error() {
            // Only PEAK's five error bytes are written as they are.
            assert!(b.is_error());
            if a.len == 5 {
                assert_eq!(a, b);
            }
            continue;
        }
        assert_eq!(a, b, "{}", String::from_utf8_lossy(&text));
    }
});
