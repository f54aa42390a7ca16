//! `hotline-issuer`: the platform operator's tool for business certificates.
//!
//! Creates trust roots and issuers, issues and renews business certificates
//! after checking the name (the name rules, and the issuer's name index of
//! every name it issued), signs certificate statuses, revokes, and inspects
//! or verifies any certificate, chain, bundle, status or revocation list
//! with an explanation in words. Run `hotline-issuer help` for the commands.
//!
//! Exit status: 0 on success (or a valid verdict), 1 when something was
//! refused (an invalid certificate, a name that breaks the rules or looks
//! like another business's), 2 for bad usage or unreadable input. Bad input
//! never panics.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use hotline::business::{
    Badge, BusinessCertificate, BusinessCertificateRequest, BusinessId, CertificateChain,
    CertificateStatus, ChainLink, Expiry, IssuerAuthority, IssuerCertificate, LevelSet, NameError,
    NameIndex, Peer, RevocationList, RevocationScope, RevokedBy, RootAuthority, TrustRoot,
    TrustStore, ValidationError, Validity, VerificationLevel, check_name, normalize_name,
};
use hotline::constants::{
    MAX_REVOCATION_LIST_LIFETIME_SECS, MAX_STATUS_LIFETIME_SECS, OBJ_TYPE_BUNDLE,
    OBJ_TYPE_BUSINESS_CERT, OBJ_TYPE_CERT_CHAIN, OBJ_TYPE_CERT_STATUS, OBJ_TYPE_ISSUER_CERT,
    OBJ_TYPE_REVOCATION_LIST, OBJ_TYPE_TRUST_ROOT,
};
use hotline::types::Ed25519Public;
use hotline::{IdentityKey, IdentityKeyPair, PreKeyBundle, PreKeyStore};
use zeroize::Zeroizing;

const AFTER_HELP: &str = "\
Times are RFC 3339 (2027-01-31T12:00:00Z, or with an offset) or Unix
seconds; they default to now. Validity defaults to ten years for a root,
three for an issuer and one for a business certificate.
Secret files hold hex seeds; they are created new (never overwritten) and,
on Unix, readable by the owner only.

Exit status: 0 ok or valid, 1 refused or invalid, 2 bad usage or input.";

/// Business certificates for Hotline: the platform operator's tool.
#[derive(Parser)]
#[command(
    name = "hotline-issuer",
    version,
    after_help = AFTER_HELP,
    subcommand_required = true,
    arg_required_else_help = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a trust root and its secret (platform operator).
    CreateRoot(CreateRoot),
    /// Certify a new issuer under a root (platform operator).
    CreateIssuer(CreateIssuer),
    /// Issue a business certificate after checking its names.
    Issue(Issue),
    /// Renew a certificate: same identity key and business id, new serial.
    ///
    /// Issues a new certificate for the identity key and business id of an
    /// old one, with a new serial and validity, and writes the new chain:
    /// the business's customers see no identity change.
    Renew(Renew),
    /// Sign a short-lived status: "certificate SERIAL is in good standing".
    Status(StatusCmd),
    /// Sign an issuer's list of revoked certificate serials.
    Revoke(Revoke),
    /// Sign a root's list of revoked issuers.
    RevokeIssuer(RevokeIssuer),
    /// Show the issuer's name index.
    Names(Names),
    /// Apply the name rules to NAME.
    CheckName {
        /// The name to check.
        #[arg(allow_hyphen_values = true)]
        name: String,
    },
    /// Decode any Hotline object and show it.
    Inspect {
        /// The file to decode.
        file: PathBuf,
    },
    /// Validate a chain, bundle or business certificate and explain.
    Verify(Verify),
    /// Testing helper: a business identity (normally made by the business).
    NewBusiness(NewBusiness),
    /// Testing helper: a prekey bundle carrying a certificate chain.
    Bundle(BundleCmd),
}

/// A validity window given on the command line.
#[derive(Args)]
struct ValidityArgs {
    /// Start of validity (default: now).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    not_before: Option<u64>,
    /// End of validity (default: the start plus the default length).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    not_after: Option<u64>,
}

/// The root's secret and public trust root.
#[derive(Args)]
struct RootKeys {
    /// The root's secret file.
    #[arg(long, value_name = "FILE")]
    root_secret: PathBuf,
    /// The root's public trust root.
    #[arg(long, value_name = "FILE")]
    root: PathBuf,
}

/// The issuer's secret and certificate.
#[derive(Args)]
struct IssuerKeys {
    /// The issuer's secret file.
    #[arg(long, value_name = "FILE")]
    issuer_secret: PathBuf,
    /// The issuer's certificate.
    #[arg(long, value_name = "FILE")]
    issuer_cert: PathBuf,
}

#[derive(Args)]
struct CreateRoot {
    /// The root id.
    #[arg(long)]
    id: u32,
    /// Where to write the root secret (keep it offline).
    #[arg(long, value_name = "FILE")]
    secret_out: PathBuf,
    /// Where to write the trust root (ship it with clients).
    #[arg(long, value_name = "FILE")]
    root_out: PathBuf,
    #[command(flatten)]
    validity: ValidityArgs,
}

