use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use rand::rngs::OsRng;
use serde_json::json;
use zkpolicy_model::KpiSnapshot;
use zkpolicy_prover::artifact::ProofArtifact;
use zkpolicy_prover::{evm, keys, proof, srs};
use zkpolicy_verifier::compile::Compiled;

use super::common::{circuit, load_model, print_json, whole_ms, DEFAULT_KPIS, DEFAULT_VERIFIER};

/// Run the whole loop on the bundled default: KPIs → proposal → proof → on-chain verification → controller.
///
/// Uses the bundled tokenomics policy, its KPI sample, the development SRS, and
/// the committed Solidity verifier deployed in an in-process EVM, then the
/// bundled KPI source and controller (autonomous mode, the bundled deployment's
/// guardrails): commits the KPI snapshot, submits the proof, and shows the
/// parameters before and after. Writes nothing to disk; needs no network or compiler.
///
/// Examples:
///   zkpolicy demo
///   zkpolicy demo --epoch 7 --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DemoArgs {
    /// The epoch to prove for.
    #[arg(long, default_value_t = 1)]
    epoch: u64,

    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

impl DemoArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let model = load_model(None)?;
        let kpis = KpiSnapshot::from_json(DEFAULT_KPIS)?.quantize(model.card())?;
        let circuit = circuit(model.clone())?;
        let k = circuit.shape().k;

        let t = Instant::now();
        let params = srs::dev_params_insecure(k);
        let pk = keys::keygen(&params, &circuit)?;
        let keygen_ms = t.elapsed().as_secs_f64() * 1e3;

        let t = Instant::now();
        let (public, proof_bytes) = proof::prove(&params, &pk, &circuit, &kpis, self.epoch, OsRng)?;
        let prove_ms = t.elapsed().as_secs_f64() * 1e3;

        let t = Instant::now();
        proof::verify(&params, pk.get_vk(), &public, &proof_bytes)?;
        let verify_ms = t.elapsed().as_secs_f64() * 1e3;

        let bytecode = Compiled::parse_artifact(DEFAULT_VERIFIER)?.bytecode;
        let on_chain = evm::verify_in_evm(&bytecode, &public, &proof_bytes)?;
        if !on_chain.valid {
            anyhow::bail!("the EVM verifier rejected a proof the native verifier accepted");
        }
        let deployment = on_chain.deployment;
        let rails = zkpolicy_lab::sim::deployment_guardrails();
        let controller = evm::run_controller(&bytecode, &rails, &public, &proof_bytes)?;

        let file = model.file();
        if self.json {
            let outputs = ProofArtifact::new(&circuit, &public, &proof_bytes)?.outputs;
            print_json(&json!({
                "model": model.name(),
                "model_commitment": model.commitment().to_string(),
                "epoch": self.epoch,
                "kpis": kpis.dequantize(&model),
                "outputs": outputs,
                "k": k,
                "proof_bytes": proof_bytes.len(),
                "keygen_ms": whole_ms(keygen_ms),
                "prove_ms": whole_ms(prove_ms),
                "verify_ms": whole_ms(verify_ms),
                "verified": true,
                "evm": {
                    "verify_gas": on_chain.verify_gas,
                    "deploy_gas": deployment.gas_used,
                    "runtime_bytes": deployment.runtime_bytes,
                },
                "controller": {
                    "parameter_names": rails.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
                    "before": controller.before,
                    "after": controller.after,
                    "commit_gas": controller.commit_gas,
                    "submit_gas": controller.submit_gas,
                    "deploy_gas": controller.controller_deploy_gas,
                },
            }))?;
            return Ok(ExitCode::SUCCESS);
        }
        println!("zkpolicy demo: {} ({})", model.name(), model.commitment());
        println!("KPIs (epoch {}):", self.epoch);
        for (spec, q) in file.inputs.iter().zip(kpis.values()) {
            let value = *q as f64 / (1u64 << spec.scale_bits) as f64;
            println!("  {:<24} {value:>8.4} {}", spec.name, spec.unit);
        }
        println!("proposed adjustments:");
        for (spec, v) in file.outputs.iter().zip(&public.outputs) {
            println!("  {:<24} {v:>+6} {}", spec.name, spec.unit);
        }
        println!("circuit  k = {k}; keygen {keygen_ms:.0} ms (development SRS: insecure, demo only)");
        println!("proof    {} bytes, proved in {prove_ms:.0} ms", proof_bytes.len());
        println!("verified natively in {verify_ms:.1} ms");
        println!(
            "verified on-chain (in-process EVM): {} gas; verifier {} bytes, deployed for {} gas",
            on_chain.verify_gas, deployment.runtime_bytes, deployment.gas_used
        );
        println!(
            "controller (autonomous): KPIs committed for {} gas, proof submitted for {} gas",
            controller.commit_gas, controller.submit_gas
        );
        for ((rail, before), after) in rails.iter().zip(&controller.before).zip(&controller.after) {
            println!("  {:<24} {before:>6} -> {after:>6}  (rail [{}, {}], step ≤ {})", rail.name, rail.min, rail.max, rail.max_step);
        }
        Ok(ExitCode::SUCCESS)
    }
}
