//! The honest baseline: a contract that recomputes the integer model on chain.
//!
//! A proof earns its gas only against the best on-chain alternative, so this one is
//! written to be cheap. Several multiply-adds share one EVM word (SWAR): inputs are
//! shifted to be non-negative (`u = x − lo`), weights too (`v = w + 2^(bits−1)`), so that
//!
//! ```text
//! z_i = b_i + Σ_j w_ij·x_j = c_i − 2^(bits−1)·Σ_j u_j + Σ_j v_ij·u_j,   c_i = b_i + Σ_j w_ij·lo_j
//! ```
//!
//! and the last sum, non-negative and bounded by the interval analysis, fits a `B`-bit
//! lane. `⌊256 / B⌋` neurons share a packed weight word, so one `MUL` and one `ADD` do
//! that many multiply-adds, carry-free. Weights live in the contract's code (`PUSH32`
//! constants) when they fit EIP-170's 24,576 bytes, otherwise in data contracts of at
//! most 24,575 bytes each, streamed into one memory buffer a chunk at a time. The
//! result is exactly `zkpolicy_model::infer` (tests hold the two, and the circuit, equal).

use std::fmt::Write;

use crate::solidity::{NamedRange, SOLC_VERSION};

/// The largest deployed code (EIP-170).
pub const MAX_CODE: usize = 24_576;
/// Weight words in code before the weights move to data contracts.
const MAX_INLINE_WORDS: usize = 560;
/// Words per data contract (its code is one STOP byte, then the words).
const CHUNK_WORDS: usize = (MAX_CODE - 1) / 32;

/// The rendered baseline contract's name, as the compiler's output keys it.
pub const CONTRACT_NAME: &str = "ZkPolicyRecompute";

alloy_sol_types::sol! {
    /// The baseline's interface, as the rendered contract declares it.
    #[derive(Debug, PartialEq, Eq)]
    contract ZkPolicyRecompute {
        function recompute(int256[] kpis) external view returns (int256[] outputs);
        error WrongKpiCount(uint256 expected, uint256 got);
        error KpiOutOfRange(uint256 index, int256 value);
    }
}

/// An integer MLP as the circuit proves it, with the bounds its validation computed.
#[derive(Clone, Debug)]
pub struct IntegerMlp {
    /// The model's name, for the contract's header comment.
    pub name: String,
    /// The model's commitment, for the contract's header comment.
    pub model_commitment: [u8; 32],
    /// Signed width of every weight: weights lie in `[−2^(bits−1), 2^(bits−1))`.
    pub weight_bits: u32,
    /// The network inputs' ranges: the KPIs, then any parameters the model reads (the
    /// baseline takes them as one vector, `recompute(kpis ‖ parameters)`).
    pub inputs: Vec<NamedRange>,
    /// The dense layers, input to output: relu on every hidden layer, linear then clamped
    /// on the last.
    pub layers: Vec<MlpLayer>,
    /// The output clamp bounds.
    pub outputs: Vec<NamedRange>,
}

/// One dense layer of an [`IntegerMlp`]: `floor((W·x + b) / 2^shift)`, then relu or the clamp.
#[derive(Clone, Debug)]
pub struct MlpLayer {
    /// `weights[i][j]`: neuron `i`, input `j`.
    pub weights: Vec<Vec<i64>>,
    /// One bias per neuron.
    pub bias: Vec<i64>,
    /// The requantization shift (an arithmetic right shift: floor division by `2^shift`).
    pub shift: u32,
    /// Hidden layers: relu or not. The last layer clamps to the output bounds instead.
    pub relu: bool,
    /// Each input's interval (`[lo, hi]`), from the model's interval analysis.
    pub input_bounds: Vec<(i64, i64)>,
}

