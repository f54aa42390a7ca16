//! The bound API from Rust, as the bindings call it, against a relay
//! server on loopback and a business on the SDK that the relay vouches for
//! by allow list (so its sessions are unverified: the other branch of the
//! badge from the Python tests' certified business).

use std::time::Duration;

use hotline::IdentityKeyPair;
use hotline::relay::{
    AllowList, MemoryStore, MessageClass, RateLimits, Relay, RelayStore, SystemClock,
};
use hotline::store::StorageKey;
use hotline_client::{Client, Config, Event, Role};
use hotline_ffi::{
    BadgeState, ClientConfig, ClientEvent, DeliveryState, HotlineClient, HotlineError,
    generate_storage_key, open_client,
};
use hotline_relay::{ServerLimits, serve};

const LIMIT: Duration = Duration::from_secs(60);

async fn wait_for<T>(client: &HotlineClient, mut pick: impl FnMut(ClientEvent) -> Option<T>) -> T {
    for _ in 0..80 {
        if let Some(e) = client.next_event(250).await.expect("events")
            && let Some(t) = pick(e)
        {
            return t;
        }
    }
    panic!("no such event within 20 s");
}

fn config(url: &str) -> ClientConfig {
    ClientConfig {
        relay_url: url.to_owned(),
        database_path: None,
        storage_key: generate_storage_key(),
        trust_roots: vec![],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_on_the_bound_api_chats_with_an_unverified_business() {
    tokio::time::timeout(LIMIT, async {
        let identity = IdentityKeyPair::generate(&mut rand::rng());
        let mut allow = AllowList::new();
        allow.allow(&identity.public(), "Allowed Shop");
        let store: Box<dyn RelayStore> = Box::new(MemoryStore::new());
        let relay = Relay::new(store, SystemClock, allow).with_rate_limits(RateLimits::NONE);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, relay, ServerLimits::default(), async {
            let _ = stopped.await;
        }));

        let mut bconfig =
            Config::new(&url, StorageKey::generate(&mut rand::rng())).role(Role::Business {
                certificate_chain: None,
            });
        bconfig.identity = Some(identity);
        let (business, mut bevents) = Client::open(bconfig).await.unwrap();
        while !matches!(bevents.next().await, Some(Event::Connected)) {}
        let business_hex = hex::encode(business.account().0);

        // Arguments are checked before anything is opened.
        let mut short = config(&url);
        short.storage_key = vec![0; 31];
        assert!(matches!(
            open_client(short).await,
            Err(HotlineError::InvalidArgument { .. })
        ));
        let mut junk = config(&url);
        junk.trust_roots = vec![b"junk".to_vec()];
        assert!(matches!(
            open_client(junk).await,
            Err(HotlineError::InvalidArgument { .. })
        ));
        let mut ftp = config(&url);
        ftp.relay_url = "ftp://127.0.0.1:1".into();
        assert!(matches!(
            open_client(ftp).await,
            Err(HotlineError::BadUrl { .. })
        ));

        let customer = open_client(config(&url)).await.unwrap();
        let me = customer.account_id();
        assert_eq!(me.len(), 64);
        let badge = customer.badge(business_hex.clone()).await.unwrap();
        assert_eq!(badge.state, BadgeState::NoSession);
        assert_eq!(badge.description, "no session");
        for bad in ["zz", "00", &"0".repeat(66)] {
            assert!(
                matches!(
                    customer.start_session(bad.into()).await,
                    Err(HotlineError::InvalidArgument { .. })
                ),
                "{bad}"
            );
        }
        // Sealing to a peer without a session is the SDK's send error.
        assert!(matches!(
            customer
                .send_text(business_hex.clone(), "hello?".into())
                .await,
            Err(HotlineError::Send { .. })
        ));

        customer
            .consent(business_hex.clone(), true, false)
            .await
            .unwrap();
        let session = customer.start_session(business_hex.clone()).await.unwrap();
        assert_eq!(session.badge.state, BadgeState::Unverified);
        assert!(!session.badge.verified);
        assert_eq!(session.badge.business_name, None);
        assert!(
            session.badge.description.starts_with("unverified"),
            "{}",
            session.badge.description
        );
        let id = customer
            .send_text(business_hex.clone(), "Is the shop open?".into())
            .await
            .unwrap();
        let state = wait_for(&customer, |e| match e {
            ClientEvent::Delivery { id: i, to, state } if i == id => Some((to, state)),
            _ => None,
        })
        .await;
        assert_eq!(state, (business_hex.clone(), DeliveryState::Accepted));

        // The business reads it and answers.
        let m = loop {
            if let Some(Event::Message(m)) = bevents.next().await {
                break m;
            }
        };
        assert_eq!(m.body, b"Is the shop open?");
        assert_eq!(hex::encode(m.from.0), me);
        business
            .send(m.from, MessageClass::Chat, b"Until six.".to_vec())
            .await
            .unwrap();
        let got = wait_for(&customer, |e| match e {
            ClientEvent::Message { message } => Some(message),
            _ => None,
        })
        .await;
        assert_eq!(got.body, b"Until six.");
        assert_eq!(got.sender, business_hex);
        assert_eq!(got.message_id.len(), 32);
        customer.confirm(got.seq).await.unwrap();
        assert_eq!(customer.inbox(0, 10).await.unwrap(), vec![got.clone()]);
        // A chat message is no notification.
        assert!(matches!(
            customer.render_notification(got).await,
            Err(HotlineError::Template { .. })
        ));
        let number = customer.safety_number(business_hex.clone()).await.unwrap();
        assert_eq!(number, business.safety_number(m.from).await.unwrap());
        assert!(customer.status().await.unwrap().connected);

        // Blocked: the relay refuses the business with a typed refusal.
        customer.block(business_hex.clone()).await.unwrap();
        business
            .send(m.from, MessageClass::Chat, b"Still there?".to_vec())
            .await
            .unwrap();
        let refusal = loop {
            match bevents.next().await {
                Some(Event::Delivery {
                    state: hotline_client::DeliveryState::Refused(r),
                    ..
                }) => break r,
                Some(_) => {}
                None => panic!("the business stopped"),
            }
        };
        let bound = hotline_ffi::Refusal::from(refusal);
        assert_eq!((bound.code, bound.name.as_str()), (17, "Blocked"));
        // A record must be newer than the one in force (whole seconds), or
        // the relay refuses it as stale, with its typed refusal.
        match customer.unblock(business_hex.clone()).await {
            Ok(()) => {}
            Err(HotlineError::Refused { refusal, .. }) => {
                assert_eq!(refusal.name, "StaleRecord");
                tokio::time::sleep(Duration::from_millis(1100)).await;
                customer.unblock(business_hex.clone()).await.unwrap();
            }
            Err(e) => panic!("{e:?}"),
        }

        customer.shutdown().await;
        assert!(matches!(
            customer.status().await,
            Err(HotlineError::Closed { .. })
        ));
        assert!(matches!(
            customer.next_event(10).await,
            Err(HotlineError::Closed { .. })
        ));
        business.shutdown().await;
        let _ = stop.send(());
        let _ = server.await;
    })
    .await
    .expect("the test finished in time");
}
