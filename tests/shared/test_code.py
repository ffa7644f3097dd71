"""User code of the ``python`` runtime: wrapped into a handler and checked."""

from typing import Any

import pytest

from shared.code import check_code, compile_function
from shared.errors import CodeError


def load_handler(code: str) -> Any:
    """The ``handler`` a worker would call for ``code``."""
    namespace: dict[str, Any] = {}
    exec(compile_function(code), namespace)
    return namespace["handler"]


def test_body_code_runs_as_the_body_of_handler() -> None:
    """The original example, semicolon included, returns input + 1."""
    assert load_handler("return input + 1;")(10) == 11


def test_body_code_keeps_the_users_line_numbers_in_tracebacks() -> None:
    handler = load_handler("x = 1\n\nreturn input / 0")

    with pytest.raises(ZeroDivisionError) as raised:
        handler(1)

    assert raised.traceback[-1].lineno + 1 == 3


def test_body_code_of_several_lines_keeps_its_blocks() -> None:
    code = "total = 0\nfor n in input:\n    if n > 0:\n        total += n\nreturn total"

    assert load_handler(code)([1, -2, 3]) == 4


def test_body_code_without_return_answers_none() -> None:
    assert load_handler("x = input * 2\n# nothing returned")(3) is None


@pytest.mark.parametrize(
    "code",
    [
        "def handler(input):\n    return input * 2\n",
        "import math\n\ndef handler(input):\n    return math.floor(input)\n",
        "async def handler(input):\n    return input\n",
    ],
)
def test_code_that_defines_handler_is_kept_as_written(code: str) -> None:
    handler = load_handler(code)

    assert (
        handler.__code__.co_firstlineno
        == code.splitlines().index(
            next(line for line in code.splitlines() if "def handler" in line)
        )
        + 1
    )


def test_a_handler_defined_only_inside_a_block_does_not_count() -> None:
    """Only a top-level ``handler`` is the entry point; nested code is a body."""
    code = "if True:\n    def handler(input):\n        return 0\nreturn 7"

    assert load_handler(code)(None) == 7


def test_a_multiline_string_in_body_code_keeps_its_text() -> None:
    code = 'text = """first\nsecond"""\nreturn text'

    assert load_handler(code)(None) == "first\nsecond"


@pytest.mark.parametrize(
    "code",
    [
        "return input + 1;",
        "def handler(input):\n    return input\n",
        "# only a comment",
        "import json\nreturn json.dumps(input)",
    ],
)
def test_check_code_accepts_valid_code(code: str) -> None:
    check_code(code)


@pytest.mark.parametrize(
    ("code", "line"),
    [
        ("return (1", 1),
        ("x = 1\nreturn x +", 2),
        ("a = 1\nb = 2\nreturn a b", 3),
        ("return 1\n  return 2", 2),
        ("def handler(input):\n    return input +", 2),
        ("import os\n\ndef handler(input):\n    return )\n", 4),
    ],
)
def test_check_code_raises_code_error_with_the_users_line(code: str, line: int) -> None:
    with pytest.raises(CodeError) as caught:
        check_code(code)

    assert caught.value.line == line
    assert caught.value.message.endswith(f"(line {line})")


def test_check_code_error_without_a_line() -> None:
    """A null byte fails before parsing, so there is no line to name."""
    with pytest.raises(CodeError) as caught:
        check_code("return 1\x00")

    assert caught.value.line is None
    assert "null bytes" in caught.value.message


def test_check_code_message_names_the_users_lines_only() -> None:
    with pytest.raises(CodeError) as caught:
        check_code("for n in input:\nreturn n")

    assert caught.value.line == 2
    assert caught.value.message == (
        "expected an indented block after 'for' statement on line 1 (line 2)"
    )
