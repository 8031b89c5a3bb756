"""Propensity-score matching and weighting of a control group, balance table and love plot.

Pilots are opt-in, so participants differ from everyone else (performance, tenure, department).
:func:`match_controls` builds a comparable control group from eligible non-participants:

* propensity score: logistic regression (statsmodels) of participation on the covariates
  (numbers as they are, other columns as dummies; plus the matching block, e.g. the cohort);
* ``method="nearest"``: greedy nearest-neighbour matching on the logit of the propensity score,
  ``ratio`` controls per participant, without replacement (a person is used once, across all
  blocks), participants taken from the highest score down (MatchIt's ``m.order="largest"``),
  within a caliper of ``caliper`` (default 0.2) times the pooled standard deviation of the logit
  (sqrt of the mean of the two groups' variances; Austin 2011); exact matching on ``block``
  (e.g. the cohort) and on the ``exact`` covariates (e.g. department: MatchIt's ``exact=``), so
  a participant's controls share those values and the categories balance by construction;
* ``method="ipw"``: weights for the average treatment effect on the treated (ATT): 1 for
  participants, e / (1 - e) for non-participants;
* balance: standardized mean differences (SMD) before and after, with the convention of Austin
  (2009): difference in means divided by sqrt((s_t^2 + s_c^2) / 2) computed in the unmatched
  groups (the same denominator before and after, so a change in SMD is a change in means);
  categorical covariates contribute one row per level (proportions, variance p (1 - p)).

Everything is vectorised except a loop over the participants (dozens to a few thousand), each
step a binary search in the sorted control scores; 100,000 candidates take well under a second.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import InsufficientDataError
from ..results import Note, Result

#: The usual bar for acceptable balance.
SMD_THRESHOLD = 0.1


def _balance_design(frame: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    """Numeric columns as they are, categorical columns as one indicator per level."""
    parts = []
    for c in covariates:
        s = frame[c]
        if pd.api.types.is_numeric_dtype(s) and not isinstance(s.dtype, pd.CategoricalDtype):
            parts.append(s.astype(float).rename(c))
        else:
            cat = s.astype("category").cat.remove_unused_categories()
            parts.append(pd.get_dummies(cat, prefix=c, prefix_sep="=", dtype=float))
    return pd.concat(parts, axis=1) if parts else pd.DataFrame(index=frame.index)


def _wmean_var(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sw = w.sum()
    m = (x * w[:, None]).sum(axis=0) / sw
    v = ((x - m) ** 2 * w[:, None]).sum(axis=0) / sw
    n_eff = sw**2 / (w**2).sum()
    return m, v * n_eff / max(n_eff - 1, 1)


def balance_table(
    data: pd.DataFrame,
    *,
    treatment: str,
    covariates: Sequence[str],
    weights_after: np.ndarray | pd.Series | None = None,
    threshold: float = SMD_THRESHOLD,
) -> pd.DataFrame:
    """Standardized mean differences before and after matching or weighting.

    Parameters
    ----------
    data
        The unmatched groups (treated and every candidate control).
    treatment
        1 for treated, 0 for candidate controls.
    covariates
        Columns to check (categorical columns: one row per level).
    weights_after
        Weight of each row after matching/weighting (0 = not in the matched sample).
    threshold
        |SMD| below which a covariate counts as balanced.

    Returns
    -------
    pandas.DataFrame
        One row per covariate (level): ``metric`` (the covariate, ``name=level`` for a level
        of a categorical one), ``mean_treated, mean_control_before, mean_control_after,
        smd_before, smd_after, balanced`` (``|SMD| < threshold`` after
        matching, or before it when no ``weights_after`` are given). SMD = (mean treated - mean
        control) / sqrt((var treated + var control) / 2), variances from the unmatched groups
        (Austin 2009); treated means after use the treated rows kept.

    Examples
    --------
    >>> import rm_analytics as rm
    >>> from rm_analytics.metrics.matching import balance_table
    >>> frame = rm.cohort_frame(rm.load_sample())
    >>> tab = balance_table(frame, treatment="treated",
    ...                     covariates=["tenure_years", "performance_rating"])
    >>> cols = ["metric", "mean_treated", "mean_control_before", "smd_before", "balanced"]
    >>> print(tab[cols].round(3).to_string(index=False))
                metric  mean_treated  mean_control_before  smd_before  balanced
          tenure_years         2.703                3.602      -0.270     False
    performance_rating         3.833                3.903      -0.075      True

    The mentors had been with the organisation almost a year less than their waitlist
    control: a standardized difference of -0.27, beyond the 0.1 threshold.
    """
    X = _balance_design(data, covariates)
    t = data[treatment].to_numpy() == 1
    x = X.to_numpy(dtype=float)
    ok = ~np.isnan(x)
    xf = np.where(ok, x, np.nanmean(x, axis=0))
    wt, wc = np.ones(t.sum()), np.ones((~t).sum())
    mt, vt = _wmean_var(xf[t], wt)
    mc, vc = _wmean_var(xf[~t], wc)
    sd = np.sqrt((vt + vc) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        smd_b = np.where(sd > 0, (mt - mc) / sd, 0.0)
    out = pd.DataFrame(
        {
            "metric": X.columns,
            "mean_treated": mt,
            "mean_control_before": mc,
            "smd_before": smd_b,
        }
    )
    if weights_after is not None:
        w = np.asarray(weights_after, dtype=float)
        mt_a, _ = _wmean_var(xf[t & (w > 0)], w[t & (w > 0)])
        mc_a, _ = _wmean_var(xf[~t & (w > 0)], w[~t & (w > 0)])
        with np.errstate(divide="ignore", invalid="ignore"):
            smd_a = np.where(sd > 0, (mt_a - mc_a) / sd, 0.0)
        out["mean_treated"] = mt_a
        out["mean_control_after"] = mc_a
        out["smd_after"] = smd_a
    else:
        out["mean_control_after"] = np.nan
        out["smd_after"] = np.nan
    # without matching or weighting the groups compared are the groups as they are
    smd = out.smd_after if weights_after is not None else out.smd_before
    out["balanced"] = smd.abs() < threshold
    return out[
        [
            "metric",
            "mean_treated",
            "mean_control_before",
            "mean_control_after",
            "smd_before",
            "smd_after",
            "balanced",
        ]
    ]


def propensity_logit(
    data: pd.DataFrame, *, treatment: str, covariates: Sequence[str], block: str | None = None
) -> tuple[np.ndarray, list[str]]:
    """Logit of the propensity score from a logistic regression (statsmodels).

    Covariates with missing values are filled with the median (numbers) or an ``"unknown"``
    level, and a missing-indicator column is added. Numeric columns are standardized. When the
    maximum-likelihood fit fails (separation), a lightly ridge-penalised fit is used. Returns
    (logit, notes).

    Examples
    --------
    >>> import rm_analytics as rm
    >>> from rm_analytics.metrics.matching import propensity_logit
    >>> frame = rm.cohort_frame(rm.load_sample())
    >>> logit, notes = propensity_logit(frame, treatment="treated",
    ...                                 covariates=["tenure_years", "performance_rating"])
    >>> logit[:3].round(3)
    array([-1.046, -0.571, -0.429])
    >>> notes
    []

    ``notes`` would say how missing covariates were filled or that a penalised fit was needed.
    """
    import statsmodels.api as sm

    from ..stats.design import design_matrix

    notes: list[str] = []
    d = data[list(covariates) + ([block] if block else [])].copy()
    for c in covariates:
        if d[c].isna().any():
            k = int(d[c].isna().sum())
            d[f"{c}_missing"] = d[c].isna().astype(float)
            if pd.api.types.is_numeric_dtype(d[c]) and not isinstance(
                d[c].dtype, pd.CategoricalDtype
            ):
                d[c] = d[c].fillna(d[c].median())
            else:
                d[c] = d[c].astype("string").fillna("unknown")
            notes.append(
                Note(
                    f"{k} missing {c} value(s) imputed (median/unknown) with an indicator.",
                    "method",
                )
            )
    cols = list(d.columns)
    X = design_matrix(d, cols)
    num = [c for c in X.columns if X[c].nunique() > 2]
    X[num] = (X[num] - X[num].mean()) / X[num].std(ddof=0)
    X = sm.add_constant(X, has_constant="add")
    y = data[treatment].to_numpy(dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fit = sm.Logit(y, X).fit(disp=0, maxiter=100)
            params = fit.params
            if not np.all(np.isfinite(params)) or np.abs(params).max() > 15:
                raise np.linalg.LinAlgError("separation")
        except Exception:
            fit = sm.GLM(y, X, family=sm.families.Binomial()).fit_regularized(alpha=1e-3, L1_wt=0.0)
            params = fit.params
            notes.append(
                Note(
                    "The propensity model showed (quasi-)separation; a lightly ridge-penalised "
                    "logistic regression was used.",
                    "method",
                )
            )
    return X.to_numpy(dtype=float) @ np.asarray(params), notes


def nearest_neighbour(
    logit: np.ndarray,
    treated: np.ndarray,
    *,
    ratio: int = 1,
    caliper: float | None = 0.2,
    block: np.ndarray | None = None,
    unit: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """Greedy k:1 nearest-neighbour matching on ``logit`` without replacement.

    Returns (set id per row, -1 when unmatched; caliper width on the logit scale). A treated row
    is the set id's anchor; its controls carry the treated row's position as set id. ``unit``
    (person id) prevents using the same person twice across blocks.

    Examples
    --------
    >>> import numpy as np
    >>> from rm_analytics.metrics.matching import nearest_neighbour
    >>> logit = np.array([0.1, 0.5, 0.12, 0.4, 2.0, 0.55])
    >>> treated = np.array([1, 1, 0, 0, 0, 0])
    >>> matched_to, caliper = nearest_neighbour(logit, treated, caliper=None)
    >>> matched_to
    array([ 0,  1,  0, -1, -1,  1])
    >>> caliper
    inf

    Each row's match set is the position of its treated row (-1: unmatched): the controls at
    0.12 and 0.55 were matched to the treated rows at 0.1 and 0.5. Without a caliper its width
    is infinite.
    """
    n = logit.size
    t = np.asarray(treated) == 1
    blk = np.zeros(n, dtype=np.int64) if block is None else pd.factorize(block)[0]
    sd = np.sqrt((np.var(logit[t], ddof=1) + np.var(logit[~t], ddof=1)) / 2)
    width = np.inf if caliper is None else float(caliper * sd)
    set_id = np.full(n, -1, dtype=np.int64)
    used_units: set = set()
    for b in np.unique(blk):
        ti = np.flatnonzero(t & (blk == b))
        ci = np.flatnonzero(~t & (blk == b))
        if ti.size == 0 or ci.size == 0:
            continue
        ci = ci[np.argsort(logit[ci], kind="stable")]
        cl = logit[ci]
        avail = np.ones(ci.size, dtype=bool)
        if unit is not None and used_units:
            avail &= ~pd.Series(unit[ci]).isin(used_units).to_numpy()
        ti = ti[np.argsort(-logit[ti], kind="stable")]
        for _ in range(ratio):
            for i in ti:
                x = logit[i]
                pos = int(np.searchsorted(cl, x))
                lft, rgt = pos - 1, pos
                while lft >= 0 and not avail[lft]:
                    lft -= 1
                while rgt < ci.size and not avail[rgt]:
                    rgt += 1
                best = -1
                dl = x - cl[lft] if lft >= 0 else np.inf
                dr = cl[rgt] - x if rgt < ci.size else np.inf
                if min(dl, dr) <= width:
                    best = lft if dl <= dr else rgt
                if best >= 0:
                    avail[best] = False
                    set_id[ci[best]] = i
                    set_id[i] = i
        if unit is not None:
            used_units.update(unit[ci[~avail]].tolist())
            used_units.update(unit[ti].tolist())
    return set_id, width


class MatchResult(Result):
    """Matched or weighted control group with its covariate balance.

    Attributes
    ----------
    summary : pandas.DataFrame
        The balance table (see :func:`balance_table`).
    matched_ : pandas.DataFrame
        The analysis rows: treated rows kept plus their controls (nearest) or every row with
        its ``weight`` (ipw). Columns of the input plus ``propensity``, ``logit_ps``,
        ``match_set`` (nearest) and ``weight``.
    unbalanced : list of str
        Covariates with |SMD after| >= 0.1.
    """

    title = "Covariate balance (standardized mean differences)"

    @property
    def unbalanced(self) -> list[str]:
        s = self.summary
        return s.loc[~s.balanced, "metric"].tolist()

    def plot(self, ax=None, threshold: float = SMD_THRESHOLD):
        """Love plot: SMD per covariate before (open) and after (filled), lines at +-0.1."""
        import matplotlib.pyplot as plt

        s = self.summary.iloc[::-1]
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 0.3 * len(s) + 1.5))
        y = np.arange(len(s))
        ax.scatter(s.smd_before, y, facecolors="none", edgecolors="grey", label="before")
        ax.scatter(s.smd_after, y, color="C0", label="after")
        for v in (-threshold, threshold):
            ax.axvline(v, color="C3", lw=0.8, ls="--")
        ax.axvline(0, color="black", lw=0.6)
        ax.set_yticks(y)
        ax.set_yticklabels(s.metric)
        ax.set_xlabel("Standardized mean difference (treated - control)")
        ax.legend(loc="best", frameon=False)
        ax.set_title("Covariate balance")
        return ax


def match_controls(
    data: pd.DataFrame,
    *,
    treatment: str = "treated",
    covariates: Sequence[str],
    method: str = "nearest",
    ratio: int = 1,
    caliper: float | None = 0.2,
    block: str | None = None,
    unit: str | None = None,
    exact: Sequence[str] = (),
) -> MatchResult:
    """Build a comparable control group from candidates by propensity-score matching or IPW.

    Parameters
    ----------
    data
        Treated rows (``treatment`` = 1) and candidate controls (0), one row per candidate and
        block.
    covariates
        Columns of the propensity model and of the balance table.
    method
        ``"nearest"`` (greedy nearest neighbour on the logit, without replacement) or ``"ipw"``
        (ATT weights: 1 for treated, e / (1 - e) for controls).
    ratio
        Controls per treated person (nearest).
    caliper
        Maximum distance as a multiple of the pooled SD of the logit of the propensity score
        (default 0.2, Austin 2011); None for no caliper.
    block
        Exact-matching column (e.g. ``cohort_id``); it also enters the propensity model.
    unit
        Person identifier: a person is matched at most once across blocks.
    exact
        Covariates matched exactly (nearest only): a participant's controls have the same
        values. Participants with no control in their cell stay unmatched and are counted in
        the notes.

    Returns
    -------
    MatchResult

    Examples
    --------
    >>> import rm_analytics as rm
    >>> frame = rm.cohort_frame(rm.load_sample())
    >>> res = rm.match_controls(frame, treatment="treated",
    ...                         covariates=["tenure_years", "performance_rating"])
    >>> cols = ["metric", "smd_before", "smd_after", "balanced"]
    >>> print(res.summary[cols].round(3).to_string(index=False))
                metric  smd_before  smd_after  balanced
          tenure_years      -0.270     -0.049      True
    performance_rating      -0.075      0.095      True
    >>> res.matched_.treated.value_counts()
    treated
    1    34
    0    34
    Name: count, dtype: int64

    Matching 1:1 within a caliper keeps 34 of the 36 mentors; the standardized mean
    differences after matching are all below 0.1, the usual threshold of balance.
    """
    if method not in ("nearest", "ipw"):
        raise ValueError(f"method must be 'nearest' or 'ipw', not {method!r}")
    if ratio < 1:
        raise ValueError(f"ratio must be at least 1, not {ratio}")
    exact = [exact] if isinstance(exact, str) else list(exact)
    for c in [treatment, *covariates, *exact] + [x for x in (block, unit) if x]:
        if c not in data.columns:
            raise KeyError(f"match_controls: column {c!r} is not in the data")
    if exact and method != "nearest":
        raise ValueError("exact matching needs method='nearest'")
    df = data.reset_index(drop=True)
    t = df[treatment].to_numpy() == 1
    if t.sum() == 0 or (~t).sum() == 0:
        raise InsufficientDataError("match_controls needs treated rows and candidate controls")
    logit, notes = propensity_logit(df, treatment=treatment, covariates=covariates, block=block)
    df["logit_ps"] = logit
    df["propensity"] = 1 / (1 + np.exp(-logit))
    if method == "nearest":
        cells = [x for x in (block, *exact) if x]
        cell = None
        if cells:  # one code per combination of the exact-matching columns (missing = a value)
            cell = df.groupby(cells, dropna=False, observed=True, sort=False).ngroup().to_numpy()
        sets, width = nearest_neighbour(
            logit,
            t,
            ratio=ratio,
            caliper=caliper,
            block=cell,
            unit=None if unit is None else df[unit].to_numpy(),
        )
        df["match_set"] = sets
        n_ctrl = pd.Series(sets[~t & (sets >= 0)]).value_counts()
        weight = np.zeros(len(df))
        weight[t & (sets >= 0)] = 1.0
        cm = ~t & (sets >= 0)
        weight[cm] = 1.0 / n_ctrl.reindex(sets[cm]).to_numpy()
        df["weight"] = weight
        unmatched = int((t & (sets < 0)).sum())
        cal = (
            "no caliper"
            if caliper is None
            else f"caliper {caliper:g} SD of the logit = {width:.3g}"
        )
        if exact:
            cal += f"; exact on {', '.join(exact)}"
        notes.append(
            Note(
                f"Nearest-neighbour {ratio}:1 propensity-score matching without replacement "
                f"({cal}): {int((t & (sets >= 0)).sum())} of {int(t.sum())} participants matched "
                f"with {int(cm.sum())} controls.",
                "method",
            )
        )
        if unmatched:
            where = "within the caliper" + (f" and the same {', '.join(exact)}" if exact else "")
            notes.append(
                Note(
                    f"{unmatched} participant(s) had no control {where} and are left out "
                    "of the comparison (the estimate is for the matched participants).",
                    "excluded_rows",
                )
            )
        short = int((n_ctrl < ratio).sum())
        if short:
            notes.append(
                Note(f"{short} matched set(s) have fewer than {ratio} controls.", "small_sample")
            )
        matched = df[weight > 0].copy()
        matched["match_set"] = matched.match_set.astype("int64")
    else:
        e = df.propensity.to_numpy()
        weight = np.where(t, 1.0, e / (1 - e))
        df["weight"] = weight
        wc = weight[~t]
        ess = wc.sum() ** 2 / (wc**2).sum()
        notes.append(
            Note(
                "Inverse-probability weights for the treated (ATT): 1 for participants, e/(1-e) for "
                f"non-participants; effective number of controls {ess:.1f} of {int((~t).sum())}, "
                f"largest control weight {wc.max():.3g}.",
                "method",
            )
        )
        matched = df.copy()
    bal = balance_table(df, treatment=treatment, covariates=covariates, weights_after=weight)
    notes.append(
        Note(
            "Balance: standardized mean differences with the pooled SD of the unmatched groups "
            "(Austin 2009); |SMD| < 0.1 counts as balanced.",
            "method",
        )
    )
    res = MatchResult(
        bal, notes, method=method, ratio=ratio, caliper=caliper, block=block, exact=tuple(exact)
    )
    bad = res.unbalanced
    if bad:
        res.note(f"Not balanced after {method} (|SMD| >= 0.1): {', '.join(bad)}.", "assumption")
    else:
        res.note("Every covariate is balanced after matching (|SMD| < 0.1).", "assumption")
    res.matched_ = matched
    res.caliper_width_ = None if method == "ipw" else width
    return res
