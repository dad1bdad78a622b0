//! Renders a verifier [`Program`] as a Solidity contract (one inline-assembly body).
//!
//! Layout: every scalar register is a memory word, every point register two;
//! constant registers are inlined as literals. The transcript buffer's length
//! is known at every step, so absorbs write at constant offsets and each
//! challenge hashes a constant-length slice. Any failed check returns `false`.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use halo2_proofs::halo2curves::bn256::{Fq, Fr, G1Affine, G2Affine};
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::halo2curves::{Coordinates, CurveAffine};

use crate::program::{Op, Program, P, S};
use crate::transcript::{base_to_be, scalar_to_be};

/// What a verifier was made for: the header comment, and the public model card its
/// `modelCard()` serves to the controller.
#[derive(Clone, Debug)]
pub struct Provenance {
    /// The model's name, for the header comment.
    pub model: String,
    /// The card's commitment, which `modelCard()` returns and the controller stores.
    pub model_commitment: [u8; 32],
    /// The circuit's `k`, for the header comment.
    pub k: u32,
    /// The quantized range of each KPI, in instance order.
    pub kpis: Vec<NamedRange>,
    /// The range of each controller parameter the model reads (empty for a KPI-only model).
    pub parameters: Vec<NamedRange>,
    /// The range each output is clamped to, in instance order.
    pub outputs: Vec<NamedRange>,
    /// Each output's map to its parameter change, in output order.
    pub output_maps: Vec<OutputMap>,
}

/// How the controller turns proven output `y` into a parameter change:
/// `round(y · step / 2^scale_bits)`, halves up (`zkpolicy_model::OutputSpec::delta`).
/// `(0, 1)` is an integer output, applied as it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputMap {
    /// Fraction bits of the proven output (`OutputSpec::scale_bits`).
    pub scale_bits: u32,
    /// Parameter units per output unit (`OutputSpec::step`), at least 1.
    pub step: i64,
}

/// A public input's name and the integers `[lo, hi]` it may take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedRange {
    /// The KPI's, parameter's or output's name in the model card.
    pub name: String,
    /// The smallest value, inclusive.
    pub lo: i64,
    /// The largest value, inclusive.
    pub hi: i64,
}

impl Provenance {
    /// Every public input after the epoch: KPIs, parameters, outputs.
    fn ranges(&self) -> impl Iterator<Item = &NamedRange> {
        self.kpis.iter().chain(&self.parameters).chain(&self.outputs)
    }

    /// `[epoch, kpi…, parameter…, output…]` by name.
    pub fn instance_order(&self) -> String {
        let names: Vec<&str> = std::iter::once("epoch").chain(self.ranges().map(|r| r.name.as_str())).collect();
        format!("[{}]", names.join(", "))
    }

    /// The card's ranges as `modelCard()` returns them: `lo ‖ hi` per range, each a
    /// big-endian int64, KPIs first, then parameters, then outputs; then each output's
    /// map as `scale_bits ‖ step`, two more big-endian int64.
    pub fn packed_ranges(&self) -> Vec<u8> {
        let ranges = self.ranges().map(|r| (r.lo, r.hi));
        let maps = self.output_maps.iter().map(|m| (i64::from(m.scale_bits), m.step));
        ranges.chain(maps).flat_map(|(a, b)| [a.to_be_bytes(), b.to_be_bytes()].concat()).collect()
    }
}

/// The solc version the rendered pragma pins (and `package.json` installs).
pub const SOLC_VERSION: &str = "0.8.37";
/// The rendered verifier contract's name, as the compiler's output keys it.
pub const CONTRACT_NAME: &str = "ZkPolicyVerifier";

const SCALAR_BASE: usize = 0x80;

fn fr_hex(v: &Fr) -> String {
    word_hex(&scalar_to_be(v))
}

fn fq_hex(v: &Fq) -> String {
    word_hex(&base_to_be(v))
}

fn word_hex(be: &[u8]) -> String {
    let digits = hex::encode(be);
    let trimmed = digits.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".into()
    } else if trimmed.len() <= 4 {
        u64::from_str_radix(trimmed, 16).map(|v| v.to_string()).unwrap_or_else(|_| format!("0x{trimmed}"))
    } else {
        format!("0x{trimmed}")
    }
}

