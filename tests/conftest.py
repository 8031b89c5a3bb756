"""Shared fixtures: the committed sample pilot and synthetic data with known truth."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
BENCH = ROOT / "benchmarks"


@pytest.fixture(scope="session")
def bench():
    """Import a module of ``benchmarks/`` (a folder of scripts, not a package): ``bench("plain")``."""
    sys.path.insert(0, str(BENCH))
    try:
        yield importlib.import_module
    finally:
        sys.path.remove(str(BENCH))


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return SAMPLE


@pytest.fixture(scope="session")
def sample_pilot():
    """The committed sample (data/sample), loaded and validated once per test session.

    Treat it as read-only: tests that modify tables must copy them first.
    """
    from rm_analytics import load_pilot

    return load_pilot(SAMPLE, today="2026-09-30")


@pytest.fixture
def pilot(sample_pilot):
    """A copy of the sample pilot with its own data-quality log (analyses may log to it)."""
    return sample_pilot.copy()


@pytest.fixture(scope="session")
def synthetic_sample():
    """The generator's output with the sample's parameters, with ``.truth``."""
    from rm_analytics.data.synthetic import SAMPLE, generate

    return generate(**SAMPLE)


@pytest.fixture(scope="session")
def synthetic_completed():
    """The generator's defaults: the sample's organisation with two completed cohorts and no
    running one (the data the sample had before its third, running cohort)."""
    from rm_analytics.data.synthetic import generate

    return generate()
