//! Conversion between every pair of formats on arbitrary input: a typed error or a complete
//! output, never a panic, on one thread and on two.
#![no_main]

use std::io::Cursor;

use _core::asc::{LocalTime, Utc};
use _core::convert::{convert, Format, Options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    // Every format the converter knows: `selector % n` and `selector / n % n` pick the pair.
    let n = Format::ALL.len();
    let from = Format::ALL[usize::from(selector) % n];
    let to = Format::ALL[usize::from(selector) / n % n];
    let options = Options {
        strict: selector & 0x10 != 0,
        threads: selector & 0x20 != 0,
        compression_level: 1,
        ..Options::default()
    };
    let tz = || -> Box<dyn LocalTime> { Box::new(Utc) };
    let mut out = Cursor::new(Vec::new());
    let _ = convert(input, from, &mut out, to, &options, &tz, &mut |_, _| Ok(()));
});
