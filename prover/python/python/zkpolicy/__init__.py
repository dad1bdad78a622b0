"""zkpolicy from Python.

The token-economy simulator as a Gymnasium environment (:mod:`zkpolicy.env`,
registered as ``zkpolicy/TokenEconomy-v0``), the controller's guard, ONNX import,
backtests, and Halo2 proofs of a quantized policy's adjustments. Everything is
computed by the Rust crates (``zkpolicy-lab``, ``zkpolicy-model``,
``zkpolicy-prover``) through the extension module ``zkpolicy._native``.

Errors: every input zkpolicy refuses raises :class:`ZkPolicyError` (a
``ValueError``) with the Rust error's message, including an argument of the
wrong type or out of its range (``prove(..., epoch=-1)``), which names the
argument; a proof that was checked and is false raises
:class:`InvalidProofError`, a subclass.
"""

import functools as _functools

from zkpolicy import _native
from zkpolicy._native import EPOCH_SECONDS, InvalidProofError, ZkPolicyError


def _refusing(function):
    """``function`` with its argument conversion errors raised as :class:`ZkPolicyError`.

    pyo3 raises ``TypeError`` or ``OverflowError`` when an argument cannot become its Rust
    type (a negative epoch, a string for a list of numbers), naming the argument in its
    message (``argument 'NAME':``) or a note; those become the package's error. A call
    with missing or unknown arguments is a programming error and stays a ``TypeError``.
    """

    @_functools.wraps(function)
    def call(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (TypeError, OverflowError) as error:
            if str(error).startswith("argument '"):
                raise ZkPolicyError(f"{function.__name__}: {error}") from error
            # pyo3 may name the argument in a note ("while processing 'epoch'") instead.
            notes = [n for n in getattr(error, "__notes__", []) if n.startswith("while processing '")]
            if notes:
                name = notes[0].split("'")[1]
                raise ZkPolicyError(f"{function.__name__}: argument '{name}': {error}") from error
            raise

    return call


class Episode:
    """One scenario run, stepped by the caller's deltas (see ``zkpolicy._native.Episode``).

    The native episode with its constructor's and methods' argument conversion errors
    raised as :class:`ZkPolicyError`, as the functions below do.
    """

    __slots__ = ("_episode",)
    __doc__ = _native.Episode.__doc__

    def __init__(self, *args, **kwargs):
        self._episode = _refusing(_native.Episode)(*args, **kwargs)

    def __getattr__(self, name):
        value = getattr(self._episode, name)
        return _refusing(value) if callable(value) else value


action_to_deltas = _refusing(_native.action_to_deltas)
backtest = _refusing(_native.backtest)
deployment_guardrails = _refusing(_native.deployment_guardrails)
epoch_reward = _refusing(_native.epoch_reward)
guard = _refusing(_native.guard)
import_onnx = _refusing(_native.import_onnx)
infer = _refusing(_native.infer)
kpi_specs = _refusing(_native.kpi_specs)
prove = _refusing(_native.prove)
scenarios = _refusing(_native.scenarios)
simulate = _refusing(_native.simulate)
verify = _refusing(_native.verify)

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
