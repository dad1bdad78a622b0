//! `zkpolicy`, the command line: argument parsing, dispatch and exit codes. Each command
//! is a thin file over the libraries (`zkpolicy-prover`, `-chain`, `-keeper`, `-live`,
//! `-report`, the lab); the binary is the only crate that uses clap, anyhow or indicatif.
//!
//! Exit codes: 0 success; 1 the proof is invalid (or was made for another
//! model), or the chain rejected it; 2 a usage, input, key or connection error. A command
//! whose stdout reader has gone (`| head -1`) ends as if killed by SIGPIPE (see `stdout`).

// First: its print macros replace std's in every module below.
#[macro_use]
mod stdout;

mod audit;
mod backtest;
mod bench;
mod commit_kpis;
mod common;
mod demo;
mod deploy;
mod economy;
mod execute;
mod export_contracts;
mod export_vk;
mod gen_verifier;
mod govern;
mod help;
mod import;
mod inspect;
mod keeper;
mod keygen;
mod live;
mod progress;
mod prove;
mod salt;
mod setup;
mod status;
mod submit;
mod train;
mod verify;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// Provable tokenomics policy adjustments: a quantized MLP proven with Halo2 (KZG, BN254).
#[derive(Debug, Parser)]
#[command(name = "zkpolicy", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Audit(audit::AuditArgs),
    Backtest(backtest::BacktestArgs),
    Bench(bench::BenchArgs),
    CommitKpis(commit_kpis::CommitKpisArgs),
    Demo(demo::DemoArgs),
    Deploy(deploy::DeployArgs),
    Execute(execute::ExecuteArgs),
    ExportContracts(export_contracts::ExportContractsArgs),
    ExportVk(export_vk::ExportVkArgs),
    GenVerifier(gen_verifier::GenVerifierArgs),
    Govern(govern::GovernArgs),
    Import(import::ImportArgs),
    Inspect(inspect::InspectArgs),
    Keeper(keeper::KeeperArgs),
    Keygen(keygen::KeygenArgs),
    Live(live::LiveArgs),
    Pause(govern::PauseArgs),
    Setup(setup::SetupArgs),
    Snapshot(economy::SnapshotArgs),
    Prove(prove::ProveArgs),
    Salt(salt::SaltArgs),
    Status(status::StatusArgs),
    Unpause(govern::UnpauseArgs),
    Submit(submit::SubmitArgs),
    SubmitHolders(economy::SubmitHoldersArgs),
    Tick(economy::TickArgs),
    Train(train::TrainArgs),
    Verify(verify::VerifyArgs),
}

pub const EXIT_INVALID: u8 = 1;
pub const EXIT_INPUT: u8 = 2;

pub fn main() -> ExitCode {
    let json = std::env::args_os().any(|a| a == "--json");
    let parsed = help::command().try_get_matches().and_then(|matches| {
        common::set_command_name(matches.subcommand_name().unwrap_or_default());
        Cli::from_arg_matches(&matches)
    });
    let cli = match parsed {
        Ok(cli) => cli,
        Err(err) => return usage_error(err, json),
    };
    let result = match cli.command {
        Command::Audit(args) => args.run(),
        Command::Backtest(args) => args.run(),
        Command::Bench(args) => args.run(),
        Command::CommitKpis(args) => args.run(),
        Command::Demo(args) => args.run(),
        Command::Deploy(args) => args.run(),
        Command::Execute(args) => args.run(),
        Command::ExportContracts(args) => args.run(),
        Command::ExportVk(args) => args.run(),
        Command::GenVerifier(args) => args.run(),
        Command::Govern(args) => args.run(),
        Command::Import(args) => args.run(),
        Command::Inspect(args) => args.run(),
        Command::Keeper(args) => args.run(),
        Command::Live(args) => args.run(),
        Command::Keygen(args) => args.run(),
        Command::Pause(args) => args.run(),
        Command::Setup(args) => args.run(),
        Command::Snapshot(args) => args.run(),
        Command::Prove(args) => args.run(),
        Command::Salt(args) => args.run(),
        Command::Status(args) => args.run(),
        Command::Unpause(args) => args.run(),
        Command::Submit(args) => args.run(),
        Command::SubmitHolders(args) => args.run(),
        Command::Tick(args) => args.run(),
        Command::Train(args) => args.run(),
        Command::Verify(args) => args.run(),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            let code = if rejected(&err) { EXIT_INVALID } else { EXIT_INPUT };
            let message = zkpolicy_prover::describe(err.as_ref());
            if json {
                // With --json, stdout carries exactly one JSON document, failures included.
                let kind = if code == EXIT_INVALID { "rejected" } else { "input" };
                let error = serde_json::json!({ "error": { "kind": kind, "message": message, "exit_code": code } });
                if let Err(e) = common::print_json(&error) {
                    eprintln!("error: cannot print the JSON error: {e}");
                }
            }
            eprintln!("error: {message}");
            ExitCode::from(code)
        }
    }
}

