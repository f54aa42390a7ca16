//! Verified names people can trust: normalization, character rules, script
//! rules and look-alike detection (SPEC.md, "Name rules").
//!
//! The tables come from the `unicode-normalization` and `unicode-security`
//! crates (Unicode 18 data, UTS #15 and UTS #39); nothing here is a
//! hand-written character table except the short ASCII punctuation list
//! [`NAME_PUNCTUATION`] and the twelve bidi controls, which the rules name
//! explicitly so the error can.

use unicode_normalization::{UnicodeNormalization, is_nfc};
use unicode_script::{Script, UnicodeScript};
use unicode_security::general_security_profile::IdentifierType;
use unicode_security::{GeneralSecurityProfile, RestrictionLevel, RestrictionLevelDetection};

use crate::constants::{MAX_NAME_BYTES, MAX_NAME_CHARS, NAME_PUNCTUATION};

/// Why a name is not acceptable as a verified business name. Positions
/// count Unicode scalar values from 0.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// The name is empty.
    #[error("the name is empty")]
    Empty,
    /// The name has more than [`MAX_NAME_BYTES`] bytes of UTF-8.
    #[error("the name is {0} bytes long, more than the maximum")]
    TooManyBytes(usize),
    /// The name has more than [`MAX_NAME_CHARS`] characters.
    #[error("the name is {0} characters long, more than the maximum")]
    TooManyChars(usize),
    /// The name is not in Unicode Normalization Form C (validation requires
    /// the issuer to have normalized it).
    #[error("the name is not in Unicode NFC")]
    NotNormalized,
    /// A control character (general category Cc).
    #[error("control character U+{:04X} at position {position}", *.ch as u32)]
    ControlCharacter {
        /// Where.
        position: usize,
        /// The character.
        ch: char,
    },
    /// A bidirectional formatting character (overrides, embeddings,
    /// isolates, marks), which can reorder how the name is displayed.
    #[error("bidi control U+{:04X} at position {position}", *.ch as u32)]
    BidiControl {
        /// Where.
        position: usize,
        /// The character.
        ch: char,
    },
    /// An invisible (default-ignorable) character such as a zero-width
    /// joiner or space, a soft hyphen or a variation selector.
    #[error("invisible character U+{:04X} at position {position}", *.ch as u32)]
    InvisibleCharacter {
        /// Where.
        position: usize,
        /// The character.
        ch: char,
    },
    /// A full-width or half-width form (U+FF00 to U+FFEF), which imitates
    /// an ordinary letter, digit or sign.
    #[error("full-width or half-width form U+{:04X} at position {position}", *.ch as u32)]
    FullWidthForm {
        /// Where.
        position: usize,
        /// The character.
        ch: char,
    },
    /// Any other character not allowed by the UTS #39 General Security
    /// Profile (and not in [`NAME_PUNCTUATION`]): symbols, compatibility
    /// forms, obsolete or limited-use scripts, other spaces.
    #[error("character U+{:04X} at position {position} is not allowed in names", *.ch as u32)]
    DisallowedCharacter {
        /// Where.
        position: usize,
        /// The character.
        ch: char,
    },
    /// A leading or trailing space, or two spaces in a row.
    #[error("leading, trailing or repeated space")]
    BadSpacing,
    /// The name has no letter at all.
    #[error("the name has no letter")]
    NoLetter,
    /// The letters mix scripts beyond the UTS #39 "highly restrictive"
    /// level (for example a Cyrillic or Greek letter in a Latin name).
    #[error("the name mixes scripts (restriction level {0})")]
    MixedScript(&'static str),
    /// The name has no Latin letter but its confusable skeleton is ASCII:
    /// a whole-script look-alike of an ASCII name (for example all-Cyrillic
    /// "СОСА" imitating "COCA").
    #[error("the name imitates the ASCII name {0:?}")]
    AsciiLookalike(String),
    /// Han, Kana or Hangul glued into a Latin word the way a look-alike
    /// letter would be: a run of such characters with Latin letters on both
    /// sides within one word ("G〇〇GLE", "Neトflix"), or a single such
    /// character next to a Latin letter ("工NG Bank"). Genuine mixed names
    /// ("LINEヤフー", "楽天Edy", "三菱UFJ銀行") put whole words side by side.
    #[error("U+{:04X} at position {position} is glued into a Latin word", *.ch as u32)]
    LatinWordMix {
        /// Where the run starts.
        position: usize,
        /// Its first character.
        ch: char,
    },
}

/// Whether a character belongs (by Script_Extensions) to Han, Hiragana,
/// Katakana or Hangul: the scripts that "highly restrictive" lets mix with
/// Latin.
fn is_cjk(c: char) -> bool {
    let ext = c.script_extension();
    !ext.is_common()
        && !ext.is_inherited()
        && [
            Script::Han,
            Script::Hiragana,
            Script::Katakana,
            Script::Hangul,
        ]
        .into_iter()
        .any(|s| ext.contains_script(s))
}

