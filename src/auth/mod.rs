//! Authentication: cached credentials shared by concurrent calls, and provider sign-in flows.

pub mod credential;
pub mod jwe;
#[cfg(target_arch = "wasm32")]
pub mod webcrypto;
