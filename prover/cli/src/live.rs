use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::{keccak256, Address};
use alloy::signers::local::PrivateKeySigner;
use anyhow::{bail, Context};
use clap::Args;
use serde_json::json;
use zkpolicy_chain::{Client, LocalNode, VerifierCode};
use zkpolicy_circuits::PolicyCircuit;
use zkpolicy_keeper::config::{ChainConfig, DeploymentConfig, SignerConfig};
use zkpolicy_keeper::{KeeperConfig, LogFormat, RoundReport};
use zkpolicy_lab::sim::{Scenario, ScenarioKind, SimConfig};
use zkpolicy_live::attackers::{self, Attack};
use zkpolicy_live::{honest, report, KeeperRound, KeeperRunner, Live, LiveError, LiveOptions, LiveRun};
use zkpolicy_model::Model;
use zkpolicy_prover::keys::Prepared;
use zkpolicy_prover::{evm, fsutil, srs};

use super::common::{print_json, shipped_or_compiled, KeyArgs, ModelArgs, SolcArgs};

/// Run the whole loop live on a real node: simulated agents trade, stake and provide
/// liquidity as real transactions while the keeper snapshots, proves and submits.
///
/// Starts the pinned local node (or uses $ZKPOLICY_RPC_URL, which must be a development
/// node: the run moves its clock a day per epoch), deploys the economy, its on-chain KPI
/// source, the verifier and an autonomous controller, funds --agents accounts (whales,
/// stakers, LPs, traders, the ecosystem fund) and runs --warmup epochs at the initial
/// parameters, then --epochs epochs in which the keeper (`zkpolicy keeper --once`, a child
/// process) proves and submits every adjustment. The agents follow the simulator's rules
/// on the chain's state, with the simulator's noise stream for --seed; the simulator runs
/// the same scenario beside it. Every decision is checked: proven outputs against the
/// integer reference on the on-chain snapshot, applied parameters against the guard twin.
///
/// Writes report.json, report.md and trajectories.svg (chain beside simulator) to
/// --out-dir, with the deployment record, the keeper's config, state and log. Exit 1 when
/// a check failed. Development keys (Hardhat's account #0, or $ZKPOLICY_PRIVATE_KEY) and
/// the development SRS: this is a local-chain tool.
///
/// Examples:
///   zkpolicy live --scenario crash --epochs 60 --agents 100 --out-dir live
///   zkpolicy live --model models/trained-policy.json --scenario demand_surge --epochs 10 --warmup 10 --out-dir live --json
///   zkpolicy live --scenario crash --epochs 60 --agents 100 --attackers all --baseline live/report.json --out-dir attacked
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct LiveArgs {
    #[command(flatten)]
    model: ModelArgs,

    /// calm, crash, liquidity_drain, demand_surge or slow_bleed.
    #[arg(long, value_name = "NAME", default_value = "crash")]
    scenario: String,

    /// Epochs the keeper decides (one a day of chain time).
    #[arg(long, value_name = "N", default_value_t = 60)]
    epochs: usize,

    /// Epochs at the initial parameters first, to fill the 30-epoch windows (the simulator's default is 60).
    #[arg(long, value_name = "N", default_value_t = 60)]
    warmup: usize,

    /// Agent accounts (at least 5).
    #[arg(long, value_name = "N", default_value_t = 100)]
    agents: usize,

    /// Seeds the agents' keys and the market's noise (the simulator's stream).
    #[arg(long, value_name = "SEED", default_value_t = 7)]
    seed: u64,

    /// Attackers that act in the live epochs, with real transactions: `all`, or a comma-separated list of
    /// pump-snapshot, empty-holders, tick-sandwich, jit-stake, stale-decision, wash-trading. The report gives
    /// each one's profit and loss (gas included), which must not be positive, and the KPI it tried to move.
    #[arg(long, value_name = "LIST")]
    attackers: Option<String>,

    /// An honest run's report.json (same scenario, seed, agents and warm-up): the report compares every
    /// epoch's KPIs with it, in quanta.
    #[arg(long, value_name = "REPORT")]
    baseline: Option<PathBuf>,

    /// Where the report, plots, deployment record and keeper state go (created; must not hold a run).
    #[arg(long, value_name = "DIR")]
    out_dir: PathBuf,

    #[command(flatten)]
    keys: KeyArgs,

    #[command(flatten)]
    solc: SolcArgs,

    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Hardhat's account #0: funded on every Hardhat (and Anvil) development node, and public.
const DEV_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
/// Hardhat's and Anvil's chain id, where DEV_KEY is funded.
const DEV_CHAIN_ID: u64 = 31_337;
/// The environment variable the keeper child reads its key from.
const KEEPER_KEY_ENV: &str = "ZKPOLICY_LIVE_KEEPER_KEY";
/// Test hook: `<index>:<failpoint>` kills the keeper at that failpoint in the live epoch
/// `index` (see the keeper's ZKPOLICY_KEEPER_FAILPOINT); the run restarts it.
const CRASH_ENV: &str = "ZKPOLICY_LIVE_KEEPER_CRASH";

impl LiveArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let Setup { out_dir, model, circuit, baseline, options } = self.setup()?;
        let node = Node::start(&out_dir)?;
        let (client, deployer) = connect(&node)?;
        let (prepared, verifier) = self.verifier(circuit)?;
        let mut keeper = self.child_keeper(&out_dir, &node, &model)?;
        let quiet = self.json;
        let progress = move |line: &str| {
            if !quiet {
                eprintln!("{line}");
            }
        };
        let started = Instant::now();
        let live = Live {
            client: &client,
            deployer,
            verifier: &verifier,
            prepared: &prepared,
            model: &model,
            out_dir: &out_dir,
            on_epoch: &progress,
        };
        let mut run = live.run(&options, &mut keeper)?;
        let wall = started.elapsed().as_secs_f64();
        run.failures.extend(attackers::failures(&run.attackers));
        let summary = write_report(&run, &model, baseline.as_ref(), wall, &out_dir)?;

        if self.json {
            print_json(&json!({
                "out_dir": out_dir,
                "totals": summary.totals,
                "fidelity": summary.fidelity,
                "attackers": run.attackers,
                "against_honest": summary.against_honest,
                "failures": run.failures,
            }))?;
        } else {
            print_text(&run, &options, &summary, &out_dir);
        }
        Ok(if run.failures.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(super::EXIT_INVALID) })
    }

    /// Checks the arguments, creates --out-dir, loads the model and the baseline: everything
    /// that can fail before a node is started.
    fn setup(&self) -> anyhow::Result<Setup> {
        let kind = ScenarioKind::from_name(&self.scenario).with_context(|| {
            format!(
                "--scenario: {:?} is not one of {}",
                self.scenario,
                ScenarioKind::ALL.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")
            )
        })?;
        if self.epochs == 0 {
            bail!("--epochs: at least 1");
        }
        if self.out_dir.join("keeper").exists() || self.out_dir.join("report.json").exists() {
            bail!("--out-dir {} holds a previous run; choose another directory or remove it", self.out_dir.display());
        }
        std::fs::create_dir_all(&self.out_dir).with_context(|| format!("cannot create --out-dir {}", self.out_dir.display()))?;
        let out_dir = self.out_dir.canonicalize()?;
        let (model, circuit) = self.model.load()?;
        if self.model.salt.is_some() {
            bail!("--salt: live runs the public model (the simulator beside it reads the weights)");
        }
        let attackers = self.attackers.as_deref().map(Attack::parse_list).transpose()?.unwrap_or_default();
        let baseline = self.read_baseline()?;
        let options = LiveOptions {
            scenario: Scenario::new(kind, self.seed, self.epochs),
            warmup: self.warmup,
            agents: self.agents,
            sim: SimConfig::default(),
            attackers,
        };
        // Fail on a model the simulator cannot run before anything is deployed.
        zkpolicy_lab::sim::IntegerPolicy::new((*model).clone())?;
        Ok(Setup { out_dir, model, circuit, baseline, options })
    }

    /// The honest run's report named by --baseline, as JSON (none without --baseline).
    fn read_baseline(&self) -> anyhow::Result<Option<serde_json::Value>> {
        self.baseline
            .as_ref()
            .map(|path| -> anyhow::Result<_> {
                let text =
                    fsutil::read_regular(path, 256 << 20, "a live report").with_context(|| format!("--baseline {}", path.display()))?;
                serde_json::from_slice(&text).with_context(|| format!("--baseline {}: not JSON", path.display()))
            })
            .transpose()
    }

    /// The keys for `circuit` (development SRS only) and the verifier rendered from them.
    fn verifier(&self, circuit: PolicyCircuit) -> anyhow::Result<(Prepared, VerifierCode)> {
        let prepared = self.keys.prepare(circuit)?;
        if !srs::is_dev(&prepared.params) {
            bail!("live runs on a development chain with the development SRS; leave --srs out");
        }
        let source = evm::verifier_source(&prepared.params, prepared.pk.get_vk(), &prepared.circuit)?;
        let verifier = VerifierCode {
            bytecode: shipped_or_compiled(&source, &self.solc, self.json)?.bytecode,
            srs: prepared.srs.id(),
            insecure_dev_srs: true,
        };
        Ok((prepared, verifier))
    }

    /// The model file the keeper child loads: --model's file, or the bundled `model` (the one
    /// --model names, already loaded) written into the run's directory; `None`: the default.
    fn keeper_model(&self, out_dir: &Path, model: &Model) -> anyhow::Result<Option<PathBuf>> {
        let Some(path) = &self.model.model else { return Ok(None) };
        if path.exists() {
            return Ok(Some(path.canonicalize()?));
        }
        let file = out_dir.join("model.json");
        std::fs::write(&file, serde_json::to_string_pretty(model.file())?).with_context(|| format!("cannot write {}", file.display()))?;
        Ok(Some(file))
    }

    /// The keeper child that proves and submits every live epoch on `node`, with a key derived from --seed.
    fn child_keeper(&self, out_dir: &Path, node: &Node, model: &Model) -> anyhow::Result<ChildKeeper> {
        let keeper_key = PrivateKeySigner::from_bytes(&keccak256([b"zkpolicy live keeper".as_slice(), &self.seed.to_le_bytes()].concat()))
            .context("the keeper's key")?;
        Ok(ChildKeeper {
            exe: std::env::current_exe().context("the zkpolicy executable")?,
            config: out_dir.join("keeper.toml"),
            log: out_dir.join("keeper.log"),
            url: node.url.clone(),
            key: keeper_key,
            model: self.keeper_model(out_dir, model)?,
            cache_dir: std::path::absolute(&self.keys.cache_dir)?,
            crash: std::env::var(CRASH_ENV).ok(),
            warmup: self.warmup,
        })
    }
}

