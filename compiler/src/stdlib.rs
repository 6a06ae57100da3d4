//! The standard library, embedded in the compiler so that every policy can
//! import it without a search path. Its sources live in the repository's
//! `stdlib/` folder.

/// How the names of embedded standard-library files start in diagnostics.
pub const PREFIX: &str = "<stdlib>/";

/// Standard-library files as `(name, text)`. A file is loaded only when a
/// program imports its package.
pub const FILES: &[(&str, &str)] = &[
    ("access.ward", include_str!("../../stdlib/access.ward")),
    ("agents.ward", include_str!("../../stdlib/agents.ward")),
    ("data.ward", include_str!("../../stdlib/data.ward")),
    ("identity.ward", include_str!("../../stdlib/identity.ward")),
    ("model.ward", include_str!("../../stdlib/model.ward")),
    ("network.ward", include_str!("../../stdlib/network.ward")),
    ("obligations.ward", include_str!("../../stdlib/obligations.ward")),
    ("risk.ward", include_str!("../../stdlib/risk.ward")),
    ("training.ward", include_str!("../../stdlib/training.ward")),
];
