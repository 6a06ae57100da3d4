//! Room for deep recursion. Expressions are trees as deep as their source
//! nests them — a chain of 5,000 `||` is 5,000 levels — and the phases that
//! walk them recurse; so does checking test data through a chain of
//! fixtures, each built on the one before. Each recursive step goes through
//! [`grow`], which moves to a fresh stack segment when little room is left,
//! so that depth is bounded by memory rather than by the calling thread's
//! stack.

/// Room a recursive step may use before the next check.
const RED_ZONE: usize = 256 * 1024;
/// The size of each new segment.
const SEGMENT: usize = 4 * 1024 * 1024;

/// Runs `f`, on a new stack segment if this one is nearly full.
#[inline]
pub(crate) fn grow<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(RED_ZONE, SEGMENT, f)
}
