"""A step waiting for a pool slot sleeps until its next claim check instead of spinning a core.

Dagster 1.13's `InstanceConcurrencyContext.interval_to_next_pending_claim_check` returns
`min([0, *time left per pending claim])`, which is never above 0, so the executor's
`sleep_til_ready` never sleeps: a run whose step waits on the `duckdb` pool loops at full speed for
as long as it waits (a queued day took a whole core while the day before it ran; on two cores that
is the running day's other core). Upstream noticed it (dagster-io/dagster pull request 20367) and
the code is still so. The corrected method returns the time to the earliest pending check, never
below 0. The claim checks themselves, and what they decide, are Dagster's own.
"""

from __future__ import annotations

import time

from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext


def _interval_to_next_pending_claim_check(self: InstanceConcurrencyContext) -> float:
    if not self._pending_claims or not self._pending_timeouts:
        return 0.0
    return max(0.0, min(self._pending_timeouts.values()) - time.time())


def install() -> None:
    """Make every run of this process sleep between its claim checks (idempotent)."""
    InstanceConcurrencyContext.interval_to_next_pending_claim_check = _interval_to_next_pending_claim_check
