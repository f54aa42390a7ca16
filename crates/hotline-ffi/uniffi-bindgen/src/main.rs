//! The UniFFI generator, built from the repository so that generating the
//! bindings needs nothing else (library mode: it reads the metadata the
//! `uniffi` macros put in the built `hotline-ffi` library):
//!
//! ```sh
//! cargo run -p hotline-ffi-bindgen -- \
//!     generate --library target/debug/libhotline_ffi.so --language python --out-dir out
//! ```

fn main() {
    uniffi::uniffi_bindgen_main()
}
