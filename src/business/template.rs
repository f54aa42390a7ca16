//! Message templates: notifications under end-to-end encryption
//! (SPEC.md 13.17).
//!
//! A platform reviews what a business may send unprompted by approving
//! templates, but under end-to-end encryption no relay can read a
//! notification to check it. So the check moves to the customer's device:
//! the issuer that certified the business signs each approved template
//! (business, id, category, language, text with numbered placeholders); a
//! notification carries the signed template and only the parameters, and
//! the customer's client renders it and refuses anything that is not an
//! approved template of the business it came from, with parameters that
//! cannot smuggle layout or direction changes into the text.
//!
//! ```
//! use hotline::business::*;
//! let mut rng = rand::rng();
//! let always = Validity { not_before: 0, not_after: u64::MAX };
//! let root = RootAuthority::generate(1, always, &mut rng);
//! let (seed, key) = IssuerAuthority::generate_key(&mut rng);
//! let levels = LevelSet::new(&[VerificationLevel::Verified]).expect("one level");
//! let issuer = IssuerAuthority::new(&seed, root.certify_issuer(7, &key, levels, always)?)?;
//! let business = BusinessId([0x4b; 16]);
//!
//! let template = issuer.approve_template(
//!     business,
//!     1,
//!     TemplateCategory::Utility,
//!     "en",
//!     "Flight {{1}} now departs at {{2}}.",
//!     always,
//! )?;
//! let content = TemplatedNotification::new(&template, &["KL1234", "14:05"])?.to_bytes();
//!
//! // The customer's client, holding the business's verified chain:
//! let notification = TemplatedNotification::from_bytes(&content)?;
//! let rendered = notification.render_for(business, 7, &key, 1_800_000_000)?;
//! assert_eq!(rendered.text, "Flight KL1234 now departs at 14:05.");
//! assert_eq!(rendered.category, TemplateCategory::Utility);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use unicode_normalization::UnicodeNormalization;

use crate::business::certificate::Validity;
use crate::business::names::language_tag_ok;
use crate::business::{Badge, BusinessId, VerifiedBusiness};
use crate::constants::{
    CLOCK_SKEW_SECS, CONTENT_TEMPLATED, MAX_TEMPLATE_BODY_LEN, MAX_TEMPLATE_PARAM_LEN,
    MAX_TEMPLATE_PARAMS, OBJ_TYPE_TEMPLATE, PROTOCOL_VERSION, SIG_CTX_TEMPLATE,
};
use crate::primitives::ed25519::{Ed25519Public, Ed25519Secret};
use crate::primitives::kdf::sha256;
use crate::wire::{DecodeError, Reader};

/// What a template is for, after the categories business messaging
/// platforms bill and consent by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TemplateCategory {
    /// About a transaction the customer started: an order, a booking, a
    /// delivery, an account alert (`0x01`).
    Utility,
    /// One-time codes and login confirmations (`0x02`).
    Authentication,
    /// Offers and promotions (`0x03`).
    Marketing,
}

impl TemplateCategory {
    /// The category's byte (SPEC.md 13.17).
    pub fn to_byte(self) -> u8 {
        match self {
            Self::Utility => 0x01,
            Self::Authentication => 0x02,
            Self::Marketing => 0x03,
        }
    }

    /// The category of a byte, `None` for an unassigned one.
    pub fn from_byte(b: u8) -> Option<Self> {
        match b {
            0x01 => Some(Self::Utility),
            0x02 => Some(Self::Authentication),
            0x03 => Some(Self::Marketing),
            _ => None,
        }
    }
}

/// Why a template or a templated notification was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// The bytes are malformed.
    #[error("malformed template or notification: {0}")]
    Decode(#[from] DecodeError),
    /// The template text breaks a text rule: `forbidden_character` (a
    /// control, bidirectional or invisible formatting character), `not_nfc`,
    /// `malformed_placeholder` or `stray_closing_braces`.
    #[error("template text refused: {0}")]
    BadText(&'static str),
    /// A placeholder numbers are not exactly 1 to n.
    #[error("template placeholders are not numbered 1 to n")]
    Placeholders,
    /// The template's issuer signature failed strict verification.
    #[error("template signature is invalid")]
    BadSignature,
    /// The template was approved for another business or by another issuer.
    #[error("template was approved for another business or by another issuer")]
    WrongBusiness,
    /// The template is outside its validity window.
    #[error("template is not valid at {now}")]
    NotValid {
        /// The time of the check.
        now: u64,
    },
    /// The notification's parameter count differs from the template's.
    #[error("template takes {expected} parameters, notification gives {got}")]
    ParamCount {
        /// Placeholders in the template.
        expected: u8,
        /// Parameters in the notification.
        got: u8,
    },
    /// A parameter is too long or holds a character that could change the
    /// layout or direction of the text around it.
    #[error("parameter {index} refused")]
    BadParam {
        /// The parameter's number (1-based, as in its placeholder).
        index: u8,
    },
    /// The sender is not, at this moment, a verified business (its badge,
    /// SPEC.md 13.16, is anything but verified): no template of it can be
    /// trusted.
    #[error("the sender is not a verified business now")]
    NotVerified,
    /// The business's session records no issuer key (a session stored
    /// before issuer keys were kept): nothing can be checked.
    #[error("the business's issuer key is unknown")]
    IssuerUnknown,
}

/// A message template approved by the issuer that certified a business.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageTemplate {
    issuer_id: u32,
    business_id: BusinessId,
    template_id: u32,
    category: TemplateCategory,
    language: String,
    body: String,
    params: u8,
    validity: Validity,
    signature: [u8; 64],
}