fn g1_words(p: &G1Affine) -> [String; 2] {
    let c: Option<Coordinates<G1Affine>> = p.coordinates().into();
    c.map(|c| [fq_hex(c.x()), fq_hex(c.y())]).unwrap_or_else(|| ["0".into(), "0".into()])
}

/// EIP-197 encodes an Fq2 element `a·i + b` as `(a, b)`.
fn g2_words(p: &G2Affine) -> [String; 4] {
    let c: Option<Coordinates<G2Affine>> = p.coordinates().into();
    c.map(|c| [fq_hex(&c.x().c1), fq_hex(&c.x().c0), fq_hex(&c.y().c1), fq_hex(&c.y().c0)])
        .unwrap_or_else(|| std::array::from_fn(|_| "0".into()))
}

/// Nesting depth up to which single-use arithmetic is inlined into its consumer
/// (deeper expressions could exhaust the EVM's 16 reachable stack slots).
const MAX_INLINE_DEPTH: usize = 5;

struct Layout {
    consts: HashMap<S, String>,
    /// Registers read exactly once, by an addition, subtraction or multiplication.
    single_arith_use: HashSet<S>,
    /// Deferred expressions of such registers, with their nesting depth.
    inline: RefCell<HashMap<S, (String, usize)>>,
    point_base: usize,
    buffer: usize,
    scratch: usize,
}

impl Layout {
    fn new(program: &Program) -> Self {
        let consts = program
            .ops
            .iter()
            .filter_map(|op| match op {
                Op::Const { dst, value } => Some((*dst, fr_hex(value))),
                _ => None,
            })
            .collect();
        let mut uses: HashMap<S, usize> = HashMap::new();
        let mut arith_uses: HashMap<S, usize> = HashMap::new();
        for op in &program.ops {
            match op {
                Op::Add { a, b, .. } | Op::Sub { a, b, .. } | Op::Mul { a, b, .. } => {
                    for s in [a, b] {
                        *uses.entry(*s).or_default() += 1;
                        *arith_uses.entry(*s).or_default() += 1;
                    }
                }
                Op::Absorb { src } => *uses.entry(*src).or_default() += 1,
                Op::Pow { base, .. } => *uses.entry(*base).or_default() += 1,
                Op::BatchInvert { pairs } => pairs.iter().for_each(|(_, s)| *uses.entry(*s).or_default() += 2),
                Op::InstanceEval { x, common, inv, .. } => [x, common, inv].iter().for_each(|s| *uses.entry(**s).or_default() += 1),
                Op::InstanceDenominator { x, .. } => *uses.entry(*x).or_default() += 1,
                Op::Msm { terms, .. } => terms.iter().for_each(|(s, _)| *uses.entry(*s).or_default() += 1),
                _ => {}
            }
        }
        let single_arith_use = uses.iter().filter(|(s, n)| **n == 1 && arith_uses.get(s) == Some(&1)).map(|(s, _)| *s).collect();
        let point_base = SCALAR_BASE + 32 * program.num_scalars as usize;
        let buffer = point_base + 64 * program.num_points as usize;
        let scratch = buffer + 32 + max_absorbed(program);
        Self { consts, single_arith_use, inline: RefCell::new(HashMap::new()), point_base, buffer, scratch }
    }

    fn s(&self, s: S) -> String {
        self.operand(s).0
    }

    /// An operand's Yul expression and nesting depth.
    fn operand(&self, s: S) -> (String, usize) {
        if let Some(inlined) = self.inline.borrow_mut().remove(&s) {
            return inlined;
        }
        match self.consts.get(&s) {
            Some(lit) => (lit.clone(), 0),
            None => (format!("mload({:#x})", SCALAR_BASE + 32 * s.0 as usize), 0),
        }
    }

    /// Emits `dst = f(a, b)`, or defers it into its only consumer.
    fn arith(&self, w: &mut String, dst: S, a: S, b: S, f: impl Fn(&str, &str) -> String) {
        let ((ea, da), (eb, db)) = (self.operand(a), self.operand(b));
        let expr = f(&ea, &eb);
        let depth = 1 + da.max(db);
        if self.single_arith_use.contains(&dst) && depth <= MAX_INLINE_DEPTH {
            self.inline.borrow_mut().insert(dst, (expr, depth));
        } else {
            let _ = writeln!(w, "            mstore({}, {expr})", self.s_addr(dst));
        }
    }

