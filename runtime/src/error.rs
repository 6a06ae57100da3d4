//! Why a decision module was refused.

use std::fmt;

/// Why a module (or a precompiled artifact) could not be loaded. A host must
/// not serve decisions from a module it could not load.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoadError {
    /// The runtime's engine could not be created.
    Engine(String),
    /// The bytes are not a WebAssembly module, or wasmtime rejected it.
    InvalidWasm(String),
    /// The module imports something; decision modules import nothing.
    HasImports {
        /// The first import, as `module::name`.
        import: String,
    },
    /// A required export is absent.
    MissingExport {
        /// The export's name.
        name: &'static str,
    },
    /// An export has the wrong kind or signature.
    WrongExport {
        /// The export's name.
        name: &'static str,
        /// What it should be.
        expected: &'static str,
        /// What it is.
        found: String,
    },
    /// The module has no `ward.manifest` custom section.
    MissingManifest,
    /// The module has more than one `ward.manifest` custom section.
    DuplicateManifest,
    /// The manifest is not JSON of the manifest's shape.
    InvalidManifest(String),
    /// The manifest contradicts itself.
    InconsistentManifest(String),
    /// The module's ABI version is not one this runtime supports.
    UnsupportedAbiVersion {
        /// The version the module declares.
        module: i64,
        /// The version this runtime implements.
        supported: u32,
    },
    /// The manifest and the `ward_abi_version` export disagree.
    AbiVersionMismatch {
        /// `abi_version` in the manifest.
        manifest: u32,
        /// What `ward_abi_version()` returned.
        export: i32,
    },
    /// The module could not be instantiated or its version queried (for
    /// example, its initial memory exceeds the memory cap).
    Instantiation(String),
    /// A precompiled artifact is not one, is damaged, or was made for another
    /// runtime version or engine configuration.
    InvalidArtifact(String),
    /// Precompiling failed.
    Precompile(String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Engine(e) => write!(f, "cannot create the WebAssembly engine: {e}"),
            LoadError::InvalidWasm(e) => write!(f, "not a valid WebAssembly module: {e}"),
            LoadError::HasImports { import } => {
                write!(f, "a decision module must not import anything, but this one imports `{import}`")
            }
            LoadError::MissingExport { name } => write!(f, "the module does not export `{name}`"),
            LoadError::WrongExport { name, expected, found } => {
                write!(f, "the export `{name}` must be {expected}, but it is {found}")
            }
            LoadError::MissingManifest => {
                write!(f, "the module has no `{}` custom section", ward_types::manifest::MANIFEST_SECTION)
            }
            LoadError::DuplicateManifest => {
                write!(f, "the module has more than one `{}` custom section", ward_types::manifest::MANIFEST_SECTION)
            }
            LoadError::InvalidManifest(e) => write!(f, "the module's manifest is invalid: {e}"),
            LoadError::InconsistentManifest(e) => {
                write!(f, "the module's manifest is inconsistent: {e}")
            }
            LoadError::UnsupportedAbiVersion { module, supported } => {
                let advice = if *module < i64::from(*supported) {
                    "rebuild the policy with this release's `ward build`"
                } else {
                    "it was built by a newer release of Ward than this runtime"
                };
                write!(
                    f,
                    "the module uses decision-module ABI version {module}, but this runtime supports version \
                     {supported}: {advice}"
                )
            }
            LoadError::AbiVersionMismatch { manifest, export } => {
                write!(f, "the manifest declares ABI version {manifest} but `ward_abi_version` returns {export}")
            }
            LoadError::Instantiation(e) => write!(f, "cannot instantiate the module: {e}"),
            LoadError::InvalidArtifact(e) => {
                write!(f, "not a usable precompiled decision module: {e}")
            }
            LoadError::Precompile(e) => write!(f, "cannot precompile the module: {e}"),
        }
    }
}

impl std::error::Error for LoadError {}
