"""Backups of the hub store: a consistent snapshot in a portable file, restored all or nothing."""

from __future__ import annotations

from lakemesh.backups.backup import BackupSummary, backup
from lakemesh.backups.restore import RestoreSummary, restore

__all__ = ["BackupSummary", "RestoreSummary", "backup", "restore"]
