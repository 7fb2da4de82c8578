"""``/iceberg/v1``: the Iceberg REST catalog (read side) for pyiceberg, DuckDB, Spark, Trino.

Thin routes over :mod:`lakemesh.iceberg`. They follow the Apache Iceberg REST spec rather than
this API's conventions (paths, bodies, ``{"error": {"message", "type", "code"}}``), and stay
out of the hub's OpenAPI document: the spec is their document.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Header, Query, Request, Response

from lakemesh import iceberg
from lakemesh.api.deps import CurrentActor, HubDep, SessionDep, TokenDep
from lakemesh.errors import InvalidInputError
from lakemesh.identity.tokens import authenticate

ICEBERG_PREFIX = "/iceberg/v1"

router = APIRouter(prefix=ICEBERG_PREFIX, include_in_schema=False)

PageToken = Annotated[str | None, Query(alias="pageToken")]
PageSize = Annotated[int | None, Query(alias="pageSize")]
Delegation = Annotated[str | None, Header(alias="X-Iceberg-Access-Delegation")]
NAMESPACE = "/{prefix}/namespaces/{namespace}"


@router.get("/config")
def get_config(
    session: SessionDep, actor: CurrentActor, warehouse: str | None = None
) -> dict[str, Any]:
    return iceberg.catalog_config(session, warehouse=warehouse)


@router.post("/oauth/tokens")
async def oauth_tokens(request: Request, session: SessionDep) -> dict[str, Any]:
    """OAuth2 client credentials: the client secret is an API token of the hub."""
    form = {key: values[0] for key, values in parse_qs((await request.body()).decode()).items()}
    secret = form.get("client_secret") or _basic_secret(request.headers.get("authorization"))
    return iceberg.exchange_token(session, grant_type=form.get("grant_type"), client_secret=secret)


@router.get("/{prefix}/namespaces")
def list_namespaces(
    prefix: str,
    session: SessionDep,
    actor: CurrentActor,
    parent: str | None = None,
    page_token: PageToken = None,
    page_size: PageSize = None,
) -> dict[str, Any]:
    return iceberg.list_namespaces(
        session,
        actor=actor,
        domain=prefix,
        parent=parent,
        page_token=page_token,
        page_size=page_size,
    )


@router.get(NAMESPACE)
def load_namespace(
    prefix: str, namespace: str, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    return iceberg.load_namespace(session, actor=actor, domain=prefix, namespace=namespace)


@router.head(NAMESPACE, status_code=204)
def namespace_exists(
    prefix: str, namespace: str, session: SessionDep, actor: CurrentActor
) -> Response:
    iceberg.load_namespace(session, actor=actor, domain=prefix, namespace=namespace)
    return Response(status_code=204)


@router.get(NAMESPACE + "/tables")
def list_tables(
    prefix: str,
    namespace: str,
    session: SessionDep,
    actor: CurrentActor,
    page_token: PageToken = None,
    page_size: PageSize = None,
) -> dict[str, Any]:
    return iceberg.list_tables(
        session,
        actor=actor,
        domain=prefix,
        namespace=namespace,
        page_token=page_token,
        page_size=page_size,
    )


@router.post(NAMESPACE + "/tables")
async def create_table(
    prefix: str,
    namespace: str,
    request: Request,
    hub: HubDep,
    token: TokenDep,
    delegation: Delegation = None,
) -> dict[str, Any]:
    body = await _json_body(request)
    with hub.transaction() as session:
        return iceberg.create_table(
            session,
            actor=authenticate(session, token),
            domain=prefix,
            namespace=namespace,
            body=body,
            vended_credentials=_vending(delegation),
        )


@router.post(NAMESPACE + "/tables/{table}")
async def commit_table(
    prefix: str, namespace: str, table: str, request: Request, hub: HubDep, token: TokenDep
) -> dict[str, Any]:
    body = await _json_body(request)
    with hub.transaction() as session:
        return iceberg.commit_table(
            session,
            actor=authenticate(session, token),
            domain=prefix,
            namespace=namespace,
            table=table,
            body=body,
        )


@router.delete(NAMESPACE + "/tables/{table}", status_code=204)
def drop_table(
    prefix: str, namespace: str, table: str, session: SessionDep, actor: CurrentActor
) -> Response:
    iceberg.drop_table(session, actor=actor, domain=prefix, namespace=namespace, table=table)
    return Response(status_code=204)


@router.get(NAMESPACE + "/tables/{table}")
def load_table(
    prefix: str,
    namespace: str,
    table: str,
    hub: HubDep,
    token: TokenDep,
    delegation: Delegation = None,
) -> dict[str, Any]:
    vending = _vending(delegation)
    # Vending credentials writes its audit event: a write transaction then, else a read one.
    with hub.transaction() if vending else hub.read() as session:
        return iceberg.load_table(
            session,
            actor=authenticate(session, token),
            domain=prefix,
            namespace=namespace,
            table=table,
            vended_credentials=vending,
        )


@router.get(NAMESPACE + "/tables/{table}/credentials")
def table_credentials(
    prefix: str, namespace: str, table: str, hub: HubDep, token: TokenDep
) -> dict[str, Any]:
    with hub.transaction() as session:
        return iceberg.table_credentials(
            session,
            actor=authenticate(session, token),
            domain=prefix,
            namespace=namespace,
            table=table,
        )


@router.head(NAMESPACE + "/tables/{table}", status_code=204)
def table_exists(
    prefix: str, namespace: str, table: str, session: SessionDep, actor: CurrentActor
) -> Response:
    iceberg.table_row(session, actor=actor, domain=prefix, namespace=namespace, table=table)
    return Response(status_code=204)


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError as e:
        raise InvalidInputError(f"Invalid request: the body is not JSON ({e})") from None
    if not isinstance(body, dict):
        raise InvalidInputError("Invalid request: the body must be a JSON object")
    return body


def _vending(delegation: str | None) -> bool:
    """Whether the client asked for vended credentials (``X-Iceberg-Access-Delegation``)."""
    return "vended-credentials" in (delegation or "").lower()


def _basic_secret(header: str | None) -> str | None:
    """The password of ``Authorization: Basic`` (clients may send client credentials so)."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip()).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[2] or None
