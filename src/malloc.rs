//! One allocator setting, made before anything else allocates.
//!
//! glibc raises its mmap threshold to the size of any mmapped block that is freed (up to
//! 32 MiB), and its trim threshold to twice that. Argon2 frees a 19 MiB block on the first
//! start and on every password check, so after one of them no arena ever gave memory back to
//! the system: a 1,000-file upload or 64 busy connections left 10-20 MiB of freed memory
//! resident for good. Setting the threshold by hand turns that adjustment off. 4 MiB keeps the
//! reused 1 MiB read buffers in the arenas, and sends argon2's block (and anything that big)
//! straight back to the system when it is freed.

/// Above this size an allocation is its own mapping, unmapped when freed.
pub const MMAP_THRESHOLD: usize = 4 * 1024 * 1024;

/// Pins the mmap threshold; true when the allocator took it. False off glibc (where the
/// dynamic threshold does not exist) and when the operator set one (`MALLOC_MMAP_THRESHOLD_`
/// or `glibc.malloc.mmap_threshold` in `GLIBC_TUNABLES`): theirs stands.
pub fn pin_mmap_threshold() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let tunables = std::env::var("GLIBC_TUNABLES").unwrap_or_default();
        if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_some()
            || tunables.contains("malloc.mmap_threshold")
        {
            return false;
        }
        // SAFETY: mallopt only changes allocator parameters; any value is accepted or refused.
        unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD as libc::c_int) == 1 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}
