//! The precompiled-artifact format: wasmtime's serialized module wrapped
//! with the manifest, a fingerprint of the engine that made it and a
//! checksum.
//!
//! ```text
//! magic          8 bytes  "\0wardmod"
//! format         u32      2
//! fingerprint    32 bytes BLAKE3 of the runtime version and the engine's
//!                         compatibility hash (wasmtime version, target, settings)
//! manifest len   u32      then the manifest JSON
//! code len       u32      then wasmtime's serialized module
//! checksum       32 bytes BLAKE3 of everything before it
//! ```
//! Integers are little-endian. BLAKE3 rather than SHA-256 because the
//! checksum is on the load path of every gateway start and reload: it is
//! several times faster over a large policy's megabytes of code.

use std::hash::{Hash, Hasher};

use wasmtime::Engine;

use crate::LoadError;

const MAGIC: &[u8; 8] = b"\0wardmod";
const FORMAT: u32 = 2;
const DIGEST: usize = 32;

/// Feeds a `Hash` into BLAKE3.
struct DigestHasher(blake3::Hasher);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// Identifies the runtime and engine configuration that can load an artifact.
fn fingerprint(engine: &Engine) -> [u8; DIGEST] {
    let mut hasher = DigestHasher(blake3::Hasher::new());
    hasher.write(concat!(env!("CARGO_PKG_NAME"), " ", env!("CARGO_PKG_VERSION")).as_bytes());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hasher.0.finalize().into()
}

/// The checksum of an artifact's body.
pub(crate) fn checksum(body: &[u8]) -> [u8; DIGEST] {
    blake3::hash(body).into()
}

fn push_counted(out: &mut Vec<u8>, bytes: &[u8]) -> Result<(), LoadError> {
    let len = u32::try_from(bytes.len()).map_err(|_| LoadError::Precompile("the module is too large".to_owned()))?;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

/// Wraps a serialized module and its manifest.
pub(crate) fn wrap(engine: &Engine, manifest: &[u8], code: &[u8]) -> Result<Vec<u8>, LoadError> {
    let mut out = Vec::with_capacity(MAGIC.len() + 4 + DIGEST + 8 + manifest.len() + code.len() + DIGEST);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT.to_le_bytes());
    out.extend_from_slice(&fingerprint(engine));
    push_counted(&mut out, manifest)?;
    push_counted(&mut out, code)?;
    let checksum = checksum(&out);
    out.extend_from_slice(&checksum);
    Ok(out)
}

/// A cursor over the artifact.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], LoadError> {
        if n > self.bytes.len() {
            return Err(LoadError::InvalidArtifact("it is truncated".to_owned()));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32, LoadError> {
        let bytes = self.take(4)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn counted(&mut self) -> Result<&'a [u8], LoadError> {
        let len = self.u32()? as usize;
        self.take(len)
    }
}

/// Checks an artifact and returns its manifest JSON and serialized module.
pub(crate) fn unwrap<'a>(engine: &Engine, artifact: &'a [u8]) -> Result<(&'a [u8], &'a [u8]), LoadError> {
    if artifact.get(..MAGIC.len()) != Some(&MAGIC[..]) {
        return Err(LoadError::InvalidArtifact(
            "it does not start with the precompiled decision module header".to_owned(),
        ));
    }
    let Some(body_len) = artifact.len().checked_sub(DIGEST) else {
        return Err(LoadError::InvalidArtifact("it is truncated".to_owned()));
    };
    let (body, checksum_bytes) = artifact.split_at(body_len);
    let mut reader = Reader { bytes: body };
    reader.take(MAGIC.len())?;
    let format = reader.u32()?;
    if format != FORMAT {
        return Err(LoadError::InvalidArtifact(format!(
            "it uses artifact format {format}; this runtime reads format {FORMAT}"
        )));
    }
    if checksum(body).as_slice() != checksum_bytes {
        return Err(LoadError::InvalidArtifact("it is damaged (checksum mismatch)".to_owned()));
    }
    if reader.take(DIGEST)? != fingerprint(engine).as_slice() {
        return Err(LoadError::InvalidArtifact(format!(
            "it was precompiled by another runtime version or engine configuration than this one ({} {}); precompile it again",
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION")
        )));
    }
    let manifest = reader.counted()?;
    let code = reader.counted()?;
    if !reader.bytes.is_empty() {
        return Err(LoadError::InvalidArtifact("it has trailing bytes".to_owned()));
    }
    Ok((manifest, code))
}

/// Where the manifest JSON of an artifact is, read without any check: for
/// reading it while [`unwrap`] checks the artifact. `None` when the layout
/// does not hold together (then [`unwrap`] says why).
pub(crate) fn locate(artifact: &[u8]) -> Option<&[u8]> {
    let start = MAGIC.len() + 4 + DIGEST;
    let len = artifact.get(start..start + 4)?;
    let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
    artifact.get(start + 4..(start + 4).checked_add(len)?)
}

/// Loads wasmtime's serialized module from a checked artifact.
#[allow(unsafe_code)]
pub(crate) fn deserialize(engine: &Engine, code: &[u8]) -> Result<wasmtime::Module, LoadError> {
    // SAFETY: `Module::deserialize` requires bytes produced by
    // `Module::serialize`/`Engine::precompile_module` of a compatible engine,
    // because they hold native code that is not validated again. `unwrap`
    // has checked, before this call, that the artifact is intact (BLAKE3
    // over all of it) and was made by this runtime version with an engine of
    // this configuration (fingerprint; wasmtime checks its own header and
    // settings again). What no check can establish, that the artifact was not
    // forged, is the documented precondition of `Runtime::load_precompiled`:
    // artifacts come from a trusted build, like the host's own code.
    unsafe { wasmtime::Module::deserialize(engine, code) }
        .map_err(|e| LoadError::InvalidArtifact(format!("wasmtime refused it: {e:#}")))
}
