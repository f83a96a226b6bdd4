//! SocketCAN: Linux raw CAN sockets (`CAN_RAW`) and the broadcast manager (`CAN_BCM`).
//!
//! Follows the kernel's `Documentation/networking/can.rst` (Linux 6.1) and the UAPI headers
//! `include/uapi/linux/can.h`, `can/raw.h`, `can/bcm.h` and `can/error.h`; the constants and
//! struct layouts below are the facts those headers define.
//!
//! - [`raw`]: a `CAN_RAW` socket with CAN FD, kernel filters (including inverted ones), error
//!   frames, reception of one's own frames, kernel (and hardware) receive timestamps, binding to
//!   all interfaces at once, sends with a timeout and a batched receive (`recvmmsg`).
//! - [`bcm`]: cyclic transmission through the kernel's broadcast manager.
//! - [`iface`]: interface names and indices, and the list of the machine's CAN interfaces.
//! - [`errframe`]: readable text for SocketCAN error frames (plain data, so on every platform).
//!
//! Everything that touches a socket is compiled on Linux only; the crate builds elsewhere with
//! just the platform-independent parts ([`errframe`], [`KernelFilter`], [`Error`]).

pub mod errframe;

#[cfg(target_os = "linux")]
pub mod bcm;
#[cfg(target_os = "linux")]
pub mod iface;
#[cfg(target_os = "linux")]
pub mod raw;
#[cfg(target_os = "linux")]
mod sys;

use std::io;

use crate::frame::CAN_EFF_FLAG;
#[cfg(test)]
use crate::frame::CAN_RTR_FLAG;

/// `CAN_INV_FILTER` (can.h): set in a filter's `can_id` to invert the filter's match.
pub const CAN_INV_FILTER: u32 = 0x2000_0000;
/// `CAN_RAW_FILTER_MAX` (raw.h): the most filters one socket accepts.
pub const CAN_RAW_FILTER_MAX: usize = 512;
/// `CAN_ERR_MASK` (can.h): every error class; the error filter that receives all error frames.
pub const CAN_ERR_MASK: u32 = 0x1FFF_FFFF;

/// Errors of the SocketCAN layer. Each names the interface and the operation concerned.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The named network interface does not exist (or the name is not a valid one).
    #[error("no network interface named {name:?} ({reason})")]
    NoSuchInterface { name: String, reason: String },
    /// A system call failed.
    #[error("{what} on {channel}: {source}")]
    Os {
        what: &'static str,
        channel: String,
        #[source]
        source: io::Error,
    },
    /// The interface's transmit queue is full (`ENOBUFS`/`EAGAIN`) and no wait was allowed.
    #[error("the transmit buffer of {channel} is full: {source}")]
    TxBufferFull {
        channel: String,
        #[source]
        source: io::Error,
    },
    /// The transmit queue stayed full for the whole timeout.
    #[error("could not send on {channel} within {timeout:.3} s: the transmit buffer stayed full")]
    TxTimeout { channel: String, timeout: f64 },
    /// The socket was closed (possibly by another thread while this one waited).
    #[error("the socket on {channel} is closed")]
    Closed { channel: String },
    /// A signal interrupted a wait; the caller checks for a pending exception and retries.
    #[error("interrupted by a signal")]
    Interrupted,
    /// A frame or argument that cannot be sent as given.
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// The operating system's error number, if the error came from a system call.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Os { source, .. } | Error::TxBufferFull { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// One kernel receive filter (`struct can_filter`): a frame passes when
/// `frame.can_id & can_mask == can_id & can_mask`, or, with [`CAN_INV_FILTER`] set in `can_id`,
/// when it does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct KernelFilter {
    pub can_id: u32,
    pub can_mask: u32,
}

