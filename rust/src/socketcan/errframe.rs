//! Readable text for SocketCAN error frames.
//!
//! A SocketCAN error frame carries `CAN_ERR_FLAG` in its `can_id`, the error classes as bits of
//! the rest of the id and details in its 8 data bytes. The bit values and the meaning of each
//! data byte are those of the kernel's `include/uapi/linux/can/error.h` (Linux 6.1); the
//! wording is ours.

/// Error class bits of the id (`CAN_ERR_*` in error.h) with their description.
const CLASSES: [(u32, &str); 10] = [
    (0x0001, "TX timeout"),
    (0x0002, "lost arbitration"),
    (0x0004, "controller problem"),
    (0x0008, "protocol violation"),
    (0x0010, "transceiver status"),
    (0x0020, "no ACK on transmission"),
    (0x0040, "bus off"),
    (0x0080, "bus error"),
    (0x0100, "controller restarted"),
    (0x0200, "error counters"),
];

/// data[1] for `CAN_ERR_CRTL` (`CAN_ERR_CRTL_*`).
const CONTROLLER: [(u8, &str); 7] = [
    (0x01, "RX buffer overflow"),
    (0x02, "TX buffer overflow"),
    (0x04, "RX error warning"),
    (0x08, "TX error warning"),
    (0x10, "RX error passive"),
    (0x20, "TX error passive"),
    (0x40, "back to error active"),
];

/// data[2] for `CAN_ERR_PROT` (`CAN_ERR_PROT_*`).
const PROTOCOL_TYPE: [(u8, &str); 8] = [
    (0x01, "single bit error"),
    (0x02, "frame format error"),
    (0x04, "bit stuffing error"),
    (0x08, "unable to send dominant bit"),
    (0x10, "unable to send recessive bit"),
    (0x20, "bus overload"),
    (0x40, "active error announcement"),
    (0x80, "error on transmission"),
];

/// data[3] for `CAN_ERR_PROT`: where in the frame (`CAN_ERR_PROT_LOC_*`).
fn protocol_location(loc: u8) -> Option<&'static str> {
    Some(match loc {
        0x03 => "start of frame",
        0x02 => "ID bits 28-21",
        0x06 => "ID bits 20-18",
        0x04 => "substitute RTR",
        0x05 => "identifier extension",
        0x07 => "ID bits 17-13",
        0x0F => "ID bits 12-5",
        0x0E => "ID bits 4-0",
        0x0C => "RTR bit",
        0x0D => "reserved bit 1",
        0x09 => "reserved bit 0",
        0x0B => "data length code",
        0x0A => "data section",
        0x08 => "CRC sequence",
        0x18 => "CRC delimiter",
        0x19 => "ACK slot",
        0x1B => "ACK delimiter",
        0x1A => "end of frame",
        0x12 => "intermission",
        _ => return None,
    })
}

/// data[4] for `CAN_ERR_TRX`: CANH state in the low nibble, CANL in the high nibble.
fn transceiver(status: u8) -> Vec<&'static str> {
    let mut out = Vec::new();
    match status & 0x0F {
        0x04 => out.push("CANH no wire"),
        0x05 => out.push("CANH short to BAT"),
        0x06 => out.push("CANH short to VCC"),
        0x07 => out.push("CANH short to GND"),
        _ => {}
    }
    match status & 0xF0 {
        0x40 => out.push("CANL no wire"),
        0x50 => out.push("CANL short to BAT"),
        0x60 => out.push("CANL short to VCC"),
        0x70 => out.push("CANL short to GND"),
        0x80 => out.push("CANL short to CANH"),
        _ => {}
    }
    out
}

