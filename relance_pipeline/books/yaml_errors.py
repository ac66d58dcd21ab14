"""The YAML parser's errors told in plain words, for someone who edits the books by hand.

The parser speaks of tokens and flow nodes; a user needs to hear which bracket or quote is not closed,
that a colon inside a value needs quotes, or that a tab is used for indenting.
"""

from __future__ import annotations

import re

import yaml

from relance_pipeline.model import Problem

STANDARD_TAGS = "tag:yaml.org,2002:"
_CLEAN = re.compile(r"\s+")
_CLOSERS = {"]": "[", "}": "{"}


def yaml_problem(rel: str, text: str, error: yaml.MarkedYAMLError) -> Problem:
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark is not None else None
    opened = error.context_mark.line + 1 if error.context_mark is not None else line
    what = _CLEAN.sub(" ", str(error.problem or "")).strip()
    if isinstance(error, yaml.constructor.ConstructorError) and error.problem:
        return Problem(rel, line, what, code="yaml.value")
    char = _char_at(text, mark.line, mark.column) if mark is not None else ""
    plain = _plain_words(what, str(error.context or ""), char, opened)
    if plain is not None:
        at, words = plain
        return Problem(rel, at if at is not None else line, f"is not valid YAML: {words}", code="yaml.syntax")
    context = _CLEAN.sub(" ", str(error.context or "")).strip()
    detail = f"{what} ({context})" if context else what
    return Problem(rel, line, f"is not valid YAML: {detail}", code="yaml.syntax")


def _plain_words(what: str, context: str, char: str, opened: int | None) -> tuple[int | None, str] | None:
    """(line to show, if not the parser's; the words) for the mistakes people make in hand-written YAML."""
    if char == "\t":
        return None, "a tab is used for indenting; indent with spaces"
    if "mapping values are not allowed" in what:
        return None, "a colon followed by a space inside a value; put the value in quotes"
    if "could not find expected ':'" in what:
        return opened, "this line is not 'key: value' (the colon after the key is missing)"
    if "did not find expected key" in what or "expected <block end>" in what:
        return None, "the indentation does not match the lines above"
    for closer, opener in _CLOSERS.items():
        if f"expected ',' or '{closer}'" in what:
            return None, f"the {opener} opened on line {opened} is not closed with {closer}"
    if "end of stream" in what and "quoted scalar" in context:
        return opened, "a quote opened on this line is not closed"
    if "unknown escape character" in what:
        return None, "a backslash inside double quotes starts an escape; use single quotes, or write \\\\"
    if "cannot start any token" in what and char:
        return None, f"a value cannot start with {char}; put the value in quotes"
    if "undefined alias" in what:
        return None, "an alias (*name) refers to no anchor (&name) above it"
    if "expected node content" in what:
        return None, "a value is missing here (is a [ or { left open?)"
    if "duplicate anchor" in context:
        return None, "an anchor (&name) is defined twice; give each its own name"
    if "another document" in what:
        return None, "a second YAML document starts here (a '---' line); keep one document per file"
    if "expected '-' indicator" in what:
        return None, "a list item (- ...) and a 'key: value' line are mixed at the same indentation"
    return None


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.splitlines()
    return lines[line][column : column + 1] if 0 <= line < len(lines) else ""
