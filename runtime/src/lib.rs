//! Ward decision-module runtime.
