"""Return on investment, what a decision on retention would need, and the appendix sections
on the control group's balance and external benchmarks."""

from __future__ import annotations

import math

import pandas as pd

from ...errors import InsufficientDataError
from ..formatting import fmt_count, fmt_currency, fmt_pct, fmt_value, is_finite
from ..language import plain
from ..section import SectionContext, SectionResult, section
from ._common import (
    ROLE_LABEL,
    add_row,
    carry_notes,
    control_attrition,
    feasibility,
    retention_fit,
    retention_groups,
    shown,
)


def leavers_per_100(difference: float) -> str:
    """An attrition difference (control minus participants) as leavers per 100 participants:
    ``0.13 -> "13 fewer leavers"``, ``-0.21 -> "21 more leavers"``."""
    if not is_finite(difference):
        return "not estimable"
    n = round(100 * float(difference))
    if n == 0:
        return "no difference in leavers"
    return f"{abs(n)} {'fewer' if n > 0 else 'more'} leavers"


def _return_words(roi_pct: float) -> str:
    """What a return on investment means in money terms, for the range sentence."""
    if not is_finite(roi_pct):
        return ""
    r = float(roi_pct)
    if r < -100:
        return (
            f"the cost lost and a further {fmt_pct((-r - 100) / 100)} of it in extra replacements"
        )
    if r < 0:
        return f"avoided replacements recovering {fmt_pct((100 + r) / 100)} of the cost"
    return f"the cost recovered {1 + r / 100:.1f} times"


def _given_cost_lines(ctx: SectionContext) -> list[tuple[str, float, str]]:
    """Cost lines not computed from people's time: report settings and the costs table."""
    p = ctx.params
    lines: list[tuple[str, float, str]] = []
    if p.cost_external:
        lines.append(("external fees", float(p.cost_external), "report setting"))
    for name, amount in (p.cost_other or {}).items():
        lines.append((str(name), float(amount), "report setting"))
    table = ctx.pilot.costs
    if table is not None and len(table):
        for item, amount in (
            table.groupby(table["item"].astype(str), sort=False)["amount"].sum().items()
        ):
            lines.append((item, float(amount), "costs table"))
    seen: dict[str, int] = {"software": 1} if p.cost_software else {}
    out = []
    for name, amount, basis in lines:
        key = name.strip().lower()
        label = name if key not in seen else f"{name} ({basis})"
        seen[key] = seen.get(key, 0) + 1
        out.append((label, amount, basis))
    return out


