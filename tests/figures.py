"""Headline figures of a pilot, to compare pilots loaded from different sources."""

from __future__ import annotations

import pandas as pd
import pandas.testing as pdt


def figures(pilot) -> dict[str, pd.DataFrame]:
    import rm_analytics as rm
    from rm_analytics.data.pilot import QualityLog

    q = pilot.quality
    rows = q[(q.stage == "load") & (q.check == "rows read")].set_index("table").rows
    p = pilot.copy()
    p.quality_log = QualityLog()  # only what these analyses record (a shared pilot has more)
    out = {
        "retention": rm.pilot_retention(p, horizons=(6, 12)).summary,
        "engagement": rm.pilot_engagement(p).summary,
        "skills": rm.pilot_skills(p).summary,
        "delivery": rm.delivery_summary(p).summary,
        "flags": rm.flag_pairs(p).flags_.reset_index(drop=True),
    }
    q = p.quality
    out["quality"] = (
        q.drop(columns="detail").sort_values(["table", "stage", "check"]).reset_index(drop=True)
    )
    out["rows"] = rows.sort_index().to_frame()
    return out


def assert_same_figures(a, b) -> None:
    fa, fb = figures(a), figures(b)
    for key in fa:
        pdt.assert_frame_equal(fa[key], fb[key], check_dtype=False, obj=key)
