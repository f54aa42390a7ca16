//! A short bounded load against a relay in this process: every accepted
//! message is delivered once, decrypted and acknowledged.

use std::time::Duration;

use hotline_load::{Config, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_load_loses_nothing_and_duplicates_nothing() {
    let config = Config {
        customers: 5,
        businesses: 2,
        duration: Some(Duration::from_secs(20)),
        messages: Some(200),
        ..Config::default()
    };
    let report = tokio::time::timeout(Duration::from_secs(30), run(&config))
        .await
        .expect("the run ends in time")
        .expect("the run");
    assert_eq!(report.sent, 200, "{report}");
    assert_eq!(report.delivered, 200, "{report}");
    assert_eq!(report.acknowledged, 200, "{report}");
    assert_eq!(report.lost(), 0);
    assert_eq!(report.duplicates, 0);
    assert_eq!(report.undecryptable, 0);
    assert!(report.refused.is_empty(), "{report}");
    assert!(report.is_clean());
    assert_eq!(report.latency.len(), 200);
    let text = report.to_string();
    assert!(
        text.contains("throughput:") && text.contains("p99"),
        "{text}"
    );
    assert!(report.cpu.messages_per_sec() > 0.0);
}

#[tokio::test]
async fn an_unbounded_run_is_refused() {
    let config = Config {
        duration: None,
        messages: None,
        ..Config::default()
    };
    assert!(run(&config).await.is_err());
}
