//! Conformance tests: the reference interpreter and the compiled module
//! must decide every request alike.

#![allow(clippy::expect_used, clippy::panic, clippy::unwrap_used, reason = "tests")]

mod deep;
mod differential;
mod fail_closed;
mod known_bugs;
mod memory;
mod node;
mod smoke;
mod templates;