#[derive(Args)]
struct CreateIssuer {
    #[command(flatten)]
    root: RootKeys,
    /// The issuer id.
    #[arg(long)]
    id: u32,
    /// The levels the issuer may certify, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    levels: Vec<Level>,
    /// Where to write the issuer secret.
    #[arg(long, value_name = "FILE")]
    secret_out: PathBuf,
    /// Where to write the issuer certificate.
    #[arg(long, value_name = "FILE")]
    cert_out: PathBuf,
    #[command(flatten)]
    validity: ValidityArgs,
}

#[derive(Args)]
struct Issue {
    #[command(flatten)]
    issuer: IssuerKeys,
    /// The certificate's serial number, unique for this issuer.
    #[arg(long)]
    serial: u64,
    /// The business's stable id: 32 hex digits.
    #[arg(long, value_name = "HEX32", value_parser = parse_business_id)]
    business_id: BusinessId,
    /// The business's identity key, or a bundle carrying it.
    #[arg(long, value_name = "FILE")]
    identity: PathBuf,
    /// The verified display name.
    #[arg(long, allow_hyphen_values = true)]
    name: String,
    /// A localized name (repeatable).
    #[arg(long, value_name = "LANG=NAME", value_parser = parse_localized)]
    localized: Vec<(String, String)>,
    /// The verification level.
    #[arg(long, value_enum, default_value_t = Level::Verified)]
    level: Level,
    #[command(flatten)]
    validity: ValidityArgs,
    /// The issuer's name index (created if missing, updated on issue).
    #[arg(long, value_name = "FILE")]
    name_index: PathBuf,
    /// Where to write the business certificate.
    #[arg(long, value_name = "FILE")]
    cert_out: PathBuf,
    /// Where to write the certificate chain (issuer and business).
    #[arg(long, value_name = "FILE")]
    chain_out: Option<PathBuf>,
}

#[derive(Args)]
struct Renew {
    #[command(flatten)]
    issuer: IssuerKeys,
    /// The certificate to renew: a chain, a bundle or a business certificate.
    #[arg(long, value_name = "FILE")]
    old: PathBuf,
    /// The new certificate's serial number.
    #[arg(long)]
    serial: u64,
    /// A new display name (default: the old one).
    #[arg(long, allow_hyphen_values = true)]
    name: Option<String>,
    /// New localized names, replacing all the old ones (default: the old ones).
    #[arg(long, value_name = "LANG=NAME", value_parser = parse_localized)]
    localized: Vec<(String, String)>,
    #[command(flatten)]
    validity: ValidityArgs,
    /// The issuer's name index (created if missing, updated on renewal).
    #[arg(long, value_name = "FILE")]
    name_index: PathBuf,
    /// Where to write the new certificate chain.
    #[arg(long, value_name = "FILE")]
    chain_out: PathBuf,
    /// Where to write the new business certificate alone.
    #[arg(long, value_name = "FILE")]
    cert_out: Option<PathBuf>,
}

#[derive(Args)]
struct StatusCmd {
    #[command(flatten)]
    issuer: IssuerKeys,
    /// The serial of the certificate in good standing.
    #[arg(long)]
    serial: u64,
    /// Start of the status (default: now).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    from: Option<u64>,
    /// How many days the status holds.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=MAX_STATUS_LIFETIME_SECS / DAY))]
    days: u64,
    /// Where to write the status.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

#[derive(Args)]
struct Revoke {
    #[command(flatten)]
    issuer: IssuerKeys,
    /// The list's sequence, growing with every list (default: the issue
    /// time in Unix seconds).
    #[arg(long)]
    sequence: Option<u64>,
    /// A revoked serial (repeatable).
    #[arg(long)]
    serial: Vec<u64>,
    /// The list's issue time (default: now).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    issued_at: Option<u64>,
    /// Days after the issue time when the list proves nothing any more and
    /// a newer one must be published.
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u64).range(1..=MAX_REVOCATION_LIST_LIFETIME_SECS / DAY))]
    days: u64,
    /// Where to write the list.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

