"""Pre/post skills (Kirkpatrick level 2): paired change, effect sizes, control comparison.

Effect sizes (Lakens 2013, *Frontiers in Psychology* 4:863), for n pairs with differences
``d_i = post_i - pre_i``:

* ``cohen_dz = mean(d) / sd(d)`` (standardised by the SD of the differences; the effect size
  the paired t-test's power depends on: ``t = d_z * sqrt(n)``);
* ``hedges_g_av = J * mean(d) / ((sd_pre + sd_post) / 2)`` (Cohen's d_av, standardised by the
  average of the pre and post SDs, so comparable with between-group d), with Hedges' exact
  small-sample correction ``J = Gamma(df / 2) / (sqrt(df / 2) Gamma((df - 1) / 2))`` and
  ``df = n - 1`` (metafor's; ``1 - 3 / (4 df - 1)`` is its approximation). With 2 pairs
  (df = 1) no correction exists (J would be 0, whatever the change): g_av is then NaN.

Normalised gain (Hake 1998) is the class-average form ``(mean_post - mean_pre) /
(scale_max - mean_pre)``: the share of the possible improvement that was realised.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InsufficientDataError
from ..results import Note, Result, tidy
from ._inputs import as_frame, deprecated_min_cell_size, need_columns


class PrePostResult(Result):
    """Paired pre/post change per group.

    ``summary`` columns: ``metric`` (``change``), the ``by`` columns, then ``estimate``
    (= mean change), ``ci_low,
    ci_high, p_value`` (paired t), ``n`` (complete pairs), ``n_excluded`` (ids with only one
    phase), ``mean_pre, mean_post, mean_change, t, wilcoxon_p, cohen_dz, hedges_g_av,
    normalized_gain, pct_improved``.
    """

    title = "Pre/post change"

    def plot(self, ax=None):
        import matplotlib.pyplot as plt

        from ..plotting.errorbars import error_bars

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        s = self.summary.reset_index(drop=True)
        by = self.arguments.get("by") or []
        labels = s[by].astype(str).agg(" / ".join, axis=1).tolist() if by else ["all"] * len(s)
        y = np.arange(len(s))
        err = error_bars(s.estimate, s.ci_low, s.ci_high)
        ax.errorbar(s.estimate, y, xerr=err, fmt="o", capsize=3)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_yticks(y, labels)
        ax.invert_yaxis()
        ax.set_xlabel("mean change, post - pre (95% CI)")
        ax.set_title(self.title)
        return ax


PREPOST_COLUMNS = [
    "estimate",
    "ci_low",
    "ci_high",
    "p_value",
    "n",
    "n_excluded",
    "mean_pre",
    "mean_post",
    "mean_change",
    "t",
    "wilcoxon_p",
    "cohen_dz",
    "hedges_g_av",
    "normalized_gain",
    "pct_improved",
]


def wilcoxon_signed_rank_p(d: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value with R's ``wilcox.test`` conventions.

    Zero differences are dropped; the exact null distribution is used when fewer than 50
    differences remain and there were neither zeros nor tied absolute differences, otherwise
    the normal approximation with continuity correction (and the tie-corrected variance), as
    ``wilcox.test(d)`` with its defaults (``exact = NULL, correct = TRUE``) does.

    Examples
    --------
    >>> import numpy as np
    >>> from rm_analytics.metrics.skills import wilcoxon_signed_rank_p
    >>> round(wilcoxon_signed_rank_p(np.array([1.0, 2.0, 0.5, 3.0, -0.5, 1.5])), 3)
    0.074
    """
    d = np.asarray(d, dtype=float)
    d = d[np.isfinite(d)]
    zeros = bool((d == 0).any())
    d = d[d != 0]
    if d.size == 0:
        return float("nan")
    ties = np.unique(np.abs(d)).size < d.size
    method = "exact" if d.size < 50 and not ties and not zeros else "approx"
    res = stats.wilcoxon(d, zero_method="wilcox", correction=True, method=method)
    return float(res.pvalue)


