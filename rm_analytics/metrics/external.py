"""External benchmarks, with provenance: context only, not comparable, never used in ROI.

Two small curated tables:

* :func:`external_benchmarks` -- published figures about reverse mentoring and the retention
  of young employees. **Context only**: none comes with a control group, a comparable
  population or a stated horizon, so none can be compared with this pilot's estimate, and
  none is ever used in the ROI. Shown in the report under a label saying so.
* :func:`replacement_cost_benchmarks` -- the sources of the replacement-cost assumption
  that :mod:`rm_analytics.roi` *does* use (the 21% default and the 0.5-2x sensitivity range).

Every row names the publication the figure was read in (``citation``: author, year, title,
publisher) and whether that publication is the original study or a second-hand report of it.
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
    "citation",
    "reported_in",
    "second_hand",
    "use",
]

_HBR_2019 = (
    "Jordan, J. & Sorell, M. (2019). Why Reverse Mentoring Works and How to Do It Right. "
    "Harvard Business Review, 3 October 2019"
)
_DELOITTE_2018 = (
    "Deloitte (2018). 2018 Deloitte Millennial Survey: Millennials disappointed in business, "
    "unprepared for Industry 4.0. Deloitte Touche Tohmatsu"
)

_BENCHMARKS = [
    {
        "benchmark": "Pershing (BNY Mellon) reverse mentoring: retention of millennial mentors",
        "figure": "96% retention among the first cohort of millennial mentors",
        "value": 0.96,
        "unit": "retention share",
        "population": "millennial employees who took part as mentors (first cohort)",
        "sample": "one cohort; size, horizon and baseline retention not reported",
        "control_group": False,
        "year": 2019,
        "source": "BNY Mellon's Pershing, as reported by Jordan and Sorell",
        "citation": _HBR_2019,
        "reported_in": (
            f"{_HBR_2019} (case description; the firm's own figure, no study design "
            "published); repeated by mentoring-software vendors' articles"
        ),
        "second_hand": True,
    },
    {
        "benchmark": "Deloitte Millennial Survey 2018: intention to leave (millennials)",
        "figure": "43% of millennials expected to leave their job within two years",
        "value": 0.43,
        "unit": "share intending to leave within 2 years",
        "population": "millennial workers surveyed (stated intention, not observed exits)",
        "sample": "10,455 millennials in 36 countries (survey)",
        "control_group": False,
        "year": 2018,
        "source": "Deloitte Millennial Survey 2018 (the seventh annual survey)",
        "citation": _DELOITTE_2018,
        "reported_in": _DELOITTE_2018,
        "second_hand": False,
    },
    {
        "benchmark": "Deloitte Millennial Survey 2018: intention to leave (Gen Z)",
        "figure": "61% of employed Gen Z respondents expected to leave within two years",
        "value": 0.61,
        "unit": "share intending to leave within 2 years",
        "population": "employed Gen Z respondents (stated intention, not observed exits)",
        "sample": "1,844 Gen Z respondents in six countries (survey)",
        "control_group": False,
        "year": 2018,
        "source": "Deloitte Millennial Survey 2018",
        "citation": _DELOITTE_2018,
        "reported_in": _DELOITTE_2018,
        "second_hand": False,
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
        "reported_in": (
            "Boushey, H. & Glynn, S. J. (2012). There Are Significant Business Costs to "
            "Replacing Employees. Center for American Progress, 16 November 2012"
        ),
    },
    {
        "source": "Gallup: McFeely, S. & Wigert, B. (2019)",
        "figure": "0.5 to 2 times annual salary",
        "share_low": 0.5,
        "share_high": 2.0,
        "basis": "Gallup's stated conservative range; no case studies published with it",
        "year": 2019,
        "used_in_roi": "sensitivity range (tornado)",
        "reported_in": (
            "McFeely, S. & Wigert, B. (2019). This Fixable Problem Costs U.S. Businesses $1 "
            "Trillion. Gallup, March 2019"
        ),
    },
    {
        "source": "SHRM (as commonly quoted)",
        "figure": "6 to 9 months of salary",
        "share_low": 0.5,
        "share_high": 0.75,
        "basis": "commonly quoted range; no primary study identified",
        "year": pd.NA,
        "used_in_roi": "not used (context)",
        "reported_in": "commonly attributed to SHRM; no primary study identified",
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
        ``year`` (year of the publication), ``source`` (who produced the figure),
        ``citation`` (the publication, as a reference: author, year, title, publisher),
        ``reported_in`` (where it was read, with what kind of evidence it is),
        ``second_hand`` (True when the publication reports another organisation's own figure
        rather than a study of its own), ``use`` (always
        ``"context only, not comparable, never used in ROI"``). ``DataFrame.attrs["label"]``
        carries the same label.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> bench = rm.external_benchmarks()
    >>> print(bench[["value", "year"]].to_string(index=False))
     value  year
      0.96  2019
      0.43  2018
      0.61  2018
    >>> print(bench.benchmark.iloc[0])
    Pershing (BNY Mellon) reverse mentoring: retention of millennial mentors

    Context only: these figures come from other programmes and never enter the ROI.
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

    Examples
    --------
    >>> from rm_analytics.metrics.external import replacement_cost_benchmarks
    >>> bench = replacement_cost_benchmarks()
    >>> print(bench[["share_low", "share_high", "used_in_roi"]].to_string(index=False))
     share_low  share_high                             used_in_roi
          0.21        0.21 default replacement cost (conservative)
          0.50        2.00             sensitivity range (tornado)
          0.50        0.75                      not used (context)

    The default replacement cost is the conservative 21% of a year's salary; 0.5 to 2 times a
    salary bounds the sensitivity analysis.
    """
    df = pd.DataFrame(_REPLACEMENT)[REPLACEMENT_COLUMNS]
    return df.astype({"share_low": float, "share_high": float, "year": "Int64"})
