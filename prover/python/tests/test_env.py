"""The Gymnasium environment: the checker, determinism, equality with the Rust simulator."""

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import zkpolicy
from zkpolicy.env import TokenEconomyEnv

RAILS = zkpolicy.deployment_guardrails()
MAX_STEP = np.array([r["max_step"] for r in RAILS], dtype=np.float64)


def rollout(env, seed, actions, options=None):
    obs, _ = env.reset(seed=seed, options=options)
    steps = [(obs, None, None, None, None)]
    for a in actions:
        steps.append(env.step(a))
    return steps


def assert_same(a, b):
    assert len(a) == len(b)
    for (o1, r1, t1, u1, i1), (o2, r2, t2, u2, i2) in zip(a, b):
        np.testing.assert_array_equal(o1, o2)
        assert (r1, t1, u1, i1) == (r2, t2, u2, i2)


def test_the_gymnasium_checker_passes():
    check_env(TokenEconomyEnv(scenario="crash", epochs=12), skip_render_check=True)


def test_registered_under_its_id_with_exact_spaces():
    env = gymnasium.make(zkpolicy.ENV_ID, scenario="calm", epochs=3)
    assert env.spec.id == "zkpolicy/TokenEconomy-v0"
    space = env.observation_space
    specs = zkpolicy.kpi_specs()
    assert space.shape == (12,) and space.dtype == np.float64
    assert list(space.low) == [k["min"] for k in specs] + [r["min"] for r in RAILS]
    assert list(space.high) == [k["max"] for k in specs] + [r["max"] for r in RAILS]
    assert env.action_space == gymnasium.spaces.Box(-1.0, 1.0, (4,), np.float32)
    obs, info = env.reset(seed=1)
    assert space.contains(obs)
    assert list(obs[8:]) == [r["initial"] for r in RAILS]
    assert info["scenario"] == "calm" and info["seed"] == 1


def test_a_seed_fixes_the_trajectory_and_another_seed_changes_it():
    env = TokenEconomyEnv(scenario="crash", epochs=40)
    actions = np.random.default_rng(5).uniform(-1, 1, size=(40, 4)).astype(np.float32)
    a = rollout(env, 11, actions)
    b = rollout(env, 11, actions)
    assert_same(a, b)
    c = rollout(env, 12, actions)
    prices = lambda run: [info["price"] for *_, info in run[1:]]
    differing = sum(x != y for x, y in zip(prices(a), prices(c)))
    assert differing > 30, f"only {differing} of 40 prices differ between seeds 11 and 12"


def test_an_unseeded_reset_continues_the_seeded_generator():
    env = TokenEconomyEnv(epochs=5)
    env.reset(seed=3)
    _, first = env.reset()
    env.reset(seed=3)
    _, again = env.reset()
    assert first["seed"] == again["seed"]


def test_episodes_end_truncated_after_the_requested_epochs():
    env = TokenEconomyEnv()
    env.reset(seed=2, options={"scenario": "liquidity_drain", "epochs": 4})
    flags = [env.step(np.zeros(4, np.float32))[2:4] for _ in range(4)]
    assert flags == [(False, False)] * 3 + [(False, True)]
    with pytest.raises(zkpolicy.ZkPolicyError, match="ended after 4 epochs"):
        env.step(np.zeros(4, np.float32))


def test_each_scenario_option_gives_its_own_trajectory():
    env = TokenEconomyEnv(epochs=40)
    zeros = np.zeros((40, 4), np.float32)
    finals = {}
    for name, _ in zkpolicy.scenarios():
        finals[name] = rollout(env, 7, zeros, {"scenario": name})[-1][4]["price"]
    assert len(set(finals.values())) == 5, finals
    assert finals["crash"] < finals["calm"] < finals["demand_surge"]


def test_steps_equal_the_rust_simulators_records_for_the_same_deltas():
    # The rule-based controller trims its deltas to max_step, so delta / max_step is an
    # action that maps back to exactly its delta.
    t = zkpolicy.simulate("crash", 21, 60, "rule_based")
    env = TokenEconomyEnv()
    obs, _ = env.reset(seed=21, options={"scenario": "crash", "epochs": 60})
    assert list(obs) == t["epochs"][0]["kpis"] + t["epochs"][0]["params_before"]
    moved = 0
    for record in t["epochs"]:
        action = np.array(record["decision"], dtype=np.float64) / MAX_STEP
        obs, reward, terminated, truncated, info = env.step(action)
        assert info["deltas"] == record["decision"]
        assert info["params"] == record["params"] and info["hits"] == record["hits"]
        assert info["price"] == record["market"]["price"]
        assert list(obs) == record["outcome_kpis"] + record["params"]
        assert reward == zkpolicy.epoch_reward(record["outcome_kpis"], sum(record["hits"]))
        moved += any(record["decision"])
    assert truncated and not terminated
    assert moved > 10, "the controller should act in a crash"


