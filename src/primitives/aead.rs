//! ChaCha20-Poly1305 in place, with keys and nonces supplied by the caller.

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce, Tag};

/// Authentication failed (or the input was too long for the AEAD).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AeadFailure;

/// Encrypts `buffer` in place and returns the 16-byte tag.
pub fn seal_in_place(
    key: &[u8; 32],
    nonce: &[u8; 12],
    associated_data: &[u8],
    buffer: &mut [u8],
) -> Result<[u8; 16], AeadFailure> {
    let cipher = ChaCha20Poly1305::new(&Key::from(*key));
    let tag = cipher
        .encrypt_inout_detached(&Nonce::from(*nonce), associated_data, buffer.into())
        .map_err(|_| AeadFailure)?;
    Ok(tag.into())
}

/// Verifies `tag` and decrypts `buffer` in place. On failure the contents of
/// `buffer` are unspecified; callers decrypt into scratch space.
pub fn open_in_place(
    key: &[u8; 32],
    nonce: &[u8; 12],
    associated_data: &[u8],
    buffer: &mut [u8],
    tag: &[u8; 16],
) -> Result<(), AeadFailure> {
    let cipher = ChaCha20Poly1305::new(&Key::from(*key));
    cipher
        .decrypt_inout_detached(
            &Nonce::from(*nonce),
            associated_data,
            buffer.into(),
            &Tag::from(*tag),
        )
        .map_err(|_| AeadFailure)
}
