//! The CPUs this process may run on: the ONE CPU count of bakeoff. It
//! honours affinity (`sched_getaffinity`), so under `taskset -c 2,3` the
//! default layout, the suite's `[cpu]` check, pinning and
//! `provenance.cores` all see CPUs 2 and 3, not the whole machine.

/// The CPUs of this process's affinity mask, ascending; never empty
/// (falls back to `0..available_parallelism` if the mask cannot be read).
pub fn allowed() -> Vec<usize> {
    // SAFETY: cpu_set_t is a plain bitmask (all-zero is the empty set);
    // sched_getaffinity writes at most size_of::<cpu_set_t>() bytes into it.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let ok =
        unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) }
            == 0;
    let cpus: Vec<usize> = if ok {
        (0..libc::CPU_SETSIZE as usize)
            // SAFETY: c < CPU_SETSIZE, the size of the set.
            .filter(|&c| unsafe { libc::CPU_ISSET(c, &set) })
            .collect()
    } else {
        Vec::new()
    };
    if cpus.is_empty() {
        (0..std::thread::available_parallelism().map_or(1, usize::from)).collect()
    } else {
        cpus
    }
}

/// How many CPUs this process may run on ([`allowed`]).
pub fn count() -> usize {
    allowed().len()
}

/// "0-3", "2,3", "0-1,4": a CPU list as taskset writes it.
pub fn describe(cpus: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < cpus.len() {
        let start = cpus[i];
        let mut end = start;
        while i + 1 < cpus.len() && cpus[i + 1] == end + 1 {
            i += 1;
            end = cpus[i];
        }
        parts.push(if end > start + 1 {
            format!("{start}-{end}")
        } else if end == start + 1 {
            format!("{start},{end}")
        } else {
            start.to_string()
        });
        i += 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allowed_set_is_our_affinity() {
        let cpus = allowed();
        assert!(!cpus.is_empty());
        assert!(cpus.windows(2).all(|w| w[0] < w[1]), "{cpus:?}");
        // SAFETY: sched_getcpu has no preconditions.
        let now = unsafe { libc::sched_getcpu() };
        assert!(
            cpus.contains(&(now as usize)),
            "running on {now}, allowed {cpus:?}"
        );
        assert_eq!(count(), cpus.len());
    }

    #[test]
    fn lists_are_written_as_taskset_does() {
        assert_eq!(describe(&[0, 1, 2, 3]), "0-3");
        assert_eq!(describe(&[2, 3]), "2,3");
        assert_eq!(describe(&[0, 1, 4, 6, 7, 8]), "0,1,4,6-8");
        assert_eq!(describe(&[5]), "5");
    }
}