@section(
    "roi",
    title="Return on investment",
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
    retention_groups(ctx, "The return on investment")
    p = ctx.params
    role = "mentee" if p.primary_population == "mentee" else "mentor"
    who = ROLE_LABEL.get(p.primary_population, "participants")
    given = _given_cost_lines(ctx)
    costs = program_costs(
        ctx.pilot,
        currency=p.currency,
        as_of=ctx.as_of,
        loading=p.salary_loading,
        kickoff_hours=p.kickoff_hours,
        coordinator_hours_per_pair=p.coordinator_hours_per_pair,
        software=p.cost_software,
        other=[(name, amount) for name, amount, _ in given],
    )
    salary = participant_salary(ctx.pilot, role=role)
    horizon = min(p.horizon_months, 12)
    roi = roi_from_retention(
        r,
        costs=costs,
        salary=salary,
        replacement_share=p.replacement_cost_share,
        horizon=horizon,
        currency=p.currency,
    )
    res = SectionResult()
    cur = p.currency

    def money(x: float) -> str:
        return fmt_currency(x, cur)

    row = roi.row(metric="roi_pct")
    m = add_row(
        ctx,
        "roi_pct",
        row,
        label="Return on investment, first year (%)",
        unit="percent",
        n=None,
        section="roi",
        headline="roi",
        method="Phillips ROI on the measured retention difference; "
        "interval maps the difference's 95% interval (exact: ROI is linear in it)",
    )
    m.verdict = roi.verdict_
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
        "break_even_exits",
        be.estimate,
        label="Prevented exits needed to pay for the program",
        unit="number",
        section="roi",
    )

    # -- the words ----------------------------------------------------------------------------
    c = costs.summary
    lines = c[c["metric"] != "total"]
    time_total = float(lines.loc[lines["time_cost"].astype(bool), "amount"].sum())
    other_total = costs.total - time_total
    cost_sentence = (
        f"The program cost {money(costs.total)} up to {ctx.as_of:%d %B %Y}: "
        f"{money(time_total)} of people's time (sessions, kickoff training and coordination) "
        f"and {money(other_total)} of software, fees and other lines."
        if other_total > 0
        else f"The program cost {money(costs.total)} up to {ctx.as_of:%d %B %Y}, all of it "
        "people's time (sessions, kickoff training and coordination)."
    )
    d = roi.row(metric="attrition_difference")
    n = roi.inputs_["n_participants"]
    if roi.verdict_ == "not demonstrated":
        lo, hi = float(d.ci_low), float(d.ci_high)
        what = (
            f"Its return through retention is not demonstrated: the data cannot tell whether "
            f"the program changed how many {who} left. If it changed leaving anywhere within "
            f"what the data allow, from {leavers_per_100(lo)} to {leavers_per_100(hi)} per 100 "
            f"{who} within the first year, the first-year return would lie between "
            f"{fmt_value(row.ci_low, 'percent')} ({_return_words(row.ci_low)}) and "
            f"{fmt_value(row.ci_high, 'percent')} ({_return_words(row.ci_high)})."
        )
    elif roi.verdict_ == "not estimable":
        what = (
            f"Its return through retention cannot be estimated yet: the share of {who} still "
            f"employed after {horizon} months is not known for both groups."
        )
    else:
        words = {
            "pays back": "it pays back even at the cautious end",
            "payback uncertain": "whether it pays back is not settled",
            "does not pay back": "it does not pay back even at the favourable end",
            "retention worse": "participants left more often than the control group",
        }.get(roi.verdict_, roi.verdict_)
        what = (
            f"The program led to {leavers_per_100(d.estimate)} per 100 {who} within the first "
            f"year ({leavers_per_100(d.ci_low)} to {leavers_per_100(d.ci_high)}), a first-year "
            f"return of {m.display}: {words}."
        )
    res.text.append(cost_sentence)
    res.text.append(what)
    if is_finite(be.estimate):
        pay = (
            f"To pay for itself through retention alone, the program would have to prevent "
            f"{fmt_value(be.estimate, 'number')} exits among the {fmt_count(n)} {who} within a "
            f"year ({leavers_per_100(be.estimate / n)} per 100)"
        )
        pay += (
            f": more than there are {who}, so retention alone cannot pay for it."
            if be.estimate > n
            else "."
        )
        res.text.append(pay)
    res.text.append(
        f"A leaver is costed at {fmt_pct(p.replacement_cost_share)} of a year's salary (the "
        "median of 30 case studies compiled by the Center for American Progress, 2012); "
        "benefits count the first year only."
    )
    ctx.sentences["roi"] = f"{cost_sentence} {what}"

    # -- costs table -------------------------------------------------------------------------------
    basis = {name: b for name, _, b in given}
    if p.cost_software:
        basis["software"] = "report setting"
    off = _cost_lines_hidden(ctx, c)
    lines_shown = pd.DataFrame(
        {
            "Cost line": c["metric"].astype(str).str.capitalize(),
            "How it was computed": [
                shown(h, basis.get(item, plain(b) if b != "given" else "report setting"))
                for item, b, h in zip(
                    c["metric"].astype(str), c["basis"].astype(str), off, strict=True
                )
            ],
            "Amount": [shown(h, money(v)) for v, h in zip(c["amount"], off, strict=True)],
        }
    )
    lines_shown = lines_shown[(c["amount"] > 0) | (c["metric"] == "total")]
    res.add_table(
        "Program costs",
        lines_shown,
        "People's time is costed at their salary with employer on-costs "
        f"(x {p.salary_loading:g}) over 1,720 paid hours a year. Costs not in the data "
        "(software, external fees, other lines) come from the report's cost settings or a "
        "costs table.",
    )

    # -- sensitivity ----------------------------------------------------------------------------
    at = None if roi.demonstrated else float(d.ci_high)
    if roi.verdict_ == "not estimable" or (at is not None and not is_finite(at)):
        carry_notes(res, roi)
        return res
    sens = sensitivity(roi, salary=salary, at_difference=at)
    t = sens.summary
    factor_names = {
        "attrition difference": "Effect on leaving (across its 95% interval)",
        "replacement cost": "Cost of replacing a leaver",
        "hourly rate": "Cost of people's time",
        "given costs": "Software, fees and other lines",
    }

    def setting(factor: str, v: float) -> str:
        if not is_finite(v):
            return "not estimable"
        if factor == "attrition difference":
            return f"{leavers_per_100(v)} per 100"
        if factor == "replacement cost":
            return f"{v:g} x salary ({money(v * salary)})"
        return f"{fmt_pct(v)} of the base"

    table = pd.DataFrame(
        {
            "Assumption": t.metric.map(factor_names).fillna(t.metric.map(plain)),
            "Low setting": [setting(f, v) for f, v in zip(t.metric, t.setting_low, strict=True)],
            "High setting": [setting(f, v) for f, v in zip(t.metric, t.setting_high, strict=True)],
            "Return at low": t.roi_at_low.map(lambda v: fmt_value(v, "percent")),
            "Return at high": t.roi_at_high.map(lambda v: fmt_value(v, "percent")),
        }
    )
    base = float(t.base_roi.iloc[0]) if len(t) else float("nan")
    reference = (
        f"the estimate (return {fmt_value(base, 'percent')})"
        if at is None
        else f"the most favourable effect the data allow, {leavers_per_100(at)} per 100 "
        f"{who} (return {fmt_value(base, 'percent')})"
    )
    res.add_table(
        "How the return changes with each assumption",
        table,
        f"Each row changes one assumption; the others stay at {reference}.",
    )
    ax = sens.plot()
    ax.set_yticklabels(
        [factor_names.get(x.get_text(), plain(x.get_text())) for x in ax.get_yticklabels()]
    )
    ax.set_title("How the return changes with each assumption")
    ax.set_xlabel("first-year return on investment (%)")
    ax.set_ylabel("assumption")
    res.add_figure(
        ax.figure,
        "Figure: How the return changes with each assumption. First-year return on investment "
        "when one assumption moves from its low to its high setting, one bar per assumption; "
        f"the solid line is {reference}, the dashed line break-even.",
        alt="Tornado chart of the return on investment",
    )
    carry_notes(res, roi)
    return res


