//! Authentication: cached credentials shared by concurrent calls, and provider sign-in flows.

pub mod credential;
pub mod jwe;
#[cfg(not(target_arch = "wasm32"))]
mod native_curve;
#[cfg(target_arch = "wasm32")]
pub mod webcrypto;