impl MessageTemplate {
    // Every field of the template is an argument: a struct for them would
    // only be this list again.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn sign(
        secret: &Ed25519Secret,
        issuer_id: u32,
        business_id: BusinessId,
        template_id: u32,
        category: TemplateCategory,
        language: &str,
        body: &str,
        validity: Validity,
    ) -> Result<Self, TemplateError> {
        if !language_tag_ok(language.as_bytes()) {
            return Err(DecodeError::NotCanonical("template language").into());
        }
        let params = check_body(body)?;
        let mut t = Self {
            issuer_id,
            business_id,
            template_id,
            category,
            language: language.to_owned(),
            body: body.to_owned(),
            params,
            validity,
            signature: [0; 64],
        };
        t.signature = secret.sign(SIG_CTX_TEMPLATE, &t.signed_part());
        Ok(t)
    }

    fn signed_part(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(48 + self.language.len() + self.body.len());
        out.push(PROTOCOL_VERSION);
        out.push(OBJ_TYPE_TEMPLATE);
        out.extend_from_slice(&self.issuer_id.to_be_bytes());
        out.extend_from_slice(&self.business_id.0);
        out.extend_from_slice(&self.template_id.to_be_bytes());
        out.push(self.category.to_byte());
        // Both lengths were checked on construction or decoding.
        out.push(self.language.len() as u8);
        out.extend_from_slice(self.language.as_bytes());
        out.extend_from_slice(&(self.body.len() as u16).to_be_bytes());
        out.extend_from_slice(self.body.as_bytes());
        out.push(self.params);
        self.validity.encode_into(&mut out);
        out
    }

    /// The encoding (SPEC.md 13.17).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.signed_part();
        out.extend_from_slice(&self.signature);
        out
    }

    /// Decodes a template strictly (the signature is checked against an
    /// issuer key by [`MessageTemplate::verify`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TemplateError> {
        let mut r = Reader::new(bytes);
        let t = Self::read(&mut r)?;
        r.finish()?;
        Ok(t)
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, TemplateError> {
        r.version()?;
        r.object_type(OBJ_TYPE_TEMPLATE)?;
        let issuer_id = r.u32("template issuer id")?;
        let business_id = BusinessId(*r.array("template business id")?);
        let template_id = r.u32("template id")?;
        let category_byte = r.u8("template category")?;
        let category =
            TemplateCategory::from_byte(category_byte).ok_or(DecodeError::InvalidValue {
                field: "template category",
                value: category_byte,
            })?;
        let lang_len = usize::from(r.u8("template language length")?);
        let language = core::str::from_utf8(r.take(lang_len, "template language")?)
            .map_err(|_| DecodeError::InvalidUtf8("template language"))?;
        if !language_tag_ok(language.as_bytes()) {
            return Err(DecodeError::NotCanonical("template language").into());
        }
        let body_len = usize::from(r.u16("template body length")?);
        if body_len == 0 || body_len > MAX_TEMPLATE_BODY_LEN {
            return Err(DecodeError::InvalidLength {
                field: "template body",
                len: body_len,
            }
            .into());
        }
        let body = core::str::from_utf8(r.take(body_len, "template body")?)
            .map_err(|_| DecodeError::InvalidUtf8("template body"))?;
        let declared = r.u8("template parameter count")?;
        let params = check_body(body)?;
        if declared != params {
            return Err(TemplateError::Placeholders);
        }
        let validity = Validity::read(r)?;
        let signature = *r.array::<64>("template signature")?;
        Ok(Self {
            issuer_id,
            business_id,
            template_id,
            category,
            language: language.to_owned(),
            body: body.to_owned(),
            params,
            validity,
            signature,
        })
    }

    /// Checks the issuer's signature strictly with `issuer_key`.
    pub fn verify(&self, issuer_key: &Ed25519Public) -> Result<(), TemplateError> {
        issuer_key
            .verify(SIG_CTX_TEMPLATE, &self.signed_part(), &self.signature)
            .map_err(|_| TemplateError::BadSignature)
    }

    /// SHA-256 of the encoding: how a notification names its template.
    pub fn hash(&self) -> [u8; 32] {
        sha256(&self.to_bytes())
    }

    /// The issuer that approved it.
    pub fn issuer_id(&self) -> u32 {
        self.issuer_id
    }
    /// The business it was approved for.
    pub fn business_id(&self) -> BusinessId {
        self.business_id
    }
    /// The business's number for it.
    pub fn template_id(&self) -> u32 {
        self.template_id
    }
    /// Its category.
    pub fn category(&self) -> TemplateCategory {
        self.category
    }
    /// Its language tag.
    pub fn language(&self) -> &str {
        &self.language
    }
    /// Its text, placeholders `{{1}}` to `{{n}}` included.
    pub fn body(&self) -> &str {
        &self.body
    }
    /// The number of parameters it takes.
    pub fn params(&self) -> u8 {
        self.params
    }
    /// When it may be used.
    pub fn validity(&self) -> Validity {
        self.validity
    }
}

