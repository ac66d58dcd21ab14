"""The Jinja2 environments templates render in, and template errors turned into `file:line: message`.

Two sandboxed environments share one loader over the search path (the repository's `templates/` first):
one writes text as it is (emails' text part, SMS, call sheets), the other escapes every value for HTML
(letters, and the HTML part of emails, rendered from the same `.txt` template so wording is written once).
Undefined names are errors, so a typo in a template stops the run instead of printing nothing.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.sandbox import SandboxedEnvironment

from relance_pipeline import figures
from relance_pipeline.model import Language, Problem
from relance_pipeline.render import budget, formatting, sizes, words


class TemplateFailure(Exception):
    """A template that cannot be rendered; `problem` says where and why, as the CLI prints it."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass(frozen=True)
class Environments:
    text: SandboxedEnvironment
    html: SandboxedEnvironment
    folders: tuple[Path, ...]
    root: Path

    def source_path(self, name: str) -> Path | None:
        """The file a template name resolves to (the user's copy first)."""
        for folder in self.folders:
            candidate = folder / name
            if candidate.is_file():
                return candidate
        return None

    def display(self, name: str) -> str:
        """How a template is named in a problem: relative to the repository when it lives there."""
        found = self.source_path(name)
        return display_path(found, self.root) if found else f"templates/{name}"