    /// Where `InstanceDenominator` keeps its prefix products for `InstanceEval`: past
    /// `invR`'s words (from `scratch + 0x100`), which the batched inversion between them uses.
    fn instance_prefixes(&self) -> usize {
        self.scratch + 0x200
    }

    fn s_addr(&self, s: S) -> String {
        format!("{:#x}", SCALAR_BASE + 32 * s.0 as usize)
    }

    fn p_addr(&self, p: P, word: usize) -> String {
        format!("{:#x}", self.point_base + 64 * p.0 as usize + 32 * word)
    }
}

/// The most bytes absorbed between two squeezes (after the 32-byte digest).
fn max_absorbed(program: &Program) -> usize {
    let (mut max, mut cur) = (0, 0);
    for op in &program.ops {
        match op {
            Op::ReadPoints { count, .. } => cur += 64 * *count as usize,
            Op::ReadScalars { count, .. } | Op::LoadInstances { count, .. } => cur += 32 * *count as usize,
            Op::Absorb { .. } => cur += 32,
            Op::Squeeze { .. } => cur = 0,
            _ => {}
        }
        max = max.max(cur);
    }
    max
}

/// The verifier contract for `program`: `verifyProof(proof, instances)` runs the program's
/// ops in one assembly body and returns `false` on any failed check, and `modelCard()`
/// serves `provenance` to the controller.
pub fn render(program: &Program, provenance: &Provenance) -> String {
    let l = Layout::new(program);
    let mut body = String::new();
    let mut buf_len = 0usize; // bytes in the transcript buffer
    let mut proof_off = 0usize;
    let w = &mut body;
    for op in &program.ops {
        match op {
            Op::ReadPoints { first, count } => {
                let (n, at) = (*count as usize, l.buffer + buf_len);
                let _ =
                    writeln!(w, "            // {n} point(s) at proof[{proof_off}..{}]: on the curve, then absorbed", proof_off + 64 * n);
                let _ = writeln!(w, "            readPoints({at:#x}, add(proof.offset, {proof_off}), {n}, {})", l.p_addr(*first, 0));
                buf_len += 64 * n;
                proof_off += 64 * n;
            }
            Op::ReadScalars { first, count } => {
                let (n, at) = (*count as usize, l.buffer + buf_len);
                let _ = writeln!(w, "            // {n} scalar(s) at proof[{proof_off}..{}]: below r, then absorbed", proof_off + 32 * n);
                let _ = writeln!(w, "            readScalars({at:#x}, add(proof.offset, {proof_off}), {n}, {})", l.s_addr(*first));
                buf_len += 32 * n;
                proof_off += 32 * n;
            }
            Op::LoadInstances { first, count } => {
                let (n, at) = (*count as usize, l.buffer + buf_len);
                let _ = writeln!(w, "            // the {n} public inputs: below r, then absorbed");
                let _ = writeln!(w, "            readScalars({at:#x}, instances.offset, {n}, {})", l.s_addr(*first));
                buf_len += 32 * n;
            }
            Op::InstanceDenominator { dst, count, x, omega } => {
                let table = l.instance_prefixes();
                let _ = writeln!(w, "            // Π (x − ω^i) over the instance rows, its prefixes kept for the evaluation");
                let _ = writeln!(w, "            {{");
                let _ = writeln!(w, "                let x := {} let wi := 1 let acc := 1", l.s(*x));
                let _ = writeln!(w, "                for {{ let i := 0 }} lt(i, {count}) {{ i := add(i, 1) }} {{");
                let _ = writeln!(w, "                    mstore(add({table:#x}, mul(i, 32)), acc)");
                let _ = writeln!(w, "                    acc := mulmod(acc, addmod(x, sub(R, wi), R), R)");
                let _ = writeln!(w, "                    wi := mulmod(wi, {}, R)", fr_hex(omega));
                let _ = writeln!(w, "                }}");
                let _ = writeln!(w, "                mstore({}, acc)", l.s_addr(*dst));
                let _ = writeln!(w, "            }}");
            }
            Op::InstanceEval { dst, first, count, x, common, inv, omega } => {
                let table = l.instance_prefixes();
                let omega_inv = Option::<Fr>::from(omega.invert()).unwrap_or(Fr::ZERO);
                let omega_count = omega.pow_vartime([u64::from(*count)]);
                let _ = writeln!(w, "            // instance column at x: Σ inst_i · ω^i · common / (x − ω^i), from the batched inverse");
                let _ = writeln!(w, "            {{");
                let _ = writeln!(w, "                let x := {} let wi := {} let inv := {}", l.s(*x), fr_hex(&omega_count), l.s(*inv));
                let _ = writeln!(w, "                let sum := 0");
                let _ = writeln!(w, "                for {{ let i := {count} }} gt(i, 0) {{ }} {{");
                let _ = writeln!(w, "                    i := sub(i, 1)");
                let _ = writeln!(w, "                    wi := mulmod(wi, {}, R)", fr_hex(&omega_inv));
                let _ = writeln!(w, "                    let d := addmod(x, sub(R, wi), R)");
                let _ = writeln!(w, "                    let inv_i := mulmod(mload(add({table:#x}, mul(i, 32))), inv, R)");
                let _ = writeln!(w, "                    inv := mulmod(inv, d, R)");
                let _ = writeln!(
                    w,
                    "                    sum := addmod(sum, mulmod(mulmod(mload(add({}, mul(i, 32))), wi, R), inv_i, R), R)",
                    l.s_addr(*first)
                );
                let _ = writeln!(w, "                }}");
                let _ = writeln!(w, "                mstore({}, mulmod(sum, {}, R))", l.s_addr(*dst), l.s(*common));
                let _ = writeln!(w, "            }}");
            }
            Op::Absorb { src } => {
                let _ = writeln!(w, "            mstore({:#x}, {})", l.buffer + buf_len, l.s(*src));
                buf_len += 32;
            }
            Op::Squeeze { dst } => {
                let _ = writeln!(
                    w,
                    "            {{ let h := keccak256({:#x}, {buf_len}) mstore({:#x}, h) mstore({}, mod(h, R)) }}",
                    l.buffer,
                    l.buffer,
                    l.s_addr(*dst)
                );
                buf_len = 32;
            }
            Op::Const { .. } => {}
            Op::Note { text } => {
                let _ = writeln!(w, "\n            // {text}");
            }
            Op::Add { dst, a, b } => l.arith(w, *dst, *a, *b, |a, b| format!("addmod({a}, {b}, R)")),
            Op::Sub { dst, a, b } => l.arith(w, *dst, *a, *b, |a, b| format!("addmod({a}, sub(R, {b}), R)")),
            Op::Mul { dst, a, b } => l.arith(w, *dst, *a, *b, |a, b| format!("mulmod({a}, {b}, R)")),
            Op::Pow { dst, base, exp } => {
                let _ = writeln!(w, "            mstore({}, powR({}, {exp}))", l.s_addr(*dst), l.s(*base));
            }
            Op::BatchInvert { pairs } => render_batch_invert(w, &l, pairs),
            Op::PointConst { dst, value } => {
                let [x, y] = g1_words(value);
                let _ = writeln!(w, "            mstore({}, {x}) mstore({}, {y})", l.p_addr(*dst, 0), l.p_addr(*dst, 1));
            }
            Op::Msm { dst, terms } => render_msm(w, &l, *dst, terms),
            Op::PairingCheck { lhs, rhs } => {
                let base = l.scratch;
                let [sx1, sx0, sy1, sy0] = g2_words(&program.s_g2);
                let [gx1, gx0, gy1, gy0] = g2_words(&(-program.g2));
                let _ = writeln!(w, "            // e(h2, [s]_2) · e(outer, −[1]_2) = 1");
                let words = [
                    format!("mload({})", l.p_addr(*lhs, 0)),
                    format!("mload({})", l.p_addr(*lhs, 1)),
                    sx1,
                    sx0,
                    sy1,
                    sy0,
                    format!("mload({})", l.p_addr(*rhs, 0)),
                    format!("mload({})", l.p_addr(*rhs, 1)),
                    gx1,
                    gx0,
                    gy1,
                    gy0,
                ];
                for (i, word) in words.iter().enumerate() {
                    let _ = writeln!(w, "            mstore({:#x}, {word})", base + 32 * i);
                }
                let _ = writeln!(w, "            if iszero(staticcall(gas(), 0x08, {base:#x}, 384, {base:#x}, 32)) {{ reject() }}");
                let _ = writeln!(w, "            mstore(0, mload({base:#x}))");
                let _ = writeln!(w, "            return(0, 32)");
            }
        }
    }
    wrap(program, provenance, &l, &body)
}

