"""The SDK's tag, filter and mask methods, embedded and remote: each returns the API's model."""

from __future__ import annotations

import pytest

from lakemesh.api.schemas.filters import FilterDeletion, FilterPublic
from lakemesh.api.schemas.masks import MaskPublic
from lakemesh.api.schemas.tags import (
    InheritedTag,
    ResourceTags,
    TableMatch,
    TagAssignment,
    TagChange,
    TagPublic,
)
from lakemesh.errors import ConflictError, InvalidInputError, NotFoundError
from lakemesh.sdk import Client
from tests.factories.lake import Lake

TABLE = "sales.crm.customers"


def _catalog(client: Client, lake: Lake) -> None:
    client.create_domain("sales", producer=True, admins=["user:sam@sales"])
    client.register_location(lake.uri, domain="sales")
    client.create_database("sales.crm")
    columns = [{"name": c, "type": "VARCHAR"} for c in ("id", "email", "region")]
    client.create_table(TABLE, location=lake.uri_of("customers"), format="parquet", columns=columns)


def test_tags_through_the_sdk(client: Client, lake: Lake) -> None:
    _catalog(client, lake)
    created = client.create_tag("sensitivity", values=["public", "pii"], description="Care")
    assert isinstance(created, TagPublic)
    assert created.values == ["pii", "public"]
    updated = client.update_tag("sensitivity", add_values=["internal"])
    assert isinstance(updated, TagPublic)
    assert updated.values == ["internal", "pii", "public"]
    assert client.list_tags() == [updated]
    assert client.get_tag("sensitivity") == updated
    assert updated.description == "Care"

    client.assign_tags("sales.crm", {"sensitivity": "internal"})
    answer = client.assign_tags(f"{TABLE}.email", {"sensitivity": "pii"})
    assert isinstance(answer, TagAssignment)
    assert answer.changes == [TagChange(key="sensitivity", value="pii", previous=None)]
    shown = client.resource_tags(f"{TABLE}.id")
    assert isinstance(shown, ResourceTags)
    assert (shown.resource, shown.level) == (f"{TABLE}.id", "column")
    assert shown.inherited == {
        "sensitivity": InheritedTag.model_validate({"value": "internal", "from": "sales.crm"})
    }
    email = client.get_table(TABLE).columns[1]
    assert email.tags is not None
    assert email.tags.own == {"sensitivity": "pii"}
    assert client.search_tables("sensitivity=pii") == [TableMatch(name=TABLE, columns=["email"])]
    with pytest.raises(ConflictError, match=f"column {TABLE}.email \\(sensitivity=pii\\)"):
        client.delete_tag("sensitivity")
    removed = client.remove_tags(f"{TABLE}.email", ["sensitivity"])
    assert isinstance(removed, TagAssignment)
    assert removed.tags.effective == {"sensitivity": "internal"}
    client.remove_tags("sales.crm", ["sensitivity"])
    client.delete_tag("sensitivity")
    with pytest.raises(NotFoundError, match="Tag key does not exist: sensitivity"):
        client.get_tag("sensitivity")
    with pytest.raises(InvalidInputError, match="Invalid tag expression at position 0"):
        client.search_tables("=pii")


def test_filters_and_masks_through_the_sdk(client: Client, lake: Lake) -> None:
    _catalog(client, lake)
    created = client.create_filter(
        "eu_rows", table=TABLE, rows="region = 'EU'", excluded_columns=["email"]
    )
    assert isinstance(created, FilterPublic)
    assert (created.rows, created.excluded_columns) == ("\"region\" = 'EU'", ["email"])
    updated = client.update_filter("eu_rows", table=TABLE, columns=["id", "region"])
    assert (updated.columns, updated.excluded_columns) == (["id", "region"], [])
    every_row = client.update_filter("eu_rows", all_rows=True)
    assert every_row.rows is None
    assert client.list_filters(table=TABLE) == [every_row]
    assert client.get_filter("eu_rows") == every_row
    assert every_row.table == TABLE
    deleted = client.delete_filter("eu_rows", force=True)
    assert deleted == FilterDeletion(name="eu_rows", table=TABLE, revoked_grants=[])

    client.create_tag("sensitivity", values=["pii"])
    mask = client.create_mask("hide_pii", tag_expression="sensitivity=pii", function="last4")
    assert isinstance(mask, MaskPublic)
    assert (mask.name, mask.function, mask.created_by) == (
        "hide_pii",
        "last4",
        "user:admin@governance",
    )
    assert client.get_mask("hide_pii") == mask
    assert client.list_masks() == [mask]
    client.delete_mask("hide_pii")
    assert client.list_masks() == []
