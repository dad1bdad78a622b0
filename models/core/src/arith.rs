//! The fixed-point contract: plain-integer twins of the circuit constraints.
//!
//! The circuit proves exactly these functions. Each returns `None` where the
//! circuit has no satisfying witness, so the reference refuses the same inputs
//! the prover would fail on.

/// Bits per range-check limb with private weights: the lookup table holds `(m, v)` for
/// `v < 2^m`, `m <= LIMB_BITS`.
pub const LIMB_BITS: u32 = 8;
/// Every range check covers `[0, 2^WINDOW_BITS)`: two lookup limbs, or [`DIGITS`] digits.
pub const WINDOW_BITS: u32 = 2 * LIMB_BITS;
/// Bits per digit of a range chain (fixed weights): a digit is one of `0..4`.
pub const DIGIT_BITS: u32 = 2;
/// Digits per range check in a chain: `WINDOW_BITS / DIGIT_BITS`.
pub const DIGITS: usize = (WINDOW_BITS / DIGIT_BITS) as usize;
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

/// The remainder of [`requantize`] as the circuit range-checks it: `u = r·2^(WINDOW_BITS − shift)`,
/// so that `2^(WINDOW_BITS − shift)·z = 2^WINDOW_BITS·q + u` with `0 <= u < 2^WINDOW_BITS`. One
/// check of one width serves every shift: `u` is in the window exactly when `0 <= r < 2^shift`.
pub fn scaled_remainder(r: i64, shift: u32) -> Option<i64> {
    let scale = remainder_scale(shift)?;
    (0..1i64 << shift).contains(&r).then_some(r * scale)
}

/// `2^(WINDOW_BITS − shift)`, the factor [`scaled_remainder`] applies (the circuit's fixed
/// constant on a requantization row); `None` past [`MAX_SHIFT`].
pub fn remainder_scale(shift: u32) -> Option<i64> {
    (shift <= MAX_SHIFT).then(|| 1i64 << (WINDOW_BITS - shift))
}

/// The base-4 digits of `0 <= t < 2^WINDOW_BITS`, most significant first: what a range
/// chain holds as the steps `y[j+1] − 4·y[j]`, each checked to `0..4`.
pub fn digits(t: i64) -> Option<[i64; DIGITS]> {
    if !(0..1i64 << WINDOW_BITS).contains(&t) {
        return None;
    }
    Some(std::array::from_fn(|j| (t >> (DIGIT_BITS as usize * (DIGITS - 1 - j))) & 3))
}

/// The witness of a comparison of `x` against a threshold `th`.
///
/// `ge = (x >= th)`; `t = x - th` when `ge`, else `th - x - 1`, and
/// `0 <= t < 2^WINDOW_BITS`. The range check on `t` fixes `ge` and bounds `x`
/// to `[th - 2^WINDOW_BITS, th + 2^WINDOW_BITS)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Comparison {
    /// Whether `x >= th`: the comparison bit the circuit witnesses.
    pub ge: bool,
    /// The non-negative gap the circuit range-checks to `WINDOW_BITS`.
    pub t: i64,
}

/// The [`Comparison`] of `x` against `th`; `None` when `x` lies outside the window
/// `[th − 2^WINDOW_BITS, th + 2^WINDOW_BITS)`, where the circuit has no witness.
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

/// `max(q, 0)`, proven through [`compare`]; `None` for `q < −2^WINDOW_BITS` or
/// `q >= 2^WINDOW_BITS`.
pub fn relu(q: i64) -> Option<i64> {
    max_with(q, 0)
}

/// `min(max(q, lo), hi)`: the output clamp, also the strict KPI range check
/// (a KPI is in range exactly when clamping leaves it unchanged).
pub fn clamp(q: i64, lo: i64, hi: i64) -> Option<i64> {
    min_with(max_with(q, lo)?, hi)
}

/// The fixed slope denominator of leaky ReLU: `slope / 2^LEAKY_SHIFT`.
pub const LEAKY_SHIFT: u32 = 16;