def _paired_stats(pre: np.ndarray, post: np.ndarray, *, scale_max, mcid, alpha) -> dict:
    n = len(pre)
    d = post - pre
    nan = float("nan")
    out = dict.fromkeys(PREPOST_COLUMNS, nan)
    out["n"] = n
    if n == 0:
        return out
    m_pre, m_post, m = float(pre.mean()), float(post.mean()), float(d.mean())
    out.update(mean_pre=m_pre, mean_post=m_post, mean_change=m, estimate=m)
    thr = mcid if mcid is not None else None
    out["pct_improved"] = float(100 * np.mean(d >= thr if thr is not None else d > 0))
    if scale_max is not None and np.isfinite(scale_max) and scale_max > m_pre:
        out["normalized_gain"] = (m_post - m_pre) / (scale_max - m_pre)
    if n < 2:
        return out
    sd_d = float(d.std(ddof=1))
    se = sd_d / np.sqrt(n)
    q = stats.t.ppf(1 - alpha / 2, n - 1)
    notes = []
    if sd_d > 1e-12 * max(1.0, abs(m)):
        t = m / se
        out.update(
            ci_low=m - q * se,
            ci_high=m + q * se,
            t=t,
            p_value=float(2 * stats.t.sf(abs(t), n - 1)),
            cohen_dz=m / sd_d,
        )
    else:  # no interval of zero width: R's t.test stops ("data are essentially constant")
        notes.append(
            f"all {n} changes are equal ({m:+.3g}): with no variation in the changes there is "
            "no paired-t interval, t-test or d_z (a zero-width interval would claim certainty)"
        )
    sd_av = (pre.std(ddof=1) + post.std(ddof=1)) / 2
    if sd_av > 0:
        j = hedges_j(n - 1)
        out["hedges_g_av"] = j * m / sd_av
        if not np.isfinite(j):
            notes.append(
                "hedges_g_av needs at least 3 pairs: Hedges' correction does not exist with "
                "df = 1 (it would be 0 whatever the change); see cohen_dz"
            )
    out["wilcoxon_p"] = wilcoxon_signed_rank_p(d)
    out["_notes"] = notes
    return out


def hedges_j(df: float) -> float:
    """Hedges' exact small-sample correction ``Gamma(df/2) / (sqrt(df/2) Gamma((df-1)/2))``.

    As R's ``metafor:::.cmicalc``: NaN for df <= 1, where no finite unbiasing factor exists.

    Examples
    --------
    >>> from rm_analytics.metrics.skills import hedges_j
    >>> round(hedges_j(10), 4)
    0.9227

    Cohen's d from 10 degrees of freedom shrinks by about 8% to Hedges' g.
    """
    if not df > 1:
        return float("nan")
    from scipy.special import gammaln

    return float(np.exp(gammaln(df / 2) - 0.5 * np.log(df / 2) - gammaln((df - 1) / 2)))


