"""The benchmark stages. Add one with a few lines::

    @stage("engagement_did", baseline=plain_statsmodels_did, target=1.25, setup=load_large)
    def engagement_did(ctx):
        rm.engagement_did(ctx.state["pilot"], ...)

``ctx.parquet`` / ``ctx.csv`` are the large organisation's folders, ``ctx.sample`` the committed
sample, ``ctx.state`` whatever ``setup`` returned (computed once per process, not timed).
"""

from __future__ import annotations

import hashlib
import pickle
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import plain
from harness import ROOT, Context, stage


# -- shared set-up helpers (untimed) -------------------------------------------------------------
def load_large(ctx: Context) -> dict:
    """Set-up for analysis stages: the large organisation, loaded and validated."""
    import rm_analytics as rm

    return {"pilot": rm.load_pilot(ctx.parquet, today=ctx.as_of)}


def _package_hash() -> str:
    h = hashlib.sha1()
    for f in sorted((ROOT / "rm_analytics").rglob("*.py")):
        h.update(f.read_bytes())
    return h.hexdigest()[:10]


def derived(ctx: Context, name: str, build: Callable[[], object]) -> object:
    """``build()`` once per data set and package version (pickled next to the data), so the
    set-up of a stage's many processes does not repeat an expensive preparation."""
    path = Path(ctx.data_dir) / f"derived-{_package_hash()}" / f"{name}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    value = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{id(value)}.tmp")
    tmp.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    tmp.replace(path)
    return value


# -- loading ----------------------------------------------------------------------------------
def read_parquet_files(ctx: Context) -> None:
    """Baseline: ``pandas.read_parquet`` of every table file, nothing else."""
    import pandas as pd

    for f in sorted(ctx.parquet.glob("*.parquet")):
        pd.read_parquet(f)


def read_csv_files(ctx: Context) -> None:
    """Baseline: ``pandas.read_csv(dtype=str)`` of every table file, nothing else."""
    import pandas as pd

    for f in sorted(ctx.csv.glob("*.csv")):
        pd.read_csv(f, dtype=str)


@stage("load_parquet", baseline=read_parquet_files, target=1.25)
def load_parquet(ctx: Context) -> None:
    """load_pilot (read, type, validate every rule) of the Parquet folder."""
    import rm_analytics as rm

    rm.load_pilot(ctx.parquet, today=ctx.as_of)


@stage("load_csv", baseline=read_csv_files, target=1.25)
def load_csv(ctx: Context) -> None:
    """load_pilot (read, type, validate every rule) of the CSV folder."""
    import rm_analytics as rm

    rm.load_pilot(ctx.csv, today=ctx.as_of)


# -- command line start-up ------------------------------------------------------------------
def _cli(ctx: Context) -> list[str]:
    script = Path(ctx.python).with_name("rm-analytics")
    return [str(script)] if script.exists() else [ctx.python, "-m", "rm_analytics.cli"]


def python_startup(ctx: Context) -> None:
    """Baseline: start the same interpreter and do nothing (``python -c pass``)."""
    subprocess.run([ctx.python, "-c", "pass"], check=True, capture_output=True)


@stage("cli_help", baseline=python_startup, target=0.5, absolute=True, needs_data=False)
def cli_help(ctx: Context) -> None:
    """`rm-analytics --help` in a new process (target: absolute seconds)."""
    subprocess.run([*_cli(ctx), "--help"], check=True, capture_output=True)


# -- synthetic data ---------------------------------------------------------------------------
@stage("synthetic_generate", needs_data=False)
def synthetic_generate(ctx: Context) -> None:
    """synthetic.generate of the large organisation (informational, no target)."""
    from rm_analytics.data.synthetic import generate

    generate(**ctx.params)


# -- analysis stages on the large organisation ------------------------------------------------
class _Captured(Exception):
    """Raised by a spy to stop a pipeline once it has the frame it was after."""


def _matching_input(ctx: Context) -> dict:
    """The frame cohort_frame(control="matched") hands to match_controls (participants and the
    person x cohort pool of eligible non-participants) and the keyword arguments."""

    def build() -> dict:
        from rm_analytics import matching, retention

        pilot = load_large(ctx)["pilot"]
        got: dict = {}
        real = matching.match_controls

        def spy(data, **kwargs):
            got.update(data=data, kwargs=kwargs)
            raise _Captured

        matching.match_controls = spy
        try:
            retention.cohort_frame(pilot, control="matched")
        except _Captured:
            pass
        finally:
            matching.match_controls = real
        return got

    return derived(ctx, "matching_input", build)