/// Leaky ReLU as the circuit proves it: `r = max(q, 0)` by [`compare`], then
/// `floor((2^16·r + slope·(q − r)) / 2^16)`, a dot product with the two constants of
/// [`leaky_weights`] and a [`requantize`] by [`LEAKY_SHIFT`]; that is
/// `max(q, 0) + floor(slope · min(q, 0) / 2^16)`.
pub fn leaky_relu(q: i64, slope: i64) -> Option<i64> {
    let r = relu(q)?;
    let [wr, wq] = leaky_weights(slope)?;
    let z = wr.checked_mul(r)?.checked_add(wq.checked_mul(q)?)?;
    requantize(z, LEAKY_SHIFT).map(|(out, _)| out)
}

/// The weights on `(max(q, 0), q)` of leaky ReLU's dot product; `None` outside `0 < slope < 2^16`.
pub fn leaky_weights(slope: i64) -> Option<[i64; 2]> {
    let one = 1i64 << LEAKY_SHIFT;
    (0 < slope && slope < one).then_some([one - slope, slope])
}

/// The largest `scale_bits` of a table activation: the tables grow as `2^scale_bits`
/// (tanh at 12 bits: 39,749 rows), and the clamp to a table's window compares across
/// it, so the window must also be narrower than `2^WINDOW_BITS` (sigmoid at 12 bits,
/// 73,819 rows, is not; at 11 bits it has 34,071). See [`Table::fits`].
pub const MAX_TABLE_SCALE_BITS: u32 = 12;
/// The largest fraction width of a proven output.
pub const MAX_OUTPUT_SCALE_BITS: u32 = 24;
/// The largest `step` of an output (parameter units per output unit).
pub const MAX_OUTPUT_STEP: i64 = 1 << 20;
/// Lookup tags of the activation tables start here, above every range-check tag.
pub const TABLE_TAG_BASE: i64 = 16;

/// A function tabulated for the circuit's activation lookups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TableFn {
    /// The hyperbolic tangent, odd, with range `[-1, 1]`.
    Tanh,
    /// The logistic function `1 / (1 + e^-x)`, with range `[0, 1]`.
    Sigmoid,
}

/// One activation table: `f(q) = round(2^s · fn(q / 2^s))` (nearest, halves away from
/// zero) for `q` in the window `[lo, hi]`, outside which `f` is constant (the window ends
/// where the rounded function reaches its asymptotes). The circuit clamps `q` to the
/// window by two comparisons and looks `(q, f(q))` up, so [`Table::apply`] is exact
/// for every `q` within the comparator's reach of the window.
///
/// The table is computed with IEEE-754 additions, multiplications and divisions only
/// ([`exp`]), never the platform's `libm`, so every machine derives the same table, and
/// therefore the same verifying key, from a model file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Table {
    /// The tabulated function.
    pub func: TableFn,
    /// Fraction bits `s` of both the input `q` and the output `f(q)`.
    pub scale_bits: u32,
    /// The window's lower end: the largest `q` at the lower asymptote (`-2^s` for tanh,
    /// 0 for sigmoid).
    pub lo: i64,
    /// The window's upper end: the least `q >= 0` at which `f(q)` reaches `2^s`.
    pub hi: i64,
}

impl Table {
    /// The table of `func` at `scale_bits` (at most [`MAX_TABLE_SCALE_BITS`]; larger values
    /// are capped, and the validator refuses them first).
    pub fn new(func: TableFn, scale_bits: u32) -> Self {
        let scale_bits = scale_bits.min(MAX_TABLE_SCALE_BITS);
        let one = 1i64 << scale_bits;
        let mut table = Self { func, scale_bits, lo: 0, hi: 0 };
        // The first q >= 0 where f reaches its upper asymptote (f is monotone).
        table.hi = first_at_least(one * 64, |q| table.exact(q) >= one);
        table.lo = match func {
            TableFn::Tanh => -table.hi,
            TableFn::Sigmoid => -first_at_least(one * 64, |q| table.exact(-q) <= 0),
        };
        table
    }

    /// The lookup tag of this table's rows: distinct per function and scale.
    pub fn tag(&self) -> i64 {
        let f = match self.func {
            TableFn::Tanh => 0,
            TableFn::Sigmoid => 1,
        };
        TABLE_TAG_BASE + 16 * f + self.scale_bits as i64
    }

