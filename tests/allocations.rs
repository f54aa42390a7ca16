//! The established-chain encrypt path allocates nothing but its output
//! buffer: a counting global allocator (test-only) shows it.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the
// wrapper only counts. (Test code only: the library forbids unsafe code.)
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn established_chain_encrypt_allocates_only_the_output() {
    let (mut c, mut b, mut r) = common::established(70);
    // Put c on an established sending chain.
    let m = c.encrypt_with_rng(b"warm", b"", &mut r).unwrap();
    b.decrypt(&m, b"").unwrap();
    for len in [0usize, 100, 1024, 16 * 1024] {
        let pt = vec![7u8; len];
        let ad = [1u8; 64];
        let before = ALLOCATIONS.load(Ordering::SeqCst);
        let wire = c.encrypt_with_rng(&pt, &ad, &mut r).unwrap();
        let count = ALLOCATIONS.load(Ordering::SeqCst) - before;
        assert_eq!(count, 1, "{len}-byte message: {count} allocations");
        assert_eq!(b.decrypt(&wire, &ad).unwrap(), pt);
    }
}