def _cost_lines_hidden(ctx: SectionContext, costs: pd.DataFrame) -> pd.Series:
    """Cost lines computed from the salaries of fewer than ``k`` people are hidden for
    sponsors (a salary could be worked out from its line and the hours), with complementary
    lines so that none follows from the total."""
    import numpy as np

    from ..privacy import complement_line

    policy = ctx.privacy
    off = pd.Series(False, index=costs.index)
    if not policy.active:
        return off
    p = ctx.pilot
    met = 0
    if p.sessions is not None:
        met = int(p.sessions[p.sessions.status.astype(str) == "held"].pair_id.nunique())
    people = {
        "mentor session time": met or len(p.pairs),
        "mentee session time": met or len(p.pairs),
        "kickoff training": len(p.participants("both").employee_id.unique()),
    }
    lines = costs["metric"].astype(str) != "total"
    n = np.array([people.get(i, np.inf) for i in costs["metric"].astype(str)[lines]], dtype=float)
    n = np.where(np.isinf(n), 1e9, n)
    start = np.array([policy.small(v) for v in n])
    amounts = costs["amount"][lines].to_numpy(float)
    mask, disclosed = complement_line(np.where(amounts > 0, n, 0.0), start, policy.min_group)
    off[lines] = mask
    off[~lines] = disclosed
    return off


