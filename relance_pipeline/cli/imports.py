"""`relance import invoices|bank FILE...`: print what was written (or would be), then every problem."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from relance_pipeline.cli.bank_format import bank_lines, bank_markdown
from relance_pipeline.cli.loop import Repository
from relance_pipeline.cli.terminal import echo
from relance_pipeline.commands.import_bank import import_bank
from relance_pipeline.commands.import_invoices import ImportReport, import_invoices


@click.group(name="import")
def import_group() -> None:
    """Bring invoices and bank statements into the books (nothing is written on any error)."""


MAPPING_HELP = "For CSV files: imports/NAME.yaml, or a preset ({})."


@import_group.command(name="invoices")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Print what would be written; write nothing.")
@click.option("--mapping", default=None, metavar="NAME", help=MAPPING_HELP.format("generic-fr, invoiceninja"))
@click.pass_obj
def invoices_command(obj: Repository, files: tuple[Path, ...], dry_run: bool, mapping: str | None) -> None:
    """Factur-X/ZUGFeRD PDFs, CII or UBL XML, CSV exports → invoice and client files."""
    _finish(import_invoices(obj.repo, list(files), obj.today(), dry_run=dry_run, mapping=mapping))


def _finish(report: ImportReport) -> None:
    for line in report.said:
        echo(line)
    for problem in report.problems:
        echo(str(problem), err=True)
    if report.exit_code:
        echo("nothing written", err=True)
    sys.exit(report.exit_code)


@import_group.command(name="bank")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Print the matches; write nothing.")
@click.option(
    "--format", "output", type=click.Choice(["table", "markdown"]), default="table", show_default=True,
    help="markdown: the table the nightly pull request shows.",
)  # fmt: skip
@click.option("--mapping", default=None, metavar="NAME", help=MAPPING_HELP.format("generic-bank, boursobank"))
@click.pass_obj
def bank_command(obj: Repository, files: tuple[Path, ...], dry_run: bool, output: str, mapping: str | None) -> None:
    """camt.053/054, OFX or CSV statements → payments matched to invoices (the unsure ones listed, never written)."""
    report = import_bank(obj.repo, list(files), obj.today(), dry_run=dry_run, mapping=mapping)
    if not report.exit_code:
        for line in bank_lines(report) if output == "table" else bank_markdown(report):
            echo(line)
    for problem in report.problems:
        echo(str(problem), err=True)
    if report.exit_code:
        echo("nothing written", err=True)
    sys.exit(report.exit_code)
