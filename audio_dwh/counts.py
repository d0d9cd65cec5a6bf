"""The counts a materialization records, each named for what it counts, so the UI and the CLI say it."""

# Dagster's UI shows dagster/row_count as the asset's "Row count": so it is every row the table holds
# after the run, never a day's.
TABLE_ROWS = "dagster/row_count"
ROWS_OF_RUN_DAYS = "rows_of_run_days"  # the rows whose day is one of the run's days
FILES_LANDED = "files_landed"  # the day's files found in the landing folder or bucket
FILES_WRITTEN = "files_written"  # files this run wrote (not those kept from before)
# Every count above, as `audio-dwh run` prints them.
COUNTS = (TABLE_ROWS, ROWS_OF_RUN_DAYS, FILES_LANDED, FILES_WRITTEN)


def plural(n: int, noun: str) -> str:
    """'1 day', '2,958 days': a count with its noun, as the CLI and the dashboard write one."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
