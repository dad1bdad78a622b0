//! The on-chain recomputation baseline is a third twin of the model: on random KPI
//! vectors of the bundled models (the two large ones under `--features slow`), the contract's outputs in the EVM, the outputs a real
//! proof proves, and the Rust reference are equal; out-of-range KPIs are refused by name.

use alloy_sol_types::SolInterface;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkpolicy_model::{infer, Observation, QuantizedKpis};
use zkpolicy_prover::{evm, proof};
use zkpolicy_verifier::compile;
use zkpolicy_verifier::recompute::ZkPolicyRecompute::ZkPolicyRecomputeErrors;

use crate::common;

#[test]
fn recomputation_proof_and_reference_agree_on_the_bundled_models() {
    // The two large models (wide data contracts, a long compile) under `--features slow`
    // (`benches/every-model.sh`).
    let models: &[(&str, usize, usize)] = if cfg!(feature = "slow") {
        &[("tokenomics-policy", 100, 2), ("trained-policy", 50, 1), ("policy-m", 30, 1), ("policy-l", 10, 1)]
    } else {
        &[("tokenomics-policy", 100, 2), ("trained-policy", 50, 1)]
    };
    for &(name, vectors, proofs) in models {
        let circuit = common::test_circuit(name);
        let model = circuit.model();
        let mut deployed = evm::deploy_recompute(&circuit, compile::bundled_dir()).expect("baseline deploys");
        // The same circuit and keys every other test of this binary proves it with.
        let prepared = common::prepared(name);
        let (params, pk) = (&prepared.params, &prepared.pk);
        let mut rng = ChaCha20Rng::seed_from_u64(77);
        let mut gas = 0;
        let mut vectors_seen = std::collections::BTreeSet::new();
        // The extremes of the input box (KPIs, then any parameters), then random vectors.
        let ranges = model.network_ranges();
        let corners = [ranges.iter().map(|r| r.lo).collect::<Vec<_>>(), ranges.iter().map(|r| r.hi).collect()];
        let randoms = (0..vectors).map(|_| Observation::random(model, &mut rng).values());
        let n = model.input_ranges().len();
        for (i, values) in corners.into_iter().chain(randoms).enumerate() {
            let kpis = QuantizedKpis::new(model, values[..n].to_vec()).expect("in range");
            let input = Observation::new(model, kpis, values[n..].to_vec()).expect("in range");
            let reference = infer(model, &input).expect("reference").outputs;
            let (on_chain, g) = deployed.recompute(&values).expect("executes");
            gas = gas.max(g);
            assert_eq!(on_chain.as_deref(), Ok(reference.as_slice()), "{name}: inputs {values:?}");
            if i < proofs {
                let (public, _) = proof::prove(params, pk, &circuit, &input, 1, ChaCha20Rng::seed_from_u64(i as u64)).expect("prove");
                assert_eq!(public.outputs, reference, "{name}: the proven outputs");
            }
            vectors_seen.insert(reference);
        }
        assert!(vectors_seen.len() > 1, "{name}: the vectors exercise the model");
        // A KPI outside its range is refused by name, as the controller does.
        let mut out_of_range: Vec<i64> = ranges.iter().map(|r| r.lo).collect();
        out_of_range[1] = ranges[1].hi + 1;
        let (refused, _) = deployed.recompute(&out_of_range).expect("executes");
        let error = ZkPolicyRecomputeErrors::abi_decode(&refused.expect_err("refused")).expect("a named error");
        assert!(matches!(&error, ZkPolicyRecomputeErrors::KpiOutOfRange(e) if e.index == alloy_primitives::U256::from(1)), "{error:?}");
        eprintln!(
            "{name}: recompute {gas} gas (transaction), deploy {} gas, runtime {} bytes + {} data contracts; {} multiply-adds in {} packed words",
            deployed.deploy_gas, deployed.runtime_bytes, deployed.data_contracts, deployed.multiply_adds, deployed.packed_words
        );
    }
}
