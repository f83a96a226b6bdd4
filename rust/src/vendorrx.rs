//! Direct calls into a vendor library's receive function, for the ctypes backends' hot path.
//!
//! The Kvaser and PCAN backends load their vendor library with ctypes. Per received frame the
//! ctypes call itself (argument conversion, GIL release and re-acquire) and unpacking the C
//! structure in Python cost more than the rest of `recv`; this module calls the same C function
//! through its address (which the backend takes from the ctypes function object) and decodes
//! the out-parameters, so the binding can build the message in one step.
//!
//! Both readers write into memory the caller owns: the buffers the Python backend already
//! passes to the ctypes call. Frames the fast path does not decode (error frames, overruns,
//! PCAN status messages) are left in those buffers for the Python code to decode as before,
//! so both paths see the same bytes.
//!
//! Signatures, constants and layouts are those of the vendors' public headers:
//! - Kvaser CANlib `canlib.h`: `canStatus canRead(const CanHandle hnd, long *id, void *msg,
//!   unsigned int *dlc, unsigned int *flag, unsigned long *time)` and `canReadWait`, the same
//!   with a trailing `unsigned long timeout` (milliseconds, `0xFFFFFFFF` for ever); the
//!   `canMSG_xxx` / `canFDMSG_xxx` flags.
//! - PEAK `PCANBasic.h`: `TPCANStatus CAN_Read(TPCANHandle Channel, TPCANMsg *MessageBuffer,
//!   TPCANTimestamp *TimestampBuffer)`, `TPCANHandle` a WORD, `TPCANStatus` a DWORD;
//!   `TPCANMsg` is `{DWORD ID; BYTE MSGTYPE; BYTE LEN; BYTE DATA[8];}` (16 bytes with its
//!   padding) and `TPCANTimestamp` `{DWORD millis; WORD millis_overflow; WORD micros;}`.

use std::ffi::{c_int, c_long, c_uint, c_ulong, c_void};

/// Kvaser CANlib (`canlib.h`).
pub mod kvaser {
    use super::*;

    /// `canRead`.
    pub type CanRead = unsafe extern "C" fn(
        hnd: c_int,
        id: *mut c_long,
        msg: *mut c_void,
        dlc: *mut c_uint,
        flag: *mut c_uint,
        time: *mut c_ulong,
    ) -> c_int;
    /// `canReadWait`.
    pub type CanReadWait = unsafe extern "C" fn(
        hnd: c_int,
        id: *mut c_long,
        msg: *mut c_void,
        dlc: *mut c_uint,
        flag: *mut c_uint,
        time: *mut c_ulong,
        timeout: c_ulong,
    ) -> c_int;

    /// `canWrite`: `canStatus canWrite(const CanHandle hnd, long id, void *msg,
    /// unsigned int dlc, unsigned int flag)`; it queues the frame and does not block.
    pub type CanWrite = unsafe extern "C" fn(
        hnd: c_int,
        id: c_long,
        msg: *mut c_void,
        dlc: c_uint,
        flag: c_uint,
    ) -> c_int;

    pub const CAN_OK: c_int = 0;
    pub const MSG_STD: c_uint = 0x0002;
    pub const CAN_ERR_NOMSG: c_int = -2;
    pub const MSG_RTR: c_uint = 0x0001;
    pub const MSG_EXT: c_uint = 0x0004;
    pub const MSG_ERROR_FRAME: c_uint = 0x0020;
    pub const MSG_TXACK: c_uint = 0x0040;
    pub const MSGERR_OVERRUN: c_uint = 0x0600;
    pub const MSG_LOCAL_TXACK: c_uint = 0x1000_0000;
    pub const FDMSG_FDF: c_uint = 0x01_0000;
    pub const FDMSG_BRS: c_uint = 0x02_0000;
    pub const FDMSG_ESI: c_uint = 0x04_0000;
    /// The data buffer the caller provides holds a CAN FD frame's 64 bytes.
    pub const DATA_SIZE: usize = 64;

    /// Where `canRead` writes its out-parameters.
    #[derive(Clone, Copy, Debug)]
    pub struct Buffers {
        pub id: *mut c_long,
        pub data: *mut u8,
        pub dlc: *mut c_uint,
        pub flags: *mut c_uint,
        pub time: *mut c_ulong,
    }

