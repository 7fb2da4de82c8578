"""Control characters never get into names and descriptions: every request body refuses them,
naming the field, so they cannot reach other users' terminals."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.api.conftest import DomainAdmin, error_of, ok

ATTACKS = {
    "ESC (colours)": ("\x1b[31mred", "U+001B"),
    "OSC-8 hyperlink": ("\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\", "U+001B"),
    "right-to-left override": ("invoice\u202egnp.exe", "U+202E"),
    "bidi isolate": ("a\u2066b", "U+2066"),
    "NUL": ("a\x00b", "U+0000"),
    "C1 CSI": ("a\x9bb", "U+009B"),
    "DEL": ("a\x7fb", "U+007F"),
    "backspace": ("safe\x08\x08\x08\x08evil", "U+0008"),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_description_with_a_control_character_is_refused(
    admin: httpx.Client, unique: Callable[[str], str], attack: str
) -> None:
    text, code = ATTACKS[attack]
    body = {"name": unique("ctl"), "description": text}
    error = error_of(admin.post("/domains", json=body), 400)
    assert error["message"].startswith(f"Invalid description: control character {code} at ")
    assert error["details"]["field"] == "description"


def test_every_body_and_nested_field_is_checked(
    admin: httpx.Client, make_domain: Callable[[str], DomainAdmin], unique: Callable[[str], str]
) -> None:
    domain = make_domain("ctl").domain
    error = error_of(admin.patch(f"/domains/{domain}", json={"description": "x\u202ey"}), 400)
    assert error["details"]["field"] == "description"
    body = {"name": f"user:eve@{domain}", "attributes": {"region": "EU\x1b[2J"}}
    error = error_of(admin.post("/principals", json=body), 400)
    assert error["message"].startswith("Invalid attributes.region: control character U+001B")
    error = error_of(admin.post("/tags", json={"key": unique("k"), "values": ["a\x00"]}), 400)
    assert error["details"]["field"] == "values"
    # Tabs and line breaks are text, not controls.
    described = ok(admin.patch(f"/domains/{domain}", json={"description": "a\tb\nc\r\n"}))
    assert described["description"] == "a\tb\nc\r\n"
