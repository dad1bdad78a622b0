//! Private weights end to end: real proofs natively and in the EVM, tampering, what the
//! published artifacts reveal, and a verifying key that depends on the weights only through
//! their commitment.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::Field;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkpolicy_circuits::{private, Objective, PolicyCircuit, Salt};
use zkpolicy_model::{Model, ModelFile, QuantizedKpis};
use zkpolicy_prover::artifact::ProofArtifact;
use zkpolicy_prover::keys::{self, Prepared};
use zkpolicy_prover::vkey::{PublishedKey, VerifyingKeyFile};
use zkpolicy_prover::{evm as prover_evm, proof};
use zkpolicy_verifier::{abi, compile, evm};

use crate::common;

fn salt() -> Salt {
    Salt::random(ChaCha20Rng::seed_from_u64(21))
}

fn private_circuit(model: Arc<Model>) -> PolicyCircuit {
    PolicyCircuit::private(model, salt(), Objective::Gas).expect("plan")
}

/// The default model with private weights and development keys, made once for this binary.
fn prepared() -> &'static Prepared {
    static MADE: OnceLock<Prepared> = OnceLock::new();
    MADE.get_or_init(|| common::prepare(private_circuit(common::model("tokenomics-policy"))))
}

/// The generated verifier of [`prepared`] deployed in a fresh EVM; compiled once for this binary.
struct EvmVerifier {
    chain: evm::Evm,
    deployment: evm::Deployment,
}

impl EvmVerifier {
    fn deploy() -> Self {
        static BYTECODE: OnceLock<Vec<u8>> = OnceLock::new();
        let bytecode = BYTECODE.get_or_init(|| {
            let p = prepared();
            let source = prover_evm::verifier_source(&p.params, p.pk.get_vk(), &p.circuit).expect("source");
            prover_evm::compile_verifier(&source, compile::bundled_dir()).expect("compiles").bytecode
        });
        let mut chain = evm::Evm::new();
        let deployment = chain.deploy(bytecode.clone()).expect("deploys");
        Self { chain, deployment }
    }

    /// Whether `verify(proof, instance)` succeeds and returns true.
    fn accepts(&mut self, proof: &[u8], instance: &[Fr]) -> bool {
        let out = self.chain.call(self.deployment.address, abi::verify_calldata(proof, instance)).expect("call executes");
        out.success && abi::decode_bool(&out.output) == Some(true)
    }
}

#[test]
fn a_private_proof_verifies_natively_and_in_the_evm_and_tampering_is_rejected_by_both() {
    let prepared = prepared();
    let model = common::model("tokenomics-policy");
    let (circuit, params, pk) = (&prepared.circuit, &prepared.params, &prepared.pk);
    let kpis = QuantizedKpis::random(&model, &mut ChaCha20Rng::seed_from_u64(2));
    let (public, bytes) = proof::prove(params, pk, circuit, &kpis, 5, ChaCha20Rng::seed_from_u64(3)).expect("prove");
    assert_eq!(public.outputs, zkpolicy_model::infer(&model, &kpis).expect("reference").outputs);
    proof::verify(params, pk.get_vk(), &public, &bytes).expect("valid");

    let mut verifier = EvmVerifier::deploy();
    assert!(verifier.deployment.runtime_bytes <= evm::MAX_RUNTIME_BYTES);
    let mut verdict = |proof: &[u8], instance: &[Fr]| verifier.accepts(proof, instance);
    let instance = public.to_instance();
    assert!(verdict(&bytes, &instance), "the EVM rejects a valid private proof");
    // Every 5th byte of the proof (the full sweep runs on the fixed-weight proof).
    for i in (0..bytes.len()).step_by(5) {
        let mut forged = bytes.clone();
        forged[i] ^= 1 << (i % 8);
        let native = proof::verify(params, pk.get_vk(), &public, &forged).is_ok();
        assert!(!native && !verdict(&forged, &instance), "byte {i}");
    }
    for row in 0..instance.len() {
        let mut forged = instance.clone();
        forged[row] += Fr::from(1);
        let mut p = public.clone();
        match row {
            0 => p.epoch += 1,
            r if r <= p.kpis.len() => p.kpis = common::changed_kpi(&p.kpis, r - 1, |v| v + 1),
            r => p.outputs[r - 1 - p.kpis.len()] += 1,
        }
        assert!(proof::verify(params, pk.get_vk(), &p, &bytes).is_err() && !verdict(&bytes, &forged), "instance {row}");
    }
}

