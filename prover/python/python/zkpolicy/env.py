"""The token economy as a Gymnasium environment.

One step is one epoch (a day) of the zkpolicy simulator: the agent proposes an
adjustment of the four governed parameters, the controller's guardrails trim it
exactly as the contract does, and the seeded agent-based economy runs the epoch
under the guarded parameters and the scenario's shocks.

- **Observation** (``Box``, float64, 12 values): the eight KPIs the policy sees
  (real values, each clamped into the range the default model declares), then
  the four parameters in force (bps). The bounds are exactly those ranges and
  the rails' ``[min, max]``.
- **Action** (``Box(-1, 1, (4,))``): one normalised adjustment per parameter,
  mapped to deltas by :func:`zkpolicy.action_to_deltas`:
  ``floor(clip(a, -1, 1) * max_step + 0.5)`` bps.
- **Reward**: the simulator's ``RewardConfig.epoch_reward`` on the KPIs
  observed after the epoch and the number of parameters that hit a guardrail
  (every term a penalty, 0 is perfect; see ``models/lab/src/sim/reward.rs``).
- **Episodes** run ``epochs`` epochs of a scenario after a calm warm-up and end
  with ``truncated=True``; nothing terminates them early.

``reset(seed=s)`` fixes the whole trajectory for a sequence of actions; the
scenario and its length are reset options (``{"scenario": "crash",
"epochs": 120}``; the names are :func:`zkpolicy.scenarios`).
"""

from __future__ import annotations

from typing import Any, Optional

import gymnasium
import numpy as np
from gymnasium import spaces

from zkpolicy import _native

#: The reset options ``reset`` accepts.
RESET_OPTIONS = ("scenario", "epochs")


class TokenEconomyEnv(gymnasium.Env):
    """The zkpolicy token economy; see the module documentation."""

    metadata = {"render_modes": []}

    def __init__(
        self,
        scenario: str = "crash",
        epochs: int = 120,
        *,
        intensity: float = 1.0,
        shock_start: int = 20,
        render_mode: Optional[str] = None,
    ) -> None:
        if render_mode is not None:
            raise _native.ZkPolicyError(f"TokenEconomyEnv renders nothing; got render_mode={render_mode!r}")
        self.render_mode = None
        self.kpi_specs = _native.kpi_specs()
        self.rails = _native.deployment_guardrails()
        self.kpi_names = [k["name"] for k in self.kpi_specs]
        self.parameter_names = [r["name"] for r in self.rails]
        low = [k["min"] for k in self.kpi_specs] + [float(r["min"]) for r in self.rails]
        high = [k["max"] for k in self.kpi_specs] + [float(r["max"]) for r in self.rails]
        self.observation_space = spaces.Box(np.array(low, dtype=np.float64), np.array(high, dtype=np.float64), dtype=np.float64)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(len(self.rails),), dtype=np.float32)
        self.scenario = self._check_scenario(scenario)
        self.epochs = self._check_epochs(epochs)
        self.intensity = float(intensity)
        self.shock_start = int(shock_start)
        self._episode: Optional[_native.Episode] = None

    @staticmethod
    def _check_scenario(name: Any) -> str:
        known = [n for n, _ in _native.scenarios()]
        if name not in known:
            raise _native.ZkPolicyError(f"unknown scenario {name!r}; the scenarios are {', '.join(known)}")
        return name

    @staticmethod
    def _check_epochs(epochs: Any) -> int:
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise _native.ZkPolicyError(f"epochs must be a positive integer, got {epochs!r}")
        return int(epochs)

    def _observation(self) -> np.ndarray:
        assert self._episode is not None
        seen = self._episode.observation()
        return np.array(seen["kpis"] + seen["params"], dtype=np.float64)

    def reset(self, *, seed: Optional[int] = None, options: Optional[dict] = None) -> tuple[np.ndarray, dict]:
        """Starts an episode: ``seed`` seeds the simulator (without one, a seed is drawn
        from the environment's generator); ``options`` may set ``scenario`` and ``epochs``."""
        super().reset(seed=seed)
        options = dict(options or {})
        unknown = sorted(set(options) - set(RESET_OPTIONS))
        if unknown:
            raise _native.ZkPolicyError(f"unknown reset options {unknown}; the options are {list(RESET_OPTIONS)}")
        self.scenario = self._check_scenario(options.get("scenario", self.scenario))
        self.epochs = self._check_epochs(options.get("epochs", self.epochs))
        sim_seed = seed if seed is not None else int(self.np_random.integers(0, 2**63 - 1))
        self._episode = _native.Episode(
            self.scenario, sim_seed, self.epochs, intensity=self.intensity, shock_start=self.shock_start
        )
        info = {"scenario": self.scenario, "seed": sim_seed, "epochs": self.epochs, "market": self._episode.start}
        return self._observation(), info

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        """One epoch under ``action``. ``info`` carries the deltas, the parameters before and
        after the guard, the per-parameter hits, the price and the market snapshot."""
        if self._episode is None:
            raise gymnasium.error.ResetNeeded("call reset() before step()")
        actions = np.asarray(action, dtype=np.float64)
        if actions.shape != self.action_space.shape:
            raise _native.ZkPolicyError(f"an action has shape {self.action_space.shape}, got {actions.shape}")
        deltas = self._episode.action_to_deltas(actions.tolist())
        record = self._episode.step(deltas)
        info = {
            "epoch": record["epoch"],
            "deltas": record["decision"],
            "params_before": record["params_before"],
            "params": record["params"],
            "hits": record["hits"],
            "hit": record["hit"],
            "price": record["market"]["price"],
            "market": record["market"],
        }
        return self._observation(), float(record["reward"]), False, self._episode.done(), info