#[derive(Args)]
struct RevokeIssuer {
    #[command(flatten)]
    root: RootKeys,
    /// The list's sequence, growing with every list (default: the issue
    /// time in Unix seconds).
    #[arg(long)]
    sequence: Option<u64>,
    /// The certificate of a revoked issuer (repeatable): its key is revoked,
    /// under every root and issuer id.
    #[arg(long, value_name = "FILE")]
    issuer_cert: Vec<PathBuf>,
    /// A revoked issuer key, 64 hex digits (repeatable).
    #[arg(long, value_name = "HEX32", value_parser = parse_key)]
    issuer_key: Vec<[u8; 32]>,
    /// The list's issue time (default: now).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    issued_at: Option<u64>,
    /// Days after the issue time when the list proves nothing any more and
    /// a newer one must be published.
    #[arg(long, default_value_t = 28, value_parser = clap::value_parser!(u64).range(1..=MAX_REVOCATION_LIST_LIFETIME_SECS / DAY))]
    days: u64,
    /// Where to write the list.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

#[derive(Args)]
struct Names {
    /// The issuer's name index.
    #[arg(long, value_name = "FILE")]
    name_index: PathBuf,
    /// Show only the names of this business.
    #[arg(long, value_name = "HEX32", value_parser = parse_business_id)]
    business_id: Option<BusinessId>,
}

#[derive(Args)]
struct Verify {
    /// A chain, a bundle or a business certificate.
    file: PathBuf,
    /// A trusted root (repeatable, at least one).
    #[arg(long, value_name = "FILE", required = true)]
    root: Vec<PathBuf>,
    /// A revocation list to apply first (repeatable).
    #[arg(long, value_name = "FILE")]
    revocations: Vec<PathBuf>,
    /// A certificate status to apply (repeatable); the badge is shown.
    #[arg(long, value_name = "FILE")]
    status: Vec<PathBuf>,
    /// Require a status in force for the badge.
    #[arg(long)]
    require_status: bool,
    /// The issuer certificate, to verify a business certificate alone.
    #[arg(long, value_name = "FILE")]
    issuer_cert: Option<PathBuf>,
    /// The time to verify at (default: now).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    now: Option<u64>,
}

#[derive(Args)]
struct NewBusiness {
    /// Where to write the business's secret seeds.
    #[arg(long, value_name = "FILE")]
    secret_out: PathBuf,
    /// Where to write its public identity key.
    #[arg(long, value_name = "FILE")]
    identity_out: PathBuf,
}

#[derive(Args)]
struct BundleCmd {
    /// The business's secret file.
    #[arg(long, value_name = "FILE")]
    business_secret: PathBuf,
    /// The certificate chain to carry.
    #[arg(long, value_name = "FILE")]
    chain: Option<PathBuf>,
    /// Where to write the bundle.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// A verification level on the command line.
#[derive(Clone, Copy, ValueEnum)]
enum Level {
    /// A verified business.
    Verified,
    /// An official account.
    Official,
}

impl From<Level> for VerificationLevel {
    fn from(l: Level) -> Self {
        match l {
            Level::Verified => Self::Verified,
            Level::Official => Self::Official,
        }
    }
}

// ---- Values.

/// A time: Unix seconds, or RFC 3339 at or after 1970.
fn parse_time(s: &str) -> Result<u64, String> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse::<u64>()
            .map_err(|e| format!("not a Unix time: {e}"));
    }
    let t: jiff::Timestamp = s.parse().map_err(|e| {
        format!("not an RFC 3339 time (like 2027-01-31T12:00:00Z) nor Unix seconds: {e}")
    })?;
    u64::try_from(t.as_second()).map_err(|_| "times before 1970 are not accepted".to_owned())
}

fn parse_key(s: &str) -> Result<[u8; 32], String> {
    let mut key = [0; 32];
    hex::decode_to_slice(s, &mut key).map_err(|e| format!("not 64 hex digits: {e}"))?;
    Ok(key)
}

fn parse_business_id(s: &str) -> Result<BusinessId, String> {
    let mut id = [0u8; 16];
    hex::decode_to_slice(s, &mut id).map_err(|_| format!("{s:?} is not 32 hex digits"))?;
    Ok(BusinessId(id))
}

fn parse_localized(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(lang, name)| (lang.to_owned(), name.to_owned()))
        .ok_or_else(|| format!("{s:?} is not LANG=NAME"))
}

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