fn render_batch_invert(w: &mut String, l: &Layout, pairs: &[(S, S)]) {
    // Montgomery's trick: prefix products, one modexp inversion, then back-substitution.
    let _ = writeln!(w, "            // batch inversion of {} values", pairs.len());
    let _ = writeln!(w, "            {{");
    let _ = writeln!(w, "                let acc := 1");
    for (dst, src) in pairs {
        let _ = writeln!(w, "                mstore({}, acc) acc := mulmod(acc, {}, R)", l.s_addr(*dst), l.s(*src));
    }
    let _ = writeln!(w, "                let inv := invR(acc)");
    for (dst, src) in pairs.iter().rev() {
        let _ = writeln!(
            w,
            "                {{ let prefix := mload({}) mstore({}, mulmod(prefix, inv, R)) inv := mulmod(inv, {}, R) }}",
            l.s_addr(*dst),
            l.s_addr(*dst),
            l.s(*src)
        );
    }
    let _ = writeln!(w, "            }}");
}

fn render_msm(w: &mut String, l: &Layout, dst: P, terms: &[(S, P)]) {
    let (acc, tmp, table) = (l.scratch, l.scratch + 64, l.scratch + 0x200);
    let _ = writeln!(w, "            // multi-scalar multiplication over {} terms", terms.len());
    let _ = writeln!(w, "            mstore({acc:#x}, 0) mstore({:#x}, 0)", acc + 32);
    let add_point = |w: &mut String, p: P| {
        let _ = writeln!(w, "            mstore({tmp:#x}, mload({})) mstore({:#x}, mload({}))", l.p_addr(p, 0), tmp + 32, l.p_addr(p, 1));
        let _ = writeln!(w, "            if iszero(staticcall(gas(), 0x06, {acc:#x}, 128, {acc:#x}, 64)) {{ reject() }}");
    };
    // A scalar of exactly 1 needs no multiplication; every other term goes through one loop
    // over a packed table of (scalar address, point address) pairs, 2 bytes each.
    let mut looped = Vec::new();
    for (s, p) in terms {
        match l.s(*s).as_str() {
            "1" => add_point(w, *p),
            lit if l.consts.contains_key(s) => {
                let _ = writeln!(w, "            mstore({}, {lit})", l.s_addr(*s));
                looped.push((*s, *p));
            }
            _ => looped.push((*s, *p)),
        }
    }
    let addresses: Vec<(usize, usize)> =
        looped.iter().map(|(s, p)| (SCALAR_BASE + 32 * s.0 as usize, l.point_base + 64 * p.0 as usize)).collect();
    if addresses.iter().any(|(sa, pa)| *sa >= 1 << 16 || *pa >= 1 << 16) {
        // Too many registers for 2-byte table entries: one unrolled ecMul + ecAdd per term.
        for (s, p) in &looped {
            let _ =
                writeln!(w, "            mstore({tmp:#x}, mload({})) mstore({:#x}, mload({}))", l.p_addr(*p, 0), tmp + 32, l.p_addr(*p, 1));
            let _ = writeln!(w, "            mstore({:#x}, mload({}))", tmp + 64, l.s_addr(*s));
            let _ = writeln!(w, "            if iszero(staticcall(gas(), 0x07, {tmp:#x}, 96, {tmp:#x}, 64)) {{ reject() }}");
            let _ = writeln!(w, "            if iszero(staticcall(gas(), 0x06, {acc:#x}, 128, {acc:#x}, 64)) {{ reject() }}");
        }
        let _ =
            writeln!(w, "            mstore({}, mload({acc:#x})) mstore({}, mload({:#x}))", l.p_addr(dst, 0), l.p_addr(dst, 1), acc + 32);
        return;
    }
    let entries: Vec<[u8; 4]> = addresses.iter().map(|(sa, pa)| [(sa >> 8) as u8, *sa as u8, (pa >> 8) as u8, *pa as u8]).collect();
    for (k, chunk) in entries.chunks(8).enumerate() {
        let mut word = [0u8; 32];
        for (i, e) in chunk.iter().enumerate() {
            word[4 * i..4 * i + 4].copy_from_slice(e);
        }
        let _ = writeln!(w, "            mstore({:#x}, 0x{})", table + 32 * k, hex::encode(word));
    }
    let _ = writeln!(w, "            for {{ let i := 0 }} lt(i, {}) {{ i := add(i, 1) }} {{", entries.len());
    let _ = writeln!(w, "                let e := shr(224, mload(add({table:#x}, mul(i, 4))))");
    let _ = writeln!(w, "                let pa := and(e, 0xffff)");
    let _ = writeln!(
        w,
        "                mstore({tmp:#x}, mload(pa)) mstore({:#x}, mload(add(pa, 32))) mstore({:#x}, mload(shr(16, e)))",
        tmp + 32,
        tmp + 64
    );
    let _ = writeln!(w, "                if iszero(staticcall(gas(), 0x07, {tmp:#x}, 96, {tmp:#x}, 64)) {{ reject() }}");
    let _ = writeln!(w, "                if iszero(staticcall(gas(), 0x06, {acc:#x}, 128, {acc:#x}, 64)) {{ reject() }}");
    let _ = writeln!(w, "            }}");
    let _ = writeln!(w, "            mstore({}, mload({acc:#x})) mstore({}, mload({:#x}))", l.p_addr(dst, 0), l.p_addr(dst, 1), acc + 32);
}

