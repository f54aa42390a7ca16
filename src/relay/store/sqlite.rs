//! A durable [`RelayStore`] on SQLite (WAL). Written in the next step.