/// Why no baseline contract can be rendered for a model (the benchmark then prints why,
/// in place of the baseline's gas).
#[derive(Debug, thiserror::Error)]
pub enum RecomputeError {
    /// A weight lies outside the declared `weight_bits`, so its offset form is not packable.
    #[error("layer {layer}: weight {weight} does not fit {bits} signed bits")]
    WeightWidth {
        /// The layer's index.
        layer: usize,
        /// The offending weight.
        weight: i64,
        /// The declared signed width.
        bits: u32,
    },
    /// A neuron's shifted sum can need more than 128 bits, so not even two lanes share a word.
    #[error("layer {layer}: a packed sum needs {bits} bits, more than a 256-bit word")]
    LaneTooWide {
        /// The layer's index.
        layer: usize,
        /// The lane width the interval analysis requires.
        bits: u32,
    },
    /// The model has no layers, or its last layer's width is not the output count.
    #[error("the model has no layers or its shapes disagree")]
    Shape,
    /// A layer's activation is neither relu (hidden) nor none (output).
    #[error("layer {layer}: the recompute baseline covers relu and linear layers, not {activation}")]
    Activation {
        /// The layer's index.
        layer: usize,
        /// The activation's name, e.g. "tanh".
        activation: &'static str,
    },
    /// One group of neurons sharing packed words needs more than one data contract.
    #[error("layer {layer}: one neuron group's data ({words} words) does not fit a data contract")]
    GroupTooLarge {
        /// The layer's index.
        layer: usize,
        /// 32-byte words the group's data takes.
        words: usize,
    },
}

/// How one layer is packed.
#[derive(Clone, Debug)]
struct Packing {
    /// Lane width in bits and lanes per word.
    width: u32,
    lanes: usize,
    /// `words[g][j]`: the packed weights of neuron group `g` for input `j`.
    words: Vec<Vec<[u8; 32]>>,
    /// `c_i − 2^(bits−1)·Σ…` is computed at run time; `c_i` here.
    offsets: Vec<i128>,
}

/// A rendered baseline: the contract's source, and the data contracts its weights need
/// (deploy them first and pass their addresses to the constructor, in order).
#[derive(Clone, Debug)]
pub struct Recompute {
    /// The contract's Solidity source.
    pub source: String,
    /// Each data contract's code (a STOP byte, then the weight words).
    pub chunks: Vec<Vec<u8>>,
    /// Multiply-adds the model does, and the packed `MUL`s that do them.
    pub multiply_adds: usize,
    /// Packed weight words: one `MUL` each.
    pub packed_words: usize,
}

fn bits_of(v: u128) -> u32 {
    128 - v.leading_zeros()
}

fn pack(layer: &MlpLayer, index: usize, weight_bits: u32) -> Result<Packing, RecomputeError> {
    let w0 = 1i128 << (weight_bits - 1);
    let spans: Vec<u128> = layer.input_bounds.iter().map(|(lo, hi)| (*hi as i128 - *lo as i128).max(0) as u128).collect();
    let mut widest = 0u128;
    for row in &layer.weights {
        let mut sum = 0u128;
        for (&w, span) in row.iter().zip(&spans) {
            if (w as i128) < -w0 || (w as i128) >= w0 {
                return Err(RecomputeError::WeightWidth { layer: index, weight: w, bits: weight_bits });
            }
            sum += (w as i128 + w0) as u128 * span;
        }
        widest = widest.max(sum);
    }
    let width = bits_of(widest).max(1);
    if width > 128 {
        return Err(RecomputeError::LaneTooWide { layer: index, bits: width });
    }
    let lanes = (256 / width) as usize;
    let n = layer.input_bounds.len();
    let words = layer
        .weights
        .chunks(lanes)
        .map(|group| {
            (0..n)
                .map(|j| {
                    let mut word = [0u8; 32];
                    for (k, row) in group.iter().enumerate() {
                        let v = (row[j] as i128 + w0) as u128;
                        add_shifted(&mut word, v, width as usize * k);
                    }
                    word
                })
                .collect()
        })
        .collect();
    let offsets = layer
        .weights
        .iter()
        .zip(&layer.bias)
        .map(|(row, &b)| b as i128 + row.iter().zip(&layer.input_bounds).map(|(&w, (lo, _))| w as i128 * *lo as i128).sum::<i128>())
        .collect();
    Ok(Packing { width, lanes, words, offsets })
}

