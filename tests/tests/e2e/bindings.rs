//! The Rust bindings (`sol!` in `verifier-contract/bindings/src/controller.rs`) are written by hand;
//! these tests hold their functions, errors and events to the ABI the contracts compile to, so a contract change
//! that the bindings miss fails here rather than as a puzzling revert.

use std::collections::BTreeSet;

use alloy_json_abi::JsonAbi;
use zkpolicy_contracts::controller::{self, PolicyController, ReporterKpiSource};

fn compiled_abi(artifact: &str) -> JsonAbi {
    let json: serde_json::Value = serde_json::from_str(artifact).expect("artifact JSON");
    serde_json::from_value(json["abi"].clone()).expect("a JSON ABI")
}

fn set<'a>(items: impl IntoIterator<Item = &'a &'static str>) -> BTreeSet<String> {
    items.into_iter().map(|s| s.to_string()).collect()
}

#[test]
fn controller_bindings_match_the_compiled_abi() {
    let abi = compiled_abi(controller::CONTROLLER_ARTIFACT);
    let functions: BTreeSet<String> = abi.functions().map(|f| f.signature()).collect();
    let bound = set(PolicyController::PolicyControllerCalls::SIGNATURES);
    let unknown: Vec<_> = bound.difference(&functions).collect();
    assert!(unknown.is_empty(), "bound functions the contract does not have: {unknown:?}");

    // Every error and event must be bound, so reverts and logs always decode.
    let errors: BTreeSet<String> = abi.errors().map(|e| e.signature()).collect();
    assert_eq!(set(PolicyController::PolicyControllerErrors::SIGNATURES), errors);
    let events: BTreeSet<String> = abi.events().map(|e| e.signature()).collect();
    let bound_events = set(PolicyController::PolicyControllerEvents::SIGNATURES);
    let missing: Vec<_> = events.difference(&bound_events).collect();
    let unknown: Vec<_> = bound_events.difference(&events).collect();
    assert!(unknown.is_empty(), "bound events the contract does not emit: {unknown:?}");
    // Governance events are not decoded by the CLI; the ones it reads must be there.
    for needed in ["Decision", "ParametersApplied", "AdjustmentQueued"] {
        assert!(bound_events.iter().any(|e| e.starts_with(&format!("{needed}("))), "{needed} is not bound; unbound: {missing:?}");
    }
    // The constructor is covered by deploying with it (e2e/controller.rs, prover/cli/tests/cli/chain.rs).
}

#[test]
fn kpi_source_bindings_match_the_compiled_abi() {
    let abi = compiled_abi(controller::KPI_SOURCE_ARTIFACT);
    let functions: BTreeSet<String> = abi.functions().map(|f| f.signature()).collect();
    let bound = set(ReporterKpiSource::ReporterKpiSourceCalls::SIGNATURES);
    assert!(bound.is_subset(&functions), "bound: {bound:?}, compiled: {functions:?}");
    let errors: BTreeSet<String> = abi.errors().map(|e| e.signature()).collect();
    assert_eq!(set(ReporterKpiSource::ReporterKpiSourceErrors::SIGNATURES), errors);
    let events: BTreeSet<String> = abi.events().map(|e| e.signature()).collect();
    assert_eq!(set(ReporterKpiSource::ReporterKpiSourceEvents::SIGNATURES), events);
}

/// The economy's bindings (`verifier-contract/bindings/src/economy.rs`) the treasury's code uses:
/// every bound function, error and event exists in the committed artifacts, and every
/// error the economy and its timelock can revert with is bound, so its reason decodes
/// (the OpenZeppelin guards' own errors aside).
#[test]
fn treasury_bindings_match_the_compiled_abi() {
    use zkpolicy_contracts::economy::{EconomyTimelock, StakingVault, TokenEconomy, ZkpToken, ECONOMY_ARTIFACTS, ECONOMY_CONTRACTS};
    let abi = |name: &str| {
        let i = ECONOMY_CONTRACTS.iter().position(|n| *n == name).expect("an economy contract");
        compiled_abi(ECONOMY_ARTIFACTS[i])
    };
    let library = ["ReentrancyGuardReentrantCall()", "SafeERC20FailedOperation(address)"];
    // Per contract: its name, and the signatures of its bound functions, errors and events.
    type Bound<'a> = (&'a str, &'a [&'a str], &'a [&'a str], &'a [&'a str]);
    let bound: [Bound<'_>; 4] = [
        (
            "TokenEconomy",
            TokenEconomy::TokenEconomyCalls::SIGNATURES,
            TokenEconomy::TokenEconomyErrors::SIGNATURES,
            TokenEconomy::TokenEconomyEvents::SIGNATURES,
        ),
        (
            "StakingVault",
            StakingVault::StakingVaultCalls::SIGNATURES,
            StakingVault::StakingVaultErrors::SIGNATURES,
            StakingVault::StakingVaultEvents::SIGNATURES,
        ),
        ("EconomyTimelock", EconomyTimelock::EconomyTimelockCalls::SIGNATURES, EconomyTimelock::EconomyTimelockErrors::SIGNATURES, &[]),
        ("ZkpToken", ZkpToken::ZkpTokenCalls::SIGNATURES, &[], &[]),
    ];
    for (name, functions, errors, events) in bound {
        let abi = abi(name);
        let compiled: BTreeSet<String> = abi.functions().map(|f| f.signature()).collect();
        let unknown: Vec<_> = set(functions).difference(&compiled).cloned().collect();
        assert!(unknown.is_empty(), "{name}: bound functions it does not have: {unknown:?}");
        let compiled: BTreeSet<String> = abi.events().map(|e| e.signature()).collect();
        let unknown: Vec<_> = set(events).difference(&compiled).cloned().collect();
        assert!(unknown.is_empty(), "{name}: bound events it does not emit: {unknown:?}");
        if name == "TokenEconomy" || name == "EconomyTimelock" {
            let compiled: BTreeSet<String> = abi.errors().map(|e| e.signature()).filter(|e| !library.contains(&e.as_str())).collect();
            assert_eq!(set(errors), compiled, "{name}: every error bound");
        }
    }
}
