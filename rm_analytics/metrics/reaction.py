"""Reaction (Kirkpatrick level 1): the short feedback form.

Ratings (progress against the SMART goal, psychological safety in the relationship; 1-5) as
means with t intervals, the share who would recommend the program with a Wilson interval, and
the number of free-text answers per item. Free text never enters the aggregate output;
:func:`feedback_text` returns it for the program lead's view only. Every figure carries its
``n``; hiding small groups from sponsors is the report's privacy policy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InsufficientDataError
from ..results import Note, Result, tidy
from ..stats.intervals import mean_ci, wilson_ci
from ._inputs import as_frame, deprecated_min_cell_size

COLUMNS = ["metric", "item", "estimate", "ci_low", "ci_high", "p_value", "n"]


class ReactionResult(Result):
    """Feedback-form summary.

    ``summary`` columns: ``metric`` (``mean`` for ratings, ``share_yes`` for recommend,
    ``text_answers`` for free-text items: the count of non-blank answers), the ``by``
    columns, ``item``, ``estimate, ci_low, ci_high, p_value`` (NaN: descriptive), ``n``
    (respondents answering the item; for text items, respondents of the group).
    """

    title = "Participant feedback"

    def plot(self, ax=None):
        import matplotlib.pyplot as plt

        from ..plotting.errorbars import error_bars

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        s = self.summary[self.summary.metric.eq("mean")].reset_index(drop=True)
        by = self.arguments.get("by") or []
        labels = [" / ".join([str(r[c]) for c in by] + [str(r["item"])]) for _, r in s.iterrows()]
        y = np.arange(len(s))
        err = error_bars(s.estimate, s.ci_low, s.ci_high)
        ax.errorbar(s.estimate, y, xerr=err, fmt="o", capsize=3)
        ax.set_yticks(y, labels)
        ax.set_xlim(1, 5)
        ax.invert_yaxis()
        ax.set_xlabel("mean rating (1-5, 95% CI)")
        ax.set_title(self.title)
        return ax


def _filter(data: pd.DataFrame, survey: str | None) -> pd.DataFrame:
    as_frame(data)
    if survey is not None and "survey" in data.columns:
        return data[data["survey"].eq(survey).to_numpy()]
    return data


def feedback_summary(
    data: pd.DataFrame,
    *,
    respondent: str = "respondent_id",
    item: str = "item",
    value: str = "value",
    text: str = "text",
    ratings: tuple[str, ...] = ("progress", "safety"),
    recommend: str | None = "recommend",
    text_items: tuple[str, ...] = ("worked", "improve"),
    by: str | list[str] | None = "wave",
    survey: str | None = "feedback",
    alpha: float = 0.05,
    min_cell_size: int | None = None,
) -> ReactionResult:
    """Aggregate the feedback form.

    Parameters
    ----------
    data
        Long answers (``surveys`` layout); rows of other instruments are ignored when a
        ``survey`` column exists.
    ratings
        1-5 rating items, summarised as means with t intervals.
    recommend
        Yes/no item (1/0), summarised as the share of yes with a Wilson interval.
    text_items
        Free-text items: only the count of non-blank answers is reported.
    by
        Column(s) to report separately (default ``wave``; None for one overall set of rows).
    min_cell_size
        Deprecated and ignored: every row is computed with its ``n`` (the sponsor report's
        privacy policy hides small groups).

    Returns
    -------
    ReactionResult

    Examples
    --------
    >>> import rm_analytics as rm
    >>> res = rm.feedback_summary(rm.load_sample().surveys, by=None)
    >>> cols = ["metric", "item", "estimate", "ci_low", "ci_high", "n"]
    >>> print(res.summary[cols].round(3).to_string(index=False))
          metric      item  estimate  ci_low  ci_high   n
            mean  progress     3.481   3.312    3.650 104
            mean    safety     3.981   3.863    4.099 104
       share_yes recommend     0.817   0.732    0.880 104
    text_answers    worked    61.000     NaN      NaN  68
    text_answers   improve    48.000     NaN      NaN  68

    82% of the answers would recommend the program; the text rows count answers, not shares.
    """
    deprecated_min_cell_size(min_cell_size, "feedback_summary")
    df = _filter(data, survey)
    by_cols = [by] if isinstance(by, str) else list(by or [])
    need = [respondent, item, value, *by_cols]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise KeyError(f"data has no column(s) {', '.join(map(repr, missing))}")
    notes: list[str] = []
    df = df.assign(_item=df[item].astype(str))
    groups = df.groupby(by_cols, observed=True, sort=True) if by_cols else [((), df)]
    rows = []
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        lab = dict(zip(by_cols, key, strict=True))
        n_resp = int(g[respondent].nunique())
        for it in ratings:
            v = g.loc[g._item.eq(it), value].dropna().to_numpy(float)
            m, lo, hi, n = mean_ci(v, alpha=alpha)
            rows.append(
                {
                    **lab,
                    "item": it,
                    "metric": "mean",
                    "estimate": m,
                    "ci_low": lo,
                    "ci_high": hi,
                    "p_value": np.nan,
                    "n": n,
                }
            )
        if recommend is not None:
            v = g.loc[g._item.eq(recommend), value].dropna().to_numpy(float)
            k, n = float((v == 1).sum()), len(v)
            lo, hi = wilson_ci(k, n, alpha)
            rows.append(
                {
                    **lab,
                    "item": recommend,
                    "metric": "share_yes",
                    "estimate": k / n if n else np.nan,
                    "ci_low": lo,
                    "ci_high": hi,
                    "p_value": np.nan,
                    "n": n,
                }
            )
        for it in text_items:
            sub = g[g._item.eq(it)]
            t = sub[text] if text in sub.columns else sub[value]
            answered = t.astype("string").str.strip().fillna("").ne("")
            rows.append(
                {
                    **lab,
                    "item": it,
                    "metric": "text_answers",
                    "estimate": float(answered.sum()),
                    "ci_low": np.nan,
                    "ci_high": np.nan,
                    "p_value": np.nan,
                    "n": n_resp,
                }
            )
    summary = tidy(pd.DataFrame(rows).reindex(columns=[*by_cols, *COLUMNS]), [*by_cols, "item"])
    if summary.empty:
        raise InsufficientDataError(
            "no feedback answers" + (f" in survey {survey!r}" if survey else "")
        )
    summary["n"] = summary["n"].astype("int64")
    notes.insert(
        0,
        Note(
            "Ratings 1-5: mean with t interval; recommend: share answering yes with a Wilson "
            "interval; free-text items: number of answers only (the text goes to the program "
            "lead).",
            "method",
        ),
    )
    return ReactionResult(summary, notes, by=by_cols)


def feedback_text(
    data,
    *,
    item: str = "item",
    text: str = "text",
    value: str = "value",
    text_items: tuple[str, ...] = ("worked", "improve"),
    survey: str | None = "feedback",
    keep: tuple[str, ...] = ("wave", "pair_id"),
) -> pd.DataFrame:
    """The free-text answers, for the **program lead's view only** (never for sponsors).

    ``data`` is a DataFrame in the ``surveys`` layout or a :class:`~rm_analytics.Pilot`.
    Returns ``keep`` columns (default wave and pair id, when present), ``item`` and ``text``;
    respondent ids are not included.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> from rm_analytics.metrics.reaction import feedback_text
    >>> text = feedback_text(rm.load_sample().surveys)
    >>> print(text.head(3).to_string(index=False))
        wave pair_id   item                                                            text
    midpoint C01-P02 worked                               The weekly rhythm made it a habit
    midpoint C01-P04 worked                               The weekly rhythm made it a habit
    midpoint C01-P07 worked Honest conversations about how decisions land with junior staff
    """
    if hasattr(data, "surveys") and not isinstance(data, pd.DataFrame):
        data.require("surveys", purpose="the feedback text")
        data = data.surveys
    df = _filter(data, survey)
    sub = df[df[item].astype(str).isin(text_items).to_numpy()]
    t = sub[text] if text in sub.columns else sub[value]
    t = t.astype("string").str.strip()
    ok = t.fillna("").ne("").to_numpy()
    cols = [c for c in keep if c in sub.columns]
    out = sub.loc[ok, cols].copy()
    out["item"] = sub.loc[ok, item].astype(str).to_numpy()
    out["text"] = t[ok].to_numpy()
    return out.reset_index(drop=True)


def pilot_reaction(
    pilot,
    *,
    by: str | list[str] | None = "wave",
    **kwargs,
) -> ReactionResult:
    """:func:`feedback_summary` on a pilot's feedback answers.

    ``by`` may include ``"role"`` (mentor / mentee, from the pair the answer is about).

    Examples
    --------
    >>> import rm_analytics as rm
    >>> res = rm.pilot_reaction(rm.load_sample())
    >>> cols = ["metric", "wave", "item", "estimate", "ci_low", "ci_high", "n"]
    >>> print(res.summary[cols].head(5).round(3).to_string(index=False))
          metric     wave      item  estimate  ci_low  ci_high  n
            mean midpoint  progress     3.517   3.301    3.732 60
            mean midpoint    safety     3.967   3.802    4.131 60
       share_yes midpoint recommend     0.800   0.682    0.882 60
    text_answers midpoint    worked    34.000     NaN      NaN 60
    text_answers midpoint   improve    28.000     NaN      NaN 60
    """
    pilot.require("surveys", purpose="the feedback summary")
    sv = pilot.surveys
    sv = sv[sv["survey"].eq(kwargs.get("survey", "feedback")).to_numpy()]
    by_cols = [by] if isinstance(by, str) else list(by or [])
    if "role" in by_cols:
        part = pilot.participants("both")[["employee_id", "pair_id", "role"]]
        sv = sv.merge(
            part.rename(columns={"employee_id": "respondent_id"}),
            on=["respondent_id", "pair_id"],
            how="left",
        )
        sv["role"] = sv["role"].fillna("unknown")
    return feedback_summary(sv, by=by_cols or None, **kwargs)
