use std::path::{Path, PathBuf};
use std::process::ExitCode;

use alloy::primitives::utils::parse_units;
use alloy::primitives::{Address, U256};
use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use serde_json::json;
use zkpolicy_chain::govern::{self, Change, Governed};
use zkpolicy_chain::treasury::{self, TreasuryChange};
use zkpolicy_contracts::controller::PolicyController::Mode;

use super::common::{chain_time, distinct_output, print_json, DeploymentArgs};
use zkpolicy_chain as chain;

/// Guardian: pause the controller (no submission or execution until governance unpauses).
///
/// A pause also cancels the queued decision (timelocked mode), if any: it must not execute
/// after the unpause. Exit code 1, named (NotGuardian), when the signing account is not
/// the guardian.
///
/// Examples:
///   zkpolicy pause --deployment deployment.json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct PauseArgs {
    #[command(flatten)]
    role: DeploymentArgs,
}

/// Governance: lift a pause.
///
/// Exit code 1, named (NotGovernance), when the signing account is not governance.
///
/// Examples:
///   zkpolicy unpause --deployment deployment.json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct UnpauseArgs {
    #[command(flatten)]
    role: DeploymentArgs,
}

fn report(json: bool, what: &str, sent: zkpolicy_chain::Sent, cancelled: Option<u64>) -> anyhow::Result<ExitCode> {
    if json {
        let mut out = json!({ "action": what, "tx": sent.tx.to_string(), "block": sent.block, "gas": sent.gas });
        if what == "paused" {
            out["cancelled_epoch"] = json!(cancelled);
        }
        print_json(&out)?;
    } else {
        println!("{what}: tx {} in block {}, {} gas", sent.tx, sent.block, sent.gas);
        print_cancelled(cancelled);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_cancelled(epoch: Option<u64>) {
    if let Some(epoch) = epoch {
        println!("the adjustment queued for epoch {epoch} is cancelled: it will not execute");
    }
}

impl PauseArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let (client, deployment) = self.role.connect()?;
        let sent = govern::pause(&client, &deployment)?;
        let cancelled = chain::cancelled_epoch(&sent, deployment.controller);
        report(self.role.json, "paused", sent, cancelled)
    }
}

impl UnpauseArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let (client, deployment) = self.role.connect()?;
        report(self.role.json, "unpaused", govern::unpause(&client, &deployment)?, None)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Action {
    /// Queue the change for the controller's governance delay.
    Schedule,
    /// Make a scheduled change once its delay has passed.
    Execute,
    /// Drop a scheduled change.
    Cancel,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ModeName {
    Advisory,
    Timelocked,
    Autonomous,
}

/// Governance: schedule, execute or cancel a change of guardrail, mode, timing, KPI source,
/// verifier (a model upgrade) or guardian, or of the on-chain economy's treasury (a spend,
/// the budget stream).
///
/// Every change goes through a timelock: `schedule` queues it for the governance delay
/// (printing its id and when it becomes executable), `execute` with the same change makes
/// it after that, and `cancel` drops it. Controller changes go through the controller's
/// timelock, treasury changes through the economy's (`EconomyTimelock`, the same delay;
/// a treasury change left unexecuted 14 days after it became executable expires).
/// Executing a controller change cancels the queued decision (timelocked mode), if any: it
/// was decided under the old configuration. On an on-chain deployment a guardrail whose
/// [MIN, MAX] leaves the economy's range for its parameter is refused before it is sent
/// (exit code 2). Exit code 1, named (NotGovernance, NotScheduled, NotYet, BadGuardrail,
/// OperationExpired, ...), when a contract refuses.
///
/// Where governance is a Safe multisig, `--safe-tx FILE` writes the call as a Safe
/// Transaction Builder batch file (import it in the Safe app's Transaction Builder; the
/// owners sign and execute it) instead of sending it: no signing key is needed, only the
/// node, which the command reads (the chain id, the governance account, a timelock's delay).
///
/// Examples:
///   zkpolicy govern schedule --guardrail 0,100,900,50 --deployment deployment.json
///   zkpolicy govern schedule --mode advisory --deployment deployment.json --safe-tx schedule-mode.json
///   zkpolicy govern execute --guardrail 0,100,900,50 --deployment deployment.json
///   zkpolicy govern schedule --guardrail 1,0,2000,60,5,1000,604800 --deployment deployment.json
///   zkpolicy govern schedule --guardrail 0,0,2000,25 --group 1 --deployment deployment.json
///   zkpolicy govern schedule --mode timelocked --deployment deployment.json
///   zkpolicy govern cancel --timing 172800,3600 --deployment deployment.json
///   zkpolicy govern schedule --spend 0x70997970C51812dc3A010C7d01b50e0d17dc79C8,25000 --deployment onchain.json
///   zkpolicy govern execute --budget 0x70997970C51812dc3A010C7d01b50e0d17dc79C8,5479.45 --deployment onchain.json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
#[command(group(clap::ArgGroup::new("change").required(true).multiple(false)
    .args(["guardrail", "mode", "timing", "kpi_source", "verifier", "guardian", "spend", "budget"])))]
