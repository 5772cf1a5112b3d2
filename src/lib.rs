//! paytokens: one typed API over the stored payment tokens a merchant keeps at several providers.
//! The core is sans-IO and natively testable; `js` is the thin wasm-bindgen shell.

pub mod auth;
pub mod card;
pub mod client;
pub mod config;
pub mod country;
pub mod error;
pub mod http;
pub mod json_path;
pub mod model;
pub mod model_tape;
pub mod providers;
pub mod retry;
pub mod secret;
pub mod status;
pub mod surrogates;
pub mod taxonomy;
pub mod time_fmt;
pub mod transport;

#[cfg(target_arch = "wasm32")]
pub mod js;

#[cfg(test)]
mod testing;

#[cfg(test)]
mod client_tests;