/// What [`LiveArgs::setup`] checked and loaded before a node is started.
struct Setup {
    out_dir: PathBuf,
    model: Arc<Model>,
    circuit: PolicyCircuit,
    baseline: Option<serde_json::Value>,
    options: LiveOptions,
}

/// The report's figures besides the run itself, for the summary printed at the end.
struct Summary {
    totals: report::Totals,
    fidelity: report::Fidelity,
    against_honest: Option<honest::AgainstHonest>,
}

/// A client on `node` signing as the deployer ($ZKPOLICY_PRIVATE_KEY, or Hardhat's account #0
/// on a development chain only), and that deployer's key.
fn connect(node: &Node) -> anyhow::Result<(Client, PrivateKeySigner)> {
    let own_key = std::env::var("ZKPOLICY_PRIVATE_KEY").ok();
    let deployer: PrivateKeySigner = own_key
        .as_deref()
        .unwrap_or(DEV_KEY)
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("$ZKPOLICY_PRIVATE_KEY is not a hex private key"))?;
    let client = Client::connect(&node.url, Some(deployer.clone()))?;
    if own_key.is_none() && client.chain_id() != DEV_CHAIN_ID {
        bail!(
            "the node serves chain {}, not a development chain ({DEV_CHAIN_ID}): live moves its clock and funds its \
             agents from a development account; set $ZKPOLICY_PRIVATE_KEY for another development node",
            client.chain_id()
        );
    }
    Ok((client, deployer))
}

