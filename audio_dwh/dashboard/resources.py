"""The dashboard's resource: where the reports and the serving copy go, and where the dashboard answers."""

from __future__ import annotations

import dagster as dg


class DashboardResource(dg.ConfigurableResource):
    """Where the daily HTML reports and the dashboard's serving copy of the marts are written, and
    where the dashboard answers."""

    reports: str
    serving: str
    url: str
