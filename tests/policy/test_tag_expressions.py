"""Tag expressions: LF syntax plus OR, NOT, != and parentheses; positions in parse errors."""

from __future__ import annotations

import pytest

from lakemesh.errors import InvalidInputError
from lakemesh.policy import implies, parse_tag_expression
from lakemesh.policy.tag_expressions import TagAtom, TagNot


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("sensitivity=public", "sensitivity=public"),
        (
            "sensitivity=public|internal AND domain=sales",
            "sensitivity=internal|public AND domain=sales",
        ),
        (
            "  sensitivity = public |internal   and domain=sales ",
            "sensitivity=internal|public AND domain=sales",
        ),
        ("a=x or b=y AND c=z", "a=x OR b=y AND c=z"),
        ("(a=x or b=y) AND c=z", "(a=x OR b=y) AND c=z"),
        ("not a=x", "NOT a=x"),
        ("NOT NOT a=x", "NOT NOT a=x"),
        ("not (a=x AND b=y)", "NOT (a=x AND b=y)"),
        ("a!=x|y", "a!=x|y"),
        ("a=x|x|x", "a=x"),
        ("((a=x))", "a=x"),
        ("tier=1 AND region=eu-west-1", "tier=1 AND region=eu-west-1"),
        ("Nation=FR", "Nation=FR"),
        ("ANDROID=yes", "ANDROID=yes"),
        ("a=x aNd b=y oR c=z", "a=x AND b=y OR c=z"),
    ],
)
def test_parse_gives_canonical_text(text: str, canonical: str) -> None:
    expression = parse_tag_expression(text)
    assert str(expression) == canonical
    assert parse_tag_expression(canonical) == expression


@pytest.mark.parametrize(
    ("text", "tags", "expected"),
    [
        ("sensitivity=public|internal", {"sensitivity": "internal"}, True),
        ("sensitivity=public|internal", {"sensitivity": "pii"}, False),
        (
            "sensitivity=public|internal AND domain=sales",
            {"sensitivity": "public", "domain": "sales"},
            True,
        ),
        (
            "sensitivity=public|internal AND domain=sales",
            {"sensitivity": "public", "domain": "hr"},
            False,
        ),
        ("sensitivity=pii OR domain=sales", {"domain": "sales"}, True),
        ("sensitivity=pii OR domain=sales", {"domain": "hr"}, False),
        ("NOT sensitivity=pii", {"sensitivity": "public"}, True),
        ("NOT sensitivity=pii", {"sensitivity": "pii"}, False),
        ("sensitivity!=pii", {"sensitivity": "public"}, True),
        ("sensitivity!=pii|secret", {"sensitivity": "secret"}, False),
        # absent keys: k=v is false, k!=v and NOT k=v are true
        ("sensitivity=public", {}, False),
        ("sensitivity!=pii", {}, True),
        ("NOT sensitivity=pii", {}, True),
        ("(a=x OR b=y) AND NOT c=z", {"b": "y"}, True),
        ("(a=x OR b=y) AND NOT c=z", {"b": "y", "c": "z"}, False),
        ("a=x OR b=y AND c=z", {"a": "x"}, True),  # AND binds tighter than OR
        ("a=x OR b=y AND c=z", {"b": "y"}, False),
        ("a=x AND b=y OR c=z AND d=w OR e=v", {"e": "v"}, True),
    ],
)
def test_evaluate(text: str, tags: dict[str, str], expected: bool) -> None:
    assert parse_tag_expression(text).matches(tags) is expected


def test_values_are_case_sensitive_and_keywords_are_not() -> None:
    expression = parse_tag_expression("level=High and not level=high")
    assert expression.matches({"level": "High"})
    assert not expression.matches({"level": "high"})


def test_mentions_and_keys() -> None:
    expression = parse_tag_expression(
        "sensitivity=public|internal AND (domain=sales OR NOT domain!=hr)"
    )
    assert expression.mentions == {
        "sensitivity": frozenset({"public", "internal"}),
        "domain": frozenset({"sales", "hr"}),
    }
    assert expression.keys == frozenset({"sensitivity", "domain"})


def test_tree_shape() -> None:
    root = parse_tag_expression("NOT a!=x|y").root
    assert root == TagNot(TagAtom("a", ("x", "y"), negated=True))


@pytest.mark.parametrize(
    ("text", "position", "problem"),
    [
        ("sensitivity=public AND domain=", 30, "expected a value after '='"),
        ("sensitivity=", 12, "expected a value after '='"),
        ("sensitivity!=", 13, "expected a value after '!='"),
        ("sensitivity=public|", 19, "expected a value after '|'"),
        ("a=b|", 4, "expected a value after '|'"),
        ("", 0, "expected a tag key, found an empty expression"),
        ("   ", 3, "expected a tag key, found an empty expression"),
        ("sensitivity", 11, "expected '=' or '!=' after tag key 'sensitivity'"),
        ("sensitivity public", 12, "expected '=' or '!=' after tag key 'sensitivity'"),
        ("a=b c=d", 4, "expected AND, OR or the end of the expression, found 'c'"),
        ("a=b AND", 7, "expected a tag key, found the end of the expression"),
        ("a=b AND OR c=d", 8, "expected a tag key, found 'OR'"),
        ("(a=b", 4, "expected '\\)', found the end of the expression"),
        ("a=b)", 3, "unexpected '\\)' without a matching '\\('"),
        ("a=b AND (c=d OR e=f", 19, "expected '\\)'"),
        ("NOT", 3, "expected a tag key"),
        ("a-b=c", 0, "invalid tag key 'a-b'"),
        ("1a=b", 0, "invalid tag key '1a'"),
        ("a=$x", 2, "expected a value after '=', found '\\$'"),
        ("a=-x", 2, "invalid tag value '-x'"),
        ("a==b", 2, "expected a value after '=', found '='"),
        ("a=b && c=d", 4, "expected AND, OR or the end of the expression, found '&'"),
    ],
)
def test_parse_errors_show_the_position(text: str, position: int, problem: str) -> None:
    with pytest.raises(InvalidInputError, match=f"at position {position}: {problem}") as caught:
        parse_tag_expression(text)
    assert caught.value.details["position"] == position
    lines = caught.value.message.splitlines()
    assert lines[-2:] == [text, " " * position + "^"]


@pytest.mark.parametrize(
    ("premise", "conclusion", "expected"),
    [
        ("sensitivity=public", "sensitivity=public|internal", True),
        ("sensitivity=public|internal", "sensitivity=public", False),
        ("sensitivity=public AND domain=sales", "sensitivity=public", True),
        ("sensitivity=public", "sensitivity=public AND domain=sales", False),
        ("sensitivity=public", "sensitivity!=pii", True),
        ("sensitivity!=pii", "sensitivity=public", False),
        ("NOT sensitivity=pii|secret", "sensitivity!=pii", True),
        ("a=x OR b=y", "a=x", False),
        ("a=x AND (b=y OR b=z)", "b=y|z", True),
        ("a=x", "a=x OR b=y", True),
    ],
)
def test_implication(premise: str, conclusion: str, expected: bool) -> None:
    assert implies(parse_tag_expression(premise), parse_tag_expression(conclusion)) is expected


def test_implication_refuses_when_too_large_to_check() -> None:
    wide = " AND ".join(f"k{number}=a|b|c" for number in range(12))
    narrow = " AND ".join(f"k{number}=a" for number in range(12))
    assert not implies(parse_tag_expression(narrow), parse_tag_expression(wide), max_cases=1000)