fn is_latin_letter(c: char) -> bool {
    c.script() == Script::Latin && c.is_alphabetic()
}

/// Rule 8a (SPEC.md 13.8): within each space-separated word, a maximal run
/// of Han/Kana/Hangul characters may not have Latin letters on both sides,
/// and a run of one character may not touch a Latin letter at all.
fn check_latin_word_mix(name: &str) -> Result<(), NameError> {
    let mut offset = 0;
    for word in name.split(' ') {
        let chars: Vec<char> = word.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if !is_cjk(chars[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < chars.len() && is_cjk(chars[i]) {
                i += 1;
            }
            let before = start > 0 && is_latin_letter(chars[start - 1]);
            let after = i < chars.len() && is_latin_letter(chars[i]);
            if (before && after) || (i - start == 1 && (before || after)) {
                return Err(NameError::LatinWordMix {
                    position: offset + start,
                    ch: chars[start],
                });
            }
        }
        offset += chars.len() + 1;
    }
    Ok(())
}

/// The twelve characters with the Unicode Bidi_Control property.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

fn level_name(level: RestrictionLevel) -> &'static str {
    match level {
        RestrictionLevel::ASCIIOnly => "ASCII only",
        RestrictionLevel::SingleScript => "single script",
        RestrictionLevel::HighlyRestrictive => "highly restrictive",
        RestrictionLevel::ModeratelyRestrictive => "moderately restrictive",
        RestrictionLevel::MinimallyRestrictive => "minimally restrictive",
        RestrictionLevel::Unrestricted => "unrestricted",
    }
}

/// Checks a name against every rule of SPEC.md, "Name rules", in order, and
/// returns the first failure. The name must already be in NFC: this is the
/// check a client applies to a certificate. Issuers use [`normalize_name`].
///
/// ```
/// use hotline::business::{NameError, check_name};
/// assert!(check_name("KLM Royal Dutch Airlines").is_ok());
/// assert!(check_name("Müller & Söhne GmbH").is_ok());
/// assert!(check_name("日本航空").is_ok());
/// // A Cyrillic "а" inside a Latin name.
/// assert!(matches!(check_name("PаyPal"), Err(NameError::MixedScript(_))));
/// ```
pub fn check_name(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    // Lengths first: everything after is linear in a bounded input.
    if name.len() > MAX_NAME_BYTES {
        return Err(NameError::TooManyBytes(name.len()));
    }
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(NameError::TooManyChars(chars));
    }
    if !is_nfc(name) {
        return Err(NameError::NotNormalized);
    }
    let mut letters = String::with_capacity(name.len());
    for (position, ch) in name.chars().enumerate() {
        if ch.is_control() {
            return Err(NameError::ControlCharacter { position, ch });
        }
        if is_bidi_control(ch) {
            return Err(NameError::BidiControl { position, ch });
        }
        if ch.identifier_type() == Some(IdentifierType::Default_Ignorable) {
            return Err(NameError::InvisibleCharacter { position, ch });
        }
        if ('\u{FF00}'..='\u{FFEF}').contains(&ch) {
            return Err(NameError::FullWidthForm { position, ch });
        }
        if NAME_PUNCTUATION.contains(&ch) {
            continue;
        }
        if !ch.identifier_allowed() {
            return Err(NameError::DisallowedCharacter { position, ch });
        }
        letters.push(ch);
    }
    if name.starts_with(' ') || name.ends_with(' ') || name.contains("  ") {
        return Err(NameError::BadSpacing);
    }
    if !name.chars().any(char::is_alphabetic) {
        return Err(NameError::NoLetter);
    }
    // Script mixing is judged on the letters, marks and digits only: the
    // allowed punctuation is ASCII and script-neutral.
    let level = letters.as_str().detect_restriction_level();
    if level > RestrictionLevel::HighlyRestrictive {
        return Err(NameError::MixedScript(level_name(level)));
    }
    check_latin_word_mix(name)?;
    // Whole-script look-alikes: a name written without a single Latin
    // letter that nevertheless looks like an ASCII name. (Latin names whose
    // skeleton is ASCII, such as Turkish "Yatırım", are genuine; resemblance
    // between Latin names is what the known-names warning is for.)
    if !name.chars().any(|c| c.script() == Script::Latin) {
        let skeleton: String = unicode_security::skeleton(name).collect();
        if skeleton.is_ascii() {
            return Err(NameError::AsciiLookalike(skeleton));
        }
    }
    Ok(())
}

