//! The deterministic generator of Hotline's conformance vectors, the files
//! in the repository's `tests/vectors/`.
//!
//! Every random value is written explicitly into the vectors (none is left
//! to a seeded generator another implementation would have to copy), so an
//! implementation written from SPEC.md alone can reproduce every byte. The
//! generator lives outside the protocol crate and reaches it only through its
//! public API and the `conformance` feature's building blocks.
//!
//! `cargo test` regenerates the vectors and compares them byte for byte with
//! the committed files; after an intended protocol change,
//! `cargo run -p hotline-vectors -- write` rewrites them (SPEC.md changes in
//! the same commit).
//!
//! ```
//! let files = hotline_vectors::files();
//! assert!(files.iter().any(|(name, _)| *name == "handshake.json"));
//! ```

mod generator;

pub use generator::{conversation, files};

/// The directory of the committed vector files.
pub fn vector_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}