def test_the_native_episode_reproduces_simulate_for_an_integer_model(trained_model):
    t = zkpolicy.simulate("demand_surge", 4, 50, str(trained_model))
    episode = zkpolicy.Episode("demand_surge", 4, 50)
    assert episode.start == t["start"]
    for record in t["epochs"]:
        seen = episode.observation()
        assert (seen["kpis"], seen["params"]) == (record["kpis"], record["params_before"])
        stepped = episode.step(record["decision"])
        assert stepped.pop("reward") == zkpolicy.epoch_reward(record["outcome_kpis"], sum(record["hits"]))
        assert stepped.pop("quantized_kpis") is None and record.pop("quantized_kpis") is not None
        assert stepped == record
    assert episode.done()


def test_the_reward_is_the_documented_formula():
    # -2|dp| - sigma - 4 dist(s, [0.45, 0.60]) - 0.5 max(0, 1 - L/0.08) - max(0, 1 - R/1.5) - 0.2 h
    kpis = [0.40, 0.04, 0.6, -0.1, 0.35, 0.0, 0.75, 0.05]
    expected = -2 * 0.1 - 0.6 - 4 * 0.05 - 0.5 * 0.5 - 0.5 - 0.2 * 2
    assert zkpolicy.epoch_reward(kpis, 2) == pytest.approx(expected, abs=1e-12)
    assert zkpolicy.epoch_reward([0.5, 0.08, 0.0, 0.0, 0.35, 0.0, 3.0, 0.05], 0) == 0.0


def test_actions_map_to_rounded_steps():
    assert zkpolicy.action_to_deltas([1.0, -1.0, 0.5, -0.5]) == [25, -60, 13, -5]
    assert zkpolicy.action_to_deltas([9.0, -9.0, 0.0, 0.04]) == [25, -60, 0, 0]


@pytest.mark.parametrize(
    "action, message",
    [
        (np.array([0.0, np.nan, 0.0, 0.0]), "staking_reward_bps.*finite number"),
        (np.array([0.0, 0.0, np.inf, 0.0]), "burn_rate_bps.*finite number"),
        (np.zeros(3), r"shape \(4,\), got \(3,\)"),
        (np.zeros((2, 4)), r"shape \(4,\), got \(2, 4\)"),
    ],
)
def test_bad_actions_raise_with_a_clear_message(action, message):
    env = TokenEconomyEnv(epochs=3)
    env.reset(seed=0)
    with pytest.raises(zkpolicy.ZkPolicyError, match=message):
        env.step(action)
    # Nothing was stepped.
    assert env.step(np.zeros(4))[4]["epoch"] == 0


def test_bad_options_and_scenarios_raise():
    env = TokenEconomyEnv()
    with pytest.raises(zkpolicy.ZkPolicyError, match="unknown scenario 'bull_run'; the scenarios are calm, crash"):
        env.reset(options={"scenario": "bull_run"})
    with pytest.raises(zkpolicy.ZkPolicyError, match="epochs must be a positive integer"):
        env.reset(options={"epochs": 0})
    with pytest.raises(zkpolicy.ZkPolicyError, match=r"unknown reset options \['seed'\]"):
        env.reset(options={"seed": 3})
    with pytest.raises(zkpolicy.ZkPolicyError, match='unknown scenario "bull_run"'):
        zkpolicy.Episode("bull_run", 1, 10)
    with pytest.raises(zkpolicy.ZkPolicyError, match="expected 4 actions, got 3"):
        zkpolicy.action_to_deltas([0.0, 0.0, 0.0])
    with pytest.raises(zkpolicy.ZkPolicyError, match="intensity"):
        zkpolicy.Episode("crash", 1, 10, intensity=5.0)
    with pytest.raises(gymnasium.error.ResetNeeded):
        TokenEconomyEnv().step(np.zeros(4))


@pytest.mark.parametrize(
    "build, argument",
    [
        (lambda: zkpolicy.Episode("calm", -1, 10), "seed"),
        (lambda: zkpolicy.Episode("calm", 1, "ten"), "epochs"),
        (lambda: zkpolicy.Episode("calm", 1, 10, shock_start=-3), "shock_start"),
        (lambda: zkpolicy.Episode(7, 1, 10), "scenario"),
        (lambda: zkpolicy.Episode("calm", 1, 10).step("up"), "deltas"),
        (lambda: zkpolicy.Episode("calm", 1, 10).action_to_deltas([0.0, None, 0.0, 0.0]), "actions"),
    ],
)
def test_an_episodes_bad_arguments_raise_the_packages_error_naming_them(build, argument):
    with pytest.raises(zkpolicy.ZkPolicyError, match=f"argument '{argument}'"):
        build()


def test_the_episode_wrapper_steps_as_the_native_one():
    wrapped, native = zkpolicy.Episode("crash", 3, 4), zkpolicy._native.Episode("crash", 3, 4)
    assert wrapped.observation() == native.observation() and wrapped.epoch == 0
    assert wrapped.step([10, 0, -5, 0]) == native.step([10, 0, -5, 0])
    assert wrapped.epoch == 1 and not wrapped.done() and wrapped.scenario == native.scenario
    # Missing arguments stay a programming error (TypeError), as for the functions.
    with pytest.raises(TypeError):
        zkpolicy.Episode("crash")