impl KernelFilter {
    /// The kernel filter for python-can's filter dict `{"can_id", "can_mask", "extended"}`
    /// (plus our optional `"inverted"`).
    ///
    /// The frame's `can_id` as the kernel compares it carries `CAN_EFF_FLAG` for extended
    /// frames and `CAN_RTR_FLAG` for remote frames. With `extended` given, the mask includes
    /// `CAN_EFF_FLAG` so that only frames of that id type pass; without it the id type is not
    /// compared. The RTR bit is never compared, so data and remote frames pass alike. Id bits
    /// beyond 29 in `can_id`/`can_mask` are rejected, as they would compare flag bits.
    pub fn from_python(
        can_id: u64,
        can_mask: u64,
        extended: Option<bool>,
        inverted: bool,
    ) -> Result<KernelFilter> {
        let id = u32::try_from(can_id)
            .ok()
            .filter(|v| v & !crate::frame::CAN_EFF_MASK == 0);
        let mask = u32::try_from(can_mask)
            .ok()
            .filter(|v| v & !crate::frame::CAN_EFF_MASK == 0);
        let (Some(mut id), Some(mut mask)) = (id, mask) else {
            return Err(Error::Invalid(format!(
                "filter can_id 0x{can_id:X} / can_mask 0x{can_mask:X}: both must fit in 29 bits \
                 (0..=0x1FFFFFFF) for a kernel filter"
            )));
        };
        match extended {
            Some(true) => {
                id |= CAN_EFF_FLAG;
                mask |= CAN_EFF_FLAG;
            }
            Some(false) => mask |= CAN_EFF_FLAG,
            None => {}
        }
        if inverted {
            id |= CAN_INV_FILTER;
        }
        Ok(KernelFilter {
            can_id: id,
            can_mask: mask,
        })
    }

    /// The filter that passes every frame (the kernel's default for a new socket).
    pub const PASS_ALL: KernelFilter = KernelFilter {
        can_id: 0,
        can_mask: 0,
    };

    /// Whether a frame with this `can_id` (flags included) passes, as `raw_rcv` decides it;
    /// error frames are governed by the error filter instead and never reach this test.
    pub fn matches(&self, frame_can_id: u32) -> bool {
        let id = self.can_id & !CAN_INV_FILTER;
        let hit = frame_can_id & self.can_mask == id & self.can_mask;
        hit != (self.can_id & CAN_INV_FILTER != 0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn filter_conversion_follows_can_h() {
        let f = KernelFilter::from_python(0x123, 0x7FF, Some(false), false).unwrap();
        assert_eq!((f.can_id, f.can_mask), (0x123, 0x7FF | CAN_EFF_FLAG));
        assert!(f.matches(0x123));
        assert!(f.matches(0x123 | CAN_RTR_FLAG));
        assert!(!f.matches(0x123 | CAN_EFF_FLAG));
        assert!(!f.matches(0x124));

        let f = KernelFilter::from_python(0x1234_5678, 0x1FFF_FFFF, Some(true), false).unwrap();
        assert_eq!(f.can_id, 0x1234_5678 | CAN_EFF_FLAG);
        assert!(f.matches(0x1234_5678 | CAN_EFF_FLAG));
        assert!(!f.matches(0x1234_5678 & 0x7FF));

        let f = KernelFilter::from_python(0x100, 0x700, None, false).unwrap();
        assert!(f.matches(0x1FF) && f.matches(0x100 | CAN_EFF_FLAG) && !f.matches(0x200));

        let inv = KernelFilter::from_python(0x100, 0x7FF, Some(false), true).unwrap();
        assert_eq!(inv.can_id, 0x100 | CAN_INV_FILTER);
        assert!(!inv.matches(0x100) && inv.matches(0x101));
    }

    #[test]
    fn filter_rejects_flag_bits() {
        assert!(KernelFilter::from_python(0x2000_0000, 0, None, false).is_err());
        assert!(KernelFilter::from_python(0, 1 << 40, None, false).is_err());
        assert!(KernelFilter::PASS_ALL.matches(0x7FF));
    }
}
