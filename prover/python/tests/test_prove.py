"""Proving and verifying on the smallest bundled model (development SRS)."""

import json

import pytest

import zkpolicy


@pytest.fixture(scope="module")
def proven(default_model, sample_kpis):
    return zkpolicy.prove(str(default_model), sample_kpis, epoch=7)


def test_a_proof_verifies_and_states_the_models_outputs(proven, default_model, sample_kpis):
    artifact = json.loads(proven)
    assert artifact["format"] == "zkpolicy-proof" and artifact["epoch"] == 7
    assert artifact["model"] == "tokenomics-policy"
    assert [o["value"] for o in artifact["outputs"]] == zkpolicy.infer(default_model.read_text(), sample_kpis)
    assert zkpolicy.verify(default_model.read_text(), proven) is True


def tampered(text, edit):
    artifact = json.loads(text)
    edit(artifact)
    return json.dumps(artifact)


def test_a_changed_output_is_rejected(proven, default_model):
    def bump(a):
        a["outputs"][0]["value"] += 1

    with pytest.raises(zkpolicy.InvalidProofError, match="invalid proof"):
        zkpolicy.verify(str(default_model), tampered(proven, bump))


def test_a_changed_epoch_or_a_claim_out_of_range_is_rejected(proven, default_model):
    def later(a):
        a["epoch"] += 1

    with pytest.raises(zkpolicy.InvalidProofError, match="invalid proof"):
        zkpolicy.verify(str(default_model), tampered(proven, later))

    def huge(a):
        a["outputs"][1]["value"] = 10**6

    with pytest.raises(zkpolicy.InvalidProofError, match="staking_reward_delta_bps|outside|range"):
        zkpolicy.verify(str(default_model), tampered(proven, huge))


def test_a_proof_for_another_model_is_rejected(proven, models_dir):
    with pytest.raises(zkpolicy.InvalidProofError, match='the proof is for model "tokenomics-policy"'):
        zkpolicy.verify(str(models_dir / "policy-m.json"), proven)


def test_bad_inputs_raise_with_a_clear_message(default_model, sample_kpis, tmp_path):
    missing = dict(sample_kpis)
    del missing["volatility_30d"]
    with pytest.raises(zkpolicy.ZkPolicyError, match="expected 8 KPIs, got 7|volatility_30d"):
        zkpolicy.prove(str(default_model), missing)
    outside = dict(sample_kpis, staking_ratio=7.0)
    with pytest.raises(zkpolicy.ZkPolicyError, match="staking_ratio.*outside the declared range"):
        zkpolicy.prove(str(default_model), outside)
    with pytest.raises(zkpolicy.ZkPolicyError, match="model file .*absent.json: cannot read"):
        zkpolicy.prove(str(tmp_path / "absent.json"), sample_kpis)
    with pytest.raises(zkpolicy.ZkPolicyError, match="not a valid proof artifact"):
        zkpolicy.verify(str(default_model), "{}")
    with pytest.raises(zkpolicy.ZkPolicyError, match="model JSON"):
        zkpolicy.verify('{"name": 1}', "{}")


def test_an_argument_of_the_wrong_type_or_range_raises_the_packages_error(default_model, sample_kpis):
    # Before: a negative epoch raised OverflowError and a string for the KPIs TypeError,
    # neither a ZkPolicyError (issue 30).
    with pytest.raises(zkpolicy.ZkPolicyError, match="prove: argument 'epoch'"):
        zkpolicy.prove(str(default_model), sample_kpis, epoch=-1)
    with pytest.raises(zkpolicy.ZkPolicyError, match="prove: argument 'epoch'"):
        zkpolicy.prove(str(default_model), sample_kpis, epoch=2**64)
    with pytest.raises(zkpolicy.ZkPolicyError, match="prove: argument 'epoch'"):
        zkpolicy.prove(str(default_model), sample_kpis, epoch="seven")
    with pytest.raises(zkpolicy.ZkPolicyError, match="infer: argument"):
        zkpolicy.infer(default_model.read_text(), "not kpis")
    with pytest.raises(zkpolicy.ZkPolicyError, match="guard: argument"):
        zkpolicy.guard("rails", [1, 2, 3, 4], [0, 0, 0, 0])
    # A wrong call is a programming error, and stays one.
    with pytest.raises(TypeError) as raised:
        zkpolicy.prove()
    assert not isinstance(raised.value, zkpolicy.ZkPolicyError)
