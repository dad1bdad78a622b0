"""ONNX import against the ONNX reference evaluator's outputs, and backtests of a model."""

import json

import pytest

import zkpolicy


@pytest.fixture(scope="module")
def imported(models_dir, default_model):
    return zkpolicy.import_onnx(
        models_dir / "fixtures" / "policy-8-16-4.onnx",
        default_model,
        models_dir / "fixtures" / "calibration-tokenomics.jsonl",
        name="imported-policy",
    )


def test_import_reports_small_errors_and_a_valid_model(imported, default_model):
    text, report = imported
    model = json.loads(text)
    assert model["name"] == report["name"] == "imported-policy"
    assert report["model_commitment"].startswith("0x")
    assert report["calibration_rows"] == 256
    template = json.loads(default_model.read_text())
    assert [o["name"] for o in report["outputs"]] == [o["name"] for o in template["outputs"]]
    for e in report["outputs"]:
        assert e["max_abs_error"] < 2.0 and e["mean_abs_error"] < 0.35, e


def test_the_imported_model_matches_the_onnx_evaluator(imported, models_dir):
    text, _ = imported
    model = json.loads(text)
    expected = json.loads((models_dir / "fixtures" / "policy-8-16-4.expected.json").read_text())
    worst = 0.0
    for x, y in zip(expected["inputs"], expected["outputs"]):
        got = zkpolicy.infer(text, x)
        want = [min(max(v, o["min"]), o["max"]) for v, o in zip(y, model["outputs"])]
        worst = max(worst, *(abs(g - w) for g, w in zip(got, want)))
    assert worst < 2.0, f"the integer model is {worst} output units from the ONNX evaluator"


def test_without_a_calibration_file_the_simulator_calibrates(models_dir, default_model):
    text, report = zkpolicy.import_onnx(models_dir / "fixtures" / "policy-8-16-4.onnx", default_model)
    assert json.loads(text)["name"] == "policy-8-16-4"
    assert report["calibration_rows"] == 5 * 120
    for e in report["outputs"]:
        assert e["max_abs_error"] < 2.0, e


def test_import_refusals_name_the_file(models_dir, default_model, tmp_path):
    with pytest.raises(zkpolicy.ZkPolicyError, match="ONNX model .*missing.onnx: cannot read"):
        zkpolicy.import_onnx(tmp_path / "missing.onnx", default_model)
    not_onnx = tmp_path / "junk.onnx"
    not_onnx.write_bytes(b"\x08\x01garbage")
    with pytest.raises(zkpolicy.ZkPolicyError, match="junk.onnx"):
        zkpolicy.import_onnx(not_onnx, default_model)
    with pytest.raises(zkpolicy.ZkPolicyError, match="model file .*nowhere.json"):
        zkpolicy.import_onnx(models_dir / "fixtures" / "policy-8-16-4.onnx", tmp_path / "nowhere.json")


def test_a_backtest_is_simulate_scored(trained_model):
    result = zkpolicy.backtest(str(trained_model), "crash", 3, 40)
    assert result["policy"] == "trained-policy" and result["scenario"] == "crash"
    metrics = result["metrics"]
    assert set(metrics) == {"volatility", "staking_in_band", "max_drawdown", "guardrail_hits", "mean_reward"}
    assert 0.0 <= metrics["staking_in_band"] <= 1.0 and 0.0 < metrics["max_drawdown"] < 1.0
    trajectory = result["trajectory"]
    assert trajectory == zkpolicy.simulate("crash", 3, 40, trained_model.read_text())
    assert metrics["guardrail_hits"] == sum(e["hit"] for e in trajectory["epochs"])
    rewards = [zkpolicy.epoch_reward(e["outcome_kpis"], sum(e["hits"])) for e in trajectory["epochs"]]
    assert metrics["mean_reward"] == pytest.approx(sum(rewards) / len(rewards), rel=1e-12)


def test_a_backtest_refuses_a_missing_model_and_an_unknown_scenario(tmp_path, default_model):
    with pytest.raises(zkpolicy.ZkPolicyError, match="model file .*gone.json: cannot read"):
        zkpolicy.backtest(str(tmp_path / "gone.json"))
    with pytest.raises(zkpolicy.ZkPolicyError, match="unknown scenario"):
        zkpolicy.backtest(str(default_model), "moon")


def test_a_tanh_policy_with_float_actions_imports_proves_and_backtests(models_dir, default_model):
    """An RL-style policy: tanh hidden layers and a tanh head emitting actions in [-1, 1]."""
    onnx = models_dir / "fixtures" / "policy-8-16-16-4-tanh.onnx"
    steps = [10, 5, 5, 2]
    text, report = zkpolicy.import_onnx(
        onnx, default_model, models_dir / "fixtures" / "calibration-tokenomics.jsonl",
        weight_bits=16, bias_bits=32, auto_input_scale=True, actions=10, action_steps=steps, table_bits=10,
    )
    model = json.loads(text)
    assert [o["scale_bits"] for o in model["outputs"]] == [10] * 4
    assert [o["step"] for o in model["outputs"]] == steps
    assert [l["activation"] for l in model["layers"]] == [{"tanh": {"scale_bits": 10}}] * 3
    # Against the ONNX reference evaluator, in action units.
    expected = json.loads((models_dir / "fixtures" / "policy-8-16-16-4-tanh.expected.json").read_text())
    worst = max(
        abs(g / 1024 - w)
        for x, y in zip(expected["inputs"], expected["outputs"])
        for g, w in zip(zkpolicy.infer(text, x), y)
    )
    stated = max(e["max_abs_error"] for e in report["outputs"])
    assert stated < 0.01 and worst <= stated + 1 / 1024, (worst, stated)
    # Proven and verified as fixed-point outputs.
    kpis = expected["inputs"][0]
    artifact = zkpolicy.prove(text, kpis, None, 3)
    assert [o["value"] for o in json.loads(artifact)["outputs"]] == zkpolicy.infer(text, kpis)
    assert zkpolicy.verify(text, artifact) is True
    # The backtest applies round(action * step): every decision within its step.
    result = zkpolicy.backtest(text, "crash", 3, 20)
    for epoch in result["trajectory"]["epochs"]:
        assert all(abs(d) <= s for d, s in zip(epoch["decision"], steps)), epoch["decision"]
    assert any(any(epoch["decision"]) for epoch in result["trajectory"]["epochs"])
