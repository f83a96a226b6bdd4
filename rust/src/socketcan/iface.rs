//! Network interface names and indices, and the list of the machine's CAN interfaces.

use std::ffi::{CStr, CString};

use super::{Error, Result};

/// Longest interface name (`IFNAMSIZ` - 1, include/uapi/linux/if.h).
pub const MAX_NAME_LEN: usize = 15;

/// `ARPHRD_CAN` (include/uapi/linux/if_arp.h): the hardware type of CAN interfaces.
pub const ARPHRD_CAN: u16 = 280;

/// The index of the interface called `name` (`if_nametoindex`).
pub fn index_of(name: &str) -> Result<i32> {
    let invalid = |reason: &str| Error::NoSuchInterface {
        name: name.to_owned(),
        reason: reason.to_owned(),
    };
    if name.is_empty() {
        return Err(invalid("the name is empty"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(invalid("interface names have at most 15 bytes"));
    }
    let c = CString::new(name).map_err(|_| invalid("the name contains a NUL byte"))?;
    // SAFETY: `c` is a valid NUL-terminated string for the duration of the call.
    let index = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if index == 0 {
        let err = std::io::Error::last_os_error();
        return Err(invalid(&err.to_string()));
    }
    i32::try_from(index).map_err(|_| invalid("interface index out of range"))
}

/// The name of the interface with index `index` (`if_indextoname`), if there is one.
pub fn name_of(index: i32) -> Option<String> {
    let index = u32::try_from(index).ok().filter(|&i| i != 0)?;
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: `buf` has the IF_NAMESIZE bytes if_indextoname may write.
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if p.is_null() {
        return None;
    }
    // SAFETY: on success the buffer holds a NUL-terminated name.
    let name = unsafe { CStr::from_ptr(buf.as_ptr()) };
    Some(name.to_string_lossy().into_owned())
}

/// The names of the machine's CAN interfaces (type `ARPHRD_CAN` in `/sys/class/net`), sorted.
///
/// Interfaces that are down are listed too: they exist and can be brought up.
pub fn can_interfaces() -> std::io::Result<Vec<String>> {
    let mut names = Vec::new();
    let dir = match std::fs::read_dir("/sys/class/net") {
        Ok(dir) => dir,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(names),
        Err(e) => return Err(e),
    };
    for entry in dir {
        let entry = entry?;
        let Ok(kind) = std::fs::read_to_string(entry.path().join("type")) else {
            continue;
        };
        if kind.trim().parse::<u16>() == Ok(ARPHRD_CAN) {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn loopback_is_found_and_invalid_names_are_errors() {
        // `lo` exists on every Linux machine, also in containers.
        let lo = index_of("lo").unwrap();
        assert!(lo > 0);
        assert_eq!(name_of(lo).as_deref(), Some("lo"));
        assert!(matches!(index_of(""), Err(Error::NoSuchInterface { .. })));
        assert!(index_of("a-name-that-is-too-long").is_err());
        assert!(index_of("nosuchcan99").is_err());
        assert!(name_of(0).is_none());
    }

    #[test]
    fn can_interfaces_never_lists_loopback() {
        let names = can_interfaces().unwrap();
        assert!(!names.iter().any(|n| n == "lo"));
    }
}
