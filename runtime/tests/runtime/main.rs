//! Tests of the decision-module runtime against hand-written modules.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod builder;
mod common;
mod compiled;
mod decide;
mod encode;
mod json;
mod load;
mod precompiled;
mod properties;
mod threads;
mod validate;
