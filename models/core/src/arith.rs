//! The fixed-point contract: plain-integer twins of the circuit constraints.
//!
//! The circuit proves exactly these functions. Each returns `None` where the
//! circuit has no satisfying witness, so the reference refuses the same inputs
//! the prover would fail on.

/// Bits per range-check limb: the lookup table holds `(m, v)` for `v < 2^m`, `m <= LIMB_BITS`.
pub const LIMB_BITS: u32 = 8;
/// Every range check is two limbs, so checked quantities are below `2^WINDOW_BITS`.
pub const WINDOW_BITS: u32 = 2 * LIMB_BITS;
/// The largest requantization shift: the remainder is one range check.
pub const MAX_SHIFT: u32 = WINDOW_BITS;

/// `z = q·2^shift + r` with `0 <= r < 2^shift`: floor division by a power of two.
pub fn requantize(z: i64, shift: u32) -> Option<(i64, i64)> {
    if shift > MAX_SHIFT {
        return None;
    }
    let d = 1i64 << shift;
    Some((z.div_euclid(d), z.rem_euclid(d)))
}

/// The witness of a comparison of `x` against a threshold `th`.
///
/// `ge = (x >= th)`; `t = x - th` when `ge`, else `th - x - 1`, and
/// `0 <= t < 2^WINDOW_BITS`. The range check on `t` fixes `ge` and bounds `x`
/// to `[th - 2^WINDOW_BITS, th + 2^WINDOW_BITS)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Comparison {
    pub ge: bool,
    pub t: i64,
}

pub fn compare(x: i64, th: i64) -> Option<Comparison> {
    let d = x.checked_sub(th)?;
    let (ge, t) = if d >= 0 { (true, d) } else { (false, -d - 1) };
    (t < (1i64 << WINDOW_BITS)).then_some(Comparison { ge, t })
}

/// `max(x, th)`, proven through [`compare`].
pub fn max_with(x: i64, th: i64) -> Option<i64> {
    compare(x, th).map(|c| if c.ge { x } else { th })
}

/// `min(x, th)`, proven through [`compare`].
pub fn min_with(x: i64, th: i64) -> Option<i64> {
    compare(x, th).map(|c| if c.ge { th } else { x })
}

pub fn relu(q: i64) -> Option<i64> {
    max_with(q, 0)
}

/// `min(max(q, lo), hi)`: the output clamp, also the strict KPI range check
/// (a KPI is in range exactly when clamping leaves it unchanged).
pub fn clamp(q: i64, lo: i64, hi: i64) -> Option<i64> {
    min_with(max_with(q, lo)?, hi)
}

/// Splits `v < 2^bits` (`bits <= WINDOW_BITS`) into a low and a high limb and
/// the bit width each limb is checked to: `v = lo + 2^LIMB_BITS · hi`.
pub fn split_limbs(v: i64, bits: u32) -> Option<[(i64, u32); 2]> {
    if bits > WINDOW_BITS || v < 0 || v >= (1i64 << bits) {
        return None;
    }
    let lo_bits = bits.min(LIMB_BITS);
    let hi_bits = bits - lo_bits;
    let lo = v & ((1i64 << LIMB_BITS) - 1);
    let hi = v >> LIMB_BITS;
    Some([(lo, lo_bits), (hi, hi_bits)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requantize_is_floor_division() {
        assert_eq!(requantize(7, 2), Some((1, 3)));
        assert_eq!(requantize(-7, 2), Some((-2, 1)));
        assert_eq!(requantize(-8, 3), Some((-1, 0)));
        assert_eq!(requantize(5, 0), Some((5, 0)));
        assert_eq!(requantize(5, MAX_SHIFT + 1), None);
    }

    #[test]
    fn compare_covers_exactly_the_window() {
        let w = 1i64 << WINDOW_BITS;
        assert_eq!(compare(3, 3), Some(Comparison { ge: true, t: 0 }));
        assert_eq!(compare(2, 3), Some(Comparison { ge: false, t: 0 }));
        assert!(compare(w - 1, 0).is_some());
        assert!(compare(w, 0).is_none());
        assert!(compare(-w, 0).is_some());
        assert!(compare(-w - 1, 0).is_none());
    }

    #[test]
    fn relu_and_clamp() {
        assert_eq!(relu(-5), Some(0));
        assert_eq!(relu(5), Some(5));
        assert_eq!(clamp(-50, -10, 10), Some(-10));
        assert_eq!(clamp(50, -10, 10), Some(10));
        assert_eq!(clamp(3, -10, 10), Some(3));
    }

    #[test]
    fn limbs_have_exact_widths() {
        assert_eq!(split_limbs(5, 3), Some([(5, 3), (0, 0)]));
        assert_eq!(split_limbs(8, 3), None);
        assert_eq!(split_limbs(0x1234, 13), Some([(0x34, 8), (0x12, 5)]));
        assert_eq!(split_limbs(-1, 3), None);
    }
}
