"""SDK methods of schedules: when products' checks and tables' crawls run.

>>> client.set_schedule("check", "orders", cron="0 6 * * *", after_crawl=True)  # doctest: +SKIP
>>> client.schedule_runs("check", "sales_orders")  # doctest: +SKIP
"""

from __future__ import annotations

from lakemesh.api.schemas.schedules import ScheduledRunPublic, SchedulePublic, TickResult
from lakemesh.sdk.base import ApiBase, parsed, parsed_list, segment


class ScheduleMethods(ApiBase):
    """Schedules of checks and crawls, and their runs."""

    def set_schedule(
        self, kind: str, target: str, *, cron: str | None = None, after_crawl: bool = False
    ) -> SchedulePublic:
        """Set when ``kind`` (``check``: a product's checks; ``crawl``: a table's re-crawl) runs
        on ``target``: a cron expression in UTC, and for checks ``after_crawl`` (after every crawl
        that changes the product's tables)."""
        body = {"kind": kind, "target": target, "cron": cron, "after_crawl": after_crawl}
        return parsed(SchedulePublic, self.request("PUT", "/schedules", json=body))

    def list_schedules(self, *, domain: str | None = None) -> list[SchedulePublic]:
        """The schedules of the domains the caller administers, each with its last run."""
        return parsed_list(SchedulePublic, self._get("/schedules", domain=domain))

    def remove_schedule(self, kind: str, target: str) -> None:
        self.request("DELETE", f"/schedules/{segment(kind)}/{segment(target)}")

    def schedule_runs(self, kind: str, target: str, *, limit: int = 20) -> list[ScheduledRunPublic]:
        """A schedule's latest runs, newest first (each try of each run in ``attempts``)."""
        found = self._get(f"/schedules/{segment(kind)}/{segment(target)}/runs", limit=limit)
        return parsed_list(ScheduledRunPublic, found)

    def run_due_schedules(self) -> list[int]:
        """Do the due runs now in the hub's process (mesh admins); the ids of the runs done."""
        return parsed(TickResult, self.request("POST", "/schedules/tick")).runs
