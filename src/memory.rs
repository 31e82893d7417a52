//! The allocator's free memory, given back to the system when a big job lets go of it.

/// Gives memory this thread freed back to the system now, instead of keeping it for later use
/// (mimalloc keeps freed pages for a while): a service's resident memory after a big /metrics
/// answer, or a scan's after each chunk, stays what it needs. Harmless under another allocator.
pub fn give_back() {
    // SAFETY: mi_collect only walks the allocator's own free lists.
    unsafe { libmimalloc_sys::mi_collect(true) };
}

/// This process's resident memory in bytes (Linux: `/proc/self/statm`), when it can be read.
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf only reads a configuration value.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).ok()?)
}

/// Makes memory this thread freed reusable now; gives it back to the system (`give_back`)
/// only when this process's resident set is past `bound` bytes. Memory given back is faulted
/// in again, page by page, when it is used next (#15: giving a scan's memory back after every
/// few chunks cost a 10,000-file scan more page faults than all its reading).
pub fn reuse_or_give_back(bound: u64) {
    match resident_bytes() {
        Some(resident) if resident <= bound => {
            // SAFETY: mi_collect only walks the allocator's own free lists.
            unsafe { libmimalloc_sys::mi_collect(false) }
        }
        _ => give_back(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resident_set_is_read_and_memory_is_reused_or_given_back_by_the_bound() {
        let resident = resident_bytes().expect("Linux has /proc/self/statm");
        assert!(resident > 1 << 20 && resident < 1 << 40, "{resident}");
        let held = vec![7u8; 8 << 20];
        drop(held);
        // Under the bound: kept for reuse; over it: given back. Neither may fail.
        reuse_or_give_back(u64::MAX);
        reuse_or_give_back(0);
    }
}
