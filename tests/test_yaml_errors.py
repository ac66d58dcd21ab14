"""The YAML parser's errors, told in words a person editing the books by hand understands."""

from __future__ import annotations

import pytest

from relance_pipeline.books.load import parse_document

PATH = "ledger/clients/acme.yaml"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "name: Acme\nnote: Relance: appel prévu\n",
            "2: is not valid YAML: a colon followed by a space inside a value; put the value in quotes",
            id="colon-in-value",
        ),
        pytest.param(
            "name: Acme\nkind business\nlanguage: fr\n",
            "2: is not valid YAML: this line is not 'key: value' (the colon after the key is missing)",
            id="missing-colon",
        ),
        pytest.param(
            "address:\n  - 8 quai de la Fosse\n  - 44000 Nantes\n language: fr\n",
            "4: is not valid YAML: the indentation does not match the lines above",
            id="indentation",
        ),
        pytest.param(
            "address: [8 quai de la Fosse, 44000 Nantes\nlanguage: fr\n",
            "2: is not valid YAML: the [ opened on line 1 is not closed with ]",
            id="open-bracket",
        ),
        pytest.param(
            "hold: {reason: disputed\nnote: x\n",
            "2: is not valid YAML: the { opened on line 1 is not closed with }",
            id="open-brace",
        ),
        pytest.param(
            'name: "Acme\nkind: business\n',
            "1: is not valid YAML: a quote opened on this line is not closed",
            id="open-quote",
        ),
        pytest.param(
            'document: "C:\\factures\\F-1.pdf"\n',
            "1: is not valid YAML: a backslash inside double quotes starts an escape; use single quotes, or write \\\\",
            id="backslash",
        ),
        pytest.param(
            "email: @acme.fr\n",
            "1: is not valid YAML: a value cannot start with @; put the value in quotes",
            id="at-sign",
        ),
        pytest.param(
            "hold:\n\treason: disputed\n",
            "2: is not valid YAML: a tab is used for indenting; indent with spaces",
            id="tab",
        ),
        pytest.param(
            "address: &a [x]\ncontact: *b\n",
            "2: is not valid YAML: an alias (*name) refers to no anchor (&name) above it",
            id="undefined-alias",
        ),
        pytest.param(
            "a: &x 1\nb: &x 2\n",
            "2: is not valid YAML: an anchor (&name) is defined twice; give each its own name",
            id="duplicate-anchor",
        ),
        pytest.param(
            "name: Acme\n---\nname: Other\n",
            "2: is not valid YAML: a second YAML document starts here (a '---' line); keep one document per file",
            id="two-documents",
        ),
        pytest.param(
            "address:\n- 8 quai de la Fosse\nlanguage: fr\n- 44000 Nantes\n",
            "4: is not valid YAML: the indentation does not match the lines above",
            id="mixed-list",
        ),
        pytest.param(
            "name: [\n",
            "2: is not valid YAML: a value is missing here (is a [ or { left open?)",
            id="unfinished-list",
        ),
    ],
)
def test_a_yaml_syntax_error_says_what_to_fix_on_which_line(text: str, expected: str) -> None:
    assert str(parse_document(PATH, text.encode("utf-8"))) == f"{PATH}:{expected}"


def test_a_yaml_error_without_plain_words_keeps_the_parsers_own(tmp_path: object) -> None:
    found = str(parse_document(PATH, b"a: !!binary x\n"))
    assert found.startswith(f"{PATH}:1: ")
    assert "Traceback" not in found