pub struct GovernArgs {
    #[arg(value_enum)]
    action: Action,

    /// Parameter INDEX's guardrail: bounds, maximum step, and optionally a dead band (steps
    /// smaller than it are dropped) and a cap of MAX_CHANGE_BPS on the change within WINDOW
    /// seconds (0 turns either off).
    #[arg(long, value_name = "INDEX,MIN,MAX,MAX_STEP[,DEAD_BAND[,MAX_CHANGE_BPS,WINDOW]]")]
    guardrail: Option<String>,

    /// With --guardrail: the rail's group (1-255). Rails sharing a group move by exactly
    /// their proven steps or all keep their values; 0 (the default) guards it alone.
    #[arg(long, value_name = "GROUP")]
    group: Option<u8>,

    /// The controller's mode.
    #[arg(long, value_enum)]
    mode: Option<ModeName>,

    /// Snapshot age limit and adjustment delay, in seconds: MAX_SNAPSHOT_AGE,ADJUSTMENT_DELAY.
    #[arg(long, value_name = "AGE,DELAY")]
    timing: Option<String>,

    /// A new KPI source contract.
    #[arg(long, value_name = "ADDRESS")]
    kpi_source: Option<String>,

    /// A new verifier contract (a new model: its card must fit the parameters).
    #[arg(long, value_name = "ADDRESS")]
    verifier: Option<String>,

    /// A new guardian account.
    #[arg(long, value_name = "ADDRESS")]
    guardian: Option<String>,

    /// A one-off payment from the economy's treasury: AMOUNT of quote (decimals allowed) to TO.
    #[arg(long, value_name = "TO,AMOUNT")]
    spend: Option<String>,

    /// The treasury's budget stream: PER_EPOCH quote (decimals allowed) to PAYEE each epoch,
    /// released by anyone once per epoch (the zero address stops it).
    #[arg(long, value_name = "PAYEE,PER_EPOCH")]
    budget: Option<String>,

    /// Write the call as a Safe Transaction Builder batch file at FILE instead of sending it
    /// (for a governance that is a Safe multisig).
    #[arg(long, value_name = "FILE")]
    safe_tx: Option<PathBuf>,

    #[command(flatten)]
    role: DeploymentArgs,
}

/// `count` comma-separated integers given to `--flag`.
fn numbers<T: std::str::FromStr>(flag: &str, text: &str, count: usize) -> anyhow::Result<Vec<T>> {
    let values: Vec<T> = text
        .split(',')
        .map(|part| part.trim().parse().ok())
        .collect::<Option<_>>()
        .with_context(|| format!("--{flag} {text:?}: expected {count} comma-separated integers"))?;
    if values.len() != count {
        bail!("--{flag} {text:?}: expected {count} comma-separated integers, got {}", values.len());
    }
    Ok(values)
}