    /// `f(q)` without the clamp.
    pub fn exact(&self, q: i64) -> i64 {
        let s = 2f64.powi(self.scale_bits as i32);
        let x = q as f64 / s;
        let round = |v: f64| (v.abs() * s + 0.5).floor().copysign(v) as i64;
        match self.func {
            TableFn::Tanh => {
                let e = exp(-2.0 * x.abs());
                round(((1.0 - e) / (1.0 + e)).copysign(x))
            }
            TableFn::Sigmoid => round(1.0 / (1.0 + exp(-x))),
        }
    }

    /// The activation as the circuit proves it: `q` clamped to the window by
    /// [`clamp`], then looked up. `None` where the clamp's comparisons have no witness.
    pub fn apply(&self, q: i64) -> Option<i64> {
        clamp(q, self.lo, self.hi).map(|x| self.exact(x))
    }

    /// Whether the circuit can use this table: its window is narrower than the
    /// comparator's reach, so clamping any `q` to it has a witness.
    pub fn fits(&self) -> bool {
        self.hi - self.lo < 1i64 << WINDOW_BITS
    }

    /// Rows of the table: one per `q` in the window.
    pub fn rows(&self) -> usize {
        (self.hi - self.lo + 1) as usize
    }

    /// `(q, f(q))` over the window.
    pub fn entries(&self) -> impl Iterator<Item = (i64, i64)> + '_ {
        (self.lo..=self.hi).map(|q| (q, self.exact(q)))
    }

    /// The range of `f`: `[-2^s, 2^s]` for tanh, `[0, 2^s]` for sigmoid.
    pub fn output_range(&self) -> (i64, i64) {
        let one = 1i64 << self.scale_bits;
        match self.func {
            TableFn::Tanh => (-one, one),
            TableFn::Sigmoid => (0, one),
        }
    }
}

