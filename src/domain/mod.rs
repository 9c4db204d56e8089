//! The domain ring: decisions. Adapters call it; it calls storage.

pub mod assets;
pub mod auth;
pub mod counters;
pub mod share_cache;
pub mod shares;
pub mod throttle;
pub mod types;
pub mod unlock;
pub mod uploads;
pub mod window;
