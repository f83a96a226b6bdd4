//! The BLF container encoder on arbitrary bytes: whatever the input (object streams cut
//! anywhere, corrupt headers, size fields that lie), the output must be a zlib stream that an
//! independent inflater (miniz_oxide) turns back into exactly the input, at every level.
#![no_main]

use _core::blf::deflate::Encoder;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the level; the rest is the container payload.
    let Some((&sel, raw)) = data.split_first() else {
        return;
    };
    let level = i32::from(sel % 9) + 1;
    let mut z = Vec::new();
    Encoder::new(level).compress(raw, &mut z);
    let back = miniz_oxide::inflate::decompress_to_vec_zlib(&z).expect("a valid zlib stream");
    assert_eq!(back, raw, "level {level}");
});