def _matched_frame(ctx: Context) -> dict:
    """The matched retention frame (participants and matched controls) and pilot_retention's tau."""

    def build() -> dict:
        from rm_analytics import retention

        frame = retention.cohort_frame(load_large(ctx)["pilot"], control="matched")
        frame.attrs.pop("matching", None)
        reach = frame.groupby("treated").duration.max().min()
        return {"frame": frame, "tau": float(min(24.0, reach))}

    return derived(ctx, "matched_frame", build)


@stage(
    "matching",
    baseline=lambda ctx: plain.matching(
        ctx.state["data"],
        ctx.state["kwargs"]["covariates"],
        ratio=ctx.state["kwargs"]["ratio"],
        caliper=ctx.state["kwargs"]["caliper"],
    ),
    target=1.25,
    setup=_matching_input,
    warmup=0,
    check=lambda ctx, res: {
        "participants matched (package / plain)": (
            f"{int((res.matched_.treated == 1).sum())} / "
            f"{int((plain.matching(ctx.state['data'], ctx.state['kwargs']['covariates'])['matched'].treated == 1).sum())}"
        ),
        "candidate rows": f"{len(ctx.state['data']):,}",
    },
)
def matching_stage(ctx: Context):
    """match_controls (logit PS, greedy 2:1 NN in cohort, caliper, balance) vs plain Logit + NN."""
    from rm_analytics.metrics.matching import match_controls

    return match_controls(ctx.state["data"], **ctx.state["kwargs"])


def _retention_args(frame) -> dict:
    return dict(
        duration="duration",
        event="event",
        group="treated",
        treated=1,
        cluster="cluster_id",
        competing="competing",
        horizons=[6.0, 12.0, 24.0],
        strata="cohort_id" if frame.cohort_id.nunique() > 1 else None,
    )


def _phreg_se(value: float) -> str:
    """statsmodels PHReg's clustered SE, which comes back NaN on some large or stratified
    data sets (its robust covariance, not the package's); said so rather than printed as nan."""
    return f"{value:.8f}" if value == value else "NaN from statsmodels"


def _check_retention(ctx: Context, res) -> dict:
    """The package's Cox (own Efron code, clustered sandwich) vs lifelines and PHReg."""
    import statsmodels.api as sm

    f = ctx.state["frame"]
    b, se = float(res.cox_.coef[0]), float(res.cox_.se[0])
    ll = plain.retention(f, tau=ctx.state["tau"], precision=1e-12)
    strata = f.cohort_id.to_numpy() if f.cohort_id.nunique() > 1 else None
    ph = sm.PHReg(
        f.duration, f[["treated"]].astype(float), status=f.event, ties="efron", strata=strata
    ).fit(groups=f.cluster_id.to_numpy())
    if abs(b - ll["coef"]) > 1e-6 or abs(b - float(ph.params[0])) > 1e-6:
        raise AssertionError(
            f"log HR differs: package {b}, lifelines {ll['coef']}, PHReg {ph.params[0]}"
        )
    return {
        "rows": f"{len(f):,}",
        "log HR (package / lifelines, precision 1e-12 / PHReg)": f"{b:.8f} / {ll['coef']:.8f} / {ph.params[0]:.8f}",
        "clustered SE (package / lifelines / PHReg)": f"{se:.8f} / {ll['se']:.8f} / "
        f"{_phreg_se(ph.bse[0])}",
    }


@stage(
    "retention",
    baseline=lambda ctx: plain.retention(ctx.state["frame"], tau=ctx.state["tau"]),
    target=1.25,
    setup=_matched_frame,
    check=_check_retention,
)
def retention_stage(ctx: Context):
    """compare_retention on the matched frame vs lifelines Cox/KM/log-rank/RMST/AJ + Fisher."""
    from rm_analytics.metrics.retention import compare_retention

    f = ctx.state["frame"]
    return compare_retention(f, tau=ctx.state["tau"], **_retention_args(f))


COX_ROWS = 50_000


