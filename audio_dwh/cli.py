"""`audio-dwh`: generate events, import classic eventsim data, run the daily job, open the UI."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import logging
import os
import shutil
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from audio_dwh.counts import COUNTS, FILES_LANDED, FILES_WRITTEN, ROWS_OF_RUN_DAYS, TABLE_ROWS, plural
from audio_dwh.dates import parse_day
from audio_dwh.settings import Settings, load_settings, record_import

DEFAULT_DAYS = 3
RUN_HELP = """\
Run the daily job (landing -> raw -> staging -> vault -> marts -> dashboard) for each day of a range,
one Dagster run per day (with --one-run, one run for the whole range, as a backfill does), on the
Dagster instance of $AUDIO_DWH_HOME, so `make dev` shows every run.

Where the data goes ($AUDIO_DWH_HOME, default ./data): warehouse.duckdb (the warehouse), landing/
(the day's event files), reports/ (the daily HTML reports), dagster/ (runs, materializations,
checks), logs/audio-dwh-run.log (dbt's output).

Before it starts and while it waits, a run of this home that died (its process killed) is marked
failed and the pool slot it held freed; while a run waits for the duckdb pool, the command says who
holds it. Ctrl-C or SIGTERM cancels the run and frees its slot.

Exit codes: 0 every day succeeded; 1 a run or a blocking check failed (the reason is printed);
2 bad arguments or settings; 130 / 143 interrupted by Ctrl-C / SIGTERM (the run is canceled)."""


def _day(text: str) -> date:
    try:
        return parse_day(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text!r}")
    return int(text)


def _yesterday() -> date:
    return datetime.now(UTC).date() - timedelta(days=1)


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 1 to 65535, got {text!r}")
    return int(text)


def _range(args: argparse.Namespace, settings: Settings) -> list[date]:
    """--start..--end; by default the most recent complete days (UTC), so that a first run leaves every
    freshness policy and check passing on the day it is made."""
    span = timedelta(days=DEFAULT_DAYS - 1)
    if args.start is None and args.end is None:
        end = _yesterday()
        start = max(settings.start_date, end - span)
        if start > end:
            raise ValueError(f"AUDIO_DWH_START_DATE {settings.start_date} is after yesterday ({end}, UTC)")
    else:
        start = args.start or args.end - span
        end = args.end or start + span
    if end < start:
        raise ValueError(f"--end {end} is before --start {start}")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _apply_overrides(args: argparse.Namespace) -> Settings:
    """The environment's settings, with the command-line options winning over them."""
    options = {name: getattr(args, name, None) for name in ("users", "seed", "source")}
    return dataclasses.replace(load_settings(), **{name: v for name, v in options.items() if v is not None})


def cmd_generate(args: argparse.Namespace) -> int:
    from audio_dwh.events.simulator import DaySimulator, SimulatorConfig, write_day

    settings = _apply_overrides(args)
    simulator = DaySimulator(SimulatorConfig(seed=settings.seed, users=settings.users, epoch=settings.start_date))
    for day in _range(args, settings):
        started = time.perf_counter()
        counts = write_day(simulator, day, settings.landing)
        seconds = time.perf_counter() - started
        total = sum(counts.values())
        detail = ", ".join(f"{topic} {n:,}" for topic, n in counts.items())
        print(f"{day}: {total:,} events in {seconds:.2f} s ({total / seconds:,.0f} events/s): {detail}")
    print(f"landing folder: {settings.landing}")
    return 0


def cmd_import_classic(args: argparse.Namespace) -> int:
    from audio_dwh.events.classic import import_classic, sparkify_sample

    settings = load_settings()
    files = sparkify_sample() if args.sample else [Path(f) for f in args.files]
    try:
        imported = import_classic(files, settings.landing)
    except FileNotFoundError as e:
        print(f"audio-dwh: {e}", file=sys.stderr)
        return 2
    for topic, n in imported.counts.items():
        print(f"{topic}: {n:,} events")
    if not imported.days:
        print("no events in these files: nothing imported")
        return 0
    record_import(settings.home, imported.days[0])
    first, last = imported.days[0], imported.days[-1]
    print(
        f"{len(imported.days)} days, {first} .. {last}, in the landing folder {settings.landing}; they are "
        f"partitions of this home from now on.\nLoad them: audio-dwh run --source files --start {first} --end {last}"
    )
    return 0


@dataclass
class TableSummary:
    """One asset's counts over the command's runs; None where the asset has no such count."""

    rows_of_days: int | None = None  # summed over the runs: each counts its own days
    table_rows: int | None = None  # as the last run left the table
    files: int | None = None  # landed or written, summed over the runs
    checks_passed: int = 0
    checks_failed: int = 0
    failures: list[str] = field(default_factory=list)


@dataclass
class RunSummary:
    """What the runs of a range did, per table and per step (one step may build many tables)."""

    tables: dict[str, TableSummary] = field(default_factory=dict)
    step_seconds: dict[str, float] = field(default_factory=dict)
    step_tables: dict[str, set[str]] = field(default_factory=dict)
    failed_runs: list[str] = field(default_factory=list)

    def add(self, days: str, result) -> dict[str, int]:
        """Record one run (a day, or a range in one run); returns the assets it materialized per layer."""
        layers: dict[str, int] = {}
        seen: set[str] = set()  # a range run records one materialization per day, all alike
        for step in result.get_step_success_events():
            duration = step.event_specific_data.duration_ms / 1000
            self.step_seconds[step.step_key] = self.step_seconds.get(step.step_key, 0.0) + duration
        for event in result.get_asset_materialization_events():
            mat = event.materialization
            name = mat.asset_key.to_user_string()
            if name in seen:
                continue
            seen.add(name)
            entry = self.tables.setdefault(name, TableSummary())
            figures = {key: mat.metadata[key].value for key in COUNTS if key in mat.metadata}
            if ROWS_OF_RUN_DAYS in figures:
                entry.rows_of_days = (entry.rows_of_days or 0) + figures[ROWS_OF_RUN_DAYS]
            if TABLE_ROWS in figures:
                entry.table_rows = figures[TABLE_ROWS]
            files = figures.get(FILES_LANDED, figures.get(FILES_WRITTEN))
            if files is not None:
                entry.files = (entry.files or 0) + files
            self.step_tables.setdefault(event.step_key, set()).add(name)
            layers[mat.asset_key.path[0]] = layers.get(mat.asset_key.path[0], 0) + 1
        for evaluation in result.get_asset_check_evaluations():
            entry = self.tables.setdefault(evaluation.asset_key.to_user_string(), TableSummary())
            if evaluation.passed:
                entry.checks_passed += 1
            else:
                entry.checks_failed += 1
                day = evaluation.partition or days
                entry.failures.append(f"{day} {evaluation.check_name} ({evaluation.severity.value})")
        if not result.success:
            self.failed_runs.append(days)
        return layers

    @property
    def failed_blocking_checks(self) -> list[str]:
        return [f for t in self.tables.values() for f in t.failures if "(ERROR)" in f]

    def print(self) -> None:
        width = max([len("asset"), *map(len, self.tables)])
        print(
            "\nrows of the days: rows dated one of these runs' days (load_date, or the mart's day column); "
            "rows in table: all\nthe table holds now; files: landed (landing) or written (report, serving "
            "copy); checks: results, one per check and day"
        )
        header = f"{'asset':<{width}}  {'rows of the days':>16}  {'rows in table':>13}  {'files':>5}"
        print(f"{header}  {'checks ok':>9}  {'failed':>6}")
        for name in sorted(self.tables):
            t = self.tables[name]
            counts = [_count(t.rows_of_days, 16), _count(t.table_rows, 13), _count(t.files, 5)]
            print(f"{name:<{width}}  {'  '.join(counts)}  {t.checks_passed:>9}  {t.checks_failed:>6}")
            for failure in t.failures:
                print(f"{'':<{width}}  check failed: {failure}")
        print(f"\n{'step':<{width}}  {'tables':>10}  {'seconds':>9}")
        for step, seconds in sorted(self.step_seconds.items(), key=lambda item: -item[1]):
            print(f"{step:<{width}}  {len(self.step_tables.get(step, ())):>10}  {seconds:>9.2f}")


def _count(value: int | None, width: int) -> str:
    return f"{value:>{width},}" if value is not None else f"{'-':>{width}}"


def _print_warnings_and_failures(instance, result) -> None:
    """The run's warnings (unknown fields, skipped files, new values) and each failed step's reason, a
    line each: Dagster's console log (with stack traces) is shown only with --verbose."""
    from audio_dwh.alerts.errors import root_error

    for entry in instance.all_logs(result.run_id):
        if entry.level == logging.WARNING and not entry.is_dagster_event:
            print(f"    warning: {entry.user_message}")
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data:
            error = root_error(event.step_failure_data.error)
            # The message starts with the exception's qualified name; a Failure's is its description.
            message = error.message.strip().split(": ", 1)[-1] if ": " in error.message else error.message.strip()
            print(f"    {event.step_key}: {message if error.cls_name == 'Failure' else f'{error.cls_name}: {message}'}")


def cmd_run(args: argparse.Namespace) -> int:
    settings = _apply_overrides(args)
    days = _range(args, settings)
    from audio_dwh.orchestration.instance import prepare_home

    prepare_home(settings)
    import dagster as dg

    from audio_dwh.definitions import DAILY_JOB, build_definitions
    from audio_dwh.orchestration.run_health import end_dead_runs, this_host
    from audio_dwh.orchestration.supervisor import Interrupted, supervised
    from audio_dwh.partitions import daily_partitions, range_tags

    partitions = daily_partitions(settings.first_partition)
    outside = [d for d in days if not partitions.has_partition_key(d.isoformat())]
    if outside:
        print(
            f"audio-dwh: {', '.join(map(str, outside))} not a daily partition: partitions run from "
            f"{settings.first_partition} (AUDIO_DWH_START_DATE, or the first day imported into the home) "
            f"to {_yesterday()}, yesterday (UTC)",
            file=sys.stderr,
        )
        return 2
    job = build_definitions(settings).resolve_job_def(DAILY_JOB)
    instance = dg.DagsterInstance.get()
    summary = RunSummary()
    log_path = settings.home / "logs" / "audio-dwh-run.log"
    log_path.parent.mkdir(exist_ok=True)
    # While a run executes, Dagster sends this process's stdout and stderr to the run's log files:
    # what the command says meanwhile goes to copies of them, which still reach the terminal.
    terminal = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    errors = os.fdopen(os.dup(sys.stderr.fileno()), "w", buffering=1)

    def say(message: str) -> None:
        print(f"  {message}", file=terminal, flush=True)

    print(f"audio-dwh run: {days[0]} .. {days[-1]} from {settings.source}, warehouse {settings.warehouse}")
    if not args.verbose:
        print(f"dbt's output goes to {log_path} (--verbose shows it here)")
    for ended in end_dead_runs(instance):  # a crashed run would hold the duckdb pool for ever
        say(ended.what)
    # One run per day (what the schedule does), or with --one-run the whole range in one run (what a
    # backfill does: every asset takes the range at once).
    batches = [(days[0], days[-1])] if args.one_run else [(day, day) for day in days]
    for first, last in batches:
        label = str(first) if first == last else f"{first}..{last}"
        started, run_id = time.perf_counter(), str(uuid.uuid4())
        execute = functools.partial(
            job.execute_in_process,
            **({"partition_key": first.isoformat()} if first == last else {}),
            tags=this_host() | ({} if first == last else range_tags(first, last)),
            run_id=run_id,
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "DEBUG" if args.verbose else "CRITICAL"}}}},
        )
        # dagster-dbt echoes dbt's log to stdout: keep it in the log file unless asked for.
        with open(log_path, "a") as log, contextlib.redirect_stdout(sys.stdout if args.verbose else log):
            try:
                result = supervised(instance, run_id, execute, say)
            except Interrupted as stop:
                print(f"audio-dwh: {stop}", file=errors, flush=True)
                os._exit(stop.exit_code)  # the run's thread may be inside DuckDB: exit as a crash would, safely
        layers = summary.add(label, result)
        progress = ", ".join(f"{layer} {plural(n, 'asset')}" for layer, n in layers.items()) or "nothing materialized"
        status = "ok" if result.success else "FAILED"
        print(f"  {label}: {status} in {time.perf_counter() - started:.1f} s ({progress}), run {result.run_id}")
        if not args.verbose:
            _print_warnings_and_failures(instance, result)
    summary.print()
    if summary.failed_runs or summary.failed_blocking_checks:
        print(
            f"FAILED: {plural(len(summary.failed_runs), 'run')} failed, "
            f"{plural(len(summary.failed_blocking_checks), 'blocking check')} failed"
        )
        return 1
    print(f"All {plural(len(days), 'day')} succeeded. See them in the UI: make dev")
    return 0