/// Issue 28's packing tampers, each on the default model's private circuit: MockProver names
/// the check that refuses the witness, and the proof a real prover makes of it (with the
/// honest proving key) is refused by halo2's verifier and by the generated verifier in the EVM.
/// - a byte out of range: parameter 0 (a 10-bit weight in two bytes) with one borrowed from
///   its first byte into its second (+256): the weight, its sums and the element unchanged;
/// - the weight the dense gate reads differs from its packed bytes;
/// - two weights swapped across their byte boundary in the dense cells, their bytes as committed;
/// - an architecture change with the same flat weights (another shift).
#[test]
fn packing_tampers_are_refused_by_name_natively_and_in_the_evm() {
    use zkpolicy_circuits::adversary::{self, CellRef, Failure};
    let prepared = prepared();
    let model = common::model("tokenomics-policy");
    let (circuit, params, pk) = (&prepared.circuit, &prepared.params, &prepared.pk);
    let kpis = QuantizedKpis::random(&model, &mut ChaCha20Rng::seed_from_u64(6));
    let public = zkpolicy_circuits::PublicInputs::honest(&model, 8, &kpis).expect("reference");
    let instance = public.to_instance();
    let honest = circuit.with_input(kpis);
    let cols = adversary::columns(&honest);
    let witness = adversary::run(&honest, instance.clone(), &[]).expect("synthesis").witness;
    let at = |column: halo2_proofs::plonk::Column<halo2_proofs::plonk::Advice>, row: usize| CellRef { column: column.index(), row };
    let value = |cell: CellRef| witness.get(&cell).copied().unwrap_or(Fr::ZERO);

    // Parameter 0's two bytes: units 0 and 1, after the first element's spacer.
    assert_eq!(private::parameters(&model)[0], (model.file().layers[0].weights[0][0], 2));
    let pack = circuit.placement().rows + private::pinned_constants(&model).len();
    let (first, second) = (pack + 1, pack + 2);
    let borrow: Vec<(CellRef, Fr)> = [(cols.limb, first), (cols.lanes[0], first), (cols.acc, first)]
        .into_iter()
        .map(|(c, r)| (at(c, r), value(at(c, r)) - Fr::ONE))
        .chain([(at(cols.limb, second), value(at(cols.limb, second)) + Fr::from(256))])
        .collect();
    assert_ne!(value(at(cols.limb, first)), Fr::ZERO, "the first byte has one to lend");
    // The dense cells of weights (0, 0, 0) and (0, 0, 1): one dot row each at one lane.
    let bias = circuit.placement().layers[0][0].bias;
    assert_eq!(circuit.shape().lanes, 1);
    let (w0, w1) = (at(cols.secret[0], bias + 1), at(cols.secret[0], bias + 2));
    assert_ne!(value(w0), value(w1), "distinct weights to swap");
    // (what, the cells overwritten, the checks MockProver must name)
    type Case<'a> = (&'a str, Vec<(CellRef, Fr)>, Vec<Failure>);
    let cases: [Case<'_>; 3] = [
        ("a byte out of range", borrow, vec![Failure::new(zkpolicy_circuits::chips::range::LOOKUP_NAME, second)]),
        ("a weight other than its bytes", vec![(w0, value(w0) + Fr::ONE)], vec![Failure::new("dot", bias + 1)]),
        ("two weights swapped", vec![(w0, value(w1)), (w1, value(w0))], vec![Failure::new("dot", bias + 1), Failure::new("dot", bias + 2)]),
    ];

    let mut verifier = EvmVerifier::deploy();
    for (what, overwrites, named) in cases {
        let outcome = adversary::run(&honest, instance.clone(), &overwrites).expect("synthesis");
        for failure in &named {
            assert!(outcome.failures.contains(failure), "{what}: {failure:?} not among {:?}", outcome.failures);
        }
        if what == "a byte out of range" {
            assert_eq!(outcome.failures.len(), 1, "{what}: only the lookup refuses it: {:?}", outcome.failures);
        } else {
            // The weight cell's copy into the packed bytes refuses it too.
            let copy = format!("permutation Column('Advice', {})", cols.secret[0].index());
            assert!(outcome.failures.iter().any(|f| f.check == copy), "{what}: {:?}", outcome.failures);
        }
        let (tampered, armed) = adversary::tampered(&honest, &overwrites);
        let mut transcript = zkpolicy_prover::transcript::EvmTranscript::new(Vec::<u8>::new());
        halo2_proofs::plonk::create_proof::<
            halo2_proofs::poly::kzg::commitment::KZGCommitmentScheme<halo2_proofs::halo2curves::bn256::Bn256>,
            halo2_proofs::poly::kzg::multiopen::ProverSHPLONK<'_, halo2_proofs::halo2curves::bn256::Bn256>,
            zkpolicy_prover::transcript::EvmChallenge,
            _,
            _,
            _,
        >(params, pk, &[tampered], &[&[&instance]], ChaCha20Rng::seed_from_u64(7), &mut transcript)
        .expect("the prover does not check constraints");
        drop(armed);
        let forged = transcript.into_inner();
        assert!(proof::verify(params, pk.get_vk(), &public, &forged).is_err(), "{what}: halo2 accepts it");
        assert!(!verifier.accepts(&forged, &instance), "{what}: the EVM accepts it");
    }

    // An architecture change with the same flat weights and salt: layer 0's shift one more.
    // Its honest witness under this key fails the IV's copy (the IV binds the shift) and the
    // requantizations; its honest proof, made with its own key, is refused by this verifier.
    let mut file: ModelFile = model.file().clone();
    file.layers[0].shift += 1;
    let other = Arc::new(Model::from_file(file).expect("valid"));
    assert_eq!(private::packed(&other), private::packed(&model), "the same flat weights");
    let reshaped = common::prepare(private_circuit(other.clone()));
    assert_eq!(reshaped.circuit.shape(), circuit.shape());
    let kpis = QuantizedKpis::random(&model, &mut ChaCha20Rng::seed_from_u64(9));
    let (claim, other_proof) =
        proof::prove(&reshaped.params, &reshaped.pk, &reshaped.circuit, &kpis, 8, ChaCha20Rng::seed_from_u64(10)).expect("prove");
    let claimed = claim.to_instance();
    let whole = adversary::run(&reshaped.circuit.with_input(kpis.clone()), claimed.clone(), &[]).expect("synthesis");
    assert!(whole.accepted(), "the other architecture's own circuit accepts its witness");
    let overwrites: Vec<(CellRef, Fr)> = whole.witness.into_iter().collect();
    let outcome = adversary::run(&circuit.with_input(kpis), claimed.clone(), &overwrites).expect("synthesis");
    let checks: std::collections::BTreeSet<&str> = outcome.failures.iter().map(|f| f.check.as_str()).collect();
    let iv_copy = format!("permutation Column('Advice', {})", cols.acc.index());
    let requantize = zkpolicy_circuits::chips::requantize::CONSTRAINT;
    assert!(checks.contains(requantize) && checks.contains(iv_copy.as_str()), "{checks:?}");
    assert!(proof::verify(params, pk.get_vk(), &claim, &other_proof).is_err(), "halo2 accepts another architecture's proof");
    assert!(!verifier.accepts(&other_proof, &claimed), "the EVM accepts another architecture's proof");
}

