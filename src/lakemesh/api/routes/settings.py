"""``/settings``: mesh settings (read by anyone, changed by mesh admins)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from lakemesh import settings
from lakemesh.api.deps import CurrentActor, SessionDep
from lakemesh.api.schemas import SettingUpdate

router = APIRouter(prefix="/settings", tags=["settings"])


@router.get("", summary="Every mesh setting with its value")
def list_settings(session: SessionDep) -> dict[str, Any]:
    return settings.all_settings(session)


@router.put("/{key}", summary="Change a mesh setting (mesh admins); returns every setting")
def change_setting(
    key: str, body: SettingUpdate, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    settings.change_setting(session, actor=actor, key=key, value=body.value)
    return settings.all_settings(session)
