//! The chain client's own rules, without a node: what a message may show of an RPC URL,
//! and how a deployment record reads and writes. (Integration tests rather than unit tests,
//! so the crate is compiled once for the suite, not a second time as a test harness.)

use std::path::Path;

use alloy::primitives::Address;
use alloy::transports::http::reqwest::Url;
use zkpolicy_chain::{redacted, scrub_urls, ChainError, Client, Deployment, KpiProvenance, DEPLOYMENT_FORMAT};
use zkpolicy_model::ModelCommitment;

#[test]
fn every_url_in_a_library_message_is_redacted() {
    let text = "error sending request for url (http://127.0.0.1:1/v3/KEY?key=SECRET) via https://u:p@h.example:8/x";
    assert_eq!(scrub_urls(text), "error sending request for url (http://127.0.0.1:1/…) via https://h.example:8/…");
    assert_eq!(scrub_urls("no url here"), "no url here");
    assert_eq!(scrub_urls("at HTTP://127.0.0.1:1/v3/KEY"), "at http://127.0.0.1:1/…");
}

#[test]
fn messages_never_show_an_rpc_urls_path_query_or_credentials() {
    let shown = |u: &str| redacted(&u.parse::<Url>().expect("url"));
    assert_eq!(shown("http://127.0.0.1:8545"), "http://127.0.0.1:8545");
    assert_eq!(shown("https://user:pw@rpc.example/v3/SECRET?key=1"), "https://rpc.example/…");
    let err = Client::connect("http://127.0.0.1:1/v3/SECRETKEY", None).err().expect("nothing listens on port 1");
    let text = err.to_string();
    assert!(text.contains("http://127.0.0.1:1/…") && !text.contains("SECRETKEY"), "{text}");
    let err = Client::connect("not a url SECRETKEY", None).err().expect("not a URL");
    assert!(!err.to_string().contains("SECRETKEY"), "{err}");
}

fn record() -> serde_json::Value {
    let zero = format!("{:#x}", Address::ZERO);
    serde_json::json!({
        "format": DEPLOYMENT_FORMAT, "chain_id": 31337, "model": "m",
        "model_commitment": format!("0x{}", "ab".repeat(32)), "srs": "dev", "insecure_dev_srs": true,
        "deployer": zero, "verifier": zero, "kpi_source": zero, "controller": zero,
        "parameters": ["emission"], "block": 1,
        "gas": { "verifier": 1, "kpi_source": 1, "controller": 1 },
        "kpi_provenance": "onchain",
    })
}

fn parse(json: &serde_json::Value) -> Result<Deployment, ChainError> {
    Deployment::from_json(json.to_string().as_bytes(), Path::new("d.json"))
}

/// The record is typed: the commitment is 32 bytes and the provenance one of two
/// words, both written back exactly as read.
#[test]
fn the_record_reads_typed_fields_and_writes_them_back_unchanged() {
    let json = record();
    let deployment = parse(&json).expect("a valid record");
    assert_eq!(deployment.model_commitment, ModelCommitment([0xab; 32]));
    assert_eq!(deployment.kpi_provenance, KpiProvenance::Onchain);
    let written = serde_json::to_value(&deployment).expect("serializes");
    assert_eq!(written["model_commitment"], json["model_commitment"]);
    assert_eq!(written["kpi_provenance"], "onchain");

    let mut old = json.clone();
    old.as_object_mut().expect("object").remove("kpi_provenance");
    assert_eq!(parse(&old).expect("a record from before provenance").kpi_provenance, KpiProvenance::Reporter);
}

#[test]
fn a_record_with_a_malformed_commitment_or_provenance_is_refused_by_name() {
    for (field, value, named) in [
        ("model_commitment", "0xabcd", "has 2 bytes"),
        ("model_commitment", "ab".repeat(32).as_str(), "does not start with 0x"),
        ("kpi_provenance", "oracle", "unknown variant `oracle`"),
    ] {
        let mut json = record();
        json[field] = serde_json::Value::from(value);
        let err = parse(&json).expect_err(field).to_string();
        assert!(err.contains("not a deployment record") && err.contains(named), "{field} = {value}: {err}");
    }
}

/// A Safe Transaction Builder batch carries the fields the app imports, the call as raw calldata.
#[test]
fn a_batch_has_the_transaction_builder_fields_and_raw_calldata() {
    let call = zkpolicy_chain::govern::GovernanceCall { to: Address::repeat_byte(0xab), data: vec![0xde, 0xad, 0xbe, 0xef] };
    let b = zkpolicy_chain::safe::batch(
        31337,
        Address::repeat_byte(0x11),
        &[call],
        "zkpolicy governance",
        "schedule mode advisory",
        1_700_000_000_000,
    );
    let json = serde_json::to_value(&b).expect("serializes");
    assert_eq!(json["version"], "1.0");
    assert_eq!(json["chainId"], "31337");
    assert_eq!(json["createdAt"], 1_700_000_000_000u64);
    assert_eq!(json["meta"]["createdFromSafeAddress"], Address::repeat_byte(0x11).to_checksum(None));
    let tx = &json["transactions"][0];
    assert_eq!((tx["value"].as_str(), tx["data"].as_str()), (Some("0"), Some("0xdeadbeef")));
    assert!(tx["contractMethod"].is_null() && tx["contractInputsValues"].is_null(), "{tx}");
}
