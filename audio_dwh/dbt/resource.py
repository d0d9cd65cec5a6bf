"""The dbt CLI resource, without the two things dagster-dbt does before every dbt command that cost
seconds and give us nothing (measured in bench/results/history.md). It runs the same dbt executable
with the same arguments and streams the same events.

- dagster-dbt runs `dbt --version` in a subprocess, a second Python start, to tell dbt Core from the
  Fusion engine. Our dbt is the venv's dbt-core, the package this process imports: its version is
  known without a subprocess.
- It opens a dbt adapter in this process, importing and connecting, that only its fetch_row_counts and
  fetch_column_metadata use. We count rows ourselves once dbt has exited (audio_dwh/dbt/assets.py),
  and an extra DuckDB handle in this process is exactly what must not exist while dbt writes.

Both hooks are private to dagster-dbt (pinned <0.30); test_dbt_resource.py fails if they change.
"""

from functools import cached_property
from importlib.metadata import version as installed_version
from typing import Any

from dagster_dbt import DbtCliResource
from packaging import version


class DbtCli(DbtCliResource):
    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Any) -> None:
        return None
