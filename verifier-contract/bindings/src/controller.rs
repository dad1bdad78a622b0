//! The controller contracts (`contracts/`): sources, compilation, and Rust bindings.

use std::collections::BTreeMap;
use std::path::Path;

use zkpolicy_verifier::compile::{self, CompileError, Compiled};

// Generated from the committed artifacts' ABIs (`generated/contracts/*.abi.sol`, rendered by
// `render_contracts` and held to a fresh compile by a test): a contract change the bindings
// miss cannot compile, and every function, error and event decodes.
#[allow(missing_docs)] // an enum's members: the ABI names them but carries no NatSpec
mod generated {
    use alloy_sol_types::sol;

    sol!(
        #[sol(all_derives)]
        "../generated/contracts/PolicyController.abi.sol"
    );
    sol!(
        #[sol(all_derives)]
        "../generated/contracts/ReporterKpiSource.abi.sol"
    );
    sol!(
        #[sol(all_derives)]
        "../generated/contracts/IZkPolicyVerifier.abi.sol"
    );
    sol!(
        #[sol(all_derives)]
        "../generated/contracts/test/VerifierStub.abi.sol"
    );
    sol!(
        #[sol(all_derives)]
        "../generated/contracts/test/KpiSourceStub.abi.sol"
    );
}
pub use generated::*;

/// `PolicyController.sol`: verifies proofs against its own instances and applies the
/// guarded adjustments.
pub const CONTROLLER_SOURCE: &str = include_str!("../../contracts/PolicyController.sol");
/// `KpiSource.sol`: the `IKpiSource` interface and the reporter-posted source.
pub const KPI_SOURCE_SOURCE: &str = include_str!("../../contracts/KpiSource.sol");
/// `Int64Pack.sol`: int64 vectors packed 8 big-endian bytes each, as the controller logs
/// decisions and the reporter source stores snapshots.
pub const INT64_PACK_SOURCE: &str = include_str!("../../contracts/Int64Pack.sol");
/// `IZkPolicyVerifier.sol`: the interface every generated verifier implements.
pub const VERIFIER_INTERFACE_SOURCE: &str = zkpolicy_verifier::toolchain::VERIFIER_INTERFACE;
/// `contracts/test/VerifierStub.sol`: accepts or rejects every proof, as set, and serves the
/// card it was built with. Test-only.
pub const VERIFIER_STUB_SOURCE: &str = include_str!("../../contracts/test/VerifierStub.sol");
/// `contracts/test/KpiSourceStub.sol`: a hostile KPI source serving whatever vector it was
/// last given, for every epoch. Test-only.
pub const KPI_SOURCE_STUB_SOURCE: &str = include_str!("../../contracts/test/KpiSourceStub.sol");

/// The names of the contracts an operator deploys beside the verifier.
pub const DEPLOYED_CONTRACTS: [&str; 2] = ["PolicyController", "ReporterKpiSource"];

/// The contracts whose files `generated/contracts/` holds: the deployed ones and the interface
/// every generated verifier implements.
pub const RENDERED_CONTRACTS: [&str; 3] = ["PolicyController", "ReporterKpiSource", "IZkPolicyVerifier"];

/// The test doubles whose files `generated/contracts/test/` holds.
pub const TEST_DOUBLES: [&str; 2] = ["VerifierStub", "KpiSourceStub"];

/// `VerifierStub`'s committed artifact (see [`CONTROLLER_ARTIFACT`]). Test-only.
pub const VERIFIER_STUB_ARTIFACT: &str = include_str!("../../generated/contracts/test/VerifierStub.json");
/// `KpiSourceStub`'s committed artifact (see [`CONTROLLER_ARTIFACT`]). Test-only.
pub const KPI_SOURCE_STUB_ARTIFACT: &str = include_str!("../../generated/contracts/test/KpiSourceStub.json");

/// `PolicyController`'s committed compiled artifact, so `zkpolicy deploy` needs no compiler. A
/// test keeps it and [`KPI_SOURCE_ARTIFACT`] equal to a fresh compile; regenerate both with
/// `cargo run -p zkpolicy-contracts --example render_contracts`.
pub const CONTROLLER_ARTIFACT: &str = include_str!("../../generated/contracts/PolicyController.json");
/// `ReporterKpiSource`'s committed artifact (see [`CONTROLLER_ARTIFACT`]).
pub const KPI_SOURCE_ARTIFACT: &str = include_str!("../../generated/contracts/ReporterKpiSource.json");

/// The directory of the committed controller artifacts.
pub fn artifacts_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../generated/contracts")
}

/// The committed artifacts of the deployed contracts and the test doubles, by name: what a
/// fresh [`compile_contracts`] returns for them (a test holds them equal), without solc.
pub fn committed_contracts() -> Result<BTreeMap<String, Compiled>, CompileError> {
    [
        ("PolicyController", CONTROLLER_ARTIFACT),
        ("ReporterKpiSource", KPI_SOURCE_ARTIFACT),
        ("VerifierStub", VERIFIER_STUB_ARTIFACT),
        ("KpiSourceStub", KPI_SOURCE_STUB_ARTIFACT),
    ]
    .into_iter()
    .map(|(name, artifact)| Ok((name.to_string(), Compiled::parse_artifact(artifact)?)))
    .collect()
}

/// The files of [`RENDERED_CONTRACTS`] and [`TEST_DOUBLES`] from a fresh compile, as
/// `(path under generated/contracts/, text)` (see [`compile::render_artifacts`]).
pub fn render_artifacts(compiled: &BTreeMap<String, Compiled>) -> Result<Vec<(String, String)>, CompileError> {
    let mut files = compile::render_artifacts("", &RENDERED_CONTRACTS, compiled)?;
    files.extend(compile::render_artifacts("test", &TEST_DOUBLES, compiled)?);
    Ok(files)
}
/// Compiles the controller, the reporter KPI source and the test doubles.
pub fn compile_contracts(solc_dir: &Path) -> Result<BTreeMap<String, Compiled>, CompileError> {
    compile::compile(
        solc_dir,
        &[
            ("PolicyController.sol", CONTROLLER_SOURCE),
            ("KpiSource.sol", KPI_SOURCE_SOURCE),
            ("Int64Pack.sol", INT64_PACK_SOURCE),
            ("IZkPolicyVerifier.sol", VERIFIER_INTERFACE_SOURCE),
            ("VerifierStub.sol", VERIFIER_STUB_SOURCE),
            ("KpiSourceStub.sol", KPI_SOURCE_STUB_SOURCE),
        ],
    )
}

/// The values of a `Decision` or `ParametersApplied` log: one big-endian int64 each.
pub fn unpack_int64(packed: &[u8]) -> Option<Vec<i64>> {
    if !packed.len().is_multiple_of(8) {
        return None;
    }
    Some(packed.chunks_exact(8).map(|c| i64::from_be_bytes(c.try_into().unwrap_or_default())).collect())
}
