// PolicyController's compiled ABI as a Solidity interface, written by `cargo run -p zkpolicy-contracts --example render_contracts`;
// the Rust bindings are generated from it. Do not edit.
interface PolicyController {
    enum Mode { Advisory, Timelocked, Autonomous }
    struct Guardrail {
        int256 min;
        int256 max;
        int256 maxStep;
        int256 deadBand;
        int256 maxChangeBps;
        uint64 window;
        uint8 group;
    }
    struct Timing {
        uint64 maxSnapshotAge;
        uint64 adjustmentDelay;
    }

    error AdjustmentExpired(uint64 epoch, uint64 deadline);
    error BadEpochLength();
    error BadGuardrail(uint256 index);
    error BadModelCard();
    error CallFailed(bytes reason);
    error ControllerPaused();
    error EpochDecided(uint64 epoch);
    error InvalidProof();
    error KpiOutOfRange(uint256 index, int256 value);
    error NoSnapshot(uint64 epoch);
    error NotCurrentEpoch(uint64 epoch, uint64 current);
    error NotGovernance();
    error NotGuardian();
    error NotScheduled(bytes32 id);
    error NotYet(uint64 eta);
    error NothingQueued(uint64 epoch);
    error OnlyThroughTimelock();
    error OutputOutOfRange(uint256 index, int256 value);
    error RailOutsideModelRange(uint256 index, int256 lo, int256 hi);
    error StaleSnapshot(uint64 epoch, uint64 postedAt);
    error WrongKpiCount(uint256 expected, uint256 got);
    error WrongOutputCount(uint256 expected, uint256 got);

    event AdjustmentCancelled(uint64 indexed epoch);
    event AdjustmentQueued(uint64 indexed epoch, uint64 eta, uint64 deadline);
    event Decision(uint64 indexed epoch, bytes32 indexed modelCommitment, bytes32 kpiHash, bytes proposed, bytes guarded, Mode mode, bool guardrailHit);
    event GovernanceCancelled(bytes32 indexed id);
    event GovernanceExecuted(bytes32 indexed id);
    event GovernanceScheduled(bytes32 indexed id, bytes data, uint64 eta);
    event ParametersApplied(uint64 indexed epoch, bytes values);
    event Paused(address by);
    event Unpaused(address by);

    constructor(address governance_, address guardian_, address verifier_, address kpiSource_, Mode mode_, int256[] initial, Guardrail[] guardrails_, Timing timing_, uint64 governanceDelay_, uint64 genesis_, uint64 epochLength_);

    function anchor(uint256 i) external view returns (int256 anchorValue, uint64 since);
    function cancel(bytes32 id) external;
    function cancelAdjustment(uint64 epoch) external;
    function currentEpoch() external view returns (uint64);
    function epochLength() external view returns (uint64);
    function execute(bytes memory data) external;
    function executeAdjustment(uint64 epoch) external;
    function genesis() external view returns (uint64);
    function governance() external view returns (address);
    function governanceDelay() external view returns (uint64);
    function guardian() external view returns (address);
    function guardrail(uint256 i) external view returns (Guardrail memory);
    function kpiSource() external view returns (address);
    function lastEpoch() external view returns (uint64);
    function mode() external view returns (Mode);
    function modelCommitment() external view returns (bytes32);
    function parameterCount() external view returns (uint256);
    function parameters() external view returns (int256[] memory values);
    function parametersArePublicInputs() external view returns (bool);
    function pause() external;
    function paused() external view returns (bool);
    function queuedAdjustment(uint64 epoch) external view returns (int256[] memory values, uint64 eta, uint64 deadline);
    function schedule(bytes memory data) external returns (bytes32 id);
    function scheduledAt(bytes32) external view returns (uint64);
    function setGuardian(address guardian_) external;
    function setGuardrail(uint256 i, Guardrail memory g) external;
    function setKpiSource(address kpiSource_) external;
    function setMode(Mode mode_) external;
    function setTiming(Timing memory timing_) external;
    function setVerifier(address verifier_) external;
    function submitAdjustment(uint64 epoch, int256[] memory outputs, bytes memory proof) external returns (int256[] memory guarded);
    function timing() external view returns (Timing memory);
    function unpause() external;
    function verifier() external view returns (address);
}
