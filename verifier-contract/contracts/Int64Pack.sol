// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// Vectors of int64 values packed as 8 big-endian bytes each: how the controller logs
/// decisions and how the reporter KPI source stores snapshots.
library Int64Pack {
    /// `values`, each of which must lie within int64 (callers range-check first).
    function pack(int256[] memory values) internal pure returns (bytes memory out) {
        out = new bytes(8 * values.length);
        for (uint256 i = 0; i < values.length; i++) {
            uint256 v = uint256(uint64(int64(values[i])));
            assembly {
                let at := add(add(out, 32), mul(i, 8))
                // Keep the 24 bytes after this value; the last write may run past `out`
                // into unallocated memory, which nothing reads.
                mstore(at, or(shl(192, v), and(mload(at), shr(64, not(0)))))
            }
        }
    }

    function unpack(bytes memory packed) internal pure returns (int256[] memory values) {
        values = new int256[](packed.length / 8);
        for (uint256 i = 0; i < values.length; i++) {
            int256 v;
            assembly {
                v := signextend(7, shr(192, mload(add(add(packed, 32), mul(i, 8)))))
            }
            values[i] = v;
        }
    }
}
