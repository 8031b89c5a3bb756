"""Return on investment, power for the next cohort, external benchmarks, control balance."""

from __future__ import annotations

import pandas as pd

from ...errors import InsufficientDataError
from ..formatting import fmt_currency, fmt_value, is_finite
from ..section import SectionContext, SectionResult, section
from ._common import add_row, carry_notes, result_figure, retention_fit


@section(
    "roi",
    title="Return on investment and sensitivity",
    part="roi",
    audiences=("sponsor",),
)
def roi_section(ctx: SectionContext) -> SectionResult:
    from ...metrics.roi import (
        participant_salary,
        program_costs,
        roi_from_retention,
        sensitivity,
    )

    r = retention_fit(ctx)
    p = ctx.params
    role = "mentee" if p.primary_population == "mentee" else "mentor"
    costs = program_costs(ctx.pilot, currency=p.currency, as_of=ctx.as_of)
    salary = participant_salary(ctx.pilot, role=role)
    roi = roi_from_retention(
        r, costs=costs, salary=salary, replacement_share=p.replacement_cost_share,
        horizon=min(p.horizon_months, 12), currency=p.currency,
    )  # fmt: skip
    res = SectionResult()
    row = roi.row(metric="roi_pct")
    m = add_row(ctx, "roi_pct", row,
        label="Return on investment, first year (%)", unit="percent", n=None,
        section="roi", headline="roi", method="Phillips ROI on the measured retention difference; "
        "interval maps the difference's 95% interval (exact: ROI is linear in it)",
    )  # fmt: skip
    m.verdict = roi.verdict
    if not is_finite(row.estimate) and is_finite(row.ci_low) and is_finite(row.ci_high):
        # Phillips: no improvement claimed on noise; the range is all there is to show
        m.display = (
            f"range {fmt_value(row.ci_low, 'percent')} to {fmt_value(row.ci_high, 'percent')}"
        )
    ctx.metrics.add(
        "program_cost",
        costs.total,
        label="Fully loaded program cost",
        unit="currency",
        section="roi",
    )
    be = roi.row(metric="break_even_exits")
    ctx.metrics.add(
        "break_even_exits", be.estimate, label="Prevented exits needed to pay for the program",
        unit="number", section="roi",
    )  # fmt: skip
    res.text.append(roi.statement())
    c = costs.summary
    res.add_table(
        "Program costs",
        pd.DataFrame(
            {
                "Item": c["item"].astype(str),
                "Basis": c["basis"].astype(str),
                "Amount": c["amount"].map(lambda v: fmt_currency(v, p.currency)),
            }
        ),
        "Assumptions (loaded hourly rates, kickoff and coordinator hours) are parameters of "
        "rm_analytics.roi.program_costs.",
    )
    sens = sensitivity(roi, salary=salary)
    res.add_table(
        "Sensitivity of the ROI (percent) to each assumption",
        sens.summary.rename(columns=lambda col: col.replace("_", " ").capitalize()),
    )
    result_figure(
        res,
        sens,
        "Figure: how the ROI moves when one assumption changes (tornado chart).",
        title="ROI sensitivity",
        x="ROI (%)",
        y="assumption",
    )
    carry_notes(res, roi)
    return res


@section(
    "power",
    title="Power and what the next cohort needs",
    part="power",
    audiences=("sponsor",),
)
def power_section(ctx: SectionContext) -> SectionResult:
    from ...metrics.power import mde_paired, planning_statement

    r = retention_fit(ctx)
    res = SectionResult()
    n_pairs = len(ctx.pilot.pairs)
    a = r.attrition_at(ctx.params.horizon_months)
    n_t, n_c = a["n_treated"], a["n_control"]
    pc = a["control"] if is_finite(a["control"]) and a["control"] > 0 else None
    ratio = n_c / n_t if n_t else 1.0
    res.text.append(
        planning_statement(
            n_pairs,
            outcome="retention",
            p_event_control=pc if pc is not None else 0.15,
            controls_per_participant=ratio,
            horizon_months=ctx.params.horizon_months,
        )
        + ("" if pc is not None else " (control attrition assumed at 15%: none observed yet.)")
    )
    res.text.append(planning_statement(n_pairs, outcome="paired"))
    ctx.metrics.add(
        "mde_paired_dz", mde_paired(n_pairs), label=f"Smallest paired effect (d_z) detectable with {n_pairs} pairs",
        unit="number", section="power", digits=2, method="paired t-test, 80% power, two-sided alpha 0.05",
    )  # fmt: skip
    return res


@section(
    "benchmarks",
    title="External benchmarks",
    part="benchmarks",
    audiences=("sponsor",),
)
def benchmarks_section(ctx: SectionContext) -> SectionResult:
    from ...metrics.external import external_benchmarks

    res = SectionResult()
    b = external_benchmarks()
    res.text.append(
        "For context only: these figures come from other organisations, mostly without a "
        "control group. They are not comparable with this pilot and never enter the ROI."
    )
    res.add_table(
        "Published figures (context only)",
        b.rename(columns=lambda col: col.replace("_", " ").capitalize()),
    )
    return res


@section(
    "balance",
    title="Control-group balance",
    part="appendix",
    audiences=("sponsor",),
    order=50,
)
def balance_section(ctx: SectionContext) -> SectionResult:
    from ...metrics.matching import balance_table

    r = retention_fit(ctx)
    res = SectionResult()
    bal = r.balance_
    if bal is None:
        frame = r.frame_
        covs = [
            c
            for c in ("tenure_years", "level", "department", "age_band", "performance_rating")
            if c in frame
        ]
        if not covs:
            raise InsufficientDataError("no covariates to compare the groups on")
        bal = balance_table(frame, treatment="treated", covariates=covs)
        res.text.append(
            "The control group is the designated waitlist. Standardized mean differences (pooled SD "
            "of the two groups; |SMD| < 0.1 is the usual balance threshold) show how similar the groups are at the start."
        )
    else:
        res.text.append(
            "The control group was matched on the propensity score; balance before and after matching:"
        )
    shown = bal.copy()
    for col in shown.columns:
        if pd.api.types.is_float_dtype(shown[col]):
            shown[col] = shown[col].map(lambda v: f"{v:.2f}" if is_finite(v) else "")
    res.add_table("Covariate balance (standardized mean differences)", shown)
    return res
