use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use rand::rngs::OsRng;
use serde_json::json;
use zkpolicy_model::KpiSnapshot;
use zkpolicy_prover::artifact::ProofArtifact;
use zkpolicy_prover::keys::Prepared;
use zkpolicy_prover::proof::{self, BatchJob};

use super::common::{distinct_output, load_deployment, print_json, whole_ms, KeyArgs, ModelArgs, RpcArgs};
use super::progress;

/// Prove the model's adjustment for one KPI snapshot, or for a directory of them.
///
/// Keys are generated on first use and cached under --cache-dir. With a
/// directory, every *.json snapshot in it is proven in parallel (rayon), in
/// file-name order, for epochs --epoch, --epoch + 1, …; the artifacts go to the
/// --out directory as <name>.proof.json, and are written only when every proof
/// has succeeded. Results are reported in input order.
///
/// Examples:
///   zkpolicy prove --model models/tokenomics-policy.json --kpis models/kpis-sample.json --epoch 1 --out proof.json
///   zkpolicy prove --kpis snapshots/ --epoch 100 --out proofs/ --json
///   zkpolicy prove --deployment deployment.json --epoch 7 --out proof.json    # the chain's snapshot
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["kpis", "deployment"])))]
pub struct ProveArgs {
    #[command(flatten)]
    model: ModelArgs,

    /// KPI snapshot {"kpis": {"<input name>": <value>, ...}}, or a directory of them; for a
    /// model that reads the controller's parameters, also {"parameters": {"<name>": <integer>, ...}}.
    #[arg(long, value_name = "FILE")]
    kpis: Option<PathBuf>,

    /// Prove on the KPI snapshot the chain holds for --epoch (either source: posted by
    /// the reporter, or computed on chain), read through this deployment's controller.
    #[arg(long, value_name = "FILE", conflicts_with = "kpis")]
    deployment: Option<PathBuf>,

    #[command(flatten)]
    rpc: RpcArgs,

    /// The epoch the chain committed these KPIs for (the first epoch, for a directory).
    #[arg(long)]
    epoch: u64,

    /// Where to write the proof artifact (a directory, for a directory of snapshots).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,

    #[command(flatten)]
    keys: KeyArgs,

    /// Print a JSON summary instead of text.
    #[arg(long)]
    json: bool,
}

impl ProveArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        if self.kpis.as_ref().is_some_and(|k| k.is_dir()) {
            return self.run_batch();
        }
        let [model_file, salt_file] = self.model.files();
        distinct_output(&self.out, &[self.kpis.as_deref(), self.deployment.as_deref(), model_file, salt_file])?;
        let (model, circuit) = self.model.load()?;
        let input = match (&self.kpis, &self.deployment) {
            (Some(path), _) => {
                KpiSnapshot::load(path).and_then(|s| s.observe(model.card())).with_context(|| format!("KPI snapshot {}", path.display()))?
            }
            (None, Some(path)) => {
                let client = zkpolicy_chain::Client::connect(&self.rpc.rpc, None)?;
                let deployment = load_deployment(path, model.card(), &client)?;
                let values = zkpolicy_chain::committed_kpis(&client, &deployment, self.epoch)?.with_context(|| {
                    format!(
                        "the chain holds no KPI snapshot for epoch {} (take it with `zkpolicy snapshot`, or commit it with `zkpolicy commit-kpis`)",
                        self.epoch
                    )
                })?;
                let kpis = zkpolicy_model::QuantizedKpis::new(model.card(), values)
                    .with_context(|| format!("the chain's KPI snapshot of epoch {}", self.epoch))?;
                // A model that reads the parameters is proven on the controller's current ones,
                // which is what the controller rebuilds into the public inputs.
                let parameters =
                    if model.card().parameters().is_empty() { vec![] } else { zkpolicy_chain::parameters(&client, &deployment)? };
                zkpolicy_model::Observation::new(model.card(), kpis, parameters).context("the controller's current parameters")?
            }
            (None, None) => anyhow::bail!("give --kpis FILE or --deployment FILE"),
        };
        let started = Instant::now();
        let Prepared { circuit, params, pk, origin, .. } = self.keys.prepare(circuit)?;
        let card = circuit.as_ref().clone();
        let setup_ms = started.elapsed().as_secs_f64() * 1e3;

        let started = Instant::now();
        let spinner = progress::spinner("proving", self.json);
        let (public, proof) = proof::prove(&params, &pk, &circuit, &input, self.epoch, OsRng)?;
        spinner.finish_and_clear();
        let prove_ms = started.elapsed().as_secs_f64() * 1e3;

        let artifact = ProofArtifact::new(&circuit, &public, &proof)?;
        artifact.save(&self.out)?;

        if self.json {
            print_json(&json!({
                "out": self.out,
                "model": card.name(),
                "model_commitment": card.commitment().to_string(),
                "private_weights": circuit.weight_commitment().is_some(),
                "epoch": self.epoch,
                "parameters": artifact.parameters,
                "outputs": artifact.outputs,
                "proof_bytes": proof.len(),
                "keys": origin.as_str(),
                "setup_ms": whole_ms(setup_ms),
                "prove_ms": whole_ms(prove_ms),
            }))?;
        } else {
            println!("model      {} {}", card.name(), card.commitment());
            if !artifact.parameters.is_empty() {
                let read: Vec<String> = artifact.parameters.iter().map(|p| format!("{} {} {}", p.name, p.value, p.unit)).collect();
                println!("read       {} (public inputs)", read.join(", "));
            }
            for o in &artifact.outputs {
                println!("  {:<24} {:>6} {}", o.name, o.value, o.unit);
            }
            println!("proof      {} bytes in {prove_ms:.0} ms (keys {origin} in {setup_ms:.0} ms)", proof.len());
            println!("wrote      {}", self.out.display());
        }
        Ok(ExitCode::SUCCESS)
    }
}

