//! `hotline-issuer`: the platform operator's tool for business certificates.
//!
//! Creates trust roots and issuers, issues business certificates after
//! checking the name, revokes, and inspects or verifies any certificate,
//! chain, bundle or revocation list with an explanation in words. Run
//! `hotline-issuer help` for the commands.
//!
//! Exit status: 0 on success (or a valid verdict), 1 when something was
//! refused (an invalid certificate, a name that breaks the rules), 2 for bad
//! usage or unreadable input. Bad input never panics.

#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;

use hotline::business::{
    BusinessCertificate, BusinessCertificateRequest, BusinessId, CertificateChain, ChainLink,
    IssuerAuthority, IssuerCertificate, LevelSet, NameError, RevocationList, RevocationScope,
    RootAuthority, TrustRoot, TrustStore, ValidationError, Validity, VerificationLevel, check_name,
    normalize_name,
};
use hotline::constants::{
    OBJ_TYPE_BUNDLE, OBJ_TYPE_BUSINESS_CERT, OBJ_TYPE_CERT_CHAIN, OBJ_TYPE_ISSUER_CERT,
    OBJ_TYPE_REVOCATION_LIST, OBJ_TYPE_TRUST_ROOT,
};
use hotline::types::Ed25519Public;
use hotline::{IdentityKey, IdentityKeyPair, PreKeyBundle, PreKeyStore};
use zeroize::Zeroizing;

const USAGE: &str = "\
hotline-issuer: business certificates for Hotline

USAGE: hotline-issuer <command> [--option value ...]

Platform operator:
  create-root    --id N --secret-out FILE --root-out FILE
                 [--not-before T] [--not-after T]
  create-issuer  --root-secret FILE --root FILE --id N --levels verified[,official]
                 --secret-out FILE --cert-out FILE [--not-before T] [--not-after T]
  issue          --issuer-secret FILE --issuer-cert FILE --serial N
                 --business-id HEX32 --identity FILE --name NAME
                 [--localized LANG=NAME ...] [--level verified|official]
                 [--not-before T] [--not-after T] --cert-out FILE [--chain-out FILE]
  revoke         --issuer-secret FILE --issuer-cert FILE --sequence N
                 [--serial N ...] [--issued-at T] --out FILE
  revoke-issuer  --root-secret FILE --root FILE --sequence N
                 [--issuer N ...] [--issued-at T] --out FILE

Anyone:
  check-name     NAME                      apply the name rules to NAME
  inspect        FILE                      decode any Hotline object and show it
  verify         FILE --root FILE [--root FILE ...] [--revocations FILE ...]
                 [--issuer-cert FILE] [--now T]
                 validate a chain, bundle or business certificate and explain

