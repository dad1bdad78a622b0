// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// The interface every zkpolicy-generated verifier implements.
interface IZkPolicyVerifier {
    /// Whether `proof` is valid for the public inputs `[epoch, kpis..., parameters..., outputs...]`,
    /// each a BN254 scalar (`v`, or `r - |v|` for a negative `v`, and only inside the card's ranges).
    function verifyProof(bytes calldata proof, uint256[] calldata instances) external view returns (bool);

    /// The public model card: the model commitment; the number of KPIs, of controller
    /// parameters the model reads (0, or one per output) and of outputs; and the quantized
    /// range `[lo, hi]` of each, KPIs first, then parameters, then outputs: 16 bytes a range,
    /// `lo` then `hi`, each a big-endian int64; then, per output, its map to a parameter
    /// change as `scale_bits` then `step`, two more big-endian int64: the change is
    /// `round(y · step / 2^scale_bits)`, halves up. The circuit accepts KPIs and parameters
    /// only in their range and can only produce outputs in theirs.
    function modelCard()
        external
        view
        returns (bytes32 commitment, uint256 kpiCount, uint256 parameterCount, uint256 outputCount, bytes memory ranges);
}
