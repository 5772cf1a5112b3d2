//! Authentication: cached credentials shared by concurrent calls, and provider sign-in flows.

pub mod credential;
pub mod jwe;
