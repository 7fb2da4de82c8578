"""Whether one tag expression implies another (a grant on it is the same or narrower).

Atoms only compare a key's value with the values the expressions name, so each key needs only
those values, one value named nowhere, and "absent" to try every case: the check is exact.

>>> from lakemesh.policy.tag_expressions import parse_tag_expression as parse
>>> implies(parse("sensitivity=public AND domain=sales"), parse("sensitivity=public|internal"))
True
>>> implies(parse("sensitivity=public|pii"), parse("sensitivity=public|internal"))
False
"""

from __future__ import annotations

from itertools import product
from math import prod

from lakemesh.policy.tag_expressions import TagExpression

MAX_CASES = 100_000
_UNNAMED = "\x00unnamed"


def implies(
    premise: TagExpression, conclusion: TagExpression, *, max_cases: int = MAX_CASES
) -> bool:
    """Whether every resource satisfying ``premise`` satisfies ``conclusion``.

    Beyond ``max_cases`` combinations the answer is False: when unsure, refuse.
    """
    if str(premise) == str(conclusion):
        return True
    mentioned: dict[str, set[str]] = {}
    for expression in (premise, conclusion):
        for key, values in expression.mentions.items():
            mentioned.setdefault(key, set()).update(values)
    keys = sorted(mentioned)
    choices: list[list[str | None]] = [[*sorted(mentioned[key]), _UNNAMED, None] for key in keys]
    if prod(len(values) for values in choices) > max_cases:
        return False
    for case in product(*choices):
        tags = {key: value for key, value in zip(keys, case, strict=True) if value is not None}
        if premise.matches(tags) and not conclusion.matches(tags):
            return False
    return True
