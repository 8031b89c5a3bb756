"""rm-analytics: honest evaluation of reverse-mentoring pilots.

The public API is small and imported lazily, so ``import rm_analytics`` and the command line
start fast; pandas, lifelines, statsmodels and matplotlib load on first use.

>>> import rm_analytics as rm
>>> pilot = rm.load_pilot("data/sample")          # validated, typed tables
>>> pilot.quality                                   # data-quality table
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_API = {
    "load_pilot": "pilot",
    "Pilot": "pilot",
    "DataValidationError": "errors",
    "InsufficientDataError": "errors",
    "RmAnalyticsError": "errors",
    "generate_sample": "synthetic",
    "program_costs": "roi",
    "phillips_roi": "roi",
    "roi_from_retention": "roi",
    "planning_statement": "power",
    "external_benchmarks": "external",
    "compare_retention": "retention",
    "pilot_retention": "retention",
    "cohort_frame": "retention",
    "RetentionResult": "retention",
    "match_controls": "matching",
    "difference_in_differences": "engagement",
    "pilot_engagement": "engagement",
    "prepost": "skills",
    "pilot_skills": "skills",
    "flag_pairs": "safety",
    "scale_scores": "safety",
    "cronbach_alpha": "safety",
    "safety_summary": "safety",
    "pair_delivery": "delivery",
    "delivery_summary": "delivery",
    "check_pairs": "pairs_check",
}
_MODULES = (
    "contract",
    "synthetic",
    "roi",
    "power",
    "external",
    "retention",
    "matching",
    "engagement",
    "skills",
    "goals",
    "reaction",
    "promotion",
    "safety",
    "delivery",
    "pairs_check",
)

__all__ = [
    "DataValidationError",
    "InsufficientDataError",
    "Pilot",
    "RetentionResult",
    "RmAnalyticsError",
    "__version__",
    "check_pairs",
    "cohort_frame",
    "compare_retention",
    "contract",
    "cronbach_alpha",
    "delivery",
    "delivery_summary",
    "difference_in_differences",
    "engagement",
    "external",
    "external_benchmarks",
    "flag_pairs",
    "generate_sample",
    "goals",
    "load_pilot",
    "match_controls",
    "matching",
    "pair_delivery",
    "pairs_check",
    "phillips_roi",
    "pilot_engagement",
    "pilot_retention",
    "pilot_skills",
    "planning_statement",
    "power",
    "prepost",
    "program_costs",
    "promotion",
    "reaction",
    "retention",
    "roi",
    "roi_from_retention",
    "safety",
    "safety_summary",
    "scale_scores",
    "skills",
    "synthetic",
]

if TYPE_CHECKING:  # pragma: no cover
    from . import (
        contract,
        delivery,
        engagement,
        external,
        goals,
        matching,
        pairs_check,
        power,
        promotion,
        reaction,
        retention,
        roi,
        safety,
        skills,
        synthetic,
    )
    from .delivery import delivery_summary, pair_delivery
    from .engagement import difference_in_differences, pilot_engagement
    from .errors import DataValidationError, InsufficientDataError, RmAnalyticsError
    from .external import external_benchmarks
    from .matching import match_controls
    from .pairs_check import check_pairs
    from .pilot import Pilot, load_pilot
    from .power import planning_statement
    from .retention import RetentionResult, cohort_frame, compare_retention, pilot_retention
    from .roi import phillips_roi, program_costs, roi_from_retention
    from .safety import cronbach_alpha, flag_pairs, safety_summary, scale_scores
    from .skills import pilot_skills, prepost
    from .synthetic import generate as generate_sample


def __getattr__(name: str) -> Any:
    if name in _API:
        module = importlib.import_module(f".{_API[name]}", __name__)
        value = getattr(module, "generate" if name == "generate_sample" else name)
    elif name in _MODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'rm_analytics' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