fn refused<T>(msg: impl Into<String>) -> Result<T, Failure> {
    Err(Failure::Refused(msg.into()))
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

const DAY: u64 = 24 * 3600;
const YEAR: u64 = 365 * DAY;

fn validity(args: &ValidityArgs, default_len: u64) -> Result<Validity, Failure> {
    let not_before = args.not_before.unwrap_or_else(now_secs);
    let not_after = args
        .not_after
        .unwrap_or_else(|| not_before.saturating_add(default_len));
    if not_before > not_after {
        return usage("--not-before is after --not-after");
    }
    Ok(Validity {
        not_before,
        not_after,
    })
}

/// A business certificate's window: as given, or by default a year from
/// now, kept inside the issuer's own validity.
fn business_validity(issuer: &IssuerAuthority, args: &ValidityArgs) -> Result<Validity, Failure> {
    if args.not_before.is_some() || args.not_after.is_some() {
        return validity(args, YEAR);
    }
    let own = issuer.certificate().validity();
    let not_before = now_secs().max(own.not_before);
    Ok(Validity {
        not_before,
        not_after: not_before.saturating_add(YEAR).min(own.not_after),
    })
}

// ---- Files.

/// Every Hotline object is small; refuse to read anything huge.
const MAX_OBJECT_FILE: u64 = 4 << 20;
/// A name index of a million names fits well below this.
const MAX_INDEX_FILE: u64 = 256 << 20;

fn read_limited(path: &Path, max: u64) -> Result<Vec<u8>, Failure> {
    let p = path.display();
    let meta = std::fs::metadata(path).map_err(|e| Failure::Usage(format!("{p}: {e}")))?;
    if meta.len() > max {
        return usage(format!("{p}: {} bytes is too large", meta.len()));
    }
    std::fs::read(path).map_err(|e| Failure::Usage(format!("{p}: {e}")))
}

fn read_file(path: &Path) -> Result<Vec<u8>, Failure> {
    read_limited(path, MAX_OBJECT_FILE)
}

fn write_new(path: &Path, bytes: &[u8], secret: bool) -> Outcome {
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
    let p = path.display();
    let mut f = opts.open(path).map_err(|e| {
        Failure::Usage(if e.kind() == std::io::ErrorKind::AlreadyExists {
            format!("{p} already exists; refusing to overwrite it")
        } else {
            format!("{p}: {e}")
        })
    })?;
    f.write_all(bytes)
        .map_err(|e| Failure::Usage(format!("{p}: {e}")))
}

/// Refuses early, before anything is signed or recorded, when an output
/// file exists already ([`write_new`] checks again when writing).
fn check_new(paths: &[Option<&Path>]) -> Outcome {
    for path in paths.iter().flatten() {
        if path.exists() {
            return usage(format!(
                "{} already exists; refusing to overwrite it",
                path.display()
            ));
        }
    }
    Ok(())
}

/// Secret files: `hotline <kind> secret v1` then the seed(s) in hex.
fn write_secret(path: &Path, kind: &str, seed: &[u8]) -> Outcome {
    let header = format!("hotline {kind} secret v1\n");
    let hex_end = header.len() + 2 * seed.len();
    // Built in place so no unzeroized copy of the hex seed is left behind.
    let mut text = Zeroizing::new(vec![0u8; hex_end + 1]);
    text[..header.len()].copy_from_slice(header.as_bytes());
    hex::encode_to_slice(seed, &mut text[header.len()..hex_end])
        .map_err(|e| Failure::Usage(format!("internal: {e}")))?;
    text[hex_end] = b'\n';
    write_new(path, &text, true)
}

fn read_secret<const N: usize>(path: &Path, kind: &str) -> Result<Zeroizing<[u8; N]>, Failure> {
    let raw = Zeroizing::new(read_file(path)?);
    let bad = || Failure::Usage(format!("{}: not a {kind} secret file", path.display()));
    let text = std::str::from_utf8(&raw).map_err(|_| bad())?;
    let mut lines = text.lines();
    if lines.next() != Some(&format!("hotline {kind} secret v1")) {
        return Err(bad());
    }
    let mut out = Zeroizing::new([0u8; N]);
    let line = lines.next().ok_or_else(bad)?;
    hex::decode_to_slice(line.trim(), &mut out[..]).map_err(|_| bad())?;
    Ok(out)
}

fn load_root(path: &Path) -> Result<TrustRoot, Failure> {
    TrustRoot::from_bytes(&read_file(path)?)
        .map_err(|e| Failure::Usage(format!("{}: not a valid trust root: {e}", path.display())))
}

fn load_issuer_cert(path: &Path) -> Result<IssuerCertificate, Failure> {
    IssuerCertificate::from_bytes(&read_file(path)?).map_err(|e| {
        Failure::Usage(format!(
            "{}: not an issuer certificate: {e}",
            path.display()
        ))
    })
}

fn load_root_authority(keys: &RootKeys) -> Result<RootAuthority, Failure> {
    let root = load_root(&keys.root)?;
    let seed = read_secret::<32>(&keys.root_secret, "root")?;
    let authority = RootAuthority::from_seed(&seed, root.root_id(), root.validity());
    if authority.trust_root() != root {
        return usage("the root secret does not belong to this root");
    }
    Ok(authority)
}

fn load_issuer_authority(keys: &IssuerKeys) -> Result<IssuerAuthority, Failure> {
    let cert = load_issuer_cert(&keys.issuer_cert)?;
    let seed = read_secret::<32>(&keys.issuer_secret, "issuer")?;
    IssuerAuthority::new(&seed, cert)
        .map_err(|_| Failure::Usage("the issuer secret does not belong to this certificate".into()))
}

/// The name index at `path`, or an empty one if there is no file yet.
fn load_index(path: &Path) -> Result<NameIndex, Failure> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(NameIndex::new()),
        _ => read_index(path),
    }
}

fn read_index(path: &Path) -> Result<NameIndex, Failure> {
    NameIndex::from_bytes(&read_limited(path, MAX_INDEX_FILE)?)
        .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))
}

/// Replaces the index file whole: written beside it, then renamed over it,
/// so a crash leaves the old index or the new one, never half of one.
fn save_index(path: &Path, index: &NameIndex) -> Outcome {
    use std::io::Write;
    let mut tmp = OsString::from(path.as_os_str());
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let fail = |e: std::io::Error| Failure::Usage(format!("{}: {e}", path.display()));
    let mut f = std::fs::File::create(&tmp).map_err(fail)?;
    f.write_all(&index.to_bytes()).map_err(fail)?;
    f.sync_all().map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
}

/// An identity from a file: an encoded identity key (130 bytes) or a bundle.
fn load_identity(path: &Path) -> Result<IdentityKey, Failure> {
    let bytes = read_file(path)?;
    let p = path.display();
    if bytes.get(1) == Some(&OBJ_TYPE_BUNDLE) && bytes.len() > 130 {
        return PreKeyBundle::from_bytes(&bytes)
            .map(|b| *b.identity())
            .map_err(|e| Failure::Usage(format!("{p}: not a valid bundle: {e}")));
    }
    IdentityKey::from_bytes(&bytes)
        .map_err(|e| Failure::Usage(format!("{p}: not an identity key or bundle: {e}")))
}

