//! [`FdWriter`]: whole frames to a non-blocking descriptor (a tty, a pseudo-terminal, a TCP
//! socket) with a bounded wait for room.
//!
//! Why not a blocking write: a pseudo-terminal master whose reader stopped takes no more bytes
//! and a blocking `write` then never returns. Here a frame goes out with one `write` when the
//! device keeps up; otherwise the writer waits in `poll` for room until the caller's deadline.
//!
//! The stream never holds a cut frame followed by another: when the time runs out before any
//! byte of a frame was written the frame is dropped (not sent); when part of it was written,
//! the rest stays queued and goes out first with the next frame. Frames of several threads are
//! serialised by one lock, so they are never interleaved or reordered.
//!
//! [`FdWriter::close`] stops a writer waiting in another thread (through the wake pipe, which
//! also wakes the port's readers) and returns only when no write is in progress, so the
//! caller may close the descriptor afterwards without another thread touching a reused
//! number. The writer does not own the descriptors.

use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::{Duration, Instant};

/// The longest single wait in `poll`; the closed flag is checked between waits even when
/// there is no wake pipe.
const WAIT_SLICE: Duration = Duration::from_millis(500);

/// Why a write did not complete.
#[derive(Debug)]
pub enum WriteError {
    /// The writer was closed before or during the write.
    Closed,
    /// The deadline passed; `partial` says whether part of the frame went out (its rest is
    /// then written before the next frame) or none of it (the frame was dropped).
    TimedOut { partial: bool },
    /// A signal interrupted the wait: call [`FdWriter::write_until`] again, or
    /// [`Pending::give_up`] to stop.
    Interrupted,
    /// The descriptor reported an error; the frame was given up as on a timeout.
    Os(io::Error),
}

/// The bytes not written yet, guarded by the writer's lock.
#[derive(Debug, Default)]
pub struct Pending {
    closed: bool,
    /// The unwritten rest of earlier frames, then the current frame.
    buf: Vec<u8>,
    /// How many bytes at the front of `buf` are the rest of earlier frames.
    old: usize,
    /// The full length of the current frame.
    frame: usize,
}

impl Pending {
    /// True once the writer was closed.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Queues a frame that `encode` appends to the buffer; returns what `encode` returned.
    /// `encode` must append nothing when it returns false.
    pub fn push_frame(&mut self, encode: impl FnOnce(&mut Vec<u8>) -> bool) -> bool {
        self.old = self.buf.len();
        let ok = encode(&mut self.buf);
        self.buf
            .truncate(if ok { self.buf.len() } else { self.old });
        self.frame = self.buf.len() - self.old;
        ok
    }

    /// Bytes still to be written (rest of earlier frames included).
    pub fn unwritten(&self) -> usize {
        self.buf.len()
    }

    fn consume(&mut self, n: usize) {
        if n >= self.buf.len() {
            self.buf.clear();
            self.old = 0;
            self.frame = 0;
        } else {
            self.buf.drain(..n);
            self.old = self.old.saturating_sub(n);
        }
    }

    /// Stops writing the current frame: drops it if none of it went out, else keeps its rest
    /// to be written before the next frame. Returns whether part of it went out.
    pub fn give_up(&mut self) -> bool {
        let left = self.buf.len() - self.old;
        let partial = left < self.frame;
        if partial {
            self.old = self.buf.len();
        } else {
            self.buf.truncate(self.old);
        }
        self.frame = 0;
        partial
    }
}

/// Writes frames to a non-blocking descriptor it does not own.
#[derive(Debug)]
pub struct FdWriter {
    fd: RawFd,
    /// Read end of the port's wake pipe: readable once the port is closing.
    wake_r: Option<RawFd>,
    /// Its write end, written once by [`FdWriter::close`].
    wake_w: Option<RawFd>,
    closing: AtomicBool,
    pending: Mutex<Pending>,
}

impl FdWriter {
    /// A writer for `fd`, which must be in non-blocking mode. `wake_r`/`wake_w` are the ends
    /// of a pipe that wakes waits when the port closes (optional).
    pub fn new(fd: RawFd, wake_r: Option<RawFd>, wake_w: Option<RawFd>) -> Self {
        FdWriter {
            fd,
            wake_r,
            wake_w,
            closing: AtomicBool::new(false),
            pending: Mutex::new(Pending::default()),
        }
    }

    /// The descriptor written to.
    pub fn fd(&self) -> RawFd {
        self.fd
    }