    /// What a frame's flags say about it.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Kind {
        /// An error frame or an overrun: decoded by the caller's slow path.
        pub special: bool,
        pub extended: bool,
        pub remote: bool,
        pub fd: bool,
        pub is_rx: bool,
        pub brs: bool,
        pub esi: bool,
    }

    impl Kind {
        pub fn of(flags: c_uint) -> Kind {
            Kind {
                special: flags & (MSG_ERROR_FRAME | MSGERR_OVERRUN) != 0,
                extended: flags & MSG_EXT != 0,
                remote: flags & MSG_RTR != 0,
                fd: flags & FDMSG_FDF != 0,
                is_rx: flags & (MSG_TXACK | MSG_LOCAL_TXACK) == 0,
                brs: flags & FDMSG_BRS != 0,
                esi: flags & FDMSG_ESI != 0,
            }
        }
    }

    /// A received frame's out-parameters, copied out of the buffers.
    #[derive(Clone, Copy, Debug)]
    pub struct Header {
        pub id: c_long,
        pub dlc: c_uint,
        pub flags: c_uint,
        pub time: c_ulong,
    }

    /// `canRead` / `canReadWait` of one library on one handle, into one set of buffers.
    pub struct Reader {
        read: CanRead,
        read_wait: CanReadWait,
        handle: c_int,
        buffers: Buffers,
    }

    // SAFETY: the function pointers are plain C functions, CANlib's calls are thread-safe per
    // handle (canlib.h: a handle may be used from any thread), and the buffers are only
    // written by those calls; the binding serialises reads on one Reader with a lock.
    unsafe impl Send for Reader {}
    // SAFETY: as for Send; `&Reader` only calls the functions and reads the buffers.
    unsafe impl Sync for Reader {}

    impl Reader {
        /// # Safety
        /// `read` and `read_wait` must be the addresses of CANlib's `canRead` and `canReadWait`
        /// (or functions with their signatures and semantics), and every buffer must stay
        /// valid and writable for the Reader's whole life, `data` for [`DATA_SIZE`] bytes.
        pub unsafe fn new(
            read: CanRead,
            read_wait: CanReadWait,
            handle: c_int,
            buffers: Buffers,
        ) -> Reader {
            Reader {
                read,
                read_wait,
                handle,
                buffers,
            }
        }

        /// `canRead`: a queued frame or `canERR_NOMSG` at once.
        pub fn read(&self) -> c_int {
            let b = self.buffers;
            // SAFETY: `new`'s contract: canRead with its own signature and valid buffers.
            unsafe { (self.read)(self.handle, b.id, b.data.cast(), b.dlc, b.flags, b.time) }
        }

        /// `canReadWait`: waits up to `timeout_ms` (`0xFFFFFFFF`: for ever) for a frame.
        pub fn read_wait(&self, timeout_ms: c_ulong) -> c_int {
            let b = self.buffers;
            // SAFETY: `new`'s contract: canReadWait with its own signature and valid buffers.
            unsafe {
                (self.read_wait)(
                    self.handle,
                    b.id,
                    b.data.cast(),
                    b.dlc,
                    b.flags,
                    b.time,
                    timeout_ms,
                )
            }
        }

        /// The out-parameters of the last successful read.
        pub fn header(&self) -> Header {
            let b = self.buffers;
            // SAFETY: `new`'s contract: valid, aligned buffers (the caller's C objects).
            unsafe {
                Header {
                    id: b.id.read(),
                    dlc: b.dlc.read(),
                    flags: b.flags.read(),
                    time: b.time.read(),
                }
            }
        }

        /// A copy of the data buffer (its first `dlc` bytes are the last frame's payload).
        pub fn data_block(&self) -> [u8; DATA_SIZE] {
            let mut out = [0u8; DATA_SIZE];
            // SAFETY: `new`'s contract: `data` is valid for DATA_SIZE bytes; `out` is distinct.
            unsafe {
                std::ptr::copy_nonoverlapping(self.buffers.data, out.as_mut_ptr(), DATA_SIZE)
            };
            out
        }
    }
}

/// canWrite's flags for a frame (`canMSG_STD` or `canMSG_EXT`, then the others).
pub fn kvaser_tx_flags(
    extended: bool,
    remote: bool,
    error: bool,
    fd: bool,
    brs: bool,
    esi: bool,
) -> c_uint {
    use kvaser::*;
    let mut flags = if extended { MSG_EXT } else { MSG_STD };
    if fd {
        flags |= FDMSG_FDF;
        if brs {
            flags |= FDMSG_BRS;
        }
        if esi {
            flags |= FDMSG_ESI;
        }
    }
    if remote {
        flags |= MSG_RTR;
    }
    if error {
        flags |= MSG_ERROR_FRAME;
    }
    flags
}

/// `canWrite` of one library on one handle.
pub struct KvaserWriter {
    write: kvaser::CanWrite,
    handle: c_int,
}

