//! Serial-port adapters: the two framings python-can speaks over a serial line and a writer
//! that hands bytes to a non-blocking descriptor without ever blocking for good.
//!
//! * [`encode`]: slcan (LAWICEL) ASCII lines and the binary frames of manual section 4.3.2,
//!   appended to a reusable buffer; a frame either framing cannot carry is refused untouched,
//!   so the caller can report it.
//! * [`writer`] (Unix): [`writer::FdWriter`] writes whole frames to a tty, pseudo-terminal or
//!   socket descriptor that is in non-blocking mode, waiting in `poll` for room up to a
//!   deadline; a frame is never cut in the stream and never merged out of order.

pub mod encode;
#[cfg(unix)]
pub mod writer;
