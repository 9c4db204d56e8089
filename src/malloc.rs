//! Three allocator settings, made before anything else allocates.
//!
//! glibc raises its mmap threshold to the size of any mmapped block that is freed (up to
//! 32 MiB), and its trim threshold to twice that. Argon2 frees a 19 MiB block on the first
//! start and on every password check, so after one of them no arena ever gave memory back to
//! the system: a 1,000-file upload or 64 busy connections left 10-20 MiB of freed memory
//! resident for good. Setting either threshold by hand turns that adjustment off.
//!
//! - mmap threshold 4 MiB: argon2's block (and anything that big) is its own mapping, given
//!   back when freed; the reused 1 MiB read buffers stay in the arenas.
//! - trim threshold 4 MiB: an arena keeps up to this much free at its top. At glibc's default
//!   (128 KiB) a download gave back and faulted in again a megabyte per chunk sent, and ran at
//!   less than half its speed.
//! - one arena per core instead of glibc's eight: actix runs one worker per core, and the
//!   blocking pool's threads mostly wait on disk, so more arenas only spread freed memory
//!   thin. On the public-route bench (2 cores) the peak went from 45.6 to 39.7 MiB with no
//!   measurable change in requests per second (one arena in all cost ~20 %).

/// Above this size an allocation is its own mapping, unmapped when freed.
pub const MMAP_THRESHOLD: usize = 4 * 1024 * 1024;
/// Free memory above this at an arena's top goes back to the system.
pub const TRIM_THRESHOLD: usize = 4 * 1024 * 1024;

/// Makes the three settings; true when all three are in place, ours or the operator's: one
/// set in the environment (`MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_`,
/// `MALLOC_ARENA_MAX`, or the same in `GLIBC_TUNABLES`) stands. False off glibc, where the
/// dynamic thresholds do not exist.
pub fn tune() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let tunables = std::env::var("GLIBC_TUNABLES").unwrap_or_default();
        let set = |env: &str, tunable: &str, param: libc::c_int, value: usize| {
            if std::env::var_os(env).is_some() || tunables.contains(tunable) {
                return true;
            }
            // A value beyond c_int is not set (false), never truncated to another one.
            let Ok(value) = libc::c_int::try_from(value) else {
                return false;
            };
            // SAFETY: mallopt takes two plain ints by value (no pointers: no memory of ours is
            // read or written) and only changes glibc's allocator parameters, which it does
            // under its own arena lock; it is a documented, thread-safe glibc call with no
            // precondition, and `main` makes it first, before any other thread exists. A
            // parameter or value it does not accept is refused with 0, reported as false.
            #[allow(unsafe_code)]
            let changed = unsafe { libc::mallopt(param, value) };
            changed == 1
        };
        let mmap = set(
            "MALLOC_MMAP_THRESHOLD_",
            "malloc.mmap_threshold",
            libc::M_MMAP_THRESHOLD,
            MMAP_THRESHOLD,
        );
        let trim = set(
            "MALLOC_TRIM_THRESHOLD_",
            "malloc.trim_threshold",
            libc::M_TRIM_THRESHOLD,
            TRIM_THRESHOLD,
        );
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let arenas = set(
            "MALLOC_ARENA_MAX",
            "malloc.arena_max",
            libc::M_ARENA_MAX,
            cores,
        );
        mmap && trim && arenas
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}
