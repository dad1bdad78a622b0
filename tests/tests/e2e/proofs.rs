//! Real proofs of the default model: valid ones verify, every tampering fails.

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkpolicy_circuits::PublicInputs;
use zkpolicy_model::{KpiSnapshot, Observation, QuantizedKpis};
use zkpolicy_prover::keys::Prepared;
use zkpolicy_prover::proof::{prove, prove_batch, verify, BatchJob};
use zkpolicy_prover::ProverError;

use crate::common;

fn fixture(name: &str) -> &'static Prepared {
    common::prepared(name)
}

fn assert_invalid(result: Result<(), ProverError>, what: &str) {
    match result {
        Err(ProverError::InvalidProof { .. }) => {}
        other => panic!("{what}: expected an invalid proof, got {other:?}"),
    }
}

#[test]
fn default_model_proof_verifies_and_every_tampering_is_rejected() {
    let f = fixture("tokenomics-policy");
    let model = f.circuit.model();
    let kpis = KpiSnapshot::from_json(zkpolicy_lab::bundled::DEFAULT_KPIS).expect("sample").quantize(model).expect("in range");
    let rng = ChaCha20Rng::seed_from_u64(5);
    let (public, proof) = prove(&f.params, &f.pk, &f.circuit, &kpis, 17, rng).expect("prove");
    let vk = f.pk.get_vk();
    verify(&f.params, vk, &public, &proof).expect("valid proof verifies");
    eprintln!("default proof: {} bytes", proof.len());

    // Each public input, changed by one.
    let mut epoch = public.clone();
    epoch.epoch += 1;
    assert_invalid(verify(&f.params, vk, &epoch, &proof), "epoch + 1");
    for i in 0..public.kpis.len() {
        let mut p = public.clone();
        p.kpis = common::changed_kpi(&public.kpis, i, |v| v + 1);
        assert_invalid(verify(&f.params, vk, &p, &proof), &format!("kpi {i}"));
    }
    for j in 0..public.outputs.len() {
        let mut p = public.clone();
        p.outputs[j] -= 1;
        assert_invalid(verify(&f.params, vk, &p, &proof), &format!("output {j}"));
    }
    // Every single byte of the proof, flipped.
    for i in 0..proof.len() {
        let mut forged = proof.clone();
        forged[i] ^= 0x01;
        assert_invalid(verify(&f.params, vk, &public, &forged), &format!("byte {i}"));
    }
    // Truncated and extended proofs.
    assert_invalid(verify(&f.params, vk, &public, &proof[..proof.len() - 1]), "truncated");
    let mut longer = proof.clone();
    longer.push(0);
    assert_invalid(verify(&f.params, vk, &public, &longer), "extra byte");
}

#[test]
fn wrong_outputs_cannot_be_proven() {
    let f = fixture("tokenomics-policy");
    let model = f.circuit.model();
    let kpis = QuantizedKpis::random(model, &mut ChaCha20Rng::seed_from_u64(3));
    let mut public = PublicInputs::honest(model, 1, &kpis).expect("reference");
    public.outputs[0] += 1;
    let circuit = f.circuit.with_input(kpis);
    let mut transcript = zkpolicy_prover::transcript::EvmTranscript::new(Vec::<u8>::new());
    let result = halo2_proofs::plonk::create_proof::<
        halo2_proofs::poly::kzg::commitment::KZGCommitmentScheme<halo2_proofs::halo2curves::bn256::Bn256>,
        halo2_proofs::poly::kzg::multiopen::ProverSHPLONK<'_, halo2_proofs::halo2curves::bn256::Bn256>,
        zkpolicy_prover::transcript::EvmChallenge,
        _,
        _,
        _,
    >(&f.params, &f.pk, &[circuit], &[&[&public.to_instance()]], ChaCha20Rng::seed_from_u64(1), &mut transcript);
    // The prover either refuses or emits a proof that does not verify.
    if result.is_ok() {
        assert_invalid(verify(&f.params, f.pk.get_vk(), &public, &transcript.into_inner()), "forged output");
    }
}

#[test]
fn real_proofs_of_random_vectors_verify_for_every_bundled_model() {
    for (name, count) in [("tokenomics-policy", 8), ("trained-policy", 4), ("policy-m", 4), ("policy-l", 2)] {
        let f = fixture(name);
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let jobs: Vec<BatchJob> =
            (0..count).map(|e| BatchJob { epoch: e, input: Observation::random(f.circuit.model(), &mut rng) }).collect();
        let done = std::sync::atomic::AtomicUsize::new(0);
        let results = prove_batch(&f.params, &f.pk, &f.circuit, &jobs, &|| {
            done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        assert_eq!(done.into_inner(), jobs.len());
        for (job, result) in jobs.iter().zip(results) {
            let (public, proof) = result.expect("prove");
            // Batch results keep input order.
            assert_eq!(public.epoch, job.epoch);
            assert_eq!(public.input_values(), job.input.values());
            verify(&f.params, f.pk.get_vk(), &public, &proof).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