/// `ADDRESS,AMOUNT` given to `--flag`: an address and an amount of quote (18 decimals).
fn payment(flag: &str, text: &str) -> anyhow::Result<(Address, U256)> {
    let (address, amount) = text.split_once(',').with_context(|| format!("--{flag} {text:?}: expected ADDRESS,AMOUNT"))?;
    let address = address.trim().parse().with_context(|| format!("--{flag}: {address:?} is not an address"))?;
    let amount = parse_units(amount.trim(), 18)
        .ok()
        .filter(|units| !units.is_negative())
        .with_context(|| format!("--{flag}: {amount:?} is not an amount of quote (a non-negative number, up to 18 decimals)"))?;
    Ok((address, amount.get_absolute()))
}

impl GovernArgs {
    fn treasury_change(&self) -> anyhow::Result<Option<TreasuryChange>> {
        Ok(match (&self.spend, &self.budget) {
            (Some(text), _) => {
                let (to, amount) = payment("spend", text)?;
                Some(TreasuryChange::Spend { to, amount })
            }
            (_, Some(text)) => {
                let (payee, per_epoch) = payment("budget", text)?;
                Some(TreasuryChange::Budget { payee, per_epoch })
            }
            _ => None,
        })
    }

    fn change(&self) -> anyhow::Result<Change> {
        let address = |flag: &str, text: &str| text.parse().with_context(|| format!("--{flag} {text:?} is not an address"));
        if self.group.is_some() && self.guardrail.is_none() {
            bail!("--group belongs to a rail: give it with --guardrail");
        }
        Ok(match (&self.guardrail, self.mode, &self.timing, &self.kpi_source, &self.verifier, &self.guardian) {
            (Some(g), ..) => {
                let count = g.split(',').count();
                if ![4, 5, 7].contains(&count) {
                    bail!("--guardrail {g:?}: expected INDEX,MIN,MAX,MAX_STEP[,DEAD_BAND[,MAX_CHANGE_BPS,WINDOW]] (4, 5 or 7 integers), got {count}");
                }
                let g: Vec<i64> = numbers("guardrail", g, count)?;
                let index = u64::try_from(g[0]).with_context(|| format!("--guardrail: the index {} is negative", g[0]))?;
                let window = match g.get(6) {
                    Some(&w) => u64::try_from(w).with_context(|| format!("--guardrail: the window {w} is negative"))?,
                    None => 0,
                };
                Change::Guardrail {
                    index,
                    min: g[1],
                    max: g[2],
                    max_step: g[3],
                    dead_band: g.get(4).copied().unwrap_or(0),
                    max_change_bps: g.get(5).copied().unwrap_or(0),
                    window,
                    group: self.group.unwrap_or(0),
                }
            }
            (_, Some(mode), ..) => Change::Mode(match mode {
                ModeName::Advisory => Mode::Advisory,
                ModeName::Timelocked => Mode::Timelocked,
                ModeName::Autonomous => Mode::Autonomous,
            }),
            (_, _, Some(t), ..) => {
                let t: Vec<u64> = numbers("timing", t, 2)?;
                Change::Timing { max_snapshot_age: t[0], adjustment_delay: t[1] }
            }
            (_, _, _, Some(a), ..) => Change::KpiSource(address("kpi-source", a)?),
            (_, _, _, _, Some(a), _) => Change::Verifier(address("verifier", a)?),
            (_, _, _, _, _, Some(a)) => Change::Guardian(address("guardian", a)?),
            _ => bail!("name one change (--guardrail, --mode, --timing, --kpi-source, --verifier or --guardian)"),
        })
    }

