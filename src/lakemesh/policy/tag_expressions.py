"""Tag expressions: ``sensitivity=public|internal AND domain=sales`` (DESIGN §4).

The Lake Formation form (AND across keys, ``|`` between the values of one key) plus ``OR``, ``NOT``,
``!=`` and parentheses. Keywords are case-insensitive; keys are identifiers; values are identifiers
that may also contain ``-`` and start with a digit. Precedence: ``NOT`` > ``AND`` > ``OR``.

Absent keys: ``k=v`` is false when the resource has no value for ``k`` and ``k!=v`` is true, so
``k!=v`` is exactly ``NOT k=v`` (a resource with no ``sensitivity`` tag is not ``sensitivity=pii``).

>>> expression = parse_tag_expression("sensitivity=public|internal and domain=sales")
>>> str(expression)
'sensitivity=internal|public AND domain=sales'
>>> expression.matches({"sensitivity": "public", "domain": "sales"})
True
>>> expression.matches({"sensitivity": "pii", "domain": "sales"})
False
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from lakemesh.errors import InvalidInputError

KEYWORDS = frozenset({"AND", "OR", "NOT"})
"""Words that cannot be tag keys in an expression (the tag service should refuse them as keys)."""

KEY_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
VALUE_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
_WORD = re.compile(r"[A-Za-z0-9_-]+")

Tags = Mapping[str, str]
Matcher = Callable[[Tags], bool]


@dataclass(frozen=True)
class TagAtom:
    """``key=v1|v2`` (the key's value is one of ``values``) or, when ``negated``, ``key!=v1|v2``."""

    key: str
    values: tuple[str, ...]
    negated: bool = False

    def __str__(self) -> str:
        return f"{self.key}{'!=' if self.negated else '='}{'|'.join(self.values)}"

    def source(self) -> str:
        test = "!=" if self.negated else "=="
        if len(self.values) == 1:
            return f"(tags.get({self.key!r}) {test} {self.values[0]!r})"
        test = "not in" if self.negated else "in"
        # a set display after ``in`` compiles to a frozenset constant
        members = ", ".join(repr(value) for value in self.values)
        return f"(tags.get({self.key!r}) {test} {{{members}}})"

    def compile(self) -> Matcher:
        key, negated = self.key, self.negated
        if len(self.values) == 1:
            (value,) = self.values
            if negated:
                return lambda tags: tags.get(key) != value
            return lambda tags: tags.get(key) == value
        values = frozenset(self.values)
        if negated:
            return lambda tags: tags.get(key) not in values
        return lambda tags: tags.get(key) in values


@dataclass(frozen=True)
class TagNot:
    """``NOT operand``."""

    operand: TagNode

    def __str__(self) -> str:
        inner = str(self.operand)
        return f"NOT {inner}" if isinstance(self.operand, TagAtom | TagNot) else f"NOT ({inner})"

    def source(self) -> str:
        return f"(not {self.operand.source()})"

    def compile(self) -> Matcher:
        inner = self.operand.compile()
        return lambda tags: not inner(tags)


@dataclass(frozen=True)
class TagAnd:
    """All operands hold."""

    operands: tuple[TagNode, ...]

    def __str__(self) -> str:
        return " AND ".join(
            f"({operand})" if isinstance(operand, TagOr) else str(operand)
            for operand in self.operands
        )

    def source(self) -> str:
        return "(" + " and ".join(operand.source() for operand in self.operands) + ")"

    def compile(self) -> Matcher:
        parts = tuple(operand.compile() for operand in self.operands)
        if len(parts) == 2:
            first, second = parts
            return lambda tags: first(tags) and second(tags)
        return lambda tags: all(part(tags) for part in parts)


@dataclass(frozen=True)
class TagOr:
    """Some operand holds."""

    operands: tuple[TagNode, ...]

    def __str__(self) -> str:
        return " OR ".join(str(operand) for operand in self.operands)

    def source(self) -> str:
        return "(" + " or ".join(operand.source() for operand in self.operands) + ")"

    def compile(self) -> Matcher:
        parts = tuple(operand.compile() for operand in self.operands)
        if len(parts) == 2:
            first, second = parts
            return lambda tags: first(tags) or second(tags)
        return lambda tags: any(part(tags) for part in parts)


TagNode = TagAtom | TagNot | TagAnd | TagOr


MAX_COMPILED_LENGTH = 20_000


def _compile(root: TagNode) -> Matcher:
    """One Python function for the whole expression (several times faster than nested closures).

    The source holds only ``repr`` of validated keys and values, so it is safe to evaluate; very
    large expressions fall back to closures.
    """
    source = root.source()
    if len(source) <= MAX_COMPILED_LENGTH:
        try:
            matcher: Matcher = eval(f"lambda tags: {source}", {"__builtins__": {}})
        except (SyntaxError, RecursionError, MemoryError):
            pass
        else:
            return matcher
    return root.compile()


def _collect(node: TagNode, into: dict[str, set[str]]) -> None:
    if isinstance(node, TagAtom):
        into.setdefault(node.key, set()).update(node.values)
    elif isinstance(node, TagNot):
        _collect(node.operand, into)
    else:
        for operand in node.operands:
            _collect(operand, into)


@dataclass(frozen=True)
class TagExpression:
    """A parsed tag expression; equal expressions have equal canonical text.

    Build one with :func:`parse_tag_expression`. ``str()`` is the canonical text (keywords upper
    case, each atom's values sorted, parentheses only where needed); parsing it gives it back.
    """

    root: TagNode
    matcher: Matcher = field(init=False, repr=False, compare=False)
    _text: str = field(init=False, repr=False, compare=False)
    _mentions: dict[str, frozenset[str]] = field(init=False, repr=False, compare=False)
    keys: frozenset[str] = field(init=False, repr=False, compare=False)
    """The keys the expression reads; tags on other keys cannot change its value."""

    def __post_init__(self) -> None:
        collected: dict[str, set[str]] = {}
        _collect(self.root, collected)
        mentions = {key: frozenset(values) for key, values in collected.items()}
        object.__setattr__(self, "matcher", _compile(self.root))
        object.__setattr__(self, "_text", str(self.root))
        object.__setattr__(self, "_mentions", mentions)
        object.__setattr__(self, "keys", frozenset(mentions))

    def __str__(self) -> str:
        return self._text

    def matches(self, tags: Tags) -> bool:
        """Whether a resource with these effective tags satisfies the expression."""
        return self.matcher(tags)

    @property
    def mentions(self) -> dict[str, frozenset[str]]:
        """Each key the expression mentions, with the values it names for it.

        >>> {k: sorted(v) for k, v in parse_tag_expression("a=x|y OR NOT b!=z").mentions.items()}
        {'a': ['x', 'y'], 'b': ['z']}
        """
        return dict(self._mentions)


def parse_tag_expression(text: str) -> TagExpression:
    """Parse a tag expression.

    Raises:
        InvalidInputError: with the position of the problem in the message (and a caret line under
            the expression) and in ``details["position"]`` (0-based character offset).
    """
    return TagExpression(_Parser(text).parse())


class _Parser:
    """Recursive descent over the raw text; words are read in context (key, keyword or value)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0

    def fail(self, problem: str, position: int | None = None) -> InvalidInputError:
        where = self.position if position is None else position
        return InvalidInputError(
            f"Invalid tag expression at position {where}: {problem}\n{self.text}\n{' ' * where}^",
            details={"position": where, "expression": self.text},
        )

    def skip_space(self) -> None:
        while self.position < len(self.text) and self.text[self.position].isspace():
            self.position += 1

    def peek_word(self) -> str | None:
        self.skip_space()
        match = _WORD.match(self.text, self.position)
        return match.group(0) if match else None

    def peek_keyword(self) -> str | None:
        word = self.peek_word()
        return word.upper() if word is not None and word.upper() in KEYWORDS else None

    def take(self, literal: str) -> bool:
        self.skip_space()
        if self.text.startswith(literal, self.position):
            self.position += len(literal)
            return True
        return False

    def parse(self) -> TagNode:
        self.skip_space()
        if self.position == len(self.text):
            raise self.fail("expected a tag key, found an empty expression")
        node = self.parse_or()
        self.skip_space()
        if self.position < len(self.text):
            found = self.describe_here()
            if self.text[self.position] == ")":
                raise self.fail("unexpected ')' without a matching '('")
            raise self.fail(f"expected AND, OR or the end of the expression, found {found}")
        return node

    def describe_here(self) -> str:
        word = self.peek_word()
        if word is not None:
            return repr(word)
        if self.position >= len(self.text):
            return "the end of the expression"
        return repr(self.text[self.position])

    def parse_or(self) -> TagNode:
        operands = [self.parse_and()]
        while self.peek_keyword() == "OR":
            self.position += 2
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else TagOr(tuple(operands))

    def parse_and(self) -> TagNode:
        operands = [self.parse_not()]
        while self.peek_keyword() == "AND":
            self.position += 3
            operands.append(self.parse_not())
        return operands[0] if len(operands) == 1 else TagAnd(tuple(operands))

    def parse_not(self) -> TagNode:
        if self.peek_keyword() == "NOT":
            self.position += 3
            return TagNot(self.parse_not())
        return self.parse_primary()

    def parse_primary(self) -> TagNode:
        if self.take("("):
            node = self.parse_or()
            if not self.take(")"):
                raise self.fail(f"expected ')', found {self.describe_here()}")
            return node
        return self.parse_atom()

    def parse_atom(self) -> TagAtom:
        start = self.position
        word = self.peek_word()
        if word is None or word.upper() in KEYWORDS:
            raise self.fail(f"expected a tag key, found {self.describe_here()}")
        if not KEY_PATTERN.fullmatch(word):
            raise self.fail(f"invalid tag key {word!r} (use letters, digits and _)", start)
        self.position += len(word)
        if self.take("!="):
            operator, negated = "!=", True
        elif self.take("="):
            operator, negated = "=", False
        else:
            raise self.fail(f"expected '=' or '!=' after tag key {word!r}")
        values = [self.parse_value(f"after {operator!r}")]
        while self.take("|"):
            values.append(self.parse_value("after '|'"))
        return TagAtom(word, tuple(sorted(set(values))), negated)

    def parse_value(self, context: str) -> str:
        word = self.peek_word()
        if word is None:
            raise self.fail(f"expected a value {context}, found {self.describe_here()}")
        if not VALUE_PATTERN.fullmatch(word):
            raise self.fail(f"invalid tag value {word!r}")
        self.position += len(word)
        return word