/// Compares the run with the simulator (and the baseline, if any) and writes report.json,
/// report.md and trajectories.svg to `out_dir`.
fn write_report(run: &LiveRun, model: &Model, baseline: Option<&serde_json::Value>, wall: f64, out_dir: &Path) -> anyhow::Result<Summary> {
    let kpi_names: Vec<String> = model.card().inputs().iter().map(|i| i.name.clone()).collect();
    let against_honest = baseline.map(|b| honest::against_honest(run, &kpi_names, b)).transpose()?;

    let trajectory = report::simulate(run, model)?;
    let fidelity = report::fidelity(run, model, &trajectory);
    let totals = report::totals(run, wall);
    let mut markdown = report::markdown(run, &totals, &fidelity);
    if !run.attackers.is_empty() {
        markdown.push_str(&attackers::markdown(&run.attackers));
    }
    if let Some(a) = &against_honest {
        markdown.push_str(&honest::markdown(a));
    }
    let svg = zkpolicy_live::plot::trajectories_svg(run, &trajectory)?;
    let document = report::Report {
        format: "zkpolicy-live-report",
        totals: totals.clone(),
        fidelity: fidelity.clone(),
        run,
        simulator: &trajectory,
        against_honest: against_honest.as_ref(),
    };
    fsutil::write_atomic(&out_dir.join("report.json"), &serde_json::to_vec_pretty(&document)?)?;
    fsutil::write_atomic(&out_dir.join("report.md"), markdown.as_bytes())?;
    fsutil::write_atomic(&out_dir.join("trajectories.svg"), svg.as_bytes())?;
    Ok(Summary { totals, fidelity, against_honest })
}