fn flags(value: u8, table: &[(u8, &'static str)]) -> Vec<&'static str> {
    table
        .iter()
        .filter(|(bit, _)| value & bit != 0)
        .map(|&(_, text)| text)
        .collect()
}

/// Describes an error frame: `error_class` is the id without `CAN_ERR_FLAG` (python-can's
/// `arbitration_id` of an error frame), `data` its payload (missing bytes count as zero).
///
/// ```
/// use _core::socketcan::errframe::describe;
/// // CAN_ERR_CRTL with data[1] = CAN_ERR_CRTL_RX_PASSIVE | CAN_ERR_CRTL_TX_WARNING
/// assert_eq!(
///     describe(0x04, &[0, 0x18, 0, 0, 0, 0, 0, 0]),
///     "controller problem (TX error warning, RX error passive)"
/// );
/// ```
pub fn describe(error_class: u32, data: &[u8]) -> String {
    let byte = |i: usize| data.get(i).copied().unwrap_or(0);
    let mut parts: Vec<String> = Vec::new();
    for &(bit, name) in CLASSES.iter() {
        if error_class & bit == 0 {
            continue;
        }
        let details: Vec<String> = match bit {
            0x0002 if byte(0) != 0 => vec![format!("at bit {}", byte(0))],
            0x0004 => flags(byte(1), &CONTROLLER)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            0x0008 => {
                let mut d: Vec<String> = flags(byte(2), &PROTOCOL_TYPE)
                    .into_iter()
                    .map(str::to_owned)
                    .collect();
                if let Some(loc) = protocol_location(byte(3)) {
                    d.push(format!("at {loc}"));
                }
                d
            }
            0x0010 => transceiver(byte(4))
                .into_iter()
                .map(str::to_owned)
                .collect(),
            0x0200 => vec![format!("TX {} RX {}", byte(6), byte(7))],
            _ => Vec::new(),
        };
        if details.is_empty() {
            parts.push(name.to_owned());
        } else {
            parts.push(format!("{name} ({})", details.join(", ")));
        }
    }
    let unknown = error_class & !CLASSES.iter().fold(0, |acc, (bit, _)| acc | bit);
    if unknown != 0 {
        parts.push(format!("unknown error class 0x{unknown:X}"));
    }
    if parts.is_empty() {
        return "error frame without error class".to_owned();
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_class_is_named() {
        assert_eq!(describe(0x40, &[0; 8]), "bus off");
        assert_eq!(describe(0x20, &[]), "no ACK on transmission");
        assert_eq!(describe(0x100, &[0; 8]), "controller restarted");
        assert_eq!(describe(0x01, &[0; 8]), "TX timeout");
        assert_eq!(describe(0x80, &[0; 8]), "bus error");
    }

    #[test]
    fn details_come_from_the_data_bytes() {
        // CAN_ERR_LOSTARB, bit 7
        assert_eq!(describe(0x02, &[7]), "lost arbitration (at bit 7)");
        // CAN_ERR_PROT | CAN_ERR_BUSERROR: CAN_ERR_PROT_STUFF at CAN_ERR_PROT_LOC_ID12_05
        assert_eq!(
            describe(0x88, &[0, 0, 0x04, 0x0F, 0, 0, 0, 0]),
            "protocol violation (bit stuffing error, at ID bits 12-5); bus error"
        );
        // CAN_ERR_TRX: CAN_ERR_TRX_CANH_NO_WIRE | CAN_ERR_TRX_CANL_SHORT_TO_GND
        assert_eq!(
            describe(0x10, &[0, 0, 0, 0, 0x74, 0, 0, 0]),
            "transceiver status (CANH no wire, CANL short to GND)"
        );
        // CAN_ERR_CRTL | CAN_ERR_CNT
        assert_eq!(
            describe(0x204, &[0, 0x20, 0, 0, 0, 0, 128, 3]),
            "controller problem (TX error passive); error counters (TX 128 RX 3)"
        );
    }

    #[test]
    fn unknown_bits_are_reported() {
        assert_eq!(describe(0, &[0; 8]), "error frame without error class");
        assert_eq!(
            describe(0x440, &[0; 8]),
            "bus off; unknown error class 0x400"
        );
    }
}