impl ProveArgs {
    fn run_batch(self) -> anyhow::Result<ExitCode> {
        let (model, circuit) = self.model.load()?;
        let dir = self.kpis.clone().unwrap_or_default();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        if files.is_empty() {
            anyhow::bail!("{} holds no *.json KPI snapshots", dir.display());
        }
        // Every snapshot is checked before any proving starts.
        let jobs = files
            .iter()
            .enumerate()
            .map(|(i, file)| {
                let input = KpiSnapshot::load(file)
                    .and_then(|s| s.observe(model.card()))
                    .with_context(|| format!("KPI snapshot {}", file.display()))?;
                Ok(BatchJob { epoch: self.epoch + i as u64, input })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let started = Instant::now();
        let Prepared { circuit, params, pk, origin, .. } = self.keys.prepare(circuit)?;
        let card = circuit.as_ref().clone();
        let setup_ms = started.elapsed().as_secs_f64() * 1e3;
        let started = Instant::now();
        let bar = progress::bar(jobs.len() as u64, "proving", self.json);
        let results = proof::prove_batch(&params, &pk, &circuit, &jobs, &|| bar.inc(1));
        bar.finish_and_clear();
        let prove_ms = started.elapsed().as_secs_f64() * 1e3;
        let mut artifacts = Vec::with_capacity(results.len());
        for (file, result) in files.iter().zip(results) {
            let (public, bytes) = result.with_context(|| format!("proving {}", file.display()))?;
            artifacts.push(ProofArtifact::new(&circuit, &public, &bytes)?);
        }
        let mut summary = Vec::with_capacity(artifacts.len());
        for (file, artifact) in files.iter().zip(&artifacts) {
            let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let out = self.out.join(format!("{stem}.proof.json"));
            artifact.save(&out)?;
            summary.push(json!({ "kpis": file, "epoch": artifact.epoch, "out": out, "outputs": artifact.outputs }));
        }
        if self.json {
            print_json(&json!({
                "model": card.name(),
                "model_commitment": card.commitment().to_string(),
                "private_weights": circuit.weight_commitment().is_some(),
                "proofs": summary,
                "keys": origin.as_str(),
                "setup_ms": whole_ms(setup_ms),
                "prove_ms": whole_ms(prove_ms),
            }))?;
        } else {
            for s in &summary {
                println!(
                    "epoch {:>6}  {}  ->  {}",
                    s["epoch"],
                    s["kpis"].as_str().unwrap_or_default(),
                    s["out"].as_str().unwrap_or_default()
                );
            }
            println!("{} proofs in {prove_ms:.0} ms (keys {origin} in {setup_ms:.0} ms)", summary.len());
        }
        Ok(ExitCode::SUCCESS)
    }
}