def cmd_dev(args: argparse.Namespace) -> int:
    from audio_dwh.orchestration.dev import serve
    from audio_dwh.orchestration.instance import prepare_home

    settings = load_settings()
    prepare_home(settings)
    dagster = shutil.which("dagster") or str(Path(sys.executable).with_name("dagster"))
    target = ["-w", "workspace.yaml"] if Path("workspace.yaml").is_file() else ["-m", "audio_dwh.definitions"]
    command = [dagster, "dev", "-h", "127.0.0.1", "-p", str(args.port), *target]
    # The alert sensor runs in the daemon that `dagster dev` starts: its links point at this UI.
    os.environ.setdefault("AUDIO_DWH_UI_URL", f"http://127.0.0.1:{args.port}")
    print(f"DAGSTER_HOME={os.environ['DAGSTER_HOME']} {' '.join(command)}", flush=True)
    return serve(command)


def cmd_dashboard(args: argparse.Namespace) -> int:
    from audio_dwh.dashboard.server import serve

    settings = load_settings()
    # Streamlit's own options: local only, no browser opened, no usage statistics sent anywhere, no
    # developer toolbar, no watching of the source files for changes.
    options = {"server.address": "127.0.0.1", "server.port": str(args.port), "server.headless": "true",
               "browser.gatherUsageStats": "false", "global.developmentMode": "false",
               "client.toolbarMode": "viewer", "server.fileWatcherType": "none"}  # fmt: skip
    print(f"Dashboard of {settings.home} on http://127.0.0.1:{args.port}", flush=True)
    serve(settings, options)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="audio-dwh", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def add_range(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--start",
            type=_day,
            help=f"first day, YYYY-MM-DD (default: --end - {DEFAULT_DAYS - 1} days, or {DEFAULT_DAYS} days "
            "before today when neither is given)",
        )
        p.add_argument(
            "--end",
            type=_day,
            help=f"last day, inclusive (default: --start + {DEFAULT_DAYS - 1} days, or yesterday UTC)",
        )

    def add_simulation(p: argparse.ArgumentParser) -> None:
        p.add_argument("--users", type=_positive, help="simulated registered users (default: AUDIO_DWH_USERS)")
        p.add_argument("--seed", type=int, help="simulator seed (default: AUDIO_DWH_SEED)")

    p = sub.add_parser("generate", help="write simulated eventsim JSON lines to the landing folder")
    add_range(p)
    add_simulation(p)
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("import-classic", help="split classic single-stream eventsim files into the four topics")
    files = p.add_mutually_exclusive_group(required=True)
    files.add_argument("files", nargs="*", default=[], help="classic eventsim JSON-lines files (.json or .json.gz)")
    files.add_argument(
        "--sample", action="store_true", help="the shipped real sample: 30 days of November 2018 (8,056 events)"
    )
    p.set_defaults(func=cmd_import_classic)

    p = sub.add_parser(
        "run",
        help="materialize every asset for each day of a range through Dagster",
        description=RUN_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_range(p)
    add_simulation(p)
    p.add_argument("--source", choices=["simulator", "files"], help="event source (default: AUDIO_DWH_SOURCE)")
    p.add_argument("--verbose", action="store_true", help="show Dagster's event log as the runs go")
    p.add_argument(
        "--one-run", action="store_true", help="backfill the whole range in one run instead of one run per day"
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("dev", help="open the Dagster UI on 127.0.0.1 with the same instance and warehouse")
    p.add_argument(
        "--port",
        type=_port,
        default=3000,
        help="port of the UI on 127.0.0.1 (default: 3000); alert links follow it unless AUDIO_DWH_UI_URL is set",
    )
    p.set_defaults(func=cmd_dev)

    p = sub.add_parser("dashboard", help="open the dashboard (every loaded day, any range) on 127.0.0.1")
    p.add_argument("--port", type=_port, default=8501, help="port of the dashboard on 127.0.0.1 (default: 8501)")
    p.set_defaults(func=cmd_dashboard)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ValueError as e:  # bad configuration values from the environment
        print(f"audio-dwh: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
