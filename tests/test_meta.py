"""Random-effects meta-analysis against R's metafor 3.8 (values stored below, R not needed).

The references were printed by this R script (metafor 3.8-1)::

    library(metafor)
    dat <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
    out <- function(label, yi, sei) {
      for (m in c("REML", "DL")) for (t in c("z", "knha", "adhoc")) {
        r <- rma(yi, sei = sei, method = m, test = t); p <- predict(r)
        cat(sprintf('("%s", "%s", "%s", %.10g, %.10g, %.10g, %.10g, %.10g, %.10g, %.10g, %.10g,
                     %.10g, %.10g, %.10g),\n', label, m, t, r$b[1], r$se, r$ci.lb, r$ci.ub,
                     r$pval, r$tau2, r$I2, r$H2, r$QE, p$pi.lb, p$pi.ub))
      }
    }
    out("bcg13", dat$yi, sqrt(dat$vi))                          # k = 13, tau^2 > 0
    out("bcg_4_8", dat$yi[c(4, 8)], sqrt(dat$vi[c(4, 8)]))      # k = 2
    out("bcg_4_6_8", dat$yi[c(4, 6, 8)], sqrt(dat$vi[c(4, 6, 8)]))  # k = 3
    out("homogeneous", c(0.10, 0.12, 0.09, 0.11, 0.13), c(0.10, 0.15, 0.20, 0.12, 0.25))  # tau^2 = 0
    out("cohorts6", c(-0.62, -0.15, -0.81, 0.20, -0.45, -0.30),
        c(0.45, 0.52, 0.60, 0.48, 0.41, 0.55))                  # 6 cohorts' log HRs, tau^2 = 0
    r <- rma(yi, sei = sqrt(vi), data = dat, method = "FE")     # -0.4302851637 0.04049875171
    # 92.11734685 12.68608401; QEp 1.996764591e-26

``dat.bcg`` is the BCG vaccine data set (Colditz et al. 1994); ``yi`` and ``sei`` below are
``escalc``'s log risk ratios and their standard errors (``sprintf("%.10f")``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import rm_analytics as rm
from rm_analytics.stats.meta import (
    cumulative_fits,
    fixed_effect_z,
    meta_fit,
    tau2_dl,
    tau2_reml,
)

# escalc(measure = "RR", ...) on dat.bcg
BCG_YI = [
    -0.8893113339,
    -1.5853886572,
    -1.3480731483,
    -1.4415511900,
    -0.2175473222,
    -0.7861155858,
    -1.6208982236,
    0.0119523335,
    -0.4694176487,
    -1.3713448035,
    -0.3393588283,
    0.4459134006,
    -0.0173139482,
]
BCG_SEI = [
    0.5706003549,
    0.4411135017,
    0.6444904696,
    0.1414568199,
    0.2262966464,
    0.0831000509,
    0.4722470197,
    0.0629410780,
    0.2375588568,
    0.2702310005,
    0.1114101161,
    0.7297299810,
    0.2672165034,
]

DATA = {
    "bcg13": (BCG_YI, BCG_SEI),
    "bcg_4_8": ([BCG_YI[i] for i in (3, 7)], [BCG_SEI[i] for i in (3, 7)]),
    "bcg_4_6_8": ([BCG_YI[i] for i in (3, 5, 7)], [BCG_SEI[i] for i in (3, 5, 7)]),
    "homogeneous": ([0.10, 0.12, 0.09, 0.11, 0.13], [0.10, 0.15, 0.20, 0.12, 0.25]),
    "cohorts6": ([-0.62, -0.15, -0.81, 0.20, -0.45, -0.30], [0.45, 0.52, 0.60, 0.48, 0.41, 0.55]),
}

# label, method, test, estimate, se, ci.lb, ci.ub, pval, tau2, I2, H2, QE, pi.lb, pi.ub
# the table as R printed it, one reference per line
# fmt: off
METAFOR = [
    ("bcg13", "REML", "z", -0.7145323484, 0.1797815318, -1.066897676, -0.362167021, 7.054267349e-05, 0.313243326, 92.22138607, 12.8557608, 152.2330081, -1.866692347, 0.4376276499),
    ("bcg13", "REML", "knha", -0.7145323484, 0.1807917455, -1.108443723, -0.3206209737, 0.001920015085, 0.313243326, 92.22138607, 12.8557608, 152.2330081, -1.996016967, 0.5669522703),
    ("bcg13", "REML", "adhoc", -0.7145323484, 0.1807917455, -1.108443723, -0.3206209737, 0.001920015085, 0.313243326, 92.22138607, 12.8557608, 152.2330081, -1.996016967, 0.5669522703),
    ("bcg13", "DL", "z", -0.7141172221, 0.1787420895, -1.06444528, -0.3637891641, 6.462924305e-05, 0.3087602629, 92.11734685, 12.68608401, 152.2330081, -1.858153753, 0.4299193086),
    ("bcg13", "DL", "knha", -0.7141172221, 0.1806966283, -1.107821354, -0.32041309, 0.001920766767, 0.3087602629, 92.11734685, 12.68608401, 152.2330081, -1.987206963, 0.5589725193),
    ("bcg13", "DL", "adhoc", -0.7141172221, 0.1806966283, -1.107821354, -0.32041309, 0.001920766767, 0.3087602629, 92.11734685, 12.68608401, 152.2330081, -1.987206963, 0.5589725193),
    ("bcg_4_8", "REML", "z", -0.7092788181, 0.7267307934, -2.133645, 0.7150873635, 0.3290715808, 1.044350441, 98.86534182, 88.13226926, 88.13226926, -3.167051841, 1.748494205),
    ("bcg_4_8", "REML", "knha", -0.7092788181, 0.7267307934, -9.943269067, 8.524711431, 0.5077365259, 1.044350441, 98.86534182, 88.13226926, 88.13226926, -16.64271814, 15.22416051),
    ("bcg_4_8", "REML", "adhoc", -0.7092788181, 0.7267307934, -9.943269067, 8.524711431, 0.5077365259, 1.044350441, 98.86534182, 88.13226926, 88.13226926, -16.64271814, 15.22416051),
    ("bcg_4_8", "DL", "z", -0.7092788181, 0.7267307934, -2.133645, 0.7150873635, 0.3290715808, 1.044350441, 98.86534182, 88.13226926, 88.13226926, -3.167051841, 1.748494205),
    ("bcg_4_8", "DL", "knha", -0.7092788181, 0.7267307934, -9.943269067, 8.524711431, 0.5077365259, 1.044350441, 98.86534182, 88.13226926, 88.13226926, -16.64271814, 15.22416051),
    ("bcg_4_8", "DL", "adhoc", -0.7092788181, 0.7267307934, -9.943269067, 8.524711431, 0.5077365259, 1.044350441, 98.86534182, 88.13226926, 88.13226926, -16.64271814, 15.22416051),
    ("bcg_4_6_8", "REML", "z", -0.73139921, 0.4193391692, -1.553288879, 0.090490459, 0.08112927991, 0.5173350916, 98.4905673, 66.25005524, 118.6054914, -2.3632154, 0.9004169803),
    ("bcg_4_6_8", "REML", "knha", -0.73139921, 0.4197831898, -2.537580498, 1.074782078, 0.223575005, 0.5173350916, 98.4905673, 66.25005524, 118.6054914, -4.314641113, 2.851842694),
    ("bcg_4_6_8", "REML", "adhoc", -0.73139921, 0.4197831898, -2.537580498, 1.074782078, 0.223575005, 0.5173350916, 98.4905673, 66.25005524, 118.6054914, -4.314641113, 2.851842694),
    ("bcg_4_6_8", "DL", "z", -0.7305687529, 0.3968390526, -1.508359004, 0.04722149797, 0.06562596912, 0.4622533448, 98.31373744, 59.3027457, 118.6054914, -2.273515564, 0.8123780586),
    ("bcg_4_6_8", "DL", "knha", -0.7305687529, 0.4197249008, -2.536499243, 1.075361737, 0.2238826388, 0.4622533448, 98.31373744, 59.3027457, 118.6054914, -4.168445734, 2.707308229),
    ("bcg_4_6_8", "DL", "adhoc", -0.7305687529, 0.4197249008, -2.536499243, 1.075361737, 0.2238826388, 0.4622533448, 98.31373744, 59.3027457, 118.6054914, -4.168445734, 2.707308229),
    ("homogeneous", "REML", "z", 0.107114211, 0.0626360768, -0.01565024367, 0.2298786656, 0.08724662701, 0, 0, 1, 0.0287217863, -0.01565024367, 0.2298786656),
    ("homogeneous", "REML", "knha", 0.107114211, 0.005307625544, 0.09237788002, 0.1218505419, 3.558675351e-05, 0, 0, 1, 0.0287217863, 0.09237788002, 0.1218505419),
    ("homogeneous", "REML", "adhoc", 0.107114211, 0.0626360768, -0.06679141785, 0.2810198398, 0.1624209456, 0, 0, 1, 0.0287217863, -0.06679141785, 0.2810198398),
    ("homogeneous", "DL", "z", 0.107114211, 0.0626360768, -0.01565024367, 0.2298786656, 0.08724662701, 0, 0, 1, 0.0287217863, -0.01565024367, 0.2298786656),
    ("homogeneous", "DL", "knha", 0.107114211, 0.005307625544, 0.09237788002, 0.1218505419, 3.558675351e-05, 0, 0, 1, 0.0287217863, 0.09237788002, 0.1218505419),
    ("homogeneous", "DL", "adhoc", 0.107114211, 0.0626360768, -0.06679141785, 0.2810198398, 0.1624209456, 0, 0, 1, 0.0287217863, -0.06679141785, 0.2810198398),
    ("cohorts6", "REML", "z", -0.3465575878, 0.1999633017, -0.7384784573, 0.04536328164, 0.08307683905, 0, 0, 1, 2.476097298, -0.7384784573, 0.04536328164),
    ("cohorts6", "REML", "knha", -0.3465575878, 0.1407178367, -0.7082843027, 0.01516912709, 0.057033271, 0, 0, 1, 2.476097298, -0.7082843027, 0.01516912709),
    ("cohorts6", "REML", "adhoc", -0.3465575878, 0.1999633017, -0.8605796189, 0.1674644432, 0.143615367, 0, 0, 1, 2.476097298, -0.8605796189, 0.1674644432),
    ("cohorts6", "DL", "z", -0.3465575878, 0.1999633017, -0.7384784573, 0.04536328164, 0.08307683905, 0, 0, 1, 2.476097298, -0.7384784573, 0.04536328164),
    ("cohorts6", "DL", "knha", -0.3465575878, 0.1407178367, -0.7082843027, 0.01516912709, 0.057033271, 0, 0, 1, 2.476097298, -0.7082843027, 0.01516912709),
    ("cohorts6", "DL", "adhoc", -0.3465575878, 0.1999633017, -0.8605796189, 0.1674644432, 0.143615367, 0, 0, 1, 2.476097298, -0.8605796189, 0.1674644432),
]
# fmt: on


@pytest.mark.parametrize("ref", METAFOR, ids=lambda r: "-".join(r[:3]))
def test_kernel_matches_metafor(ref):
    label, method, test, *values = ref
    est, se, lo, hi, p, tau2, i2, h2, q, pi_lo, pi_hi = values
    fit = meta_fit(*DATA[label], method=method, test=test)
    # metafor stops Fisher scoring when tau^2 changes by < 1e-5: its tau^2 is that close
    tol = 1e-6 if method == "DL" else 1e-5
    assert fit.tau2 == pytest.approx(tau2, abs=tol)
    for got, want in (
        (fit.estimate, est),
        (fit.se, se),
        (fit.ci_low, lo),
        (fit.ci_high, hi),
        (fit.pi_low, pi_lo),
        (fit.pi_high, pi_hi),
    ):
        assert got == pytest.approx(want, abs=tol)
    assert fit.p_value == pytest.approx(p, rel=1e-4)
    assert fit.i2 == pytest.approx(i2, abs=1e-3)
    assert fit.h2 == pytest.approx(h2, rel=1e-5)
    assert fit.q == pytest.approx(q, rel=1e-8)
    assert fit.k == len(DATA[label][0])
    assert fit.weights.sum() == pytest.approx(100)


def test_tau2_zero_when_the_estimates_agree():
    """Q below its degrees of freedom: DL truncates at 0 and REML stops at the boundary."""
    y, s = DATA["homogeneous"]
    v = np.asarray(s) ** 2
    assert tau2_dl(np.asarray(y), v) == 0
    assert tau2_reml(np.asarray(y), v)[0] == 0
    fit = meta_fit(y, s, method="REML", test="z")
    # with tau^2 = 0 the random-effects estimate is the fixed-effect one
    w = 1 / v
    assert fit.estimate == pytest.approx(np.sum(w * np.asarray(y)) / w.sum(), abs=1e-12)
    assert (fit.pi_low, fit.pi_high) == pytest.approx((fit.ci_low, fit.ci_high))


def test_fixed_effect_matches_metafor():
    fit = meta_fit(BCG_YI, BCG_SEI, method="FE", test="z")
    assert fit.estimate == pytest.approx(-0.4302851637, abs=1e-9)
    assert fit.se == pytest.approx(0.04049875171, abs=1e-9)
    assert fit.i2 == pytest.approx(92.11734685, abs=1e-6)
    assert fit.h2 == pytest.approx(12.68608401, abs=1e-6)
    assert fit.q_p_value == pytest.approx(1.996764591e-26, rel=1e-6)


def test_reml_maximises_the_restricted_likelihood():
    """The REML root is the maximum of the restricted log-likelihood over a fine grid."""
    y, s = np.asarray(BCG_YI), np.asarray(BCG_SEI)
    v = s**2
    tau2 = tau2_reml(y, v)[0]

    def ll(t):
        w = 1 / (v + t)
        mu = np.sum(w * y) / w.sum()
        return -0.5 * (np.sum(np.log(v + t)) + np.log(w.sum()) + np.sum(w * (y - mu) ** 2))

    grid = np.linspace(0, 1, 20001)
    assert abs(grid[np.argmax([ll(t) for t in grid])] - tau2) < 1e-4


def test_knha_can_be_narrower_than_z_but_adhoc_cannot():
    y, s = DATA["homogeneous"]
    z = meta_fit(y, s, test="z")
    kh = meta_fit(y, s, test="knha")
    ad = meta_fit(y, s, test="adhoc")
    assert kh.ci_high - kh.ci_low < z.ci_high - z.ci_low
    assert ad.ci_high - ad.ci_low > z.ci_high - z.ci_low


def test_cumulative_and_fixed_effect_z():
    y, s = DATA["cohorts6"]
    cum = cumulative_fits(y, s, method="DL", test="z")
    assert cum[0] is None and len(cum) == 6
    assert cum[-1].estimate == pytest.approx(meta_fit(y, s, method="DL", test="z").estimate)
    assert cum[2].k == 3
    z, info = fixed_effect_z(y, s)
    w = 1 / np.asarray(s) ** 2
    assert info[-1] == pytest.approx(w.sum())
    # tau^2 = 0 here, so the last z equals the synthesis' z statistic
    assert z[-1] == pytest.approx(cum[-1].statistic)


@pytest.mark.parametrize(
    ("y", "s", "message"),
    [
        ([0.1], [0.2], "at least 2"),
        ([0.1, 0.2], [0.2, 0.0], "standard error number 2"),
        ([0.1, np.nan], [0.2, 0.3], "estimate number 2"),
        ([0.1, 0.2], [0.2], "2 estimates but 1"),
    ],
)
def test_kernel_rejects_bad_input(y, s, message):
    with pytest.raises(ValueError, match=message):
        meta_fit(y, s)


# -- the DataFrame function -------------------------------------------------------------------
def test_meta_analysis_summary_rows_match_metafor():
    d = pd.DataFrame({"trial": [f"T{i + 1}" for i in range(13)], "yi": BCG_YI, "sei": BCG_SEI})
    res = rm.meta_analysis(d, estimate="yi", se="sei", label="trial")
    s = res.summary
    assert list(s.metric) == ["pooled", "tau2", "i2", "h2", "q", "prediction"]
    pooled = res.row(metric="pooled")
    ref = METAFOR[1]  # bcg13, REML, knha
    assert ref[:3] == ("bcg13", "REML", "knha")
    assert pooled.estimate == pytest.approx(ref[3], abs=1e-6)
    assert (pooled.ci_low, pooled.ci_high) == pytest.approx(ref[5:7], abs=1e-5)
    assert pooled.p_value == pytest.approx(ref[7], rel=1e-4)
    assert pooled.n == 13 and pooled.df == 12
    assert res.row(metric="tau2").estimate == pytest.approx(ref[8], abs=1e-5)
    assert res.row(metric="i2").estimate == pytest.approx(ref[9], abs=1e-3)
    pi = res.row(metric="prediction")
    assert (pi.ci_low, pi.ci_high) == pytest.approx(ref[12:14], abs=1e-5)
    # studies in order with weights summing to 100; cumulative row k is the first k studies
    assert list(res.studies_.label) == list(d.trial)
    assert res.studies_.weight.sum() == pytest.approx(100)
    c = res.cumulative_
    assert list(c.k) == list(range(1, 14))
    assert c.estimate.iloc[0] == pytest.approx(BCG_YI[0])
    assert c.estimate.iloc[-1] == pytest.approx(pooled.estimate)
    third = meta_fit(BCG_YI[:3], BCG_SEI[:3])
    assert c.estimate.iloc[2] == pytest.approx(third.estimate)
    assert c.pi_high.iloc[2] == pytest.approx(third.pi_high)
    assert "Knapp-Hartung" in res.notes[0]


def test_meta_analysis_names_every_bad_row():
    d = pd.DataFrame({"c": ["C1", "C2", "C3"], "y": [0.1, np.nan, 0.3], "se": [0.2, 0.3, -1]})
    with pytest.raises(ValueError) as err:
        rm.meta_analysis(d, estimate="y", se="se", label="c")
    text = str(err.value)
    assert "row 2 (c = 'C2'), column 'y': value 'nan': an estimate must be a finite number" in text
    assert "row 3 (c = 'C3'), column 'se': value '-1.0': a standard error must be a finite " in text
    with pytest.raises(KeyError, match="no column"):
        rm.meta_analysis(d, estimate="nope", se="se")
    with pytest.raises(ValueError, match="method"):
        rm.meta_analysis(d.dropna(), estimate="y", se="se", method="HS")


def test_forest_and_cumulative_plots_draw_every_row():
    d = pd.DataFrame(
        {"cohort": ["C01", "C02", "C03"], "log_hr": [-0.6, -0.2, -0.4], "se": [0.45, 0.5, 0.4]}
    )
    res = rm.meta_analysis(d, estimate="log_hr", se="se", label="cohort")
    ax = res.plot(exponentiate=True)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["C01", "C02", "C03", "Synthesis"]
    # one interval line per cohort (a LineCollection of 3 segments) plus the dashed prediction
    segs = [len(c.get_segments()) for c in ax.collections if hasattr(c, "get_segments")]
    assert 3 in segs
    assert ax.get_xscale() == "log"
    assert len(ax.patches) == 1  # the diamond
    ax2 = res.plot_cumulative(exponentiate=True)
    labels2 = [t.get_text() for t in ax2.get_yticklabels()]
    assert labels2 == ["C01", "+ C02", "+ C03", "Next cohort (prediction)"]
    assert ax2.get_title(loc="left") == "Pooled estimate as studies accumulate"
    import matplotlib.pyplot as plt

    plt.close("all")
