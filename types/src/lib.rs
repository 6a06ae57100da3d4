//! Types shared by the Ward compiler and the Ward runtime: the request and
//! decision formats, and the text formats of Ward's scalar values.
//!
//! Neither the compiler nor the runtime depends on the other; both depend on
//! this crate, so a request means the same thing to both and a decision has
//! one shape, whichever engine made it.

#![deny(missing_docs)]

pub mod decision;
pub mod manifest;
pub mod request;
pub mod values;

pub use decision::{Decision, DecisionError, ErrorKind, Obligation, Outcome};
pub use request::{EntityData, EntityRef, Request};
