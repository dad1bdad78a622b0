//! The reader against `.ptau` files written here, in snarkjs' layout, from a known `τ`.
//! (The CLI tests import files written by the real snarkjs.)

use std::io::Cursor;

use halo2_proofs::halo2curves::bn256::{Fq, Fq2, Fr, G1Affine, G2Affine, G2};
use halo2_proofs::halo2curves::ff::{Field, PrimeField};
use halo2_proofs::halo2curves::group::Curve;
use halo2_proofs::halo2curves::{CurveAffine, CurveExt};
use halo2_proofs::poly::commitment::{Params, ParamsProver};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use super::*;
use crate::srs::{dev_params_insecure, encode, is_dev, DEV_SRS_SEED};

const POWER: u32 = 5;
/// Where section 2's points start: the 12-byte prefix, section 1 (12 + 44), section 2's entry.
const TAU_G1_AT: usize = 12 + 12 + 44 + 12;

/// A `.ptau` file of `power` for `tau`, laid out as snarkjs writes it, with an empty
/// contributions section (7) after the points, as a file not yet contributed to has.
fn ptau_file(tau: Fr, power: u32) -> Vec<u8> {
    ptau_file_with(tau, power, false)
}

/// [`ptau_file`], `prepared` for phase 2 as `snarkjs powersoftau prepare phase2` writes it:
/// section 12 after 7, the Lagrange basis over snarkjs' domain for each size `2^p`, `p ≤ power + 1`,
/// computed here from `τ` itself: `L_j(τ) = (τ^n − 1)/n · ω^j/(τ − ω^j)`.
fn ptau_file_with(tau: Fr, power: u32, prepared: bool) -> Vec<u8> {
    let g1_points = (2usize << power) - 1;
    let g2_points = 1usize << power;
    let mut powers = vec![Fr::ONE];
    for _ in 1..g1_points {
        powers.push(powers[powers.len() - 1] * tau);
    }
    let mut header = 32u32.to_le_bytes().to_vec();
    header.extend_from_slice(&BN254_Q_LE);
    header.extend_from_slice(&power.to_le_bytes());
    header.extend_from_slice(&power.to_le_bytes());
    let tau_g1: Vec<u8> = powers.iter().flat_map(|p| (G1Affine::generator() * p).to_affine().to_raw_bytes()).collect();
    let tau_g2: Vec<u8> = powers[..g2_points].iter().flat_map(|p| (G2Affine::generator() * p).to_affine().to_raw_bytes()).collect();
    let mut sections = vec![(1u32, header), (2, tau_g1), (3, tau_g2), (7, 0u32.to_le_bytes().to_vec())];
    if prepared {
        sections.push((12, (0..=power + 1).flat_map(|p| lagrange_block(tau, p)).collect()));
    }
    let mut file = b"ptau".to_vec();
    file.extend_from_slice(&1u32.to_le_bytes());
    file.extend_from_slice(&(sections.len() as u32).to_le_bytes());
    for (id, bytes) in sections {
        file.extend_from_slice(&id.to_le_bytes());
        file.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        file.extend_from_slice(&bytes);
    }
    file
}

/// `[L_j(τ)]₁` over snarkjs' domain of size `2^p`, in its order.
fn lagrange_block(tau: Fr, p: u32) -> Vec<u8> {
    let n = 1u64 << p;
    let mut omega = lagrange::snarkjs_root_of_unity();
    for _ in p..Fr::S {
        omega = omega.square();
    }
    let scale = (tau.pow_vartime([n]) - Fr::ONE) * Fr::from(n).invert().expect("n ≠ 0");
    let mut omega_j = Fr::ONE;
    let mut bytes = Vec::new();
    for _ in 0..n {
        let l = scale * omega_j * (tau - omega_j).invert().expect("τ is not a root of unity");
        bytes.extend((G1Affine::generator() * l).to_affine().to_raw_bytes());
        omega_j *= omega;
    }
    bytes
}

/// Where section 12's points start in a prepared file of `power`.
fn lagrange_at(power: u32) -> usize {
    TAU_G1_AT + 64 * ((2 << power) - 1) + 12 + 128 * (1 << power) + 12 + 4 + 12
}

