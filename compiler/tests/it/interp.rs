//! Integration tests: interp.
