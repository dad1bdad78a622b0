//! The controller contracts (`contracts/`): sources, compilation, and Rust bindings.

use std::collections::BTreeMap;
use std::path::Path;

use alloy_sol_types::sol;

use zkpolicy_verifier::compile::{self, CompileError, Compiled};

sol! {
    /// `PolicyController.sol`'s interface, as the tests and the CLI call it.
    #[derive(Debug, PartialEq, Eq)]
    contract PolicyController {
        enum Mode {
            /// Decisions are verified, guarded and logged, never applied.
            Advisory,
            /// Guarded values are queued for `adjustmentDelay` seconds (governance can cancel).
            Timelocked,
            /// Guarded values are applied in the submitting transaction.
            Autonomous
        }
        struct Guardrail { int256 min; int256 max; int256 maxStep; int256 deadBand; int256 maxChangeBps; uint64 window; uint8 group; }
        struct Timing { uint64 maxSnapshotAge; uint64 adjustmentDelay; }

        constructor(
            address governance_,
            address guardian_,
            address verifier_,
            address kpiSource_,
            Mode mode_,
            int256[] initial,
            Guardrail[] guardrails_,
            Timing timing_,
            uint64 governanceDelay_,
            uint64 genesis_,
            uint64 epochLength_
        );

        function submitAdjustment(uint64 epoch, int256[] outputs, bytes proof) external returns (int256[] guarded);
        function executeAdjustment(uint64 epoch) external;
        function cancelAdjustment(uint64 epoch) external;
        function parameters() external view returns (int256[]);
        function parameterCount() external view returns (uint256);
        function paused() external view returns (bool);
        function guardian() external view returns (address);
        function governance() external view returns (address);
        function governanceDelay() external view returns (uint64);
        function verifier() external view returns (address);
        function kpiSource() external view returns (address);
        function timing() external view returns (Timing);
        function guardrail(uint256 i) external view returns (Guardrail);
        function anchor(uint256 i) external view returns (int256 anchorValue, uint64 since);
        function queuedAdjustment(uint64 epoch) external view returns (int256[] values, uint64 eta, uint64 deadline);
        function lastEpoch() external view returns (uint64);
        function currentEpoch() external view returns (uint64);
        function genesis() external view returns (uint64);
        function epochLength() external view returns (uint64);
        function mode() external view returns (Mode);
        function modelCommitment() external view returns (bytes32);
        function parametersArePublicInputs() external view returns (bool);
        function pause() external;
        function unpause() external;
        function schedule(bytes data) external returns (bytes32 id);
        function execute(bytes data) external;
        function cancel(bytes32 id) external;
        function scheduledAt(bytes32 id) external view returns (uint64);
        function setGuardrail(uint256 i, Guardrail g) external;
        function setMode(Mode mode_) external;
        function setTiming(Timing timing_) external;
        function setKpiSource(address kpiSource_) external;
        function setVerifier(address verifier_) external;
        function setGuardian(address guardian_) external;

        event ParametersApplied(uint64 indexed epoch, bytes values);
        event AdjustmentQueued(uint64 indexed epoch, uint64 eta, uint64 deadline);
        event AdjustmentCancelled(uint64 indexed epoch);
        event Decision(uint64 indexed epoch, bytes32 indexed modelCommitment, bytes32 kpiHash, bytes proposed, bytes guarded, Mode mode, bool guardrailHit);

        error NotGovernance();
        error NotGuardian();
        error OnlyThroughTimelock();
        error ControllerPaused();
        error NotCurrentEpoch(uint64 epoch, uint64 current);
        error EpochDecided(uint64 epoch);
        error NoSnapshot(uint64 epoch);
        error StaleSnapshot(uint64 epoch, uint64 postedAt);
        error WrongOutputCount(uint256 expected, uint256 got);
        error WrongKpiCount(uint256 expected, uint256 got);
        error KpiOutOfRange(uint256 index, int256 value);
        error OutputOutOfRange(uint256 index, int256 value);
        error BadModelCard();
        error RailOutsideModelRange(uint256 index, int256 lo, int256 hi);
        error BadEpochLength();
        error InvalidProof();
        error NothingQueued(uint64 epoch);
        error NotYet(uint64 eta);
        error AdjustmentExpired(uint64 epoch, uint64 deadline);
        error NotScheduled(bytes32 id);
        error BadGuardrail(uint256 index);
        error CallFailed(bytes reason);
    }

    /// `KpiSource.sol`'s reporter-posted source.
    #[derive(Debug, PartialEq, Eq)]
    contract ReporterKpiSource {
        constructor(address reporter_, uint256 kpiCount_);
        function commitKpis(uint64 epoch, int256[] kpis) external;
        function snapshot(uint64 epoch) external view returns (int256[] kpis, uint64 postedAt);
        event KpisCommitted(uint64 indexed epoch, bytes32 kpiHash, int256[] kpis);
        error NotReporter();
        error AlreadyCommitted(uint64 epoch);
        error WrongKpiCount(uint256 expected, uint256 got);
        error KpiOutOfRange(uint256 index);
    }

    /// The generated verifier's model card (`ZkPolicyVerifier.modelCard`).
    contract ModelCard {
        function modelCard() external view returns (bytes32 commitment, uint256 kpiCount, uint256 parameterCount, uint256 outputCount, bytes ranges);
    }

    /// Test double for the verifier.
    contract VerifierStub {
        constructor(bytes32 commitment_, uint256 kpiCount_, uint256 parameterCount_, uint256 outputCount_, bytes ranges_);
        function setAccept(bool accept_) external;
    }

    /// Test double for a hostile KPI source.
    contract KpiSourceStub {
        function set(int256[] kpis_) external;
    }
}

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

/// The artifact files (name, pretty JSON) of the deployed contracts from a fresh compile.
pub fn render_artifacts(compiled: &BTreeMap<String, Compiled>) -> Result<Vec<(String, String)>, CompileError> {
    compile::render_artifacts(&DEPLOYED_CONTRACTS, compiled)
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