/// `word += v << shift` on a big-endian 256-bit word (the lanes never overlap).
fn add_shifted(word: &mut [u8; 32], v: u128, shift: usize) {
    for bit in 0..128 {
        if v >> bit & 1 == 1 {
            let at = shift + bit;
            if at < 256 {
                word[31 - at / 8] |= 1 << (at % 8);
            }
        }
    }
}

fn hex_word(w: &[u8; 32]) -> String {
    format!("0x{}", hex::encode(w))
}

/// An int as a Yul literal (two's complement for negatives).
fn yul_int(v: i128) -> String {
    if v >= 0 {
        v.to_string()
    } else {
        format!("sub(0, {})", -v)
    }
}

/// The packed weight words `mlp` needs, and the multiply-adds they carry.
pub fn packed_words(mlp: &IntegerMlp) -> Result<(usize, usize), RecomputeError> {
    let packings = mlp.layers.iter().enumerate().map(|(l, layer)| pack(layer, l, mlp.weight_bits)).collect::<Result<Vec<_>, _>>()?;
    let words = packings.iter().map(|p| p.words.iter().map(Vec::len).sum::<usize>()).sum();
    let multiply_adds = mlp.layers.iter().map(|l| l.weights.iter().map(Vec::len).sum::<usize>()).sum();
    Ok((words, multiply_adds))
}

/// Renders the baseline contract for `mlp`.
pub fn render(mlp: &IntegerMlp) -> Result<Recompute, RecomputeError> {
    if mlp.layers.is_empty() || mlp.layers.last().map(|l| l.bias.len()) != Some(mlp.outputs.len()) {
        return Err(RecomputeError::Shape);
    }
    let packings = mlp.layers.iter().enumerate().map(|(l, layer)| pack(layer, l, mlp.weight_bits)).collect::<Result<Vec<_>, _>>()?;
    let total_words: usize = packings.iter().map(|p| p.words.iter().map(Vec::len).sum::<usize>()).sum();
    let multiply_adds = mlp.layers.iter().map(|l| l.weights.iter().map(Vec::len).sum::<usize>()).sum();
    let inline = total_words <= MAX_INLINE_WORDS;

    let mut body = String::new();
    let w = &mut body;
    let n0 = mlp.inputs.len();
    // Scratch memory past the free memory pointer (never allocated, so memory-safe):
    // X (the current layer's shifted inputs), Y (the next layer's), then the weight buffer.
    let widest = mlp.layers.iter().map(|l| l.bias.len()).chain([n0]).max().unwrap_or(0);
    let _ = writeln!(w, "        assembly (\"memory-safe\") {{");
    let _ = writeln!(w, "            let x := mload(0x40)");
    let _ = writeln!(w, "            let y := add(x, {})", 32 * widest);
    let _ = writeln!(w, "            let buffer := add(x, {})", 64 * widest);
    // Inputs: shifted to their lower bounds (the range checks above make them non-negative).
    for (j, (lo, _)) in mlp.layers[0].input_bounds.iter().enumerate() {
        let _ = writeln!(
            w,
            "            mstore(add(x, {}), sub(calldataload(add(kpis.offset, {})), {}))",
            32 * j,
            32 * j,
            yul_int(*lo as i128)
        );
    }
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    let last = mlp.layers.len() - 1;
    for (l, (layer, p)) in mlp.layers.iter().zip(&packings).enumerate() {
        let n = layer.input_bounds.len();
        let w0 = 1u128 << (mlp.weight_bits - 1);
        let _ =
            writeln!(w, "            // layer {l}: {n} inputs, {} neurons, {} per word ({}-bit lanes)", layer.bias.len(), p.lanes, p.width);
        let _ = writeln!(w, "            {{");
        let _ = writeln!(w, "                let sum := 0");
        let _ = writeln!(
            w,
            "                for {{ let j := 0 }} lt(j, {n}) {{ j := add(j, 1) }} {{ sum := add(sum, mload(add(x, mul(j, 32)))) }}"
        );
        let _ = writeln!(w, "                let base := mul(sum, {w0})");
        if inline {
            render_inline_layer(w, mlp, l, p);
        } else {
            render_chunked_layer(w, mlp, l, p, &mut chunks)?;
        }
        let _ = writeln!(w, "            }}");
        if l != last {
            let _ = writeln!(w, "            {{ let t := x x := y y := t }}");
        }
    }
    let _ = writeln!(w, "        }}");

    let source = wrap(mlp, &body, chunks.len(), inline);
    let packed_words = total_words;
    Ok(Recompute { source, chunks, multiply_adds, packed_words })
}