def prepost(
    data: pd.DataFrame,
    *,
    id: str,
    phase: str,
    score: str,
    pre="pre",
    post="post",
    by: str | list[str] | None = None,
    scale: tuple[float, float] | None = None,
    mcid: float | None = None,
    alpha: float = 0.05,
) -> PrePostResult:
    """Paired pre/post comparison: mean change with a t CI, paired t, Wilcoxon, effect sizes.

    Parameters
    ----------
    data
        Long data: one row per id and phase (within each ``by`` group).
    id, phase, score
        Column names: person (or pair) id, phase (values ``pre`` / ``post``), numeric score.
    by
        Column(s) to report separately (one row each).
    scale
        (minimum, maximum) of the score scale, for the normalised gain (NaN without it).
    mcid
        Minimal important difference: ``pct_improved`` is the percentage of ids whose change is
        at least ``mcid``; without it, the percentage whose score went up at all.
    alpha
        1 - confidence level.

    Returns
    -------
    PrePostResult
        ``summary`` with one row per ``by`` group and columns ``metric`` (``change``), the
        ``by`` columns, ``estimate`` (mean change),
        ``ci_low, ci_high`` (t interval of the mean change), ``p_value`` (paired t-test),
        ``n`` (ids with both phases), ``n_excluded`` (ids with only one), ``mean_pre``,
        ``mean_post``, ``mean_change``, ``t``, ``wilcoxon_p`` (Wilcoxon signed-rank, zero
        differences dropped, exact for small samples without zeros or ties, else the normal
        approximation with continuity correction as R's ``wilcox.test``), ``cohen_dz`` (mean
        change / SD of changes), ``hedges_g_av`` (mean change / mean of pre and post SDs, times
        Hedges' exact J with df = n - 1; NaN with 2 pairs), ``normalized_gain`` (Hake's class-average gain), ``pct_improved`` (0-100).

    Notes
    -----
    Regression to the mean and retest effects inflate a pre/post change; a control group's
    change removes them (see :func:`pilot_skills`). When every change is the same there is no
    interval, t-test or d_z (R's ``t.test`` stops: "data are essentially constant"); a note
    says so.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> skills = rm.load_sample().skills
    >>> ai = skills[skills.skill.eq("generative_ai")]
    >>> res = rm.prepost(ai, id="employee_id", phase="phase", score="score", scale=(1, 10))
    >>> cols = ["metric", "estimate", "ci_low", "ci_high", "p_value", "n", "hedges_g_av"]
    >>> print(res.summary[cols].round(3).to_string(index=False))
    metric  estimate  ci_low  ci_high  p_value  n  hedges_g_av
    change     2.143   1.659    2.626      0.0 21        1.354

    The mentees rated their generative-AI skill 2.1 points higher after the cohort than before.
    """
    by_cols = [by] if isinstance(by, str) else list(by or [])
    need_columns(as_frame(data), [id, phase, score, *by_cols])
    if not pd.api.types.is_numeric_dtype(data[score]):
        raise TypeError(f"score column {score!r} must be numeric")
    ph = data[phase].astype(object)
    bad = ~ph.isin([pre, post]) & ph.notna()
    if bad.any():
        raise ValueError(
            f"column {phase!r} has values other than {pre!r} and {post!r}: "
            + ", ".join(map(str, pd.unique(ph[bad])[:5]))
        )
    if scale is not None and not (len(scale) == 2 and scale[0] < scale[1]):
        raise ValueError(f"scale must be (minimum, maximum) with minimum < maximum, not {scale}")
    notes: list[str] = []
    df = data[[id, phase, score, *by_cols]].copy()
    df[phase] = ph.to_numpy()
    n_missing_score = int(df[score].isna().sum())
    df = df.dropna(subset=[score, phase])
    if n_missing_score:
        notes.append(f"{n_missing_score} row(s) without a score were ignored.")
    keys = [*by_cols, id]
    dup = df.duplicated([*keys, phase])
    if dup.any():
        raise ValueError(
            f"{int(dup.sum())} duplicate {id}/{phase} row(s)"
            + (f" within {', '.join(by_cols)}" if by_cols else "")
            + ": give one score per id and phase (average several skills first, or pass by=)"
        )
    wide = df.pivot_table(index=keys, columns=phase, values=score, observed=True, aggfunc="first")
    wide = wide.reindex(columns=[pre, post])
    complete = wide.notna().all(axis=1)
    rows = []
    lvl = by_cols[0] if len(by_cols) == 1 else by_cols
    groups = wide.groupby(level=lvl, observed=True) if by_cols else [((), wide)]
    for key, w in groups:
        ok = complete.loc[w.index]
        c = w[ok.to_numpy()]
        r = _paired_stats(
            c[pre].to_numpy(float),
            c[post].to_numpy(float),
            scale_max=scale[1] if scale else None,
            mcid=mcid,
            alpha=alpha,
        )
        r["n_excluded"] = int((~ok).sum())
        key = key if isinstance(key, tuple) else (key,)
        for text in r.pop("_notes", []):
            where = " / ".join(map(str, key))
            message = f"{where}: {text}." if by_cols else text[0].upper() + text[1:] + "."
            notes.append(Note(message, "not_estimable"))
        rows.append({**dict(zip(by_cols, key, strict=True)), **r})
    summary = pd.DataFrame(rows).reindex(columns=[*by_cols, *PREPOST_COLUMNS])
    summary.insert(0, "metric", "change")
    summary["n"] = summary["n"].astype("int64")
    summary["n_excluded"] = summary["n_excluded"].astype("int64")
    n_exc = int(summary["n_excluded"].sum())
    if n_exc:
        notes.append(
            Note(
                f"{n_exc} id(s) with only a pre or only a post score were excluded from the "
                "paired comparison.",
                "excluded_rows",
            )
        )
    notes.insert(
        0,
        Note(
            "Mean change with a paired-t interval; effect sizes: cohen_dz = mean change / SD "
            "of changes; hedges_g_av = mean change / average of pre and post SDs, with Hedges' "
            "exact correction (Lakens 2013)."
            + ("" if scale else " No scale given: normalised gain not computed."),
            "method",
        ),
    )
    return PrePostResult(summary, notes, by=by_cols, mcid=mcid, alpha=alpha)


