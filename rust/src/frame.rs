//! One CAN / CAN FD frame, the type every codec and socket in this crate reads and writes.
//!
//! Names follow Linux SocketCAN (`include/uapi/linux/can.h`) and can-utils: the identifier and
//! its type bits live together in `can_id` (`CAN_EFF_FLAG`, `CAN_RTR_FLAG`, `CAN_ERR_FLAG`),
//! the payload length in `len` and the CAN FD bits in `flags` (`CANFD_BRS`, `CANFD_ESI`,
//! `CANFD_FDF`). On top of the kernel's frame it carries what log files store beside it: a
//! timestamp, a channel, the direction, and the length the frame's DLC declares (`dlc`, as
//! python-can's `Message.dlc`: bytes for CAN FD, the raw code 0..=15 for classic CAN), which
//! files may record apart from the bytes they hold (a remote frame's requested length, a
//! classic DLC above 8).

/// Extended frame format (29-bit identifier).
pub const CAN_EFF_FLAG: u32 = 0x8000_0000;
/// Remote transmission request.
pub const CAN_RTR_FLAG: u32 = 0x4000_0000;
/// Error message frame.
pub const CAN_ERR_FLAG: u32 = 0x2000_0000;
/// Mask of a standard (11-bit) identifier.
pub const CAN_SFF_MASK: u32 = 0x0000_07FF;
/// Mask of an extended (29-bit) identifier.
pub const CAN_EFF_MASK: u32 = 0x1FFF_FFFF;
/// Mask of the error class bits of an error frame's identifier.
pub const CAN_ERR_MASK: u32 = 0x1FFF_FFFF;

/// Bit rate switch: the data phase used the second bit rate.
pub const CANFD_BRS: u8 = 0x01;
/// Error state indicator of the transmitting node.
pub const CANFD_ESI: u8 = 0x02;
/// The frame is a CAN FD frame (FD format / EDL bit).
pub const CANFD_FDF: u8 = 0x04;

/// Largest payload of a classic CAN frame.
pub const CAN_MAX_DLEN: usize = 8;
/// Largest payload of a CAN FD frame.
pub const CANFD_MAX_DLEN: usize = 64;

/// A CAN or CAN FD frame with the metadata log files keep beside it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CanFrame {
    /// Seconds; absolute (Unix time) when the source knows the start of the recording.
    pub timestamp: f64,
    /// Identifier plus `CAN_EFF_FLAG` / `CAN_RTR_FLAG` / `CAN_ERR_FLAG`.
    pub can_id: u32,
    /// Number of valid bytes in `data` (0..=64).
    pub len: u8,
    /// Declared length: bytes for CAN FD, the raw DLC 0..=15 for classic CAN.
    pub dlc: u8,
    /// `CANFD_BRS | CANFD_ESI | CANFD_FDF`.
    pub flags: u8,
    /// True for a received frame, false for one this node transmitted.
    pub is_rx: bool,
    /// Channel, counted from 0 as python-can does (BLF and ASC files count from 1).
    pub channel: i32,
    /// Payload; bytes past `len` are zero.
    pub data: [u8; CANFD_MAX_DLEN],
}

impl Default for CanFrame {
    fn default() -> Self {
        CanFrame {
            timestamp: 0.0,
            can_id: 0,
            len: 0,
            dlc: 0,
            flags: 0,
            is_rx: true,
            channel: 0,
            data: [0; CANFD_MAX_DLEN],
        }
    }
}

impl CanFrame {
    /// The identifier without its type bits.
    pub fn id(&self) -> u32 {
        self.can_id & CAN_EFF_MASK
    }
    pub fn is_extended(&self) -> bool {
        self.can_id & CAN_EFF_FLAG != 0
    }
    pub fn is_remote(&self) -> bool {
        self.can_id & CAN_RTR_FLAG != 0
    }
    pub fn is_error(&self) -> bool {
        self.can_id & CAN_ERR_FLAG != 0
    }
    pub fn is_fd(&self) -> bool {
        self.flags & CANFD_FDF != 0
    }
    /// The valid payload bytes.
    pub fn payload(&self) -> &[u8] {
        &self.data[..usize::from(self.len).min(CANFD_MAX_DLEN)]
    }
    /// Copies `bytes` (at most 64) into the payload and sets `len` and `dlc` to their count.
    pub fn set_payload(&mut self, bytes: &[u8]) {
        let n = bytes.len().min(CANFD_MAX_DLEN);
        self.data[..n].copy_from_slice(&bytes[..n]);
        self.data[n..].fill(0);
        self.len = n as u8;
        self.dlc = n as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_match_linux_can_h() {
        // Values from include/uapi/linux/can.h.
        assert_eq!(CAN_EFF_FLAG, 0x80000000);
        assert_eq!(CAN_RTR_FLAG, 0x40000000);
        assert_eq!(CAN_ERR_FLAG, 0x20000000);
        assert_eq!((CANFD_BRS, CANFD_ESI, CANFD_FDF), (1, 2, 4));
    }

    #[test]
    fn set_payload_zeroes_the_rest() {
        let mut f = CanFrame::default();
        f.set_payload(&[1; 8]);
        assert_eq!((f.len, f.dlc), (8, 8));
        f.set_payload(&[1; 3]);
        assert_eq!((f.len, f.dlc), (3, 3));
        assert_eq!(f.payload(), &[1, 1, 1]);
        assert!(f.data[3..].iter().all(|&b| b == 0));
        f.set_payload(&[2; 70]);
        assert_eq!(f.len, 64);
    }
}