/// A command line clap refuses: its message (and usage) on stderr as always; with --json,
/// also the error document on stdout, exit code 2. Help and version print as usual.
fn usage_error(err: clap::Error, json: bool) -> ExitCode {
    use clap::error::ErrorKind;
    if json
        && !matches!(err.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand)
    {
        // The subcommand as typed, when it is one.
        let typed = std::env::args_os().nth(1).and_then(|a| a.into_string().ok()).unwrap_or_default();
        if Cli::command().get_subcommands().any(|c| c.get_name() == typed) {
            common::set_command_name(&typed);
        }
        let rendered = err.render().to_string();
        // The whole message up to the usage line: a missing argument's name is on the lines
        // after "the following required arguments were not provided:".
        let message = rendered
            .lines()
            .take_while(|line| !line.is_empty() && !line.starts_with("Usage:"))
            .map(str::trim)
            .collect::<Vec<_>>()
            .join(" ")
            .trim_start_matches("error: ")
            .to_string();
        let error = serde_json::json!({ "error": { "kind": "input", "message": message, "exit_code": EXIT_INPUT } });
        if let Err(e) = common::print_json(&error) {
            eprintln!("error: cannot print the JSON error: {e}");
        }
    }
    let _ = err.print();
    ExitCode::from(if err.use_stderr() { EXIT_INPUT } else { 0 })
}

/// Errors that mean "checked, and refused": a false statement, not bad input. The libraries'
/// errors wrap each other transparently (a live run's chain error is a `LiveError::Chain`), so
/// each wrapper is looked into.
fn rejected(err: &anyhow::Error) -> bool {
    use zkpolicy_chain::ChainError;
    use zkpolicy_keeper::KeeperError;
    use zkpolicy_live::LiveError;
    use zkpolicy_prover::ProverError;
    let chain = |e: &ChainError| matches!(e, ChainError::Rejected { .. } | ChainError::Prover(ProverError::InvalidProof { .. }));
    let keeper = |e: &KeeperError| match e {
        KeeperError::Chain(c) => chain(c),
        KeeperError::Prover(p) => matches!(p, ProverError::InvalidProof { .. }),
        _ => false,
    };
    err.chain().any(|cause| {
        cause.downcast_ref::<ChainError>().is_some_and(chain)
            || matches!(cause.downcast_ref::<ProverError>(), Some(ProverError::InvalidProof { .. }))
            || cause.downcast_ref::<KeeperError>().is_some_and(keeper)
            || match cause.downcast_ref::<LiveError>() {
                Some(LiveError::Chain(c)) => chain(c),
                Some(LiveError::KeeperState(k)) => keeper(k),
                Some(LiveError::Prover(p)) => matches!(p, ProverError::InvalidProof { .. }),
                _ => false,
            }
    })
}

#[cfg(test)]
mod tests {
    use zkpolicy_chain::ChainError;
    use zkpolicy_live::LiveError;

    /// A chain's refusal is "rejected" (exit 1) however deep it is wrapped; bad input is not.
    #[test]
    fn a_rejection_wrapped_by_live_or_the_keeper_is_still_a_rejection() {
        let refused = || ChainError::Rejected { reason: "the holder set's proposal reverted".into() };
        assert!(super::rejected(&anyhow::Error::from(refused())));
        assert!(super::rejected(&anyhow::Error::from(LiveError::Chain(refused()))));
        assert!(super::rejected(&anyhow::Error::from(LiveError::KeeperState(zkpolicy_keeper::KeeperError::Chain(refused())))));
        assert!(!super::rejected(&anyhow::Error::from(LiveError::Config("--agents must be at least 5".into()))));
        assert!(!super::rejected(&anyhow::Error::from(LiveError::Chain(ChainError::Config("no key".into())))));
    }
}
