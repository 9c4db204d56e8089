//! The one source of "now". Production reads the system clock; tests pin and move it so that
//! expiry, tokens, throttles and retries are tested without sleeping.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use parking_lot::Mutex;
use std::sync::Arc;

#[derive(Clone, Default)]
pub struct Clock {
    fixed: Option<Arc<Mutex<DateTime<Utc>>>>,
}

impl Clock {
    pub fn system() -> Self {
        Clock { fixed: None }
    }

    /// A clock that stands still at `at` until moved with `set` or `advance`.
    pub fn fixed(at: DateTime<Utc>) -> Self {
        Clock {
            fixed: Some(Arc::new(Mutex::new(at))),
        }
    }

    /// Now, to the second: every time the API stores or answers is whole seconds.
    pub fn now(&self) -> DateTime<Utc> {
        match &self.fixed {
            Some(t) => *t.lock(),
            None => Utc::now().trunc_subsecs(0),
        }
    }

    pub fn set(&self, at: DateTime<Utc>) {
        if let Some(t) = &self.fixed {
            *t.lock() = at;
        }
    }

    pub fn advance(&self, by: Duration) {
        if let Some(t) = &self.fixed {
            let mut g = t.lock();
            *g += by;
        }
    }
}
