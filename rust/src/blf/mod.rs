//! Vector's Binary Logging Format (BLF): a streaming reader and writer.
//!
//! Vector publishes no specification. The layouts here are facts collected from public
//! descriptions and checked against real Vector-written files (shared/data): Tobias Lorenz's
//! `vector_blf` library (object types and structures), Wireshark's `wiretap/blf.h` (object
//! header version 3) and python-can's `can/io/blf.py` (what python-can writes and reads).
//!
//! A file is a 144-byte header ([`header`]) followed by objects. Every object starts with a
//! 16-byte base header (`"LOBJ"`, header size, header version, object size, object type) and is
//! followed by `object size % 4` padding bytes. Normally the top level holds LOG_CONTAINER
//! objects whose payload (zlib-compressed or stored) is a stream of further objects; an object
//! may start in one container and end in the next. Some writers put objects at the top level
//! without containers; [`reader::Reader`] accepts both.
//!
//! Every size field is checked before it is used: nothing is allocated from a size field that
//! the bytes actually present in the file do not back, and a corrupt or truncated file ends in
//! an [`Error`] or a reported truncation, never a panic or a hang.

pub mod deflate;
pub mod header;
pub mod reader;
pub mod writer;

pub use header::{FileHeader, SystemTime};
pub use reader::{GlobalMarker, Reader, Record, Truncation};
pub use writer::Writer;

/// Signature of the file header.
pub const FILE_SIGNATURE: &[u8; 4] = b"LOGG";
/// Signature of every object header.
pub const OBJ_SIGNATURE: &[u8; 4] = b"LOBJ";
/// Size of the file header python-can and Vector tools write.
pub const FILE_HEADER_SIZE: usize = 144;
/// Size of the object base header.
pub const OBJ_HEADER_BASE_SIZE: usize = 16;
/// Size of base header + version 1 (or 3) object header.
pub const OBJ_HEADER_V1_SIZE: usize = 32;
/// Size of base header + version 2 object header.
pub const OBJ_HEADER_V2_SIZE: usize = 40;
/// Size of the LOG_CONTAINER header that follows its base header.
pub const LOG_CONTAINER_HEADER_SIZE: usize = 16;

// Object types (vector_blf ObjectType.h).
pub const CAN_MESSAGE: u32 = 1;
pub const CAN_ERROR: u32 = 2;
pub const LOG_CONTAINER: u32 = 10;
pub const CAN_ERROR_EXT: u32 = 73;
pub const CAN_MESSAGE2: u32 = 86;
pub const GLOBAL_MARKER: u32 = 96;
pub const CAN_FD_MESSAGE: u32 = 100;
pub const CAN_FD_MESSAGE_64: u32 = 101;

// LOG_CONTAINER compression methods.
pub const NO_COMPRESSION: u16 = 0;
pub const ZLIB_DEFLATE: u16 = 2;

// Object header flags: the unit of the timestamp.
pub const TIME_TEN_MICS: u32 = 0x1;
pub const TIME_ONE_NANS: u32 = 0x2;

// CAN_MESSAGE / CAN_FD_MESSAGE fields.
/// Bit 31 of a BLF identifier: extended (29-bit) id.
pub const CAN_MSG_EXT: u32 = 0x8000_0000;
/// CAN_MESSAGE flags: transmitted by this node (else received).
pub const MSG_FLAG_TX: u8 = 0x01;
/// CAN_MESSAGE flags: remote frame.
pub const MSG_FLAG_RTR: u8 = 0x80;
/// CAN_FD_MESSAGE fd_flags: EDL, BRS, ESI.
pub const FD_FLAG_EDL: u8 = 0x1;
pub const FD_FLAG_BRS: u8 = 0x2;
pub const FD_FLAG_ESI: u8 = 0x4;
/// CAN_FD_MESSAGE_64 flags: remote frame, EDL, BRS, ESI.
pub const FD64_FLAG_RTR: u32 = 0x0010;
pub const FD64_FLAG_EDL: u32 = 0x1000;
pub const FD64_FLAG_BRS: u32 = 0x2000;
pub const FD64_FLAG_ESI: u32 = 0x4000;

/// Payload sizes of the object types (after the object header).
pub const CAN_MSG_SIZE: usize = 16;
pub const CAN_FD_MSG_SIZE: usize = 84;
pub const CAN_FD_MSG_64_SIZE: usize = 40;
pub const CAN_ERROR_EXT_SIZE: usize = 32;
pub const GLOBAL_MARKER_SIZE: usize = 40;

/// Largest object (other than a LOG_CONTAINER) the reader accepts. CAN objects are under 200
/// bytes; other buses' objects (Ethernet, FlexRay, text) stay far below this.
pub const MAX_OBJECT_SIZE: u32 = 16 << 20;
/// Largest uncompressed LOG_CONTAINER payload the reader accepts (Vector tools write 128 KiB):
/// the bytes the payload really inflates to, whatever size its header declares.
pub const MAX_CONTAINER_SIZE: u32 = 64 << 20;

/// Why a BLF file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file does not start with a BLF header.
    #[error("not a BLF file: {0}")]
    NotBlf(String),
    /// The bytes at `offset` do not form a valid BLF structure.
    #[error("corrupt BLF file at byte {offset}: {what}")]
    Corrupt { offset: u64, what: String },
    /// A value cannot be stored in a BLF file.
    #[error("{0}")]
    Value(String),
    /// The underlying file failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

pub type Result<T> = std::result::Result<T, Error>;

#[inline]
pub(crate) fn le_u16(b: &[u8], at: usize) -> u16 {
    let mut a = [0u8; 2];
    a.copy_from_slice(&b[at..at + 2]);
    u16::from_le_bytes(a)
}

#[inline]
pub(crate) fn le_u32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

#[inline]
pub(crate) fn le_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

#[cfg(test)]
mod tests;
