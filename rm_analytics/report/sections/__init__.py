"""The sections of the reports, in one list.

Each entry is a function decorated with :func:`rm_analytics.report.section.section`; the
report shows, for an audience, the sections whose ``audiences`` include it, ordered by part,
then ``order``. Adding a section is writing the function and adding it here.
"""

from __future__ import annotations

from ..section import SectionSpec
from . import outcomes, overview, pairs, synthesis, value

#: key -> :class:`SectionSpec` of every section, in the order written here.
SECTIONS: dict[str, SectionSpec] = {
    f.spec.key: f.spec
    for f in (
        overview.glance_section,
        outcomes.reaction_section,
        outcomes.skills_section,
        outcomes.goals_section,
        outcomes.delivery_summary_section,
        outcomes.safety_summary_section,
        outcomes.retention_section,
        outcomes.retention_supporting_section,
        outcomes.engagement_section,
        outcomes.promotion_section,
        outcomes.cohort_trend_section,
        synthesis.synthesis_section,
        synthesis.synthesis_methods_section,
        value.roi_section,
        value.power_section,
        value.benchmarks_section,
        value.balance_section,
        pairs.this_week_section,
        pairs.pair_list_section,
        pairs.timelines_section,
        pairs.interventions_section,
        pairs.funnel_section,
        pairs.sessions_weekly_section,
        pairs.feedback_by_role_section,
        pairs.comments_section,
        pairs.lead_rules_section,
        overview.methods_section,
        overview.method_notes_section,
        overview.data_quality_section,
    )
}