/// The card's ranges as a comment table, one line per public input.
fn card_comment(p: &Provenance) -> String {
    let width = p.ranges().map(|r| r.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (kind, ranges) in [("kpi", &p.kpis), ("param", &p.parameters), ("output", &p.outputs)] {
        for r in ranges {
            let _ = writeln!(out, "    ///   {kind:<6} {:<width$}  [{}, {}]", r.name, r.lo, r.hi);
        }
    }
    for (r, m) in p.outputs.iter().zip(&p.output_maps) {
        let _ = writeln!(out, "    ///   map    {:<width$}  round(y * {} / 2^{})", r.name, m.step, m.scale_bits);
    }
    out
}

fn wrap(program: &Program, p: &Provenance, l: &Layout, body: &str) -> String {
    let inv_scratch = format!("{:#x}", l.scratch + 0x100);
    format!(
        r#"// SPDX-License-Identifier: MIT
// Generated by `zkpolicy gen-verifier`; do not edit. Regenerate from the model instead.
//
// Model:       {model}
// Commitment:  {commitment}
// Circuit:     k = {k}, halo2 KZG over BN254, SHPLONK, Keccak-256 EVM transcript
// Instances:   {order}
//
// verifyProof(proof, instances) returns true exactly when halo2's native verifier
// accepts `proof` for these public inputs. It returns false for a proof of the
// wrong length, the wrong instance count, an instance >= r, a scalar >= r, a point
// not on the curve, or a failed check.
pragma solidity {solc};

contract {name} {{
    uint256 internal constant PROOF_LENGTH = {proof_len};
    uint256 internal constant INSTANCE_COUNT = {instances};

    /// The public model card: the model commitment, the number of KPIs, of controller
    /// parameters the model reads (0, or one per output) and of outputs, and the integer
    /// range of each, KPIs first, then parameters, then outputs (`lo ‖ hi`, big-endian
    /// int64, 16 bytes each), then each output's map to its parameter change
    /// (`scale_bits ‖ step`: the change is `round(y · step / 2^scale_bits)`, halves up):
{card_table}    /// The circuit accepts KPIs and parameters only in their range and produces outputs
    /// only in theirs; a caller encodes a signed value `v` as `v`, or `r − |v|` when
    /// negative, and only inside its range, where that encoding is one-to-one.
    function modelCard()
        external
        pure
        returns (bytes32 commitment, uint256 kpiCount, uint256 parameterCount, uint256 outputCount, bytes memory ranges)
    {{
        return ({commitment}, {kpi_count}, {parameter_count}, {output_count}, hex"{ranges}");
    }}

    function verifyProof(bytes calldata proof, uint256[] calldata instances) external view returns (bool) {{
        // Not memory-safe: registers live at fixed addresses and the function returns from assembly.
        assembly {{
            // The BN254 scalar field modulus.
            let R := 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001

            function reject() {{
                mstore(0, 0)
                return(0, 32)
            }}

            // (x, y) is the identity (0, 0) or a canonical point on y² = x³ + 3.
            function onCurve(x, y) -> ok {{
                let q := 0x30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47
                switch and(iszero(x), iszero(y))
                case 1 {{ ok := 1 }}
                default {{
                    if and(lt(x, q), lt(y, q)) {{
                        ok := eq(mulmod(y, y, q), addmod(mulmod(mulmod(x, x, q), x, q), 3, q))
                    }}
                }}
            }}

            function powR(base, e) -> acc {{
                let r := 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001
                acc := 1
                for {{ }} gt(e, 0) {{ e := shr(1, e) }} {{
                    if and(e, 1) {{ acc := mulmod(acc, base, r) }}
                    base := mulmod(base, base, r)
                }}
            }}

            // n points from calldata at off into the transcript buffer at buf and the registers
            // from dst, each on the curve. One function for every read keeps the code small.
            function readPoints(buf, off, n, dst) {{
                calldatacopy(buf, off, mul(n, 64))
                for {{ let end := add(buf, mul(n, 64)) }} lt(buf, end) {{ buf := add(buf, 64) dst := add(dst, 64) }} {{
                    let x := mload(buf) let y := mload(add(buf, 32))
                    if iszero(onCurve(x, y)) {{ reject() }}
                    mstore(dst, x) mstore(add(dst, 32), y)
                }}
            }}

            // n scalars from calldata at off into the transcript buffer at buf and the
            // registers from dst, each below r.
            function readScalars(buf, off, n, dst) {{
                calldatacopy(buf, off, mul(n, 32))
                for {{ let end := add(buf, mul(n, 32)) }} lt(buf, end) {{ buf := add(buf, 32) dst := add(dst, 32) }} {{
                    let v := mload(buf)
                    if iszero(lt(v, 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001)) {{ reject() }}
                    mstore(dst, v)
                }}
            }}

            // 1/v by Fermat through the modexp precompile; rejects v = 0.
            function invR(v) -> inv {{
                if iszero(v) {{ reject() }}
                let p := {inv_scratch}
                mstore(p, 32) mstore(add(p, 0x20), 32) mstore(add(p, 0x40), 32)
                mstore(add(p, 0x60), v)
                mstore(add(p, 0x80), {r_minus_2})
                mstore(add(p, 0xa0), 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001)
                if iszero(staticcall(gas(), 0x05, p, 0xc0, p, 0x20)) {{ reject() }}
                inv := mload(p)
            }}

            if iszero(eq(proof.length, PROOF_LENGTH)) {{ reject() }}
            if iszero(eq(instances.length, INSTANCE_COUNT)) {{ reject() }}

{body}        }}
    }}
}}
"#,
        model = p.model,
        commitment = format!("0x{}", hex::encode(p.model_commitment)),
        k = p.k,
        order = p.instance_order(),
        card_table = card_comment(p),
        kpi_count = p.kpis.len(),
        parameter_count = p.parameters.len(),
        output_count = p.outputs.len(),
        ranges = hex::encode(p.packed_ranges()),
        solc = SOLC_VERSION,
        name = CONTRACT_NAME,
        proof_len = program.proof_len,
        instances = program.num_instances,
        r_minus_2 = fr_hex(&-Fr::from(2u64)),
        inv_scratch = inv_scratch,
        body = body,
    )
}

/// The precompile calls the rendered verifier makes on every proof, for pricing it on
/// chains whose precompile prices differ.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PrecompileCalls {
    /// ecAdd (0x06) calls: one per MSM term.
    pub ec_add: u64,
    /// ecMul (0x07) calls: one per MSM term whose scalar is not the constant 1.
    pub ec_mul: u64,
    /// Pairing calls, and the pairs they check in all.
    pub pairings: u64,
    /// The G1–G2 pairs those calls check in all (two per pairing check).
    pub pairing_pairs: u64,
    /// modexp (0x05) calls: one per batched inversion (`BatchInvert`, which also inverts the
    /// instance evaluation's denominator), a Fermat inverse `x^(r−2)`.
    pub modexp: u64,
}

/// Counts what [`render`] emits: an ecAdd per MSM term, an ecMul per term whose scalar is
/// not the constant 1, a modexp per inversion, one two-pair pairing.
pub fn precompile_calls(program: &Program) -> PrecompileCalls {
    let l = Layout::new(program);
    let mut calls = PrecompileCalls::default();
    for op in &program.ops {
        match op {
            Op::Msm { terms, .. } => {
                calls.ec_add += terms.len() as u64;
                calls.ec_mul += terms.iter().filter(|(s, _)| l.consts.get(s).map(String::as_str) != Some("1")).count() as u64;
            }
            Op::BatchInvert { .. } => calls.modexp += 1,
            Op::PairingCheck { .. } => {
                calls.pairings += 1;
                calls.pairing_pairs += 2;
            }
            _ => {}
        }
    }
    calls
}
