//! CPU time of this process (the generator), from getrusage(2).

use std::time::Duration;

/// User + system CPU time consumed so far by this process (all threads).
pub fn process_cpu_time() -> Duration {
    // SAFETY: getrusage only writes into the struct we pass; a zeroed
    // rusage is a valid value of that plain C struct.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut usage) != 0 {
            return Duration::ZERO;
        }
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}