    /// The lock on the pending bytes if it is free now (a poisoned lock is taken as is: its
    /// state is consistent between calls).
    pub fn try_lock(&self) -> Option<MutexGuard<'_, Pending>> {
        match self.pending.try_lock() {
            Ok(g) => Some(g),
            Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    /// The lock on the pending bytes, waiting for it.
    pub fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until no other thread holds the lock (for callers that must not block while
    /// holding an interpreter lock: wait here with it released, then `try_lock` again).
    pub fn wait_unlocked(&self) {
        drop(self.lock());
    }

    /// One attempt to write what is pending; true when nothing is left.
    pub fn write_once(&self, p: &mut Pending) -> Result<bool, WriteError> {
        if p.closed {
            return Err(WriteError::Closed);
        }
        while !p.buf.is_empty() {
            // SAFETY: `buf` is a live, initialised buffer of `buf.len()` bytes; `fd` stays
            // open while the lock is held (`close` takes the lock before the owner closes it).
            let n = unsafe { libc::write(self.fd, p.buf.as_ptr().cast(), p.buf.len()) };
            if n >= 0 {
                let all = n as usize >= p.buf.len();
                p.consume(n as usize);
                // A short write means the device's buffer is full: wait before the next try.
                return Ok(all);
            }
            let err = io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(code) if code == libc::EAGAIN || code == libc::EWOULDBLOCK => {
                    return Ok(false)
                }
                _ => {
                    p.give_up();
                    return Err(WriteError::Os(err));
                }
            }
        }
        Ok(true)
    }

    /// Writes what is pending, waiting for room until `deadline` (None: no limit). On a
    /// timeout the current frame is given up ([`Pending::give_up`]).
    pub fn write_until(
        &self,
        p: &mut Pending,
        deadline: Option<Instant>,
    ) -> Result<(), WriteError> {
        loop {
            if self.closing.load(Ordering::Acquire) {
                return Err(WriteError::Closed);
            }
            if self.write_once(p)? {
                return Ok(());
            }
            let mut wait = WAIT_SLICE;
            if let Some(deadline) = deadline {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(WriteError::TimedOut {
                        partial: p.give_up(),
                    });
                }
                wait = wait.min(left);
            }
            self.poll(wait)?;
        }
    }

