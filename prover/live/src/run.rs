//! The live loop: deploy, fund the agents, then epoch by epoch move the node's clock, let
//! the keeper snapshot, prove and submit, tick the economy, and let the agents act.
//!
//! Order of one chain epoch (the simulator's order: decide, then step):
//! 1. the clock moves to the epoch's start;
//! 2. the keeper takes the snapshot, proves the adjustment on it and the controller's
//!    parameters, and submits it (warm-up epochs: the driver takes the snapshot, and no
//!    decision is made);
//! 3. the economy ticks: it takes the guarded parameters, mints, rewards and burns;
//! 4. the agents act: stakers and whales claim; LPs add or withdraw; stakers stake or
//!    unstake; traders trade round trips, then every directional flow (traders' demand,
//!    whales', stakers', and the sales of emission, rewards and withdrawn liquidity) is
//!    sent as its own swap;
//! 5. the treasury pays its spending: the epoch's budget is released (`treasury.rs`);
//! 6. a watcher proposes and submits the ten largest holders, the set the next epoch's
//!    snapshot reads for holder_concentration.
//!
//! Deployment (in epoch 1) seeds the KPI source's averages, so epoch 2 is the first with a
//! snapshot; the watcher submits once after funding, for it.
//!
//! | file | job |
//! |---|---|
//! | `run.rs` | the run's records, and the loop over warm-up and live epochs |
//! | `run/setup.rs` | the deployment config, the deployment, the agents' funding (epoch 1) |
//! | `run/keeper.rs` | the keeper's round, and the checks on its decision |
//! | `run/agents.rs` | the tick, the agents' transactions, the watcher's holder set |

use std::path::{Path, PathBuf};
use std::time::Instant;

use alloy::primitives::{Address, U256};
use alloy::signers::local::PrivateKeySigner;
use serde::Serialize;
use zkpolicy_lab::sim::{Scenario, Shocks, SimConfig};
use zkpolicy_model::{Model, ModelCard};

use super::attackers::{Attack, AttackerReport, Attackers, Scene};
use super::market::{Contracts, Memory, Plan, State};
use super::population::{GasBook, Population};
use super::treasury::Budget;
use super::LiveError;
use keeper::Twin;
use zkpolicy_chain::{self as chain, Client, Deployment, VerifierCode};
use zkpolicy_prover::keys::Prepared;

mod agents;
mod keeper;
mod setup;

pub use setup::deploy_config;

/// Seconds per epoch: a day, as in the simulator.
pub const EPOCH_SECONDS: u64 = zkpolicy_lab::sim::EPOCH_SECONDS;

/// What a live run is.
#[derive(Clone, Debug, Serialize)]
pub struct LiveOptions {
    /// The market regime, seed and number of live epochs, shared with the simulator.
    pub scenario: Scenario,
    /// Epochs at the initial parameters before the keeper starts (the simulator's warm-up).
    pub warmup: usize,
    /// Agent accounts (at least 5), split into roles by [`crate::population::roles`].
    pub agents: usize,
    /// The economy's starting point and the rails, shared with the simulator.
    pub sim: SimConfig,
    /// The attackers that act in the live epochs (`--attackers`; empty: none).
    pub attackers: Vec<Attack>,
}

/// One keeper round, run by the caller (as a child process, so it can be killed).
pub trait KeeperRunner {
    /// Writes the keeper's config for `deployment` (a record file), with state in `state_dir`.
    fn start(&mut self, deployment: &Path, state_dir: &Path) -> Result<(), LiveError>;
    /// Runs one round for `epoch` until its transactions are confirmed; restarts a keeper
    /// that dies, and says how often it had to.
    fn round(&mut self, epoch: u64) -> Result<KeeperRound, LiveError>;
    /// The keeper's signing address (funded by the deployer).
    fn address(&self) -> Address;
}

