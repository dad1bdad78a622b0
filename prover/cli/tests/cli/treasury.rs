//! The on-chain economy's governance through the binary: `zkpolicy deploy` leaves the
//! deployer no role on the token or the treasury, treasury changes go only through the
//! economy's timelock after the governance delay, and a rail the economy could not follow
//! is refused at deployment and in `govern` by name.

use alloy::primitives::{Address, U256};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use serde_json::Value;
use zkpolicy_chain::{Client, Deployment};
use zkpolicy_contracts::economy::{TokenEconomy, ZkpToken};

use crate::chain::CLOCK;
use crate::common::node::{LocalNode, DEV_KEYS};
use crate::common::{edit_json, json_run, models, stdout_json, zkpolicy};

fn tokens(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18u64))
}

fn read<C: SolCall>(client: &Client, to: Address, call: C) -> C::Return {
    C::abi_decode_returns(&client.call("read", to, call.abi_encode()).expect("read")).expect("decodes")
}

/// Finding 8 at deployment: a rail whose [min, max] leaves the economy's range for its
/// parameter (here the fee's beyond TokenEconomy.MAX_FEE_BPS, an emission rate below 0)
/// is refused before anything is sent, naming the parameter and the cap.
#[test]
fn deploy_refuses_a_rail_the_economy_could_not_follow() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::copy(models().join("tokenomics-onchain-deployment.json"), d.join("onchain.json")).expect("copy");
    let cases = [
        (3, "min", 0, "max", 1_500, "[3] (fee_bps): the rail [0, 1500] leaves the economy's range [0, 1000] (TokenEconomy.MAX_FEE_BPS)"),
        (
            0,
            "min",
            -5,
            "max",
            2_000,
            "[0] (emission_rate_bps): the rail [-5, 2000] leaves the economy's range [0, 10000] (TokenEconomy.MAX_RATE_BPS)",
        ),
    ];
    for (i, lo_field, lo, hi_field, hi, message) in cases {
        edit_json(d, "onchain.json", "bad.json", |v| {
            v["parameters"][i][lo_field] = lo.into();
            v["parameters"][i][hi_field] = hi.into();
        });
        let mut deploy = zkpolicy(d);
        deploy
            .args(["deploy", "--config", "bad.json", "--out", "x.json", "--allow-dev-srs", "--json", "--rpc", "http://127.0.0.1:1"])
            .env("ZKPOLICY_PRIVATE_KEY", DEV_KEYS[1]);
        let out = json_run(&mut deploy).code(2);
        let error = stdout_json(&out);
        assert!(error["error"]["message"].as_str().is_some_and(|m| m.contains(message)), "{error}");
        assert!(!d.join("x.json").exists());
    }
}

