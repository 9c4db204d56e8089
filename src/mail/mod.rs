//! Mail to a share's users and recipients: composed from the share as it is when sent,
//! delivered by the one worker from the outbox.

pub mod compose;
pub mod worker;
