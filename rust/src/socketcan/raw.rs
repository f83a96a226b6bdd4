//! `CAN_RAW` sockets (Documentation/networking/can.rst, section "RAW Protocol Sockets").
//!
//! A [`RawSocket`] is non-blocking underneath; waits are `ppoll` calls that also watch an
//! eventfd, so that [`RawSocket::close`] wakes every thread blocked in a receive or a send on
//! the socket before the descriptor is closed (closing a descriptor another thread is polling
//! is a race, see close(2)). All methods take `&self` and may be called from several threads.
//!
//! Receiving is batched: one `recvmmsg` call fetches every frame that is waiting, up to
//! [`BATCH`], each with its kernel timestamp, its interface index and whether it is one of the
//! socket's own transmissions (`MSG_CONFIRM`). Callers keep the surplus for later calls, so a
//! flood costs one system call per batch instead of two per frame (`select` + `recvmsg`).

use std::collections::VecDeque;
use std::ffi::{c_int, c_void};
use std::mem;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::sys::{self, RawFrame, Ready, CANFD_MTU, CAN_MTU};
use super::{iface, Error, KernelFilter, Result, CAN_RAW_FILTER_MAX};
use crate::frame::{CanFrame, CANFD_FDF, CANFD_MAX_DLEN, CAN_ERR_FLAG, CAN_MAX_DLEN, CAN_RTR_FLAG};

/// Most frames one `recvmmsg` call fetches.
pub const BATCH: usize = 64;

/// Control buffer bytes per message: room for `SCM_TIMESTAMPING` (3 timespecs),
/// `SCM_TIMESTAMPNS` and `SO_RXQ_OVFL` together.
const CONTROL_WORDS: usize = 24;

// SO_TIMESTAMPING flags (include/uapi/linux/net_tstamp.h).
const SOF_TIMESTAMPING_RX_HARDWARE: u32 = 1 << 2;
const SOF_TIMESTAMPING_RX_SOFTWARE: u32 = 1 << 3;
const SOF_TIMESTAMPING_SOFTWARE: u32 = 1 << 4;
const SOF_TIMESTAMPING_RAW_HARDWARE: u32 = 1 << 6;

/// Which receive timestamps the kernel attaches to each frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Timestamping {
    /// The kernel's software timestamp, taken when the frame entered the network stack
    /// (`SO_TIMESTAMPNS`), in Unix time.
    #[default]
    Software,
    /// The device's hardware timestamp where the driver provides one (`SO_TIMESTAMPING` with
    /// `SOF_TIMESTAMPING_RAW_HARDWARE`), else the software timestamp. Hardware timestamps
    /// count in the device's clock, which is not necessarily Unix time.
    Hardware,
}

/// How a socket is set up.
#[derive(Debug, Clone)]
pub struct Options {
    /// Enable CAN FD frames (`CAN_RAW_FD_FRAMES`).
    pub fd: bool,
    /// Receive the frames this socket sends (`CAN_RAW_RECV_OWN_MSGS`).
    pub receive_own_messages: bool,
    /// Let other sockets on this host see the frames this one sends (`CAN_RAW_LOOPBACK`).
    pub local_loopback: bool,
    /// Error classes to receive as error frames (`CAN_RAW_ERR_FILTER`; 0: none).
    pub error_mask: u32,
    /// Receive buffer to ask for, in bytes (`SO_RCVBUFFORCE`, or `SO_RCVBUF` without
    /// `CAP_NET_ADMIN`, which the kernel caps at `net.core.rmem_max`). None: the default.
    pub receive_buffer: Option<usize>,
    pub timestamping: Timestamping,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            fd: false,
            receive_own_messages: false,
            local_loopback: true,
            error_mask: super::CAN_ERR_MASK,
            receive_buffer: None,
            timestamping: Timestamping::Software,
        }
    }
}

/// How long a call may wait.
///
/// A timeout becomes a deadline only when the call actually has to wait: reading the clock
/// costs a system call where there is no vDSO (12 µs under user-mode Linux, more than the
/// receive itself), and a frame that is already waiting needs no deadline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Wait {
    /// Do not wait at all.
    Now,
    /// Wait up to this many seconds from the first time waiting is needed.
    Within(f64),
    /// Wait until `deadline`; `seconds` is the timeout as given, for error messages.
    Until { deadline: Instant, seconds: f64 },
    /// Wait as long as it takes.
    Forever,
}

