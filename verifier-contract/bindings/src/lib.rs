//! The zkpolicy contracts from Rust: the controller and KPI-source contracts
//! (`verifier-contract/contracts/`), the reference token economy
//! (`contracts/economy/`) and the test contracts (`contracts/test/`), each with its
//! Solidity source, its committed compiled artifact (`verifier-contract/generated/contracts/`)
//! and alloy `sol!` bindings held to that artifact's ABI by a test; plus the economy
//! KPI source's integer twin and every revert decoded in words.
//!
//! Depends on the verifier generator (`zkpolicy-verifier`) for solc-js compilation and the
//! artifact shapes only; never on the prover, the chain client or the CLI.

#![deny(missing_docs)]

pub mod controller;
pub mod economy;
pub mod revert;

pub use revert::{revert_reason, utc};

/// Every file of `generated/contracts/` from a fresh compile with the solc-js in `solc_dir`, as
/// `(path under it, text)`: the controller's ([`controller::render_artifacts`]) and the
/// economy's ([`economy::render_artifacts`]). `render_contracts` writes them; a test holds the
/// committed files equal to them.
pub fn render_generated(solc_dir: &std::path::Path) -> Result<Vec<(String, String)>, zkpolicy_verifier::compile::CompileError> {
    let mut files = controller::render_artifacts(&controller::compile_contracts(solc_dir)?)?;
    files.extend(economy::render_artifacts(&economy::compile_economy(solc_dir)?)?);
    Ok(files)
}