def display_path(path: Path, root: Path) -> str:
    resolved = path.parent.resolve() / path.name  # a link is named as the user wrote it, not by its target
    try:
        return resolved.relative_to(root.resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


class TemplateOutside(jinja2.TemplateError):
    """A template name that leads, through a symbolic link, out of the template folders."""


class _ContainedLoader(jinja2.FileSystemLoader):
    """A FileSystemLoader that reads no file outside its folders: a link in templates/ to /etc/passwd, to
    ~/.ssh or to /proc/self/environ is refused before anything is read, so no template can copy such a file
    into a letter."""

    def __init__(self, folders: Sequence[Path]) -> None:
        super().__init__([str(folder) for folder in folders], encoding="utf-8")
        # The folder itself is not followed either: templates/ linked elsewhere is not templates/.
        self.allowed = [(folder, folder.parent.resolve() / folder.name) for folder in folders]

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        pieces = jinja2.loaders.split_template_path(template)
        for folder, allowed in self.allowed:
            candidate = folder.joinpath(*pieces)
            if candidate.is_file():
                if not candidate.resolve().is_relative_to(allowed):
                    raise TemplateOutside(f"template '{template}' is a link to a file outside the templates; refused")
                break
        return super().get_source(environment, template)


class _BoundedConcat(CodeGenerator):
    """Jinja's code, with the parts of each `~` measured before they are joined (a doubling loop would reach a
    gigabyte in a few steps)."""

    @optimizeconst
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            join = "markup_join"
        else:
            join = "str_join"
        self.write(f"{join}(environment.bounded_concat((")
        for part in node.nodes:
            self.visit(part, frame)
            self.write(", ")
        self.write(")))")


class _Sandbox(SandboxedEnvironment):
    """Jinja's sandbox, with what can allocate a gigabyte in one step measured before it runs: `*`, `**`, `+`
    and `%` (`'x' * 10**9`), the methods of strings and lists (`'x'.ljust(10**9)`, `items.extend(items)`),
    `str.format`, `~`, and the filters that make more than they are given (sizes.py)."""

    intercepted_binops = frozenset(("*", "**", "+", "%"))
    code_generator_class = _BoundedConcat

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        budget.checked_binop(operator, left, right)
        sizes.binop(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        owner = getattr(__obj, "__self__", None)
        name = getattr(__obj, "__name__", "")
        if isinstance(owner, str):
            args = sizes.string_method(owner, name, args, kwargs)
        elif isinstance(owner, list | dict | set):
            sizes.container_method(owner, name, args)
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        template, by_name = value.__self__, value.__name__ == "format_map"

        def bounded(*args: Any, **kwargs: Any) -> str:
            if by_name and args and isinstance(args[0], Mapping):
                sizes.str_format(template, (), args[0])
            else:
                sizes.str_format(template, args, kwargs)
            return wrapped(*args, **kwargs)

        return bounded

    def bounded_concat(self, parts: tuple[Any, ...]) -> tuple[Any, ...]:
        sizes.check(sum(sizes.length(part) for part in parts))
        return parts


def build(folders: Sequence[Path], root: Path) -> Environments:
    loader = _ContainedLoader(folders)
    common: dict[str, Any] = {
        "loader": loader,
        "undefined": jinja2.StrictUndefined,
        "trim_blocks": True,
        "lstrip_blocks": True,
        "keep_trailing_newline": True,
        "auto_reload": False,
        "cache_size": 1000,
    }
    text = _Sandbox(autoescape=False, **common)
    html = _Sandbox(autoescape=True, **common)
    for environment in (text, html):
        environment.filters.update(sizes.bounded_filters(environment.filters))
        environment.filters.update(_filters())
    return Environments(text=text, html=html, folders=tuple(folders), root=root)


def _language(context: jinja2.runtime.Context) -> Language:
    language = context.get("language")
    if language not in formatting.LOCALES:
        raise jinja2.TemplateRuntimeError(f"the variable 'language' should be fr or en, not {language!r}")
    return language  # type: ignore[no-any-return]


SLOTS = "slots"
"""A template variable: when true, each computed value is written as a slot of the words (⟦value⟧), which
`send` fills again on its own day (see words.py)."""


def _computed(context: jinja2.runtime.Context, shown: str) -> str:
    return words.slot(shown) if context.get(SLOTS) else shown


def _filters() -> dict[str, Callable[..., Any]]:
    @jinja2.pass_context
    def money(context: jinja2.runtime.Context, amount: Decimal, currency: str | None = None) -> str:
        value = Decimal(amount) if isinstance(amount, int) and not isinstance(amount, bool) else amount
        shown = formatting.money(value, _language(context), currency or context.get("currency") or "EUR")
        return _computed(context, shown)

    @jinja2.pass_context
    def date_filter(context: jinja2.runtime.Context, day: date, style: str = "long") -> str:
        return _computed(context, formatting.long_date(day, _language(context), style))

    @jinja2.pass_context
    def percent(context: jinja2.runtime.Context, rate: Decimal) -> str:
        return _computed(context, formatting.percent(Decimal(rate), _language(context)))

    @jinja2.pass_context
    def number(context: jinja2.runtime.Context, value: int) -> str:
        return _computed(context, str(value))

    @jinja2.pass_context
    def count(context: jinja2.runtime.Context, value: int, noun: str, plural: str | None = None) -> str:
        # The number is computed, the noun agrees with it: "⟦45⟧ jours", "⟦1⟧ jour".
        return figures.count(value, noun, plural).replace(str(value), _computed(context, str(value)), 1)

    @jinja2.pass_context
    def iban(context: jinja2.runtime.Context, value: str) -> str:
        return _computed(context, formatting.grouped(value))

    return {
        "money": money,
        "date": date_filter,
        "percent": percent,
        "number": number,
        "count": count,
        "iban": iban,
        "siret": formatting.siret,
    }


def failure(error: Exception, environments: Environments, name: str) -> TemplateFailure:
    """A Jinja error → the problem naming the template file and line the error comes from."""
    if isinstance(error, jinja2.TemplateSyntaxError):
        path = _shown(error.filename, environments) if error.filename else environments.display(name)
        return TemplateFailure(Problem(path, error.lineno, f"template syntax: {error.message}", code="template.syntax"))
    frame_path, line = _template_frame(error, environments)
    if isinstance(error, jinja2.TemplateNotFound):
        # An include, import or extends of a missing name is reported where it is written.
        missing = error.name if isinstance(error.name, str) else str(error)
        return TemplateFailure(
            Problem(
                frame_path or environments.display(name),
                line,
                f"template '{missing}' not found in templates/ or the built-ins",
                code="template.missing",
            )
        )
    message = (error.message if isinstance(error, jinja2.TemplateError) else None) or str(error)
    return TemplateFailure(
        Problem(frame_path or environments.display(name), line, f"template: {message}", code="template.error")
    )


def _template_frame(error: Exception, environments: Environments) -> tuple[str | None, int | None]:
    """Jinja maps template code back to template lines in tracebacks: the innermost such frame is the culprit."""
    folders = [str(folder.resolve()) for folder in environments.folders]
    found: tuple[str | None, int | None] = (None, None)
    for frame in traceback.extract_tb(error.__traceback__):
        resolved = str(Path(frame.filename).resolve()) if frame.filename.startswith("/") else ""
        if any(resolved.startswith(folder) for folder in folders):
            found = (display_path(Path(frame.filename), environments.root), frame.lineno)
    return found


def _shown(filename: str, environments: Environments) -> str:
    return display_path(Path(filename), environments.root)
