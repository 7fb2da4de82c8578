"""``/settings``: mesh settings, read and changed by mesh admins only (like Lake Formation's data
lake settings): they describe how the whole mesh is run, which is no business of analysts."""

from __future__ import annotations

from fastapi import APIRouter

from lakemesh import settings
from lakemesh.api.deps import CurrentActor, SessionDep
from lakemesh.api.schemas import Settings, SettingUpdate

router = APIRouter(prefix="/settings", tags=["settings"])


@router.get("", summary="Every mesh setting with its value (mesh admins)", response_model=Settings)
def list_settings(session: SessionDep, actor: CurrentActor) -> Settings:
    return Settings.of(settings.read_settings(session, actor=actor))


@router.put(
    "/{key}",
    summary="Change a mesh setting (mesh admins); returns every setting",
    response_model=Settings,
)
def change_setting(
    key: str, body: SettingUpdate, session: SessionDep, actor: CurrentActor
) -> Settings:
    settings.change_setting(session, actor=actor, key=key, value=body.value)
    return Settings.of(settings.all_settings(session))