def _cox_frame(ctx: Context) -> dict:
    """Whole-organisation survival frame: months from hire to voluntary exit (censored at
    as_of), performance rating and grade as covariates, clustered by manager."""
    import numpy as np
    import pandas as pd

    emp = pd.read_parquet(ctx.parquet / "employees.parquet").head(COX_ROWS)
    as_of = pd.Timestamp(ctx.as_of)
    hire, term = pd.to_datetime(emp.hire_date), pd.to_datetime(emp.termination_date)
    stop = term.where(term <= as_of).fillna(as_of)
    df = pd.DataFrame(
        {
            "T": np.maximum((stop - hire).dt.days / 30.4375, 0.01),
            "E": ((term <= as_of) & emp.termination_type.eq("voluntary")).astype(int),
            "perf": emp.performance_rating.fillna(emp.performance_rating.median()).astype(float),
            "grade": emp.level.str[1:].astype(float),
            "cluster": emp.manager_id.fillna("none").astype(str),
        }
    )
    return {"df": df, "covs": ["perf", "grade"]}


def _check_cox(ctx: Context, fit) -> dict:
    import numpy as np

    from rm_analytics.metrics.retention import cox_efron

    df, covs = ctx.state["df"], ctx.state["covs"]
    d = df[["T", "E", *covs, "cluster"]]
    b_ll, se_ll = plain.cox_lifelines(d, precision=1e-12)
    b_ph, se_ph = plain.cox_phreg(df, covs)
    _, mse_ll = plain.cox_lifelines(d, robust=False, precision=1e-12)
    _, mse_ph = plain.cox_phreg(df, covs, robust=False)
    model = cox_efron(df["T"], df["E"], df[covs].to_numpy())
    mse = np.sqrt(np.diag(model.var_model))
    worst = float(max(np.abs(fit.coef - b_ll).max(), np.abs(fit.coef - b_ph).max()))
    worst_se = float(max(np.abs(mse - mse_ll).max(), np.abs(mse - mse_ph).max()))
    if worst > 1e-6 or worst_se > 1e-6:
        raise AssertionError(f"Cox differs: coefficients by {worst:.3g}, SEs by {worst_se:.3g}")
    rel = lambda a: float(np.abs(fit.se / a - 1).max())  # noqa: E731
    vec = lambda v: " ".join(f"{x:.8f}" for x in v)  # noqa: E731
    return {
        "rows": f"{len(df):,}",
        "max |log HR difference| vs lifelines (precision 1e-12) and PHReg": f"{worst:.1e}",
        "max |model-based SE difference| vs lifelines and PHReg": f"{worst_se:.1e}",
        "log HR (package)": vec(fit.coef),
        "clustered robust SE package | lifelines | PHReg": " | ".join(
            (vec(fit.se), vec(se_ll), " ".join(_phreg_se(v) for v in se_ph))
        ),
        "relative robust-SE difference vs lifelines": f"{rel(se_ll):.1e} (lifelines' own "
        "sandwich convention for tied times)",
    }


@stage(
    "cox_robust",
    baseline=lambda ctx: plain.cox_lifelines(
        ctx.state["df"][["T", "E", *ctx.state["covs"], "cluster"]]
    ),
    target=1.25,
    setup=_cox_frame,
    warmup=0,
    check=_check_cox,
)
def cox_robust(ctx: Context):
    """Cox (Efron) with clustered robust variance, 50,000 employees: package vs lifelines."""
    from rm_analytics.metrics.retention import cox_efron

    df, covs = ctx.state["df"], ctx.state["covs"]
    return cox_efron(df["T"], df["E"], df[covs].to_numpy(), cluster=df["cluster"].to_numpy())


def _did_input(ctx: Context) -> dict:
    """The stacked panel pilot_engagement fits for the engagement index of all participants."""

    def build() -> dict:
        from rm_analytics import engagement

        calls: list = []
        real = engagement.difference_in_differences

        def spy(data, **kwargs):
            calls.append((data, kwargs))
            return real(data, **kwargs)

        engagement.difference_in_differences = spy
        try:
            engagement.pilot_engagement(load_large(ctx)["pilot"], event_study_check=False)
        finally:
            engagement.difference_in_differences = real
        data, kwargs = max(calls, key=lambda c: len(c[0]))
        return {"data": data, "kwargs": kwargs}

    return derived(ctx, "did_input", build)


def _check_did(ctx: Context, res) -> dict:
    s = res.summary.iloc[0]
    p = plain.did(ctx.state["data"], ctx.state["kwargs"].get("covariates") or [])
    if abs(s.estimate - p["estimate"]) > 1e-6:
        raise AssertionError(f"DiD estimate differs: {s.estimate} vs {p['estimate']}")
    return {
        "answers": f"{int(s.n):,} in {int(s.n_clusters):,} clusters",
        "estimate (package / statsmodels)": f"{s.estimate:.8f} / {p['estimate']:.8f}",
        "cluster SE (package CR2 / statsmodels CR1)": f"{s.se:.8f} / {p['se']:.8f}",
    }