    pub fn run(self) -> anyhow::Result<ExitCode> {
        if let Some(path) = &self.safe_tx {
            return self.write_safe_tx(path);
        }
        let (described, done, client) = match self.treasury_change()? {
            Some(change) => {
                let (client, deployment) = self.role.connect()?;
                let done = match self.action {
                    Action::Schedule => treasury::schedule(&client, &deployment, &change)?,
                    Action::Execute => treasury::execute(&client, &deployment, &change)?,
                    Action::Cancel => treasury::cancel(&client, &deployment, &change)?,
                };
                (change.to_string(), done, client)
            }
            None => {
                let change = self.change()?;
                let (client, deployment) = self.role.connect()?;
                let done = match self.action {
                    Action::Schedule => govern::schedule(&client, &deployment, &change)?,
                    Action::Execute => govern::execute_change(&client, &deployment, &change)?,
                    Action::Cancel => govern::cancel_change(&client, &deployment, &change)?,
                };
                (change.to_string(), done, client)
            }
        };
        self.report(&described, &done, &client)
    }

    /// `--safe-tx`: the call governance would send, written as a Safe Transaction Builder batch.
    fn write_safe_tx(&self, path: &Path) -> anyhow::Result<ExitCode> {
        distinct_output(path, &[Some(&self.role.deployment)])?;
        // As `run` sends them: the change read (and refused) before the node is reached.
        let (described, id, call, client, deployment) = match self.treasury_change()? {
            Some(t) => {
                let (client, deployment) = self.role.connect_read_only()?;
                let call = match self.action {
                    Action::Schedule => treasury::schedule_call(&client, &deployment, &t)?,
                    Action::Execute => treasury::execute_call(&deployment, &t)?,
                    Action::Cancel => treasury::cancel_call(&deployment, &t)?,
                };
                (t.to_string(), treasury::change_id(&deployment, &t)?, call, client, deployment)
            }
            None => {
                let c = self.change()?;
                let (client, deployment) = self.role.connect_read_only()?;
                let call = match self.action {
                    Action::Schedule => govern::schedule_call(&deployment, &c)?,
                    Action::Execute => govern::execute_call(&deployment, &c),
                    Action::Cancel => govern::cancel_call(&deployment, &c),
                };
                (c.to_string(), format!("0x{}", hex::encode(c.id())), call, client, deployment)
            }
        };
        let safe = govern::governance(&client, &deployment)?;
        let action = self.action_words().0;
        let description = format!("{action}: {described} (id {id}) on {}'s controller {}", deployment.model, deployment.controller);
        let created_at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        let batch = zkpolicy_chain::safe::batch(
            deployment.chain_id,
            safe,
            std::slice::from_ref(&call),
            "zkpolicy governance",
            &description,
            created_at,
        );
        let text = serde_json::to_string_pretty(&batch)? + "\n";
        zkpolicy_prover::fsutil::write_atomic(path, text.as_bytes())?;
        if self.role.json {
            print_json(&json!({
                "action": action,
                "change": described,
                "safe_tx": {
                    "file": path, "safe": safe.to_checksum(None), "id": id,
                    "to": call.to.to_checksum(None), "data": format!("0x{}", hex::encode(&call.data)),
                },
            }))?;
        } else {
            println!("wrote {}: a Safe Transaction Builder batch for governance {safe}", path.display());
            println!("{action}: {described} (id {id}), a call of {}; nothing was sent", call.to);
        }
        Ok(ExitCode::SUCCESS)
    }

    /// The action's name and its past tense.
    fn action_words(&self) -> (&'static str, &'static str) {
        match self.action {
            Action::Schedule => ("schedule", "scheduled"),
            Action::Execute => ("execute", "executed"),
            Action::Cancel => ("cancel", "cancelled"),
        }
    }

    fn report(&self, change: &str, done: &Governed, client: &zkpolicy_chain::Client) -> anyhow::Result<ExitCode> {
        let (action, done_word) = self.action_words();
        if self.role.json {
            print_json(&json!({ "action": action, "change": change, "result": done }))?;
        } else {
            println!("{done_word}: {change} (id {}): tx {} in block {}, {} gas", done.id, done.tx, done.block, done.gas);
            if let Some(eta) = done.eta {
                println!("executable after {}", chain_time(eta, client.chain_time()?));
            }
            print_cancelled(done.cancelled_epoch);
        }
        Ok(ExitCode::SUCCESS)
    }
}