Testing helpers (a business's own keys normally never leave its servers):
  new-business   --secret-out FILE --identity-out FILE
  bundle         --business-secret FILE [--chain FILE] --out FILE

Times T are Unix seconds (default: now; validity defaults to one year).
Secret files hold hex seeds; they are created new (never overwritten) and,
on Unix, readable by the owner only.

Exit status: 0 ok or valid, 1 refused or invalid, 2 bad usage or input.
";

/// How a command failed.
enum Failure {
    /// Bad usage or unreadable input: exit 2.
    Usage(String),
    /// A refusal with an explanation: exit 1.
    Refused(String),
}

type Outcome = Result<(), Failure>;

fn usage<T>(msg: impl Into<String>) -> Result<T, Failure> {
    Err(Failure::Usage(msg.into()))
}

/// `--flag value` pairs (repeatable) and positional arguments.
struct Args {
    options: BTreeMap<String, Vec<String>>,
    positional: Vec<String>,
}

impl Args {
    fn parse(raw: &[String]) -> Result<Self, Failure> {
        let mut options: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut positional = Vec::new();
        let mut it = raw.iter();
        while let Some(a) = it.next() {
            if let Some(flag) = a.strip_prefix("--") {
                let Some(value) = it.next() else {
                    return usage(format!("option --{flag} needs a value"));
                };
                options
                    .entry(flag.to_owned())
                    .or_default()
                    .push(value.clone());
            } else {
                positional.push(a.clone());
            }
        }
        Ok(Self {
            options,
            positional,
        })
    }

    fn known(&self, allowed: &[&str]) -> Outcome {
        for k in self.options.keys() {
            if !allowed.contains(&k.as_str()) {
                return usage(format!("unknown option --{k} for this command"));
            }
        }
        Ok(())
    }

    fn opt(&self, flag: &str) -> Result<Option<&str>, Failure> {
        match self.options.get(flag).map(Vec::as_slice) {
            None | Some([]) => Ok(None),
            Some([v]) => Ok(Some(v)),
            Some(_) => usage(format!("option --{flag} given more than once")),
        }
    }

    fn req(&self, flag: &str) -> Result<&str, Failure> {
        self.opt(flag)?
            .ok_or_else(|| Failure::Usage(format!("missing option --{flag}")))
    }

    fn all(&self, flag: &str) -> &[String] {
        self.options.get(flag).map_or(&[], Vec::as_slice)
    }
}

fn parse_u64(flag: &str, v: &str) -> Result<u64, Failure> {
    v.parse::<u64>()
        .map_err(|_| Failure::Usage(format!("--{flag}: {v:?} is not a non-negative integer")))
}

fn parse_u32(flag: &str, v: &str) -> Result<u32, Failure> {
    v.parse::<u32>().map_err(|_| {
        Failure::Usage(format!(
            "--{flag}: {v:?} is not an integer from 0 to 4294967295"
        ))
    })
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

const YEAR: u64 = 365 * 24 * 3600;

fn validity(args: &Args, default_len: u64) -> Result<Validity, Failure> {
    let not_before = match args.opt("not-before")? {
        Some(v) => parse_u64("not-before", v)?,
        None => now_secs(),
    };
    let not_after = match args.opt("not-after")? {
        Some(v) => parse_u64("not-after", v)?,
        None => not_before.saturating_add(default_len),
    };
    if not_before > not_after {
        return usage("--not-before is after --not-after");
    }
    Ok(Validity {
        not_before,
        not_after,
    })
}

// ---- Files.

fn read_file(path: &str) -> Result<Vec<u8>, Failure> {
    let meta = std::fs::metadata(path).map_err(|e| Failure::Usage(format!("{path}: {e}")))?;
    // Every Hotline object is small; refuse to read anything huge.
    if meta.len() > 4 << 20 {
        return usage(format!("{path}: {} bytes is too large", meta.len()));
    }
    std::fs::read(path).map_err(|e| Failure::Usage(format!("{path}: {e}")))
}

fn write_new(path: &str, bytes: &[u8], secret: bool) -> Outcome {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut f = opts.open(path).map_err(|e| {
        Failure::Usage(if e.kind() == std::io::ErrorKind::AlreadyExists {
            format!("{path} already exists; refusing to overwrite it")
        } else {
            format!("{path}: {e}")
        })
    })?;
    f.write_all(bytes)
        .map_err(|e| Failure::Usage(format!("{path}: {e}")))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Secret files: `hotline <kind> secret v1` then the seed(s) in hex.
fn write_secret(path: &str, kind: &str, seed: &[u8]) -> Outcome {
    // Built in place so no unzeroized copy of the hex seed is left behind.
    let mut text = Zeroizing::new(String::with_capacity(32 + 2 * seed.len()));
    let _ = writeln!(text, "hotline {kind} secret v1");
    for b in seed {
        let _ = write!(text, "{b:02x}");
    }
    text.push('\n');
    write_new(path, text.as_bytes(), true)
}

fn read_secret<const N: usize>(path: &str, kind: &str) -> Result<Zeroizing<[u8; N]>, Failure> {
    let raw = Zeroizing::new(read_file(path)?);
    let bad = || Failure::Usage(format!("{path}: not a {kind} secret file"));
    let text = std::str::from_utf8(&raw).map_err(|_| bad())?;
    let mut lines = text.lines();
    if lines.next() != Some(&format!("hotline {kind} secret v1")) {
        return Err(bad());
    }
    let bytes = Zeroizing::new(lines.next().and_then(unhex).ok_or_else(bad)?);
    let mut out = Zeroizing::new([0u8; N]);
    if bytes.len() != N {
        return Err(bad());
    }
    out.copy_from_slice(&bytes);
    Ok(out)
}

fn load_root(path: &str) -> Result<TrustRoot, Failure> {
    TrustRoot::from_bytes(&read_file(path)?)
        .map_err(|e| Failure::Usage(format!("{path}: not a valid trust root: {e}")))
}

fn load_issuer_cert(path: &str) -> Result<IssuerCertificate, Failure> {
    IssuerCertificate::from_bytes(&read_file(path)?)
        .map_err(|e| Failure::Usage(format!("{path}: not an issuer certificate: {e}")))
}

fn load_root_authority(args: &Args) -> Result<RootAuthority, Failure> {
    let root = load_root(args.req("root")?)?;
    let seed = read_secret::<32>(args.req("root-secret")?, "root")?;
    let authority = RootAuthority::from_seed(&seed, root.root_id(), root.validity());
    if authority.trust_root() != root {
        return usage("the root secret does not belong to this root");
    }
    Ok(authority)
}

fn load_issuer_authority(args: &Args) -> Result<IssuerAuthority, Failure> {
    let cert = load_issuer_cert(args.req("issuer-cert")?)?;
    let seed = read_secret::<32>(args.req("issuer-secret")?, "issuer")?;
    IssuerAuthority::new(&seed, cert)
        .map_err(|_| Failure::Usage("the issuer secret does not belong to this certificate".into()))
}

// ---- Display.

/// A Unix time as `YYYY-MM-DD hh:mm:ss UTC` (proleptic Gregorian calendar).
fn utc(t: u64) -> String {
    let days = (t / 86_400) as i64;
    let secs = t % 86_400;
    // Days to civil date, after H. Hinnant's algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn window(v: Validity) -> String {
    format!(
        "{} .. {} ({} .. {})",
        utc(v.not_before),
        utc(v.not_after),
        v.not_before,
        v.not_after
    )
}

fn key_hex(k: &Ed25519Public) -> String {
    hex(&k.to_bytes())
}

fn levels(set: LevelSet) -> String {
    set.levels()
        .iter()
        .map(|l| l.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe_issuer(c: &IssuerCertificate, out: &mut String) {
    let _ = writeln!(out, "issuer certificate");
    let _ = writeln!(out, "  issuer id:      {}", c.issuer_id());
    let _ = writeln!(out, "  signed by root: {}", c.root_id());
    let _ = writeln!(out, "  issuer key:     {}", key_hex(c.key()));
    let _ = writeln!(out, "  may certify:    {}", levels(c.allowed_levels()));
    let _ = writeln!(out, "  valid:          {}", window(c.validity()));
}

fn describe_business(c: &BusinessCertificate, out: &mut String) {
    let _ = writeln!(out, "business certificate");
    let _ = writeln!(out, "  name:           {}", c.name());
    for l in c.localized_names() {
        let label = format!("name [{}]:", l.language);
        let _ = writeln!(out, "  {label:<16}{}", l.name);
    }
    let _ = writeln!(out, "  business id:    {}", c.business_id());
    let _ = writeln!(out, "  level:          {}", c.level());
    let _ = writeln!(out, "  serial:         {}", c.serial());
    let _ = writeln!(out, "  issuer id:      {}", c.issuer_id());
    let _ = writeln!(out, "  identity key:   {}", key_hex(c.identity_key()));
    let _ = writeln!(out, "  valid:          {}", window(c.validity()));
}

fn describe_root(r: &TrustRoot, out: &mut String) {
    let _ = writeln!(out, "trust root (self-signature valid)");
    let _ = writeln!(out, "  root id:        {}", r.root_id());
    let _ = writeln!(out, "  root key:       {}", key_hex(r.key()));
    let _ = writeln!(out, "  valid:          {}", window(r.validity()));
}

fn describe_list(l: &RevocationList, out: &mut String) {
    let (what, signer) = match l.scope() {
        RevocationScope::BusinessCertificates => ("revoked serials:", "issuer"),
        RevocationScope::Issuers => ("revoked issuers:", "root"),
    };
    let _ = writeln!(out, "revocation list (signature not checked by inspect)");
    let _ = writeln!(out, "  signed by:      {signer} {}", l.signer_id());
    let _ = writeln!(out, "  sequence:       {}", l.sequence());
    let _ = writeln!(
        out,
        "  issued at:      {} ({})",
        utc(l.issued_at()),
        l.issued_at()
    );
    let entries: Vec<String> = l.entries().iter().map(u64::to_string).collect();
    let entries = if entries.is_empty() {
        "none".to_owned()
    } else {
        entries.join(", ")
    };
    let _ = writeln!(out, "  {what:<16}{entries}");
}

fn link_name(l: ChainLink) -> &'static str {
    match l {
        ChainLink::Root => "the trust root",
        ChainLink::Issuer => "the issuer certificate",
        ChainLink::Business => "the business certificate",
    }
}

/// Why a chain is not valid, in words.
fn explain(e: &ValidationError) -> String {
    match e {
        ValidationError::Malformed(d) => format!("the bytes are not a well-formed certificate chain ({d})"),
        ValidationError::NoCertificate => "the bundle carries no certificate: its owner is not a verified business".into(),
        ValidationError::UnknownRoot(id) => format!("the issuer was certified by root {id}, which is not among the trusted roots"),
        ValidationError::RootRetired(id) => format!("root {id} has been rotated out and is no longer trusted"),
        ValidationError::NotYetValid { link, not_before, now } => format!(
            "{} is not valid before {} (now is {}, clock skew allowance included)",
            link_name(*link), utc(*not_before), utc(*now)
        ),
        ValidationError::Expired { link, not_after, now } => format!(
            "{} expired at {} (now is {}, clock skew allowance included)",
            link_name(*link), utc(*not_after), utc(*now)
        ),
        ValidationError::BadSignature(ChainLink::Issuer) => "the root's signature on the issuer certificate is invalid (forged or altered)".into(),
        ValidationError::BadSignature(link) => format!("the signature on {} is invalid: it was not signed by the issuer, or was altered", link_name(*link)),
        ValidationError::IssuerRevoked(id) => format!("issuer {id} has been revoked by its root"),
        ValidationError::IssuerMismatch { named, present } => format!("the business certificate was issued by issuer {named}, but the chain carries the certificate of issuer {present}"),
        ValidationError::CertificateRevoked { issuer_id, serial } => format!("certificate {serial} has been revoked by issuer {issuer_id}"),
        ValidationError::LevelNotAllowed { issuer_id, level } => format!("issuer {issuer_id} is not allowed to certify the level \"{level}\""),
        ValidationError::InvalidName(n) => format!("the name breaks the name rules: {}", n),
        ValidationError::InvalidLocalizedName { language, error } => format!("the {language} name breaks the name rules: {}", error),
        ValidationError::KeyMismatch => "the certificate names another identity key than the bundle's: someone else's keys carry this certificate".into(),
        other => format!("{other}"),
    }
}

// ---- Commands.

fn cmd_create_root(args: &Args) -> Outcome {
    args.known(&["id", "secret-out", "root-out", "not-before", "not-after"])?;
    let id = parse_u32("id", args.req("id")?)?;
    let (secret_out, root_out) = (args.req("secret-out")?, args.req("root-out")?);
    let v = validity(args, 10 * YEAR)?;
    let root = RootAuthority::generate(id, v, &mut rand::rng());
    write_secret(secret_out, "root", &*root.seed())?;
    write_new(root_out, &root.trust_root().to_bytes(), false)?;
    let mut out = String::new();
    describe_root(&root.trust_root(), &mut out);
    print!("{out}");
    println!("wrote {secret_out} (keep offline) and {root_out} (ship with clients)");
    Ok(())
}

fn parse_levels(v: &str) -> Result<LevelSet, Failure> {
    let mut ls = Vec::new();
    for part in v.split(',') {
        ls.push(parse_level(part.trim())?);
    }
    LevelSet::new(&ls).ok_or_else(|| Failure::Usage("--levels is empty".into()))
}

fn parse_level(v: &str) -> Result<VerificationLevel, Failure> {
    match v {
        "verified" => Ok(VerificationLevel::Verified),
        "official" => Ok(VerificationLevel::Official),
        other => usage(format!(
            "unknown level {other:?} (use verified or official)"
        )),
    }
}

fn cmd_create_issuer(args: &Args) -> Outcome {
    args.known(&[
        "root-secret",
        "root",
        "id",
        "levels",
        "secret-out",
        "cert-out",
        "not-before",
        "not-after",
    ])?;
    let root = load_root_authority(args)?;
    let id = parse_u32("id", args.req("id")?)?;
    let allowed = parse_levels(args.req("levels")?)?;
    let (secret_out, cert_out) = (args.req("secret-out")?, args.req("cert-out")?);
    let v = validity(args, 3 * YEAR)?;
    let (seed, key) = IssuerAuthority::generate_key(&mut rand::rng());
    let cert = root
        .certify_issuer(id, &key, allowed, v)
        .map_err(|e| Failure::Refused(format!("refused: {e}")))?;
    write_secret(secret_out, "issuer", &*seed)?;
    write_new(cert_out, &cert.to_bytes(), false)?;
    let mut out = String::new();
    describe_issuer(&cert, &mut out);
    print!("{out}");
    println!("wrote {secret_out} and {cert_out}");
    Ok(())
}

/// An identity from a file: an encoded identity key (130 bytes) or a bundle.
fn load_identity(path: &str) -> Result<IdentityKey, Failure> {
    let bytes = read_file(path)?;
    if bytes.get(1) == Some(&OBJ_TYPE_BUNDLE) && bytes.len() > 130 {
        return PreKeyBundle::from_bytes(&bytes)
            .map(|b| *b.identity())
            .map_err(|e| Failure::Usage(format!("{path}: not a valid bundle: {e}")));
    }
    IdentityKey::from_bytes(&bytes)
        .map_err(|e| Failure::Usage(format!("{path}: not an identity key or bundle: {e}")))
}

fn cmd_issue(args: &Args) -> Outcome {
    args.known(&[
        "issuer-secret",
        "issuer-cert",
        "serial",
        "business-id",
        "identity",
        "name",
        "localized",
        "level",
        "not-before",
        "not-after",
        "cert-out",
        "chain-out",
    ])?;
    let issuer = load_issuer_authority(args)?;
    let serial = parse_u64("serial", args.req("serial")?)?;
    let id_text = args.req("business-id")?;
    let business_id = BusinessId::from_hex(id_text).ok_or_else(|| {
        Failure::Usage(format!("--business-id: {id_text:?} is not 32 hex digits"))
    })?;
    let identity = load_identity(args.req("identity")?)?;
    let mut localized = Vec::new();
    for l in args.all("localized") {
        let Some((lang, name)) = l.split_once('=') else {
            return usage(format!("--localized: {l:?} is not LANG=NAME"));
        };
        localized.push((lang.to_owned(), name.to_owned()));
    }
    let level = match args.opt("level")? {
        Some(l) => parse_level(l)?,
        None => VerificationLevel::Verified,
    };
    let own = issuer.certificate().validity();
    let v = match (args.opt("not-before")?, args.opt("not-after")?) {
        (None, None) => {
            let nb = now_secs().max(own.not_before);
            Validity {
                not_before: nb,
                not_after: nb.saturating_add(YEAR).min(own.not_after),
            }
        }
        _ => validity(args, YEAR)?,
    };
    let cert_out = args.req("cert-out")?;
    let chain_out = args.opt("chain-out")?;
    let request = BusinessCertificateRequest {
        serial,
        business_id,
        identity_key: *identity.signing_key(),
        name: args.req("name")?.to_owned(),
        localized,
        level,
        validity: v,
    };
    let cert = issuer
        .issue(&request)
        .map_err(|e| Failure::Refused(format!("refused to issue: {e}")))?;
    write_new(cert_out, &cert.to_bytes(), false)?;
    if let Some(path) = chain_out {
        let chain = CertificateChain::new(issuer.certificate().clone(), cert.clone());
        write_new(path, &chain.to_bytes(), false)?;
    }
    let mut out = String::new();
    describe_business(&cert, &mut out);
    print!("{out}");
    println!(
        "wrote {cert_out}{}",
        chain_out.map(|c| format!(" and {c}")).unwrap_or_default()
    );
    Ok(())
}

fn issued_at(args: &Args) -> Result<u64, Failure> {
    match args.opt("issued-at")? {
        Some(v) => parse_u64("issued-at", v),
        None => Ok(now_secs()),
    }
}

fn cmd_revoke(args: &Args) -> Outcome {
    args.known(&[
        "issuer-secret",
        "issuer-cert",
        "sequence",
        "serial",
        "issued-at",
        "out",
    ])?;
    let issuer = load_issuer_authority(args)?;
    let sequence = parse_u64("sequence", args.req("sequence")?)?;
    let serials = args
        .all("serial")
        .iter()
        .map(|s| parse_u64("serial", s))
        .collect::<Result<Vec<_>, _>>()?;
    let out_path = args.req("out")?;
    write_list(
        out_path,
        issuer.revoke(sequence, issued_at(args)?, &serials),
    )
}

fn cmd_revoke_issuer(args: &Args) -> Outcome {
    args.known(&[
        "root-secret",
        "root",
        "sequence",
        "issuer",
        "issued-at",
        "out",
    ])?;
    let root = load_root_authority(args)?;
    let sequence = parse_u64("sequence", args.req("sequence")?)?;
    let ids = args
        .all("issuer")
        .iter()
        .map(|s| parse_u32("issuer", s))
        .collect::<Result<Vec<_>, _>>()?;
    let out_path = args.req("out")?;
    write_list(
        out_path,
        root.revoke_issuers(sequence, issued_at(args)?, &ids),
    )
}

/// Writes a freshly signed revocation list to `out_path` (never over an
/// existing file) and describes it, or reports why it was refused.
fn write_list(out_path: &str, list: Result<RevocationList, impl std::fmt::Display>) -> Outcome {
    let list = list.map_err(|e| Failure::Refused(format!("refused: {e}")))?;
    write_new(out_path, &list.to_bytes(), false)?;
    let mut out = String::new();
    describe_list(&list, &mut out);
    print!("{out}");
    println!("wrote {out_path}");
    Ok(())
}

fn cmd_check_name(args: &Args) -> Outcome {
    args.known(&[])?;
    let [name] = args.positional.as_slice() else {
        return usage("check-name takes exactly one NAME");
    };
    match normalize_name(name) {
        Ok(n) if n == *name => {
            println!("ok: {name:?} is acceptable as a verified name");
            Ok(())
        }
        Ok(n) => {
            println!("ok after normalization: {name:?} will be issued as {n:?} (NFC)");
            Ok(())
        }
        Err(e) => Err(Failure::Refused(format!(
            "refused: {name:?}: {e}{}",
            // Also show the client's view if the input was not NFC.
            match check_name(name) {
                Err(NameError::NotNormalized) => " (and the input is not in NFC)",
                _ => "",
            }
        ))),
    }
}

/// Decodes any Hotline object and describes it.
fn describe_file(bytes: &[u8], out: &mut String) -> Result<(), String> {
    // An identity key starts with its Ed25519 key tag, every other object
    // with the version byte: check it first, since its second byte is key
    // material and may look like any object type.
    if bytes.len() == 130 && bytes[0] == hotline::constants::KEY_TYPE_ED25519 {
        let id = IdentityKey::from_bytes(bytes).map_err(|e| e.to_string())?;
        let _ = writeln!(out, "identity key (signature valid)");
        let _ = writeln!(out, "  Ed25519 key:    {}", key_hex(id.signing_key()));
        return Ok(());
    }
    match bytes.get(1).copied() {
        Some(OBJ_TYPE_TRUST_ROOT) => describe_root(
            &TrustRoot::from_bytes(bytes).map_err(|e| e.to_string())?,
            out,
        ),
        Some(OBJ_TYPE_ISSUER_CERT) => describe_issuer(
            &IssuerCertificate::from_bytes(bytes).map_err(|e| e.to_string())?,
            out,
        ),
        Some(OBJ_TYPE_BUSINESS_CERT) => describe_business(
            &BusinessCertificate::from_bytes(bytes).map_err(|e| e.to_string())?,
            out,
        ),
        Some(OBJ_TYPE_CERT_CHAIN) => {
            let c = CertificateChain::from_bytes(bytes).map_err(|e| e.to_string())?;
            let _ = writeln!(out, "certificate chain (hash {})", hex(&c.hash()));
            describe_issuer(c.issuer(), out);
            describe_business(c.business(), out);
        }
        Some(OBJ_TYPE_REVOCATION_LIST) => describe_list(
            &RevocationList::from_bytes(bytes).map_err(|e| e.to_string())?,
            out,
        ),
        Some(OBJ_TYPE_BUNDLE) => {
            let b = PreKeyBundle::from_bytes(bytes).map_err(|e| e.to_string())?;
            let _ = writeln!(out, "prekey bundle (all prekey signatures valid)");
            let _ = writeln!(
                out,
                "  identity key:   {}",
                key_hex(b.identity().signing_key())
            );
            let _ = writeln!(
                out,
                "  one-time prekey: {}",
                if b.one_time_prekey().is_some() {
                    "yes"
                } else {
                    "no"
                }
            );
            match b.certificate_chain() {
                None => {
                    let _ = writeln!(out, "  certificate:    none");
                }
                Some(c) => {
                    let _ = writeln!(out, "  certificate chain (hash {}):", hex(&c.hash()));
                    describe_issuer(c.issuer(), out);
                    describe_business(c.business(), out);
                }
            }
        }
        _ if bytes.len() == 130 => {
            let id = IdentityKey::from_bytes(bytes).map_err(|e| e.to_string())?;
            let _ = writeln!(out, "identity key (signature valid)");
            let _ = writeln!(out, "  Ed25519 key:    {}", key_hex(id.signing_key()));
        }
        Some(t) => return Err(format!("unknown object type {t:#04x}")),
        None => return Err("file too short to be a Hotline object".into()),
    }
    Ok(())
}

fn cmd_inspect(args: &Args) -> Outcome {
    args.known(&[])?;
    let [path] = args.positional.as_slice() else {
        return usage("inspect takes exactly one FILE");
    };
    let bytes = read_file(path)?;
    let mut out = String::new();
    describe_file(&bytes, &mut out)
        .map_err(|e| Failure::Refused(format!("{path}: malformed: {e}")))?;
    print!("{out}");
    Ok(())
}

fn cmd_verify(args: &Args) -> Outcome {
    args.known(&["root", "revocations", "issuer-cert", "now"])?;
    let [path] = args.positional.as_slice() else {
        return usage("verify takes exactly one FILE (a chain, bundle or business certificate)");
    };
    let now = match args.opt("now")? {
        Some(v) => parse_u64("now", v)?,
        None => now_secs(),
    };
    let mut trust = TrustStore::new();
    if args.all("root").is_empty() {
        return usage("verify needs at least one --root FILE to trust");
    }
    for r in args.all("root") {
        trust
            .add_root(load_root(r)?)
            .map_err(|e| Failure::Usage(format!("{r}: {e}")))?;
    }
    let bytes = read_file(path)?;
    let mut out = String::new();
    let _ = describe_file(&bytes, &mut out);
    print!("{out}");

    // What to validate: a chain, the chain in a bundle, or a business
    // certificate with --issuer-cert.
    let extra_issuer = args.opt("issuer-cert")?.map(load_issuer_cert).transpose()?;
    let (chain, bundle) = match bytes.get(1).copied() {
        Some(OBJ_TYPE_BUNDLE) => match PreKeyBundle::from_bytes(&bytes) {
            Ok(b) => (b.certificate_chain().cloned(), Some(b)),
            Err(e) => {
                return Err(Failure::Refused(format!(
                    "verdict: INVALID: the bundle is malformed or badly signed ({e})"
                )));
            }
        },
        Some(OBJ_TYPE_BUSINESS_CERT) => {
            let cert = BusinessCertificate::from_bytes(&bytes).map_err(|e| {
                Failure::Refused(format!(
                    "verdict: INVALID: {}",
                    explain(&ValidationError::Malformed(e))
                ))
            })?;
            let Some(issuer) = extra_issuer.clone() else {
                return usage("a business certificate alone needs --issuer-cert FILE to verify");
            };
            (Some(CertificateChain::new(issuer, cert)), None)
        }
        Some(OBJ_TYPE_CERT_CHAIN) => match CertificateChain::from_bytes(&bytes) {
            Ok(c) => (Some(c), None),
            Err(e) => {
                return Err(Failure::Refused(format!(
                    "verdict: INVALID: {}",
                    explain(&ValidationError::Malformed(e))
                )));
            }
        },
        _ => {
            return usage(format!(
                "{path}: verify takes a chain, a bundle or a business certificate"
            ));
        }
    };
    for list_path in args.all("revocations") {
        let list = RevocationList::from_bytes(&read_file(list_path)?)
            .map_err(|e| Failure::Usage(format!("{list_path}: not a revocation list: {e}")))?;
        let issuer = extra_issuer
            .as_ref()
            .or(chain.as_ref().map(CertificateChain::issuer));
        match trust.apply_revocation_list(&list, issuer, now) {
            Ok(u) => println!(
                "applied {list_path}: sequence {}, {} revoked",
                u.sequence, u.revoked
            ),
            Err(e) => println!("ignored {list_path}: {e}"),
        }
    }
    let result = match (&bundle, &chain) {
        (Some(b), _) => trust.verify_bundle(b, now),
        (None, Some(c)) => trust.validate_chain(c, now),
        (None, None) => Err(ValidationError::NoCertificate),
    };
    match result {
        Ok(v) => {
            println!(
                "verdict: VALID: verified business \"{}\" (business id {}, level {}), certified by issuer {} under root {}, at {}",
                v.name(),
                v.business_id(),
                v.level(),
                v.issuer_id(),
                v.root_id(),
                utc(now)
            );
            Ok(())
        }
        Err(e) => Err(Failure::Refused(format!(
            "verdict: INVALID: {}",
            explain(&e)
        ))),
    }
}

fn cmd_new_business(args: &Args) -> Outcome {
    args.known(&["secret-out", "identity-out"])?;
    let (secret_out, identity_out) = (args.req("secret-out")?, args.req("identity-out")?);
    let mut rng = rand::rng();
    let mut seeds = Zeroizing::new([0u8; 64]);
    rand::Rng::fill_bytes(&mut rng, &mut seeds[..]);
    let (ed, x) = seeds.split_at(32);
    let (ed, x): (&[u8; 32], &[u8; 32]) = match (ed.try_into(), x.try_into()) {
        (Ok(a), Ok(b)) => (a, b),
        _ => return usage("internal: seed split"),
    };
    let identity = IdentityKeyPair::from_secret_bytes(ed, x);
    write_secret(secret_out, "business", &*seeds)?;
    write_new(identity_out, &identity.public().to_bytes(), false)?;
    println!(
        "identity key:   {}",
        key_hex(identity.public().signing_key())
    );
    println!("wrote {secret_out} and {identity_out}");
    Ok(())
}

fn cmd_bundle(args: &Args) -> Outcome {
    args.known(&["business-secret", "chain", "out"])?;
    let seeds = read_secret::<64>(args.req("business-secret")?, "business")?;
    let mut ed = Zeroizing::new([0u8; 32]);
    let mut x = Zeroizing::new([0u8; 32]);
    ed.copy_from_slice(&seeds[..32]);
    x.copy_from_slice(&seeds[32..]);
    let identity = IdentityKeyPair::from_secret_bytes(&ed, &x);
    let mut store = PreKeyStore::new(&identity, 1, 1, &mut rand::rng());
    if let Some(path) = args.opt("chain")? {
        let chain = CertificateChain::from_bytes(&read_file(path)?)
            .map_err(|e| Failure::Usage(format!("{path}: not a certificate chain: {e}")))?;
        store
            .set_certificate_chain(chain)
            .map_err(|e| Failure::Refused(format!("refused: {path}: {e}")))?;
    }
    let out = args.req("out")?;
    write_new(out, &store.bundle().to_bytes(), false)?;
    println!("wrote {out}");
    Ok(())
}

fn run(raw: &[String]) -> Outcome {
    let Some((command, rest)) = raw.split_first() else {
        return usage("no command given");
    };
    let args = Args::parse(rest)?;
    if !matches!(command.as_str(), "check-name" | "inspect" | "verify")
        && !args.positional.is_empty()
    {
        return usage(format!("unexpected argument {:?}", args.positional[0]));
    }
    match command.as_str() {
        "create-root" => cmd_create_root(&args),
        "create-issuer" => cmd_create_issuer(&args),
        "issue" => cmd_issue(&args),
        "revoke" => cmd_revoke(&args),
        "revoke-issuer" => cmd_revoke_issuer(&args),
        "check-name" => cmd_check_name(&args),
        "inspect" => cmd_inspect(&args),
        "verify" => cmd_verify(&args),
        "new-business" => cmd_new_business(&args),
        "bundle" => cmd_bundle(&args),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        other => usage(format!("unknown command {other:?}")),
    }
}

fn main() -> ExitCode {
    let raw: Vec<String> = match std::env::args_os()
        .skip(1)
        .map(|a| a.into_string())
        .collect::<Result<_, _>>()
    {
        Ok(v) => v,
        Err(a) => {
            eprintln!("error: argument {a:?} is not valid Unicode");
            return ExitCode::from(2);
        }
    };
    match run(&raw) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Refused(msg)) => {
            println!("{msg}");
            ExitCode::from(1)
        }
        Err(Failure::Usage(msg)) => {
            eprintln!("error: {msg}\n\nRun `hotline-issuer help` for usage.");
            ExitCode::from(2)
        }
    }
}