@section(
    "power",
    title="What a decision on retention would need",
    part="power",
    audiences=("sponsor",),
)
def power_section(ctx: SectionContext) -> SectionResult:
    from ...metrics.power import mde_hazard_ratio, mde_paired, n_paired

    p = ctx.params
    res = SectionResult()
    try:
        retention_groups(ctx, "What the retention comparison could detect")
    except InsufficientDataError as err:
        if "hidden" in str(err):
            raise
    n_pairs = len(ctx.pilot.pairs)
    who = ROLE_LABEL.get(p.primary_population, "participants")
    pc, basis = control_attrition(ctx)
    f = feasibility(ctx)
    try:
        a = retention_fit(ctx).attrition_at(p.horizon_months)
        n_t, n_c = a["n_treated"], a["n_control"]
    except InsufficientDataError:
        n_t = n_c = 0
    if n_t and n_c:
        x = mde_hazard_ratio(n_t, n_c, pc)
        now = (
            f"With {n_pairs} pairs this pilot could only detect a rate of leaving "
            f"{fmt_pct(x)} of the control group's or lower"
            if is_finite(x)
            else f"With {n_pairs} pairs this pilot could not reliably detect any reduction in "
            "leaving, not even to zero: too few people leave"
        )
        res.text.append(f"{now} ({basis}).")
    ratio = n_c / n_t if n_t else 1.0
    need = (
        f"Detecting a {1 - f.plausible_hazard_ratio:.0%} lower rate of leaving, a plausible "
        f"effect, would take about {f.pairs_needed:,} pairs ({f.cohorts_needed:,} cohorts of "
        f"{f.pairs_per_cohort}) with {ratio:.2g} controls per {who[:-1] if who.endswith('s') else who}"
    )
    if f.feasible:
        res.text.append(
            f"{need}: within reach of a realistic program ({f.realistic_cohorts} cohorts, "
            f"{f.realistic_pairs:,} pairs)."
        )
    else:
        res.text.append(
            f"{need}, far more than a realistic program runs ({f.realistic_pairs:,} pairs: "
            f"{f.realistic_cohorts} cohorts of this size, or the people eligible to mentor). "
            "More cohorts of this size will not settle retention: decide on engagement, skills "
            "and the cost."
        )
    ctx.metrics.add(
        "retention_pairs_needed",
        f.pairs_needed,
        unit="count",
        section="power",
        label=f"Pairs needed to detect a {1 - f.plausible_hazard_ratio:.0%} lower rate of leaving",
        method="Freedman's formula, 80% power, two-sided alpha 0.05",
    )
    ctx.metrics.add(
        "retention_realistic_pairs",
        f.realistic_pairs,
        unit="count",
        section="power",
        label="Pairs a realistic program runs",
    )
    if n_pairs >= 2:
        dz = mde_paired(n_pairs)
        z = n_paired(0.5)
        k = int(math.ceil(z / f.pairs_per_cohort))
        res.text.append(
            f"For changes measured on the same people before and after (such as skills), "
            f"{n_pairs} pairs detect a change of at least {dz:.2f} standard deviations of the "
            f"individual changes; a moderate change (half a standard deviation) needs {z} "
            f"pairs ({k} cohort{'s' if k != 1 else ''} of {f.pairs_per_cohort})."
        )
        ctx.metrics.add(
            "mde_paired_dz",
            dz,
            unit="number",
            section="power",
            digits=2,
            label=f"Smallest before-and-after change detectable with {n_pairs} pairs "
            "(standard deviations of the change)",
            method="paired t-test, 80% power, two-sided alpha 0.05",
        )
    return res


