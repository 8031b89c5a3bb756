"""The routes the benchmarks time give the same numbers as the plain library calls they are
compared with (issue 8): the package's Cox model (where lifelines is the bottleneck), the
engagement DiD (statsmodels OLS), and the vectorised selections that replaced merges."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from rm_analytics.data.synthetic import generate
from rm_analytics.metrics.engagement import _Coded, difference_in_differences
from rm_analytics.metrics.retention import cox_efron


@pytest.fixture(scope="module")
def plain(bench):
    return bench("plain")


@pytest.fixture(scope="module")
def org():
    return generate(n_employees=6_000, n_cohorts=3, pairs_per_cohort=8, seed=7, years=5.0)


@pytest.fixture(scope="module")
def survival(org):
    """Employees from hire to voluntary exit, months rounded to whole months (many ties),
    stratified by department, clustered by manager."""
    emp = org.tables["employees"]
    as_of = pd.Timestamp("2026-09-30")
    hire = pd.to_datetime(emp.hire_date)
    term = pd.to_datetime(emp.termination_date)
    stop = term.where(term <= as_of).fillna(as_of)
    return pd.DataFrame(
        {
            "T": np.maximum(np.ceil((stop - hire).dt.days / 30.4375), 1.0),
            "E": ((term <= as_of) & (emp.termination_type == "voluntary")).astype(int),
            "perf": pd.to_numeric(emp.performance_rating).fillna(3.0).astype(float),
            "grade": emp.level.astype(str).str[1:].astype(float),
            "cluster": emp.manager_id.fillna("none").astype(str),
            "dept": emp.department.astype(str),
        }
    )


@pytest.mark.slow
def test_cox_matches_lifelines_and_phreg_to_1e6(survival, plain):
    """Coefficients and model-based SEs agree to 1e-6 with lifelines (converged tightly) and
    statsmodels PHReg, Efron ties, thousands of tied times, with and without strata."""
    import statsmodels.api as sm
    from lifelines import CoxPHFitter

    df = survival
    assert df["T"].duplicated().sum() > 5_000  # heavily tied
    covs = ["perf", "grade"]
    fit = cox_efron(df["T"], df["E"], df[covs].to_numpy(), cluster=df.cluster.to_numpy())
    b_ll, se_ll = plain.cox_lifelines(
        df[["T", "E", *covs]].assign(cluster=df.cluster), robust=False, precision=1e-12
    )
    b_ph, se_ph = plain.cox_phreg(df, covs, robust=False)
    se_model = np.sqrt(np.diag(fit.var_model))
    np.testing.assert_allclose(fit.coef, b_ll, atol=1e-6, rtol=0)
    np.testing.assert_allclose(fit.coef, b_ph, atol=1e-6, rtol=0)
    np.testing.assert_allclose(se_model, se_ll, atol=1e-6, rtol=0)
    np.testing.assert_allclose(se_model, se_ph, atol=1e-6, rtol=0)
    # the clustered sandwich: R's convention (tied deaths share Efron's weights); PHReg and
    # lifelines use their own approximations for tied times, within 1% here
    _, rse_ph = plain.cox_phreg(df, covs)
    np.testing.assert_allclose(fit.se, rse_ph, rtol=1e-2)
    assert not np.allclose(fit.se, se_model, rtol=1e-3)  # clustering does change the SE

    # stratified by department
    sfit = cox_efron(df["T"], df["E"], df[covs].to_numpy(), strata=df.dept.to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = CoxPHFitter().fit(
            df[["T", "E", *covs, "dept"]],
            "T",
            "E",
            strata=["dept"],
            fit_options={"precision": 1e-12},
        )
    ph = sm.PHReg(df["T"], df[covs], status=df["E"], ties="efron", strata=df.dept.to_numpy()).fit()
    np.testing.assert_allclose(sfit.coef, c.params_.to_numpy(), atol=1e-6, rtol=0)
    np.testing.assert_allclose(sfit.coef, ph.params, atol=1e-6, rtol=0)
    np.testing.assert_allclose(sfit.se, ph.bse, atol=1e-6, rtol=0)


def _panel(seed: int = 3, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = np.repeat(np.arange(n), 2)
    cohort = np.where(ids % 3 == 0, "A", np.where(ids % 3 == 1, "B", "C"))
    treated = (ids % 4 == 0).astype(int)
    post = np.tile([0, 1], n)
    y = rng.normal(3, 1, 2 * n) + 0.4 * treated * post + 0.2 * post + 0.3 * (ids % 5)
    d = pd.DataFrame(
        {
            "respondent_id": [f"E{i:04d}" for i in ids],
            "cohort_id": cohort,
            "treated": treated,
            "post": post,
            "y": y,
        }
    )
    d = d.drop(index=rng.choice(len(d), 40, replace=False))  # some answered one wave only
    d["stack_unit"] = d.cohort_id + ":" + d.respondent_id
    for c in ("B", "C"):
        d[f"post_{c}"] = ((d.post == 1) & (d.cohort_id == c)).astype(float)
    return d


def test_did_matches_statsmodels_within_ols(plain):
    d = _panel()
    cov = ["post_B", "post_C"]
    r = difference_in_differences(
        d,
        outcome="y",
        group="treated",
        period="post",
        unit="stack_unit",
        cluster="respondent_id",
        covariates=cov,
        cov_type="cluster",
    )
    p = plain.did(d, cov)
    s = r.summary.iloc[0]
    assert s.n == p["n"]
    assert s.estimate == pytest.approx(p["estimate"], abs=1e-10)
    # CR1 with the absorbed-effects degrees of freedom (Stata's xtreg, fe vce(cluster)) vs
    # statsmodels' plain CR1 on the demeaned data: the same up to the small-sample factor
    n, k = p["n"], 4  # slopes: post, treated:post, post_B, post_C; plus the absorbed mean
    assert s.se == pytest.approx(p["se"] * np.sqrt((n - k) / (n - k - 1)), rel=1e-9)
    # coefs_ (vectorised table) equals term() for every coefficient
    assert len(r.coefs_) >= 2
    for _, row in r.coefs_.iterrows():
        t = r.fit_.term(row.term)
        for key in ("estimate", "se", "ci_low", "ci_high", "p_value", "statistic"):
            assert row[key] == t[key]


def test_coded_selection_equals_inner_merge():
    rng = np.random.default_rng(5)
    odf = pd.DataFrame(
        {
            "respondent_id": pd.array(
                [None if i % 17 == 0 else f"E{i % 50:03d}" for i in range(600)], dtype="string"
            ),
            "wave": rng.choice(["w1", "w2", "w3"], 600),
            "y": rng.normal(size=600),
        }
    )
    cd = _Coded(odf)
    treated, controls = ["E001", "E007", "E049", "E999"], {"E002", "E003", "E010", "E888"}
    mask = odf.wave.isin(["w1", "w3"])
    people = pd.concat(
        [
            pd.DataFrame({"respondent_id": treated, "treated": 1}),
            pd.DataFrame({"respondent_id": sorted(controls), "treated": 0}),
        ],
        ignore_index=True,
    ).astype({"respondent_id": "string"})
    want = odf[mask].merge(people, on="respondent_id", how="inner")
    pd.testing.assert_frame_equal(cd.select(treated, controls, mask), want)
    want_all = odf.merge(people, on="respondent_id", how="inner")
    pd.testing.assert_frame_equal(cd.select(treated, controls), want_all)
    assert cd.select([], set()).empty
