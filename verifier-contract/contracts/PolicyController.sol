// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {SSTORE2} from "solady/src/utils/SSTORE2.sol";
import {Int64Pack} from "./Int64Pack.sol";
import {IKpiSource} from "./KpiSource.sol";
import {IZkPolicyVerifier} from "./IZkPolicyVerifier.sol";

/// Applies proven policy adjustments to token parameters, inside guardrails.
///
/// Anyone may submit a proof. The controller never trusts the submitter: it
/// rebuilds the public inputs `[epoch, kpis..., parameters..., outputs...]` from its
/// own KPI source, its own current parameters (when the model reads them) and the
/// proposed outputs, and only a proof the verifier accepts for exactly those values
/// goes further. Each output maps to a per-epoch delta by the card's map,
/// `round(y · step / 2^scale_bits)` (halves up; the identity for an integer output,
/// `OutputSpec::delta` is the twin); the
/// guardrails CLAMP them rather than reject them, so a valid proof always yields a
/// decision, and the decision log says when a guardrail bound it. Per parameter, in
/// order: the delta to ±maxStep; a step smaller than `deadBand` dropped (a noise
/// barrier, as RAI's); optionally a cap on the change within a window (`maxChangeBps`
/// of the value when the window began, over `window` seconds, as Aave's risk
/// stewards' maxPercentChange); then the result to [min, max]. `zkpolicy_model::guard`
/// is the twin, line for line.
///
/// Correlated parameters move together or not at all. Rails that share a nonzero
/// `group` are one group: when any member's rail binds (its guarded value is not its
/// current value plus its proven delta), every member of the group keeps its current
/// value, and the decision log flags the hit. So a group only ever moves by exactly
/// the proven deltas, never partly (Aave's CAPO incident of March 2026: a capped ratio
/// moved while its paired timestamp did not). Holding rather than scaling every
/// member's delta by a common factor: integer steps cannot keep the proven ratio
/// exactly, and a scaled step can fall under a member's dead band and be dropped,
/// which is the partial move again. Ungrouped rails (group 0) are clamped alone.
/// A decision is applied in full by one transaction or not at all: `guard` computes
/// every value before `applyValues` writes any.
///
/// One value, one encoding: a signed value `v` becomes the field element `v`
/// (`v >= 0`) or `r - |v|` (`v < 0`), and only inside the range the verifier's
/// model card declares for it. Outside its range the call reverts with a named
/// error before any instance is built; otherwise `y` and `y - r` would verify
/// alike and an unproven value would reach a parameter. The parameters never leave
/// their ranges: every rail must lie inside the range the card declares for its
/// parameter (checked whenever a rail or the verifier changes), and every value
/// inside its rail.
///
/// Epochs come from time: epoch `e` runs from `genesis + (e - 1) * epochLength`
/// for `epochLength` seconds, and only the current epoch can be decided, once.
/// Nobody can choose which epoch's snapshot decides; a front-runner holding the
/// operator's proof can only submit the very decision the proof proves.
///
/// Modes: Advisory records decisions only; Timelocked queues the guarded
/// values for `adjustmentDelay` (governance can cancel); Autonomous applies
/// them at once. A queued decision is executable from its `eta` until its
/// `deadline`, one epoch later (`eta + epochLength`: it was meant for the epoch it
/// decided; by then the next decision is due), and it is cancelled by whatever
/// changes what it meant: any governed change of the configuration (mode,
/// guardrails, timing, KPI source, verifier) and a pause. A queued decision is
/// never stale (OpenZeppelin's timelock: operations expire or are cancelled).
/// A guardian can pause; governance unpauses. Governance changes
/// guardrails, mode, timing, KPI source, verifier (a model upgrade) and guardian
/// only through `schedule` + `execute` after `governanceDelay`.
///
/// Storage is laid out for the submission: one slot holds the last epoch, the
/// pause flag and a pointer to the governed configuration (`Config`, with a copy
/// of the verifier's model card), which lives ABI-encoded in a data contract's
/// code (SSTORE2) and is read with one code copy; the parameter values sit four
/// to a slot. A submission reads two slots and one code blob and writes the same
/// two slots, plus one slot per parameter with a window cap (read always, written
/// when its window begins).
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
        int256 deadBand; // 0: off
        int256 maxChangeBps; // 0: off; else with `window` > 0
        uint64 window; // seconds
        uint8 group; // 0: none; rails sharing a group move together or not at all
    }

    struct Timing {
        uint64 maxSnapshotAge; // a snapshot older than this (seconds) is refused
        uint64 adjustmentDelay; // Timelocked mode: seconds before a queued adjustment may execute
    }

    /// Everything governance sets, and the installed verifier's model card, stored as
    /// `abi.encode(Config)` in a data contract's code.
    struct Config {
        IZkPolicyVerifier verifier;
        IKpiSource kpiSource;
        Mode mode;
        Timing timing;
        Guardrail[] rails;
        bytes32 commitment; // the model's, from the verifier's card
        uint256 kpiCount;
        uint256 parameterInputs; // 0, or one per parameter: the model reads the parameters
        bytes ranges; // the card's packed ranges (KPIs, parameters, outputs), then the output maps
    }

    /// What every submission reads and writes first: one slot.
    struct Head {
        address config; // the SSTORE2 pointer to the current `Config`
        uint64 lastEpoch; // the last decided epoch
        bool paused;
    }

    /// A Timelocked decision waiting for its delay: one slot, the values beside it.
    struct Pending {
        uint64 epoch;
        uint64 eta; // executable from (unix seconds; 0: nothing queued)
        uint64 deadline; // until, inclusive: `eta + epochLength`
    }

    /// The BN254 scalar field modulus: public inputs are field elements.
    uint256 internal constant R = 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001;

    address public immutable governance;
    uint64 public immutable governanceDelay;
    /// When epoch 1 starts (unix seconds), and how long every epoch lasts.
    uint64 public immutable genesis;
    uint64 public immutable epochLength;
    /// The number of governed parameters (one per model output).
    uint256 public immutable parameterCount;

    Head internal head;
    address public guardian;
    /// Parameter values, four int64 to a word: value `i` is bits `64·(i % 4)` of word `i / 4`.
    mapping(uint256 => uint256) internal valueWords;
    Pending internal pending;
    mapping(uint256 => uint256) internal pendingWords;
    mapping(bytes32 => uint64) public scheduledAt;
    /// Per capped parameter, where its window began: its value then (int64, bits 0..64)
    /// and when (unix seconds, bits 64..128). Written only when a window starts.
    mapping(uint256 => uint256) internal anchorWords;

    /// The decision log: one entry per decided epoch. `proposed` and `guarded` hold one
    /// big-endian int64 per parameter. In Autonomous mode the guarded values are applied
    /// by this same transaction.
    event Decision(
        uint64 indexed epoch,
        bytes32 indexed modelCommitment,
        bytes32 kpiHash,
        bytes proposed,
        bytes guarded,
        Mode mode,
        bool guardrailHit
    );
    /// A Timelocked adjustment applied by `executeAdjustment`, one big-endian int64 per parameter.
    event ParametersApplied(uint64 indexed epoch, bytes values);
    event AdjustmentQueued(uint64 indexed epoch, uint64 eta, uint64 deadline);
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
    error InvalidProof();
    error NothingQueued(uint64 epoch);
    error NotYet(uint64 eta);
    error AdjustmentExpired(uint64 epoch, uint64 deadline);
    error NotScheduled(bytes32 id);
    error BadGuardrail(uint256 index);
    error BadModelCard();
    error RailOutsideModelRange(uint256 index, int256 lo, int256 hi);
    error BadEpochLength();
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

    constructor(
        address governance_,
        address guardian_,
        IZkPolicyVerifier verifier_,
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
        governance = governance_;
        governanceDelay = governanceDelay_;
        genesis = genesis_ == 0 ? uint64(block.timestamp) : genesis_;
        epochLength = epochLength_;
        parameterCount = initial.length;
        guardian = guardian_;
        for (uint256 i = 0; i < initial.length; i++) {
            checkRail(i, guardrails_[i], initial[i]);
            setValue(valueWords, i, initial[i]);
        }
        Config memory c;
        (c.kpiSource, c.mode, c.timing, c.rails) = (kpiSource_, mode_, timing_, guardrails_);
        writeConfig(c, verifier_);
    }

    // ---------------------------------------------------------------- adjustments

    /// Verifies a proof that `outputs` is the committed model's output on the
    /// KPIs committed for `epoch` (and the current parameters), then records, queues or applies the guarded
    /// values according to the mode. Returns the guarded values.
    function submitAdjustment(uint64 epoch, int256[] calldata outputs, bytes calldata proof)
        external
        returns (int256[] memory guarded)
    {
        Head memory h = head;
        if (h.paused) revert ControllerPaused();
        uint64 current = currentEpoch();
        if (epoch != current) revert NotCurrentEpoch(epoch, current);
        if (epoch <= h.lastEpoch) revert EpochDecided(epoch);
        Config memory c = config(h);
        bytes32 kpiHash = verifyAdjustment(c, epoch, outputs, proof);

        bool hit;
        uint256[] memory anchors;
        (guarded, hit, anchors) = guard(c.rails, deltasOf(c, outputs));
        head.lastEpoch = epoch;
        emit Decision(epoch, c.commitment, kpiHash, Int64Pack.pack(outputs), Int64Pack.pack(guarded), c.mode, hit);

        if (c.mode == Mode.Autonomous) {
            applyValues(guarded, anchors);
        } else if (c.mode == Mode.Timelocked) {
            queue(epoch, guarded, c.timing.adjustmentDelay);
        }
    }

    /// Queues `values` as `epoch`'s decision, executable `delay` from now until one epoch
    /// later. One pending adjustment at a time: a newer decision replaces an older one.
    function queue(uint64 epoch, int256[] memory values, uint64 delay) internal {
        Pending memory old = pending;
        if (old.eta != 0) emit AdjustmentCancelled(old.epoch);
        uint64 eta = uint64(block.timestamp) + delay;
        pending = Pending({epoch: epoch, eta: eta, deadline: eta + epochLength});
        store(pendingWords, values);
        emit AdjustmentQueued(epoch, eta, eta + epochLength);
    }

    /// Requires the verifier to accept `proof` for the public inputs rebuilt from the KPI
    /// source's snapshot of `epoch`, the current parameters (if the model reads them) and
    /// the proposed `outputs`, every value first checked against the model card. Returns
    /// the KPI vector's hash.
    function verifyAdjustment(Config memory c, uint64 epoch, int256[] calldata outputs, bytes calldata proof)
        internal
        view
        returns (bytes32 kpiHash)
    {
        if (outputs.length != c.rails.length) revert WrongOutputCount(c.rails.length, outputs.length);
        int256[] memory kpis = checkedSnapshot(c, epoch);
        if (!c.verifier.verifyProof(proof, instancesFor(c, epoch, kpis, outputs))) revert InvalidProof();
        kpiHash = keccak256(abi.encode(kpis));
    }

    /// The KPI source's snapshot of `epoch`: present, fresh, and every KPI in its range.
    function checkedSnapshot(Config memory c, uint64 epoch) internal view returns (int256[] memory kpis) {
        uint64 postedAt;
        (kpis, postedAt) = c.kpiSource.snapshot(epoch);
        if (postedAt == 0) revert NoSnapshot(epoch);
        if (block.timestamp > uint256(postedAt) + c.timing.maxSnapshotAge) revert StaleSnapshot(epoch, postedAt);
        if (kpis.length != c.kpiCount) revert WrongKpiCount(c.kpiCount, kpis.length);
        for (uint256 i = 0; i < kpis.length; i++) {
            if (!inRange(c.ranges, i, kpis[i])) revert KpiOutOfRange(i, kpis[i]);
        }
    }

    /// The public inputs `[epoch, kpis..., parameters..., outputs...]`, each output first
    /// checked against its range (the KPIs were checked by `checkedSnapshot`, the counts
    /// too; the parameters lie inside their rails, which lie inside their ranges).
    function instancesFor(Config memory c, uint64 epoch, int256[] memory kpis, int256[] calldata outputs)
        internal
        view
        returns (uint256[] memory instances)
    {
        uint256 n = kpis.length + c.parameterInputs;
        for (uint256 j = 0; j < outputs.length; j++) {
            if (!inRange(c.ranges, n + j, outputs[j])) revert OutputOutOfRange(j, outputs[j]);
        }
        instances = new uint256[](1 + n + outputs.length);
        instances[0] = epoch;
        for (uint256 i = 0; i < kpis.length; i++) {
            instances[1 + i] = toField(kpis[i]);
        }
        for (uint256 i = 0; i < c.parameterInputs; i++) {
            instances[1 + kpis.length + i] = toField(value(valueWords, i));
        }
        for (uint256 j = 0; j < outputs.length; j++) {
            instances[1 + n + j] = toField(outputs[j]);
        }
    }

    /// Applies the queued adjustment once its delay has passed and before its deadline.
    /// The guardrails are applied again against the current parameters.
    function executeAdjustment(uint64 epoch) external {
        Head memory h = head;
        if (h.paused) revert ControllerPaused();
        Pending memory p = pending;
        if (p.eta == 0 || p.epoch != epoch) revert NothingQueued(epoch);
        if (block.timestamp < p.eta) revert NotYet(p.eta);
        if (block.timestamp > p.deadline) revert AdjustmentExpired(epoch, p.deadline);
        delete pending;
        int256[] memory steps = new int256[](parameterCount);
        for (uint256 i = 0; i < steps.length; i++) {
            steps[i] = value(pendingWords, i) - value(valueWords, i);
        }
        (int256[] memory guarded,, uint256[] memory anchors) = guard(config(h).rails, steps);
        applyValues(guarded, anchors);
        emit ParametersApplied(epoch, Int64Pack.pack(guarded));
    }

    function cancelAdjustment(uint64 epoch) external onlyGovernance {
        Pending memory p = pending;
        if (p.eta == 0 || p.epoch != epoch) revert NothingQueued(epoch);
        cancelQueued();
    }

    /// Drops the queued decision, if any: whatever changes what it meant calls this.
    function cancelQueued() internal {
        Pending memory p = pending;
        if (p.eta == 0) return;
        delete pending;
        emit AdjustmentCancelled(p.epoch);
    }

    /// `value[i] + deltas[i]` through rail `i`, each group held where one of its members'
    /// rails binds (see the contract's comment), and for each capped parameter its anchor
    /// word after this adjustment (0 when uncapped), which `applyValues` stores with the
    /// values.
    function guard(Guardrail[] memory rails, int256[] memory deltas)
        internal
        view
        returns (int256[] memory next, bool hit, uint256[] memory anchors)
    {
        next = new int256[](deltas.length);
        anchors = new uint256[](deltas.length);
        uint256 held; // bit `g`: a member of group `g` is bound by its rail
        for (uint256 i = 0; i < deltas.length; i++) {
            Guardrail memory g = rails[i];
            int256 current = value(valueWords, i);
            int256 step = clamp(deltas[i], -g.maxStep, g.maxStep);
            if (abs(step) < g.deadBand) step = 0;
            int256 v = current + step;
            if (g.maxChangeBps != 0) {
                uint256 word = anchorWords[i];
                uint64 since = uint64(word >> 64);
                if (since == 0 || block.timestamp >= uint256(since) + g.window) {
                    word = uint256(uint64(int64(current))) | (uint256(block.timestamp) << 64);
                }
                anchors[i] = word;
                int256 a = int64(uint64(word));
                int256 band = abs(a) * g.maxChangeBps / 10_000;
                // Stops moves out of the band; never pushes a value already outside it.
                v = clamp(v, a - band < current ? a - band : current, a + band > current ? a + band : current);
            }
            v = clamp(v, g.min, g.max);
            if (v != current + deltas[i]) {
                hit = true;
                if (g.group != 0) held |= uint256(1) << g.group;
            }
            next[i] = v;
        }
        if (held == 0) return (next, hit, anchors);
        for (uint256 i = 0; i < deltas.length; i++) {
            if (((held >> rails[i].group) & 1) == 1) next[i] = value(valueWords, i);
        }
    }

    /// Makes `values` the parameters, and records the windows that began.
    function applyValues(int256[] memory values, uint256[] memory anchors) internal {
        store(valueWords, values);
        for (uint256 i = 0; i < anchors.length; i++) {
            if (anchors[i] != 0 && anchorWords[i] != anchors[i]) anchorWords[i] = anchors[i];
        }
    }

    function clamp(int256 v, int256 lo, int256 hi) internal pure returns (int256) {
        return v < lo ? lo : (v > hi ? hi : v);
    }

    function abs(int256 v) internal pure returns (int256) {
        return v < 0 ? -v : v;
    }

    /// A guardrail the packed values can hold, which holds `current`: bounds and steps
    /// within int64, a non-negative dead band, and a cap of at most 100 % that comes
    /// with a window (or neither).
    function checkRail(uint256 i, Guardrail memory g, int256 current) internal pure {
        int256 lo = type(int64).min;
        int256 hi = type(int64).max;
        if (g.min < lo || g.max > hi || g.maxStep > hi || g.min > g.max || g.maxStep < 0) revert BadGuardrail(i);
        if (g.deadBand < 0 || g.deadBand > hi || g.maxChangeBps < 0 || g.maxChangeBps > 10_000) revert BadGuardrail(i);
        if ((g.maxChangeBps == 0) != (g.window == 0)) revert BadGuardrail(i);
        if (current < g.min || current > g.max) revert BadGuardrail(i);
    }

    /// The parameter change of each proven output: `round(y · step / 2^scale_bits)`, halves
    /// up, by the output's map in the card (checked at `writeConfig`: `scale_bits <= 24` and
    /// `1 <= step <= 2^20`; outputs are int64, so nothing nears int256's limits).
    function deltasOf(Config memory c, int256[] calldata outputs) internal pure returns (int256[] memory deltas) {
        uint256 maps = c.kpiCount + c.parameterInputs + outputs.length;
        deltas = new int256[](outputs.length);
        for (uint256 j = 0; j < outputs.length; j++) {
            (int256 scaleBits, int256 step) = rangeAt(c.ranges, maps + j);
            int256 v = outputs[j] * step;
            // `>>` on a signed integer is an arithmetic shift: floor division by 2^scaleBits.
            deltas[j] = scaleBits == 0 ? v : (v + (int256(1) << uint256(scaleBits - 1))) >> uint256(scaleBits);
        }
    }

    /// Whether `v` lies in range `i` of a model card's packed ranges.
    function inRange(bytes memory ranges, uint256 i, int256 v) internal pure returns (bool) {
        (int256 lo, int256 hi) = rangeAt(ranges, i);
        return lo <= v && v <= hi;
    }

    /// Range `i` of a model card's packed ranges (the caller checked the length).
    function rangeAt(bytes memory ranges, uint256 i) internal pure returns (int256 lo, int256 hi) {
        assembly {
            let word := mload(add(add(ranges, 32), mul(i, 16)))
            lo := signextend(7, shr(192, word))
            hi := signextend(7, shr(128, word))
        }
    }

    /// A signed integer as a BN254 scalar: `v`, or `r - |v|` when negative. Only for `v`
    /// inside a model card range (int64), where the encoding is one-to-one.
    function toField(int256 v) internal pure returns (uint256) {
        return v >= 0 ? uint256(v) : R - uint256(-v);
    }

    // ---------------------------------------------------------------- packed storage

    function config(Head memory h) internal view returns (Config memory) {
        return abi.decode(SSTORE2.read(h.config), (Config));
    }

    /// Writes `c` with `verifier_` and the model card it serves, whose ranges must cover
    /// every KPI, parameter and output, whose model has one output per parameter and reads
    /// all the parameters or none, and, if it reads them, declares a range for each that
    /// holds its whole rail (so every value the rail allows can be proven, with one encoding).
    function writeConfig(Config memory c, IZkPolicyVerifier verifier_) internal {
        uint256 outputCount;
        c.verifier = verifier_;
        (c.commitment, c.kpiCount, c.parameterInputs, outputCount, c.ranges) = verifier_.modelCard();
        uint256 n = c.rails.length;
        if (outputCount != n || (c.parameterInputs != 0 && c.parameterInputs != n)) revert BadModelCard();
        if (c.ranges.length != 16 * (c.kpiCount + c.parameterInputs + 2 * outputCount)) revert BadModelCard();
        for (uint256 j = 0; j < outputCount; j++) {
            (int256 scaleBits, int256 step) = rangeAt(c.ranges, c.kpiCount + c.parameterInputs + outputCount + j);
            if (scaleBits < 0 || scaleBits > 24 || step < 1 || step > 1 << 20) revert BadModelCard();
        }
        for (uint256 i = 0; i < c.parameterInputs; i++) {
            (int256 lo, int256 hi) = rangeAt(c.ranges, c.kpiCount + i);
            if (c.rails[i].min < lo || c.rails[i].max > hi) revert RailOutsideModelRange(i, lo, hi);
        }
        head.config = SSTORE2.write(abi.encode(c));
        // A queued decision was made under the configuration this one replaces.
        cancelQueued();
    }

    function value(mapping(uint256 => uint256) storage words, uint256 i) internal view returns (int256) {
        return int64(uint64(words[i / 4] >> (64 * (i % 4))));
    }

    function setValue(mapping(uint256 => uint256) storage words, uint256 i, int256 v) internal {
        uint256 shift = 64 * (i % 4);
        uint256 w = words[i / 4] & ~(uint256(type(uint64).max) << shift);
        words[i / 4] = w | (uint256(uint64(int64(v))) << shift);
    }

    /// Writes `values` (each inside its rail, so within int64) four to a word.
    function store(mapping(uint256 => uint256) storage words, int256[] memory values) internal {
        uint256 w;
        for (uint256 i = 0; i < values.length; i++) {
            w |= uint256(uint64(int64(values[i]))) << (64 * (i % 4));
            if (i % 4 == 3 || i + 1 == values.length) {
                words[i / 4] = w;
                w = 0;
            }
        }
    }

    // ---------------------------------------------------------------- views

    /// The epoch now running: 0 before genesis, then 1, 2, ... every `epochLength` seconds.
    function currentEpoch() public view returns (uint64) {
        if (block.timestamp < genesis) return 0;
        return uint64((block.timestamp - genesis) / epochLength) + 1;
    }

    function lastEpoch() external view returns (uint64) {
        return head.lastEpoch;
    }

    function paused() external view returns (bool) {
        return head.paused;
    }

    function verifier() external view returns (IZkPolicyVerifier) {
        return config(head).verifier;
    }

    function kpiSource() external view returns (IKpiSource) {
        return config(head).kpiSource;
    }

    function mode() external view returns (Mode) {
        return config(head).mode;
    }

    function timing() external view returns (Timing memory) {
        return config(head).timing;
    }

    /// The commitment of the model whose verifier is installed (from its card).
    function modelCommitment() external view returns (bytes32) {
        return config(head).commitment;
    }

    /// Whether the installed model reads the parameters (they are then public inputs).
    function parametersArePublicInputs() external view returns (bool) {
        return config(head).parameterInputs != 0;
    }

    function parameters() external view returns (int256[] memory values) {
        values = new int256[](parameterCount);
        for (uint256 i = 0; i < values.length; i++) {
            values[i] = value(valueWords, i);
        }
    }

    function guardrail(uint256 i) external view returns (Guardrail memory) {
        return config(head).rails[i];
    }

    /// Parameter `i`'s cap window: its value when the window began, and when (0: none yet).
    function anchor(uint256 i) external view returns (int256 anchorValue, uint64 since) {
        uint256 word = anchorWords[i];
        return (int64(uint64(word)), uint64(word >> 64));
    }

    /// The queued adjustment, if `epoch`'s is pending (`eta == 0` otherwise), executable
    /// from `eta` until `deadline` (inclusive; a past deadline: expired).
    function queuedAdjustment(uint64 epoch) external view returns (int256[] memory values, uint64 eta, uint64 deadline) {
        Pending memory p = pending;
        values = new int256[](parameterCount);
        if (p.eta == 0 || p.epoch != epoch) return (values, 0, 0);
        for (uint256 i = 0; i < values.length; i++) {
            values[i] = value(pendingWords, i);
        }
        (eta, deadline) = (p.eta, p.deadline);
    }

    // ---------------------------------------------------------------- pause

    /// Stops submissions and executions, and cancels the queued decision: one decided
    /// before whatever made the guardian pause must not execute after the unpause.
    function pause() external {
        if (msg.sender != guardian) revert NotGuardian();
        head.paused = true;
        cancelQueued();
        emit Paused(msg.sender);
    }

    function unpause() external onlyGovernance {
        head.paused = false;
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
        if (i >= parameterCount) revert BadGuardrail(i);
        checkRail(i, g, value(valueWords, i));
        Config memory c = config(head);
        c.rails[i] = g;
        writeConfig(c, c.verifier);
    }

    function setMode(Mode mode_) external onlyTimelock {
        Config memory c = config(head);
        c.mode = mode_;
        writeConfig(c, c.verifier);
    }

    function setTiming(Timing calldata timing_) external onlyTimelock {
        Config memory c = config(head);
        c.timing = timing_;
        writeConfig(c, c.verifier);
    }

    function setKpiSource(IKpiSource kpiSource_) external onlyTimelock {
        Config memory c = config(head);
        c.kpiSource = kpiSource_;
        writeConfig(c, c.verifier);
    }

    /// A new verifier is a new model: its commitment and ranges come with it (and its card
    /// must fit the parameters).
    function setVerifier(IZkPolicyVerifier verifier_) external onlyTimelock {
        writeConfig(config(head), verifier_);
    }

    function setGuardian(address guardian_) external onlyTimelock {
        guardian = guardian_;
    }
}