    /// Waits up to `wait` for room in the descriptor or the wake pipe.
    fn poll(&self, wait: Duration) -> Result<(), WriteError> {
        let mut fds = [
            libc::pollfd {
                fd: self.fd,
                events: libc::POLLOUT,
                revents: 0,
            },
            libc::pollfd {
                fd: self.wake_r.unwrap_or(-1),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // Round up so that a wait of less than a millisecond is not a busy loop.
        let ms = wait.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int;
        let n: libc::nfds_t = if self.wake_r.is_some() { 2 } else { 1 };
        // SAFETY: `fds` is a live array of at least `n` pollfd structs.
        let r = unsafe { libc::poll(fds.as_mut_ptr(), n, ms) };
        if r < 0 {
            let err = io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EINTR) {
                return Err(WriteError::Interrupted);
            }
            return Err(WriteError::Os(err));
        }
        if fds[1].revents != 0 && !self.closing.load(Ordering::Acquire) {
            // The wake pipe is readable but this writer was not closed (the owner woke its
            // readers only): do not spin on it.
            std::thread::sleep(Duration::from_millis(1).min(wait));
        }
        Ok(())
    }

    /// True once [`close`](FdWriter::close) began.
    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    /// Stops writers: one waiting for room returns [`WriteError::Closed`], later writes too.
    /// Returns when no write is in progress (waits for the lock), so the owner may close the
    /// descriptors then. A second call does nothing more.
    pub fn close(&self) {
        if !self.closing.swap(true, Ordering::AcqRel) {
            if let Some(w) = self.wake_w {
                // SAFETY: one byte from a live buffer to the owner's pipe; a failure (a full
                // pipe) does not matter, the pipe is readable then anyway.
                unsafe { libc::write(w, b"x".as_ptr().cast(), 1) };
            }
        }
        let mut p = self.lock();
        p.closed = true;
        p.buf.clear();
        p.old = 0;
        p.frame = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    /// A pipe whose write end is non-blocking: (read end, write end).
    fn pipe() -> (OwnedFd, OwnedFd) {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors pipe() returns.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: both are new descriptors owned by nobody else.
        let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        // SAFETY: fcntl on a live descriptor.
        unsafe {
            let flags = libc::fcntl(w.as_raw_fd(), libc::F_GETFL);
            libc::fcntl(w.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK);
        }
        (r, w)
    }

    fn read_all(fd: &OwnedFd) -> Vec<u8> {
        // SAFETY: fcntl on a live descriptor.
        unsafe {
            let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
            libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK);
        }
        let mut out = Vec::new();
        let mut chunk = [0u8; 65536];
        loop {
            // SAFETY: reads into a live buffer of its length.
            let n = unsafe { libc::read(fd.as_raw_fd(), chunk.as_mut_ptr().cast(), chunk.len()) };
            if n <= 0 {
                return out;
            }
            out.extend_from_slice(&chunk[..n as usize]);
        }
    }

    fn send(w: &FdWriter, frame: &[u8], timeout: Duration) -> Result<(), WriteError> {
        let mut p = w.lock();
        p.push_frame(|b| {
            b.extend_from_slice(frame);
            true
        });
        w.write_until(&mut p, Some(Instant::now() + timeout))
    }

    #[test]
    fn frames_go_out_whole_and_in_order() {
        let (r, wr) = pipe();
        let w = FdWriter::new(wr.as_raw_fd(), None, None);
        for i in 0..100u8 {
            send(&w, &[i; 7], Duration::from_secs(1)).expect("room in the pipe");
        }
        let want: Vec<u8> = (0..100u8).flat_map(|i| [i; 7]).collect();
        assert_eq!(read_all(&r), want);
    }

    #[test]
    fn a_full_device_times_out_without_cutting_a_frame() {
        let (r, wr) = pipe();
        let w = FdWriter::new(wr.as_raw_fd(), None, None);
        // 1000-byte frames of one distinct byte each, until the pipe (64 KiB) is full.
        let mut sent = Vec::new();
        let mut outcome = None;
        for i in 0..200u8 {
            let start = Instant::now();
            match send(&w, &[i; 1000], Duration::from_millis(30)) {
                Ok(()) => sent.push(i),
                Err(WriteError::TimedOut { partial }) => {
                    assert!(start.elapsed() >= Duration::from_millis(30));
                    outcome = Some((i, partial));
                    break;
                }
                Err(e) => panic!("unexpected {e:?}"),
            }
        }
        let (stuck, partial) = outcome.expect("the pipe filled up");
        // The reader drains; the next frame goes out after the rest of the stuck one (if any
        // of it was written) and nothing is lost or cut.
        let mut wire = read_all(&r);
        send(&w, &[0xEE; 5], Duration::from_secs(1)).expect("room again");
        wire.extend(read_all(&r));
        let mut want: Vec<u8> = sent.iter().flat_map(|&i| [i; 1000]).collect();
        if partial {
            want.extend([stuck; 1000]);
        }
        want.extend([0xEE; 5]);
        assert_eq!(wire.len(), want.len());
        assert!(wire == want);
    }

    #[test]
    fn a_frame_of_which_nothing_went_out_is_dropped() {
        let mut p = Pending::default();
        p.push_frame(|b| {
            b.extend_from_slice(b"abc");
            true
        });
        assert!(!p.give_up());
        assert_eq!(p.unwritten(), 0);
        // One byte written, then the time ran out: the rest "bc" stays for the next frame.
        p.push_frame(|b| {
            b.extend_from_slice(b"abc");
            true
        });
        p.consume(1);
        assert!(p.give_up());
        p.push_frame(|b| {
            b.extend_from_slice(b"xyz");
            true
        });
        assert_eq!(p.buf, b"bcxyz");
        // Nothing of "xyz" written, "b" of the old rest went out: "xyz" is dropped, "c" kept.
        p.consume(1);
        assert!(!p.give_up());
        assert_eq!(p.buf, b"c");
        // A refused frame leaves the buffer alone.
        assert!(!p.push_frame(|b| {
            b.push(b'!');
            false
        }));
        assert_eq!(p.buf, b"c");
    }

    #[test]
    fn close_stops_a_waiting_writer() {
        let (_r, wr) = pipe();
        let (wake_r, wake_w) = pipe();
        let w = std::sync::Arc::new(FdWriter::new(
            wr.as_raw_fd(),
            Some(wake_r.as_raw_fd()),
            Some(wake_w.as_raw_fd()),
        ));
        let big = vec![0u8; 1 << 20];
        let w2 = w.clone();
        let t = std::thread::spawn(move || send(&w2, &big, Duration::from_secs(30)));
        while w.try_lock().is_some() {
            std::thread::sleep(Duration::from_millis(1));
        }
        let start = Instant::now();
        w.close();
        assert!(start.elapsed() < Duration::from_secs(5));
        assert!(matches!(
            t.join().expect("no panic"),
            Err(WriteError::Closed)
        ));
        assert!(matches!(
            send(&w, b"x", Duration::from_secs(1)),
            Err(WriteError::Closed)
        ));
    }
}
