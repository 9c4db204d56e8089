//! The domain ring: decisions. Adapters call its services; it calls storage. Nothing here knows
//! HTTP: no actix, no adapter, no `AppState`.

pub mod accounts;
pub mod admin;
pub mod assets;
pub mod auth;
pub mod counters;
pub mod library;
pub mod links;
pub mod paging;
pub mod requests;
pub mod shares;
pub mod throttle;
pub mod tus;
pub mod tus_ship;
pub mod tus_types;
pub mod types;
pub mod unlock;
pub mod uploads;
pub mod window;
pub mod zones;