/// What one keeper round reported.
#[derive(Clone, Debug, Default, Serialize)]
pub struct KeeperRound {
    /// Times the keeper died during the round and was started again.
    pub restarts: u32,
    /// Seconds the keeper reported taking the snapshot, over every attempt.
    pub snapshot_seconds: f64,
    /// Seconds the keeper reported proving, over every attempt.
    pub prove_seconds: f64,
    /// Seconds the keeper reported submitting and waiting for confirmation, over every attempt.
    pub submit_seconds: f64,
}

/// Wall time of one epoch, in seconds.
#[derive(Clone, Debug, Default, Serialize)]
pub struct EpochSeconds {
    /// Holder set, tick and every agent transaction.
    pub agents: f64,
    /// The keeper's snapshot.
    pub snapshot: f64,
    /// The keeper's proof.
    pub prove: f64,
    /// The keeper's submission, until confirmed.
    pub submit: f64,
    /// Everything else: the keeper's start-up, reads, checks.
    pub other: f64,
}

/// One live epoch, as the chain recorded it.
#[derive(Clone, Debug, Serialize)]
pub struct LiveEpoch {
    /// Index after the warm-up (0: the keeper's first decision).
    pub index: usize,
    /// The chain's epoch.
    pub epoch: u64,
    /// The on-chain snapshot, quantized, in model input order.
    pub kpis: Vec<i64>,
    /// The snapshot's real values (`kpis[i] / 2^scale_bits`).
    pub kpi_values: Vec<f64>,
    /// The controller's parameters when the keeper proved, in rail order.
    pub params_before: Vec<i64>,
    /// The proven outputs, from the controller's `Decision` log.
    pub outputs: Vec<i64>,
    /// The integer reference's outputs on the same snapshot and parameters: must equal `outputs`.
    pub reference: Vec<i64>,
    /// What the controller applied, from its `Decision` log.
    pub guarded: Vec<i64>,
    /// What the guard twin says the controller must apply: must equal `guarded`.
    pub twin: Vec<i64>,
    /// A guardrail bound at least one value.
    pub guardrail_hit: bool,
    /// The economy's parameters after its tick.
    pub economy_params: Vec<i64>,
    /// The keeper's submission transaction.
    pub decision_tx: String,
    /// Its gas, the on-chain verification included.
    pub decision_gas: u64,
    /// The controller accepted the proof: its verifier ran in the EVM.
    pub verified_on_chain: bool,
    /// halo2's native verifier accepts the keeper's proof artifact, whose outputs are the
    /// ones the controller logged.
    pub verified_native: bool,
    /// Times the keeper had to be restarted in this epoch's round.
    pub keeper_restarts: u32,
    /// The market after the agents acted.
    pub market: State,
    /// The agents' flows this epoch, as the simulator's rules planned them.
    pub plan: Plan,
    /// Transactions of the epoch: the keeper's snapshot and submission, the agents', the
    /// treasury's, the holder set's, and the tick when no attacker made it.
    pub transactions: u64,
    /// How many of them reverted.
    pub reverted: u64,
    /// Wall time, by phase.
    pub seconds: EpochSeconds,
}

/// The whole run.
#[derive(Clone, Debug, Serialize)]
pub struct LiveRun {
    /// What was asked for.
    pub options: LiveOptions,
    /// The model's name.
    pub model: String,
    /// The model's commitment, as the verifier binds it.
    pub model_commitment: String,
    /// The deployment the run made.
    pub deployment: Deployment,
    /// Each role's name and how many agents have it.
    pub roles: Vec<(String, usize)>,
    /// Transactions of the setup (deployment excluded): funding, approvals, stakes, the
    /// first holder set.
    pub setup_transactions: u64,
    /// Wall seconds of the setup: the deployment, the funding, the first holder set, the
    /// keeper's start and the attackers' deployment.
    pub setup_seconds: f64,
    /// The market at the end of each warm-up epoch.
    pub warmup: Vec<State>,
    /// Each live epoch, in order.
    pub epochs: Vec<LiveEpoch>,
    /// Gas and transactions by contract: the setup's (after the deployment) and every
    /// epoch's, the keeper's snapshots and submissions included; the attackers' are in
    /// their own ledgers.
    pub gas: GasBook,
    /// Every check that failed (a proven output that is not the reference, a parameter that
    /// is not the twin's, an unverifiable proof): must be empty.
    pub failures: Vec<String>,
    /// Each attacker's ledger (empty without `--attackers`).
    pub attackers: Vec<AttackerReport>,
}

