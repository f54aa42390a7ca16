//! The name corpora (tests/names/): real company names in many scripts that
//! the rules must accept, and look-alikes that they must refuse with a
//! precise error.

use hotline::business::{NameError, check_name, normalize_name};

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// Replaces every `\u{XXXX}` by its character.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("\\u{") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find('}').expect("closing brace") + i;
        let code = u32::from_str_radix(&rest[i + 3..end], 16).expect("hex");
        out.push(char::from_u32(code).expect("a character"));
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn variant(e: &NameError) -> &'static str {
    match e {
        NameError::Empty => "Empty",
        NameError::TooManyBytes(_) => "TooManyBytes",
        NameError::TooManyChars(_) => "TooManyChars",
        NameError::NotNormalized => "NotNormalized",
        NameError::ControlCharacter { .. } => "ControlCharacter",
        NameError::BidiControl { .. } => "BidiControl",
        NameError::InvisibleCharacter { .. } => "InvisibleCharacter",
        NameError::FullWidthForm { .. } => "FullWidthForm",
        NameError::DisallowedCharacter { .. } => "DisallowedCharacter",
        NameError::BadSpacing => "BadSpacing",
        NameError::NoLetter => "NoLetter",
        NameError::MixedScript(_) => "MixedScript",
        NameError::AsciiLookalike(_) => "AsciiLookalike",
        NameError::LatinWordMix { .. } => "LatinWordMix",
        _ => "other",
    }
}

#[test]
fn every_real_name_of_the_corpus_is_accepted() {
    let corpus = include_str!("names/accepted.txt");
    let mut n = 0;
    for name in lines(corpus) {
        assert_eq!(check_name(name), Ok(()), "{name:?} refused");
        assert_eq!(normalize_name(name).as_deref(), Ok(name));
        n += 1;
    }
    assert!(n >= 50, "the accepted corpus holds {n} names");
}

#[test]
fn every_look_alike_of_the_corpus_is_refused_with_its_error() {
    let corpus = include_str!("names/refused.txt");
    let mut n = 0;
    for line in lines(corpus) {
        let (name, expected) = line.split_once('\t').expect("name<TAB>error");
        let name = unescape(name);
        match check_name(&name) {
            Ok(()) => panic!("{name:?} accepted"),
            Err(e) => assert_eq!(variant(&e), expected, "{name:?}: {e}"),
        }
        n += 1;
    }
    assert!(n >= 20, "the refused corpus holds {n} names");
}

#[test]
fn a_glued_ideograph_is_reported_where_it_is() {
    assert_eq!(
        check_name("\u{5DE5}NG Bank"),
        Err(NameError::LatinWordMix {
            position: 0,
            ch: '\u{5DE5}'
        })
    );
    assert_eq!(
        check_name("Netflix Ne\u{30C8}flix"),
        Err(NameError::LatinWordMix {
            position: 10,
            ch: '\u{30C8}'
        })
    );
    // Whole words side by side, in either order, are genuine.
    assert_eq!(check_name("Bank \u{5DE5}\u{5546}"), Ok(()));
    assert_eq!(check_name("\u{5DE5}\u{5546} Bank"), Ok(()));
}