# ---------------------------------------------------------------------------------------------


class SkillsResult(Result):
    """Pre/post skills of a pilot's mentees and mentors, and the comparison with controls.

    ``summary`` columns: ``metric`` ("change" for the paired pre/post change of the role;
    "change_vs_control" for the difference between the role's mean change and the control
    group's mean change), ``role`` (mentee, mentor, control), ``skills`` (skills averaged),
    ``estimate, ci_low, ci_high, p_value, n`` and the :func:`prepost` columns for "change"
    rows; ``se``, ``df``, ``n_control`` for "change_vs_control" rows.
    """

    title = "Skills (pre/post)"

    def plot(self, ax=None, *, hidden=None):
        """One row per group and comparison with its interval. ``hidden`` (booleans, one per
        row of ``summary``) draws those rows as hidden (the report's privacy policy)."""
        import matplotlib.pyplot as plt

        from ..plotting.errorbars import error_bars
        from ..plotting.hidden import hidden_row

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        hide = np.zeros(len(self.summary), bool) if hidden is None else np.asarray(hidden, bool)
        keep = self.summary.estimate.notna().to_numpy() | hide
        s = self.summary[keep].reset_index(drop=True)
        hide = hide[keep]
        y = np.arange(len(s))
        shown = s[~hide]
        err = error_bars(shown.estimate, shown.ci_low, shown.ci_high)
        ax.errorbar(shown.estimate, y[~hide], xerr=err, fmt="o", capsize=3)
        for yi in y[hide]:
            hidden_row(ax, yi)
        ax.axvline(0, color="grey", lw=0.8)
        words = [
            f"{ROLE_WORDS.get(r, r)} ({m.replace('_', ' ')})"
            for r, m in zip(s.role, s.metric, strict=True)
        ]
        ax.set_yticks(y, words)
        ax.invert_yaxis()
        ax.set_xlabel("skill points (95% CI)")
        ax.set_title(self.title)
        return ax


#: A role in the words of notes and figure labels.
ROLE_WORDS = {"mentee": "mentees", "mentor": "mentors", "control": "control"}


