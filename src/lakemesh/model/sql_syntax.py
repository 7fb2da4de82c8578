"""SQL syntax errors in SQL terms: where (line, column, the token near it) and what is wrong.

sqlglot describes what its parser missed (``Required keyword: 'expression' missing for <class
'sqlglot...Mul'>``); users are told ``syntax error at line 1, column 12 near 'FROM': an expression
or clause is incomplete``. Shared by the query gateway and row-filter predicates.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot.errors import ParseError, TokenError


@dataclass(frozen=True)
class SyntaxProblem:
    """Where a statement stopped parsing, and why, as a user reads it."""

    line: int | None
    column: int | None
    near: str | None
    reason: str

    def describe(self) -> str:
        """``syntax error at line 1, column 12 near 'FROM': an expression ... is incomplete``.

        >>> SyntaxProblem(1, 9, "1", "expected )").describe()
        "syntax error at line 1, column 9 near '1': expected )"
        """
        where = (
            f" at line {self.line}, column {self.column}"
            if self.line is not None and self.column is not None
            else ""
        )
        token = f" near {self.near!r}" if self.near else " at the end of the statement"
        return f"syntax error{where}{token}{': ' + self.reason if self.reason else ''}"

    def details(self) -> dict[str, object]:
        return {"line": self.line, "column": self.column, "near": self.near, "reason": self.reason}


def parse_problem(error: ParseError) -> SyntaxProblem:
    """The parser's first complaint, with the column where its token starts."""
    first = error.errors[0] if error.errors else {}
    line, column = first.get("line"), first.get("col")
    near = str(first.get("highlight") or "").strip()[:40]
    if isinstance(column, int) and near:
        column = max(column - len(near) + 1, 1)
    return SyntaxProblem(line, column, near or None, _reason(str(first.get("description") or "")))


def token_problem(sql: str, error: TokenError) -> SyntaxProblem:
    """A text the tokenizer could not read: an unterminated string, quoted name or comment."""
    end = error.end if error.end is not None else len(sql)
    near = sql[max(end - 20, 0) : end + 1].strip()
    return SyntaxProblem(None, None, near, "an unterminated string, quoted name or comment")


def _reason(description: str) -> str:
    """A parser's description of a syntax error, without its internals."""
    if description.startswith("Required keyword"):
        return "an expression or clause is incomplete"
    if description.startswith("Expecting "):
        return "expected " + description.removeprefix("Expecting ")
    if description.startswith(("Invalid expression", "Unexpected token")):
        return "unexpected token"
    return "" if "<class" in description else description
