//! The verifier's ABI, and calldata for it.

use crate::transcript::scalar_to_be;
use alloy_primitives::{Bytes, U256};
use alloy_sol_types::{sol, SolCall};
use halo2_proofs::halo2curves::bn256::Fr;

sol! {
    /// The generated verifier's interface.
    interface IZkPolicyVerifier {
        function verifyProof(bytes calldata proof, uint256[] calldata instances) external view returns (bool);
    }
}

/// `verifyProof(proof, instances)` calldata.
pub fn verify_calldata(proof: &[u8], instances: &[Fr]) -> Vec<u8> {
    let instances = instances.iter().map(|f| U256::from_be_bytes(scalar_to_be(f))).collect();
    raw_verify_calldata(proof, instances)
}

/// Calldata with instances given as raw words (to test values >= r).
pub fn raw_verify_calldata(proof: &[u8], instances: Vec<U256>) -> Vec<u8> {
    IZkPolicyVerifier::verifyProofCall { proof: Bytes::copy_from_slice(proof), instances }.abi_encode()
}

/// Decodes a `bool` return value; `None` when the output is not one.
pub fn decode_bool(output: &[u8]) -> Option<bool> {
    IZkPolicyVerifier::verifyProofCall::abi_decode_returns(output).ok()
}