@stage(
    "engagement_did",
    baseline=lambda ctx: plain.did(ctx.state["data"], ctx.state["kwargs"].get("covariates") or []),
    target=1.25,
    setup=_did_input,
    check=_check_did,
)
def engagement_did(ctx: Context):
    """difference_in_differences on the stacked index panel vs statsmodels OLS (cluster)."""
    from rm_analytics.metrics.engagement import difference_in_differences

    return difference_in_differences(ctx.state["data"], **ctx.state["kwargs"])


@stage("engagement_pilot", setup=load_large, warmup=0)
def engagement_pilot(ctx: Context):
    """pilot_engagement end to end: index, stacking, 6 DiD fits, event study (informational)."""
    from rm_analytics.metrics.engagement import pilot_engagement

    return pilot_engagement(ctx.state["pilot"])


def _check_skills(ctx: Context, res) -> dict:
    p = plain.skills(ctx.state["pilot"])
    s = res.summary.set_index(["role", "metric"])
    out = {}
    for role, who in (("mentee", "mentees"), ("mentor", "mentors")):
        for metric, key in (("change", who), ("change_vs_control", f"{who}_vs_control")):
            if (role, metric) not in s.index or key not in p:
                continue
            a, b = float(s.loc[(role, metric), "estimate"]), p[key][0]
            if abs(a - b) > 1e-9 and a == a:  # a NaN estimate is a suppressed small group
                raise AssertionError(f"skills {role} {metric}: package {a}, plain {b}")
            out[f"{who} {metric} (package / plain)"] = f"{a:.6f} / {b:.6f}"
    return out


@stage(
    "skills",
    baseline=lambda ctx: plain.skills(ctx.state["pilot"]),
    target=1.25,
    setup=load_large,
    check=_check_skills,
)
def skills_stage(ctx: Context):
    """pilot_skills (pre/post per role, change vs control) vs pivot + ttest_rel + Welch."""
    from rm_analytics.metrics.skills import pilot_skills

    return pilot_skills(ctx.state["pilot"])


def _safety_setup(ctx: Context) -> dict:
    state = load_large(ctx)
    state["as_of"] = state["pilot"].analysis_date()
    return state


def _check_safety(ctx: Context, flags) -> dict:
    flags = flags.flags_  # the FlagResult's list of raised flags
    p = plain.safety(ctx.state["pilot"], ctx.state["as_of"])
    want = {
        "LOW_SAFETY": len(p["low"]) + len(p["feedback_low"]),
        "SAFETY_DROP": len(p["drop"]),
        "DIVERGENCE": len(p["divergence"]),
        "REVERSE_ITEM_ALERT": len(p["reverse"]),
        "CONFLICT_OF_INTEREST": p["conflict"],
    }
    out = {}
    for code, count in want.items():
        got = int((flags.flag.astype(str) == code).sum())
        if got != count:
            raise AssertionError(f"{code}: package {got} flags, plain pandas {count}")
        out[f"{code} (package / plain)"] = f"{got} / {count}"
    out["flags of all 8 codes (package)"] = str(len(flags))
    return out


@stage(
    "safety_flags",
    baseline=lambda ctx: plain.safety(ctx.state["pilot"], ctx.state["as_of"]),
    target=1.25,
    setup=_safety_setup,
    check=_check_safety,
)
def safety_flags(ctx: Context):
    """flag_pairs (8 flag codes) vs plain pandas scale scores + the 4 pulse-score rules."""
    from rm_analytics.metrics.safety import flag_pairs

    return flag_pairs(ctx.state["pilot"], as_of=ctx.state["as_of"])


def _roi_setup(ctx: Context) -> dict:
    state = load_large(ctx)

    def build():
        from rm_analytics.metrics.retention import pilot_retention

        return pilot_retention(state["pilot"])

    state["retention"] = derived(ctx, "retention_designated", build)
    state["attrition"] = state["retention"].attrition_at(12)
    return state


