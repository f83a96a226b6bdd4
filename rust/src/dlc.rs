//! Data length codes of CAN and CAN FD.
//!
//! ISO 11898-1:2015 maps DLC 0..=8 to the same number of bytes and DLC 9..=15 to
//! 12, 16, 20, 24, 32, 48 and 64 bytes (CAN FD only). Classic CAN treats DLC 9..=15 as 8 bytes.

/// Payload length in bytes for each DLC value 0..=15 in a CAN FD frame.
pub const DLC_TO_LEN: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64];

/// Data length for a DLC, or `None` if the DLC is outside 0..=15.
pub fn dlc_to_len(dlc: u32) -> Option<usize> {
    DLC_TO_LEN.get(dlc as usize).map(|&n| n as usize)
}

/// Smallest DLC whose data length holds `len` bytes, or `None` if `len` exceeds 64.
pub fn len_to_dlc(len: usize) -> Option<u8> {
    DLC_TO_LEN
        .iter()
        .position(|&n| n as usize >= len)
        .map(|i| i as u8)
}

/// Whether `len` is a data length a CAN FD frame can carry exactly.
pub fn is_valid_fd_len(len: usize) -> bool {
    DLC_TO_LEN.iter().any(|&n| n as usize == len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_iso_11898() {
        let expected = [
            (9, 12),
            (10, 16),
            (11, 20),
            (12, 24),
            (13, 32),
            (14, 48),
            (15, 64),
        ];
        for dlc in 0..=8 {
            assert_eq!(dlc_to_len(dlc), Some(dlc as usize));
        }
        for (dlc, len) in expected {
            assert_eq!(dlc_to_len(dlc), Some(len));
        }
        assert_eq!(dlc_to_len(16), None);
    }

    #[test]
    fn len_rounds_up_to_next_dlc() {
        assert_eq!(len_to_dlc(0), Some(0));
        assert_eq!(len_to_dlc(8), Some(8));
        assert_eq!(len_to_dlc(9), Some(9));
        assert_eq!(len_to_dlc(12), Some(9));
        assert_eq!(len_to_dlc(13), Some(10));
        assert_eq!(len_to_dlc(64), Some(15));
        assert_eq!(len_to_dlc(65), None);
    }

    #[test]
    fn fd_lengths() {
        let valid: Vec<usize> = (0..=64).filter(|&n| is_valid_fd_len(n)).collect();
        assert_eq!(
            valid,
            vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64]
        );
    }
}
