//! An attacked live run against an honest run of the same scenario, seed and agents
//! (`zkpolicy live --attackers LIST --baseline HONEST/report.json`): how far each KPI of each
//! epoch's on-chain snapshot moved, in quanta, and how often the decision was the same.

use serde::Serialize;

use super::{LiveError, LiveRun};

/// One KPI's gap between the two runs, in quanta (its quantized values' difference).
#[derive(Clone, Debug, Serialize)]
pub struct KpiGap {
    /// The KPI, as the model card names it.
    pub name: String,
    /// The largest gap of any epoch.
    pub max_quanta: i64,
    /// The mean gap over the epochs both runs decided.
    pub mean_quanta: f64,
    /// Epochs whose gap is more than one quantum.
    pub epochs_beyond_one: usize,
}

/// An attacked run against the honest one: the report's "Against the honest run" section.
#[derive(Clone, Debug, Serialize)]
pub struct AgainstHonest {
    /// Epochs both runs decided.
    pub epochs: usize,
    /// Each KPI's gap, in the model's input order.
    pub kpis: Vec<KpiGap>,
    /// Epochs whose guarded parameters are the honest run's.
    pub same_parameters: usize,
}

/// Compares `run` with the honest run whose `report.json` is `baseline`, epoch by epoch.
pub fn against_honest(run: &LiveRun, kpi_names: &[String], baseline: &serde_json::Value) -> Result<AgainstHonest, LiveError> {
    let bad = |what: &str| LiveError::Config(format!("--baseline: the report has no {what} (is it a `zkpolicy live` report.json?)"));
    let honest = baseline["run"]["epochs"].as_array().ok_or_else(|| bad("run.epochs"))?;
    let same_run = baseline["run"]["options"]["scenario"] == serde_json::to_value(&run.options.scenario).unwrap_or_default()
        && baseline["run"]["options"]["agents"].as_u64() == Some(run.options.agents as u64)
        && baseline["run"]["options"]["warmup"].as_u64() == Some(run.options.warmup as u64);
    if !same_run {
        return Err(LiveError::Config("--baseline: that run had another scenario, seed, agent count or warm-up".into()));
    }
    let ints = |v: &serde_json::Value, what: &str| -> Result<Vec<i64>, LiveError> {
        v.as_array().and_then(|a| a.iter().map(serde_json::Value::as_i64).collect()).ok_or_else(|| bad(what))
    };
    let mut gaps: Vec<Vec<i64>> = vec![Vec::new(); kpi_names.len()];
    let mut same_parameters = 0;
    for (attacked, honest) in run.epochs.iter().zip(honest) {
        let kpis = ints(&honest["kpis"], "kpis")?;
        if kpis.len() != kpi_names.len() || attacked.kpis.len() != kpi_names.len() {
            return Err(bad("KPI vector of this model's length"));
        }
        for (i, (a, h)) in attacked.kpis.iter().zip(&kpis).enumerate() {
            gaps[i].push((a - h).abs());
        }
        same_parameters += usize::from(ints(&honest["guarded"], "guarded")? == attacked.guarded);
    }
    let epochs = run.epochs.len().min(honest.len());
    let kpis = kpi_names
        .iter()
        .zip(gaps)
        .map(|(name, g)| KpiGap {
            name: name.clone(),
            max_quanta: g.iter().copied().max().unwrap_or(0),
            mean_quanta: if g.is_empty() { 0.0 } else { g.iter().sum::<i64>() as f64 / g.len() as f64 },
            epochs_beyond_one: g.iter().filter(|&&d| d > 1).count(),
        })
        .collect();
    Ok(AgainstHonest { epochs, kpis, same_parameters })
}

/// The report's section on the comparison.
pub fn markdown(a: &AgainstHonest) -> String {
    let mut md = format!(
        "## Against the honest run\n\nThe same scenario, seed and agents without the attackers: over {} epochs, the guarded \
         parameters were the honest run's in {}. Each KPI's gap, in quanta of its quantized value:\n\n\
         | KPI | largest gap | mean gap | epochs beyond one quantum |\n|---|---:|---:|---:|\n",
        a.epochs, a.same_parameters
    );
    for k in &a.kpis {
        md.push_str(&format!("| {} | {} | {:.2} | {} |\n", k.name, k.max_quanta, k.mean_quanta, k.epochs_beyond_one));
    }
    md.push('\n');
    md
}
