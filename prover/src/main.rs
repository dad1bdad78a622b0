//! `zkpolicy`: prove that a token-parameter adjustment is what the committed policy model outputs.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
