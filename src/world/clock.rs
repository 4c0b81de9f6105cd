//! The sandbox clock: the only source of "now" for business logic.
//!
//! A clock either follows real time shifted by an offset, or is frozen at an instant. Either way
//! it can be advanced or set through the control API, which is how tests move time forward
//! instead of sleeping.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// How a clock was configured by its scenario; kept so that a reset can restore it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ClockSpec {
    /// The instant the clock shows when the scenario is (re)loaded; `None` means "real now".
    pub start: Option<Timestamp>,
    /// Whether the clock stands still until advanced.
    pub frozen: bool,
}

/// A sandbox clock. Cheap to copy; each tenant owns one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    mode: Mode,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Real time plus `offset`.
    Running { offset: SignedDuration },
    /// Always `at`.
    Frozen { at: Timestamp },
}

impl Clock {
    /// Starts a clock as the scenario asks, reading the real clock once if needed.
    pub fn from_spec(spec: ClockSpec) -> Clock {
        Clock::starting_at(spec.start.unwrap_or_else(Timestamp::now), spec.frozen)
    }

    /// A clock that shows `at` now, frozen or running from there.
    pub fn starting_at(at: Timestamp, frozen: bool) -> Clock {
        let mode = if frozen {
            Mode::Frozen { at }
        } else {
            Mode::Running {
                offset: at.duration_since(Timestamp::now()),
            }
        };
        Clock { mode }
    }

    /// The current sandbox instant.
    pub fn now(&self) -> Timestamp {
        match self.mode {
            Mode::Frozen { at } => at,
            Mode::Running { offset } => Timestamp::now()
                .saturating_add(offset)
                .unwrap_or(Timestamp::MAX),
        }
    }

    /// Whether the clock stands still between advances.
    pub fn is_frozen(&self) -> bool {
        matches!(self.mode, Mode::Frozen { .. })
    }

    /// Moves the clock by `by` (which may be negative), keeping its mode.
    pub fn advance(&mut self, by: SignedDuration) {
        self.mode = match self.mode {
            Mode::Frozen { at } => Mode::Frozen {
                at: at.saturating_add(by).unwrap_or(Timestamp::MAX),
            },
            Mode::Running { offset } => Mode::Running {
                offset: offset.saturating_add(by),
            },
        };
    }

    /// Puts the clock at `at`, frozen or running from there.
    pub fn set(&mut self, at: Timestamp, frozen: bool) {
        *self = Clock::starting_at(at, frozen);
    }
}

/// A clock as a snapshot keeps it: its offset from real time, or the instant it stands at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum ClockState {
    /// Real time plus `offset` (so a restored running clock keeps running, as far ahead).
    Running {
        #[schemars(with = "String")]
        offset: SignedDuration,
    },
    /// Always `at`.
    Frozen { at: Timestamp },
}

impl Clock {
    /// What a snapshot keeps of the clock.
    pub fn state(&self) -> ClockState {
        match self.mode {
            Mode::Running { offset } => ClockState::Running { offset },
            Mode::Frozen { at } => ClockState::Frozen { at },
        }
    }

    /// The clock a snapshot kept.
    pub fn from_state(state: ClockState) -> Clock {
        let mode = match state {
            ClockState::Running { offset } => Mode::Running { offset },
            ClockState::Frozen { at } => Mode::Frozen { at },
        };
        Clock { mode }
    }
}

impl Serialize for Clock {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Clock", 2)?;
        s.serialize_field("now", &self.now())?;
        s.serialize_field("frozen", &self.is_frozen())?;
        s.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn frozen_clock_stands_still_and_advances_exactly() {
        let mut clock = Clock::starting_at(at("2026-01-01T00:00:00Z"), true);
        assert_eq!(clock.now(), at("2026-01-01T00:00:00Z"));
        clock.advance(SignedDuration::from_secs(90));
        assert_eq!(clock.now(), at("2026-01-01T00:01:30Z"));
        clock.advance(SignedDuration::from_secs(-30));
        assert_eq!(clock.now(), at("2026-01-01T00:01:00Z"));
    }

    #[test]
    fn running_clock_starts_near_its_start_and_keeps_offset_when_advanced() {
        let mut clock = Clock::starting_at(at("2030-06-01T12:00:00Z"), false);
        let shown = clock.now();
        assert!(shown.duration_since(at("2030-06-01T12:00:00Z")) < SignedDuration::from_secs(5));
        clock.advance(SignedDuration::from_hours(1));
        assert!(clock.now().duration_since(shown) >= SignedDuration::from_hours(1));
        assert!(!clock.is_frozen());
    }

    #[test]
    fn set_switches_mode() {
        let mut clock = Clock::starting_at(at("2026-01-01T00:00:00Z"), false);
        clock.set(at("2027-02-03T04:05:06Z"), true);
        assert!(clock.is_frozen());
        assert_eq!(clock.now(), at("2027-02-03T04:05:06Z"));
    }
}