/// Everything the loop needs.
pub struct Live<'a> {
    /// The node, signing as the deployer.
    pub client: &'a Client,
    /// The deployer's key: it deploys, funds the agents, ticks and submits the holder sets.
    pub deployer: PrivateKeySigner,
    /// The verifier to deploy, generated from the keys in `prepared`.
    pub verifier: &'a VerifierCode,
    /// The proving and verifying keys, for the native check of each keeper proof.
    pub prepared: &'a Prepared,
    /// The model, for the integer reference of each decision.
    pub model: &'a Model,
    /// Where the deployment record and the keeper's state directory are written.
    pub out_dir: &'a Path,
    /// Called after each epoch (progress).
    pub on_epoch: &'a dyn Fn(&str),
}

impl Live<'_> {
    fn card(&self) -> &ModelCard {
        self.prepared.circuit.as_ref()
    }

    /// Deploys, funds the agents, then runs the warm-up and live epochs with `keeper`
    /// deciding each live one; returns the record of it all. Failed checks are collected in
    /// [`LiveRun::failures`]; an error stops the run.
    pub fn run(&self, options: &LiveOptions, keeper: &mut dyn KeeperRunner) -> Result<LiveRun, LiveError> {
        let mut s = self.set_up(options, keeper)?;
        // Setup ran in epoch 1; the warm-up starts with epoch 2.
        for step in 0..options.warmup + options.scenario.epochs {
            let epoch = 2 + step as u64;
            move_clock(self.client, s.genesis + (epoch - 1) * EPOCH_SECONDS)?;
            s.population.refresh_fees(self.client)?;
            let mut book = GasBook::default();
            let epoch_started = Instant::now();
            match step.checked_sub(options.warmup) {
                None => self.warm_up_epoch(options, &mut s, step, epoch, &mut book)?,
                Some(index) => {
                    let record = self.live_epoch(options, keeper, &mut s, (step, index, epoch), &mut book, epoch_started)?;
                    s.run.gas.merge(&book);
                    s.run.epochs.push(record);
                }
            }
        }
        s.run.attackers = s.attackers.reports();
        Ok(s.run)
    }

    /// A warm-up epoch: the driver takes the snapshot, no decision is made, the economy
    /// ticks at the initial parameters and the agents act.
    fn warm_up_epoch(&self, options: &LiveOptions, s: &mut Session, step: usize, epoch: u64, book: &mut GasBook) -> Result<(), LiveError> {
        let client = self.client;
        let c = &s.contracts;
        let mined = s.population.send(client, 0, c.kpi_source, snapshot_input(client, &s.deployment)?, U256::ZERO, book)?;
        if !mined.success {
            return Err(LiveError::Chain(chain::ChainError::Rejected {
                reason: format!("the warm-up snapshot of epoch {epoch} reverted ({})", mined.hash),
            }));
        }
        let buyback = self.tick(&mut s.population, c, book)?;
        self.act(&mut s.population, c, &mut s.memory, &Shocks::BASELINE, buyback, book)?;
        s.budget.step(client, &mut s.population, c, step, &|j| spending(options, j), book)?;
        self.submit_holders(&mut s.population, c, &s.deployment, book)?;
        s.run.warmup.push(State::read(client, c)?);
        s.run.gas.merge(book);
        (self.on_epoch)(&format!("warm-up epoch {}/{}: {} transactions", step + 1, options.warmup, book.transactions()));
        Ok(())
    }

    /// A live epoch (the loop's `step`, its `index` after the warm-up, the chain's `epoch`):
    /// the keeper's round and its checked decision, the tick, the agents, the
    /// treasury, the holder set, the attackers around them; returns the epoch's record.
    fn live_epoch(
        &self,
        options: &LiveOptions,
        keeper: &mut dyn KeeperRunner,
        s: &mut Session,
        (step, index, epoch): (usize, usize, u64),
        book: &mut GasBook,
        epoch_started: Instant,
    ) -> Result<LiveEpoch, LiveError> {
        let client = self.client;
        let (round, decided) = self.keeper_round(keeper, s, epoch, book)?;
        let keeper_seconds = round.snapshot_seconds + round.prove_seconds + round.submit_seconds;
        let mut record = decided.record;
        let agents_started = Instant::now();
        let buyback = self.checked_tick(s, epoch, &mut record, book)?;
        let plan = self.act(&mut s.population, &s.contracts, &mut s.memory, &options.scenario.shocks(index), buyback, book)?;
        s.budget.step(client, &mut s.population, &s.contracts, step, &|j| spending(options, j), book)?;
        self.submit_holders(&mut s.population, &s.contracts, &s.deployment, book)?;
        let scene = Scene { client, deployment: &s.deployment, contracts: &s.contracts, epoch };
        s.attackers.after_agents(&scene, &mut s.population)?;
        let agent_seconds = agents_started.elapsed().as_secs_f64();
        record.index = index;
        record.keeper_restarts = round.restarts;
        record.market = State::read(client, &s.contracts)?;
        record.plan = plan;
        record.transactions = book.transactions();
        record.reverted = book.reverted();
        let total = epoch_started.elapsed().as_secs_f64();
        record.seconds = EpochSeconds {
            agents: agent_seconds,
            snapshot: round.snapshot_seconds,
            prove: round.prove_seconds,
            submit: round.submit_seconds,
            other: (total - agent_seconds - keeper_seconds).max(0.0),
        };
        (self.on_epoch)(&format!(
            "epoch {}/{} (chain epoch {epoch}): outputs {:?} -> parameters {:?}, {} transactions, {:.1} s",
            index + 1,
            options.scenario.epochs,
            record.outputs,
            record.guarded,
            record.transactions,
            total
        ));
        Ok(record)
    }
}

