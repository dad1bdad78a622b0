use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use super::common::{circuit, load_model, print_json};

/// Print a model's shape, commitment and circuit size.
///
/// Examples:
///   zkpolicy inspect --model models/tokenomics-policy.json
///   zkpolicy inspect --model models/policy-l.json --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct InspectArgs {
    /// Model file, or a bundled model's name (default: the bundled tokenomics policy).
    #[arg(long, value_name = "FILE|NAME")]
    model: Option<PathBuf>,

    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

impl InspectArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let model = load_model(self.model.as_ref())?;
        let circuit = circuit(model.clone())?;
        let s = circuit.shape();
        let file = model.file();
        let report = json!({
            "model": model.name(),
            "model_commitment": model.commitment().to_string(),
            "layers": model.dims(),
            "parameter_count": model.parameter_count(),
            "inputs": file.inputs.iter().map(|i| &i.name).collect::<Vec<_>>(),
            "outputs": file.outputs.iter().map(|o| &o.name).collect::<Vec<_>>(),
            "circuit": {
                "k": s.k,
                "rows": 1u64 << s.k,
                "rows_used": s.rows,
                "usable_rows": s.usable_rows,
                "lanes": s.lanes,
                "advice_columns": s.advice_columns,
                "fixed_columns": s.fixed_columns,
                "lookups": s.lookups,
                "instance_columns": 1,
                "degree": s.degree,
            },
            "instances": {
                "count": s.instances,
                "order": "[epoch, kpis in input order, outputs in output order]",
            },
        });
        if self.json {
            print_json(&report)?;
            return Ok(ExitCode::SUCCESS);
        }
        println!("model        {} ({} parameters)", model.name(), model.parameter_count());
        println!("commitment   {}", model.commitment());
        println!("layers       {:?}", model.dims());
        println!("circuit      k = {} ({} rows, {} used), {} lanes, degree {}", s.k, 1u64 << s.k, s.rows, s.lanes, s.degree);
        println!(
            "columns      {} advice, {} fixed (lookup tables among them), {} lookup, 1 instance",
            s.advice_columns, s.fixed_columns, s.lookups
        );
        println!("instances    {}: [epoch, {} KPIs, {} outputs]", s.instances, file.inputs.len(), file.outputs.len());
        Ok(ExitCode::SUCCESS)
    }
}
