//! The controller contracts (`contracts/`): sources, compilation, and Rust bindings.

use std::collections::BTreeMap;
use std::path::Path;

use alloy_sol_types::sol;

use crate::compile::{self, CompileError, Compiled};

sol! {
    /// `PolicyController.sol`'s interface, as the tests and the CLI call it.
    #[derive(Debug, PartialEq, Eq)]
    contract PolicyController {
        enum Mode { Advisory, Timelocked, Autonomous }
        struct Guardrail { int256 min; int256 max; int256 maxStep; }
        struct Timing { uint64 maxSnapshotAge; uint64 minEpochInterval; uint64 adjustmentDelay; }

        constructor(
            address governance_,
            address guardian_,
            address verifier_,
            bytes32 modelCommitment_,
            address kpiSource_,
            Mode mode_,
            int256[] initial,
            Guardrail[] guardrails_,
            Timing timing_,
            uint64 governanceDelay_
        );

        function submitAdjustment(uint64 epoch, int256[] outputs, bytes proof) external returns (int256[] guarded);
        function executeAdjustment(uint64 epoch) external;
        function cancelAdjustment(uint64 epoch) external;
        function parameters() external view returns (int256[]);
        function paused() external view returns (bool);
        function lastEpoch() external view returns (uint64);
        function mode() external view returns (Mode);
        function pause() external;
        function unpause() external;
        function schedule(bytes data) external returns (bytes32 id);
        function execute(bytes data) external;
        function cancel(bytes32 id) external;
        function setGuardrail(uint256 i, Guardrail g) external;
        function setMode(Mode mode_) external;
        function setTiming(Timing timing_) external;
        function setKpiSource(address kpiSource_) external;
        function setVerifier(address verifier_, bytes32 modelCommitment_) external;
        function setGuardian(address guardian_) external;

        event Decision(uint64 indexed epoch, bytes32 indexed modelCommitment, bytes32 kpiHash, int256[] proposed, int256[] guarded, Mode mode, bool guardrailHit);

        error NotGovernance();
        error NotGuardian();
        error OnlyThroughTimelock();
        error ControllerPaused();
        error EpochNotAfter(uint64 epoch, uint64 lastEpoch);
        error TooSoon(uint64 earliest);
        error NoSnapshot(uint64 epoch);
        error StaleSnapshot(uint64 epoch, uint64 postedAt);
        error WrongOutputCount(uint256 expected, uint256 got);
        error InvalidProof();
        error NothingQueued(uint64 epoch);
        error NotYet(uint64 eta);
        error NotScheduled(bytes32 id);
        error BadGuardrail(uint256 index);
        error CallFailed(bytes reason);
    }

    /// `KpiSource.sol`'s reporter-posted source.
    contract ReporterKpiSource {
        constructor(address reporter_, uint256 kpiCount_);
        function commitKpis(uint64 epoch, int256[] kpis) external;
        error NotReporter();
        error AlreadyCommitted(uint64 epoch);
        error WrongKpiCount(uint256 expected, uint256 got);
        error KpiOutOfRange(uint256 index);
    }

    /// Test double for the verifier.
    contract VerifierStub {
        function setAccept(bool accept_) external;
    }
}

pub const CONTROLLER_SOURCE: &str = include_str!("../contracts/PolicyController.sol");
pub const KPI_SOURCE_SOURCE: &str = include_str!("../contracts/KpiSource.sol");
pub const VERIFIER_STUB_SOURCE: &str = include_str!("../contracts/test/VerifierStub.sol");

/// Compiles the controller, the reporter KPI source and the test verifier stub.
pub fn compile_contracts(solc_dir: &Path) -> Result<BTreeMap<String, Compiled>, CompileError> {
    compile::compile(
        solc_dir,
        &[
            ("PolicyController.sol", CONTROLLER_SOURCE),
            ("KpiSource.sol", KPI_SOURCE_SOURCE),
            ("VerifierStub.sol", VERIFIER_STUB_SOURCE),
        ],
    )
}
