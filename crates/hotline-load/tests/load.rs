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

#[tokio::test]
async fn configurations_that_cannot_run_are_refused_before_any_work() {
    for config in [
        Config {
            customers: 0,
            ..Config::default()
        },
        Config {
            businesses: 0,
            ..Config::default()
        },
        Config {
            size: 15,
            ..Config::default()
        },
    ] {
        assert!(matches!(
            run(&config).await,
            Err(hotline_load::LoadError::Config(_))
        ));
    }
}

#[test]
fn the_cpu_bound_is_measured() {
    let cpu = hotline_load::cpu_bound(64, 5).expect("cpu bound");
    assert!(cpu.per_message() > std::time::Duration::ZERO);
    assert!(cpu.cores >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_load_on_a_durable_store_loses_nothing() {
    let path = std::env::temp_dir().join(format!("hotline-load-test-{}.db", std::process::id()));
    let config = Config {
        db: hotline_relay::Database::Sqlite(path.clone()),
        customers: 3,
        businesses: 1,
        duration: Some(Duration::from_secs(20)),
        messages: Some(30),
        ..Config::default()
    };
    let report = tokio::time::timeout(Duration::from_secs(30), run(&config))
        .await
        .expect("the run ends in time")
        .expect("the run");
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
    assert_eq!(
        (report.sent, report.delivered, report.acknowledged),
        (30, 30, 30),
        "{report}"
    );
    assert!(report.is_clean(), "{report}");
}
