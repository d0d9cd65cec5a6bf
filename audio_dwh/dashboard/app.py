"""The dashboard (Streamlit): every loaded day, any range, a plan filter. Started by `audio-dwh dashboard`.

Streamlit runs this file as a script on every interaction: each run reads the range's figures afresh
from the last published serving copy (or BigQuery), so a run writing the warehouse never blocks it.
"""

from __future__ import annotations

from datetime import date, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from audio_dwh.dashboard import charts, figures
from audio_dwh.dashboard.figures import (
    HEADLINE_LABELS,
    WORSE_WHEN_HIGHER,
    Headline,
    Period,
    format_change,
    format_figure,
)
from audio_dwh.dashboard.serving import NotPublishedError, dashboard_reader
from audio_dwh.settings import load_settings
from audio_dwh.warehouse.reading import WarehouseReader

PRESETS = {"A day": 1, "7 days": 7, "28 days": 28, "All": None}


def _choose(first: date, last: date) -> tuple[Period, str]:
    """The range and the plan the person picked."""
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


def _headline(now: Headline, before: Headline, period: Period) -> None:
    st.caption(
        f"{period.start:%a %d %b %Y} – {period.end:%a %d %b %Y} ({period.days} days), change against "
        f"{period.previous.start:%d %b} – {period.previous.end:%d %b}. The plan filter applies to listens, "
        "hours and active users; paid share, registrations and plan changes are of every user."
    )
    with st.container(key="headline"):
        for column, name in zip(st.columns(len(HEADLINE_LABELS)), HEADLINE_LABELS, strict=True):
            value, previous = getattr(now, name), getattr(before, name)
            column.metric(
                HEADLINE_LABELS[name],
                format_figure(name, value),
                format_change(name, value, previous),
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
        st.info("The published marts hold no listens yet: run the daily job (make run).")
        return
    period, plan = _choose(*loaded)
    _headline(figures.headline(reader, period, plan), figures.headline(reader, period.previous, plan), period)

    daily = figures.daily_trends(reader, period, plan)
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
    _draw(left, charts.split_bars(split, "gender"))
    _draw(middle, charts.page_funnel(figures.page_funnel(reader, period)))
    _draw(right, charts.retention_heatmap(figures.retention(reader, period)))


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
