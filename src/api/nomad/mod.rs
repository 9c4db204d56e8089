//! Nomad's dialect: `/api/...`, camelCase answers, problem+json errors.

pub mod account;
