//! `zkpolicy live`: the closed loop on a real node. Simulated market agents (real
//! accounts, real transactions) trade, stake and provide liquidity in the reference
//! economy; the on-chain KPI source takes each epoch's snapshot; the keeper proves and
//! submits; the controller applies guarded parameters; the economy ticks on them; the
//! agents react. The in-process simulator runs the same scenario and seed beside it.
//!
//! Depends on the keeper (`zkpolicy-keeper`), driven in-process, the chain client, the
//! lab's simulator and the reports' plots; never on the CLI.
//!
//! | file | job |
//! |---|---|
//! | `population.rs` | the agent accounts: keys, funding, signed transactions, the gas book |
//! | `market.rs` | the economy's state as read from the chain, and the simulator's rules on it |
//! | `run.rs`, `run/` | the epoch loop: setup, the keeper's round and the checks on every decision, the agents' epoch |
//! | `report.rs` | `report.json`, `report.md` and the simulator comparison |
//! | `plot.rs` | the trajectories, chain beside simulator |
//! | `treasury.rs` | the treasury's running costs: the budget stream, steered through the timelock |

#![deny(missing_docs)]

pub mod attackers;
pub mod honest;
pub mod market;
pub mod plot;
pub mod population;
pub mod report;
mod run;
mod treasury;

pub use run::{deploy_config, EpochSeconds, KeeperRound, KeeperRunner, Live, LiveEpoch, LiveOptions, LiveRun, EPOCH_SECONDS};

/// Why a live run stopped.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The options, the economy or the node do not allow the run (too few agents, an economy
    /// whose shares do not fit its supply, a node that cannot move its clock); the message
    /// names the option and the fix.
    #[error("{0}")]
    Config(String),

    /// The keeper's round failed (it died four times), or its decision cannot be read back:
    /// no confirmed submission, no receipt, no `Decision` log.
    #[error("keeper: {0}")]
    Keeper(String),

    /// A chain call failed, or a transaction the run depends on (setup, tick, snapshot,
    /// holder set) reverted.
    #[error(transparent)]
    Chain(#[from] zkpolicy_chain::ChainError),

    /// The keeper's state directory, whose records name each round's transactions, cannot
    /// be read.
    #[error(transparent)]
    KeeperState(#[from] zkpolicy_keeper::KeeperError),

    /// The keeper's proof artifact cannot be loaded or checked natively.
    #[error(transparent)]
    Prover(#[from] zkpolicy_prover::ProverError),

    /// The model's integer reference or guard twin refused the chain's snapshot, parameters
    /// or proven outputs.
    #[error(transparent)]
    Model(#[from] zkpolicy_model::ModelError),

    /// The scenario, the simulator's economy or its run is invalid.
    #[error(transparent)]
    Lab(#[from] zkpolicy_lab::LabError),
}
