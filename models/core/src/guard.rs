//! The controller's guardrails: the native twin of `PolicyController.guard`.
//!
//! For parameter `i` with current value `c`, proposed delta `d`, the rail
//! `(min, max, max_step, dead_band, max_change_bps, window)` and, when the window cap is
//! on, the parameter's anchor `a` (its value when its current window began):
//!
//! ```text
//! step  = clamp(d, −max_step, max_step)
//! step  = 0                      if |step| < dead_band          (a noise barrier: RAI)
//! value = c + step
//! value = clamp(value, min(lo, c), max(hi, c))                  (the window cap: Aave's
//!         where lo, hi = a ∓ |a|·max_change_bps / 10⁴           risk stewards)
//! value = clamp(value, min, max)
//! hit   = hit ∨ (value ≠ c + d)
//! ```
//!
//! A window starts at the first application after the previous one ended: when the
//! anchor was never set or `now ≥ since + window`, the anchor becomes `(c, now)` before
//! the cap is computed. The window cap never moves a value that is already outside its
//! band further in; it only stops moves that would leave it. A parameter anchored at 0
//! cannot move while its cap is on (0 % of 0 is 0): leave the cap off for such rails.
//!
//! Rails that share a nonzero `group` move together or not at all: when any member is
//! bound (`value ≠ c + d`), every member of the group keeps its current value `c`
//! (its anchor is kept as computed above). A group thus moves by exactly its proven
//! deltas or stays where it is, never partly, in one decision; rails of group 0 are
//! guarded alone, as above.
//!
//! The contract computes in `int256`, so nothing overflows; here the inputs are
//! `i64` and the intermediates `i128`, which is exact for every `i64` input.

use serde::{Deserialize, Serialize};

use crate::ModelError;

/// Basis points in a whole: `max_change_bps` is out of this.
pub const BPS: i64 = 10_000;

/// One governed parameter and its rail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guardrail {
    /// The parameter's name, used in errors and reports.
    pub name: String,
    /// The value the controller is deployed with, inside `[min, max]`.
    pub initial: i64,
    /// The smallest value the guarded parameter may take, in the parameter's unit.
    pub min: i64,
    /// The largest value the guarded parameter may take (at least `min`).
    pub max: i64,
    /// The largest change per decision in either direction (`>= 0`); a larger proven
    /// delta is clamped to it, not rejected.
    pub max_step: i64,
    /// A guarded step smaller than this in magnitude is dropped (0: off).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dead_band: i64,
    /// Within one window the value stays within this many basis points of its value at
    /// the window's start (0: off).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub max_change_bps: i64,
    /// The window of `max_change_bps`, in seconds (> 0 exactly when the cap is on).
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub window: u64,
    /// Rails sharing a nonzero group move together by their proven deltas, or not at all
    /// (0: this rail is guarded alone).
    #[serde(default, skip_serializing_if = "is_zero_u8")]
    pub group: u8,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

fn is_zero_u64(v: &u64) -> bool {
    *v == 0
}

fn is_zero_u8(v: &u8) -> bool {
    *v == 0
}

/// Where a parameter's current cap window began: its value then, and when (unix
/// seconds; 0: no window yet).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    /// The parameter's value when the window began.
    pub value: i64,
    /// When the window began, in unix seconds; 0 before the first capped decision.
    pub since: u64,
}

/// The outcome of guarding one adjustment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Guarded {
    /// The values the controller applies.
    pub values: Vec<i64>,
    /// Per parameter: the guarded value differs from `current + delta`.
    pub hits: Vec<bool>,
    /// Any parameter hit its rail: what the contract's `guard` returns.
    pub hit: bool,
    /// The anchors after this adjustment, which the controller stores when it applies it.
    pub anchors: Vec<Anchor>,
}

