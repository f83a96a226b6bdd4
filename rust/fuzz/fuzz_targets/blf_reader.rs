//! The BLF reader on arbitrary bytes: it must end in records, a reported truncation or an
//! error, never a panic, a hang or an allocation a size field asks for without the bytes.
#![no_main]

use std::io::Cursor;

use _core::blf::{FileHeader, Reader, SystemTime};
use libfuzzer_sys::fuzz_target;

fn read(bytes: &[u8]) {
    let Ok(mut reader) = Reader::new(Cursor::new(bytes)) else {
        return;
    };
    // Each record consumes at least 16 bytes, so this bound is never what stops the loop.
    for _ in 0..=bytes.len() {
        match reader.next_record() {
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    let _ = reader.truncation();
}

fuzz_target!(|data: &[u8]| {
    // As given, and behind a valid file header so that most inputs reach the object parser.
    read(data);
    let header = FileHeader {
        start: SystemTime::from_unix(1_700_000_000.0),
        ..FileHeader::default()
    };
    let mut with_header = header.to_bytes().to_vec();
    with_header.extend_from_slice(data);
    read(&with_header);
});
