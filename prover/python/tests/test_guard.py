"""The guard twin against hand-computed cases (the deployment's rails: initial 500/800/100/30,
ranges [0, 2000]/[0, 2000]/[0, 1000]/[0, 300], max_step 25/60/25/10)."""

import json

import pytest

import zkpolicy

INITIAL = [500, 800, 100, 30]


def test_steps_within_max_step_pass_unchanged():
    g = zkpolicy.guard(INITIAL, [25, -60, 0, 10])
    assert g["values"] == [525, 740, 100, 40]
    assert g["hits"] == [False] * 4 and g["hit"] is False


def test_oversized_steps_are_clamped_and_flagged():
    # 500+40 -> +25; 800-61 -> -60; 100+26 -> +25; 30-11 -> -10.
    g = zkpolicy.guard(INITIAL, [40, -61, 26, -11])
    assert g["values"] == [525, 740, 125, 20]
    assert g["hits"] == [True] * 4 and g["hit"] is True


def test_values_are_clamped_into_the_range_after_the_step():
    # 1990+20 -> 2000 (hit); 10-20 -> 0 (hit); 995+5 = 1000 (no hit); 300+0 (no hit).
    g = zkpolicy.guard([1990, 10, 995, 300], [20, -20, 5, 0])
    assert g["values"] == [2000, 0, 1000, 300]
    assert g["hits"] == [True, True, False, False]


def test_dead_band_and_window_cap_from_rails_given_as_json():
    rails = [{"name": "p", "initial": 1000, "min": 0, "max": 5000, "max_step": 100, "dead_band": 10, "max_change_bps": 500, "window": 86400}]
    # A step of 9 is inside the dead band: dropped, and that is a hit.
    g = zkpolicy.guard([1000], [9], json.dumps(rails), now=86400)
    assert g["values"] == [1000] and g["hit"] is True
    # The window opens at the first application: anchor 1000, band +-5% = [950, 1050].
    g = zkpolicy.guard([1000], [100], rails, now=86400)
    assert g["values"] == [1050] and g["hits"] == [True]
    assert g["anchors"] == [{"value": 1000, "since": 86400}]
    # Still inside the window: 1050 cannot rise further.
    g = zkpolicy.guard([1050], [40], rails, anchors=g["anchors"], now=2 * 86400 - 1)
    assert g["values"] == [1050]
    # The window has passed: a new anchor at 1050, band [997, 1102] (1050 * 500 / 10^4 = 52).
    g = zkpolicy.guard([1050], [100], rails, anchors=g["anchors"], now=2 * 86400 + 1)
    assert g["values"] == [1102]


def test_malformed_guards_raise_naming_the_problem():
    with pytest.raises(zkpolicy.ZkPolicyError, match="expected 4 parameter deltas, got 3"):
        zkpolicy.guard(INITIAL, [1, 2, 3])
    bad = zkpolicy.deployment_guardrails()
    bad[2]["max_step"] = -1
    with pytest.raises(zkpolicy.ZkPolicyError, match=r"\[2\] \(burn_rate_bps\)"):
        zkpolicy.guard(INITIAL, [0] * 4, bad)
    with pytest.raises(zkpolicy.ZkPolicyError, match="rails: missing field `max_step`"):
        zkpolicy.guard([1], [0], [{"name": "p", "initial": 1, "min": 0, "max": 5}])
    with pytest.raises(zkpolicy.ZkPolicyError, match="rails: unknown field `maxstep`"):
        zkpolicy.guard([1], [0], '[{"name": "p", "initial": 1, "min": 0, "max": 5, "max_step": 1, "maxstep": 2}]')
