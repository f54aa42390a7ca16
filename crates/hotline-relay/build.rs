//! Compiles the PostgreSQL tests in only when `HOTLINE_TEST_POSTGRES` names
//! a database to run them on (tests/postgres.rs says so when it does not).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(hotline_postgres_tests)");
    println!("cargo::rerun-if-env-changed=HOTLINE_TEST_POSTGRES");
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var_os("HOTLINE_TEST_POSTGRES").is_some_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=hotline_postgres_tests");
    }
}