fn group_len(neurons: usize, lanes: usize, g: usize) -> usize {
    lanes.min(neurons - g * lanes)
}

fn mask(width: u32) -> String {
    format!("{:#x}", (1u128 << width) - 1)
}

/// Straight-line code, the packed weights as `PUSH32` constants and every per-neuron
/// constant inlined.
fn render_inline_layer(w: &mut String, mlp: &IntegerMlp, l: usize, p: &Packing) {
    let layer = &mlp.layers[l];
    let last = l + 1 == mlp.layers.len();
    for (g, group) in p.words.iter().enumerate() {
        let _ = writeln!(w, "                {{");
        let _ = writeln!(w, "                    let a := 0");
        for (j, word) in group.iter().enumerate() {
            if word.iter().any(|b| *b != 0) {
                let _ = writeln!(w, "                    a := add(a, mul({}, mload(add(x, {}))))", hex_word(word), 32 * j);
            }
        }
        for k in 0..group_len(layer.bias.len(), p.lanes, g) {
            let i = g * p.lanes + k;
            let lane = format!("and(shr({}, a), {})", p.width as usize * k, mask(p.width));
            let q = format!("sar({}, sub(add({}, {lane}), base))", layer.shift, yul_int(p.offsets[i]));
            if last {
                let (lo, hi) = (yul_int(mlp.outputs[i].lo as i128), yul_int(mlp.outputs[i].hi as i128));
                let _ = writeln!(w, "                    {{ let q := {q} if slt(q, {lo}) {{ q := {lo} }} if sgt(q, {hi}) {{ q := {hi} }}");
                let _ = writeln!(w, "                      mstore(add(outputs, {}), q) }}", 32 * (i + 1));
            } else {
                let next_lo = yul_int(mlp.layers[l + 1].input_bounds[i].0 as i128);
                let relu = if layer.relu { "if slt(q, 0) { q := 0 } " } else { "" };
                let _ = writeln!(w, "                    {{ let q := {q} {relu}mstore(add(y, {}), sub(q, {next_lo})) }}", 32 * i);
            }
        }
        let _ = writeln!(w, "                }}");
    }
}

