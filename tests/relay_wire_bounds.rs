//! The relay's request and response encodings at their length limits: the
//! longest input the length checks allow gets past them, one byte more (or
//! a count one element short of its bytes) is refused with the typed error
//! that names the field. The limits are derived here from real encodings,
//! not copied from the implementation.

use hotline::DecodeError;
use hotline::constants::{MAX_CERTIFICATE_CHAIN_LEN, MAX_REQUEST_BODY_LEN};
use hotline::relay::{
    AccountId, Delivery, Envelope, EnvelopeHeader, MessageClass, MessageId, PreKeyUpload, Request,
    RequestError, Response, ResponseError, SignedRequest,
};
use hotline::{BundleError, IdentityKeyPair, PreKeyStore};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

const T0: u64 = 1_800_000_000;
const SIGNATURE_LEN: usize = 64;

fn identity() -> IdentityKeyPair {
    IdentityKeyPair::from_secret_bytes(&[0x21; 32], &[0x22; 32])
}

fn prekeys(n: usize) -> PreKeyStore {
    let mut r = ChaCha20Rng::seed_from_u64(5);
    PreKeyStore::new(&identity(), n, n, &mut r)
}

#[test]
fn request_length_limits() {
    // A status request has no body: everything but its signature is the
    // fixed prefix every request carries.
    let smallest = SignedRequest::sign(&identity(), 1, T0, Request::PreKeyStatus).to_bytes();
    let prefix = smallest.len() - SIGNATURE_LEN;
    assert_eq!(
        SignedRequest::from_bytes(&smallest).unwrap().request(),
        &Request::PreKeyStatus
    );
    assert_eq!(
        SignedRequest::from_bytes(&smallest[..smallest.len() - 1]),
        Err(RequestError::Decode(DecodeError::Truncated("request")))
    );

    // The longest request the length check lets through reaches decoding,
    // which finds the status request's (empty) body followed by padding.
    let longest = prefix + MAX_REQUEST_BODY_LEN + SIGNATURE_LEN;
    let mut at_limit = smallest[..prefix].to_vec();
    at_limit.resize(longest, 0);
    assert_eq!(
        SignedRequest::from_bytes(&at_limit),
        Err(RequestError::Decode(DecodeError::TrailingBytes(
            MAX_REQUEST_BODY_LEN
        )))
    );
    at_limit.push(0);
    assert_eq!(
        SignedRequest::from_bytes(&at_limit),
        Err(RequestError::Decode(DecodeError::InvalidLength {
            field: "request",
            len: longest + 1
        }))
    );
}

/// Uploads of one kind only: each count is checked against exactly the
/// bytes its prekeys take, so an upload that ends with them decodes.
#[test]
fn uploads_of_a_single_prekey_kind_decode() {
    let p = prekeys(3);
    for upload in [
        PreKeyUpload {
            one_time_prekeys: p.one_time_prekeys(),
            ..PreKeyUpload::default()
        },
        PreKeyUpload {
            kem_prekeys: p.kem_prekeys(),
            ..PreKeyUpload::default()
        },
    ] {
        let req = SignedRequest::sign(&identity(), 2, T0, Request::UploadPreKeys(upload));
        assert_eq!(SignedRequest::from_bytes(&req.to_bytes()), Ok(req));
    }
}

#[test]
fn bundle_response_length_limit() {
    // Every prekey present and no chain: a chain of the largest registrable
    // size on top is the largest bundle a response may carry.
    let bundle = prekeys(1).bundle();
    assert!(bundle.certificate_chain().is_none());
    let largest = bundle.to_bytes().len() + MAX_CERTIFICATE_CHAIN_LEN;
    let response = Response::Bundle {
        bundle: Box::new(bundle.clone()),
        status: None,
    };
    let encoded = Response::encode_result(&Ok(response.clone()));
    assert_eq!(Response::decode_result(&encoded), Ok(Ok(response)));

    // The encoding: a 4-byte response header, the u32 length, the bundle.
    let with_declared_len = |len: usize| {
        let mut out = encoded[..4].to_vec();
        out.extend_from_slice(&u32::try_from(len).unwrap().to_be_bytes());
        out.extend_from_slice(&bundle.to_bytes());
        out.resize(4 + 4 + len, 0);
        out
    };
    // At the limit the bytes reach the bundle decoder, which refuses the
    // padding after the bundle.
    assert!(matches!(
        Response::decode_result(&with_declared_len(largest)),
        Err(ResponseError::Bundle(BundleError::Decode(
            DecodeError::TrailingBytes(_)
        )))
    ));
    assert_eq!(
        Response::decode_result(&with_declared_len(largest + 1)),
        Err(ResponseError::Decode(DecodeError::InvalidLength {
            field: "bundle",
            len: largest + 1
        }))
    );
}

