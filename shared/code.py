"""Turning user code of the ``python`` runtime into a module that defines ``handler``.

Code that defines a top-level ``handler`` is used as written; anything else is
the body of ``def handler(input):``, so ``return input + 1;`` runs unchanged.
"""

import ast
from types import CodeType

from shared.errors import CodeError

HANDLER = "handler"
FILENAME = "<function>"
_TEMPLATE = "def handler(input):\n    pass\n"


def compile_function(code: str) -> CodeType:
    """Compile ``code`` into a module whose ``handler`` is the function.

    The body is grafted into the handler as a syntax tree rather than as
    indented text, so string literals keep their text and every line number,
    in errors and tracebacks alike, is the one the user wrote.

    Raises:
        CodeError: naming the user's line.
    """
    try:
        tree = ast.parse(code, FILENAME)
        if not _defines_handler(tree):
            tree = _as_handler_body(tree)
        return compile(tree, FILENAME, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        reason = getattr(exc, "msg", None) or str(exc)
        where = f" (line {line})" if line is not None else ""
        raise CodeError(f"{reason}{where}", line=line) from exc


def check_code(code: str) -> None:
    """Compile ``code`` the way a worker will; raises CodeError."""
    compile_function(code)


def _defines_handler(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name == HANDLER
        for node in tree.body
    )


def _as_handler_body(tree: ast.Module) -> ast.Module:
    module = ast.parse(_TEMPLATE, FILENAME)
    handler = module.body[0]
    assert isinstance(handler, ast.FunctionDef)
    if tree.body:
        handler.body = tree.body
    return module
