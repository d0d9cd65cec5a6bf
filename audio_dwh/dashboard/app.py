"""The dashboard (Streamlit): every loaded day, any range, a plan filter. Started by `audio-dwh dashboard`.

Streamlit runs this file as a script on every interaction: each run reads the range's figures afresh
from the last published serving copy (or BigQuery), so a run writing the warehouse never blocks it.
"""

from __future__ import annotations

from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st

from audio_dwh.counts import plural
from audio_dwh.dashboard import charts, figures
from audio_dwh.dashboard.figures import (
    HEADLINE_LABELS,
    WORSE_WHEN_HIGHER,
    Headline,
    LoadedDays,
    Period,
    format_change,
    format_figure,
)
from audio_dwh.dashboard.serving import NotPublishedError, dashboard_reader
from audio_dwh.settings import load_settings
from audio_dwh.warehouse.reading import WarehouseReader

PRESETS = {"A day": 1, "7 days": 7, "28 days": 28, "All": None}
OVERLAPPING_PLANS = (
    "A user who listened on both plans in the range (an upgrade or a downgrade) is a listener of each, "
    "so the plans' listeners add up to more than the active users."
)


def range_caption(period: Period, loaded: LoadedDays) -> str:
    """The range and how many of its days are loaded."""
    held = len(loaded.within(period))
    days = plural(period.days, "day") + ("" if held == period.days else f", {held:,} of them loaded")
    return f"{period.start:%a %d %b %Y} – {period.end:%a %d %b %Y} ({days})"


def retention_caption(cohorts: figures.Retention) -> str:
    if not cohorts.shown:
        return "Retention: no registration-week cohort has listeners in this range's weeks."
    which = (f"the latest {cohorts.shown} of the {cohorts.in_range}" if cohorts.in_range > cohorts.shown
             else f"all {cohorts.in_range}")  # fmt: skip
    return (
        f"Retention: {which} registration-week cohorts with listeners in this range's weeks (a shorter "
        "range reaches earlier ones), each over every week since its registration: the share of its users "
        "(the cohort's size beside it) who listened that week. Pale: a week with only some days loaded; "
        "no cell: a week with no day loaded (so a cohort registered before the first loaded day starts "
        "blank). docs/marts.md defines it."
    )


def comparison_caption(period: Period, loaded: LoadedDays) -> str:
    before = period.previous
    span = f"{before.start:%d %b %Y} – {before.end:%d %b %Y}"
    if loaded.cover(before):
        return f"Change against {span}."
    held = len(loaded.within(before))
    return f"No earlier data to compare with: {held:,} of the {plural(before.days, 'day')} {span} loaded."


def _choose(loaded: LoadedDays) -> tuple[Period, str]:
    """The range and the plan the person picked."""
    first, last = loaded.first, loaded.last
    preset_column, end_column, plan_column = st.columns([3, 2, 2])
    preset = preset_column.radio("Range", [*PRESETS, "Custom"], index=1, horizontal=True, key="range")
    if preset == "Custom":
        chosen = end_column.date_input(
            "Days", value=(max(first, last - timedelta(days=6)), last), min_value=first, max_value=last, key="days"
        )
        start, end = (chosen[0], chosen[-1]) if chosen else (last, last)
        period = Period(start, end)
    elif PRESETS[preset] is None:
        end_column.markdown(f"**{first:%d %b %Y} – {last:%d %b %Y}**")
        period = Period(first, last)
    else:
        end = end_column.date_input("Ending on", value=last, min_value=first, max_value=last, key="end")
        period = Period(end - timedelta(days=PRESETS[preset] - 1), end)
    return period, plan_column.radio("Plan", figures.PLANS, horizontal=True, key="plan")


def _headline(now: Headline, before: Headline | None, period: Period, loaded: LoadedDays) -> None:
    st.caption(
        f"{range_caption(period, loaded)}. {comparison_caption(period, loaded)} The plan filter applies to "
        "listens, hours and active users; paid share, registrations and plan changes are of every user."
    )
    with st.container(key="headline"):
        for column, name in zip(st.columns(len(HEADLINE_LABELS)), HEADLINE_LABELS, strict=True):
            value = getattr(now, name)
            column.metric(
                HEADLINE_LABELS[name],
                format_figure(name, value),
                format_change(name, value, getattr(before, name)) if before else None,
                delta_color="inverse" if name in WORSE_WHEN_HIGHER else "normal",
            )


def _top_table(key: str, title: str, frame: pd.DataFrame) -> None:
    with st.container(key=key):
        st.subheader(title)
        if frame.empty:
            st.write("No listens in this range.")
        else:
            st.table(frame.set_axis(range(1, len(frame) + 1)))


def _draw(column: st.delta_generator.DeltaGenerator, chart: alt.TopLevelMixin) -> None:
    column.vega_lite_chart(spec=charts.vega_lite(chart), width="stretch")


def render(reader: WarehouseReader) -> None:
    loaded = figures.loaded_days(reader)
    if loaded is None:
        st.info("The published marts hold no day yet: run the daily job (make run).")
        return
    period, plan = _choose(loaded)
    # A period is compared only with one whose every day is loaded: else its change would be a loss of data.
    before = figures.headline(reader, period.previous, plan) if loaded.cover(period.previous) else None
    _headline(figures.headline(reader, period, plan), before, period, loaded)

    daily = figures.with_gaps(figures.daily_trends(reader, period, plan), period, loaded)
    left, middle, right = st.columns(3)
    _draw(left, charts.listens_trend(daily))
    _draw(middle, charts.active_users_trend(daily))
    _draw(right, charts.paid_share_trend(daily))

    left, right = st.columns(2)
    with left:
        _top_table("top-songs", "Top songs", figures.top_songs(reader, period, plan))
    with right:
        _top_table("top-artists", "Top artists", figures.top_artists(reader, period, plan))

    left, right = st.columns([3, 2])
    _draw(left, charts.state_map(figures.listens_by_state(reader, period, plan)))
    _draw(right, charts.hourly_profile(figures.hourly_profile(reader, period, plan)))

    split = figures.splits(reader, period, plan)
    left, middle, right = st.columns(3)
    _draw(left, charts.split_bars(split, "plan"))
    left.caption(OVERLAPPING_PLANS)
    _draw(left, charts.split_bars(split, "gender"))
    _draw(middle, charts.page_funnel(figures.page_funnel(reader, period)))
    cohorts = figures.retention(reader, period, loaded)
    with right.container(key="retention"):
        if cohorts.shown:
            _draw(st, charts.retention_heatmap(cohorts.cells))
        st.caption(retention_caption(cohorts))


def main() -> None:
    st.set_page_config(page_title="audio_dwh dashboard", page_icon="🎧", layout="wide")
    st.title("audio_dwh: listening")
    try:
        reader = dashboard_reader(load_settings())
    except NotPublishedError as e:
        st.warning(str(e))
        return
    try:
        render(reader)
    finally:
        reader.close()


if __name__ == "__main__":  # how `streamlit run` runs this file
    main()