/// Prints the run's summary as text: totals, timings, fidelity, each attacker, the gap to
/// the baseline and every failed check.
fn print_text(run: &LiveRun, options: &LiveOptions, summary: &Summary, out_dir: &Path) {
    let Summary { totals, fidelity, against_honest } = summary;
    println!(
        "{} epochs live ({} warm-up) with {} agents: {} decisions, {} verified in the EVM and natively, {} keeper restarts",
        totals.epochs,
        options.warmup,
        options.agents,
        totals.decisions,
        totals.verified_native.min(totals.verified_on_chain),
        totals.keeper_restarts
    );
    println!(
        "  {} transactions ({:.0} per epoch, {} reverted), {} gas; {:.0} s in all",
        totals.transactions, totals.transactions_per_epoch, totals.reverted, totals.gas_total, totals.wall_seconds
    );
    let s = &totals.seconds_per_epoch;
    println!(
        "  per epoch: agents {:.1} s, snapshot {:.2} s, prove {:.2} s, submit {:.2} s, other {:.2} s",
        s.agents, s.snapshot, s.prove, s.submit, s.other
    );
    println!("  the simulator took the same decision in {} of {} epochs", fidelity.same_decision, fidelity.epochs);
    for a in &run.attackers {
        println!(
            "  attacker {}: {} transactions, {} refused, P&L {:.2} quote ({:.2} before gas){}",
            a.attack.name(),
            a.transactions,
            a.refused.values().sum::<u64>(),
            a.pnl,
            a.pnl_before_gas,
            a.kpi_moved_quanta.map_or(String::new(), |q| format!(", KPI moved {q} quanta"))
        );
    }
    if let Some(a) = against_honest {
        let worst = a.kpis.iter().max_by_key(|k| k.max_quanta);
        if let Some(k) = worst {
            println!(
                "  against the honest run: largest KPI gap {} quanta ({}), same parameters in {} of {} epochs",
                k.max_quanta, k.name, a.same_parameters, a.epochs
            );
        }
    }
    for line in &run.failures {
        println!("  CHECK FAILED: {line}");
    }
    println!("wrote {}/report.md, report.json and trajectories.svg", out_dir.display());
}

/// The node: `$ZKPOLICY_RPC_URL`, or the pinned local node started here (and stopped on drop).
struct Node {
    url: String,
    _own: Option<LocalNode>,
}

impl Node {
    fn start(out_dir: &Path) -> anyhow::Result<Self> {
        if let Ok(url) = std::env::var("ZKPOLICY_RPC_URL") {
            Client::connect(&url, None)?;
            return Ok(Self { url, _own: None });
        }
        let script = [
            PathBuf::from("verifier-contract/node/local-node.sh"),
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../verifier-contract/node/local-node.sh"),
        ]
        .into_iter()
        .find(|p| p.is_file())
        .context("no $ZKPOLICY_RPC_URL, and verifier-contract/node/local-node.sh (the pinned local node) is not here: run from the repository, or name a development node in $ZKPOLICY_RPC_URL")?;
        // The first start may install the node from npm.
        let own = LocalNode::start(&script, Some(&out_dir.join("node.log")), Duration::from_secs(300))?;
        Ok(Self { url: own.url().to_string(), _own: Some(own) })
    }
}

