"""External benchmarks, with provenance: context only, not comparable, never used in ROI.

Two small curated tables:

* :func:`external_benchmarks` -- published figures about reverse mentoring and the retention
  of young employees. **Context only**: none comes with a control group, a comparable
  population or a stated horizon, so none can be compared with this pilot's estimate, and
  none is ever used in the ROI. Shown in the report under a label saying so.
* :func:`replacement_cost_benchmarks` -- the sources of the replacement-cost assumption
  that :mod:`rm_analytics.roi` *does* use (the 21% default and the 0.5-2x sensitivity range).

Every row names where the figure was read. Figures are included only when they are stated in
the project's source material (the domain brief and the seed articles it was built from); the
original studies behind the secondary reports were not re-checked here, and the tables say
which rows are second-hand.
"""

from __future__ import annotations

import pandas as pd

#: Label every display of :func:`external_benchmarks` must carry.
CONTEXT_LABEL = "context only, not comparable, never used in ROI"

BENCHMARK_COLUMNS = [
    "benchmark",
    "figure",
    "value",
    "unit",
    "population",
    "sample",
    "control_group",
    "year",
    "source",
    "reported_in",
    "second_hand",
    "use",
]

_BENCHMARKS = [
    {
        "benchmark": "Pershing (BNY Mellon) reverse mentoring: retention of millennial mentors",
        "figure": "96% retention among the millennials of its first reverse-mentoring cohort",
        "value": 0.96,
        "unit": "retention share",
        "population": "millennial employees who took part as mentors (first cohort)",
        "sample": "one cohort; size, horizon and baseline retention not reported",
        "control_group": False,
        "year": pd.NA,
        "source": "BNY Mellon's Pershing, as reported by third parties (no primary study cited)",
        "reported_in": (
            "seed 002: article 'Benefits of a Successful Reverse Mentoring Program' by "
            "Insala, a mentoring-software vendor ('a reported 96% retention rate among "
            "millennials'); seed 004: machine-reworded copy of an article on reverse "
            "mentoring and resilient organisations that ends with a notice of Lab Manager's "
            "2024 Leadership Summit ('a retention charge of 96 p.c in a cohort of "
            "Millennials'); project domain brief (first cohort, no control group)"
        ),
        "second_hand": True,
    },
    {
        "benchmark": "Deloitte Millennial Survey 2018: intention to leave (millennials)",
        "figure": "43% of millennials planned to leave their job within two years",
        "value": 0.43,
        "unit": "share intending to leave within 2 years",
        "population": "millennial workers surveyed (stated intention, not observed exits)",
        "sample": "survey; sample size not given in the source material",
        "control_group": False,
        "year": 2018,
        "source": "Deloitte Millennial Survey 2018 (the seventh annual survey)",
        "reported_in": (
            "seed 001 ('Your Organization's Guide to Reverse Mentoring'); seed 002 (Insala); "
            "seed 004 ('the seventh annual Deloitte survey')"
        ),
        "second_hand": True,
    },
    {
        "benchmark": "Deloitte Millennial Survey 2018: intention to leave (Gen Z)",
        "figure": "61% of Gen Z planned to leave their job within two years",
        "value": 0.61,
        "unit": "share intending to leave within 2 years",
        "population": "Gen Z workers surveyed (stated intention, not observed exits)",
        "sample": "survey; sample size not given in the source material",
        "control_group": False,
        "year": 2018,
        "source": "Deloitte Millennial Survey 2018",
        "reported_in": "seed 001 ('Your Organization's Guide to Reverse Mentoring')",
        "second_hand": True,
    },
]

REPLACEMENT_COLUMNS = [
    "source",
    "figure",
    "share_low",
    "share_high",
    "basis",
    "year",
    "used_in_roi",
    "reported_in",
]

_REPLACEMENT = [
    {
        "source": (
            "Center for American Progress: Boushey, H. & Glynn, S. J. (2012), 'There Are "
            "Significant Business Costs to Replacing Employees'"
        ),
        "figure": "median replacement cost 21% of annual salary",
        "share_low": 0.21,
        "share_high": 0.21,
        "basis": "median over 30 case studies",
        "year": 2012,
        "used_in_roi": "default replacement cost (conservative)",
        "reported_in": "project domain brief",
    },
    {
        "source": "Gallup (as commonly quoted)",
        "figure": "0.5 to 2 times annual salary",
        "share_low": 0.5,
        "share_high": 2.0,
        "basis": "commonly quoted range; primary study not given in the source material",
        "year": pd.NA,
        "used_in_roi": "sensitivity range (tornado)",
        "reported_in": "project domain brief",
    },
    {
        "source": "SHRM (as commonly quoted)",
        "figure": "6 to 9 months of salary",
        "share_low": 0.5,
        "share_high": 0.75,
        "basis": "commonly quoted range; primary study not given in the source material",
        "year": pd.NA,
        "used_in_roi": "not used (context)",
        "reported_in": "project domain brief",
    },
]


def external_benchmarks() -> pd.DataFrame:
    """Published figures for context, with provenance (never used in the ROI).

    Returns
    -------
    pandas.DataFrame
        One row per figure. Columns: ``benchmark`` (short name), ``figure`` (as stated),
        ``value`` (the number, as a share), ``unit``, ``population``, ``sample``,
        ``control_group`` (whether the figure came with a control group: none did),
        ``year`` (year of the figure, NA when not stated), ``source`` (who produced it),
        ``reported_in`` (where this project read it), ``second_hand`` (True when read in a
        secondary report rather than the original study), ``use`` (always
        ``"context only, not comparable, never used in ROI"``). ``DataFrame.attrs["label"]``
        carries the same label.
    """
    df = pd.DataFrame(_BENCHMARKS)
    df["use"] = CONTEXT_LABEL
    df = df[BENCHMARK_COLUMNS].astype(
        {"value": float, "control_group": bool, "second_hand": bool, "year": "Int64"}
    )
    df.attrs["label"] = CONTEXT_LABEL
    return df


def replacement_cost_benchmarks() -> pd.DataFrame:
    """Sources of the replacement-cost assumption used by :mod:`rm_analytics.roi`.

    Returns
    -------
    pandas.DataFrame
        Columns ``source, figure, share_low, share_high`` (cost of one leaver as a share of
        annual salary; 6-9 months = 0.5-0.75), ``basis``, ``year``, ``used_in_roi`` (the role
        the figure plays: default, sensitivity range or not used), ``reported_in``.
    """
    df = pd.DataFrame(_REPLACEMENT)[REPLACEMENT_COLUMNS]
    return df.astype({"share_low": float, "share_high": float, "year": "Int64"})
