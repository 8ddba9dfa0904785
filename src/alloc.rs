//! The process's global allocator: mimalloc, called the way the system
//! allocator is.
//!
//! Per request, the generator allocates hyper's 8 KiB read buffer and two
//! header-map vectors. Under glibc these took ~14% of the generator's
//! instructions (callgrind, `bakeoff load` against a local server): 8 KiB is
//! beyond glibc's per-thread cache. The `mimalloc` crate routes every
//! allocation through `mi_malloc_aligned`, whose fast path stops at 1 KiB,
//! so the read buffer took its slow over-allocating path; calling
//! `mi_malloc` whenever the alignment is one malloc already guarantees (as
//! std's system allocator does) keeps all of them on the fast path.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys as mi;

/// Alignment every `mi_malloc` result has (as for malloc on 64-bit Linux).
const MIN_ALIGN: usize = 16;

/// mimalloc, with plain (unaligned) calls whenever they suffice.
pub struct Allocator;

fn plain(layout: &Layout, size: usize) -> bool {
    layout.align() <= MIN_ALIGN && layout.align() <= size
}

// SAFETY: every pointer returned comes from mimalloc with at least the
// layout's alignment (mi_malloc guarantees MIN_ALIGN for sizes >= it, and
// natural alignment below), and is freed or resized by mimalloc.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: plain FFI calls with a non-zero size (GlobalAlloc contract).
        unsafe {
            if plain(&layout, layout.size()) {
                mi::mi_malloc(layout.size()).cast()
            } else {
                mi::mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        unsafe {
            if plain(&layout, layout.size()) {
                mi::mi_zalloc(layout.size()).cast()
            } else {
                mi::mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator (GlobalAlloc contract).
        unsafe { mi::mi_free(ptr.cast::<c_void>()) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` was allocated by this allocator with `layout`.
        unsafe {
            if plain(&layout, new_size) {
                mi::mi_realloc(ptr.cast::<c_void>(), new_size).cast()
            } else {
                mi::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn honours_alignment_and_keeps_contents_on_realloc() {
        let a = Allocator;
        for (size, align) in [(1, 1), (24, 8), (8192, 1), (100, 64), (3, 4096)] {
            let layout = Layout::from_size_align(size, align).unwrap();
            // SAFETY: non-zero sizes; every pointer is freed with its layout.
            unsafe {
                let p = a.alloc(layout);
                assert!(!p.is_null() && (p as usize) % align == 0, "{size}/{align}");
                p.write(7);
                let q = a.realloc(p, layout, size * 4);
                assert!((q as usize) % align == 0 && q.read() == 7, "{size}/{align}");
                a.dealloc(q, Layout::from_size_align(size * 4, align).unwrap());
            }
        }
    }
}
