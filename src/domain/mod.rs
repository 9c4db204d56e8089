//! The domain ring: decisions. Adapters call it; it calls storage.

pub mod assets;
pub mod auth;
pub mod throttle;
pub mod types;