/// The characters a template text or a parameter may not hold: controls
/// (except a line feed in a template), bidirectional controls and
/// invisible format characters, which could reorder or hide the text around
/// them (the same families the name rules refuse, SPEC.md 13.8).
fn forbidden(c: char, newline_ok: bool) -> bool {
    if c == '\n' {
        return !newline_ok;
    }
    c.is_control()
        || matches!(c,
            '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// Checks a template text and returns its parameter count: NFC, no
/// forbidden character, every `{{` starts a placeholder `{{d}}` with `d` in
/// 1..=9, no stray `}}`, and the numbers used are exactly 1..=n.
fn check_body(body: &str) -> Result<u8, TemplateError> {
    if body.is_empty() || body.len() > MAX_TEMPLATE_BODY_LEN {
        return Err(DecodeError::InvalidLength {
            field: "template body",
            len: body.len(),
        }
        .into());
    }
    if body.chars().any(|c| forbidden(c, true)) {
        return Err(TemplateError::BadText("forbidden_character"));
    }
    if !unicode_normalization::is_nfc(body) {
        return Err(TemplateError::BadText("not_nfc"));
    }
    let mut used = 0u16;
    let mut rest = body;
    while let Some(i) = rest.find("{{") {
        if rest[..i].contains("}}") {
            return Err(TemplateError::BadText("stray_closing_braces"));
        }
        let p = rest.as_bytes().get(i + 2..).unwrap_or_default();
        match p {
            [d @ b'1'..=b'9', b'}', b'}', ..] => used |= 1 << (d - b'0'),
            _ => return Err(TemplateError::BadText("malformed_placeholder")),
        }
        rest = &rest[i + 5..];
    }
    if rest.contains("}}") {
        return Err(TemplateError::BadText("stray_closing_braces"));
    }
    // `used` has bits 1..=n set, and nothing else.
    let n = 16 - used.leading_zeros() as u8;
    let n = n.saturating_sub(1);
    if used != ((1u16 << (n + 1)) - 2) {
        return Err(TemplateError::Placeholders);
    }
    debug_assert!(usize::from(n) <= MAX_TEMPLATE_PARAMS);
    Ok(n)
}

fn check_param(index: u8, p: &str) -> Result<(), TemplateError> {
    if p.len() > MAX_TEMPLATE_PARAM_LEN
        || p.chars().any(|c| forbidden(c, false))
        || p.contains("{{")
        || p.contains("}}")
    {
        return Err(TemplateError::BadParam { index });
    }
    Ok(())
}

/// A notification's content: a signed template and its parameters, the
/// plaintext of a message of class notification (SPEC.md 13.17).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplatedNotification {
    template: MessageTemplate,
    params: Vec<String>,
}

/// A notification checked against its business and rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedNotification {
    /// The business's number for the template.
    pub template_id: u32,
    /// The template's category.
    pub category: TemplateCategory,
    /// The template's language.
    pub language: String,
    /// The text with its parameters in place.
    pub text: String,
}

impl TemplatedNotification {
    /// The content of a notification using `template` with `params`
    /// (checked: count, length, characters).
    pub fn new(template: &MessageTemplate, params: &[&str]) -> Result<Self, TemplateError> {
        let got = u8::try_from(params.len()).unwrap_or(u8::MAX);
        if got != template.params {
            return Err(TemplateError::ParamCount {
                expected: template.params,
                got,
            });
        }
        for (i, p) in params.iter().enumerate() {
            check_param(i as u8 + 1, p)?;
        }
        Ok(Self {
            template: template.clone(),
            params: params.iter().map(|p| (*p).to_owned()).collect(),
        })
    }