impl Wait {
    /// From a timeout in seconds: None waits forever, zero or less does not wait.
    pub fn from_timeout(timeout: Option<f64>) -> Wait {
        match timeout {
            None => Wait::Forever,
            Some(t) if t.is_nan() || t <= 0.0 => Wait::Now,
            // Beyond ~30 years a deadline is not representable on every platform: forever.
            Some(t) if t > 1e9 => Wait::Forever,
            Some(t) => Wait::Within(t),
        }
    }

    /// What is left: None for no limit, Some(ZERO) when the time is up. Fixes the deadline
    /// of a `Within` wait on first use.
    fn remaining(&mut self) -> Option<Duration> {
        match *self {
            Wait::Now => Some(Duration::ZERO),
            Wait::Forever => None,
            Wait::Within(seconds) => {
                let d = Duration::from_secs_f64(seconds);
                *self = Wait::Until {
                    deadline: Instant::now() + d,
                    seconds,
                };
                Some(d)
            }
            Wait::Until { deadline, .. } => {
                Some(deadline.saturating_duration_since(Instant::now()))
            }
        }
    }

    /// The timeout as given, in seconds (0 for `Now`, infinity for `Forever`).
    fn seconds(&self) -> f64 {
        match *self {
            Wait::Now => 0.0,
            Wait::Within(s) | Wait::Until { seconds: s, .. } => s,
            Wait::Forever => f64::INFINITY,
        }
    }
}

/// A received frame and the index of the interface it came from.
#[derive(Debug, Clone, Copy)]
pub struct Received {
    /// `timestamp` (Unix seconds), `can_id`, `len`, `dlc`, `flags` (with `CANFD_FDF` for CAN FD
    /// frames) and `is_rx` (false for this socket's own transmissions) are filled in.
    pub frame: CanFrame,
    pub ifindex: i32,
}

/// Buffers one `recvmmsg` call receives into; reused from call to call.
pub struct RecvScratch {
    frames: Vec<RawFrame>,
    addrs: Vec<libc::sockaddr_can>,
    control: Vec<[u64; CONTROL_WORDS]>,
}

impl Default for RecvScratch {
    fn default() -> Self {
        RecvScratch {
            frames: vec![RawFrame::ZERO; BATCH],
            addrs: vec![sys::sockaddr_can(0); BATCH],
            control: vec![[0; CONTROL_WORDS]; BATCH],
        }
    }
}

/// A frame encoded for the kernel: the bytes to write and how many of them.
#[derive(Clone, Copy)]
pub struct Outgoing {
    pub raw: RawFrame,
    pub mtu: usize,
}

impl Outgoing {
    /// Encodes a frame: classic frames as a 16-byte `can_frame` with `len` data bytes (for a
    /// remote frame, `dlc` is the requested length), CAN FD frames (`CANFD_FDF` in `flags`) as
    /// a 72-byte `canfd_frame` whose length is rounded up to the next valid CAN FD length.
    pub fn encode(frame: &CanFrame) -> Result<Outgoing> {
        let mut raw = RawFrame::ZERO;
        raw.can_id = frame.can_id;
        let payload = frame.payload();
        if frame.is_fd() {
            if frame.is_remote() {
                return Err(Error::Invalid(
                    "CAN FD frames cannot be remote frames".to_owned(),
                ));
            }
            let n = usize::from(frame.len);
            let Some(len) =
                crate::dlc::len_to_dlc(n).and_then(|d| crate::dlc::dlc_to_len(d.into()))
            else {
                return Err(Error::Invalid(format!(
                    "a CAN FD frame carries at most {CANFD_MAX_DLEN} bytes, got {n}"
                )));
            };
            raw.len = len as u8;
            // CANFD_FDF is left out: the 72-byte write already says "FD", and kernels before
            // 6.0 do not know the flag.
            raw.flags = frame.flags & !CANFD_FDF;
            raw.data[..payload.len()].copy_from_slice(payload);
            Ok(Outgoing {
                raw,
                mtu: CANFD_MTU,
            })
        } else {
            if frame.flags & !CANFD_FDF != 0 {
                return Err(Error::Invalid(
                    "bitrate_switch and error_state_indicator need a CAN FD frame (is_fd=True)"
                        .to_owned(),
                ));
            }
            let n = if frame.is_remote() {
                usize::from(frame.dlc)
            } else {
                usize::from(frame.len)
            };
            if n > CAN_MAX_DLEN {
                return Err(Error::Invalid(format!(
                    "a classic CAN frame carries at most {CAN_MAX_DLEN} bytes, got {n} \
                     (set is_fd=True for CAN FD)"
                )));
            }
            raw.len = n as u8;
            if !frame.is_remote() {
                raw.data[..payload.len()].copy_from_slice(payload);
            }
            Ok(Outgoing { raw, mtu: CAN_MTU })
        }
    }
}

