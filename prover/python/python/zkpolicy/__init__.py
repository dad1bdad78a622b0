"""zkpolicy from Python.

The token-economy simulator as a Gymnasium environment (:mod:`zkpolicy.env`,
registered as ``zkpolicy/TokenEconomy-v0``), the controller's guard, ONNX import,
backtests, and Halo2 proofs of a quantized policy's adjustments. Everything is
computed by the Rust crates (``zkpolicy-lab``, ``zkpolicy-model``,
``zkpolicy-prover``) through the extension module ``zkpolicy._native``.

Errors: every input zkpolicy refuses raises :class:`ZkPolicyError` (a
``ValueError``) with the Rust error's message; a proof that was checked and is
false raises :class:`InvalidProofError`, a subclass.
"""

from zkpolicy._native import (
    EPOCH_SECONDS,
    Episode,
    InvalidProofError,
    ZkPolicyError,
    action_to_deltas,
    backtest,
    deployment_guardrails,
    epoch_reward,
    guard,
    import_onnx,
    infer,
    kpi_specs,
    prove,
    scenarios,
    simulate,
    verify,
)

__all__ = [
    "EPOCH_SECONDS",
    "ENV_ID",
    "Episode",
    "InvalidProofError",
    "ZkPolicyError",
    "action_to_deltas",
    "backtest",
    "deployment_guardrails",
    "epoch_reward",
    "guard",
    "import_onnx",
    "infer",
    "kpi_specs",
    "prove",
    "scenarios",
    "simulate",
    "verify",
]

#: The Gymnasium id of :class:`zkpolicy.env.TokenEconomyEnv`.
ENV_ID = "zkpolicy/TokenEconomy-v0"


def _register() -> None:
    # By entry point, so importing zkpolicy does not import the environment module.
    try:
        import gymnasium
    except ImportError:  # the bindings work without gymnasium; only the environment needs it
        return
    if ENV_ID not in gymnasium.registry:
        gymnasium.register(id=ENV_ID, entry_point="zkpolicy.env:TokenEconomyEnv")


_register()
