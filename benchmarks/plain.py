"""Baselines: the same work as the rm-analytics stages, written directly with plain pandas,
numpy, scipy, statsmodels and lifelines calls (what an analyst would write by hand, without the
package's checks, notes, data-quality log and result objects).

Every function takes the stage's ``state`` (see ``stages.py``) and returns what it computed, so
the agreement checks can compare it with the package's numbers.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

DAYS_PER_MONTH = 30.4375


# -- control matching -----------------------------------------------------------------------
def matching(data: pd.DataFrame, covariates, *, ratio: int = 2, caliper: float = 0.2) -> dict:
    """statsmodels Logit of participation on the covariates (+ cohort dummies), then greedy
    nearest-neighbour matching on the logit within cohort, without replacement, within a
    caliper of 0.2 pooled SDs; standardized mean differences before/after."""
    import statsmodels.api as sm

    df = data.reset_index(drop=True)
    d = df[list(covariates) + ["cohort_id"]].copy()
    for c in covariates:
        if d[c].isna().any():
            d[f"{c}_missing"] = d[c].isna().astype(float)
            if pd.api.types.is_numeric_dtype(d[c]) and not isinstance(
                d[c].dtype, pd.CategoricalDtype
            ):
                d[c] = d[c].fillna(d[c].median())
            else:
                d[c] = d[c].astype("string").fillna("unknown")
    X = pd.get_dummies(d, drop_first=True, dtype=float)
    X = X.loc[:, X.std().to_numpy() > 0]  # unused category levels give empty columns
    num = [c for c in ("tenure_years", "performance_rating") if c in X.columns]
    X[num] = (X[num] - X[num].mean()) / X[num].std(ddof=0)
    X = sm.add_constant(X, has_constant="add")
    y = df["treated"].to_numpy(dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            params = sm.Logit(y, X).fit(disp=0, maxiter=100).params
        except np.linalg.LinAlgError:  # separation in a tiny data set
            params = (
                sm.GLM(y, X, family=sm.families.Binomial())
                .fit_regularized(alpha=1e-3, L1_wt=0.0)
                .params
            )
    logit = X.to_numpy(dtype=float) @ np.asarray(params)
    t = y == 1
    width = caliper * np.sqrt((logit[t].var(ddof=1) + logit[~t].var(ddof=1)) / 2)
    set_id = np.full(len(df), -1)
    used: set = set()
    block = df["cohort_id"].to_numpy()
    unit = df["employee_id"].to_numpy()
    for b in pd.unique(block):
        ti = np.flatnonzero(t & (block == b))
        ci = np.flatnonzero(~t & (block == b))
        ci = ci[np.argsort(logit[ci], kind="stable")]
        cl = logit[ci]
        avail = ~pd.Series(unit[ci]).isin(used).to_numpy()
        ti = ti[np.argsort(-logit[ti], kind="stable")]
        for _ in range(ratio):
            for i in ti:
                pos = np.searchsorted(cl, logit[i])
                lft, rgt = pos - 1, pos
                while lft >= 0 and not avail[lft]:
                    lft -= 1
                while rgt < ci.size and not avail[rgt]:
                    rgt += 1
                dl = logit[i] - cl[lft] if lft >= 0 else np.inf
                dr = cl[rgt] - logit[i] if rgt < ci.size else np.inf
                if min(dl, dr) <= width:
                    best = lft if dl <= dr else rgt
                    avail[best] = False
                    set_id[ci[best]] = i
                    set_id[i] = i
        used.update(unit[ci[~avail]].tolist())
        used.update(unit[ti].tolist())
    matched = df[set_id >= 0].assign(match_set=set_id[set_id >= 0])
    # balance: SMD before and after (pooled SD of the unmatched groups)
    B = pd.get_dummies(df[list(covariates)], dtype=float)
    sd = np.sqrt((B[t].var() + B[~t].var()) / 2)
    smd_before = (B[t].mean() - B[~t].mean()) / sd
    mt = t & (set_id >= 0)
    mc = ~t & (set_id >= 0)
    smd_after = (B[mt].mean() - B[mc].mean()) / sd
    return {"matched": matched, "smd_before": smd_before, "smd_after": smd_after, "params": params}


# -- retention ----------------------------------------------------------------------------
def retention(
    frame: pd.DataFrame, *, horizons=(6.0, 12.0, 24.0), tau: float = 24.0, precision=None
) -> dict:
    """lifelines: stratified Cox (Efron) with clustered robust variance, the
    proportional-hazards test, Kaplan-Meier per group at the horizons, log-rank test, RMST per
    group, Aalen-Johansen cumulative incidence with competing exits; scipy's Fisher exact
    test of attrition by each horizon. ``precision``: lifelines' convergence tolerance (its
    default, 1e-7 on the step, leaves the log HR ~1e-4 from the maximum)."""
    from lifelines import AalenJohansenFitter, CoxPHFitter, KaplanMeierFitter
    from lifelines.statistics import logrank_test, proportional_hazard_test
    from lifelines.utils import restricted_mean_survival_time
    from scipy.stats import fisher_exact

    d = frame[["duration", "event", "treated", "cohort_id", "cluster_id"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cph = CoxPHFitter().fit(
            d,
            "duration",
            "event",
            strata=["cohort_id"],
            cluster_col="cluster_id",
            fit_options={"precision": precision} if precision else None,
        )
        ph = proportional_hazard_test(cph, d, time_transform="km")
        out = {
            "coef": float(cph.params_["treated"]),
            "se": float(cph.standard_errors_["treated"]),
            "ph_p": float(ph.summary["p"].iloc[0]),
        }
        g1 = frame.treated == 1
        lr = logrank_test(
            frame.duration[g1], frame.duration[~g1], frame.event[g1], frame.event[~g1]
        )
        out["logrank"] = lr.test_statistic
        cause = np.where(frame.event == 1, 1, np.where(frame.competing == 1, 2, 0))
        for name, m in (("treated", g1), ("control", ~g1)):
            kmf = KaplanMeierFitter().fit(frame.duration[m], frame.event[m])
            out[f"km_{name}"] = kmf.survival_function_at_times(list(horizons)).to_numpy()
            _ = kmf.confidence_interval_
            out[f"rmst_{name}"] = restricted_mean_survival_time(kmf, t=tau, return_variance=True)
            aj = AalenJohansenFitter(seed=1).fit(
                frame.duration[m].to_numpy(), cause[m.to_numpy()], event_of_interest=1
            )
            out[f"cif_{name}"] = aj.cumulative_density_
        for h in horizons:
            known = (frame.event == 1) & (frame.duration <= h) | (frame.duration >= h)
            f = frame[known]
            ev = (f.event == 1) & (f.duration <= h)
            tab = pd.crosstab(f.treated, ev).reindex(
                index=[1, 0], columns=[True, False], fill_value=0
            )
            out[f"fisher_{h:g}"] = fisher_exact(tab.to_numpy())[1]
    return out


def cox_lifelines(
    df: pd.DataFrame, *, robust: bool = True, precision=None
) -> tuple[np.ndarray, np.ndarray]:
    """lifelines CoxPHFitter (Efron ties), with a clustered robust variance (``robust``) or
    the model-based one."""
    from lifelines import CoxPHFitter

    opts = {"precision": precision} if precision else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if robust:
            c = CoxPHFitter().fit(df, "T", "E", cluster_col="cluster", fit_options=opts)
        else:
            c = CoxPHFitter().fit(df.drop(columns="cluster"), "T", "E", fit_options=opts)
    return c.params_.to_numpy(), c.standard_errors_.to_numpy()


def cox_phreg(df: pd.DataFrame, covs, *, robust: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """statsmodels PHReg (Efron ties), with a clustered robust variance or the model-based one."""
    import statsmodels.api as sm

    model = sm.PHReg(df["T"], df[list(covs)], status=df["E"], ties="efron")
    fit = model.fit(groups=df["cluster"].to_numpy()) if robust else model.fit()
    return np.asarray(fit.params), np.asarray(fit.bse)


# -- engagement DiD -------------------------------------------------------------------------
def did(st: pd.DataFrame, covariates) -> dict:
    """Within (unit fixed effects) transformation by hand, then statsmodels OLS of the demeaned
    outcome on treated x post and the period dummies, standard errors clustered by person."""
    import statsmodels.api as sm

    d = st.copy()
    d["tp"] = d.treated * d.post
    d = d[d.groupby("stack_unit").y.transform("size") > 1]  # singletons carry no information
    cols = ["y", "tp", "post", *covariates]
    dm = d[cols] - d.groupby("stack_unit")[cols].transform("mean")
    fit = sm.OLS(dm["y"], dm[["tp", "post", *covariates]]).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(d.respondent_id)[0]}
    )
    return {"estimate": float(fit.params["tp"]), "se": float(fit.bse["tp"]), "n": len(d)}


# -- skills --------------------------------------------------------------------------------
def skills(pilot) -> dict:
    """Pivot per person x skill (pre/post), person means over skills assessed in both phases,
    scipy ``ttest_rel`` (with its CI), ``wilcoxon`` and the effect sizes per role, and Welch
    ``ttest_ind`` of the changes vs the control."""
    from scipy import stats

    sk = pilot.skills
    sk = sk[sk.rater.astype(object).fillna("self").eq("self").to_numpy()]
    pairs = pilot.pairs
    ids = {"mentees": set(pairs.mentee_id), "mentors": set(pairs.mentor_id)}
    if pilot.control is not None:
        ids["control"] = set(pilot.control.employee_id) - ids["mentees"] - ids["mentors"]
    out, change = {}, {}
    for role, who in ids.items():
        s = sk[sk.employee_id.isin(who)]
        if s.empty:
            continue
        wide = s.pivot_table(
            index=["employee_id", "skill"],
            columns="phase",
            values="score",
            observed=True,
            aggfunc="mean",
        ).dropna()
        per = wide.groupby(level=0).mean()
        d = change[role] = (per["post"] - per["pre"]).to_numpy()
        t = stats.ttest_rel(per["post"], per["pre"])
        # the rest of the package's per-role row: t CI, Wilcoxon, d_z, g_av, gain, % improved
        _ = t.confidence_interval()
        _ = stats.wilcoxon(d, zero_method="wilcox", correction=True)
        sd = d.std(ddof=1)
        _ = (
            d.mean() / sd if sd > 0 else np.nan,
            d.mean() / ((per["pre"].std() + per["post"].std()) / 2),
            (per["post"].mean() - per["pre"].mean()) / (5 - per["pre"].mean()),
            100 * np.mean(d > 0),
        )
        out[role] = (float(d.mean()), float(t.pvalue))
    for role in ("mentees", "mentors"):
        if role not in change or "control" not in change:
            continue
        w = stats.ttest_ind(change[role], change["control"], equal_var=False)
        out[f"{role}_vs_control"] = (
            float(change[role].mean() - change["control"].mean()),
            float(w.pvalue),
        )
    return out


# -- safety flags --------------------------------------------------------------------------
def safety(pilot, as_of: pd.Timestamp) -> dict:
    """Psychological-safety scale scores (reverse-scored ps1/ps3/ps5, mean of 7 items per
    member, pair and wave) and the LOW_SAFETY (below the midpoint), SAFETY_DROP (fall of 1+
    between consecutive waves), DIVERGENCE (mentor-mentee gap of 2+) and REVERSE_ITEM_ALERT
    rules, LOW_SAFETY from the feedback form's one-item safety rating (below 3 of 5) and
    CONFLICT_OF_INTEREST from the manager chains (the package also raises NO_RESPONSE, STALLED
    and GOAL_OFF_TRACK, which this baseline leaves out)."""
    sv = pilot.surveys
    ps = sv[(sv.survey == "psych_safety").to_numpy() & (sv.response_date <= as_of).to_numpy()]
    pairs = pilot.pairs
    members = pd.concat(
        [
            pairs[["pair_id", "cohort_id", "mentor_id"]]
            .rename(columns={"mentor_id": "respondent_id"})
            .assign(role="mentor"),
            pairs[["pair_id", "cohort_id", "mentee_id"]]
            .rename(columns={"mentee_id": "respondent_id"})
            .assign(role="mentee"),
        ]
    )
    ps = ps.merge(members, on=["pair_id", "respondent_id"])
    k = 7
    item = ps["item"].astype(str)
    v = ps.value.where(~item.isin(["ps1", "ps3", "ps5"]), k + 1 - ps.value)
    sc = (
        ps.assign(v=v, wave=ps.wave.astype(str))
        .groupby(["pair_id", "cohort_id", "role", "respondent_id", "wave"])
        .agg(score=("v", "mean"), n=("v", "count"), date=("response_date", "median"))
        .reset_index()
    )
    sc = sc[sc.n >= 5]
    low = sc[sc.score < (1 + k) / 2]
    srt = sc.sort_values(["pair_id", "role", "date"])
    fall = srt.groupby(["pair_id", "role"]).score.shift() - srt.score
    drop = srt[fall >= 1 - 1e-9]
    wide = sc.pivot_table(index=["pair_id", "wave"], columns="role", values="score").dropna()
    div = wide[(wide.mentor - wide.mentee).abs() >= 2 - 1e-9]
    rev = ps[item.isin(["ps1", "ps3", "ps5"]).to_numpy() & (ps.value >= k - 1).to_numpy()]
    rev = rev.groupby(["pair_id", "respondent_id", "wave"], observed=True).value.max()
    # the feedback form's one-item safety rating (1-5) below its midpoint, from pair members
    fb = sv[
        (sv.survey == "feedback").to_numpy()
        & (sv["item"] == "safety").to_numpy()
        & (sv.response_date <= as_of).to_numpy()
    ]
    fb = fb.merge(members, on=["pair_id", "respondent_id"])
    fb_low = fb[fb.value < 3]
    # CONFLICT_OF_INTEREST: one member in the other's reporting line (manager chain followed
    # up to 50 levels with a dict), or both with the same direct manager
    emp = pilot.employees
    boss = dict(zip(emp.employee_id.astype(str), emp.manager_id.astype(object), strict=True))
    conflicts = 0
    for mentor, mentee in zip(
        pairs.mentor_id.astype(str), pairs.mentee_id.astype(str), strict=True
    ):
        for low_, high in ((mentor, mentee), (mentee, mentor)):
            cur = boss.get(low_)
            for _ in range(50):
                if not isinstance(cur, str):
                    break
                if cur == high:
                    conflicts += 1
                    break
                cur = boss.get(cur)
        b, b2 = boss.get(mentor), boss.get(mentee)
        conflicts += int(isinstance(b, str) and isinstance(b2, str) and b == b2)
    return {
        "low": low,
        "feedback_low": fb_low,
        "drop": drop,
        "divergence": div,
        "reverse": rev,
        "conflict": conflicts,
    }


# -- ROI -----------------------------------------------------------------------------------
def roi(pilot, attrition: dict, *, horizon: float = 12.0) -> dict:
    """Participants' session and kickoff hours at loaded salary rates, coordinator time, and
    the Phillips ROI of avoided voluntary exits (replacement cost = 21% of the mentors' mean
    salary)."""
    emp = pilot.employees.set_index("employee_id")
    sal = emp.annual_salary.astype(float)
    sal = sal.fillna(emp.groupby("level", observed=True).annual_salary.transform("median"))
    rate = sal * 1.3 / 1720
    pairs = pilot.pairs
    s = pilot.sessions
    hours = s[s.status.astype(str).eq("held")].groupby("pair_id").duration_minutes.sum() / 60
    ph = pairs.pair_id.map(hours).fillna(0.0)
    session = (ph * pairs.mentor_id.map(rate)).sum() + (ph * pairs.mentee_id.map(rate)).sum()
    people = pd.concat(
        [
            pairs[["mentor_id", "cohort_id"]].set_axis(["e", "c"], axis=1),
            pairs[["mentee_id", "cohort_id"]].set_axis(["e", "c"], axis=1),
        ]
    )
    kickoff = 3 * people.drop_duplicates().e.map(rate).sum()
    coordinator = 8 * len(pairs) * rate.median()
    cost = session + kickoff + coordinator
    mentors = pairs.mentor_id.unique()
    replacement = 0.21 * sal.reindex(mentors).mean()
    avoided = attrition["difference"] * attrition["n_treated"]
    benefit = avoided * replacement
    return {"cost": cost, "benefit": benefit, "roi_pct": 100 * (benefit - cost) / cost}
