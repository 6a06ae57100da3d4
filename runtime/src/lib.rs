//! Loads and evaluates Ward decision modules.
//!
//! A decision module is a self-contained WebAssembly module compiled from a
//! Ward policy. This crate is the reference host of the decision-module ABI
//! (`spec/abi.md`): it refuses modules that do not follow it, validates each
//! request against the module's manifest, encodes it into the module's
//! memory, calls the module under a fuel budget and a memory cap, and turns
//! the answer into a [`Decision`]. Every failure is a deny.
//!
//! ```no_run
//! use ward_runtime::Runtime;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let runtime = Runtime::new()?;
//! let module = runtime.load(&std::fs::read("policy.wasm")?)?;
//! let decision = module.decide_json(br#"{
//!     "principal": {"type": "User", "id": "alice"},
//!     "action": "infer",
//!     "resource": {"type": "Model", "id": "gpt"}
//! }"#);
//! if decision.is_allow() {
//!     // discharge decision.obligations, or deny
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Threads: [`DecisionModule`] is `Send + Sync`; its `decide*` methods take
//! `&self` and borrow an instance from a pool. A thread that decides a lot
//! can keep its own [`Evaluator`] and skip the pool.
//!
//! Hot paths: [`DecisionModule::encode`] validates and encodes a request
//! once; [`Evaluator::evaluate`] and [`Evaluator::evaluate_encoded`] return a
//! [`Verdict`] (outcome and determining rules) without building a
//! [`Decision`]; [`Evaluator::request`] builds a request through handles
//! resolved once ([`DecisionModule::action`], [`DecisionModule::entity_type`],
//! [`DecisionModule::principal_attribute`] and the like), so that names are
//! checked at start-up rather than looked up per request.
//!
//! Limits: every decision runs under a fuel budget and a memory cap
//! ([`Limits`]); running out is a deny, never a hang or an allow.

#![deny(missing_docs)]

mod answer;
mod binary;
mod builder;
mod encode;
mod error;
mod json;
mod module;
mod precompiled;
mod scan;
mod schema;

pub use answer::Verdict;
pub use binary::append_custom_section;
pub use builder::{ActionHandle, AttributeHandle, EntityTypeHandle, RequestBuilder, UnknownName};
pub use error::LoadError;
pub use module::{DecisionModule, EncodedRequest, Evaluator, Limits, Runtime};
pub use ward_types::manifest::{ABI_VERSION, MANIFEST_SECTION, Manifest};
pub use ward_types::{Decision, DecisionError, ErrorKind, Obligation, Outcome, Request};

/// The decision-module ABI version this runtime implements.
pub fn ward_abi_version() -> u32 {
    ABI_VERSION
}
