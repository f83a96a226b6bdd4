//! Conversion between every pair of formats on arbitrary input: a typed error or a complete
//! output, never a panic, on one thread and on two.
#![no_main]

use std::io::Cursor;

use _core::asc::{LocalTime, Utc};
use _core::convert::{convert, Format, Options};
use libfuzzer_sys::fuzz_target;

const FORMATS: [Format; 3] = [Format::Blf, Format::Asc, Format::Log];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    let from = FORMATS[usize::from(selector % 3)];
    let to = FORMATS[usize::from(selector / 3 % 3)];
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
