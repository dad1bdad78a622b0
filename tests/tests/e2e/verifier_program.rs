//! The verifier program against halo2's native verifier: same verdict on every proof.

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkpolicy_circuits::PolicyCircuit;
use zkpolicy_model::QuantizedKpis;
use zkpolicy_prover::proof;
use zkpolicy_verifier::{build, interpret};

use crate::common;

fn setup(
    name: &str,
) -> (
    &'static PolicyCircuit,
    &'static halo2_proofs::poly::kzg::commitment::ParamsKZG<halo2_proofs::halo2curves::bn256::Bn256>,
    &'static halo2_proofs::plonk::ProvingKey<halo2_proofs::halo2curves::bn256::G1Affine>,
) {
    let p = common::prepared(name);
    (&p.circuit, &p.params, &p.pk)
}

#[test]
fn program_agrees_with_the_native_verifier_on_every_single_byte_mutation() {
    let (circuit, params, pk) = setup("tokenomics-policy");
    let kpis = QuantizedKpis::random(circuit.model(), &mut ChaCha20Rng::seed_from_u64(4));
    let (public, bytes) = proof::prove(params, pk, circuit, &kpis, 3, ChaCha20Rng::seed_from_u64(5)).expect("prove");
    let program = build::build(params, pk.get_vk(), public.to_instance().len()).expect("program");
    assert_eq!(program.proof_len, bytes.len());
    let instance = public.to_instance();
    assert_eq!(interpret::run(&program, &bytes, &instance), Ok(()));
    for i in 0..bytes.len() {
        let mut forged = bytes.clone();
        forged[i] ^= 1 << (i % 8);
        let native = proof::verify(params, pk.get_vk(), &public, &forged).is_ok();
        let ours = interpret::run(&program, &forged, &instance).is_ok();
        assert!(!native && !ours, "byte {i}: native {native}, program {ours}");
    }
    for row in 0..instance.len() {
        let mut forged = instance.clone();
        forged[row] += halo2_proofs::halo2curves::bn256::Fr::from(1);
        assert!(interpret::run(&program, &bytes, &forged).is_err(), "instance {row}");
    }
    assert!(interpret::run(&program, &bytes[..bytes.len() - 32], &instance).is_err());
    assert!(interpret::run(&program, &bytes, &instance[1..]).is_err());
}

#[test]
fn program_accepts_valid_proofs_of_every_bundled_model() {
    for name in ["tokenomics-policy", "policy-m", "policy-l"] {
        let (circuit, params, pk) = setup(name);
        let program = build::build(params, pk.get_vk(), circuit.shape().instances).expect("program");
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        for epoch in 0..2 {
            let kpis = QuantizedKpis::random(circuit.model(), &mut rng);
            let (public, bytes) = proof::prove(params, pk, circuit, &kpis, epoch, ChaCha20Rng::seed_from_u64(epoch)).expect("prove");
            assert_eq!(interpret::run(&program, &bytes, &public.to_instance()), Ok(()), "{name} epoch {epoch}");
        }
        eprintln!("{name}: {} ops, proof {} bytes", program.ops.len(), program.proof_len);
    }
}