/// A run in progress: its record so far, and what the loop carries from epoch to epoch.
struct Session {
    run: LiveRun,
    population: Population,
    deployment: Deployment,
    contracts: Contracts,
    /// The economy's genesis timestamp: chain epoch `e` starts at `genesis + (e - 1) * EPOCH_SECONDS`.
    genesis: u64,
    /// The keeper's state directory, whose records name each round's transactions.
    state_dir: PathBuf,
    attackers: Attackers,
    budget: Budget,
    memory: Memory,
    twin: Twin,
}

/// The simulator's treasury spending in step `j`, quote an epoch (warm-up epochs spend at
/// the baseline).
fn spending(options: &LiveOptions, j: usize) -> f64 {
    let shock = j.checked_sub(options.warmup).map_or(1.0, |t| options.scenario.shocks(t).spend);
    options.sim.economy.yearly_spend * shock / zkpolicy_lab::sim::agents::EPOCHS_PER_YEAR
}

/// The `takeSnapshot` call of the current epoch, with the holder set that stood at the
/// end of the previous one.
fn snapshot_input(client: &Client, deployment: &Deployment) -> Result<Vec<u8>, LiveError> {
    Ok(chain::economy::snapshot_call(client, deployment)?.0)
}

/// Moves a development node's clock to `at` and mines a block there.
fn move_clock(client: &Client, at: u64) -> Result<(), LiveError> {
    let now = client.chain_time()?;
    if at <= now {
        return Err(LiveError::Config(format!(
            "the node's clock is already at {now}, past the next epoch's start {at}: an epoch's transactions took more than a day of chain time"
        )));
    }
    let moved = client
        .request("evm_setNextBlockTimestamp", serde_json::json!([at]))
        .and_then(|_| client.request("evm_mine", serde_json::json!([])));
    moved.map_err(|e| {
        LiveError::Config(format!(
            "live moves the node's clock a day per epoch, which needs a development node (evm_setNextBlockTimestamp): {e}"
        ))
    })?;
    Ok(())
}