impl KvaserWriter {
    /// # Safety
    /// `write` must be the address of CANlib's `canWrite` (or a function with its signature
    /// and semantics).
    pub unsafe fn new(write: kvaser::CanWrite, handle: c_int) -> KvaserWriter {
        KvaserWriter { write, handle }
    }

    /// canWrite of `dlc` bytes of `data` (canWrite reads at most 64; a remote frame's dlc
    /// is only its length field).
    pub fn write(
        &self,
        id: c_long,
        data: &[u8; kvaser::DATA_SIZE],
        dlc: c_uint,
        flags: c_uint,
    ) -> c_int {
        // SAFETY: `new`'s contract; canWrite only reads the message buffer (at most 64
        // bytes for a CAN FD frame), which is ours and 64 bytes long.
        unsafe { (self.write)(self.handle, id, data.as_ptr().cast_mut().cast(), dlc, flags) }
    }
}

/// PEAK PCAN-Basic (`PCANBasic.h`).
pub mod pcan {
    use super::*;

    /// `CAN_Read` (and `CAN_ReadFD`, which has the same shape with the FD structures).
    pub type CanRead =
        unsafe extern "C" fn(channel: u16, message: *mut c_void, timestamp: *mut c_void) -> u32;

    pub const ERROR_OK: u32 = 0;
    pub const MESSAGE_RTR: u8 = 0x01;
    pub const MESSAGE_EXTENDED: u8 = 0x02;
    pub const MESSAGE_ECHO: u8 = 0x20;
    pub const MESSAGE_ERRFRAME: u8 = 0x40;
    pub const MESSAGE_STATUS: u8 = 0x80;
    /// `sizeof(TPCANMsg)`: where the caller's buffer holds the `TPCANTimestamp`.
    pub const TIMESTAMP_OFFSET: usize = 16;
    /// `sizeof(TPCANMsg) + sizeof(TPCANTimestamp)`.
    pub const BUFFER_SIZE: usize = 24;

    /// `CAN_Write`: `TPCANStatus CAN_Write(TPCANHandle Channel, TPCANMsg *MessageBuffer)`;
    /// it queues the frame and does not block.
    pub type CanWrite = unsafe extern "C" fn(channel: u16, message: *mut c_void) -> u32;

    /// The `TPCANMsg` of a classic frame: ID, MSGTYPE, LEN, DATA (`data` padded with zeros or
    /// cut to 8 bytes).
    pub fn encode_classic(id: u32, msgtype: u8, len: u8, data: &[u8]) -> [u8; TIMESTAMP_OFFSET] {
        let mut out = [0u8; TIMESTAMP_OFFSET];
        out[..4].copy_from_slice(&id.to_le_bytes());
        out[4] = msgtype;
        out[5] = len;
        let n = data.len().min(8);
        out[6..6 + n].copy_from_slice(&data[..n]);
        out
    }

    /// `CAN_Write` of one library on one channel.
    pub struct Writer {
        write: CanWrite,
        channel: u16,
    }

    impl Writer {
        /// # Safety
        /// `write` must be the address of PCAN-Basic's `CAN_Write` (or a function with its
        /// signature and semantics).
        pub unsafe fn new(write: CanWrite, channel: u16) -> Writer {
            Writer { write, channel }
        }

        pub fn write(&self, msg: &[u8; TIMESTAMP_OFFSET]) -> u32 {
            let mut copy = *msg;
            // SAFETY: `new`'s contract; CAN_Write reads the 16-byte TPCANMsg, our own copy.
            unsafe { (self.write)(self.channel, copy.as_mut_ptr().cast()) }
        }
    }

