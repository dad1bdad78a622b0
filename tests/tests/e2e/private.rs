//! Private weights end to end: real proofs natively and in the EVM, tampering, what the
//! published artifacts reveal, and a verifying key that depends on the weights only through
//! their commitment.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use halo2_proofs::halo2curves::bn256::Fr;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkpolicy_circuits::{private, Objective, PolicyCircuit, Salt};
use zkpolicy_model::{Model, ModelFile, QuantizedKpis};
use zkpolicy_prover::artifact::ProofArtifact;
use zkpolicy_prover::keys::{self, Prepared};
use zkpolicy_prover::vkey::{PublishedKey, VerifyingKeyFile};
use zkpolicy_prover::{evm as prover_evm, proof};
use zkpolicy_verifier_contract::{abi, compile, evm};

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

#[test]
fn a_private_proof_verifies_natively_and_in_the_evm_and_tampering_is_rejected_by_both() {
    let prepared = prepared();
    let model = common::model("tokenomics-policy");
    let (circuit, params, pk) = (&prepared.circuit, &prepared.params, &prepared.pk);
    let kpis = QuantizedKpis::random(&model, &mut ChaCha20Rng::seed_from_u64(2));
    let (public, bytes) = proof::prove(params, pk, circuit, &kpis, 5, ChaCha20Rng::seed_from_u64(3)).expect("prove");
    assert_eq!(public.outputs, zkpolicy_model::infer(&model, &kpis).expect("reference").outputs);
    proof::verify(params, pk.get_vk(), &public, &bytes).expect("valid");

    let source = prover_evm::verifier_source(params, pk.get_vk(), circuit).expect("source");
    let compiled = prover_evm::compile_verifier(&source, compile::bundled_dir()).expect("compiles");
    let mut chain = evm::Evm::new();
    let deployment = chain.deploy(compiled.bytecode.clone()).expect("deploys");
    assert!(deployment.runtime_bytes <= evm::MAX_RUNTIME_BYTES);
    let mut verdict = |proof: &[u8], instance: &[Fr]| {
        let out = chain.call(deployment.address, abi::verify_calldata(proof, instance)).expect("call executes");
        out.success && abi::decode_bool(&out.output) == Some(true)
    };
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
