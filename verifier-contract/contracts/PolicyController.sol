// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IKpiSource} from "./KpiSource.sol";

/// The generated verifier's interface: the proof check, and the public model card of the
/// model whose verifying key it holds.
interface IPolicyVerifier {
    function verifyProof(bytes calldata proof, uint256[] calldata instances) external view returns (bool);

    /// The model commitment, the number of KPIs and outputs, and the quantized range
    /// `[lo, hi]` of each KPI, then of each output: 16 bytes a range, `lo` then `hi`, each a
    /// big-endian int64. The circuit accepts only KPIs in their range and can only produce
    /// outputs in theirs.
    function modelCard()
        external
        view
        returns (bytes32 commitment, uint256 kpiCount, uint256 outputCount, bytes memory ranges);
}

/// Applies proven policy adjustments to token parameters, inside guardrails.
///
/// Anyone may submit a proof. The controller never trusts the submitter: it
/// rebuilds the public inputs `[epoch, kpis..., outputs...]` from its own KPI
/// source and the proposed outputs, and only a proof the verifier accepts for
/// exactly those values goes further.
///
/// One value, one encoding: a signed value `v` becomes the field element `v`
/// (`v >= 0`) or `r - |v|` (`v < 0`), and only inside the range the verifier's
/// model card declares for it. Outside its range the call reverts with a named
/// error before any instance is built; otherwise `y` and `y - r` would verify
/// alike and an unproven value would reach a parameter.
///
/// Epochs come from time: epoch `e` runs from `genesis + (e - 1) * epochLength`
/// for `epochLength` seconds, and only the current epoch can be decided, once.
/// Nobody can choose which epoch's snapshot decides; a front-runner holding the
/// operator's proof can only submit the very decision the proof proves. Outputs are per-epoch deltas; the
/// guardrails CLAMP them (first to ±maxStep, then the result to [min, max])
/// rather than reject them, so a valid proof always yields a decision, and the
/// decision log says when a guardrail bound it.
///
/// Modes: Advisory records decisions only; Timelocked queues the guarded
/// values for `adjustmentDelay` (governance can cancel); Autonomous applies
/// them at once. A guardian can pause; governance unpauses. Governance changes
/// guardrails, mode, timing, KPI source, verifier (a model upgrade) and guardian
/// only through `schedule` + `execute` after `governanceDelay`.
contract PolicyController {
    enum Mode {
        Advisory,
        Timelocked,
        Autonomous
    }

    struct Guardrail {
        int256 min;
        int256 max;
        int256 maxStep;
    }

    /// Storage form of a guardrail: one slot instead of three.
    struct Rail {
        int64 min;
        int64 max;
        int64 maxStep;
    }

    struct Timing {
        uint64 maxSnapshotAge; // a snapshot older than this (seconds) is refused
        uint64 adjustmentDelay; // Timelocked mode: seconds before a queued adjustment may execute
    }

    struct Queued {
        int256[] values;
        uint64 eta;
    }

    /// The BN254 scalar field modulus: public inputs are field elements.
    uint256 internal constant R = 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001;

    address public immutable governance;
    uint64 public immutable governanceDelay;
    /// When epoch 1 starts (unix seconds), and how long every epoch lasts.
    uint64 public immutable genesis;
    uint64 public immutable epochLength;

    address public guardian;
    IPolicyVerifier public verifier;
    IKpiSource public kpiSource;
    Mode public mode;
    Timing public timing;
    bool public paused;

    /// The last decided epoch.
    uint64 public lastEpoch;
    // Packed (four parameters per slot, one guardrail per slot): every adjustment reads them all.
    int64[] internal params;
    Rail[] internal rails;
    uint64 public pendingEpoch;
    mapping(uint64 => Queued) internal queued;
    mapping(bytes32 => uint64) public scheduledAt;

    /// The decision log: one entry per epoch.
    event Decision(
        uint64 indexed epoch,
        bytes32 indexed modelCommitment,
        bytes32 kpiHash,
        int256[] proposed,
        int256[] guarded,
        Mode mode,
        bool guardrailHit
    );
    event ParametersApplied(uint64 indexed epoch, int256[] values);
    event AdjustmentQueued(uint64 indexed epoch, int256[] values, uint64 eta);
    event AdjustmentCancelled(uint64 indexed epoch);
    event Paused(address by);
    event Unpaused(address by);
    event GovernanceScheduled(bytes32 indexed id, bytes data, uint64 eta);
    event GovernanceExecuted(bytes32 indexed id);
    event GovernanceCancelled(bytes32 indexed id);

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
    error BadEpochLength();
    error InvalidProof();
    error NothingQueued(uint64 epoch);
    error NotYet(uint64 eta);
    error NotScheduled(bytes32 id);
    error BadGuardrail(uint256 index);
    error CallFailed(bytes reason);

    modifier onlyGovernance() {
        if (msg.sender != governance) revert NotGovernance();
        _;
    }

    /// Governed setters run only as `execute`'s self-call, after the delay.
    modifier onlyTimelock() {
        if (msg.sender != address(this)) revert OnlyThroughTimelock();
        _;
    }

    modifier whenNotPaused() {
        if (paused) revert ControllerPaused();
        _;
    }

    constructor(
        address governance_,
        address guardian_,
        IPolicyVerifier verifier_,
        IKpiSource kpiSource_,
        Mode mode_,
        int256[] memory initial,
        Guardrail[] memory guardrails_,
        Timing memory timing_,
        uint64 governanceDelay_,
        uint64 genesis_,
        uint64 epochLength_
    ) {
        if (initial.length != guardrails_.length) revert WrongOutputCount(guardrails_.length, initial.length);
        if (epochLength_ == 0) revert BadEpochLength();
        checkCard(verifier_, initial.length);
        governance = governance_;
        governanceDelay = governanceDelay_;
        genesis = genesis_ == 0 ? uint64(block.timestamp) : genesis_;
        epochLength = epochLength_;
        guardian = guardian_;
        verifier = verifier_;
        kpiSource = kpiSource_;
        mode = mode_;
        timing = timing_;
        for (uint256 i = 0; i < initial.length; i++) {
            rails.push(checkedRail(i, guardrails_[i], initial[i]));
            params.push(int64(initial[i]));
        }
    }

    // ---------------------------------------------------------------- adjustments

    /// Verifies a proof that `outputs` is the committed model's output on the
    /// KPIs committed for `epoch`, then records, queues or applies the guarded
    /// values according to the mode. Returns the guarded values.
    function submitAdjustment(uint64 epoch, int256[] calldata outputs, bytes calldata proof)
        external
        whenNotPaused
        returns (int256[] memory guarded)
    {
        uint64 current = currentEpoch();
        if (epoch != current) revert NotCurrentEpoch(epoch, current);
        if (epoch <= lastEpoch) revert EpochDecided(epoch);
        (bytes32 commitment, bytes32 kpiHash) = verifyAdjustment(epoch, outputs, proof);

        bool hit;
        (guarded, hit) = guard(outputs);
        lastEpoch = epoch;
        emit Decision(epoch, commitment, kpiHash, outputs, guarded, mode, hit);

        if (mode == Mode.Autonomous) {
            apply_(epoch, guarded);
        } else if (mode == Mode.Timelocked) {
            // One pending adjustment at a time: a newer decision replaces an older one.
            if (pendingEpoch != 0) {
                delete queued[pendingEpoch];
                emit AdjustmentCancelled(pendingEpoch);
            }
            uint64 eta = uint64(block.timestamp) + timing.adjustmentDelay;
            queued[epoch] = Queued({values: guarded, eta: eta});
            pendingEpoch = epoch;
            emit AdjustmentQueued(epoch, guarded, eta);
        }
    }

    /// Requires the verifier to accept `proof` for the public inputs rebuilt from the KPI
    /// source's snapshot of `epoch` and the proposed `outputs`, every value first checked
    /// against the model card. Returns the model commitment and the KPI vector's hash.
    function verifyAdjustment(uint64 epoch, int256[] calldata outputs, bytes calldata proof)
        internal
        view
        returns (bytes32 commitment, bytes32 kpiHash)
    {
        bytes memory ranges;
        int256[] memory kpis;
        (commitment, ranges, kpis) = checkedInputs(epoch, outputs.length);
        if (!verifier.verifyProof(proof, instancesFor(epoch, kpis, outputs, ranges))) revert InvalidProof();
        kpiHash = keccak256(abi.encode(kpis));
    }

    /// The installed model's card, and the snapshot of `epoch` checked against it, for
    /// `outputCount` proposed outputs.
    function checkedInputs(uint64 epoch, uint256 outputCount)
        internal
        view
        returns (bytes32 commitment, bytes memory ranges, int256[] memory kpis)
    {
        uint256 kpiCount;
        uint256 expected;
        (commitment, kpiCount, expected, ranges) = verifier.modelCard();
        if (outputCount != expected) revert WrongOutputCount(expected, outputCount);
        kpis = checkedSnapshot(epoch, kpiCount, ranges);
    }

    /// The KPI source's snapshot of `epoch`: present, fresh, and every KPI in its range.
    function checkedSnapshot(uint64 epoch, uint256 kpiCount, bytes memory ranges)
        internal
        view
        returns (int256[] memory kpis)
    {
        uint64 postedAt;
        (kpis, postedAt) = kpiSource.snapshot(epoch);
        if (postedAt == 0) revert NoSnapshot(epoch);
        if (block.timestamp > uint256(postedAt) + timing.maxSnapshotAge) revert StaleSnapshot(epoch, postedAt);
        if (kpis.length != kpiCount) revert WrongKpiCount(kpiCount, kpis.length);
        for (uint256 i = 0; i < kpiCount; i++) {
            if (!inRange(ranges, i, kpis[i])) revert KpiOutOfRange(i, kpis[i]);
        }
    }

    /// The public inputs `[epoch, kpis..., outputs...]`, each output first checked against
    /// its range (the KPIs were checked by `checkedSnapshot`, the counts by the caller).
    function instancesFor(uint64 epoch, int256[] memory kpis, int256[] calldata outputs, bytes memory ranges)
        internal
        pure
        returns (uint256[] memory instances)
    {
        uint256 n = kpis.length;
        for (uint256 j = 0; j < outputs.length; j++) {
            if (!inRange(ranges, n + j, outputs[j])) revert OutputOutOfRange(j, outputs[j]);
        }
        instances = new uint256[](1 + n + outputs.length);
        instances[0] = epoch;
        for (uint256 i = 0; i < n; i++) {
            instances[1 + i] = toField(kpis[i]);
        }
        for (uint256 j = 0; j < outputs.length; j++) {
            instances[1 + n + j] = toField(outputs[j]);
        }
    }

    /// Applies a queued adjustment once its delay has passed. The guardrails are
    /// applied again against the current parameters.
    function executeAdjustment(uint64 epoch) external whenNotPaused {
        Queued storage q = queued[epoch];
        if (q.eta == 0) revert NothingQueued(epoch);
        if (block.timestamp < q.eta) revert NotYet(q.eta);
        int256[] memory target = q.values;
        delete queued[epoch];
        pendingEpoch = 0;
        int256[] memory steps = new int256[](target.length);
        for (uint256 i = 0; i < target.length; i++) {
            steps[i] = target[i] - int256(params[i]);
        }
        (int256[] memory guarded,) = guard(steps);
        apply_(epoch, guarded);
    }

    function cancelAdjustment(uint64 epoch) external onlyGovernance {
        if (queued[epoch].eta == 0) revert NothingQueued(epoch);
        delete queued[epoch];
        if (pendingEpoch == epoch) pendingEpoch = 0;
        emit AdjustmentCancelled(epoch);
    }

    /// `params[i] + deltas[i]`, the delta clamped to ±maxStep and the result to [min, max].
    function guard(int256[] memory deltas) internal view returns (int256[] memory next, bool hit) {
        next = new int256[](deltas.length);
        for (uint256 i = 0; i < deltas.length; i++) {
            Rail memory g = rails[i];
            int256 current = params[i];
            int256 step = clamp(deltas[i], -int256(g.maxStep), g.maxStep);
            int256 value = clamp(current + step, g.min, g.max);
            hit = hit || value != current + deltas[i];
            next[i] = value;
        }
    }

    function apply_(uint64 epoch, int256[] memory values) internal {
        for (uint256 i = 0; i < values.length; i++) {
            // Guarded values lie in [min, max], which fit int64 (checkedRail).
            params[i] = int64(values[i]);
        }
        emit ParametersApplied(epoch, values);
    }

    function clamp(int256 v, int256 lo, int256 hi) internal pure returns (int256) {
        return v < lo ? lo : (v > hi ? hi : v);
    }

    /// A guardrail that fits the packed form and holds `current`.
    function checkedRail(uint256 i, Guardrail memory g, int256 current) internal pure returns (Rail memory) {
        int256 lo = type(int64).min;
        int256 hi = type(int64).max;
        if (g.min < lo || g.max > hi || g.maxStep > hi || g.min > g.max || g.maxStep < 0) revert BadGuardrail(i);
        if (current < g.min || current > g.max) revert BadGuardrail(i);
        return Rail({min: int64(g.min), max: int64(g.max), maxStep: int64(g.maxStep)});
    }

    /// Whether `v` lies in range `i` of a model card's packed ranges.
    function inRange(bytes memory ranges, uint256 i, int256 v) internal pure returns (bool) {
        int256 lo;
        int256 hi;
        assembly {
            let word := mload(add(add(ranges, 32), mul(i, 16)))
            lo := signextend(7, shr(192, word))
            hi := signextend(7, shr(128, word))
        }
        return lo <= v && v <= hi;
    }

    /// A model card the controller can use: its ranges cover every KPI and output, and
    /// the model has one output per parameter.
    function checkCard(IPolicyVerifier v, uint256 parameterCount) internal view {
        (, uint256 kpiCount, uint256 outputCount, bytes memory ranges) = v.modelCard();
        if (outputCount != parameterCount || ranges.length != 16 * (kpiCount + outputCount)) revert BadModelCard();
    }

    /// A signed integer as a BN254 scalar: `v`, or `r - |v|` when negative. Only for `v`
    /// inside a model card range (int64), where the encoding is one-to-one.
    function toField(int256 v) internal pure returns (uint256) {
        return v >= 0 ? uint256(v) : R - uint256(-v);
    }

    // ---------------------------------------------------------------- views

    /// The epoch now running: 0 before genesis, then 1, 2, ... every `epochLength` seconds.
    function currentEpoch() public view returns (uint64) {
        if (block.timestamp < genesis) return 0;
        return uint64((block.timestamp - genesis) / epochLength) + 1;
    }

    /// The commitment of the model whose verifier is installed.
    function modelCommitment() external view returns (bytes32 commitment) {
        (commitment,,,) = verifier.modelCard();
    }

    function parameters() external view returns (int256[] memory values) {
        values = new int256[](params.length);
        for (uint256 i = 0; i < params.length; i++) {
            values[i] = params[i];
        }
    }

    function guardrail(uint256 i) external view returns (Guardrail memory) {
        Rail memory r = rails[i];
        return Guardrail({min: r.min, max: r.max, maxStep: r.maxStep});
    }

    function queuedAdjustment(uint64 epoch) external view returns (int256[] memory values, uint64 eta) {
        Queued storage q = queued[epoch];
        return (q.values, q.eta);
    }

    // ---------------------------------------------------------------- pause

    function pause() external {
        if (msg.sender != guardian) revert NotGuardian();
        paused = true;
        emit Paused(msg.sender);
    }

    function unpause() external onlyGovernance {
        paused = false;
        emit Unpaused(msg.sender);
    }

    // ---------------------------------------------------------------- governance timelock

    /// Schedules a governed call (`abi.encodeCall(this.setX, (...))`) for `governanceDelay` from now.
    function schedule(bytes calldata data) external onlyGovernance returns (bytes32 id) {
        id = keccak256(data);
        uint64 eta = uint64(block.timestamp) + governanceDelay;
        scheduledAt[id] = eta;
        emit GovernanceScheduled(id, data, eta);
    }

    function execute(bytes calldata data) external onlyGovernance {
        bytes32 id = keccak256(data);
        uint64 eta = scheduledAt[id];
        if (eta == 0) revert NotScheduled(id);
        if (block.timestamp < eta) revert NotYet(eta);
        delete scheduledAt[id];
        (bool ok, bytes memory reason) = address(this).call(data);
        if (!ok) revert CallFailed(reason);
        emit GovernanceExecuted(id);
    }

    function cancel(bytes32 id) external onlyGovernance {
        if (scheduledAt[id] == 0) revert NotScheduled(id);
        delete scheduledAt[id];
        emit GovernanceCancelled(id);
    }

    function setGuardrail(uint256 i, Guardrail calldata g) external onlyTimelock {
        if (i >= rails.length) revert BadGuardrail(i);
        rails[i] = checkedRail(i, g, params[i]);
    }

    function setMode(Mode mode_) external onlyTimelock {
        mode = mode_;
    }

    function setTiming(Timing calldata timing_) external onlyTimelock {
        timing = timing_;
    }

    function setKpiSource(IKpiSource kpiSource_) external onlyTimelock {
        kpiSource = kpiSource_;
    }

    /// A new verifier is a new model: its commitment and ranges come with it.
    function setVerifier(IPolicyVerifier verifier_) external onlyTimelock {
        checkCard(verifier_, params.length);
        verifier = verifier_;
    }

    function setGuardian(address guardian_) external onlyTimelock {
        guardian = guardian_;
    }
}