/// The keeper as a child process, one `--once` round per epoch.
struct ChildKeeper {
    exe: PathBuf,
    config: PathBuf,
    log: PathBuf,
    url: String,
    key: PrivateKeySigner,
    model: Option<PathBuf>,
    cache_dir: PathBuf,
    crash: Option<String>,
    warmup: usize,
}

impl KeeperRunner for ChildKeeper {
    fn start(&mut self, deployment: &Path, state_dir: &Path) -> Result<(), LiveError> {
        let mut served = DeploymentConfig::new("live", "local", deployment.to_path_buf());
        served.model = self.model.clone();
        // The live driver ticks the economy after the decision, as the simulator steps after it.
        served.tick = false;
        let mut chain = ChainConfig::new(vec![self.url.clone()], 1000);
        chain.resend_after_secs = 30;
        let chains = BTreeMap::from([("local".to_string(), chain)]);
        let signer = SignerConfig { env: Some(KEEPER_KEY_ENV.into()), ..SignerConfig::default() };
        let mut config = KeeperConfig::new(state_dir.to_path_buf(), signer, chains, vec![served]);
        config.cache_dir = self.cache_dir.clone();
        config.poll_interval_secs = 1;
        config.log_format = LogFormat::Json;
        let text = format!("# Written by `zkpolicy live`: the keeper that proves and submits every live epoch.\n{}", config.to_toml()?);
        fsutil::write_atomic(&self.config, text.as_bytes())?;
        Ok(())
    }

    fn round(&mut self, epoch: u64) -> Result<KeeperRound, LiveError> {
        let mut round = KeeperRound::default();
        let crash = self
            .crash
            .as_deref()
            .and_then(|c| c.split_once(':'))
            .filter(|(index, _)| index.parse::<u64>().is_ok_and(|i| i + 2 + self.warmup as u64 == epoch));
        let mut failures = Vec::new();
        for attempt in 0..4 {
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.log)
                .map_err(|e| LiveError::Keeper(format!("{}: {e}", self.log.display())))?;
            let mut command = Command::new(&self.exe);
            command
                .args(["keeper", "--once", "--json", "--config"])
                .arg(&self.config)
                .env(KEEPER_KEY_ENV, format!("0x{}", alloy::hex::encode(self.key.to_bytes())))
                .env_remove("ZKPOLICY_KEEPER_FAILPOINT")
                .stdout(Stdio::piped())
                .stderr(log);
            if let (Some((_, point)), 0) = (crash, attempt) {
                command.env("ZKPOLICY_KEEPER_FAILPOINT", point);
            }
            let mut child = command.spawn().map_err(|e| LiveError::Keeper(format!("cannot start the keeper: {e}")))?;
            let mut stdout = String::new();
            if let Some(mut out) = child.stdout.take() {
                let _ = out.read_to_string(&mut stdout);
            }
            let status = child.wait().map_err(|e| LiveError::Keeper(format!("the keeper: {e}")))?;
            // The round's report (`keeper --once --json`); none when the keeper died first.
            let report = serde_json::from_str::<KeeperOnce>(&stdout).map(|once| once.round).unwrap_or_default();
            round.snapshot_seconds += report.seconds.snapshot;
            round.prove_seconds += report.seconds.prove;
            round.submit_seconds += report.seconds.submit;
            if status.success() {
                return Ok(round);
            }
            round.restarts += 1;
            failures.push(if report.errors.is_empty() { format!("exited with {status}") } else { report.errors.join("; ") });
        }
        Err(LiveError::Keeper(format!(
            "epoch {epoch}: the keeper failed four times ({}); its log is {}",
            failures.join(" / "),
            self.log.display()
        )))
    }

    fn address(&self) -> Address {
        self.key.address()
    }
}

/// What `zkpolicy keeper --once --json` prints: the round, then the records (not read here).
#[derive(serde::Deserialize)]
struct KeeperOnce {
    round: RoundReport,
}
