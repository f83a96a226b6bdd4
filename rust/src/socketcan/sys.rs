//! Kernel structures and thin system-call wrappers shared by the raw and BCM sockets.
//!
//! Layouts from `include/uapi/linux/can.h` and `can/bcm.h`; checked against the `libc` crate's
//! definitions in the tests below.

use std::ffi::c_int;
use std::io;
use std::mem;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// `struct canfd_frame`; its first 16 bytes are a `struct can_frame` (the fifth byte, `len`,
/// is `can_dlc`, and `len8_dlc` sits where `__res1` is).
#[repr(C, align(8))]
#[derive(Clone, Copy)]
pub struct RawFrame {
    pub can_id: u32,
    pub len: u8,
    pub flags: u8,
    pub res0: u8,
    pub len8_dlc: u8,
    pub data: [u8; 64],
}

impl RawFrame {
    pub const ZERO: RawFrame = RawFrame {
        can_id: 0,
        len: 0,
        flags: 0,
        res0: 0,
        len8_dlc: 0,
        data: [0; 64],
    };

    /// The first `n` bytes of the frame as the kernel reads them (n is 16 or 72).
    pub fn as_bytes(&self, n: usize) -> &[u8] {
        let n = n.min(mem::size_of::<RawFrame>());
        // SAFETY: RawFrame is repr(C) plain data without padding (4 + 4 * 1 + 64 bytes, align
        // 8, size 72), so every byte is initialised; `n` is clamped to its size.
        unsafe { std::slice::from_raw_parts((self as *const RawFrame).cast::<u8>(), n) }
    }
}

/// `CAN_MTU`: size of a classic `struct can_frame`.
pub const CAN_MTU: usize = 16;
/// `CANFD_MTU`: size of a `struct canfd_frame`.
pub const CANFD_MTU: usize = 72;

/// `struct bcm_timeval`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct BcmTimeval {
    pub tv_sec: libc::c_long,
    pub tv_usec: libc::c_long,
}

/// `struct bcm_msg_head` without its flexible `frames[]` member.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct BcmMsgHead {
    pub opcode: u32,
    pub flags: u32,
    pub count: u32,
    /// Where C puts implicit padding before the 8-aligned `ival1` on 64-bit targets, spelled
    /// out so that every byte of the struct is initialised.
    #[cfg(target_pointer_width = "64")]
    pub pad: u32,
    pub ival1: BcmTimeval,
    pub ival2: BcmTimeval,
    pub can_id: u32,
    pub nframes: u32,
}

impl BcmMsgHead {
    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: BcmMsgHead is repr(C) plain data without implicit padding (the 64-bit gap
        // is the explicit `pad` field; the size check in the tests confirms there is no other),
        // so all size_of::<Self>() bytes are initialised.
        unsafe {
            std::slice::from_raw_parts(
                (self as *const BcmMsgHead).cast::<u8>(),
                mem::size_of::<BcmMsgHead>(),
            )
        }
    }
}

// bcm.h opcodes and flags.
pub const TX_SETUP: u32 = 1;
pub const TX_DELETE: u32 = 2;
pub const SETTIMER: u32 = 0x0001;
pub const STARTTIMER: u32 = 0x0002;
pub const CAN_FD_FRAME: u32 = 0x0800;

// raw.h socket options.
pub const SOL_CAN_RAW: c_int = 100 + 1; // SOL_CAN_BASE + CAN_RAW
pub const CAN_RAW_FILTER: c_int = 1;
pub const CAN_RAW_ERR_FILTER: c_int = 2;
pub const CAN_RAW_LOOPBACK: c_int = 3;
pub const CAN_RAW_RECV_OWN_MSGS: c_int = 4;
pub const CAN_RAW_FD_FRAMES: c_int = 5;

pub const CAN_RAW: c_int = 1;
pub const CAN_BCM: c_int = 2;

/// The calling thread's last OS error.
pub fn errno() -> io::Error {
    io::Error::last_os_error()
}

/// An `io::Error` for an errno value.
pub fn errno_from(code: c_int) -> io::Error {
    io::Error::from_raw_os_error(code)
}