/// A business certificate from a chain, a bundle or the certificate alone.
fn load_business_cert(path: &Path) -> Result<BusinessCertificate, Failure> {
    let bytes = read_file(path)?;
    let p = path.display();
    let bad = |e: &dyn std::fmt::Display| {
        Failure::Usage(format!(
            "{p}: not a business certificate, chain or bundle: {e}"
        ))
    };
    match bytes.get(1).copied() {
        Some(OBJ_TYPE_CERT_CHAIN) => CertificateChain::from_bytes(&bytes)
            .map(|c| c.business().clone())
            .map_err(|e| bad(&e)),
        Some(OBJ_TYPE_BUNDLE) => match PreKeyBundle::from_bytes(&bytes) {
            Ok(b) => b
                .certificate_chain()
                .map(|c| c.business().clone())
                .ok_or_else(|| bad(&"the bundle carries no certificate")),
            Err(e) => Err(bad(&e)),
        },
        _ => BusinessCertificate::from_bytes(&bytes).map_err(|e| bad(&e)),
    }
}

// ---- Display.

/// A Unix time in RFC 3339 (UTC).
fn rfc3339(t: u64) -> String {
    i64::try_from(t)
        .ok()
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .map_or_else(|| format!("{t} (after the year 9999)"), |ts| ts.to_string())
}

fn window(v: Validity) -> String {
    format!(
        "{} .. {} ({} .. {})",
        rfc3339(v.not_before),
        rfc3339(v.not_after),
        v.not_before,
        v.not_after
    )
}

fn key_hex(k: &Ed25519Public) -> String {
    hex::encode(k.to_bytes())
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
        rfc3339(l.issued_at()),
        l.issued_at()
    );
    let _ = writeln!(
        out,
        "  next update:    {} ({})",
        rfc3339(l.next_update()),
        l.next_update()
    );
    let entries: Vec<String> = match l.scope() {
        RevocationScope::BusinessCertificates => l.serials().iter().map(u64::to_string).collect(),
        RevocationScope::Issuers => l.issuer_keys().iter().map(hex::encode).collect(),
    };
    let entries = if entries.is_empty() {
        "none".to_owned()
    } else {
        entries.join(", ")
    };
    let _ = writeln!(out, "  {what:<16}{entries}");
}