@section(
    "benchmarks",
    title="External benchmarks",
    part="appendix",
    audiences=("sponsor",),
    order=70,
    participants=False,
)
def benchmarks_section(ctx: SectionContext) -> SectionResult:
    from ...metrics.external import external_benchmarks

    res = SectionResult()
    b = external_benchmarks()
    res.text.append(
        "For context only: these figures come from other organisations and none had a control "
        "group, so none can be compared with this pilot's results; they never enter the return "
        "on investment."
    )
    res.add_table(
        "Published figures (context only)",
        pd.DataFrame(
            {
                "Benchmark": b.benchmark,
                "Figure": b.figure,
                "Source": b.citation,
                "Control group": b.control_group.map({True: "yes", False: "no"}),
            }
        ),
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
    from ...metrics.matching import SMD_THRESHOLD, balance_table

    r = retention_fit(ctx)
    retention_groups(ctx, "The comparison of the groups")
    res = SectionResult()
    bal = r.balance_
    rule = (
        "Standardized mean difference (SMD): the difference of the two groups' means divided by "
        "the pooled standard deviation of both groups, for each covariate (a category counts as "
        f"a share); a covariate counts as balanced when |SMD| is below {SMD_THRESHOLD:g}."
    )
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
            "The control group is the designated waitlist: the groups at the start, as they are. "
            + rule
        )
        smd = bal.smd_before
        cols = {"Participants": bal.mean_treated, "Control group": bal.mean_control_before}
    else:
        res.text.append(
            "The control group was matched to the participants on the propensity score; balance "
            "before and after matching. " + rule
        )
        smd = bal.smd_after
        cols = {
            "Participants": bal.mean_treated,
            "Candidates before matching": bal.mean_control_before,
            "Control group after matching": bal.mean_control_after,
            "SMD before": bal.smd_before.map(lambda v: fmt_value(v, "number", digits=2)),
        }
    names = bal.metric.astype(str).str.replace("=", ": ", regex=False).map(plain)
    off = _levels_hidden(ctx, r, bal)
    table = pd.DataFrame({"Covariate": names})
    for k, v in cols.items():
        table[k] = v.map(lambda x: fmt_value(x, "number", digits=2)) if v.dtype != object else v
    table["SMD"] = smd.map(lambda v: fmt_value(v, "number", digits=2))
    table["Balanced"] = smd.abs().lt(SMD_THRESHOLD).map({True: "yes", False: "no"})
    for col in table.columns[1:]:
        table[col] = [shown(h, str(v)) for v, h in zip(table[col], off, strict=True)]
    visible = table[~off.to_numpy()]
    n_off = int((visible.Balanced == "no").sum())
    res.text.append(
        "All covariates shown are balanced."
        if n_off == 0
        else f"{n_off} of {len(visible)} covariate levels shown are not balanced: read the "
        "retention comparison with that in mind."
    )
    res.add_table(
        "Covariate balance (means; categories as shares)",
        table,
        f"Hidden: categories with fewer than {ctx.privacy.min_group} people in a group, and "
        "one more of the same covariate where needed so that none can be worked out."
        if off.any()
        else "",
    )
    return res


def _levels_hidden(ctx: SectionContext, r, bal: pd.DataFrame) -> pd.Series:
    """Category rows of the balance table a sponsor must not see: a share of a group that
    is 1 to ``k - 1`` people (a department share equal to one mentor names them), then per
    covariate and group the next smallest category (the shares add up to one)."""
    import numpy as np

    from ..privacy import complement_line

    policy = ctx.privacy
    off = pd.Series(False, index=bal.index)
    if not policy.active:
        return off
    frame = r.frame_
    groups = {
        "treated": int((frame.treated == 1).sum()),
        "control": int((frame.treated == 0).sum()),
    }
    cov = bal.metric.astype(str)
    level = cov.str.contains("=", regex=False)
    base = cov.str.split("=", n=1).str[0]
    cols = {"treated": "mean_treated", "control": "mean_control_before"}
    if "mean_control_after" in bal and bal.mean_control_after.notna().any():
        cols["control_after"] = "mean_control_after"
        groups["control_after"] = groups["control"]
    for g, col in cols.items():
        share = pd.to_numeric(bal[col], errors="coerce").fillna(0.0)
        people = (share * groups[g]).round().to_numpy(float)
        for b in base[level].unique():
            sel = (level & base.eq(b)).to_numpy()
            start = np.array([policy.small(v) for v in people[sel]]) | off[sel].to_numpy()
            mask, disclosed = complement_line(people[sel], start, policy.min_group)
            off[sel] = True if disclosed else (mask | off[sel].to_numpy())
    return off