/// `socket(AF_CAN, kind | SOCK_CLOEXEC, protocol)`.
pub fn can_socket(kind: c_int, protocol: c_int) -> io::Result<OwnedFd> {
    // SAFETY: plain system call; the returned descriptor is owned by nobody else.
    let fd = unsafe { libc::socket(libc::AF_CAN, kind | libc::SOCK_CLOEXEC, protocol) };
    if fd < 0 {
        return Err(errno());
    }
    // SAFETY: `fd` is a new, valid descriptor that we own from here on.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `setsockopt` with a plain value (an int, a mask, an array of filters).
pub fn setsockopt<T: Copy>(fd: RawFd, level: c_int, name: c_int, value: &[T]) -> io::Result<()> {
    let len = mem::size_of_val(value) as libc::socklen_t;
    let ptr = if value.is_empty() {
        std::ptr::null()
    } else {
        value.as_ptr().cast::<libc::c_void>()
    };
    // SAFETY: `ptr`/`len` describe the caller's initialised slice (or null/0), which the
    // kernel only reads during the call.
    let r = unsafe { libc::setsockopt(fd, level, name, ptr, len) };
    if r < 0 {
        Err(errno())
    } else {
        Ok(())
    }
}

/// `getsockopt` of an int option.
pub fn getsockopt_int(fd: RawFd, level: c_int, name: c_int) -> io::Result<c_int> {
    let mut value: c_int = 0;
    let mut len = mem::size_of::<c_int>() as libc::socklen_t;
    // SAFETY: `value` and `len` are valid for writes of the sizes given.
    let r = unsafe {
        libc::getsockopt(
            fd,
            level,
            name,
            (&mut value as *mut c_int).cast::<libc::c_void>(),
            &mut len,
        )
    };
    if r < 0 {
        Err(errno())
    } else {
        Ok(value)
    }
}

/// A `sockaddr_can` for an interface index (0: all interfaces).
pub fn sockaddr_can(ifindex: c_int) -> libc::sockaddr_can {
    // SAFETY: sockaddr_can is plain data (integers and a union of integers), for which all
    // zero bytes is a valid value.
    let mut addr: libc::sockaddr_can = unsafe { mem::zeroed() };
    addr.can_family = libc::AF_CAN as libc::sa_family_t;
    addr.can_ifindex = ifindex;
    addr
}

/// `bind` (raw) or `connect` (BCM) a CAN socket to an interface.
pub fn bind_or_connect(fd: RawFd, ifindex: c_int, connect: bool) -> io::Result<()> {
    let addr = sockaddr_can(ifindex);
    let len = mem::size_of::<libc::sockaddr_can>() as libc::socklen_t;
    let ptr = (&addr as *const libc::sockaddr_can).cast::<libc::sockaddr>();
    // SAFETY: `ptr`/`len` describe a valid sockaddr_can that lives across the call.
    let r = unsafe {
        if connect {
            libc::connect(fd, ptr, len)
        } else {
            libc::bind(fd, ptr, len)
        }
    };
    if r < 0 {
        Err(errno())
    } else {
        Ok(())
    }
}

/// A non-blocking eventfd, used to wake threads waiting on a socket that is being closed.
pub fn eventfd() -> io::Result<OwnedFd> {
    // SAFETY: plain system call.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    if fd < 0 {
        return Err(errno());
    }
    // SAFETY: `fd` is a new descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Makes an eventfd readable for good (the counter is never read back).
pub fn eventfd_signal(fd: RawFd) {
    let one: u64 = 1;
    // SAFETY: writes 8 bytes from a valid u64 to an eventfd; failure (counter overflow) can
    // only mean the eventfd is readable already, which is all we want.
    unsafe {
        libc::write(fd, (&one as *const u64).cast::<libc::c_void>(), 8);
    }
}

/// What `wait` saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ready {
    /// The socket is ready (or has an error pending, which the next call reports).
    Socket,
    /// The wake-up eventfd fired: the socket is being closed.
    Woken,
    /// The timeout ran out.
    Timeout,
    /// A signal arrived.
    Interrupted,
}

/// `ppoll` on `fd` (for `events`) and the wake-up eventfd, up to `timeout` (None: no limit).
pub fn wait(
    fd: RawFd,
    events: libc::c_short,
    wake: RawFd,
    timeout: Option<std::time::Duration>,
) -> io::Result<Ready> {
    let mut fds = [
        libc::pollfd {
            fd,
            events,
            revents: 0,
        },
        libc::pollfd {
            fd: wake,
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    // tv_sec is `as _` (time_t, whose name libc deprecates on musl), clamped to i32::MAX
    // seconds so it fits every time_t; 68 years is as good as no timeout.
    let ts = timeout.map(|t| libc::timespec {
        tv_sec: t.as_secs().min(i32::MAX as u64) as _,
        tv_nsec: t.subsec_nanos() as libc::c_long,
    });
    let ts_ptr = ts
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `fds` is a valid array of 2 pollfds and `ts_ptr` null or a valid timespec, both
    // alive for the call; a null sigmask leaves the signal mask alone.
    let r = unsafe { libc::ppoll(fds.as_mut_ptr(), 2, ts_ptr, std::ptr::null()) };
    if r < 0 {
        let e = errno();
        return if e.kind() == io::ErrorKind::Interrupted {
            Ok(Ready::Interrupted)
        } else {
            Err(e)
        };
    }
    if fds[1].revents != 0 {
        return Ok(Ready::Woken);
    }
    if r == 0 {
        return Ok(Ready::Timeout);
    }
    Ok(Ready::Socket)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_match_the_kernel_headers() {
        assert_eq!(mem::size_of::<RawFrame>(), CANFD_MTU);
        assert_eq!(
            mem::size_of::<RawFrame>(),
            mem::size_of::<libc::canfd_frame>()
        );
        assert_eq!(mem::size_of::<libc::can_frame>(), CAN_MTU);
        assert_eq!(mem::offset_of!(RawFrame, data), 8);
        assert_eq!(
            mem::size_of::<BcmMsgHead>(),
            mem::size_of::<libc::bcm_msg_head>()
        );
        assert_eq!(mem::offset_of!(BcmMsgHead, can_id), {
            // SAFETY: bcm_msg_head is plain integers, valid when all zero.
            let h: libc::bcm_msg_head = unsafe { mem::zeroed() };
            let base = &h as *const _ as usize;
            &h.can_id as *const _ as usize - base
        });
        let explicit = 3 * 4
            + if cfg!(target_pointer_width = "64") {
                4
            } else {
                0
            }
            + 2 * mem::size_of::<BcmTimeval>()
            + 2 * 4;
        assert_eq!(
            mem::size_of::<BcmMsgHead>(),
            explicit,
            "no implicit padding"
        );
        assert_eq!(SOL_CAN_RAW, libc::SOL_CAN_RAW);
        assert_eq!(CAN_RAW_FD_FRAMES, libc::CAN_RAW_FD_FRAMES);
        assert_eq!(CAN_FD_FRAME, libc::CAN_FD_FRAME);
        assert_eq!(TX_SETUP, libc::TX_SETUP);
        assert_eq!(TX_DELETE, libc::TX_DELETE);
    }
}