/// The development SRS's `τ` (see [`is_dev`]).
fn dev_tau() -> Fr {
    Fr::random(ChaCha20Rng::seed_from_u64(DEV_SRS_SEED))
}

fn import_bytes(bytes: Vec<u8>, k: u32) -> Result<PtauImport, PtauError> {
    import_from(Cursor::new(bytes), k)
}

fn refusal(bytes: Vec<u8>, k: u32) -> PtauError {
    import_bytes(bytes, k).map(|_| ()).expect_err("refused")
}

/// `file` with the byte ranges `a` and `b` (of one length, not overlapping) swapped.
fn swapped(file: &[u8], a: std::ops::Range<usize>, b: std::ops::Range<usize>) -> Vec<u8> {
    let mut out = file.to_vec();
    out[a.clone()].copy_from_slice(&file[b.clone()]);
    out[b].copy_from_slice(&file[a]);
    out
}

fn tau_g1(i: usize) -> std::ops::Range<usize> {
    TAU_G1_AT + 64 * i..TAU_G1_AT + 64 * (i + 1)
}

#[test]
fn the_header_prime_is_bn254s_base_field_modulus() {
    let mut q = BN254_Q_LE;
    q.reverse();
    assert_eq!(format!("0x{}", hex::encode(q)), Fq::MODULUS);
}

/// The native twin: a file of the development SRS's `τ` imports as exactly the params
/// `ParamsKZG::setup` makes for it, monomial and Lagrange bases and G2 points alike.
#[test]
fn a_file_of_the_dev_tau_imports_as_the_dev_params_bit_for_bit() {
    for k in [1, 4, POWER] {
        let imported = import_bytes(ptau_file(dev_tau(), POWER), k).expect("imports");
        assert_eq!(imported.header, PtauHeader { power: POWER, ceremony_power: POWER });
        assert_eq!(imported.params.k(), k);
        assert_eq!(imported.params.get_g()[0], G1Affine::generator());
        assert!(is_dev(&imported.params));
        let expected = encode(&dev_params_insecure(k)).expect("in memory");
        assert!(encode(&imported.params).expect("in memory") == expected, "k = {k}: the params differ from ParamsKZG::setup's");
    }
}

/// A prepared file's Lagrange basis, reordered from snarkjs' domain to halo2's, is the basis
/// `ParamsKZG::setup` computes from `τ`.
#[test]
fn a_prepared_file_imports_with_its_lagrange_basis_bit_for_bit() {
    for k in [0, 1, 4, POWER] {
        let imported = import_bytes(ptau_file_with(dev_tau(), POWER, true), k).expect("imports");
        assert_eq!(imported.lagrange, LagrangeBasis::Prepared);
        let expected = encode(&dev_params_insecure(k)).expect("in memory");
        assert!(encode(&imported.params).expect("in memory") == expected, "k = {k}: the params differ from ParamsKZG::setup's");
    }
    assert_eq!(import_bytes(ptau_file(dev_tau(), POWER), 4).expect("imports").lagrange, LagrangeBasis::Computed);
}

#[test]
fn snarkjs_root_of_unity_is_ffjavascripts_and_of_order_2_to_the_28() {
    let root = lagrange::snarkjs_root_of_unity();
    // ffjavascript 0.3.1: `(await buildBn128()).Fr.w[28]`.
    let mut expected = hex::decode("2a3c09f0a58a7e8500e0a7eb8ef62abc402d111e41112ed49bd61b6e725b19f0").expect("hex");
    expected.reverse();
    assert_eq!(root.to_repr().as_ref(), expected.as_slice());
    assert_eq!(root.pow_vartime([1u64 << 27]), -Fr::ONE);
}