/// Loops over weights streamed from data contracts, one chunk into the buffer at a time.
/// Each group's data is `[lanes used][n weight words][c_i per lane][next lower bound per
/// lane]` (the last layer: `[lo, hi]` per lane instead of the lower bound), all 32-byte
/// words; a chunk holds whole groups of one layer.
fn render_chunked_layer(w: &mut String, mlp: &IntegerMlp, l: usize, p: &Packing, chunks: &mut Vec<Vec<u8>>) -> Result<(), RecomputeError> {
    let layer = &mlp.layers[l];
    let last = l + 1 == mlp.layers.len();
    let n = layer.input_bounds.len();
    let post = if last { 2 } else { 1 };
    let word_i = |v: i128| {
        let mut out = [0u8; 32];
        let fill = if v < 0 { 0xff } else { 0 };
        out[..16].fill(fill);
        out[16..].copy_from_slice(&v.to_be_bytes());
        out
    };
    // Lay the groups into chunks.
    let mut plans: Vec<(Vec<u8>, usize, usize)> = Vec::new(); // (data, groups, first neuron)
    let mut current: (Vec<u8>, usize, usize) = (vec![0], 0, 0);
    for (g, group) in p.words.iter().enumerate() {
        let gl = group_len(layer.bias.len(), p.lanes, g);
        let mut data = Vec::new();
        data.extend_from_slice(&word_i(gl as i128));
        group.iter().for_each(|word| data.extend_from_slice(word));
        (0..gl).for_each(|k| data.extend_from_slice(&word_i(p.offsets[g * p.lanes + k])));
        for k in 0..gl {
            let i = g * p.lanes + k;
            if last {
                data.extend_from_slice(&word_i(mlp.outputs[i].lo as i128));
                data.extend_from_slice(&word_i(mlp.outputs[i].hi as i128));
            } else {
                data.extend_from_slice(&word_i(mlp.layers[l + 1].input_bounds[i].0 as i128));
            }
        }
        if data.len() > 32 * CHUNK_WORDS {
            return Err(RecomputeError::GroupTooLarge { layer: l, words: data.len() / 32 });
        }
        if current.0.len() - 1 + data.len() > 32 * CHUNK_WORDS {
            let first = current.2 + current.1 * p.lanes;
            plans.push(std::mem::replace(&mut current, (vec![0], 0, first)));
        }
        current.0.extend_from_slice(&data);
        current.1 += 1;
    }
    plans.push(current);
    for (data, groups, first) in plans {
        let index = chunks.len();
        let bytes = data.len() - 1;
        chunks.push(data);
        let _ = writeln!(w, "                extcodecopy(mload(add(chunks, {})), buffer, 1, {bytes})", 32 * index);
        let _ = writeln!(w, "                {{");
        let _ = writeln!(w, "                    let wp := buffer");
        let _ = writeln!(w, "                    let i := {first}");
        let _ = writeln!(w, "                    for {{ let g := 0 }} lt(g, {groups}) {{ g := add(g, 1) }} {{");
        let _ = writeln!(w, "                        let gl := mload(wp)");
        let _ = writeln!(w, "                        wp := add(wp, 32)");
        // The multiply-adds, four words per iteration, then the rest.
        let _ = writeln!(w, "                        let a := 0");
        let _ = writeln!(w, "                        let xp := x");
        let unrolled = n / 4 * 4;
        if unrolled > 0 {
            let _ = writeln!(
                w,
                "                        for {{ let end := add(wp, {}) }} lt(wp, end) {{ wp := add(wp, 128) xp := add(xp, 128) }} {{",
                32 * unrolled
            );
            let _ = writeln!(w, "                            a := add(add(add(add(a, mul(mload(wp), mload(xp))), mul(mload(add(wp, 32)), mload(add(xp, 32)))),");
            let _ = writeln!(w, "                                mul(mload(add(wp, 64)), mload(add(xp, 64)))), mul(mload(add(wp, 96)), mload(add(xp, 96))))");
            let _ = writeln!(w, "                        }}");
        }
        for r in 0..n - unrolled {
            let _ = writeln!(w, "                        a := add(a, mul(mload(add(wp, {})), mload(add(xp, {}))))", 32 * r, 32 * r);
        }
        if n > unrolled {
            let _ = writeln!(w, "                        wp := add(wp, {})", 32 * (n - unrolled));
        }
        let _ = writeln!(w, "                        for {{ let k := 0 }} lt(k, gl) {{ k := add(k, 1) }} {{");
        let _ = writeln!(w, "                            let lane := and(shr(mul(k, {}), a), {})", p.width, mask(p.width));
        let _ = writeln!(w, "                            let q := sar({}, sub(add(mload(add(wp, mul(k, 32))), lane), base))", layer.shift);
        if last {
            let _ = writeln!(w, "                            let lo := mload(add(wp, mul(add(gl, mul(k, 2)), 32)))");
            let _ = writeln!(w, "                            let hi := mload(add(wp, mul(add(gl, add(mul(k, 2), 1)), 32)))");
            let _ = writeln!(w, "                            if slt(q, lo) {{ q := lo }} if sgt(q, hi) {{ q := hi }}");
            let _ = writeln!(w, "                            mstore(add(outputs, mul(add(add(i, k), 1), 32)), q)");
        } else {
            if layer.relu {
                let _ = writeln!(w, "                            if slt(q, 0) {{ q := 0 }}");
            }
            let _ =
                writeln!(w, "                            mstore(add(y, mul(add(i, k), 32)), sub(q, mload(add(wp, mul(add(gl, k), 32)))))");
        }
        let _ = writeln!(w, "                        }}");
        let _ = writeln!(w, "                        wp := add(wp, mul(gl, {}))", 32 * (1 + post));
        let _ = writeln!(w, "                        i := add(i, gl)");
        let _ = writeln!(w, "                    }}");
        let _ = writeln!(w, "                }}");
    }
    Ok(())
}

