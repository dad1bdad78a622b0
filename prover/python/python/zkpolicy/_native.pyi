"""Types of the extension module (the Rust crate in prover/python/src)."""

from os import PathLike
from typing import Any, Mapping, Optional, Sequence, Union

_Path = Union[str, PathLike]
#: A model file's JSON text, or its path.
_Model = Union[str, PathLike]
_Kpis = Union[Mapping[str, float], Sequence[float]]
_Parameters = Union[Mapping[str, int], Sequence[int]]
#: Rails as JSON text or as `[{"name", "initial", "min", "max", "max_step", ...}]`.
_Rails = Union[str, Sequence[Mapping[str, Any]]]

EPOCH_SECONDS: int

class ZkPolicyError(ValueError): ...
class InvalidProofError(ZkPolicyError): ...

class Episode:
    def __init__(self, scenario: str, seed: int, epochs: int, *, intensity: float = 1.0, shock_start: int = 20) -> None: ...
    def observation(self) -> dict[str, list]: ...
    def step(self, deltas: Sequence[int]) -> dict[str, Any]: ...
    def action_to_deltas(self, actions: Sequence[float]) -> list[int]: ...
    def done(self) -> bool: ...
    def market(self) -> dict[str, Any]: ...
    @property
    def epoch(self) -> int: ...
    @property
    def scenario(self) -> dict[str, Any]: ...
    @property
    def start(self) -> dict[str, Any]: ...

def scenarios() -> list[tuple[str, str]]: ...
def kpi_specs() -> list[dict[str, Any]]: ...
def deployment_guardrails() -> list[dict[str, Any]]: ...
def action_to_deltas(actions: Sequence[float], rails: Optional[_Rails] = None) -> list[int]: ...
def guard(
    current: Sequence[int],
    deltas: Sequence[int],
    rails: Optional[_Rails] = None,
    anchors: Optional[Union[str, Sequence[Mapping[str, int]]]] = None,
    now: int = 0,
) -> dict[str, Any]: ...
def epoch_reward(outcome_kpis: Sequence[float], hits: int) -> float: ...
def simulate(
    scenario: str,
    seed: int,
    epochs: int,
    policy: Optional[_Model] = None,
    *,
    intensity: float = 1.0,
    shock_start: int = 20,
) -> dict[str, Any]: ...
def backtest(model: _Model, scenario: str = "crash", seed: int = 0, epochs: int = 120) -> dict[str, Any]: ...
def import_onnx(
    onnx_path: _Path,
    template_model_path: Optional[_Model] = None,
    calibration_path: Optional[_Path] = None,
    name: Optional[str] = None,
    *,
    weight_bits: int = 10,
    bias_bits: int = 24,
    auto_input_scale: bool = False,
    actions: Optional[int] = None,
    action_steps: Optional[Sequence[int]] = None,
    table_bits: Optional[int] = None,
) -> tuple[str, dict[str, Any]]: ...
def infer(model: _Model, kpis: _Kpis, parameters: Optional[_Parameters] = None) -> list[int]: ...
def prove(
    model: _Model,
    kpis: _Kpis,
    parameters: Optional[_Parameters] = None,
    epoch: int = 0,
    *,
    srs: Optional[_Path] = None,
    cache_dir: Optional[_Path] = None,
) -> str: ...
def verify(model: _Model, artifact: str, *, srs: Optional[_Path] = None, cache_dir: Optional[_Path] = None) -> bool: ...