#[test]
fn a_prepared_basis_that_is_not_the_powers_is_refused() {
    let file = ptau_file_with(dev_tau(), POWER, true);
    // The block for k = 4 starts at point 2^4 − 1 of section 12.
    let point = |i: usize| lagrange_at(POWER) + 64 * (15 + i)..lagrange_at(POWER) + 64 * (16 + i);
    let swapped = swapped(&file, point(1), point(2));
    assert!(matches!(refusal(swapped, 4), PtauError::LagrangeInconsistent { points: 16 }));
    let mut flipped = file.clone();
    flipped[point(3).start + 40] ^= 1;
    assert!(matches!(refusal(flipped, 4), PtauError::NotOnCurve { index: 3, .. }));
    // Another k reads another block: the tampered one is not looked at.
    let mut elsewhere = file.clone();
    elsewhere[point(3).start + 40] ^= 1;
    assert!(import_bytes(elsewhere, 3).is_ok());
    let mut short = file.clone();
    let size_at = lagrange_at(POWER) - 8;
    short[size_at..size_at + 8].copy_from_slice(&(64u64 * 10).to_le_bytes());
    assert!(matches!(refusal(short, 1), PtauError::SectionSize { id: 12, .. }));
}

#[test]
fn k_zero_still_checks_tau_across_the_groups_and_a_larger_k_than_the_power_is_refused() {
    assert_eq!(import_bytes(ptau_file(dev_tau(), POWER), 0).expect("imports").params.k(), 0);
    assert!(matches!(refusal(ptau_file(dev_tau(), POWER), POWER + 1), PtauError::PowerTooSmall { power: POWER, k: 6 }));
}

#[test]
fn the_layout_is_refused_where_it_is_wrong() {
    let file = ptau_file(dev_tau(), POWER);
    let edited = |at: usize, bytes: &[u8]| {
        let mut edited = file.clone();
        edited[at..at + bytes.len()].copy_from_slice(bytes);
        edited
    };
    assert!(matches!(refusal(edited(0, b"ptaU"), 1), PtauError::NotPtau));
    assert!(matches!(refusal(edited(4, &2u32.to_le_bytes()), 1), PtauError::Version { version: 2 }));
    // The file cut short by one byte: the last section (7) no longer fits.
    let cut = file[..file.len() - 1].to_vec();
    assert!(matches!(refusal(cut, 1), PtauError::Truncated { ref what, .. } if what == "section 7"));
    assert!(matches!(refusal(file[..500].to_vec(), 1), PtauError::Truncated { ref what, .. } if what == "section 2 (tauG1)"));
    assert!(matches!(refusal(file[..8].to_vec(), 1), PtauError::Truncated { end: 12, .. }));
    // Section 3 renumbered 9: absent. Section 2 renumbered 3: section 3 twice.
    let section_3_entry = TAU_G1_AT + 64 * ((2 << POWER) - 1);
    assert!(matches!(refusal(edited(section_3_entry, &9u32.to_le_bytes()), 1), PtauError::SectionCount { id: 3, count: 0, .. }));
    assert!(matches!(refusal(edited(TAU_G1_AT - 12, &3u32.to_le_bytes()), 1), PtauError::SectionCount { id: 2, count: 0, .. }));
    // BLS12-381's 48-byte field, another prime, a power the sections do not match.
    assert!(matches!(refusal(edited(24, &48u32.to_le_bytes()), 1), PtauError::WrongCurve { ref reason } if reason.contains("48 bytes")));
    assert!(matches!(refusal(edited(28, &[0x48]), 1), PtauError::WrongCurve { ref reason } if reason.starts_with("its prime is 0x30644e")));
    assert!(matches!(refusal(edited(60, &4u32.to_le_bytes()), 1), PtauError::SectionSize { id: 2, expected: 1984, .. }));
    assert!(matches!(refusal(edited(60, &40u32.to_le_bytes()), 1), PtauError::Power { power: 40 }));
}

#[test]
fn a_bad_point_is_refused_by_its_index() {
    let file = ptau_file(dev_tau(), POWER);
    let mut flipped = file.clone();
    flipped[tau_g1(3).start + 40] ^= 0x01;
    assert!(matches!(refusal(flipped, 4), PtauError::NotOnCurve { section: "tauG1", index: 3, .. }));
    // A point read past the 2^k imported is not looked at.
    let mut beyond = file.clone();
    beyond[tau_g1(20).start + 40] ^= 0x01;
    assert!(import_bytes(beyond.clone(), 4).is_ok());
    assert!(matches!(refusal(beyond, 5), PtauError::NotOnCurve { index: 20, .. }));
    let mut infinity = file.clone();
    infinity[tau_g1(1)].fill(0);
    assert!(matches!(refusal(infinity, 1), PtauError::Infinity { section: "tauG1", index: 1 }));
}