fn wrap(mlp: &IntegerMlp, body: &str, chunks: usize, inline: bool) -> String {
    let commitment = format!("0x{}", hex::encode(mlp.model_commitment));
    let mut checks = String::new();
    for (i, r) in mlp.inputs.iter().enumerate() {
        let _ = writeln!(
            checks,
            "        if (kpis[{i}] < {} || kpis[{i}] > {}) revert KpiOutOfRange({i}, kpis[{i}]); // {}",
            r.lo, r.hi, r.name
        );
    }
    let immutables: String = (0..chunks).map(|k| format!("    address internal immutable CHUNK_{k};\n")).collect();
    let constructor = if chunks == 0 {
        String::new()
    } else {
        let assigns: String = (0..chunks).map(|k| format!("        CHUNK_{k} = chunks[{k}];\n")).collect();
        format!("\n    /// The weight data contracts, in order.\n    constructor(address[{chunks}] memory chunks) {{\n{assigns}    }}\n")
    };
    // Assembly reads immutables through memory.
    let locals = if chunks == 0 {
        String::new()
    } else {
        let list: Vec<String> = (0..chunks).map(|k| format!("CHUNK_{k}")).collect();
        format!("        address[{chunks}] memory chunks = [{}];\n", list.join(", "))
    };
    let storage = if inline { "its code (PUSH32 constants)".to_string() } else { format!("{chunks} data contracts") };
    format!(
        r#"// SPDX-License-Identifier: MIT
// Generated by zkpolicy; do not edit. The on-chain recomputation baseline for
// {name} ({commitment}): what a protocol pays to run the public integer model
// itself instead of verifying a proof. Weights in {storage}.
pragma solidity {solc};

contract {contract} {{
    error WrongKpiCount(uint256 expected, uint256 got);
    error KpiOutOfRange(uint256 index, int256 value);

{immutables}{constructor}
    /// The model's outputs on quantized `kpis`, exactly as the circuit proves them.
    function recompute(int256[] calldata kpis) external view returns (int256[] memory outputs) {{
        if (kpis.length != {inputs}) revert WrongKpiCount({inputs}, kpis.length);
{checks}        outputs = new int256[]({outputs});
{locals}{body}    }}
}}
"#,
        name = mlp.name,
        commitment = commitment,
        storage = storage,
        solc = SOLC_VERSION,
        contract = CONTRACT_NAME,
        immutables = immutables,
        constructor = constructor,
        inputs = mlp.inputs.len(),
        outputs = mlp.outputs.len(),
        checks = checks,
        locals = locals,
        body = body,
    )
}

/// Creation code for a data contract whose code is `code`.
pub fn data_contract_creation(code: &[u8]) -> Vec<u8> {
    let len = code.len();
    // PUSH2 len, DUP1, PUSH1 10, RETURNDATASIZE, CODECOPY, RETURNDATASIZE, RETURN, then the code.
    let mut out = vec![0x61, (len >> 8) as u8, len as u8, 0x80, 0x60, 0x0a, 0x3d, 0x39, 0x3d, 0xf3];
    out.extend_from_slice(code);
    out
}
