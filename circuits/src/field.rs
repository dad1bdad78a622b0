//! Signed integers as BN254 scalars: `v` for `v >= 0`, `r - |v|` otherwise.

pub use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::PrimeField;

/// The field encoding of a signed integer: `v` for `v >= 0`, `r − |v|` for `v < 0`
/// (the one encoding the contracts and clients also use).
pub fn fr(v: i64) -> Fr {
    if v >= 0 {
        Fr::from(v as u64)
    } else {
        -Fr::from(v.unsigned_abs())
    }
}

/// The signed integer a scalar encodes, if it is within `i64`.
pub fn to_i64(f: &Fr) -> Option<i64> {
    let small = |x: &Fr| -> Option<u64> {
        let repr = x.to_repr();
        let bytes = repr.as_ref();
        bytes[8..].iter().all(|b| *b == 0).then(|| u64::from_le_bytes(bytes[..8].try_into().unwrap_or_default()))
    };
    if let Some(v) = small(f).filter(|v| *v <= i64::MAX as u64) {
        return Some(v as i64);
    }
    small(&-*f).filter(|v| *v <= i64::MAX as u64 + 1).map(|v| (v as i128).wrapping_neg() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_signed_values() {
        for v in [0, 1, -1, 255, -256, i64::MAX, i64::MIN + 1, i64::MIN] {
            assert_eq!(to_i64(&fr(v)), Some(v), "{v}");
        }
        assert_eq!(to_i64(&Fr::from_u128(1u128 << 100)), None);
    }
}
