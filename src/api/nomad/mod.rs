//! Nomad's dialect: `/api/...`, camelCase answers, problem+json errors.

pub mod account;
pub mod assets;
pub mod share_body;
mod share_diff;
pub mod share_model;
pub mod shares;
pub mod upload;