/// Nothing a verifier is given names the weight file: the artifact and the exported key
/// carry the weight commitment, and the key verifies the proof without the model.
#[test]
fn the_published_key_and_artifact_name_only_the_weight_commitment() {
    let prepared = prepared();
    let model = common::model("tokenomics-policy");
    let kpis = QuantizedKpis::random(&model, &mut ChaCha20Rng::seed_from_u64(4));
    let (public, bytes) =
        proof::prove(&prepared.params, &prepared.pk, &prepared.circuit, &kpis, 9, ChaCha20Rng::seed_from_u64(5)).expect("prove");
    let artifact = ProofArtifact::new(&prepared.circuit, &public, &bytes).expect("artifact");
    let key = VerifyingKeyFile::new(&prepared.circuit, &prepared.params, prepared.pk.get_vk());
    let weight_commitment = private::hex_be(&private::commitment(&model, &salt()));
    let file_hash = model.commitment().to_string();
    for (what, json) in [("artifact", serde_json::to_string(&artifact)), ("key", serde_json::to_string(&key))] {
        let json = json.expect("serializes");
        assert!(json.contains(&weight_commitment) && !json.contains(&file_hash[2..]), "{what} names the weight file");
    }
    assert!(key.private_weights);
    let published =
        PublishedKey::from_json(serde_json::to_string(&key).expect("json").as_bytes(), Path::new("k.json")).expect("reads back");
    let claim = artifact.public_inputs(published.card(), published.k()).expect("the claim matches the card");
    proof::verify(&prepared.params, &published.vk, &claim, &artifact.proof_bytes().expect("hex")).expect("valid with the published key");
}

/// The key of a private circuit is the same for two models that differ in a weight, when
/// they claim the same commitment: the key holds the commitment, not the weights.
#[test]
fn the_verifying_key_depends_on_the_weights_only_through_their_commitment() {
    let model = common::model("tokenomics-policy");
    let mut file: ModelFile = model.file().clone();
    file.layers[1].weights[4][9] += 3;
    let other = Arc::new(Model::from_file(file).expect("valid"));
    let committed = private::commitment(&model, &salt());
    let a = private_circuit(model);
    let b = private_circuit(other).claiming(committed);
    let params = crate::common::dev_params(a.shape().k);
    let vk_a = keys::keygen_vk(&params, &a).expect("vk");
    let vk_b = keys::keygen_vk(&params, &b).expect("vk");
    assert_eq!(vk_a.transcript_repr(), vk_b.transcript_repr());
    // While the fixed-weight keys of the two models differ, in the column that holds that weight.
    let fixed = PolicyCircuit::new(common::model("tokenomics-policy")).expect("plan");
    let small = crate::common::dev_params(fixed.shape().k);
    let mut file: ModelFile = fixed.model().file().clone();
    file.layers[1].weights[4][9] += 3;
    let changed = PolicyCircuit::new(Arc::new(Model::from_file(file).expect("valid"))).expect("plan");
    let fixed_a = keys::keygen_vk(&small, &fixed).expect("vk");
    let fixed_b = keys::keygen_vk(&small, &changed).expect("vk");
    assert_ne!(fixed_a.transcript_repr(), fixed_b.transcript_repr());
}