impl Guardrail {
    /// A rail with only bounds and a maximum step.
    pub fn new(name: impl Into<String>, initial: i64, min: i64, max: i64, max_step: i64) -> Self {
        Self { name: name.into(), initial, min, max, max_step, dead_band: 0, max_change_bps: 0, window: 0, group: 0 }
    }

    /// The contract's `checkRail` for rail `index`: `min ≤ initial ≤ max`, `max_step ≥ 0`,
    /// `dead_band ≥ 0`, `0 ≤ max_change_bps ≤ 10⁴`, and a window exactly when the cap is on.
    pub fn check(&self, index: usize) -> Result<(), ModelError> {
        let field = || format!("[{index}] ({})", self.name);
        if self.min > self.max || self.max_step < 0 {
            return Err(ModelError::guardrail(
                field(),
                format!("needs min <= max and max_step >= 0, got min {} max {} max_step {}", self.min, self.max, self.max_step),
            ));
        }
        if self.initial < self.min || self.initial > self.max {
            return Err(ModelError::guardrail(field(), format!("initial value {} is outside [{}, {}]", self.initial, self.min, self.max)));
        }
        self.check_extras().map_err(|reason| ModelError::guardrail(field(), reason))
    }

    fn check_extras(&self) -> Result<(), String> {
        if self.dead_band < 0 {
            return Err(format!("dead_band must be >= 0, got {}", self.dead_band));
        }
        if !(0..=BPS).contains(&self.max_change_bps) {
            return Err(format!("max_change_bps must be in [0, {BPS}], got {}", self.max_change_bps));
        }
        if (self.max_change_bps == 0) != (self.window == 0) {
            return Err(format!(
                "max_change_bps and window go together (both 0, or both set), got max_change_bps {} window {}",
                self.max_change_bps, self.window
            ));
        }
        Ok(())
    }
}

/// Applies `deltas` to `current` through `rails` with no window history (every cap
/// window starts now): exactly `PolicyController.guard` for rails without a window cap.
pub fn guard(current: &[i64], deltas: &[i64], rails: &[Guardrail]) -> Result<Guarded, ModelError> {
    guard_at(current, deltas, rails, &vec![Anchor::default(); rails.len()], 0)
}

/// Applies `deltas` to `current` through `rails` at time `now`, given each parameter's
/// cap anchor, exactly as `PolicyController.guard` does.
pub fn guard_at(current: &[i64], deltas: &[i64], rails: &[Guardrail], anchors: &[Anchor], now: u64) -> Result<Guarded, ModelError> {
    for (what, got) in [("current parameters", current.len()), ("parameter deltas", deltas.len()), ("cap anchors", anchors.len())] {
        if got != rails.len() {
            return Err(ModelError::WrongCount { what, expected: rails.len(), got });
        }
    }
    let mut out = Guarded {
        values: Vec::with_capacity(rails.len()),
        hits: Vec::with_capacity(rails.len()),
        hit: false,
        anchors: Vec::with_capacity(rails.len()),
    };
    for (i, (((&c, &d), g), &anchor)) in current.iter().zip(deltas).zip(rails).zip(anchors).enumerate() {
        let field = || format!("[{i}] ({})", g.name);
        if g.min > g.max || g.max_step < 0 {
            return Err(ModelError::guardrail(field(), "needs min <= max and max_step >= 0"));
        }
        g.check_extras().map_err(|reason| ModelError::guardrail(field(), reason))?;
        let mut anchor = anchor;
        let (c128, d) = (i128::from(c), i128::from(d));
        let mut step = d.clamp(-i128::from(g.max_step), i128::from(g.max_step));
        if step.abs() < i128::from(g.dead_band) {
            step = 0;
        }
        let mut value = c128 + step;
        if g.max_change_bps != 0 {
            if anchor.since == 0 || now >= anchor.since.saturating_add(g.window) {
                anchor = Anchor { value: c, since: now };
            }
            let a = i128::from(anchor.value);
            let band = a.abs() * i128::from(g.max_change_bps) / i128::from(BPS);
            // Stops moves out of the band; never pushes a value already outside it.
            value = value.clamp((a - band).min(c128), (a + band).max(c128));
        }
        let value = value.clamp(i128::from(g.min), i128::from(g.max));
        let hit = value != c128 + d;
        // `value` lies in [min, max], both i64.
        let value = i64::try_from(value).map_err(|_| ModelError::guardrail(field(), "value left i64"))?;
        out.values.push(value);
        out.hits.push(hit);
        out.hit |= hit;
        out.anchors.push(anchor);
    }
    hold_bound_groups(&mut out, current, deltas, rails);
    Ok(out)
}

