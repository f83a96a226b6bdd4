//! The broadcast manager (`CAN_BCM`): cyclic transmission done by the kernel.
//!
//! Documentation/networking/can.rst, section "Broadcast Manager Protocol Sockets", and
//! `include/uapi/linux/can/bcm.h`. One `TX_SETUP` message creates (or updates) a transmission
//! task of the socket, keyed by its `can_id` (and the `CAN_FD_FRAME` flag): the kernel sends
//! the task's frames in turn, `count` of them `ival1` apart, then every `ival2`. With
//! `STARTTIMER` the first frame goes out at once. A `TX_SETUP` without `SETTIMER`/`STARTTIMER`
//! replaces the frames of a running task and leaves its timer alone. `TX_DELETE` removes it.

use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use super::raw::{display_channel, Outgoing};
use super::sys::{self, BcmMsgHead, BcmTimeval, CANFD_MTU, CAN_MTU};
use super::{iface, Error, Result};
use crate::frame::CanFrame;

/// Most frames one task may cycle through (`MAX_NFRAMES` in net/can/bcm.c).
pub const MAX_NFRAMES: usize = 256;

/// When a task sends: `count` frames `ival1` apart, then one every `ival2` (zero: stop).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timer {
    pub count: u32,
    pub ival1: Duration,
    pub ival2: Duration,
}

impl Timer {
    /// Every `period`, for `duration` if given (as `count` frames `period` apart), else forever.
    pub fn periodic(period: Duration, duration: Option<Duration>) -> Timer {
        match duration {
            None => Timer {
                count: 0,
                ival1: Duration::ZERO,
                ival2: period,
            },
            Some(d) => {
                let n = if period.is_zero() {
                    0.0
                } else {
                    (d.as_secs_f64() / period.as_secs_f64()).floor()
                };
                Timer {
                    count: if n >= f64::from(u32::MAX) {
                        u32::MAX
                    } else {
                        (n as u32).max(1)
                    },
                    ival1: period,
                    ival2: Duration::ZERO,
                }
            }
        }
    }
}

fn timeval(d: Duration) -> BcmTimeval {
    BcmTimeval {
        tv_sec: d.as_secs().min(libc::c_long::MAX as u64) as libc::c_long,
        tv_usec: d.subsec_micros() as libc::c_long,
    }
}

/// A BCM socket connected to one CAN interface.
pub struct BcmSocket {
    sock: Mutex<Option<OwnedFd>>,
    channel: String,
}