#[test]
fn mailbox_delivery_count_is_checked_against_the_smallest_delivery() {
    // The smallest delivery: an envelope with a one-byte ciphertext.
    let delivery = Delivery {
        id: 7,
        received_at: T0,
        stamp: Default::default(),
        envelope: Envelope {
            header: EnvelopeHeader {
                sender: AccountId([1; 32]),
                recipient: AccountId([2; 32]),
                message_id: MessageId([3; 16]),
                class: MessageClass::Chat,
                sent_at: T0,
                franking: Default::default(),
            },
            ciphertext: vec![0x42],
        },
    };
    let response = Response::Mailbox {
        deliveries: vec![delivery],
        more: false,
        prekeys_low: true,
        prekeys_drained: hotline::relay::PreKeyDrain {
            last_hour: 1,
            last_day: 2,
        },
        statuses: vec![],
    };
    let encoded = Response::encode_result(&Ok(response.clone()));
    assert_eq!(Response::decode_result(&encoded), Ok(Ok(response)));
    // Without the status count and one byte more: the delivery count no
    // longer fits the bytes left, and is refused as such before any
    // delivery is read.
    assert_eq!(
        Response::decode_result(&encoded[..encoded.len() - 3]),
        Err(ResponseError::Decode(DecodeError::InvalidLength {
            field: "delivery count",
            len: 1
        }))
    );
}

/// Stapled statuses (SPEC.md 14.3): in a bundle response behind a flag, in
/// a mailbox response behind a count bounded by the batch size and by the
/// bytes left.
#[test]
fn stapled_statuses_round_trip_and_their_count_is_bounded() {
    use hotline::business::{
        CERT_STATUS_LEN, CertificateStatus, IssuerAuthority, LevelSet, RootAuthority, Validity,
        VerificationLevel,
    };
    let always = Validity {
        not_before: 0,
        not_after: u64::MAX,
    };
    let root = RootAuthority::from_seed(&[1; 32], 1, always);
    let seed = [2; 32];
    let key = hotline::hazmat::ed25519::Ed25519Secret::from_seed(&seed).public_key();
    let levels = LevelSet::new(&[VerificationLevel::Verified]).unwrap();
    let issuer =
        IssuerAuthority::new(&seed, root.certify_issuer(7, &key, levels, always).unwrap()).unwrap();
    let status = |serial| issuer.certify_status(serial, T0, T0 + 3600).unwrap();
    let bundle = prekeys(1).bundle();
    let response = Response::Bundle {
        bundle: Box::new(bundle),
        status: Some(status(1)),
    };
    let encoded = Response::encode_result(&Ok(response.clone()));
    assert_eq!(Response::decode_result(&encoded), Ok(Ok(response)));
    // The flag is 0 or 1, and a status is whole.
    let flag_at = encoded.len() - CERT_STATUS_LEN - 1;
    let mut bad = encoded.clone();
    bad[flag_at] = 2;
    assert!(matches!(
        Response::decode_result(&bad),
        Err(ResponseError::Decode(DecodeError::InvalidValue {
            field: "status flag",
            value: 2
        }))
    ));
    assert!(Response::decode_result(&encoded[..encoded.len() - 1]).is_err());

    let mailbox = |statuses: Vec<CertificateStatus>| Response::Mailbox {
        deliveries: vec![],
        more: false,
        prekeys_low: false,
        prekeys_drained: hotline::relay::PreKeyDrain::default(),
        statuses,
    };
    let two = mailbox(vec![status(1), status(2)]);
    let encoded = Response::encode_result(&Ok(two.clone()));
    assert_eq!(Response::decode_result(&encoded), Ok(Ok(two)));
    // A count above the batch size is refused before reading, whatever
    // follows; so is a count the bytes left cannot hold.
    let empty = Response::encode_result(&Ok(mailbox(vec![])));
    let count_at = empty.len() - 2;
    let mut huge = empty.clone();
    huge[count_at..].copy_from_slice(&u16::MAX.to_be_bytes());
    assert!(matches!(
        Response::decode_result(&huge),
        Err(ResponseError::Decode(DecodeError::InvalidLength {
            field: "status count",
            ..
        }))
    ));
    let mut short = encoded.clone();
    short.truncate(encoded.len() - 1);
    assert!(matches!(
        Response::decode_result(&short),
        Err(ResponseError::Decode(DecodeError::InvalidLength {
            field: "status count",
            len: 2
        }))
    ));
}