/// Every member of a group one of whose members is bound keeps its current value.
fn hold_bound_groups(out: &mut Guarded, current: &[i64], deltas: &[i64], rails: &[Guardrail]) {
    let held: Vec<u8> = rails.iter().zip(&out.hits).filter(|(g, hit)| g.group != 0 && **hit).map(|(g, _)| g.group).collect();
    for (i, g) in rails.iter().enumerate() {
        if held.contains(&g.group) {
            out.values[i] = current[i];
            out.hits[i] = deltas[i] != 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rail(dead_band: i64, max_change_bps: i64, window: u64) -> Guardrail {
        Guardrail { dead_band, max_change_bps, window, ..Guardrail::new("p", 1000, 0, 5000, 100) }
    }

    #[test]
    fn the_dead_band_drops_small_steps_and_counts_them_as_hits() {
        let rails = [rail(10, 0, 0)];
        let small = guard(&[1000], &[9], &rails).expect("guards");
        assert_eq!((small.values, small.hit), (vec![1000], true));
        let at_band = guard(&[1000], &[-10], &rails).expect("guards");
        assert_eq!((at_band.values, at_band.hit), (vec![990], false));
        // The band applies to the clamped step: a huge proposal still moves max_step.
        assert_eq!(guard(&[1000], &[1_000_000], &rails).expect("guards").values, vec![1100]);
    }

    #[test]
    fn the_window_cap_bounds_the_move_from_the_windows_start() {
        // ±5 % of 1000 over a day, steps up to 100.
        let rails = [rail(0, 500, 86_400)];
        let mut anchors = vec![Anchor::default()];
        let mut value = 1000;
        let mut seen = Vec::new();
        for (now, delta) in [(10, 30), (20, 30), (30, 30), (86_410, 30), (86_411, 100)] {
            let g = guard_at(&[value], &[delta], &rails, &anchors, now).expect("guards");
            value = g.values[0];
            anchors = g.anchors;
            seen.push((value, anchors[0]));
        }
        assert_eq!(seen[0], (1030, Anchor { value: 1000, since: 10 }));
        assert_eq!(seen[1], (1050, Anchor { value: 1000, since: 10 }), "capped at +5 % of the anchor");
        assert_eq!(seen[2], (1050, Anchor { value: 1000, since: 10 }));
        // A window (86,400 s) after it began, the anchor moves to the value then.
        assert_eq!(seen[3], (1080, Anchor { value: 1050, since: 86_410 }));
        assert_eq!(seen[4], (1102, Anchor { value: 1050, since: 86_410 }), "1050 + 5 % (52.5, rounded down)");
    }

    #[test]
    fn the_window_cap_never_pushes_a_value_that_is_already_outside_its_band() {
        let rails = [rail(0, 100, 1_000)];
        let anchors = [Anchor { value: 1000, since: 5 }];
        // 1200 is outside ±1 % of 1000 (set before the cap, say): it may come back, not go on.
        let up = guard_at(&[1200], &[50], &rails, &anchors, 10).expect("guards");
        assert_eq!(up.values, vec![1200]);
        let still = guard_at(&[1200], &[0], &rails, &anchors, 10).expect("guards");
        assert_eq!((still.values, still.hit), (vec![1200], false));
        let down = guard_at(&[1200], &[-100], &rails, &anchors, 10).expect("guards");
        assert_eq!(down.values, vec![1100]);
    }

    #[test]
    fn a_parameter_anchored_at_zero_cannot_move_under_a_cap() {
        let rails = [Guardrail { min: -10, initial: 0, ..rail(0, 5000, 100) }];
        let g = guard_at(&[0], &[5], &rails, &[Anchor::default()], 1).expect("guards");
        assert_eq!((g.values, g.hit), (vec![0], true));
    }

    #[test]
    fn a_group_moves_by_its_proven_deltas_or_keeps_its_values() {
        let grouped = |group| Guardrail { group, ..rail(0, 0, 0) };
        let rails = [grouped(1), grouped(1), grouped(0), grouped(2)];
        let current = [1000; 4];
        // Every step within its rail: all move.
        let g = guard(&current, &[50, -50, 50, 50], &rails).expect("guards");
        assert_eq!((g.values, g.hit), (vec![1050, 950, 1050, 1050], false));
        // Parameter 1's step is clamped: its group keeps its values; the ungrouped rail is
        // clamped alone; group 2 moves.
        let g = guard(&current, &[50, -150, 150, 50], &rails).expect("guards");
        assert_eq!(g.values, vec![1000, 1000, 1100, 1050]);
        assert_eq!(g.hits, vec![true, true, true, false]);
        assert!(g.hit);
        // A held member with no proposed step is not a hit of its own.
        let g = guard(&current, &[0, -150, 0, 0], &rails).expect("guards");
        assert_eq!((g.values, g.hits), (vec![1000; 4], vec![false, true, false, false]));
        // The dead band binds too: a dropped step holds its group.
        let rails = [Guardrail { dead_band: 10, ..grouped(3) }, grouped(3)];
        let g = guard(&[1000, 1000], &[5, 80], &rails).expect("guards");
        assert_eq!(g.values, vec![1000, 1000]);
    }

    #[test]
    fn a_held_group_keeps_the_window_its_members_began() {
        let rails = [Guardrail { group: 4, ..rail(0, 500, 100) }, Guardrail { group: 4, ..rail(0, 0, 0) }];
        let g = guard_at(&[1000, 1000], &[10, 200], &rails, &[Anchor::default(); 2], 7).expect("guards");
        assert_eq!(g.values, vec![1000, 1000]);
        assert_eq!(g.anchors[0], Anchor { value: 1000, since: 7 }, "the window began, as for a dropped step");
    }

    #[test]
    fn groups_read_and_write_as_an_optional_field() {
        let plain: Guardrail = serde_json::from_str(r#"{"name":"p","initial":1,"min":0,"max":2,"max_step":1}"#).expect("parses");
        assert_eq!(plain.group, 0);
        assert!(!serde_json::to_string(&plain).expect("writes").contains("group"), "old configs stay as they were");
        let grouped: Guardrail =
            serde_json::from_str(r#"{"name":"p","initial":1,"min":0,"max":2,"max_step":1,"group":9}"#).expect("parses");
        assert_eq!(grouped.group, 9);
        assert!(serde_json::from_str::<Guardrail>(r#"{"name":"p","initial":1,"min":0,"max":2,"max_step":1,"group":256}"#).is_err());
    }

    #[test]
    fn malformed_extras_are_refused_by_field() {
        for (bad, named) in [
            (rail(-1, 0, 0), "dead_band"),
            (rail(0, 10_001, 10), "max_change_bps must be in"),
            (rail(0, 100, 0), "go together"),
            (rail(0, 0, 100), "go together"),
        ] {
            let err = bad.check(3).expect_err("refused").to_string();
            assert!(err.contains("[3] (p)") && err.contains(named), "{err}");
            assert!(guard(&[1000], &[0], std::slice::from_ref(&bad)).is_err());
        }
        assert!(matches!(guard_at(&[1000], &[0], &[rail(0, 0, 0)], &[], 0), Err(ModelError::WrongCount { what: "cap anchors", .. })));
    }
}