fn describe_status(s: &CertificateStatus, out: &mut String) {
    let _ = writeln!(out, "certificate status (signature not checked by inspect)");
    let _ = writeln!(out, "  issuer id:      {}", s.issuer_id());
    let _ = writeln!(out, "  serial:         {}", s.serial());
    let _ = writeln!(
        out,
        "  good from:      {} ({})",
        rfc3339(s.this_update()),
        s.this_update()
    );
    let _ = writeln!(
        out,
        "  good until:     {} ({})",
        rfc3339(s.next_update()),
        s.next_update()
    );
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
            link_name(*link), rfc3339(*not_before), rfc3339(*now)
        ),
        ValidationError::Expired { link, not_after, now } => format!(
            "{} expired at {} (now is {}, clock skew allowance included)",
            link_name(*link), rfc3339(*not_after), rfc3339(*now)
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

fn cmd_create_root(a: &CreateRoot) -> Outcome {
    let v = validity(&a.validity, 10 * YEAR)?;
    check_new(&[Some(&a.secret_out), Some(&a.root_out)])?;
    let root = RootAuthority::generate(a.id, v, &mut rand::rng());
    write_secret(&a.secret_out, "root", &*root.seed())?;
    write_new(&a.root_out, &root.trust_root().to_bytes(), false)?;
    let mut out = String::new();
    describe_root(&root.trust_root(), &mut out);
    print!("{out}");
    println!(
        "wrote {} (keep offline) and {} (ship with clients)",
        a.secret_out.display(),
        a.root_out.display()
    );
    Ok(())
}

fn cmd_create_issuer(a: &CreateIssuer) -> Outcome {
    let root = load_root_authority(&a.root)?;
    let wanted: Vec<VerificationLevel> = a.levels.iter().map(|&l| l.into()).collect();
    let allowed =
        LevelSet::new(&wanted).ok_or_else(|| Failure::Usage("--levels is empty".into()))?;
    let v = validity(&a.validity, 3 * YEAR)?;
    check_new(&[Some(&a.secret_out), Some(&a.cert_out)])?;
    let (seed, key) = IssuerAuthority::generate_key(&mut rand::rng());
    let cert = root
        .certify_issuer(a.id, &key, allowed, v)
        .map_err(|e| Failure::Refused(format!("refused: {e}")))?;
    write_secret(&a.secret_out, "issuer", &*seed)?;
    write_new(&a.cert_out, &cert.to_bytes(), false)?;
    let mut out = String::new();
    describe_issuer(&cert, &mut out);
    print!("{out}");
    println!(
        "wrote {} and {}",
        a.secret_out.display(),
        a.cert_out.display()
    );
    Ok(())
}

/// Signs `request`, checks its names against the name index and records
/// them, saves the index, then writes the certificate and chain. Nothing is
/// written when the issuer or the index refuses.
fn issue_recorded(
    issuer: &IssuerAuthority,
    request: &BusinessCertificateRequest,
    index_path: &Path,
    cert_out: Option<&Path>,
    chain_out: Option<&Path>,
) -> Outcome {
    check_new(&[cert_out, chain_out])?;
    let mut index = load_index(index_path)?;
    let cert = issuer
        .issue(request)
        .map_err(|e| Failure::Refused(format!("refused to issue: {e}")))?;
    let names =
        std::iter::once(cert.name()).chain(cert.localized_names().iter().map(|l| l.name.as_str()));
    index
        .record(cert.business_id(), names)
        .map_err(|e| Failure::Refused(format!("refused to issue: name index: {e}")))?;
    // The index first: a name recorded for a certificate that was not
    // written stays reserved for its own business, which is harmless; a
    // certificate whose names were not recorded would not be.
    save_index(index_path, &index)?;
    let mut wrote = Vec::new();
    if let Some(path) = cert_out {
        write_new(path, &cert.to_bytes(), false)?;
        wrote.push(path.display().to_string());
    }
    if let Some(path) = chain_out {
        let chain = CertificateChain::new(issuer.certificate().clone(), cert.clone());
        write_new(path, &chain.to_bytes(), false)?;
        wrote.push(path.display().to_string());
    }
    let mut out = String::new();
    describe_business(&cert, &mut out);
    print!("{out}");
    println!(
        "wrote {}; recorded the names in {}",
        wrote.join(" and "),
        index_path.display()
    );
    Ok(())
}

fn cmd_issue(a: &Issue) -> Outcome {
    let issuer = load_issuer_authority(&a.issuer)?;
    let identity = load_identity(&a.identity)?;
    let request = BusinessCertificateRequest {
        serial: a.serial,
        business_id: a.business_id,
        identity_key: *identity.signing_key(),
        name: a.name.clone(),
        localized: a.localized.clone(),
        level: a.level.into(),
        validity: business_validity(&issuer, &a.validity)?,
    };
    issue_recorded(
        &issuer,
        &request,
        &a.name_index,
        Some(&a.cert_out),
        a.chain_out.as_deref(),
    )
}

fn cmd_renew(a: &Renew) -> Outcome {
    let issuer = load_issuer_authority(&a.issuer)?;
    let old = load_business_cert(&a.old)?;
    if old.issuer_id() == issuer.certificate().issuer_id() && old.serial() == a.serial {
        return refused(format!(
            "refused to renew: serial {} is the serial of the certificate being renewed",
            a.serial
        ));
    }
    let localized = if a.localized.is_empty() {
        old.localized_names()
            .iter()
            .map(|l| (l.language.clone(), l.name.clone()))
            .collect()
    } else {
        a.localized.clone()
    };
    let request = BusinessCertificateRequest {
        serial: a.serial,
        business_id: old.business_id(),
        identity_key: *old.identity_key(),
        name: a.name.clone().unwrap_or_else(|| old.name().to_owned()),
        localized,
        level: old.level(),
        validity: business_validity(&issuer, &a.validity)?,
    };
    println!(
        "renewing certificate {} of business {} (same identity key and business id)",
        old.serial(),
        old.business_id()
    );
    issue_recorded(
        &issuer,
        &request,
        &a.name_index,
        a.cert_out.as_deref(),
        Some(&a.chain_out),
    )
}

fn cmd_status(a: &StatusCmd) -> Outcome {
    let issuer = load_issuer_authority(&a.issuer)?;
    let from = a.from.unwrap_or_else(now_secs);
    let Some(until) = a.days.checked_mul(DAY).and_then(|d| from.checked_add(d)) else {
        return usage("--from is too late for a status of that many days");
    };
    let status = issuer
        .certify_status(a.serial, from, until)
        .map_err(|e| Failure::Refused(format!("refused: {e}")))?;
    write_new(&a.out, &status.to_bytes(), false)?;
    let mut out = String::new();
    describe_status(&status, &mut out);
    print!("{out}");
    println!("wrote {}", a.out.display());
    Ok(())
}

fn cmd_revoke(a: &Revoke) -> Outcome {
    let issuer = load_issuer_authority(&a.issuer)?;
    let issued_at = a.issued_at.unwrap_or_else(now_secs);
    let sequence = a.sequence.unwrap_or(issued_at);
    let Some(next_update) = issued_at.checked_add(a.days * DAY) else {
        return usage("--issued-at is too late for a list of that many days");
    };
    write_list(
        &a.out,
        issuer.revoke(sequence, issued_at, next_update, &a.serial),
    )
}

fn cmd_revoke_issuer(a: &RevokeIssuer) -> Outcome {
    let root = load_root_authority(&a.root)?;
    let issued_at = a.issued_at.unwrap_or_else(now_secs);
    let sequence = a.sequence.unwrap_or(issued_at);
    let Some(next_update) = issued_at.checked_add(a.days * DAY) else {
        return usage("--issued-at is too late for a list of that many days");
    };
    let mut keys = Vec::new();
    for path in &a.issuer_cert {
        keys.push(*load_issuer_cert(path)?.key());
    }
    for bytes in &a.issuer_key {
        keys.push(Ed25519Public::from_bytes(bytes).map_err(|_| {
            Failure::Refused(format!(
                "refused: {} is not an Ed25519 key",
                hex::encode(bytes)
            ))
        })?);
    }
    write_list(
        &a.out,
        root.revoke_issuers(sequence, issued_at, next_update, &keys),
    )
}

/// Writes a freshly signed revocation list to `out_path` (never over an
/// existing file) and describes it, or reports why it was refused.
fn write_list(out_path: &Path, list: Result<RevocationList, impl std::fmt::Display>) -> Outcome {
    let list = list.map_err(|e| Failure::Refused(format!("refused: {e}")))?;
    write_new(out_path, &list.to_bytes(), false)?;
    let mut out = String::new();
    describe_list(&list, &mut out);
    print!("{out}");
    println!("wrote {}", out_path.display());
    Ok(())
}

fn cmd_names(a: &Names) -> Outcome {
    let index = read_index(&a.name_index)?;
    let mut rows: Vec<_> = index
        .iter()
        .filter(|(_, n)| a.business_id.is_none_or(|id| n.business_id == id))
        .collect();
    rows.sort_by(|(ka, a), (kb, b)| {
        (a.business_id, &a.name, ka).cmp(&(b.business_id, &b.name, kb))
    });
    println!(
        "{} of {} names in {}",
        rows.len(),
        index.len(),
        a.name_index.display()
    );
    for (key, n) in rows {
        println!("{}  {}  (look-alike key {key:?})", n.business_id, n.name);
    }
    Ok(())
}

fn cmd_check_name(name: &str) -> Outcome {
    match normalize_name(name) {
        Ok(n) if n == *name => {
            println!("ok: {name:?} is acceptable as a verified name");
            Ok(())
        }
        Ok(n) => {
            println!("ok after normalization: {name:?} will be issued as {n:?} (NFC)");
            Ok(())
        }
        Err(e) => refused(format!(
            "refused: {name:?}: {e}{}",
            // Also show the client's view if the input was not NFC.
            match check_name(name) {
                Err(NameError::NotNormalized) => " (and the input is not in NFC)",
                _ => "",
            }
        )),
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
            let _ = writeln!(out, "certificate chain (hash {})", hex::encode(c.hash()));
            describe_issuer(c.issuer(), out);
            describe_business(c.business(), out);
        }
        Some(OBJ_TYPE_CERT_STATUS) => describe_status(
            &CertificateStatus::from_bytes(bytes).map_err(|e| e.to_string())?,
            out,
        ),
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
                    let _ = writeln!(out, "  certificate chain (hash {}):", hex::encode(c.hash()));
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

fn cmd_inspect(path: &Path) -> Outcome {
    let bytes = read_file(path)?;
    let mut out = String::new();
    describe_file(&bytes, &mut out)
        .map_err(|e| Failure::Refused(format!("{}: malformed: {e}", path.display())))?;
    print!("{out}");
    Ok(())
}

fn invalid(e: &ValidationError) -> Failure {
    Failure::Refused(format!("verdict: INVALID: {}", explain(e)))
}

fn cmd_verify(a: &Verify) -> Outcome {
    let now = a.now.unwrap_or_else(now_secs);
    let mut trust = TrustStore::new();
    for r in &a.root {
        trust
            .add_root(load_root(r)?)
            .map_err(|e| Failure::Usage(format!("{}: {e}", r.display())))?;
    }
    trust.require_status(a.require_status);
    let path = &a.file;
    let bytes = read_file(path)?;
    let mut out = String::new();
    let _ = describe_file(&bytes, &mut out);
    print!("{out}");

    // What to validate: a chain, the chain in a bundle, or a business
    // certificate with --issuer-cert.
    let extra_issuer = a.issuer_cert.as_deref().map(load_issuer_cert).transpose()?;
    let (chain, bundle) = match bytes.get(1).copied() {
        Some(OBJ_TYPE_BUNDLE) => match PreKeyBundle::from_bytes(&bytes) {
            Ok(b) => (b.certificate_chain().cloned(), Some(b)),
            Err(e) => {
                return refused(format!(
                    "verdict: INVALID: the bundle is malformed or badly signed ({e})"
                ));
            }
        },
        Some(OBJ_TYPE_BUSINESS_CERT) => {
            let cert = BusinessCertificate::from_bytes(&bytes)
                .map_err(|e| invalid(&ValidationError::Malformed(e)))?;
            let Some(issuer) = extra_issuer.clone() else {
                return usage("a business certificate alone needs --issuer-cert FILE to verify");
            };
            (Some(CertificateChain::new(issuer, cert)), None)
        }
        Some(OBJ_TYPE_CERT_CHAIN) => (
            Some(
                CertificateChain::from_bytes(&bytes)
                    .map_err(|e| invalid(&ValidationError::Malformed(e)))?,
            ),
            None,
        ),
        _ => {
            return usage(format!(
                "{}: verify takes a chain, a bundle or a business certificate",
                path.display()
            ));
        }
    };
    let issuer = extra_issuer
        .as_ref()
        .or(chain.as_ref().map(CertificateChain::issuer));
    for list_path in &a.revocations {
        let lp = list_path.display();
        let list = RevocationList::from_bytes(&read_file(list_path)?)
            .map_err(|e| Failure::Usage(format!("{lp}: not a revocation list: {e}")))?;
        match trust.apply_revocation_list(&list, issuer, now) {
            Ok(u) => println!(
                "applied {lp}: sequence {}, {} revoked",
                u.sequence, u.revoked
            ),
            Err(e) => println!("ignored {lp}: {e}"),
        }
    }
    for status_path in &a.status {
        let sp = status_path.display();
        let status = CertificateStatus::from_bytes(&read_file(status_path)?)
            .map_err(|e| Failure::Usage(format!("{sp}: not a certificate status: {e}")))?;
        let Some(issuer) = issuer else {
            println!("ignored {sp}: no issuer certificate to check it with");
            continue;
        };
        match trust.apply_status(&status, issuer, now) {
            Ok(()) => println!(
                "applied {sp}: certificate {} good until {}",
                status.serial(),
                rfc3339(status.next_update())
            ),
            Err(e) => println!("ignored {sp}: {e}"),
        }
    }
    let result = match (&bundle, &chain) {
        (Some(b), _) => trust.verify_bundle(b, now),
        (None, Some(c)) => trust.validate_chain(c, now),
        (None, None) => Err(ValidationError::NoCertificate),
    };
    let v = result.map_err(|e| invalid(&e))?;
    println!(
        "verdict: VALID: verified business \"{}\" (business id {}, level {}), certified by issuer {} under root {}, at {}",
        v.name(),
        v.business_id(),
        v.level(),
        v.issuer_id(),
        v.root_id(),
        rfc3339(now)
    );
    if a.status.is_empty() && !a.require_status {
        return Ok(());
    }
    // The badge a client would show now, statuses included.
    match trust.badge(&Peer::VerifiedBusiness(v), now) {
        Badge::Verified { until, .. } => {
            println!("badge: verified until {}", rfc3339(until));
            Ok(())
        }
        Badge::Expired { what, since, .. } => refused(match what {
            Expiry::Status => format!(
                "badge: NOT SHOWN: the newest status ran out at {}",
                rfc3339(since)
            ),
            Expiry::NoStatus => "badge: NOT SHOWN: a status is required and none applies".into(),
            Expiry::RevocationList { scope, signer_id } => format!(
                "badge: NOT SHOWN: the revocation list of {} {signer_id} ran out at {}",
                match scope {
                    RevocationScope::Issuers => "root",
                    _ => "issuer",
                },
                rfc3339(since)
            ),
            _ => format!(
                "badge: NOT SHOWN: the certificate expired at {}",
                rfc3339(since)
            ),
        }),
        Badge::Revoked { by, .. } => refused(match by {
            RevokedBy::Certificate { issuer_id, .. } => {
                format!("badge: NOT SHOWN: revoked by issuer {issuer_id}")
            }
            RevokedBy::Issuer { root_id, .. } => {
                format!("badge: NOT SHOWN: the issuer was revoked by root {root_id}")
            }
            _ => "badge: NOT SHOWN: the root was retired".into(),
        }),
        _ => refused("badge: NOT SHOWN: not a verified business"),
    }
}

fn cmd_new_business(a: &NewBusiness) -> Outcome {
    check_new(&[Some(&a.secret_out), Some(&a.identity_out)])?;
    let mut seeds = Zeroizing::new([0u8; 64]);
    rand::Rng::fill_bytes(&mut rand::rng(), &mut seeds[..]);
    let mut ed = Zeroizing::new([0u8; 32]);
    let mut x = Zeroizing::new([0u8; 32]);
    ed.copy_from_slice(&seeds[..32]);
    x.copy_from_slice(&seeds[32..]);
    let identity = IdentityKeyPair::from_secret_bytes(&ed, &x);
    write_secret(&a.secret_out, "business", &*seeds)?;
    write_new(&a.identity_out, &identity.public().to_bytes(), false)?;
    println!(
        "identity key:   {}",
        key_hex(identity.public().signing_key())
    );
    println!(
        "wrote {} and {}",
        a.secret_out.display(),
        a.identity_out.display()
    );
    Ok(())
}

fn cmd_bundle(a: &BundleCmd) -> Outcome {
    let seeds = read_secret::<64>(&a.business_secret, "business")?;
    let mut ed = Zeroizing::new([0u8; 32]);
    let mut x = Zeroizing::new([0u8; 32]);
    ed.copy_from_slice(&seeds[..32]);
    x.copy_from_slice(&seeds[32..]);
    let identity = IdentityKeyPair::from_secret_bytes(&ed, &x);
    let mut store = PreKeyStore::new(&identity, 1, 1, &mut rand::rng());
    if let Some(path) = &a.chain {
        let p = path.display();
        let chain = CertificateChain::from_bytes(&read_file(path)?)
            .map_err(|e| Failure::Usage(format!("{p}: not a certificate chain: {e}")))?;
        store
            .set_certificate_chain(chain)
            .map_err(|e| Failure::Refused(format!("refused: {p}: {e}")))?;
    }
    write_new(&a.out, &store.bundle().to_bytes(), false)?;
    println!("wrote {}", a.out.display());
    Ok(())
}

fn run(command: &Command) -> Outcome {
    match command {
        Command::CreateRoot(a) => cmd_create_root(a),
        Command::CreateIssuer(a) => cmd_create_issuer(a),
        Command::Issue(a) => cmd_issue(a),
        Command::Renew(a) => cmd_renew(a),
        Command::Status(a) => cmd_status(a),
        Command::Revoke(a) => cmd_revoke(a),
        Command::RevokeIssuer(a) => cmd_revoke_issuer(a),
        Command::Names(a) => cmd_names(a),
        Command::CheckName { name } => cmd_check_name(name),
        Command::Inspect { file } => cmd_inspect(file),
        Command::Verify(a) => cmd_verify(a),
        Command::NewBusiness(a) => cmd_new_business(a),
        Command::Bundle(a) => cmd_bundle(a),
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with 0; usage errors to stderr
            // with 2.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    match run(&cli.command) {
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
