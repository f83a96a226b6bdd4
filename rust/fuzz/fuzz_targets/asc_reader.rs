//! The ASC reader on arbitrary bytes: it must end in frames, counted skips or a typed error,
//! never a panic or a hang; every frame it reads must survive the writer and read back.
#![no_main]

use _core::asc::{Base, Reader, ReaderOptions, Utc, Writer};
use _core::frame::CanFrame;
use libfuzzer_sys::fuzz_target;

fn read(bytes: &[u8], options: ReaderOptions) -> Vec<CanFrame> {
    let mut reader = Reader::new(bytes, options, Box::new(Utc));
    let mut frames = Vec::new();
    // Each frame needs at least one line, so this bound is never what stops the loop.
    for _ in 0..=bytes.len() {
        match reader.next_frame() {
            Ok(Some(f)) => frames.push(f),
            Ok(None) | Err(_) => break,
        }
    }
    let _ = reader.take_warnings();
    frames
}

fuzz_target!(|data: &[u8]| {
    let strict = ReaderOptions::default();
    read(data, strict);
    read(
        data,
        ReaderOptions {
            base: Base::Dec,
            relative_timestamp: false,
            strict: false,
            max_line_len: 64,
        },
    );
    let frames = read(
        data,
        ReaderOptions {
            strict: false,
            ..strict
        },
    );
    // What was read is written and read back: the same number of frames, the same ids.
    let mut writer = Writer::new(Vec::new(), Box::new(Utc));
    for f in &frames {
        if writer.write_frame(f).is_err() {
            return;
        }
    }
    if writer.finish().is_err() {
        return;
    }
    let text = std::mem::take(writer.get_mut());
    let back = read(&text, strict);
    assert_eq!(back.len(), frames.len(), "{}", String::from_utf8_lossy(&text));
    for (a, b) in frames.iter().zip(&back) {
        assert_eq!(a.is_error(), b.is_error());
        if !a.is_error() {
            assert_eq!((a.can_id, a.payload()), (b.can_id, b.payload()));
        }
    }
});