impl BcmSocket {
    /// Opens a BCM socket on the interface `channel`.
    pub fn open(channel: &str) -> Result<BcmSocket> {
        let ifindex = iface::index_of(channel)?;
        let os = |what: &'static str| {
            move |source| Error::Os {
                what,
                channel: channel.to_owned(),
                source,
            }
        };
        let sock = sys::can_socket(libc::SOCK_DGRAM, sys::CAN_BCM)
            .map_err(os("creating a CAN_BCM socket"))?;
        sys::bind_or_connect(sock.as_raw_fd(), ifindex, true)
            .map_err(os("connecting the CAN_BCM socket"))?;
        Ok(BcmSocket {
            sock: Mutex::new(Some(sock)),
            channel: channel.to_owned(),
        })
    }

    /// Uses a BCM socket someone else opened and connected (for example a Python
    /// `socket.socket(AF_CAN, SOCK_DGRAM, CAN_BCM)`): the descriptor is duplicated, so closing
    /// this object leaves the original open.
    pub fn from_fd(fd: RawFd, channel: &str) -> Result<BcmSocket> {
        let os = |source| Error::Os {
            what: "duplicating the BCM socket descriptor",
            channel: display_channel(channel),
            source,
        };
        if fd < 0 {
            return Err(os(sys::errno_from(libc::EBADF)));
        }
        // SAFETY: the caller's descriptor is open for the duration of this call (it is only
        // borrowed to duplicate it).
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        let owned = borrowed.try_clone_to_owned().map_err(os)?;
        Ok(BcmSocket {
            sock: Mutex::new(Some(owned)),
            channel: channel.to_owned(),
        })
    }

    pub fn channel(&self) -> &str {
        &self.channel
    }

    pub fn fileno(&self) -> Option<RawFd> {
        self.sock
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|s| s.as_raw_fd())
    }

    /// Closes the socket; the kernel deletes every task of it. A second call does nothing.
    pub fn close(&self) {
        self.sock
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
    }

    fn write(&self, what: &'static str, bytes: &[u8]) -> Result<()> {
        let guard = self.sock.lock().unwrap_or_else(PoisonError::into_inner);
        let sock = guard.as_ref().ok_or_else(|| Error::Closed {
            channel: self.channel.clone(),
        })?;
        // SAFETY: `bytes` is valid for reads of its length during the call.
        let r = unsafe {
            libc::write(
                sock.as_raw_fd(),
                bytes.as_ptr().cast::<libc::c_void>(),
                bytes.len(),
            )
        };
        if r < 0 {
            return Err(Error::Os {
                what,
                channel: self.channel.clone(),
                source: sys::errno(),
            });
        }
        Ok(())
    }

    /// Creates or updates the task for `frames` (1..=256 frames with the same `can_id`, all
    /// classic or all CAN FD). With a `timer`, (re)starts sending at once on that schedule;
    /// without one, only replaces the frames of the existing task and keeps its timer running.
    pub fn tx_setup(&self, frames: &[CanFrame], timer: Option<Timer>) -> Result<()> {
        let Some(first) = frames.first() else {
            return Err(Error::Invalid(
                "a cyclic task needs at least one frame".to_owned(),
            ));
        };
        if frames.len() > MAX_NFRAMES {
            return Err(Error::Invalid(format!(
                "the broadcast manager cycles through at most {MAX_NFRAMES} frames per task, \
                 got {}",
                frames.len()
            )));
        }
        let fd_frames = first.is_fd();
        let mut encoded = Vec::with_capacity(frames.len());
        for f in frames {
            if f.can_id != first.can_id {
                return Err(Error::Invalid(format!(
                    "all frames of a cyclic task need the same id: 0x{:X} and 0x{:X}",
                    first.can_id, f.can_id
                )));
            }
            if f.is_fd() != fd_frames {
                return Err(Error::Invalid(
                    "the frames of a cyclic task must be all CAN FD or all classic".to_owned(),
                ));
            }
            encoded.push(Outgoing::encode(f)?);
        }
        let mut head = BcmMsgHead {
            opcode: sys::TX_SETUP,
            can_id: first.can_id,
            nframes: frames.len() as u32,
            ..BcmMsgHead::default()
        };
        if fd_frames {
            head.flags |= sys::CAN_FD_FRAME;
        }
        if let Some(t) = timer {
            head.flags |= sys::SETTIMER | sys::STARTTIMER;
            head.count = t.count;
            head.ival1 = timeval(t.ival1);
            head.ival2 = timeval(t.ival2);
        }
        let frame_size = if fd_frames { CANFD_MTU } else { CAN_MTU };
        let mut bytes = Vec::with_capacity(std::mem::size_of::<BcmMsgHead>() + frames.len() * 72);
        bytes.extend_from_slice(head.as_bytes());
        for e in &encoded {
            bytes.extend_from_slice(e.raw.as_bytes(frame_size));
        }
        self.write(
            if timer.is_some() {
                "starting a cyclic task (BCM TX_SETUP)"
            } else {
                "updating a cyclic task (BCM TX_SETUP)"
            },
            &bytes,
        )
    }

    /// Deletes the task sending `can_id`. Returns false if there was none.
    pub fn tx_delete(&self, can_id: u32, fd_frames: bool) -> Result<bool> {
        let head = BcmMsgHead {
            opcode: sys::TX_DELETE,
            can_id,
            flags: if fd_frames { sys::CAN_FD_FRAME } else { 0 },
            ..BcmMsgHead::default()
        };
        match self.write("stopping a cyclic task (BCM TX_DELETE)", head.as_bytes()) {
            Ok(()) => Ok(true),
            Err(Error::Os { source, .. }) if source.raw_os_error() == Some(libc::EINVAL) => {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_follow_the_duration() {
        let p = Duration::from_millis(200);
        assert_eq!(
            Timer::periodic(p, None),
            Timer {
                count: 0,
                ival1: Duration::ZERO,
                ival2: p
            }
        );
        let t = Timer::periodic(p, Some(Duration::from_secs(1)));
        assert_eq!((t.count, t.ival1, t.ival2), (5, p, Duration::ZERO));
        // A duration shorter than one period still sends once.
        assert_eq!(Timer::periodic(p, Some(Duration::from_millis(10))).count, 1);
    }

    #[test]
    fn timeval_splits_seconds_and_microseconds() {
        let tv = timeval(Duration::from_micros(2_500_001));
        assert_eq!((tv.tv_sec, tv.tv_usec), (2, 500_001));
    }
}