#[test]
fn powers_that_are_not_of_one_tau_fail_the_pairing_check() {
    let file = ptau_file(dev_tau(), POWER);
    let swapped = swapped(&file, tau_g1(2), tau_g1(3));
    assert!(matches!(refusal(swapped, 3), PtauError::Inconsistent { pairs: 7 }));
    // A valid point, but not the power: [7]₁ for [τ^5]₁.
    let mut replaced = file.clone();
    replaced[tau_g1(5)].copy_from_slice(&(G1Affine::generator() * Fr::from(7)).to_affine().to_raw_bytes());
    let err = refusal(replaced, 4);
    assert!(matches!(err, PtauError::Inconsistent { pairs: 15 }));
    assert!(err.to_string().contains("pairing check"), "{err}");
    // The first power must be the generator itself (a file of [2]₁·τ^i is consistent otherwise).
    let mut scaled = file.clone();
    scaled[tau_g1(0)].copy_from_slice(&(G1Affine::generator() * Fr::from(2)).to_affine().to_raw_bytes());
    assert!(matches!(refusal(scaled, 1), PtauError::NotGenerator { section: "tauG1", .. }));
    // [τ]₂ of another τ: consistent G1 powers, but not for this τ.
    let mut other_tau = file.clone();
    let section_3 = TAU_G1_AT + 64 * ((2 << POWER) - 1) + 12;
    let other = (G2Affine::generator() * (dev_tau() + Fr::ONE)).to_affine().to_raw_bytes();
    other_tau[section_3 + 128..section_3 + 256].copy_from_slice(&other);
    assert!(matches!(refusal(other_tau, 2), PtauError::Inconsistent { pairs: 3 }));
}

#[test]
fn a_tau_of_plus_or_minus_one_is_refused_though_consistent() {
    for tau in [Fr::ONE, -Fr::ONE] {
        assert!(matches!(refusal(ptau_file(tau, POWER), 1), PtauError::TrivialTau));
    }
}

#[test]
fn a_g2_point_outside_the_subgroup_is_refused() {
    // A point of the twist's curve, found by trying x = 1, 2, …: its group has a huge cofactor.
    let outside = (1u64..)
        .find_map(|x| {
            let x = Fq2::new(Fq::from(x), Fq::ZERO);
            let y = Option::from((x.square() * x + G2::b()).sqrt())?;
            Option::<G2Affine>::from(G2Affine::from_xy(x, y))
        })
        .expect("a point");
    let file = ptau_file(dev_tau(), POWER);
    let section_3 = TAU_G1_AT + 64 * ((2 << POWER) - 1) + 12;
    let mut edited = file.clone();
    edited[section_3 + 128..section_3 + 256].copy_from_slice(&outside.to_raw_bytes());
    assert!(matches!(refusal(edited, 1), PtauError::NotInSubgroup { index: 1 }));
    let mut not_generator = file;
    let two = (G2Affine::generator() * Fr::from(2)).to_affine().to_raw_bytes();
    not_generator[section_3..section_3 + 128].copy_from_slice(&two);
    assert!(matches!(refusal(not_generator, 1), PtauError::NotGenerator { section: "tauG2", .. }));
}

#[test]
fn file_digests_are_keccak_256_and_blake2b_512() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("abc");
    std::fs::write(&path, b"abc").expect("write");
    assert_eq!(hex::encode(file_keccak256(&path).expect("digest")), "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
    assert_eq!(
        hex::encode(file_blake2b512(&path).expect("digest")),
        "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"
    );
}

#[test]
fn import_refuses_what_is_not_a_regular_file_and_names_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(matches!(import(dir.path(), 1), Err(ProverError::Corrupt { .. })));
    let path = dir.path().join("pot.ptau");
    let mut file = ptau_file(dev_tau(), POWER);
    file.truncate(100);
    std::fs::write(&path, file).expect("write");
    let err = import(&path, 1).map(|_| ()).expect_err("refused").to_string();
    assert!(err.contains("pot.ptau is not a usable snarkjs powers-of-tau file: truncated"), "{err}");
}
