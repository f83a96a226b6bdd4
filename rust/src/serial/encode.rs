//! Encoders of one frame for a serial line: [`slcan_line`] (LAWICEL ASCII) and
//! [`serial_frame`] (python-can's binary format, manual section 4.3.2).
//!
//! Both append to `out` and return `false`, leaving `out` as it was, for a frame the framing
//! cannot carry; the Python layer then reports why (its own encoder raises the `ValueError`).

use crate::frame::{
    CanFrame, CANFD_BRS, CANFD_FDF, CAN_EFF_MASK, CAN_ERR_FLAG, CAN_MAX_DLEN, CAN_RTR_FLAG,
    CAN_SFF_MASK,
};

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Longest slcan line: kind, 8 id digits, DLC digit, 64 bytes in hex, `\r`.
pub const SLCAN_MAX_LINE: usize = 1 + 8 + 1 + 2 * 64 + 1;
/// Longest binary serial frame: start, timestamp, DLC, id, 8 bytes, end.
pub const SERIAL_MAX_FRAME: usize = 1 + 4 + 1 + 4 + CAN_MAX_DLEN + 1;

/// The DLC code of a CAN FD payload length, None for a length that is no DLC.
fn fd_dlc(len: usize) -> Option<u8> {
    Some(match len {
        0..=8 => len as u8,
        12 => 9,
        16 => 10,
        20 => 11,
        24 => 12,
        32 => 13,
        48 => 14,
        64 => 15,
        _ => return None,
    })
}

/// The id of `frame` if it fits its kind: 11 bits for a standard id, 29 for an extended one.
fn checked_id(frame: &CanFrame) -> Option<u32> {
    let id = frame.can_id & CAN_EFF_MASK;
    (frame.is_extended() || id <= CAN_SFF_MASK).then_some(id)
}

/// Appends the slcan line (with its `\r`) that sends `frame`.
///
/// Classic data frames are `t`/`T` with the payload length as DLC; remote frames `r`/`R` with
/// the frame's `dlc` (0 to 8) and no data; CAN FD frames `d`/`D` (`b`/`B` with bitrate
/// switch) with the DLC code of the payload length. Returns `false` (nothing appended) for an
/// error frame, a remote CAN FD frame, an id out of range, a classic payload over 8 bytes, a
/// remote DLC over 8 or a CAN FD length that is no DLC.
pub fn slcan_line(frame: &CanFrame, out: &mut Vec<u8>) -> bool {
    if frame.can_id & CAN_ERR_FLAG != 0 {
        return false;
    }
    let Some(id) = checked_id(frame) else {
        return false;
    };
    let extended = frame.is_extended();
    let remote = frame.can_id & CAN_RTR_FLAG != 0;
    let len = usize::from(frame.len);
    let (kind, dlc, payload) = if frame.flags & CANFD_FDF != 0 {
        if remote {
            return false;
        }
        let Some(dlc) = fd_dlc(len) else {
            return false;
        };
        let kind = match (frame.flags & CANFD_BRS != 0, extended) {
            (true, true) => b'B',
            (true, false) => b'b',
            (false, true) => b'D',
            (false, false) => b'd',
        };
        (kind, dlc, len)
    } else if remote {
        if usize::from(frame.dlc) > CAN_MAX_DLEN {
            return false;
        }
        (if extended { b'R' } else { b'r' }, frame.dlc, 0)
    } else {
        if len > CAN_MAX_DLEN {
            return false;
        }
        (if extended { b'T' } else { b't' }, len as u8, len)
    };
    let Some(data) = frame.data.get(..payload) else {
        return false;
    };
    out.reserve(SLCAN_MAX_LINE);
    out.push(kind);
    let digits = if extended { 8 } else { 3 };
    for shift in (0..digits).rev() {
        out.push(HEX[((id >> (4 * shift)) & 0xF) as usize]);
    }
    out.push(HEX[usize::from(dlc & 0xF)]);
    for &b in data {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 0xF)]);
    }
    out.push(b'\r');
    true
}

