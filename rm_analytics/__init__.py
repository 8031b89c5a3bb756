"""rm-analytics: honest evaluation of reverse-mentoring pilots.

The public API is small and imported lazily, so ``import rm_analytics`` and the command line
start fast; pandas, lifelines, statsmodels and matplotlib load on first use.

>>> import rm_analytics as rm
>>> pilot = rm.load_sample()                 # the synthetic sample; rm.load_pilot(folder) for yours
>>> print(pilot.quality[["table", "check", "rows", "action"]].head(3).to_string(index=False))
    table     check  rows action
employees rows read  1500   kept
  cohorts rows read     3   kept
    pairs rows read    36   kept

The package is layered (``stats`` <- ``data`` <- ``metrics`` <- ``report`` <- ``cli``; see
``docs/architecture.md``). The module paths of version 0.1 (``rm_analytics.retention``,
``rm_analytics.report_sections``, ...) still import, with a :class:`DeprecationWarning`
naming the new path.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from typing import TYPE_CHECKING, Any

from ._version import __version__

# public name -> module that defines it
_API = {
    "load_pilot": "data.pilot",
    "load_sample": "data.sample",
    "Pilot": "data.pilot",
    "DataValidationError": "errors",
    "InsufficientDataError": "errors",
    "RmAnalyticsError": "errors",
    "Result": "results",
    "Note": "results",
    "Unavailable": "results",
    "attempt": "results",
    "generate_sample": "data.synthetic",
    "program_costs": "metrics.roi",
    "phillips_roi": "metrics.roi",
    "roi_from_retention": "metrics.roi",
    "sensitivity": "metrics.roi",
    "planning_statement": "metrics.power",
    "external_benchmarks": "metrics.external",
    "compare_retention": "metrics.retention",
    "pilot_retention": "metrics.retention",
    "cohort_frame": "metrics.retention",
    "RetentionResult": "metrics.retention",
    "match_controls": "metrics.matching",
    "difference_in_differences": "metrics.engagement",
    "event_study": "metrics.engagement",
    "pilot_engagement": "metrics.engagement",
    "prepost": "metrics.skills",
    "pilot_skills": "metrics.skills",
    "goal_progress": "metrics.goals",
    "pilot_goals": "metrics.goals",
    "feedback_summary": "metrics.reaction",
    "pilot_reaction": "metrics.reaction",
    "promotion_rates": "metrics.promotion",
    "pilot_promotion": "metrics.promotion",
    "flag_pairs": "metrics.safety",
    "scale_scores": "metrics.safety",
    "cronbach_alpha": "metrics.safety",
    "safety_summary": "metrics.safety",
    "pair_delivery": "metrics.delivery",
    "delivery_summary": "metrics.delivery",
    "check_pairs": "metrics.pairs_check",
    "meta_analysis": "metrics.synthesis",
    "pilot_synthesis": "metrics.synthesis",
    "planned_information": "metrics.synthesis",
    "probability_of_benefit": "metrics.synthesis",
    "sequential_boundaries": "metrics.synthesis",
    "sequential_monitor": "metrics.synthesis",
    "pair_view": "metrics.lead",
    "enrolment_funnel": "metrics.program",
    "sessions_by_week": "metrics.program",
    "feedback_by_role": "metrics.program",
}
# short module names kept as attributes of the package (``rm.retention``, ``rm.roi``, ...)
_MODULES = {
    "contract": "data.contract",
    "synthetic": "data.synthetic",
    "roi": "metrics.roi",
    "power": "metrics.power",
    "external": "metrics.external",
    "retention": "metrics.retention",
    "matching": "metrics.matching",
    "engagement": "metrics.engagement",
    "skills": "metrics.skills",
    "goals": "metrics.goals",
    "reaction": "metrics.reaction",
    "promotion": "metrics.promotion",
    "safety": "metrics.safety",
    "delivery": "metrics.delivery",
    "pairs_check": "metrics.pairs_check",
    "theme": "plotting.theme",
}
# module paths of version 0.1 -> where they live now (imported with a DeprecationWarning)
_MOVED = {
    **_MODULES,
    "readers": "data.readers",
    "validation": "data.validation",
    "pilot": "data.pilot",
    "survival_plots": "plotting.survival",
    "reporting": "report.collector",
    "report_sections": "report.document",
    "report_metrics": "report.metric_sections",
    "pdf": "report.pdf",
}

__all__ = [
    "DataValidationError",
    "InsufficientDataError",
    "Note",
    "Pilot",
    "Result",
    "RetentionResult",
    "RmAnalyticsError",
    "Unavailable",
    "__version__",
    "attempt",
    "check_pairs",
    "cohort_frame",
    "compare_retention",
    "contract",
    "cronbach_alpha",
    "delivery",
    "delivery_summary",
    "difference_in_differences",
    "engagement",
    "enrolment_funnel",
    "event_study",
    "external",
    "external_benchmarks",
    "feedback_by_role",
    "feedback_summary",
    "flag_pairs",
    "generate_sample",
    "goal_progress",
    "goals",
    "load_pilot",
    "load_sample",
    "match_controls",
    "matching",
    "meta_analysis",
    "pair_delivery",
    "pair_view",
    "pairs_check",
    "phillips_roi",
    "pilot_engagement",
    "pilot_goals",
    "pilot_promotion",
    "pilot_reaction",
    "pilot_retention",
    "pilot_skills",
    "pilot_synthesis",
    "planned_information",
    "planning_statement",
    "power",
    "prepost",
    "probability_of_benefit",
    "program_costs",
    "promotion",
    "promotion_rates",
    "reaction",
    "retention",
    "roi",
    "roi_from_retention",
    "safety",
    "safety_summary",
    "scale_scores",
    "sensitivity",
    "sequential_boundaries",
    "sequential_monitor",
    "sessions_by_week",
    "skills",
    "synthetic",
]

if TYPE_CHECKING:  # pragma: no cover
    from .data import contract, synthetic
    from .data.pilot import Pilot, load_pilot
    from .data.sample import load_sample
    from .data.synthetic import generate as generate_sample
    from .errors import DataValidationError, InsufficientDataError, RmAnalyticsError
    from .metrics import (
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
    )
    from .metrics.delivery import delivery_summary, pair_delivery
    from .metrics.engagement import difference_in_differences, event_study, pilot_engagement
    from .metrics.external import external_benchmarks
    from .metrics.goals import goal_progress, pilot_goals
    from .metrics.lead import pair_view
    from .metrics.matching import match_controls
    from .metrics.pairs_check import check_pairs
    from .metrics.power import planning_statement
    from .metrics.program import enrolment_funnel, feedback_by_role, sessions_by_week
    from .metrics.promotion import pilot_promotion, promotion_rates
    from .metrics.reaction import feedback_summary, pilot_reaction
    from .metrics.retention import (
        RetentionResult,
        cohort_frame,
        compare_retention,
        pilot_retention,
    )
    from .metrics.roi import phillips_roi, program_costs, roi_from_retention, sensitivity
    from .metrics.safety import cronbach_alpha, flag_pairs, safety_summary, scale_scores
    from .metrics.skills import pilot_skills, prepost
    from .metrics.synthesis import (
        meta_analysis,
        pilot_synthesis,
        planned_information,
        probability_of_benefit,
        sequential_boundaries,
        sequential_monitor,
    )
    from .results import Note, Result, Unavailable, attempt


def __getattr__(name: str) -> Any:
    if name in _API:
        module = importlib.import_module(f".{_API[name]}", __name__)
        value = getattr(module, "generate" if name == "generate_sample" else name)
    elif name in _MODULES:
        value = importlib.import_module(f".{_MODULES[name]}", __name__)
    else:
        raise AttributeError(f"module 'rm_analytics' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


class _MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Import ``rm_analytics.<old name>`` as the module's new home, with a warning."""

    def find_spec(self, fullname, path=None, target=None):
        prefix, _, leaf = fullname.partition(".")
        if prefix != __name__ or leaf not in _MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        leaf = spec.name.partition(".")[2]
        new = f"{__name__}.{_MOVED[leaf]}"
        warnings.warn(
            f"{spec.name} moved to {new}; the old path will be removed in a later version",
            DeprecationWarning,
            stacklevel=2,
        )
        module = importlib.import_module(new)
        sys.modules[spec.name] = module
        return module

    def exec_module(self, module):
        pass


if not any(isinstance(f, _MovedModuleFinder) for f in sys.meta_path):
    sys.meta_path.append(_MovedModuleFinder())