def _check_roi(ctx: Context, res) -> dict:
    p = plain.roi(ctx.state["pilot"], ctx.state["attrition"])
    return {
        "cost (package / plain)": f"{res.inputs_['costs']:,.0f} / {p['cost']:,.0f}"
        if "costs" in res.inputs_
        else f"? / {p['cost']:,.0f}",
        "ROI % (package / plain)": f"{res.roi_pct:.1f} / {p['roi_pct']:.1f}",
    }


@stage(
    "roi",
    baseline=lambda ctx: plain.roi(ctx.state["pilot"], ctx.state["attrition"]),
    target=1.25,
    setup=_roi_setup,
    check=_check_roi,
)
def roi_stage(ctx: Context):
    """program_costs + roi_from_retention vs the plain cost and ROI arithmetic."""
    from rm_analytics.metrics.roi import participant_salary, program_costs, roi_from_retention

    pilot = ctx.state["pilot"]
    costs = program_costs(pilot)
    return roi_from_retention(ctx.state["retention"], costs=costs, salary=participant_salary(pilot))


# -- the report on the committed sample ------------------------------------------------------
FLOOR_LIBRARIES = (
    "pandas",
    "numpy",
    "scipy",
    "statsmodels.api",
    "lifelines",
    "matplotlib.pyplot",
    "seaborn",
    "rm_analytics",
)


def report_floor(ctx: Context) -> None:
    """Floor: an empty parameterized notebook importing the same libraries, executed with
    papermill on the report's kernel set-up, exported to HTML with the report's exporter."""
    import nbformat
    import papermill as pm

    from rm_analytics.report import runner as report

    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(f"data = {ctx.sample!r}\ncohort = None\nas_of = None")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        nbformat.v4.new_code_cell("\n".join(f"import {m}" for m in FLOOR_LIBRARIES)),
    ]
    nb.metadata["kernelspec"] = {
        "name": report.KERNEL_NAME,
        "language": "python",
        "display_name": "python",
    }
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        src = tmp / "floor.ipynb"
        nbformat.write(nb, str(src))
        (tmp / "work").mkdir()
        out = pm.execute_notebook(
            str(src),
            str(tmp / "executed.ipynb"),
            parameters={"data": ctx.sample},
            kernel_name=report.KERNEL_NAME,
            language="python",
            kernel_manager_class=report._kernel_manager_class(tmp),
            start_timeout=120,
            progress_bar=False,
            log_output=False,
            cwd=str(tmp / "work"),
            request_save_on_cell_execute=False,
        )
        html = report.export_html(out, title="floor", audience="sponsor")
        (tmp / "floor.html").write_text(html, encoding="utf-8")
        nbformat.write(out, str(tmp / "floor-out.ipynb"))


@stage("report_sample", baseline=report_floor, target=1.5, warmup=0, needs_data=False)
def report_sample(ctx: Context) -> None:
    """render(data/sample) sponsor report (load, validate, execute, HTML) vs the empty notebook."""
    from rm_analytics.report import render

    with tempfile.TemporaryDirectory() as tmp:
        render(ctx.sample, tmp, quiet=True)


def _render_each(ctx: Context, jobs: int) -> None:
    from rm_analytics.report import render

    with tempfile.TemporaryDirectory() as tmp:
        render(ctx.sample, tmp, cohort="each", jobs=jobs, quiet=True)


@stage("report_each_jobs2", baseline=lambda ctx: _render_each(ctx, 1), warmup=0, needs_data=False)
def report_each_jobs2(ctx: Context) -> None:
    """render(cohort="each", jobs=2) vs jobs=1 on the sample (informational: 1/ratio = speed-up)."""
    _render_each(ctx, 2)


# -- everything at once: peak memory -----------------------------------------------------------
@stage("full_evaluation", warmup=0, max_peak_mb=4096)
def full_evaluation(ctx: Context) -> None:
    """load + every analysis of the large organisation in one process (peak memory < 4 GB)."""
    import rm_analytics as rm
    from rm_analytics import delivery, engagement, retention, roi, safety, skills

    pilot = rm.load_pilot(ctx.parquet, today=ctx.as_of)
    ret = retention.pilot_retention(pilot)
    retention.pilot_retention(pilot, control="matched")
    engagement.pilot_engagement(pilot)
    skills.pilot_skills(pilot)
    safety.flag_pairs(pilot)
    safety.safety_summary(pilot)
    delivery.delivery_summary(pilot)
    costs = roi.program_costs(pilot)
    roi.roi_from_retention(ret, costs=costs, salary=roi.participant_salary(pilot))