/// Appends the binary serial frame of `frame` (manual 4.3.2, with python-can 4.x's flag bits
/// and millisecond timestamp): `0xAA`, `int(timestamp * 1000)` as u32 LE, DLC, id with bit 31
/// extended / bit 30 remote / bit 29 error as u32 LE, payload, `0xBB`.
///
/// A data frame's DLC is its payload length; a remote frame's is its `dlc` and it has no
/// payload. The CAN FD bits are not part of the format and are ignored. Returns `false`
/// (nothing appended) for an id out of range, a DLC over 8, or a timestamp whose milliseconds
/// (cut toward zero) are not finite or do not fit 4 bytes.
pub fn serial_frame(frame: &CanFrame, out: &mut Vec<u8>) -> bool {
    let Some(id) = checked_id(frame) else {
        return false;
    };
    // Cut toward zero as Python's int() does; -0.4 ms is 0 and fits.
    let ms = (frame.timestamp * 1000.0).trunc();
    if !(0.0..=f64::from(u32::MAX)).contains(&ms) {
        return false;
    }
    let ms = ms as u32;
    let remote = frame.can_id & CAN_RTR_FLAG != 0;
    let (dlc, payload) = if remote {
        (usize::from(frame.dlc), 0)
    } else {
        let len = usize::from(frame.len);
        (len, len)
    };
    if dlc > CAN_MAX_DLEN {
        return false;
    }
    let Some(data) = frame.data.get(..payload) else {
        return false;
    };
    let mut field = id;
    if frame.is_extended() {
        field |= 0x8000_0000;
    }
    if remote {
        field |= 0x4000_0000;
    }
    if frame.can_id & CAN_ERR_FLAG != 0 {
        field |= 0x2000_0000;
    }
    out.reserve(SERIAL_MAX_FRAME);
    out.push(0xAA);
    out.extend_from_slice(&ms.to_le_bytes());
    out.push(dlc as u8);
    out.extend_from_slice(&field.to_le_bytes());
    out.extend_from_slice(data);
    out.push(0xBB);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{CANFD_ESI, CAN_EFF_FLAG};

    fn frame(can_id: u32, data: &[u8]) -> CanFrame {
        let mut f = CanFrame {
            can_id,
            len: data.len() as u8,
            dlc: data.len() as u8,
            ..CanFrame::default()
        };
        f.data[..data.len()].copy_from_slice(data);
        f
    }

    fn slcan(f: &CanFrame) -> Option<String> {
        let mut out = b"keep".to_vec();
        if slcan_line(f, &mut out) {
            Some(String::from_utf8(out[4..].to_vec()).expect("ascii"))
        } else {
            assert_eq!(out, b"keep", "a refused frame leaves the buffer alone");
            None
        }
    }

    #[test]
    fn slcan_lines_as_the_lawicel_protocol_spells_them() {
        // Lines of the kernel's slcan driver for `cansend slcan0 123#DEADBEEF` and
        // `12345678#R` (see the issue's measurements), and LAWICEL's own examples.
        assert_eq!(
            slcan(&frame(0x123, &[0xDE, 0xAD, 0xBE, 0xEF])).as_deref(),
            Some("t1234DEADBEEF\r")
        );
        let mut r = frame(0x1234_5678 | CAN_EFF_FLAG | CAN_RTR_FLAG, &[]);
        r.dlc = 0;
        assert_eq!(slcan(&r).as_deref(), Some("R123456780\r"));
        let mut r = frame(0x7FF | CAN_RTR_FLAG, &[]);
        r.dlc = 8;
        assert_eq!(slcan(&r).as_deref(), Some("r7FF8\r"));
        assert_eq!(slcan(&frame(0, &[])).as_deref(), Some("t0000\r"));
        assert_eq!(
            slcan(&frame(0x1FFF_FFFF | CAN_EFF_FLAG, &[0, 0x0F, 0xA0])).as_deref(),
            Some("T1FFFFFFF3000FA0\r")
        );
    }

    #[test]
    fn slcan_fd_lines_take_the_dlc_code_of_the_length() {
        let mut f = frame(0x12, &[0x5A; 12]);
        f.flags = CANFD_FDF | CANFD_ESI;
        let want = format!("d0129{}\r", "5A".repeat(12));
        assert_eq!(slcan(&f), Some(want));
        let mut f = frame(0x12 | CAN_EFF_FLAG, &[0x01; 64]);
        f.flags = CANFD_FDF | CANFD_BRS;
        assert_eq!(slcan(&f), Some(format!("B00000012F{}\r", "01".repeat(64))));
    }

    #[test]
    fn slcan_refuses_what_it_cannot_say() {
        assert_eq!(slcan(&frame(0x800, &[])), None, "standard id over 0x7FF");
        assert_eq!(slcan(&frame(1 | CAN_ERR_FLAG, &[])), None, "error frame");
        assert_eq!(
            slcan(&frame(1, &[0; 9])),
            None,
            "classic frame over 8 bytes"
        );
        let mut f = frame(1, &[0; 9]);
        f.flags = CANFD_FDF;
        assert_eq!(slcan(&f), None, "9 bytes is no CAN FD length");
        let mut f = frame(1 | CAN_RTR_FLAG, &[]);
        f.flags = CANFD_FDF;
        assert_eq!(slcan(&f), None, "remote CAN FD frame");
        let mut f = frame(1 | CAN_RTR_FLAG, &[]);
        f.dlc = 9;
        assert_eq!(slcan(&f), None, "remote DLC over 8");
    }

    fn serial(f: &CanFrame) -> Option<Vec<u8>> {
        let mut out = vec![7];
        if serial_frame(f, &mut out) {
            Some(out[1..].to_vec())
        } else {
            assert_eq!(out, [7], "a refused frame leaves the buffer alone");
            None
        }
    }

    #[test]
    fn serial_frames_are_the_manuals_examples() {
        // Manual 4.3.2: id 1, timestamp bytes 66 73 00 00 (29542 ms).
        let mut f = frame(1, &[0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]);
        f.timestamp = 29.542;
        let want = [
            0xAA, 0x66, 0x73, 0, 0, 8, 1, 0, 0, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
            0xBB,
        ];
        assert_eq!(serial(&f).as_deref(), Some(&want[..]));
        let mut f = frame(1, &[0x11]);
        f.timestamp = 29.542;
        let want = [0xAA, 0x66, 0x73, 0, 0, 1, 1, 0, 0, 0, 0x11, 0xBB];
        assert_eq!(serial(&f).as_deref(), Some(&want[..]));
        let mut f = frame(1, &[]);
        f.timestamp = 29.542;
        let want = [0xAA, 0x66, 0x73, 0, 0, 0, 1, 0, 0, 0, 0xBB];
        assert_eq!(serial(&f).as_deref(), Some(&want[..]));
    }

    #[test]
    fn serial_flag_bits_and_remote_frames() {
        let mut f = frame(0x1234_5678 | CAN_EFF_FLAG | CAN_RTR_FLAG, &[]);
        f.dlc = 4;
        let want = [0xAA, 0, 0, 0, 0, 4, 0x78, 0x56, 0x34, 0xD2, 0xBB];
        assert_eq!(serial(&f).as_deref(), Some(&want[..]));
        let f = frame(CAN_ERR_FLAG, &[1]);
        let want = [0xAA, 0, 0, 0, 0, 1, 0, 0, 0, 0x20, 1, 0xBB];
        assert_eq!(serial(&f).as_deref(), Some(&want[..]));
    }

    #[test]
    fn serial_timestamps_cut_toward_zero_and_must_fit() {
        let mut f = frame(1, &[]);
        f.timestamp = -0.0004;
        assert_eq!(serial(&f).map(|b| b[1..5].to_vec()), Some(vec![0, 0, 0, 0]));
        f.timestamp = 4_294_967.295_9;
        assert_eq!(
            serial(&f).map(|b| b[1..5].to_vec()),
            Some(vec![0xFF, 0xFF, 0xFF, 0xFF])
        );
        for bad in [-0.001, 4_294_967.296, f64::NAN, f64::INFINITY] {
            f.timestamp = bad;
            assert_eq!(serial(&f), None, "timestamp {bad}");
        }
    }

    #[test]
    fn serial_refuses_what_does_not_fit() {
        assert_eq!(serial(&frame(0x800, &[])), None);
        assert_eq!(serial(&frame(1, &[0; 9])), None);
        let mut f = frame(1 | CAN_RTR_FLAG, &[]);
        f.dlc = 9;
        assert_eq!(serial(&f), None);
    }
}