/// A `CAN_RAW` socket bound to one CAN interface or to all of them.
pub struct RawSocket {
    /// None once closed. Readers use the descriptor; `close` takes the write lock.
    sock: RwLock<Option<OwnedFd>>,
    /// The descriptor number, for `fileno()` (valid until closed).
    raw_fd: RawFd,
    wake: OwnedFd,
    closed: AtomicBool,
    channel: String,
    ifindex: i32,
    fd_frames: bool,
    timestamping: Timestamping,
    /// The kernel's count of frames dropped because the receive queue was full (SO_RXQ_OVFL).
    drops: AtomicU32,
    /// Whether the caller holds received frames it has not handed out yet ([`set_buffered`]).
    ///
    /// [`set_buffered`]: RawSocket::set_buffered
    buffered: AtomicBool,
    /// Set once [`readiness_fd`](RawSocket::readiness_fd) was asked for.
    watching: AtomicBool,
    readiness: Mutex<Option<Readiness>>,
}

/// An epoll descriptor that is readable while the socket is readable or frames are buffered:
/// it watches the socket and an eventfd that is kept readable while `buffered` is set.
struct Readiness {
    epoll: OwnedFd,
    event: OwnedFd,
    signaled: bool,
}

impl RawSocket {
    /// Opens a socket on `channel` (an interface name, or "" for all CAN interfaces).
    pub fn open(channel: &str, opts: &Options) -> Result<RawSocket> {
        let ifindex = if channel.is_empty() {
            0
        } else {
            iface::index_of(channel)?
        };
        let label = display_channel(channel);
        let os = |what: &'static str| {
            let label = label.clone();
            move |source| Error::Os {
                what,
                channel: label,
                source,
            }
        };
        let sock = sys::can_socket(libc::SOCK_RAW | libc::SOCK_NONBLOCK, sys::CAN_RAW)
            .map_err(os("creating a CAN_RAW socket"))?;
        let fd = sock.as_raw_fd();
        let on = |b: bool| [c_int::from(b)];
        if opts.fd {
            sys::setsockopt(fd, sys::SOL_CAN_RAW, sys::CAN_RAW_FD_FRAMES, &on(true))
                .map_err(os("enabling CAN FD frames (CAN_RAW_FD_FRAMES)"))?;
        }
        sys::setsockopt(
            fd,
            sys::SOL_CAN_RAW,
            sys::CAN_RAW_LOOPBACK,
            &on(opts.local_loopback || opts.receive_own_messages),
        )
        .map_err(os("setting CAN_RAW_LOOPBACK"))?;
        sys::setsockopt(
            fd,
            sys::SOL_CAN_RAW,
            sys::CAN_RAW_RECV_OWN_MSGS,
            &on(opts.receive_own_messages),
        )
        .map_err(os("setting CAN_RAW_RECV_OWN_MSGS"))?;
        sys::setsockopt(
            fd,
            sys::SOL_CAN_RAW,
            sys::CAN_RAW_ERR_FILTER,
            &[opts.error_mask],
        )
        .map_err(os("setting the error filter (CAN_RAW_ERR_FILTER)"))?;
        match opts.timestamping {
            Timestamping::Software => {
                sys::setsockopt(fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, &on(true))
                    .map_err(os("enabling receive timestamps (SO_TIMESTAMPNS)"))?;
            }
            Timestamping::Hardware => {
                let flags = SOF_TIMESTAMPING_RX_HARDWARE
                    | SOF_TIMESTAMPING_RAW_HARDWARE
                    | SOF_TIMESTAMPING_RX_SOFTWARE
                    | SOF_TIMESTAMPING_SOFTWARE;
                sys::setsockopt(fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPING, &[flags])
                    .map_err(os("enabling hardware timestamps (SO_TIMESTAMPING)"))?;
            }
        }
        // The drop counter is informational: a kernel without it still works.
        let _ = sys::setsockopt(fd, libc::SOL_SOCKET, libc::SO_RXQ_OVFL, &on(true));
        if let Some(size) = opts.receive_buffer {
            let size = [c_int::try_from(size).unwrap_or(c_int::MAX)];
            if sys::setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &size).is_err() {
                sys::setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, &size)
                    .map_err(os("setting the receive buffer size (SO_RCVBUF)"))?;
            }
        }
        sys::bind_or_connect(fd, ifindex, false).map_err(os("binding the CAN_RAW socket"))?;
        let wake = sys::eventfd().map_err(os("creating an eventfd"))?;
        Ok(RawSocket {
            sock: RwLock::new(Some(sock)),
            raw_fd: fd,
            wake,
            closed: AtomicBool::new(false),
            channel: channel.to_owned(),
            ifindex,
            fd_frames: opts.fd,
            timestamping: opts.timestamping,
            drops: AtomicU32::new(0),
            buffered: AtomicBool::new(false),
            watching: AtomicBool::new(false),
            readiness: Mutex::new(None),
        })
    }

    /// The interface name given at opening ("" for all interfaces).
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// The bound interface's index (0 for all interfaces).
    pub fn ifindex(&self) -> i32 {
        self.ifindex
    }

    /// Whether CAN FD frames are enabled.
    pub fn fd_frames(&self) -> bool {
        self.fd_frames
    }

    /// The descriptor, or None once closed.
    pub fn fileno(&self) -> Option<RawFd> {
        if self.closed.load(Ordering::Acquire) {
            None
        } else {
            Some(self.raw_fd)
        }
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Frames the kernel dropped because this socket's receive queue was full: the socket's
    /// drop counter (`SO_MEMINFO`), else the count last reported with a received frame
    /// (`SO_RXQ_OVFL`).
    pub fn dropped_frames(&self) -> u32 {
        let reported = self.drops.load(Ordering::Relaxed);
        let guard = self.sock.read().unwrap_or_else(PoisonError::into_inner);
        let Some(sock) = guard.as_ref() else {
            return reported;
        };
        // SK_MEMINFO_DROPS (include/uapi/linux/sock_diag.h) is the 9th value of SO_MEMINFO.
        let mut info = [0u32; 9];
        let mut len = mem::size_of_val(&info) as libc::socklen_t;
        // SAFETY: `info` and `len` are valid for writes of the sizes given.
        let r = unsafe {
            libc::getsockopt(
                sock.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_MEMINFO,
                info.as_mut_ptr().cast::<c_void>(),
                &mut len,
            )
        };
        if r == 0 && len as usize >= mem::size_of_val(&info) {
            info[8].max(reported)
        } else {
            reported
        }
    }

    /// The receive buffer size the kernel granted (`SO_RCVBUF`, which it reports doubled).
    pub fn receive_buffer_size(&self) -> Result<usize> {
        let guard = self.sock.read().unwrap_or_else(PoisonError::into_inner);
        let sock = guard.as_ref().ok_or_else(|| self.closed_error())?;
        let n = sys::getsockopt_int(sock.as_raw_fd(), libc::SOL_SOCKET, libc::SO_RCVBUF)
            .map_err(|e| self.os("reading SO_RCVBUF", e))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    fn closed_error(&self) -> Error {
        Error::Closed {
            channel: display_channel(&self.channel),
        }
    }

    fn os(&self, what: &'static str, source: std::io::Error) -> Error {
        Error::Os {
            what,
            channel: display_channel(&self.channel),
            source,
        }
    }

    /// Sets the kernel receive filters; an empty list receives no frames at all (error frames
    /// still come through the error filter). `CAN_RAW_FILTER_MAX` filters at most.
    pub fn set_filters(&self, filters: &[KernelFilter]) -> Result<()> {
        if filters.len() > CAN_RAW_FILTER_MAX {
            return Err(Error::Invalid(format!(
                "{} filters given, but the kernel accepts at most {CAN_RAW_FILTER_MAX}",
                filters.len()
            )));
        }
        let guard = self.sock.read().unwrap_or_else(PoisonError::into_inner);
        let sock = guard.as_ref().ok_or_else(|| self.closed_error())?;
        sys::setsockopt(
            sock.as_raw_fd(),
            sys::SOL_CAN_RAW,
            sys::CAN_RAW_FILTER,
            filters,
        )
        .map_err(|e| self.os("setting the receive filters (CAN_RAW_FILTER)", e))
    }

    /// Sets the error classes received as error frames (0: none, `CAN_ERR_MASK`: all).
    pub fn set_error_mask(&self, mask: u32) -> Result<()> {
        let guard = self.sock.read().unwrap_or_else(PoisonError::into_inner);
        let sock = guard.as_ref().ok_or_else(|| self.closed_error())?;
        sys::setsockopt(
            sock.as_raw_fd(),
            sys::SOL_CAN_RAW,
            sys::CAN_RAW_ERR_FILTER,
            &[mask],
        )
        .map_err(|e| self.os("setting the error filter (CAN_RAW_ERR_FILTER)", e))
    }

    /// Sends one frame. On a socket bound to all interfaces, `ifindex` says where to.
    ///
    /// When the interface's queue is full: with [`Wait::Now`] the call fails at once; with
    /// [`Wait::Until`] it retries until the deadline and then fails with
    /// [`Error::TxTimeout`]; with [`Wait::Forever`] it waits while the socket's send buffer is
    /// full (`EAGAIN`, as a blocking socket would) but fails at once when the interface's
    /// queue dropped the frame (`ENOBUFS`, as a blocking socket also does).
    pub fn send(&self, out: &Outgoing, ifindex: Option<i32>, wait: &mut Wait) -> Result<()> {
        if out.mtu == CANFD_MTU && !self.fd_frames {
            return Err(Error::Invalid(format!(
                "cannot send a CAN FD frame on {}: the bus was opened without fd=True",
                display_channel(&self.channel)
            )));
        }
        let guard = self.sock.read().unwrap_or_else(PoisonError::into_inner);
        let sock = guard.as_ref().ok_or_else(|| self.closed_error())?;
        let fd = sock.as_raw_fd();
        let bytes = out.raw.as_bytes(out.mtu);
        let addr = ifindex.map(sys::sockaddr_can);
        loop {
            if self.closed.load(Ordering::Acquire) {
                return Err(self.closed_error());
            }
            // SAFETY: `bytes` is valid for reads of its length and `addr` (if any) is a valid
            // sockaddr_can, both alive across the call.
            let r = unsafe {
                match &addr {
                    Some(a) => libc::sendto(
                        fd,
                        bytes.as_ptr().cast::<c_void>(),
                        bytes.len(),
                        libc::MSG_DONTWAIT,
                        (a as *const libc::sockaddr_can).cast::<libc::sockaddr>(),
                        mem::size_of::<libc::sockaddr_can>() as libc::socklen_t,
                    ),
                    None => libc::send(
                        fd,
                        bytes.as_ptr().cast::<c_void>(),
                        bytes.len(),
                        libc::MSG_DONTWAIT,
                    ),
                }
            };
            if r >= 0 {
                if r as usize == bytes.len() {
                    return Ok(());
                }
                return Err(self.os(
                    "sending",
                    std::io::Error::new(
                        std::io::ErrorKind::WriteZero,
                        format!("only {r} of {} bytes were written", bytes.len()),
                    ),
                ));
            }
            let err = sys::errno();
            let code = err.raw_os_error().unwrap_or(0);
            if code == libc::EINTR {
                continue;
            }
            if code != libc::EAGAIN && code != libc::ENOBUFS {
                return Err(self.os(
                    match code {
                        libc::EINVAL if out.mtu == CANFD_MTU => {
                            "sending a CAN FD frame (does the interface support CAN FD?)"
                        }
                        libc::ENXIO | libc::ENODEV => "sending (is the interface up?)",
                        _ => "sending",
                    },
                    err,
                ));
            }
            let nobufs = code == libc::ENOBUFS;
            let full = || Error::TxBufferFull {
                channel: display_channel(&self.channel),
                source: sys::errno_from(code),
            };
            let left = match *wait {
                Wait::Now => return Err(full()),
                Wait::Forever if nobufs => return Err(full()),
                Wait::Forever => None,
                Wait::Within(_) | Wait::Until { .. } => match wait.remaining() {
                    Some(d) if d.is_zero() => {
                        return Err(Error::TxTimeout {
                            channel: display_channel(&self.channel),
                            timeout: wait.seconds(),
                        })
                    }
                    other => other,
                },
            };
            // EAGAIN: the send buffer is full and POLLOUT says when it drains. ENOBUFS: the
            // interface queue dropped the frame, which no poll event announces: retry shortly.
            let ready = if nobufs {
                let pause = left.map_or(Duration::from_millis(1), |d| {
                    d.min(Duration::from_millis(1))
                });
                sys::wait(-1, 0, self.wake.as_raw_fd(), Some(pause))
            } else {
                sys::wait(fd, libc::POLLOUT, self.wake.as_raw_fd(), left)
            }
            .map_err(|e| self.os("waiting to send", e))?;
            match ready {
                Ready::Woken => return Err(self.closed_error()),
                Ready::Interrupted => return Err(Error::Interrupted),
                Ready::Socket | Ready::Timeout => {}
            }
        }
    }

    /// Receives every frame that is waiting, up to `max` (at most [`BATCH`]), appending them
    /// to `out`; waits as `wait` allows when none is. Returns how many were appended (0 when
    /// the time ran out). [`Error::Interrupted`] means a signal arrived while waiting: the
    /// caller handles it and calls again with the same `wait`.
    pub fn recv_into(
        &self,
        scratch: &mut RecvScratch,
        out: &mut VecDeque<Received>,
        max: usize,
        wait: &mut Wait,
    ) -> Result<usize> {
        let guard = self.sock.read().unwrap_or_else(PoisonError::into_inner);
        let sock = guard.as_ref().ok_or_else(|| self.closed_error())?;
        let fd = sock.as_raw_fd();
        let max = max.clamp(1, BATCH);
        loop {
            if self.closed.load(Ordering::Acquire) {
                return Err(self.closed_error());
            }
            match self.recvmmsg(fd, scratch, out, max) {
                Ok(0) => {}
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.os("receiving", e)),
            }
            let left = wait.remaining();
            if left.is_some_and(|d| d.is_zero()) {
                return Ok(0);
            }
            match sys::wait(fd, libc::POLLIN, self.wake.as_raw_fd(), left)
                .map_err(|e| self.os("waiting to receive", e))?
            {
                Ready::Socket => {}
                Ready::Timeout => return Ok(0),
                Ready::Woken => return Err(self.closed_error()),
                Ready::Interrupted => return Err(Error::Interrupted),
            }
        }
    }

    /// One non-blocking `recvmmsg` of up to `max` frames, decoded into `out`.
    fn recvmmsg(
        &self,
        fd: RawFd,
        s: &mut RecvScratch,
        out: &mut VecDeque<Received>,
        max: usize,
    ) -> std::io::Result<usize> {
        // SAFETY: iovec and mmsghdr are plain data (integers and raw pointers); all-zero is a
        // valid value for each.
        let mut iov: [libc::iovec; BATCH] = unsafe { mem::zeroed() };
        // SAFETY: as above.
        let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { mem::zeroed() };
        let control_len = mem::size_of::<[u64; CONTROL_WORDS]>();
        for i in 0..max {
            iov[i].iov_base = (&mut s.frames[i] as *mut RawFrame).cast::<c_void>();
            iov[i].iov_len = CANFD_MTU;
            let h = &mut hdrs[i].msg_hdr;
            h.msg_name = (&mut s.addrs[i] as *mut libc::sockaddr_can).cast::<c_void>();
            h.msg_namelen = mem::size_of::<libc::sockaddr_can>() as libc::socklen_t;
            h.msg_iov = &mut iov[i];
            h.msg_iovlen = 1;
            h.msg_control = s.control[i].as_mut_ptr().cast::<c_void>();
            h.msg_controllen = control_len as _;
        }
        // SAFETY: `hdrs[..max]` point at buffers in `s` and `iov` of the sizes given, which
        // outlive the call; MSG_DONTWAIT makes it return at once; no timeout pointer.
        let n = unsafe {
            libc::recvmmsg(
                fd,
                hdrs.as_mut_ptr(),
                max as libc::c_uint,
                // `as _`: the flags are a c_int in glibc and a c_uint in musl.
                libc::MSG_DONTWAIT as _,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            return Err(sys::errno());
        }
        let n = n as usize;
        for (i, hdr) in hdrs.iter().enumerate().take(n.min(max)) {
            let len = hdr.msg_len as usize;
            let is_fd = len == CANFD_MTU;
            if len != CAN_MTU && !is_fd {
                continue; // not a CAN or CAN FD frame (CAN XL is never enabled)
            }
            let raw = &s.frames[i];
            let mut frame = CanFrame {
                can_id: raw.can_id,
                ..CanFrame::default()
            };
            if is_fd {
                let n = usize::from(raw.len).min(CANFD_MAX_DLEN);
                frame.len = n as u8;
                frame.dlc = n as u8;
                frame.flags = raw.flags | CANFD_FDF;
                frame.data[..n].copy_from_slice(&raw.data[..n]);
            } else {
                let n = usize::from(raw.len).min(CAN_MAX_DLEN);
                frame.dlc = n as u8;
                if raw.can_id & CAN_RTR_FLAG == 0 || raw.can_id & CAN_ERR_FLAG != 0 {
                    frame.len = n as u8;
                    frame.data[..n].copy_from_slice(&raw.data[..n]);
                }
            }
            frame.is_rx = hdr.msg_hdr.msg_flags & libc::MSG_CONFIRM == 0;
            frame.timestamp = self.control_data(&hdr.msg_hdr).unwrap_or_else(now);
            out.push_back(Received {
                frame,
                ifindex: s.addrs[i].can_ifindex,
            });
        }
        Ok(n)
    }

    /// Reads the ancillary data of one message: returns its timestamp and records the drop
    /// counter.
    fn control_data(&self, hdr: &libc::msghdr) -> Option<f64> {
        let mut software = None;
        let mut hardware = None;
        // SAFETY: `hdr` is a msghdr the kernel filled in, whose msg_control/msg_controllen
        // describe our control buffer; the CMSG_* helpers only walk within it, and each
        // payload is read unaligned and only when its length covers the type read.
        unsafe {
            let mut cmsg = libc::CMSG_FIRSTHDR(hdr);
            while !cmsg.is_null() {
                let c = &*cmsg;
                let data = libc::CMSG_DATA(cmsg);
                let payload = (c.cmsg_len as usize).saturating_sub(libc::CMSG_LEN(0) as usize);
                if c.cmsg_level == libc::SOL_SOCKET {
                    let ts_size = mem::size_of::<libc::timespec>();
                    if c.cmsg_type == libc::SCM_TIMESTAMPNS && payload >= ts_size {
                        software = Some(seconds(std::ptr::read_unaligned(
                            data.cast::<libc::timespec>(),
                        )));
                    } else if c.cmsg_type == libc::SCM_TIMESTAMPING && payload >= 3 * ts_size {
                        let ts = data.cast::<libc::timespec>();
                        let sw = std::ptr::read_unaligned(ts);
                        let hw = std::ptr::read_unaligned(ts.add(2));
                        if sw.tv_sec != 0 || sw.tv_nsec != 0 {
                            software = Some(seconds(sw));
                        }
                        if hw.tv_sec != 0 || hw.tv_nsec != 0 {
                            hardware = Some(seconds(hw));
                        }
                    } else if c.cmsg_type == libc::SO_RXQ_OVFL && payload >= 4 {
                        let drops = std::ptr::read_unaligned(data.cast::<u32>());
                        self.drops.fetch_max(drops, Ordering::Relaxed);
                    }
                }
                cmsg = libc::CMSG_NXTHDR(hdr, cmsg);
            }
        }
        match self.timestamping {
            Timestamping::Hardware => hardware.or(software),
            Timestamping::Software => software,
        }
    }

    /// Tells the socket whether the caller holds frames it fetched but has not handed out, so
    /// that the descriptor of [`readiness_fd`](RawSocket::readiness_fd) stays readable while
    /// it does. Cheap (two atomic operations) until `readiness_fd` was first called.
    pub fn set_buffered(&self, buffered: bool) {
        self.buffered.store(buffered, Ordering::SeqCst);
        if self.watching.load(Ordering::SeqCst) {
            self.sync_readiness();
        }
    }

    fn sync_readiness(&self) {
        let mut guard = self
            .readiness
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(r) = guard.as_mut() else {
            return;
        };
        let want = self.buffered.load(Ordering::SeqCst) || self.closed.load(Ordering::Acquire);
        if want == r.signaled {
            return;
        }
        if want {
            sys::eventfd_signal(r.event.as_raw_fd());
        } else {
            let mut value = 0u64;
            // SAFETY: reads the 8-byte counter of our non-blocking eventfd into a valid u64;
            // EAGAIN (already zero) leaves it as it should be.
            unsafe {
                libc::read(
                    r.event.as_raw_fd(),
                    (&mut value as *mut u64).cast::<c_void>(),
                    8,
                );
            }
        }
        r.signaled = want;
    }

    /// A descriptor that is readable exactly while a frame can be received without waiting:
    /// when the socket is readable or the caller holds buffered frames (see
    /// [`set_buffered`](RawSocket::set_buffered)). For `select`/`poll`/event loops, since a
    /// batched receive may take frames off the socket that a caller hands out later. Created
    /// on first use; an epoll descriptor (epoll(7)), which is itself pollable.
    pub fn readiness_fd(&self) -> Result<RawFd> {
        let mut guard = self
            .readiness
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(r) = guard.as_ref() {
            return Ok(r.epoll.as_raw_fd());
        }
        let sock_guard = self.sock.read().unwrap_or_else(PoisonError::into_inner);
        let sock = sock_guard.as_ref().ok_or_else(|| self.closed_error())?;
        // SAFETY: plain system call.
        let epfd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if epfd < 0 {
            return Err(self.os("creating an epoll descriptor", sys::errno()));
        }
        // SAFETY: `epfd` is a new descriptor we own.
        let epoll = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(epfd) };
        let event = sys::eventfd().map_err(|e| self.os("creating an eventfd", e))?;
        for fd in [sock.as_raw_fd(), event.as_raw_fd()] {
            let mut ev = libc::epoll_event {
                events: libc::EPOLLIN as u32,
                u64: fd as u64,
            };
            // SAFETY: both descriptors are open; `ev` is a valid epoll_event for the call.
            let r = unsafe { libc::epoll_ctl(epfd, libc::EPOLL_CTL_ADD, fd, &mut ev) };
            if r < 0 {
                return Err(self.os("watching the socket with epoll", sys::errno()));
            }
        }
        let fd = epoll.as_raw_fd();
        *guard = Some(Readiness {
            epoll,
            event,
            signaled: false,
        });
        drop(guard);
        drop(sock_guard);
        self.watching.store(true, Ordering::SeqCst);
        self.sync_readiness();
        Ok(fd)
    }

    /// Closes the socket: wakes every thread waiting on it, waits until they have let go of
    /// the descriptor, then closes it. A second call does nothing. A readiness descriptor
    /// becomes readable for good, so that whoever waits on it wakes and learns of the close.
    pub fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        sys::eventfd_signal(self.wake.as_raw_fd());
        self.sync_readiness();
        let mut guard = self.sock.write().unwrap_or_else(PoisonError::into_inner);
        guard.take();
    }
}

