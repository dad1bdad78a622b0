//! Proving and verifying with SHPLONK over the EVM transcript.

use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_proofs::plonk::{create_proof, verify_proof, ProvingKey, VerifyingKey};
use halo2_proofs::poly::kzg::commitment::{KZGCommitmentScheme, ParamsKZG};
use halo2_proofs::poly::kzg::multiopen::{ProverSHPLONK, VerifierSHPLONK};
use halo2_proofs::poly::kzg::strategy::SingleStrategy;
use rand::rngs::OsRng;
use rand::RngCore;
use rayon::prelude::*;
use zkpolicy_circuits::{PolicyCircuit, PublicInputs};
use zkpolicy_model::Observation;

use crate::transcript::{EvmChallenge, EvmTranscript};
use crate::ProverError;

/// Proves that `public.outputs` is what the circuit's model computes on `input` (the
/// KPIs, and the parameters for a model that reads them; a `&QuantizedKpis` will do for
/// one that does not). Fails (without a proof) if they are not the model's outputs.
pub fn prove(
    params: &ParamsKZG<Bn256>,
    pk: &ProvingKey<G1Affine>,
    circuit: &PolicyCircuit,
    input: impl Into<Observation>,
    epoch: u64,
    rng: impl RngCore,
) -> Result<(PublicInputs, Vec<u8>), ProverError> {
    let input: Observation = input.into();
    let public = PublicInputs::honest(circuit.model(), epoch, &input)?;
    let instance = public.to_instance();
    let mut transcript = EvmTranscript::new(Vec::new());
    create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, EvmChallenge, _, _, _>(
        params,
        pk,
        &[circuit.with_input(input)],
        &[&[&instance]],
        rng,
        &mut transcript,
    )
    .map_err(|e| ProverError::Halo2 { stage: "proving", detail: e.to_string() })?;
    Ok((public, transcript.into_inner()))
}

/// Checks `proof` for `public` against `vk`. Every byte of the proof must be read.
pub fn verify(params: &ParamsKZG<Bn256>, vk: &VerifyingKey<G1Affine>, public: &PublicInputs, proof: &[u8]) -> Result<(), ProverError> {
    let instance: Vec<Fr> = public.to_instance();
    let mut reader = proof;
    let mut transcript = EvmTranscript::new(&mut reader);
    let strategy = SingleStrategy::new(params);
    verify_proof::<KZGCommitmentScheme<Bn256>, VerifierSHPLONK<'_, Bn256>, EvmChallenge, _, _>(
        params,
        vk,
        strategy,
        &[&[&instance]],
        &mut transcript,
    )
    .map_err(|e| ProverError::InvalidProof {
        reason: match e {
            // The pairing check failed: say what a user can have changed, keeping halo2's words.
            halo2_proofs::plonk::Error::ConstraintSystemFailure => format!(
                "{e}: the proof does not prove this claim (epoch {}, its KPIs, parameters and outputs); \
                 the claim or the proof bytes were changed after proving, or it was made with another key",
                public.epoch
            ),
            other => other.to_string(),
        },
    })?;
    if !reader.is_empty() {
        return Err(ProverError::InvalidProof { reason: format!("{} unread bytes after the proof", reader.len()) });
    }
    Ok(())
}

/// One epoch's input to a batch.
#[derive(Clone, Debug)]
pub struct BatchJob {
    /// The controller epoch the proof is for.
    pub epoch: u64,
    /// The epoch's quantized KPIs (and parameters, for a model that reads them).
    pub input: Observation,
}

/// Proves every job in parallel (rayon); results keep the input order.
/// `on_done` runs after each proof (for progress reporting), from any thread.
pub fn prove_batch(
    params: &ParamsKZG<Bn256>,
    pk: &ProvingKey<G1Affine>,
    circuit: &PolicyCircuit,
    jobs: &[BatchJob],
    on_done: &(dyn Fn() + Sync),
) -> Vec<Result<(PublicInputs, Vec<u8>), ProverError>> {
    jobs.par_iter()
        .map(|job| {
            let result = prove(params, pk, circuit, &job.input, job.epoch, OsRng);
            on_done();
            result
        })
        .collect()
}
