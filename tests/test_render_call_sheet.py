"""Call sheets: what to say, the amounts, and a form for the answer and any promise to pay."""

from __future__ import annotations

from pathlib import Path

import pytest
from render_support import AS_OF, action_for, books_of, client_for

from relance_pipeline.commands.init import init
from relance_pipeline.model import Language
from relance_pipeline.render.renderer import Renderer


@pytest.mark.parametrize("step", ["relance-1", "relance-2", "appel", "lettre", "mise-en-demeure"])
@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("kind", ["business", "consumer"])
def test_a_call_sheet_lists_the_amounts_the_script_and_the_form(
    tmp_path: Path, step: str, language: Language, kind: str
) -> None:
    root = tmp_path / "books"
    init(root)
    books = books_of(root)
    client = client_for(books, kind, language)
    rendering = Renderer(root, books).render(action_for(books, client, step, channels=("phone",)), AS_OF)
    assert rendering.ok, rendering.problems
    (document,) = rendering.documents
    assert document.filename == f"{step}.call.md"
    sheet = document.content.decode("utf-8").replace("\u202f", " ").replace("\u00a0", " ")
    french = language == "fr"
    assert sheet.startswith(("# Fiche d’appel — " if french else "# Call sheet — ") + client.name)
    assert client.phone is not None and client.phone in sheet
    if kind == "business":
        assert "| F-2026-003 | 15/01/2026 | 14/02/2026 |" in sheet
        asked = (
            ("4 304,68 €" if french else "€4,304.68")
            if step != "relance-1"
            else ("4 200,00 €" if french else "€4,200.00")
        )
        assert ("Montant à demander : " if french else "Amount to ask for: ") + asked in sheet
    else:
        assert "| F-2026-005 |" in sheet and ("800,00 €" if french else "€800.00") in sheet
    later = step != "relance-1"
    if kind == "business" and later:
        assert (
            "| Pénalités | Indemnité | Total dû |" if french else "| Penalties | Compensation | Total due |"
        ) in sheet
    if kind == "consumer":
        assert "Pénalités" not in sheet and "Penalties" not in sheet
    assert ("Promesse de paiement" if french else "Promise to pay") in sheet
    assert "hold: {reason: promise" in sheet