fn seconds(ts: libc::timespec) -> f64 {
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// How a channel is named in messages: its name, or "all CAN interfaces" for "".
pub fn display_channel(channel: &str) -> String {
    if channel.is_empty() {
        "all CAN interfaces".to_owned()
    } else {
        channel.to_owned()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use crate::frame::{CANFD_BRS, CAN_EFF_FLAG};

    fn frame(can_id: u32, data: &[u8], flags: u8) -> CanFrame {
        let mut f = CanFrame {
            can_id,
            flags,
            ..CanFrame::default()
        };
        f.set_payload(data);
        f
    }

    #[test]
    fn classic_frames_encode_as_can_frame() {
        let out = Outgoing::encode(&frame(0x123 | CAN_EFF_FLAG, &[1, 2, 3], 0)).unwrap();
        assert_eq!(out.mtu, CAN_MTU);
        let b = out.raw.as_bytes(out.mtu);
        assert_eq!(&b[..4], &(0x123 | CAN_EFF_FLAG).to_ne_bytes());
        assert_eq!(b[4], 3);
        assert_eq!(&b[8..11], &[1, 2, 3]);
        assert!(b[11..].iter().all(|&x| x == 0));
    }

    #[test]
    fn remote_frames_carry_the_requested_length() {
        let mut f = frame(0x7FF | CAN_RTR_FLAG, &[], 0);
        f.dlc = 5;
        let out = Outgoing::encode(&f).unwrap();
        assert_eq!((out.mtu, out.raw.len), (CAN_MTU, 5));
    }

    #[test]
    fn fd_frames_round_up_to_a_valid_length() {
        let out = Outgoing::encode(&frame(1, &[7; 9], CANFD_FDF | CANFD_BRS)).unwrap();
        assert_eq!(
            (out.mtu, out.raw.len, out.raw.flags),
            (CANFD_MTU, 12, CANFD_BRS)
        );
        assert_eq!(&out.raw.data[..12], &[7, 7, 7, 7, 7, 7, 7, 7, 7, 0, 0, 0]);
    }

    #[test]
    fn invalid_frames_are_rejected() {
        assert!(Outgoing::encode(&frame(1, &[0; 9], 0)).is_err());
        assert!(Outgoing::encode(&frame(1, &[0; 2], CANFD_BRS)).is_err());
        let mut remote_fd = frame(1 | CAN_RTR_FLAG, &[], CANFD_FDF);
        remote_fd.dlc = 0;
        assert!(Outgoing::encode(&remote_fd).is_err());
    }

    #[test]
    fn timeouts_map_to_waits() {
        assert_eq!(Wait::from_timeout(None), Wait::Forever);
        assert_eq!(Wait::from_timeout(Some(0.0)), Wait::Now);
        assert_eq!(Wait::from_timeout(Some(-1.0)), Wait::Now);
        let mut w = Wait::from_timeout(Some(0.5));
        assert_eq!(w, Wait::Within(0.5));
        assert!(w
            .remaining()
            .is_some_and(|d| d == Duration::from_millis(500)));
        assert!(matches!(w, Wait::Until { seconds, .. } if seconds == 0.5));
        assert!(w
            .remaining()
            .is_some_and(|d| d <= Duration::from_millis(500)));
    }

    #[test]
    fn opening_a_missing_interface_names_it() {
        let err = RawSocket::open("nosuchcan7", &Options::default())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("nosuchcan7"), "{err}");
    }
}
