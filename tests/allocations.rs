//! The established-chain encrypt path allocates nothing but its output
//! buffer, and a session's memory stays within its documented size: a
//! counting global allocator (test-only) shows both.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

use hotline::Session;
use hotline::constants::{MAX_SKIPPED_CHAINS, MAX_SKIPPED_KEYS};
use hotline::store::StorageKey;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
/// Bytes currently allocated (process-wide).
static LIVE: AtomicIsize = AtomicIsize::new(0);
/// The counters are process-wide: the tests of this file take turns.
static SERIAL: Mutex<()> = Mutex::new(());

// SAFETY: every call is forwarded unchanged to the system allocator; the
// wrapper only counts. (Test code only: the library forbids unsafe code.)
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        LIVE.fetch_add(layout.size() as isize, Ordering::SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn established_chain_encrypt_allocates_only_the_output() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
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

/// The heap bytes `f`'s result keeps alive (what it allocated and did not free).
fn retained<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = LIVE.load(Ordering::SeqCst);
    let value = f();
    let after = LIVE.load(Ordering::SeqCst);
    (value, usize::try_from(after - before).unwrap_or(0))
}

/// A session's in-memory size (the struct plus the heap it owns, measured as
/// the bytes a restore keeps allocated) next to its stored size, with no
/// skipped keys and at its caps. README.md's "Limits" quotes these bounds.
#[test]
fn session_memory_stays_within_its_documented_size() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let key = StorageKey::from_bytes([0x5a; 32]);
    let (mut c, mut b, mut r) = common::established(72);
    let m = b.encrypt_with_rng(b"reply", b"", &mut r).unwrap();
    c.decrypt(&m, b"").unwrap();

    let record = b.pickle(&key, &mut r);
    let (restored, heap) = retained(|| Session::from_pickle(&record, &key).unwrap());
    assert_eq!(restored.state_digest(), b.state_digest());
    let small = size_of::<Session>() + heap;
    eprintln!(
        "session, no skipped keys: {small} bytes in memory ({} struct + {heap} heap), {} stored",
        size_of::<Session>(),
        record.len()
    );
    assert!(
        small <= 4 * 1024,
        "{small} bytes in memory without skipped keys"
    );

    common::fill_skipped_keys(&mut b, &mut c, &mut r);
    let record = c.pickle(&key, &mut r);
    let (restored, heap) = retained(|| Session::from_pickle(&record, &key).unwrap());
    assert_eq!(restored.skipped_key_count(), MAX_SKIPPED_KEYS);
    let full = size_of::<Session>() + heap;
    eprintln!(
        "session at its caps ({MAX_SKIPPED_KEYS} skipped keys, {MAX_SKIPPED_CHAINS} chains): \
         {full} bytes in memory, {} stored",
        record.len()
    );
    assert!(full <= 256 * 1024, "{full} bytes in memory at the caps");
    // More traffic never grows it past the caps.
    for _ in 0..3 {
        common::gapped_round(&mut b, &mut c, &mut r);
    }
    let record = c.pickle(&key, &mut r);
    let (_, heap_later) = retained(|| Session::from_pickle(&record, &key).unwrap());
    assert!(
        heap_later <= heap + heap / 10,
        "{heap_later} heap bytes after more gaps, {heap} at the caps"
    );
}
