"""Shared fixtures: the repository's bundled models and files, found from this file."""

import json
from pathlib import Path

import pytest

#: models/, where the bundled models, the KPI sample and the ONNX fixtures live.
MODELS = Path(__file__).resolve().parents[3] / "models"


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return MODELS


@pytest.fixture(scope="session")
def default_model() -> Path:
    """The smallest bundled model: 8 KPIs -> 16 -> 4 outputs, k = 10."""
    return MODELS / "tokenomics-policy.json"


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The trained policy, which also reads the four parameters."""
    return MODELS / "trained-policy.json"


@pytest.fixture(scope="session")
def sample_kpis() -> dict:
    return json.loads((MODELS / "kpis-sample.json").read_text())["kpis"]
