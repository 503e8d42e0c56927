//! The content-hash cache: keys and manifests, the on-disk store, locks, run records, and the
//! maintenance commands (`ls`, `gc`, `verify`), and a remote HTTP cache behind the local one.

pub mod http;
pub mod key;
pub mod lock;
pub mod maintain;
pub mod remote;
pub mod runs;
pub mod store;

pub use key::{InputDigest, KeyInputs, Manifest, OutputEntry};
pub use runs::runs_diff;
pub use store::{Cache, CacheError, Lookup, Staging, Verify};