/// Findings 12 and 8 on a local node: after `zkpolicy deploy` the deployer holds no role on
/// the token and cannot mint or spend; a one-off spend scheduled through `govern` executes
/// only after the governance delay; anyone releases the epoch's budget to its payee; and a
/// guardrail beyond the economy's cap is refused before it is sent.
#[test]
fn the_treasury_moves_only_through_the_timelock_after_its_delay() {
    let _clock = CLOCK.lock().unwrap_or_else(|e| e.into_inner());
    let node = LocalNode::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let config = models().join("tokenomics-onchain-deployment.json");
    let chain = |args: &[&str], key: &str| {
        let mut cmd = zkpolicy(d);
        cmd.args(args).args(["--rpc", &node.url, "--json"]).env("ZKPOLICY_PRIVATE_KEY", key);
        json_run(&mut cmd)
    };
    let deployed = chain(&["deploy", "--config", config.to_str().expect("utf-8"), "--out", "d.json", "--allow-dev-srs"], DEV_KEYS[0]);
    stdout_json(&deployed.success());
    let deployment = Deployment::load(&d.join("d.json")).expect("the record");
    let e = deployment.economy.clone().expect("an economy");
    let deployer = deployment.deployer;
    eprintln!("the economy, its timelock and its KPI source deployed for {} gas", e.gas);
    let client = Client::connect(&node.url, Some(DEV_KEYS[0].parse::<PrivateKeySigner>().expect("key"))).expect("node");

    // The token's admin is the timelock; the deployer holds no role and cannot mint.
    let admin = read(&client, e.token, ZkpToken::DEFAULT_ADMIN_ROLECall {});
    let minter = read(&client, e.token, ZkpToken::MINTER_ROLECall {});
    assert!(read(&client, e.token, ZkpToken::hasRoleCall { role: admin, account: e.timelock }));
    for role in [admin, minter] {
        assert!(!read(&client, e.token, ZkpToken::hasRoleCall { role, account: deployer }), "the deployer kept a role");
    }
    let mint = ZkpToken::mintCall { to: deployer, amount: tokens(1) }.abi_encode();
    assert!(client.send("mint", e.token, mint).is_err(), "the deployer minted");
    let spend = TokenEconomy::spendCall { to: deployer, amount: tokens(1) }.abi_encode();
    let refused = client.send("spend", e.economy, spend).expect_err("the deployer spent the treasury").to_string();
    assert!(refused.contains("NotGovernor"), "{refused}");

    // A guardrail the economy could not follow: refused by name, nothing sent.
    chain(&["govern", "schedule", "--guardrail", "3,0,3000,10", "--deployment", "d.json"], DEV_KEYS[0])
        .code(2)
        .stderr(predicates::str::contains("leaves the economy's range [0, 1000] (TokenEconomy.MAX_FEE_BPS)"));

    // A one-off spend: scheduled by governance, executable only after the delay.
    let payee = DEV_KEYS[1].parse::<PrivateKeySigner>().expect("key").address();
    let spend = format!("{payee},25000.5");
    let scheduled = stdout_json(&chain(&["govern", "schedule", "--spend", &spend, "--deployment", "d.json"], DEV_KEYS[0]).success());
    let now = client.chain_time().expect("time");
    assert_eq!(scheduled["result"]["eta"].as_u64(), Some(now + 86_400), "{scheduled}");
    chain(&["govern", "execute", "--spend", &spend, "--deployment", "d.json"], DEV_KEYS[0])
        .code(1)
        .stderr(predicates::str::contains("TimelockUnexpectedOperationState"));
    chain(&["govern", "schedule", "--spend", &spend, "--deployment", "d.json"], DEV_KEYS[1])
        .code(1)
        .stderr(predicates::str::contains("AccessControlUnauthorizedAccount"));
    node.advance(86_401);
    let before = read(&client, e.quote, ZkpToken::balanceOfCall { account: payee });
    let executed: Value = stdout_json(&chain(&["govern", "execute", "--spend", &spend, "--deployment", "d.json"], DEV_KEYS[0]).success());
    assert_eq!(executed["result"]["id"], scheduled["result"]["id"], "{executed}");
    let paid = read(&client, e.quote, ZkpToken::balanceOfCall { account: payee }) - before;
    assert_eq!(paid, tokens(25_000) + tokens(1) / U256::from(2u64));

    // The budget stream the deployment set: a 365th of the yearly spend to governance (the
    // deployer here), released by anyone, once per epoch.
    let anyone = Client::connect(&node.url, Some(DEV_KEYS[2].parse::<PrivateKeySigner>().expect("key"))).expect("node");
    let before = read(&client, e.quote, ZkpToken::balanceOfCall { account: deployer });
    anyone.send("budget release", e.economy, TokenEconomy::releaseBudgetCall {}.abi_encode()).expect("released");
    let paid = read(&client, e.quote, ZkpToken::balanceOfCall { account: deployer }) - before;
    assert_eq!(paid, tokens(2_000_000) / U256::from(365u64));
    let again = anyone.send("budget release", e.economy, TokenEconomy::releaseBudgetCall {}.abi_encode()).expect_err("twice");
    assert!(again.to_string().contains("AlreadyReleased"), "{again}");
}