def welch_difference(a, b, alpha: float = 0.05) -> dict[str, float]:
    """Difference of means ``mean(a) - mean(b)`` with Welch's t interval and test.

    Returns estimate, se, ci_low, ci_high, p_value, df, n_a, n_b (NaN inference when either
    group has fewer than two values).

    Examples
    --------
    >>> from rm_analytics.metrics.skills import welch_difference
    >>> res = welch_difference([2.0, 3.0, 2.5, 4.0], [1.0, 1.5, 2.0, 1.0])
    >>> {k: round(float(res[k]), 3) for k in ("estimate", "ci_low", "ci_high", "df")}
    {'estimate': 1.5, 'ci_low': 0.219, 'ci_high': 2.781, 'df': 4.716}

    Welch's interval does not assume equal variances, hence the fractional degrees of freedom.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    nan = float("nan")
    out = {
        "estimate": nan,
        "se": nan,
        "ci_low": nan,
        "ci_high": nan,
        "p_value": nan,
        "df": nan,
        "n_a": len(a),
        "n_b": len(b),
    }
    if len(a) == 0 or len(b) == 0:
        return out
    est = float(a.mean() - b.mean())
    out["estimate"] = est
    if len(a) < 2 or len(b) < 2:
        return out
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = float(np.sqrt(va + vb))
    if se == 0:
        return out
    df = float((va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)))
    q = stats.t.ppf(1 - alpha / 2, df)
    t = est / se
    out.update(
        se=se,
        ci_low=est - q * se,
        ci_high=est + q * se,
        df=df,
        p_value=float(2 * stats.t.sf(abs(t), df)),
    )
    return out


def _person_scores(sk: pd.DataFrame, ids: set[str]) -> tuple[pd.DataFrame, list[str], int]:
    """Per person and phase: mean over the skills the person was assessed on in both phases.

    Returns (long frame employee_id/phase/score, skills, persons with a pre but no post)."""
    s = sk[sk.employee_id.isin(ids)]
    if s.empty:
        return pd.DataFrame(columns=["employee_id", "phase", "score"]), [], 0
    wide = s.pivot_table(
        index=["employee_id", "skill"],
        columns="phase",
        values="score",
        observed=True,
        aggfunc="mean",
    )
    wide = wide.reindex(columns=["pre", "post"])
    both = wide.dropna()
    persons_any = set(wide.index.get_level_values(0))
    persons_both = set(both.index.get_level_values(0))
    per = both.groupby(level=0).mean()
    long = per.reset_index().melt(id_vars="employee_id", var_name="phase", value_name="score")
    skills = sorted(set(both.index.get_level_values(1).astype(str)))
    return long, skills, len(persons_any - persons_both)


def pilot_skills(
    pilot,
    *,
    rater: str = "self",
    mcid: float | None = None,
    alpha: float = 0.05,
    min_cell_size: int | None = None,
) -> SkillsResult:
    """Pre/post skills of mentees and mentors, and the change relative to the control group.

    * Each person's score in a phase is the **mean over the skills they were assessed on in
      both phases** (so a missing skill does not change the mix), from one ``rater``
      (blank rater = self).
    * Mentees (typically digital skills) and mentors (typically leadership skills) are
      reported separately with :func:`prepost` on the person scores.
    * When designated controls were assessed on the same skills as a role, the
      **difference-in-differences of the change** is reported: mean change of the role minus
      mean change of the controls, with Welch's two-sample t interval on the person change
      scores. This removes retest effects and regression to the mean that a pre/post change
      alone includes.
    * People with a pre but no post assessment are excluded, counted and logged on the pilot.
      Every row carries its ``n`` (and ``n_control``); hiding small groups from sponsors is
      the report's privacy policy (``min_cell_size`` is deprecated and ignored).

    Returns
    -------
    SkillsResult
        See the class for the columns.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> res = rm.pilot_skills(rm.load_sample())
    >>> cols = ["metric", "role", "estimate", "ci_low", "ci_high", "p_value", "n"]
    >>> print(res.summary[cols].round(3).to_string(index=False))
               metric    role  estimate  ci_low  ci_high  p_value  n
               change  mentee     2.153   1.906    2.400      0.0 24
               change  mentor     1.500   1.202    1.798      0.0 22
               change control     0.552   0.360    0.744      0.0 48
    change_vs_control  mentor     0.948   0.600    1.296      0.0 22

    Self-rated skills (1-10) rose for everyone assessed twice, the control included (0.55: a
    retest effect); the mentors' gain beyond the control's is 0.95 points.
    """
    deprecated_min_cell_size(min_cell_size, "pilot_skills")
    pilot.require("skills", purpose="the skills analysis")
    sk = pilot.skills.copy()
    if "rater" in sk.columns:
        r = sk["rater"].astype(object).where(sk["rater"].notna(), "self")
        other = ~r.eq(rater)
        if other.any():
            pilot.log_quality(
                "skills",
                "skills",
                f"rater other than {rater}",
                int(other.sum()),
                "ignored",
                "analysis uses one rater",
            )
        sk = sk[~other.to_numpy()]
    if sk.empty:
        raise InsufficientDataError(f"no skill assessments by rater {rater!r}")
    sk = sk.assign(
        employee_id=sk.employee_id.astype(str),
        skill=sk.skill.astype(str),
        phase=sk.phase.astype(str),
    )
    part = pilot.participants("both")
    groups = {
        "mentee": set(part.employee_id[part.role.eq("mentee")].astype(str)),
        "mentor": set(part.employee_id[part.role.eq("mentor")].astype(str)),
    }
    if pilot.control is not None and len(pilot.control):
        groups["control"] = set(pilot.control.employee_id.astype(str)) - set(
            part.employee_id.astype(str)
        )
    notes: list[str | Note] = [
        Note(
            "A person's score is the mean over the skills assessed both before and after; "
            f"ratings by {rater!r}. Change = post - pre on the assessment scale.",
            "method",
        )
    ]
    rows, changes, skills_of = [], {}, {}
    for role, ids in groups.items():
        who = ROLE_WORDS[role]
        long, skills, n_nopost = _person_scores(sk, ids)
        if n_nopost:
            pilot.log_quality(
                "skills",
                "skills",
                f"{who}: no post assessment",
                n_nopost,
                "excluded",
                "person has a pre but no post score",
            )
        if long.empty:
            if role != "control":
                notes.append(
                    Note(f"No {who} with both a pre and a post assessment.", "missing_data")
                )
            continue
        sub = sk[sk.employee_id.isin(ids) & sk.skill.isin(skills)]
        scale = (float(sub.scale_min.min()), float(sub.scale_max.max()))
        if sub.scale_max.nunique() > 1 or sub.scale_min.nunique() > 1:
            notes.append(
                Note(
                    f"{who}: skills on different scales; normalised gain uses the widest.", "method"
                )
            )
        pp = (
            prepost(
                long,
                id="employee_id",
                phase="phase",
                score="score",
                scale=scale,
                mcid=mcid,
                alpha=alpha,
            )
            .summary.iloc[0]
            .to_dict()
        )
        pp["n_excluded"] = n_nopost
        wide = long.pivot(index="employee_id", columns="phase", values="score")
        changes[role] = (wide["post"] - wide["pre"]).to_numpy()
        skills_of[role] = set(skills)
        pp.pop("metric", None)
        rows.append({"metric": "change", "role": role, "skills": ", ".join(skills), **pp})
    for role in ("mentee", "mentor"):
        if role not in changes:
            continue
        who = ROLE_WORDS[role].capitalize()
        if "control" not in changes:
            notes.append(
                Note(
                    f"{who}: no assessed control group, so the change includes retest effects "
                    "and regression to the mean.",
                    "assumption",
                )
            )
            continue
        if not skills_of[role] & skills_of["control"]:
            notes.append(
                Note(
                    f"{who}: the control group was not assessed on the same skills, so their "
                    "change includes retest effects and regression to the mean.",
                    "assumption",
                )
            )
            continue
        w = welch_difference(changes[role], changes["control"], alpha=alpha)
        rows.append(
            {
                "metric": "change_vs_control",
                "role": role,
                "skills": ", ".join(sorted(skills_of[role] & skills_of["control"])),
                **{k: w[k] for k in ("estimate", "se", "ci_low", "ci_high", "p_value", "df")},
                "n": w["n_a"],
                "n_control": w["n_b"],
            }
        )
        if skills_of[role] != skills_of["control"]:
            notes.append(
                Note(
                    f"{who} and controls were assessed on partly different skills; the "
                    "comparison uses each person's mean over their own skills.",
                    "method",
                )
            )
    cols = [
        "metric",
        "role",
        "skills",
        *PREPOST_COLUMNS[:6],
        "se",
        "df",
        "n_control",
        *PREPOST_COLUMNS[6:],
    ]
    summary = pd.DataFrame(rows).reindex(columns=cols)
    notes.append(
        Note(
            "Change-vs-control rows: mean change of participants minus mean change of the "
            "designated controls, Welch two-sample t interval on person change scores.",
            "method",
        )
    )
    return SkillsResult(
        tidy(summary, ["role", "skills"]), notes, rater=rater, mcid=mcid, alpha=alpha
    )