    /// The plaintext to encrypt.
    pub fn to_bytes(&self) -> Vec<u8> {
        let template = self.template.to_bytes();
        let mut out = Vec::with_capacity(4 + template.len() + 300 * self.params.len());
        out.push(CONTENT_TEMPLATED);
        // A template is at most 2 + ... + MAX_TEMPLATE_BODY_LEN + 100 bytes.
        out.extend_from_slice(&(template.len() as u16).to_be_bytes());
        out.extend_from_slice(&template);
        out.push(self.params.len() as u8);
        for p in &self.params {
            out.extend_from_slice(&(p.len() as u16).to_be_bytes());
            out.extend_from_slice(p.as_bytes());
        }
        out
    }

    /// Decodes a notification's plaintext strictly. Its template is not yet
    /// checked against any business: see
    /// [`TemplatedNotification::render`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TemplateError> {
        let mut r = Reader::new(bytes);
        let kind = r.u8("content type")?;
        if kind != CONTENT_TEMPLATED {
            return Err(DecodeError::InvalidValue {
                field: "content type",
                value: kind,
            }
            .into());
        }
        let len = usize::from(r.u16("template length")?);
        let template = MessageTemplate::from_bytes(r.take(len, "template")?)?;
        let got = r.u8("parameter count")?;
        if got != template.params {
            return Err(TemplateError::ParamCount {
                expected: template.params,
                got,
            });
        }
        let mut params = Vec::with_capacity(usize::from(got));
        for index in 1..=got {
            let len = usize::from(r.u16("parameter length")?);
            if len > MAX_TEMPLATE_PARAM_LEN {
                return Err(TemplateError::BadParam { index });
            }
            let p = core::str::from_utf8(r.take(len, "parameter")?)
                .map_err(|_| TemplateError::BadParam { index })?;
            check_param(index, p)?;
            params.push(p.to_owned());
        }
        r.finish()?;
        Ok(Self { template, params })
    }

    /// The template it uses.
    pub fn template(&self) -> &MessageTemplate {
        &self.template
    }

    /// Its parameters, in placeholder order.
    pub fn params(&self) -> &[String] {
        &self.params
    }

    /// Checks the notification against the verified business it came from
    /// (the sender of the session it arrived in) and renders it: the
    /// template must be signed by the issuer that certified that business,
    /// for that business, and valid now (within the clock skew).
    pub fn render(
        &self,
        business: &VerifiedBusiness,
        now: u64,
    ) -> Result<RenderedNotification, TemplateError> {
        let key = business.issuer_key().ok_or(TemplateError::IssuerUnknown)?;
        let key = Ed25519Public::from_bytes(&key).map_err(|_| TemplateError::BadSignature)?;
        self.render_for(business.business_id(), business.issuer_id(), &key, now)
    }

    /// [`TemplatedNotification::render`] for the business of `badge`, the
    /// sending session's badge at `now` (SPEC.md 13.16): anything but a
    /// verified badge is [`TemplateError::NotVerified`].
    pub fn render_with_badge(
        &self,
        badge: &Badge,
        now: u64,
    ) -> Result<RenderedNotification, TemplateError> {
        match badge {
            Badge::Verified { business, .. } => self.render(business, now),
            _ => Err(TemplateError::NotVerified),
        }
    }

    /// [`TemplatedNotification::render`] with the business id, issuer id
    /// and issuer key given directly.
    pub fn render_for(
        &self,
        business_id: BusinessId,
        issuer_id: u32,
        issuer_key: &Ed25519Public,
        now: u64,
    ) -> Result<RenderedNotification, TemplateError> {
        let t = &self.template;
        if t.business_id != business_id || t.issuer_id != issuer_id {
            return Err(TemplateError::WrongBusiness);
        }
        t.verify(issuer_key)?;
        if now.saturating_add(CLOCK_SKEW_SECS) < t.validity.not_before
            || now.saturating_sub(CLOCK_SKEW_SECS) > t.validity.not_after
        {
            return Err(TemplateError::NotValid { now });
        }
        let mut text = String::with_capacity(t.body.len() + 64 * self.params.len());
        let mut rest = t.body.as_str();
        while let Some(i) = rest.find("{{") {
            text.push_str(&rest[..i]);
            // Checked on decoding: `{{d}}` with a digit d in 1..=params.
            let param = rest
                .as_bytes()
                .get(i + 2)
                .and_then(|d| d.checked_sub(b'1'))
                .and_then(|d| self.params.get(usize::from(d)))
                .ok_or(TemplateError::Placeholders)?;
            text.push_str(param);
            rest = rest.get(i + 5..).ok_or(TemplateError::Placeholders)?;
        }
        text.push_str(rest);
        Ok(RenderedNotification {
            template_id: t.template_id,
            category: t.category,
            language: t.language.clone(),
            text: text.nfc().collect(),
        })
    }
}
