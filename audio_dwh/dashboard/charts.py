"""The dashboard's charts as Vega-Lite (Altair), shared by the live dashboard and the static report.

Every chart carries its data inline, the map its shapes too (`shapes/us_states.topo.json`), so a
chart draws with no request beyond the page itself.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

import altair as alt
import pandas as pd

GREEN, BLUE, ORANGE = "#1db954", "#2e77d0", "#f59b23"
WIDTH = "container"


def _days(daily: pd.DataFrame) -> alt.X:
    """Days as ordinal bands (a bar per day, a label per day where they fit), in UTC like the marts'
    dates; with the year once the days span more than one. A utc time unit formats its labels in UTC by
    itself: a formatType as well makes Vega-Lite drop the format for its default ('Nov 03, 2026')."""
    years = {day.year for day in pd.to_datetime(daily["day"])}
    label = "%d %b %Y" if len(years) > 1 else "%d %b"
    return alt.X("utcyearmonthdate(day):O", title=None, axis=alt.Axis(format=label, labelAngle=0))


# A day without figures (a run of days not loaded, figures.with_gaps) breaks a trend's line and keeps
# its place on the axis. A bar mark filters such a day out, axis label and all (so the days either side
# would look adjacent): there it is shown, as a bar of no height.
BREAK_AT_GAPS = "break-paths-show-domains"
EMPTY_BAR_AT_GAPS = "show"

# The map's shapes are named in its chart and filled in by `vega_lite`: Altair would otherwise walk every
# point of them each time the chart is drawn.
US_STATES = "us_states"


def vega_lite(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The chart's Vega-Lite spec, ready to embed: the map's shapes inline. Not validated against the
    Vega-Lite schema on every draw (that is most of the cost of building a spec): the tests validate
    every chart."""
    spec = chart.to_dict(validate=False)
    if spec.get("data", {}).get("name") == US_STATES:
        spec["data"] = {"values": us_states(), "format": spec["data"]["format"]}
    return spec


@cache
def us_states() -> dict[str, Any]:
    """The 50 states and DC as TopoJSON, each with its two-letter `code`."""
    return json.loads(files("audio_dwh.dashboard").joinpath("shapes/us_states.topo.json").read_text())


