#!/usr/bin/env python3
"""From PyTorch to a proven policy: train, export ONNX, import, prove, backtest.

Trains a small tanh policy (8 KPIs -> 32 -> 32 -> 4 actions in [-1, 1]) on the
zkpolicy Gymnasium environment with REINFORCE (a Gaussian policy around the tanh
mean, a learned standard deviation, a running baseline), exports its deterministic
actor to ONNX, imports it as a fixed-point model (actions at 12 fraction bits, each
applied as round(action * max_step) bps, the environment's own map), proves and
verifies one decision, and backtests the proven model beside the float network on
every scenario. Not run by CI (it needs PyTorch); about two minutes on two cores.

    pip install ./prover/python onnx
    pip install torch --index-url https://download.pytorch.org/whl/cpu   # the CPU build
    python prover/python/examples/train_tanh_policy.py --out-dir /tmp/tanh-policy
"""

import argparse
import json
import pathlib

import numpy as np
import torch
from torch import nn

import zkpolicy
from zkpolicy.env import TokenEconomyEnv

KPIS = 8  # the policy reads the KPIs; the parameters stay with the controller


class Actor(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(KPIS, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 4), nn.Tanh()
        )
        self.log_std = nn.Parameter(torch.full((4,), -1.0))

    def forward(self, kpis):
        return self.net(kpis)


def rollout(env, actor, seed, scenario, epochs, explore):
    obs, _ = env.reset(seed=seed, options={"scenario": scenario, "epochs": epochs})
    log_probs, rewards = [], []
    done = False
    while not done:
        x = torch.as_tensor(obs[:KPIS], dtype=torch.float32)
        mean = actor(x)
        if explore:
            dist = torch.distributions.Normal(mean, actor.log_std.exp())
            action = dist.sample()
            log_probs.append(dist.log_prob(action).sum())
        else:
            action = mean.detach()
        obs, reward, terminated, truncated, _ = env.step(action.detach().clamp(-1, 1).numpy())
        rewards.append(reward)
        done = terminated or truncated
    return log_probs, rewards


def train(iterations, batch, epochs, seed):
    """REINFORCE: each iteration runs `batch` episodes of one scenario on different seeds;
    each epoch's log-probability is weighted by its reward-to-go minus the batch's mean at
    that epoch (a per-epoch baseline), normalised."""
    torch.manual_seed(seed)
    env = TokenEconomyEnv()
    actor = Actor()
    opt = torch.optim.Adam(actor.parameters(), lr=1e-3)
    scenarios = [name for name, _ in zkpolicy.scenarios()]
    rng = np.random.default_rng(seed)
    for it in range(iterations):
        scenario = scenarios[it % len(scenarios)]
        log_probs, to_go, returns = [], [], []
        for _ in range(batch):
            lp, rewards = rollout(env, actor, int(rng.integers(1 << 30)), scenario, epochs, True)
            log_probs.append(torch.stack(lp))
            to_go.append(np.cumsum(rewards[::-1])[::-1])
            returns.append(sum(rewards))
        g = np.array(to_go)
        advantage = torch.as_tensor((g - g.mean(axis=0)) / (g.std() + 1e-8), dtype=torch.float32)
        loss = -(torch.stack(log_probs) * advantage).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        print(f"iteration {it:3d} ({scenario:<15}): mean episode reward {np.mean(returns):9.3f}")
    return actor


def export(actor, path):
    actor.eval()
    torch.onnx.export(
        actor, torch.zeros(1, KPIS), str(path), input_names=["kpis"], output_names=["actions"], opset_version=13, dynamo=False
    )


def float_backtest(actor, scenario, seed, epochs):
    """The float network's mean epoch reward, in the same seeded episode the backtest runs."""
    _, rewards = rollout(TokenEconomyEnv(), actor, seed, scenario, epochs, False)
    return float(np.mean(rewards))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=pathlib.Path, required=True)
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)

    actor = train(args.iterations, args.batch, args.epochs, args.seed)
    onnx_path = args.out_dir / "actor.onnx"
    export(actor, onnx_path)

    # Outputs are actions at 12 fraction bits, applied as round(action * max_step) bps;
    # hidden tables at 10 bits; calibrated on what the rule-based controller meets in the
    # simulator (no calibration file given).
    text, report = zkpolicy.import_onnx(
        onnx_path, name="tanh-policy", weight_bits=16, bias_bits=32, auto_input_scale=True, actions=12, table_bits=10
    )
    (args.out_dir / "model.json").write_text(text)
    (args.out_dir / "import-report.json").write_text(json.dumps(report, indent=1))
    print("\nimported model vs the float network, over the calibration set (action units):")
    for e in report["outputs"]:
        print(f"  {e['name']:<24} max {e['max_abs_error']:.2e}  mean {e['mean_abs_error']:.2e}")

    # One decision, proven and verified (development SRS: for testing only).
    env = TokenEconomyEnv()
    obs, _ = env.reset(seed=1, options={"scenario": "crash", "epochs": 5})
    artifact = zkpolicy.prove(text, obs[:KPIS].tolist(), None, 1)
    (args.out_dir / "proof.json").write_text(artifact)
    assert zkpolicy.verify(text, artifact)
    outputs = [o["value"] for o in json.loads(artifact)["outputs"]]
    print(f"\nproved and verified: outputs {outputs} (actions {[round(o / 4096, 4) for o in outputs]})")

    print("\nbacktest, mean epoch reward (0 is perfect), proven model beside the float network:")
    rows = []
    for scenario in [name for name, _ in zkpolicy.scenarios()]:
        proven = zkpolicy.backtest(text, scenario, 3, 120)["metrics"]["mean_reward"]
        floating = float_backtest(actor, scenario, 3, 120)
        rows.append({"scenario": scenario, "proven": proven, "float": floating})
        print(f"  {scenario:<16} proven {proven:9.4f}   float {floating:9.4f}")
    (args.out_dir / "backtest.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
