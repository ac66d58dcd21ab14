"""The command line: each verb parses its options, calls one library function, and maps the outcome to an
exit code (0 ok, 1 invalid input or a failed check, 2 usage error).

Each verb imports its library when it runs: `relance plan` never loads Jinja, WeasyPrint's helpers or the render
pool (a process's start-up is a good part of a nightly's `validate` + `plan`)."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from relance_pipeline import clock
from relance_pipeline.books.read import configured_timezone
from relance_pipeline.cli import progress_bar
from relance_pipeline.cli.plan_format import to_json as plan_json
from relance_pipeline.cli.plan_format import to_table as plan_table
from relance_pipeline.cli.terminal import echo
from relance_pipeline.commands.plan import plan_repository, report_repository
from relance_pipeline.figures import count
from relance_pipeline.imports.ecb import DEFAULT_TIMEOUT as RATES_TIMEOUT
from relance_pipeline.model import Problem
from relance_pipeline.outbox.lock import LockBusy

if TYPE_CHECKING:
    from relance_pipeline.commands import rates as rates_command


class Context:
    def __init__(self, repo: Path) -> None:
        self.repo = repo

    def today(self) -> date:
        """Today where the creditor lives: only relance.yaml is read (the books are the command's to read)."""
        return clock.today_in(configured_timezone(self.repo))

    def as_of(self, option: datetime | None) -> date:
        """The --as-of option's date, else today."""
        return option.date() if option else self.today()


def as_of_option(function: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--as-of",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        default=None,
        help="The date to work as of (YYYY-MM-DD); default: today in the configured timezone.",
    )(function)


def report_problems(problems: Iterable[Problem]) -> int:
    """Print each problem as `file:line: message`; the exit code is 1 when any is an error."""
    failed = False
    for problem in problems:
        echo(str(problem), err=problem.severity == "warning")
        failed = failed or problem.severity == "error"
    return 1 if failed else 0


LOOP_VERBS = {"send": "send_command", "record": "record_group"}
"""Verb → its command in cli_loop."""
IMPORT_VERBS = {"import": "import_group"}
"""Verb → its command in cli.imports."""


class LazyGroup(click.Group):
    """Verbs defined in other modules are imported when used: `relance run` does not pay for `send`'s imports."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LOOP_VERBS, *IMPORT_VERBS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LOOP_VERBS and cmd_name not in self.commands:
            from relance_pipeline.cli import loop as cli_loop

            self.add_command(getattr(cli_loop, LOOP_VERBS[cmd_name]), cmd_name)
        if cmd_name in IMPORT_VERBS and cmd_name not in self.commands:
            from relance_pipeline.cli import imports as cli_imports

            self.add_command(getattr(cli_imports, IMPORT_VERBS[cmd_name]), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--repo",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The dunning repository to work in.",
)
@click.version_option(package_name="relance-pipeline")
@click.pass_context
def main(ctx: click.Context, repo: Path) -> None:
    """relance: dunning as code."""
    ctx.obj = Context(repo.resolve())


@main.command(name="validate")
@click.pass_obj
def validate_command(obj: Context) -> None:
    """Check every file of the books; print each problem as file:line: message."""
    from relance_pipeline.commands.validate import check_books, summary

    problems, loaded = check_books(obj.repo, obj.today())
    code = report_problems(problems)
    if code == 0 and loaded.books is not None:
        echo(summary(loaded.books))
    sys.exit(code)


@main.group(name="rates", invoke_without_command=True)
@as_of_option
@click.pass_context
def rates_group(ctx: click.Context, as_of: datetime | None) -> None:
    """The rate table: its coverage, the rates in force on a date, and what is missing."""
    if ctx.invoked_subcommand is None:
        from relance_pipeline.commands import rates as rates_command  # ruamel.yaml: only the rates verbs need it

        obj: Context = ctx.obj
        _finish(rates_command.show(obj.repo, obj.as_of(as_of)))


@rates_group.command(name="update")
@as_of_option
@click.option(
    "--source",
    metavar="URL",
    default=None,
    callback=lambda _ctx, _param, value: _web_address(value),
    help="Base URL of the ECB Data Portal's data API; default: rates_source in relance.yaml, else the ECB's.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=RATES_TIMEOUT,
    show_default=True,
    help="Seconds to wait for the ECB's answer.",
)
@click.pass_obj
def rates_update_command(obj: Context, as_of: datetime | None, source: str | None, timeout: float) -> None:
    """Add the missing semesters' ECB figures to policies/rates.yaml (the legal rates are added by hand)."""
    from relance_pipeline.commands import rates as rates_command

    today = obj.today()
    _finish(rates_command.update(obj.repo, as_of.date() if as_of else today, today, source, timeout))


def _web_address(value: str | None) -> str | None:
    if value is not None and not value.lower().startswith(("https://", "http://")):
        raise click.BadParameter(f"'{value}' is not a web address (https://...)")
    return value


def _finish(outcome: rates_command.Outcome) -> None:
    for line in outcome.lines:
        echo(line)
    for note in outcome.notes:
        echo(note, err=True)
    sys.exit(outcome.code)


@main.command(name="plan")
@as_of_option
@click.option(
    "--format",
    "output",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.pass_obj
def plan_command(obj: Context, as_of: datetime | None, output: str) -> None:
    """Which reminder is due for whom, with the amounts French law allows; writes nothing."""
    planned = plan_repository(obj.repo, obj.as_of(as_of), cached=True)
    code = report_problems(planned.problems)
    if planned.plan is None:
        sys.exit(code or 1)
    echo(plan_json(planned.plan) if output == "json" else plan_table(planned.plan), nl=False)


@main.command(name="report")
@as_of_option
@click.option(
    "--format",
    "output",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.pass_obj
def report_command(obj: Context, as_of: datetime | None, output: str) -> None:
    """Aged balance per client (not due, 0-30, 31-60, 61-90, >90 days), penalties, next step, totals and DSO."""
    from relance_pipeline.cli.report_format import to_csv as report_csv
    from relance_pipeline.cli.report_format import to_json as report_json
    from relance_pipeline.cli.report_format import to_table as report_table

    reported = report_repository(obj.repo, obj.as_of(as_of), cached=True)
    code = report_problems(reported.problems)
    if reported.report is None:
        sys.exit(code or 1)
    formats = {"table": report_table, "json": report_json, "csv": report_csv}
    echo(formats[output](reported.report), nl=False)


@main.command(name="run")
@as_of_option
@click.option("--commit", is_flag=True, help="Commit the new drafts and journal lines in one git commit.")
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Processes that render letters (default: one per core when there are 8 letters or more; 1: no workers).",
)
@click.pass_obj
def run_command(obj: Context, as_of: datetime | None, commit: bool, jobs: int | None) -> None:
    """Render what the plan says into outbox/ and append the journal; running twice changes nothing."""
    from relance_pipeline.cli.run_format import run_summary
    from relance_pipeline.commands.run import run as run_drafts

    try:
        with progress_bar.rendering() as progress:
            result = run_drafts(obj.repo, obj.as_of(as_of), commit=commit, jobs=jobs, progress=progress)
    except LockBusy as busy:
        echo(f"relance run: {busy}", err=True)
        sys.exit(1)
    for line in run_summary(result):
        echo(line)
    sys.exit(report_problems(result.problems))


@main.command(name="init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--copy-templates", is_flag=True, help="Also copy the built-in templates, to edit them.")
def init_command(directory: Path, copy_templates: bool) -> None:
    """Create a new dunning repository with example data in DIRECTORY."""
    from relance_pipeline.commands.init import InitError, init

    try:
        written = init(directory, copy_templates=copy_templates)
    except InitError as error:
        echo(f"relance init: {error}", err=True)
        sys.exit(1)
    echo(f"created {directory} ({count(len(written), 'file')}); next: cd {directory} && relance validate")
