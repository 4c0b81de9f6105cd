//! Rate meters: token buckets that run on the sandbox clock.
//!
//! Running on the sandbox clock (not the wall clock) means a frozen-clock test can exhaust a
//! limit and then advance time to recover, with no sleeping and no flakiness.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A limit: `per_second` requests on average, with bursts of up to `burst`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RateLimit {
    pub per_second: u32,
    pub burst: u32,
}

/// One bucket. Tokens are counted in thousandths so refills stay exact integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Meter {
    milli_tokens: i64,
    updated_ms: i64,
}

const ONE_TOKEN: i64 = 1000;

impl Meter {
    /// A full bucket at `now`.
    pub fn full(limit: RateLimit, now: Timestamp) -> Meter {
        Meter {
            milli_tokens: i64::from(limit.burst) * ONE_TOKEN,
            updated_ms: now.as_millisecond(),
        }
    }

    /// Takes one token if there is one; otherwise says how many milliseconds until there will be.
    pub fn try_take(&mut self, limit: RateLimit, now: Timestamp) -> Result<(), u64> {
        let now_ms = now.as_millisecond();
        let capacity = i64::from(limit.burst.max(1)) * ONE_TOKEN;
        // A clock moved backwards refills nothing but must not leave the bucket stuck.
        let elapsed_ms = (now_ms - self.updated_ms).max(0);
        let refill = elapsed_ms.saturating_mul(i64::from(limit.per_second));
        self.milli_tokens = self.milli_tokens.saturating_add(refill).min(capacity);
        self.updated_ms = now_ms;
        if self.milli_tokens >= ONE_TOKEN {
            self.milli_tokens -= ONE_TOKEN;
            return Ok(());
        }
        let missing = ONE_TOKEN - self.milli_tokens;
        let per_ms = i64::from(limit.per_second.max(1));
        Err(((missing + per_ms - 1) / per_ms) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::SignedDuration;

    #[test]
    fn allows_a_burst_then_refuses_until_time_passes() {
        let limit = RateLimit {
            per_second: 2,
            burst: 3,
        };
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut meter = Meter::full(limit, t0);
        for _ in 0..3 {
            assert_eq!(meter.try_take(limit, t0), Ok(()));
        }
        assert_eq!(meter.try_take(limit, t0), Err(500));
        let later = t0.checked_add(SignedDuration::from_millis(499)).unwrap();
        assert!(meter.try_take(limit, later).is_err());
        let later = t0.checked_add(SignedDuration::from_millis(500)).unwrap();
        assert_eq!(meter.try_take(limit, later), Ok(()));
    }

    #[test]
    fn refill_never_exceeds_the_burst() {
        let limit = RateLimit {
            per_second: 10,
            burst: 2,
        };
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut meter = Meter::full(limit, t0);
        let much_later = t0.checked_add(SignedDuration::from_hours(5)).unwrap();
        assert!(meter.try_take(limit, much_later).is_ok());
        assert!(meter.try_take(limit, much_later).is_ok());
        assert!(meter.try_take(limit, much_later).is_err());
    }
}