/// Normalizes a requested name to NFC and checks it (the issuer's step
/// before signing). Returns the name exactly as it must appear in the
/// certificate.
///
/// ```
/// // "e" followed by a combining acute accent becomes "é".
/// let name = hotline::business::normalize_name("Cafe\u{301} de Flore")?;
/// assert_eq!(name, "Café de Flore");
/// # Ok::<(), hotline::business::NameError>(())
/// ```
pub fn normalize_name(requested: &str) -> Result<String, NameError> {
    // NFC can shrink but also grow a string by a small factor; refuse absurd
    // input before normalizing it.
    if requested.len() > 4 * MAX_NAME_BYTES {
        return Err(NameError::TooManyBytes(requested.len()));
    }
    let name: String = requested.nfc().collect();
    check_name(&name)?;
    Ok(name)
}

/// The comparison key of a name for look-alike detection: the UTS #39
/// skeleton, lower-cased, skeletonized again, and with every `i` folded to
/// `l` (so "KLM", "K1M", "kIm" and "ΚLΜ" share a key, and so do
/// "BOOKING.COM" and "Booking.com": a capital I reads as a lower-case l in
/// mixed case and as an i in capitals, and the key cannot tell which).
/// Two names with the same key can be mistaken for each other.
///
/// ```
/// use hotline::business::confusable_key;
/// assert_eq!(confusable_key("BOOKING.COM"), confusable_key("Booking.com"));
/// assert_eq!(confusable_key("kIm"), confusable_key("KLM"));
/// ```
pub fn confusable_key(name: &str) -> String {
    let first: String = unicode_security::skeleton(name).collect();
    let lower = first.to_lowercase();
    unicode_security::skeleton(&lower)
        .map(|c| if c == 'i' { 'l' } else { c })
        .collect()
}

/// Whether two names can be mistaken for each other (equal confusable keys).
///
/// ```
/// use hotline::business::names_confusable;
/// assert!(names_confusable("KLM", "K1M"));
/// assert!(names_confusable("PayPal", "PаyPal")); // Cyrillic а
/// assert!(!names_confusable("KLM", "KLN"));
/// ```
pub fn names_confusable(a: &str, b: &str) -> bool {
    confusable_key(a) == confusable_key(b)
}

/// Whether a language tag is acceptable in a certificate: 2 to 35 ASCII
/// letters, digits or hyphens, starting with a letter, with no empty subtag.
pub(crate) fn language_tag_ok(tag: &[u8]) -> bool {
    use crate::constants::{MAX_LANGUAGE_TAG_LEN, MIN_LANGUAGE_TAG_LEN};
    (MIN_LANGUAGE_TAG_LEN..=MAX_LANGUAGE_TAG_LEN).contains(&tag.len())
        && tag[0].is_ascii_alphabetic()
        && tag.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && !tag.ends_with(b"-")
        && !tag.windows(2).any(|w| w == b"--")
}

#[cfg(test)]
mod tests {
    /// Only a Latin *letter* makes a glued run suspect: a digit or a letter
    /// of another script next to a single ideograph is not a look-alike of
    /// a Latin word.
    #[test]
    fn only_latin_letters_make_a_run_glued() {
        assert_eq!(check_latin_word_mix("Bank 1\u{53F7}"), Ok(()));
        assert_eq!(check_latin_word_mix("\u{416}\u{53F7}"), Ok(()));
        assert_eq!(
            check_latin_word_mix("A\u{53F7}"),
            Err(NameError::LatinWordMix {
                position: 1,
                ch: '\u{53F7}'
            })
        );
        // A run of two with Latin on one side only is a word beside a word.
        assert_eq!(check_latin_word_mix("A\u{53F7}\u{5E97}"), Ok(()));
        assert!(check_latin_word_mix("A\u{53F7}\u{5E97}B").is_err());
        // Positions count from the start of the whole name.
        assert_eq!(
            check_latin_word_mix("xy ab\u{53F7}"),
            Err(NameError::LatinWordMix {
                position: 5,
                ch: '\u{53F7}'
            })
        );
    }

    use super::*;

    #[test]
    fn punctuation_is_script_neutral_and_not_identifier_characters() {
        // If a future Unicode version made one of these an identifier
        // character, it would be judged by the script rules instead; either
        // way the list stays ASCII.
        assert!(NAME_PUNCTUATION.iter().all(char::is_ascii));
    }

    #[test]
    fn language_tags() {
        for ok in ["de", "en-GB", "zh-Hant-TW", "ja"] {
            assert!(language_tag_ok(ok.as_bytes()), "{ok}");
        }
        for bad in ["", "d", "1a", "en-", "en--GB", "en_GB", "déu"] {
            assert!(!language_tag_ok(bad.as_bytes()), "{bad}");
        }
    }
}
