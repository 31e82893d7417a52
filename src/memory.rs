//! The allocator's free memory, given back to the system when a big job lets go of it.

/// Gives memory this thread freed back to the system now, instead of keeping it for later use
/// (mimalloc keeps freed pages for a while): a service's resident memory after a big /metrics
/// answer, or a scan's after each chunk, stays what it needs. Harmless under another allocator.
pub fn give_back() {
    // SAFETY: mi_collect only walks the allocator's own free lists.
    unsafe { libmimalloc_sys::mi_collect(true) };
}