/// The least `q` in `[0, limit]` with `pred(q)`, for a monotone `pred` true at `limit`.
fn first_at_least(limit: i64, pred: impl Fn(i64) -> bool) -> i64 {
    let (mut lo, mut hi) = (0, limit);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// `e^x` from IEEE-754 basic operations alone, so it is bit-identical on every
/// platform: `x = n·ln 2 + r` (Cody–Waite, `|r| <= ln 2 / 2`), a degree-18 Taylor
/// polynomial in `r` (truncation below 1e-22), times `2^n` built from its bits.
/// Relative error near 1e-16; 0 below `e^-708`, `∞` above `e^709`.
pub fn exp(x: f64) -> f64 {
    // ln 2 split so that n·LN2_HI is exact for |n| < 2^11 (fdlibm's constants, by their bits).
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
    if x.is_nan() {
        return x;
    }
    if x < -708.0 {
        return 0.0;
    }
    if x > 709.0 {
        return f64::INFINITY;
    }
    let n = (x * std::f64::consts::LOG2_E).round();
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let (mut term, mut sum) = (1.0f64, 1.0f64);
    for k in 1..=18 {
        term = term * r / k as f64;
        sum += term;
    }
    // n is in [-1022, 1023] here, so 2^n is a normal number.
    let n = n as i64;
    if n < -1021 {
        // Scale in two steps to stay normal.
        return sum * f64::from_bits(((n + 1023 + 60) as u64) << 52) * f64::from_bits(((1023 - 60) as u64) << 52);
    }
    sum * f64::from_bits(((n + 1023) as u64) << 52)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_and_scaled_remainders_cover_exactly_the_window() {
        assert_eq!(digits(0), Some([0; DIGITS]));
        assert_eq!(digits(0xffff), Some([3; DIGITS]));
        assert_eq!(digits(0x1b), Some([0, 0, 0, 0, 0, 1, 2, 3]));
        assert_eq!(digits(1 << WINDOW_BITS), None);
        assert_eq!(digits(-1), None);
        for t in [0, 1, 77, 4096, 0xfffe] {
            let d = digits(t).unwrap_or_default();
            assert_eq!(d.iter().fold(0, |y, d| 4 * y + d), t);
        }
        assert_eq!(scaled_remainder(3, 2), Some(3 << 14));
        assert_eq!(scaled_remainder(4, 2), None);
        assert_eq!(scaled_remainder(-1, 2), None);
        assert_eq!(scaled_remainder(0xffff, 16), Some(0xffff));
        for (z, shift) in [(1000, 6), (-1000, 6), (-1, 16), (123_456, 0)] {
            let (q, r) = requantize(z, shift).unwrap_or_default();
            let u = scaled_remainder(r, shift).unwrap_or(-1);
            assert_eq!((z << (WINDOW_BITS - shift)) - (q << WINDOW_BITS), u);
        }
    }

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
    fn leaky_relu_scales_only_the_negative_side() {
        // slope 2^14 / 2^16 = 0.25.
        assert_eq!(leaky_relu(100, 1 << 14), Some(100));
        assert_eq!(leaky_relu(0, 1 << 14), Some(0));
        assert_eq!(leaky_relu(-100, 1 << 14), Some(-25));
        assert_eq!(leaky_relu(-101, 1 << 14), Some(-26), "floor, not truncation");
        assert_eq!(leaky_relu(-1, 655), Some(-1));
        assert_eq!(leaky_relu(5, 0), None);
        assert_eq!(leaky_relu(5, 1 << 16), None);
        for q in -70_000..70_000i64 {
            let want = if (-(1 << WINDOW_BITS)..(1 << WINDOW_BITS)).contains(&q) {
                Some(q.max(0) + (655 * q.min(0)).div_euclid(1 << 16))
            } else {
                None
            };
            assert_eq!(leaky_relu(q, 655), want, "{q}");
        }
    }

    #[test]
    fn exp_matches_the_platform_within_rounding() {
        for i in -2000..=2000 {
            let x = i as f64 / 40.0;
            let (a, b) = (exp(x), x.exp());
            assert!(((a - b) / b).abs() < 1e-15, "{x}: {a} vs {b}");
        }
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-800.0), 0.0);
        assert!(exp(800.0).is_infinite());
    }

    #[test]
    fn tables_round_the_real_functions_and_saturate_at_their_windows() {
        for s in [0, 4, 8, 10, 12] {
            for func in [TableFn::Tanh, TableFn::Sigmoid] {
                let t = Table::new(func, s);
                let scale = (1i64 << s) as f64;
                let real = |q: i64| {
                    let x = q as f64 / scale;
                    match func {
                        TableFn::Tanh => x.tanh(),
                        TableFn::Sigmoid => 1.0 / (1.0 + (-x).exp()),
                    }
                };
                let (lo_out, hi_out) = t.output_range();
                assert_eq!(t.exact(t.hi), hi_out, "{func:?} {s}");
                assert_eq!(t.exact(t.lo), lo_out, "{func:?} {s}");
                assert!(t.exact(t.hi - 1) < hi_out && t.exact(t.lo + 1) > lo_out, "{func:?} {s}: the window is the smallest");
                let mut previous = i64::MIN;
                for (q, y) in t.entries() {
                    assert!((y as f64 / scale - real(q)).abs() <= 0.5 / scale + 1e-12, "{func:?} {s} {q}");
                    assert!(y >= previous, "monotone");
                    previous = y;
                }
                if !t.fits() {
                    assert_eq!((func, s), (TableFn::Sigmoid, 12));
                    assert_eq!(t.apply(t.hi), None, "the clamp cannot compare across the window");
                    continue;
                }
                // Past the window the clamp gives the asymptote, which the function rounds to.
                let reach = (1 << WINDOW_BITS) - (t.hi - t.lo) - 1;
                assert_eq!(t.apply(t.hi + reach), Some(hi_out));
                assert_eq!(t.apply(t.lo - reach), Some(lo_out));
                assert_eq!(t.apply(t.hi + reach + 1), None, "beyond the comparator's reach");
            }
        }
        // Window sizes, as an independent Python computation (math.exp) also finds them.
        assert_eq!(Table::new(TableFn::Tanh, 12).rows(), 39_749);
        assert_eq!(Table::new(TableFn::Tanh, 10).rows(), 8_519);
        assert_eq!(Table::new(TableFn::Sigmoid, 12).rows(), 73_819);
        assert_eq!(Table::new(TableFn::Sigmoid, 11).rows(), 34_071);
        assert_eq!(Table::new(TableFn::Sigmoid, 10).rows(), 15_617);
        assert!(Table::new(TableFn::Sigmoid, 11).fits() && Table::new(TableFn::Tanh, 12).fits());
        assert_eq!(Table::new(TableFn::Tanh, 8).tag(), TABLE_TAG_BASE + 8);
        assert_eq!(Table::new(TableFn::Sigmoid, 8).tag(), TABLE_TAG_BASE + 24);
    }
}
