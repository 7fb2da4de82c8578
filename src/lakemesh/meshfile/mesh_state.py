"""``governance/mesh.yaml`` from the hub: tags, attributes, masks, guardrails, workgroups and
settings (a workgroup's Spark Connect token by name only)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.meshfile.model import (
    AttributeSpec,
    GuardrailSpec,
    MaskSpec,
    MeshFile,
    TagSpec,
    WorkgroupSpec,
)
from lakemesh.meshfile.secrets import spark_token_name
from lakemesh.model.durations import format_duration
from lakemesh.model.spark_remote import split_spark_token
from lakemesh.model.workgroup_limits import limits_of
from lakemesh.settings import all_settings
from lakemesh.store.schema import (
    AttributeKey,
    Guardrail,
    MaskRule,
    TagKey,
    Workgroup,
)


def mesh_file(session: Session) -> MeshFile:
    """The hub's ``governance/mesh.yaml``, every list sorted by name."""
    tags = [
        TagSpec(
            key=row.key, values=sorted(v.value for v in row.values), description=row.description
        )
        for row in session.execute(select(TagKey).order_by(TagKey.key)).scalars()
    ]
    attributes = [
        AttributeSpec(
            key=row.key,
            values=sorted(row.allowed_values or []),
            description=row.description or "",
            delegates=sorted(delegate.principal.ref for delegate in row.delegates),
        )
        for row in session.execute(select(AttributeKey).order_by(AttributeKey.key)).scalars()
    ]
    masks = [
        MaskSpec(name=row.name, on_tags=row.tag_expression, function=row.function)
        for row in session.execute(select(MaskRule).order_by(MaskRule.name)).scalars()
    ]
    guardrails = [
        _guardrail(row)
        for row in session.execute(select(Guardrail).order_by(Guardrail.name)).scalars()
    ]
    workgroups = [
        _workgroup(row)
        for row in session.execute(select(Workgroup).order_by(Workgroup.name)).scalars()
    ]
    return MeshFile(
        settings=dict(sorted(all_settings(session).items())),
        tags=tags,
        attributes=attributes,
        masks=masks,
        guardrails=guardrails,
        workgroups=workgroups,
    )


def _guardrail(row: Guardrail) -> GuardrailSpec:
    config = dict(row.config)
    return GuardrailSpec(
        name=row.name,
        kind=row.kind,
        keys=config.get("keys"),
        on_tags=config.get("expression"),
        prefixes=config.get("prefixes"),
        max_lifetime=config.get("max"),
    )


def _workgroup(row: Workgroup) -> WorkgroupSpec:
    """A workgroup as the files hold it: a Spark Connect token is referred to by a secret name,
    never written."""
    from datetime import timedelta

    address, token = split_spark_token(row.spark_remote)
    return WorkgroupSpec(
        name=row.name,
        engine=row.engine,
        description=row.description or "",
        **limits_of(row),
        result_retention=format_duration(timedelta(seconds=row.result_retention_seconds)),
        spark_remote=address,
        spark_token_env=spark_token_name(row.name) if token is not None else None,
    )