    /// A classic data or remote frame as `CAN_Read` returned it.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Classic {
        pub id: u32,
        pub msgtype: u8,
        pub len: u8,
        pub data: [u8; 8],
        pub millis: u32,
        pub millis_overflow: u16,
        pub micros: u16,
    }

    impl Classic {
        /// Decodes the little-endian `TPCANMsg` + `TPCANTimestamp` buffer.
        pub fn decode(b: &[u8; BUFFER_SIZE]) -> Classic {
            let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
            let u16_at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
            let mut data = [0u8; 8];
            data.copy_from_slice(&b[6..14]);
            Classic {
                id: u32_at(0),
                msgtype: b[4],
                len: b[5],
                data,
                millis: u32_at(16),
                millis_overflow: u16_at(20),
                micros: u16_at(22),
            }
        }

        /// An ordinary frame the fast path decodes: no error frame or status message, and no
        /// millis_overflow (49.7 days of uptime), which the slow path's formula covers.
        pub fn is_plain(&self) -> bool {
            self.msgtype & (MESSAGE_ERRFRAME | MESSAGE_STATUS) == 0 && self.millis_overflow == 0
        }

        /// The payload: none for a remote frame, else `len` bytes (at most 8).
        pub fn payload(&self) -> &[u8] {
            if self.msgtype & MESSAGE_RTR != 0 {
                &[]
            } else {
                &self.data[..usize::from(self.len).min(8)]
            }
        }
    }

    /// `CAN_Read` of one library on one channel, into one buffer.
    pub struct Reader {
        read: CanRead,
        channel: u16,
        buffer: *mut u8,
    }

    // SAFETY: CAN_Read is a plain C function callable from any thread (PCANBasic.h documents
    // no thread affinity); the buffer is only written by it, and the binding serialises reads
    // on one Reader with a lock.
    unsafe impl Send for Reader {}
    // SAFETY: as for Send.
    unsafe impl Sync for Reader {}

    impl Reader {
        /// # Safety
        /// `read` must be the address of PCAN-Basic's `CAN_Read` (or a function with its
        /// signature and semantics), and `buffer` must stay valid and writable for
        /// [`BUFFER_SIZE`] bytes for the Reader's whole life.
        pub unsafe fn new(read: CanRead, channel: u16, buffer: *mut u8) -> Reader {
            Reader {
                read,
                channel,
                buffer,
            }
        }

        /// `CAN_Read`: never blocks; `PCAN_ERROR_QRCVEMPTY` when nothing is queued.
        pub fn read(&self) -> u32 {
            // SAFETY: `new`'s contract: CAN_Read with its own signature; the buffer holds the
            // TPCANMsg followed by the TPCANTimestamp at TIMESTAMP_OFFSET.
            unsafe {
                (self.read)(
                    self.channel,
                    self.buffer.cast(),
                    self.buffer.add(TIMESTAMP_OFFSET).cast(),
                )
            }
        }

        /// The buffer's contents (the last frame read).
        pub fn buffer(&self) -> [u8; BUFFER_SIZE] {
            let mut out = [0u8; BUFFER_SIZE];
            // SAFETY: `new`'s contract: valid for BUFFER_SIZE bytes; `out` is a distinct array.
            unsafe { std::ptr::copy_nonoverlapping(self.buffer, out.as_mut_ptr(), BUFFER_SIZE) };
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    static CALLS: AtomicU32 = AtomicU32::new(0);

    unsafe extern "C" fn fake_can_read(
        hnd: c_int,
        id: *mut c_long,
        msg: *mut c_void,
        dlc: *mut c_uint,
        flag: *mut c_uint,
        time: *mut c_ulong,
    ) -> c_int {
        if hnd != 7 {
            return -10; // canERR_INVHANDLE
        }
        CALLS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: the test passes valid buffers (the Reader's contract).
        unsafe {
            *id = 0x1ABC_DEF0;
            *dlc = 3;
            *flag = kvaser::MSG_EXT | kvaser::MSG_LOCAL_TXACK;
            *time = 123_456;
            std::ptr::copy_nonoverlapping([1u8, 2, 3].as_ptr(), msg.cast::<u8>(), 3);
        }
        kvaser::CAN_OK
    }

    unsafe extern "C" fn fake_can_read_wait(
        _hnd: c_int,
        _id: *mut c_long,
        _msg: *mut c_void,
        _dlc: *mut c_uint,
        _flag: *mut c_uint,
        _time: *mut c_ulong,
        timeout: c_ulong,
    ) -> c_int {
        // No panic across the C boundary: a wrong timeout is a different status.
        if timeout == 250 {
            kvaser::CAN_ERR_NOMSG
        } else {
            -1
        }
    }

    #[test]
    fn kvaser_reader_calls_through_and_reads_the_out_parameters() {
        let (mut id, mut dlc, mut flags, mut time) = (0 as c_long, 0 as c_uint, 0, 0 as c_ulong);
        let mut data = [0u8; kvaser::DATA_SIZE];
        let buffers = kvaser::Buffers {
            id: &mut id,
            data: data.as_mut_ptr(),
            dlc: &mut dlc,
            flags: &mut flags,
            time: &mut time,
        };
        // SAFETY: the fakes have canRead's / canReadWait's signatures; the buffers outlive
        // the reader (locals of this test).
        let reader = unsafe { kvaser::Reader::new(fake_can_read, fake_can_read_wait, 7, buffers) };
        assert_eq!(reader.read(), kvaser::CAN_OK);
        let h = reader.header();
        assert_eq!((h.id, h.dlc, h.time), (0x1ABC_DEF0, 3, 123_456));
        let kind = kvaser::Kind::of(h.flags);
        assert!(kind.extended && !kind.remote && !kind.is_rx && !kind.special && !kind.fd);
        assert_eq!(&reader.data_block()[..4], &[1, 2, 3, 0]);
        assert_eq!(reader.read_wait(250), kvaser::CAN_ERR_NOMSG);
        assert_eq!(CALLS.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn kvaser_kind_marks_error_frames_and_overruns_special() {
        assert!(kvaser::Kind::of(kvaser::MSG_ERROR_FRAME).special);
        assert!(kvaser::Kind::of(0x0200).special); // canMSGERR_HW_OVERRUN
        assert!(kvaser::Kind::of(0x0400).special); // canMSGERR_SW_OVERRUN
        let k = kvaser::Kind::of(kvaser::FDMSG_FDF | kvaser::FDMSG_BRS | kvaser::MSG_TXACK);
        assert!(k.fd && k.brs && !k.esi && !k.is_rx && !k.special && !k.extended);
        assert!(kvaser::Kind::of(0).is_rx);
    }

    #[test]
    fn kvaser_tx_flags_follow_canlib_h() {
        assert_eq!(
            kvaser_tx_flags(false, false, false, false, true, true),
            0x0002
        );
        assert_eq!(
            kvaser_tx_flags(true, true, false, false, false, false),
            0x0005
        );
        assert_eq!(
            kvaser_tx_flags(false, false, true, false, false, false),
            0x0022
        );
        assert_eq!(
            kvaser_tx_flags(true, false, false, true, true, true),
            0x07_0004
        );
    }

    #[test]
    fn pcan_encode_classic_pads_and_cuts_data() {
        let m = pcan::encode_classic(0x1234_5678, 0x02, 3, &[1, 2, 3]);
        assert_eq!(
            m,
            [0x78, 0x56, 0x34, 0x12, 2, 3, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0]
        );
        let m = pcan::encode_classic(1, 0, 8, &[9; 12]);
        assert_eq!(&m[6..], &[9, 9, 9, 9, 9, 9, 9, 9, 0, 0]);
    }

    unsafe extern "C" fn fake_pcan_read(channel: u16, msg: *mut c_void, ts: *mut c_void) -> u32 {
        if channel != 0x51 {
            return 0x1400; // PCAN_ERROR_ILLHANDLE-ish: any non-zero status
        }
        let m: [u8; 16] = [
            0x23, 0x01, 0, 0, 0x21, 2, 0xAA, 0xBB, 9, 9, 9, 9, 9, 9, 0, 0,
        ];
        let t: [u8; 8] = [0x10, 0x27, 0, 0, 0, 0, 0xE8, 0x03];
        // SAFETY: the reader passes its buffer and the timestamp part of it.
        unsafe {
            std::ptr::copy_nonoverlapping(m.as_ptr(), msg.cast::<u8>(), 16);
            std::ptr::copy_nonoverlapping(t.as_ptr(), ts.cast::<u8>(), 8);
        }
        pcan::ERROR_OK
    }

    #[test]
    fn pcan_reader_decodes_tpcanmsg_and_timestamp() {
        let mut buffer = [0u8; pcan::BUFFER_SIZE];
        // SAFETY: the fake has CAN_Read's signature; the buffer outlives the reader.
        let reader = unsafe { pcan::Reader::new(fake_pcan_read, 0x51, buffer.as_mut_ptr()) };
        assert_eq!(reader.read(), pcan::ERROR_OK);
        let c = pcan::Classic::decode(&reader.buffer());
        assert_eq!(c.id, 0x123);
        assert_eq!(c.msgtype, pcan::MESSAGE_ECHO | pcan::MESSAGE_RTR);
        assert_eq!(
            (c.len, c.millis, c.millis_overflow, c.micros),
            (2, 10_000, 0, 1000)
        );
        assert!(c.is_plain());
        assert_eq!(c.payload(), &[] as &[u8]); // a remote frame carries no data
        let data = pcan::Classic {
            msgtype: 0,
            len: 12,
            ..c
        };
        assert_eq!(data.payload(), &[0xAA, 0xBB, 9, 9, 9, 9, 9, 9]);
        assert!(!pcan::Classic {
            msgtype: pcan::MESSAGE_STATUS,
            ..c
        }
        .is_plain());
        assert!(!pcan::Classic {
            millis_overflow: 1,
            ..c
        }
        .is_plain());
    }
}