def _dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Dates as ISO text: Vega-Lite reads them as dates, and the JSON needs no date type."""
    return frame.assign(**{c: pd.to_datetime(frame[c]).dt.strftime("%Y-%m-%d") for c in columns})


def listens_trend(daily: pd.DataFrame) -> alt.Chart:
    return (
        alt.Chart(_dates(daily, "day"), title="Listens per day")
        .mark_bar(color=GREEN, invalid=EMPTY_BAR_AT_GAPS)
        .encode(
            x=_days(daily),
            y=alt.Y("listens:Q", title="listens"),
            tooltip=[alt.Tooltip("utcyearmonthdate(day):T", title="day"), alt.Tooltip("listens:Q", format=",")],
        )
        .properties(width=WIDTH, height=220)
    )


def active_users_trend(daily: pd.DataFrame) -> alt.Chart:
    long = _dates(daily, "day").melt(
        id_vars="day",
        value_vars=["daily_active_users", "weekly_active_users", "monthly_active_users"],
        var_name="measure",
        value_name="users",
    )
    long["measure"] = long["measure"].map(
        {"daily_active_users": "DAU", "weekly_active_users": "WAU", "monthly_active_users": "MAU"}
    )
    return (
        alt.Chart(long, title="Active users: daily, 7-day, 28-day")
        .mark_line(point=True, invalid=BREAK_AT_GAPS)
        .encode(
            x=_days(daily),
            y=alt.Y("users:Q", title="users"),
            color=alt.Color(
                "measure:N", sort=["DAU", "WAU", "MAU"], scale=alt.Scale(range=[GREEN, BLUE, ORANGE]), title=None
            ),  # fmt: skip
            tooltip=[
                alt.Tooltip("utcyearmonthdate(day):T", title="day"),
                "measure:N",
                alt.Tooltip("users:Q", format=","),
            ],
        )
        .properties(width=WIDTH, height=220)
    )


def paid_share_trend(daily: pd.DataFrame) -> alt.Chart:
    return (
        alt.Chart(_dates(daily, "day"), title="Paid share of listens")
        .mark_line(point=True, color=BLUE, invalid=BREAK_AT_GAPS)
        .encode(
            x=_days(daily),
            y=alt.Y("paid_share:Q", title=None, axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            tooltip=[alt.Tooltip("utcyearmonthdate(day):T", title="day"), alt.Tooltip("paid_share:Q", format=".1%")],
        )
        .properties(width=WIDTH, height=220)
    )


def hourly_profile(hourly: pd.DataFrame) -> alt.LayerChart:
    base = alt.Chart(hourly, title="Listens by hour of day (UTC)").encode(
        x=alt.X("hour:O", title="hour"),
        tooltip=["hour:O", alt.Tooltip("listens:Q", format=","), alt.Tooltip("listeners:Q", format=",")],
    )
    bars = base.mark_bar(color=GREEN).encode(y=alt.Y("listens:Q", title="listens"))
    line = base.mark_line(color=BLUE, point=True).encode(y=alt.Y("listeners:Q", title="distinct listeners"))
    return alt.layer(bars, line).resolve_scale(y="independent").properties(width=WIDTH, height=220)


def state_map(by_state: pd.DataFrame) -> alt.Chart:
    shapes = alt.NamedData(name=US_STATES, format=alt.DataFormat(type="topojson", feature="states"))
    return (
        alt.Chart(shapes, title="Listens by state")
        .mark_geoshape(stroke="white", strokeWidth=0.5)
        .transform_lookup(
            lookup="properties.code",
            from_=alt.LookupData(by_state, key="state", fields=["listens"]),
        )
        .transform_calculate(listens="datum.listens || 0")
        .encode(
            color=alt.Color("listens:Q", scale=alt.Scale(scheme="greens"), title="listens"),
            tooltip=[alt.Tooltip("properties.name:N", title="state"), alt.Tooltip("listens:Q", format=",")],
        )
        .project(type="albersUsa")
        .properties(width=WIDTH, height=320)
    )


def split_bars(splits: pd.DataFrame, split: str) -> alt.Chart:
    return (
        alt.Chart(splits[splits["split"] == split], title=f"Listens by {split}")
        .mark_bar()
        .encode(
            y=alt.Y("value:N", title=None, sort="-x"),
            x=alt.X("listens:Q", title="listens"),
            color=alt.Color("value:N", legend=None, scale=alt.Scale(range=[GREEN, BLUE, ORANGE])),
            tooltip=["value:N", alt.Tooltip("listens:Q", format=","), alt.Tooltip("listeners:Q", format=",")],
        )
        .properties(width=WIDTH, height=alt.Step(28))
    )


def page_funnel(pages: pd.DataFrame) -> alt.LayerChart:
    base = alt.Chart(pages, title="Page views").encode(
        y=alt.Y("page:N", title=None, sort="-x", axis=alt.Axis(labelOverlap=False)),
        x=alt.X("views:Q", title="views"),
        tooltip=["page:N", alt.Tooltip("views:Q", format=","), alt.Tooltip("errors:Q", format=",")],
    )
    bars = base.mark_bar(color=BLUE)
    # NextSong outnumbers every other page by far: each bar says its count.
    counts = base.mark_text(align="left", dx=3, fontSize=11).encode(text=alt.Text("views:Q", format=","))
    return alt.layer(bars, counts).properties(width=WIDTH, height=alt.Step(22))


def retention_heatmap(cohorts: pd.DataFrame) -> alt.Chart:
    """A cohort per row (its registration week and size), weeks since registration across; a week
    with only some days loaded pale."""
    return (
        alt.Chart(_dates(cohorts, "cohort_week"), title="Retention by registration week")
        .mark_rect()
        .encode(
            x=alt.X("weeks_since_registration:O", title="weeks since registration"),
            y=alt.Y(
                "cohort:O",
                title=None,
                sort=alt.EncodingSortField("cohort_week", order="descending"),
                axis=alt.Axis(labelOverlap=False, labelLimit=220),
            ),  # fmt: skip
            color=alt.Color(
                "retention_share:Q",
                scale=alt.Scale(scheme="greens", domain=[0, 1]),
                title="listened",
                legend=alt.Legend(format="%"),
            ),  # fmt: skip
            opacity=alt.condition(alt.datum.days_loaded < 7, alt.value(0.45), alt.value(1.0)),
            tooltip=[
                alt.Tooltip("cohort:N", title="cohort"),
                "weeks_since_registration:O",
                alt.Tooltip("active_users:Q", title="listened"),
                alt.Tooltip("retention_share:Q", format=".0%", title="share"),
                alt.Tooltip("days_loaded:Q", title="days of the week loaded"),
            ],
        )
        .properties(width=WIDTH, height=alt.Step(22))
    )
