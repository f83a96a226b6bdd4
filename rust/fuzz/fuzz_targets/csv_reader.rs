//! The CSV reader on arbitrary bytes: it must end in frames, counted skips or a typed error,
//! never a panic or a hang; every frame it reads must survive the writer and read back the
//! same (timestamps bit for bit, NaN as NaN).
#![no_main]

use _core::csv::{Reader, Writer};
use _core::frame::CanFrame;
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
    let mut writer = Writer::new(Vec::new(), true);
    for f in &frames {
        if writer.write_frame(f).is_err() {
            return;
        }
    }
    if writer.flush().is_err() {
        return;
    }
    let text = std::mem::take(writer.get_mut());
    let back = read(&text, true, 1 << 20);
    assert_eq!(back.len(), frames.len(), "{}", String::from_utf8_lossy(&text));
    for (a, b) in frames.iter().zip(&back) {
        let (mut a, mut b) = (*a, *b);
        if a.timestamp.is_nan() {
            assert!(b.timestamp.is_nan());
        } else {
            assert_eq!(a.timestamp.to_bits(), b.timestamp.to_bits());
        }
        a.timestamp = 0.0;
        b.timestamp = 0.0;
        assert_eq!(a, b, "{}", String::from_utf8_lossy(&text));
    }
});
