//! Argument parsing, dispatch and exit codes.
//!
//! Exit codes: 0 success; 1 the proof is invalid (or was made for another
//! model); 2 a usage or input error.

mod bench;
mod common;
mod demo;
mod gen_verifier;
mod inspect;
mod keygen;
mod progress;
mod prove;
mod setup;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Provable tokenomics policy adjustments: a quantized MLP proven with Halo2 (KZG, BN254).
#[derive(Debug, Parser)]
#[command(name = "zkpolicy", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Bench(bench::BenchArgs),
    Demo(demo::DemoArgs),
    GenVerifier(gen_verifier::GenVerifierArgs),
    Inspect(inspect::InspectArgs),
    Keygen(keygen::KeygenArgs),
    Setup(setup::SetupArgs),
    Prove(prove::ProveArgs),
    Verify(verify::VerifyArgs),
}

pub const EXIT_INVALID: u8 = 1;
pub const EXIT_INPUT: u8 = 2;

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Bench(args) => args.run(),
        Command::Demo(args) => args.run(),
        Command::GenVerifier(args) => args.run(),
        Command::Inspect(args) => args.run(),
        Command::Keygen(args) => args.run(),
        Command::Setup(args) => args.run(),
        Command::Prove(args) => args.run(),
        Command::Verify(args) => args.run(),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(EXIT_INPUT)
        }
    }
}
