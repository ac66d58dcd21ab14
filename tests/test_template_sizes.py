"""A template asking one filter, method or operator for a gigabyte is stopped before Python allocates it, with the
same `file:line` problem as a template that writes too much, in `relance validate` and `relance run`; the
process's peak memory stays that of an ordinary run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from safety_support import outbox_files

TEMPLATE = "templates/lettre/email.fr.txt"
HEAD = '{% extends "_base/email.txt" %}\n{% block subject %}Relance{% endblock %}\n{% block message %}\n'
ONE_STEP = """\
min_interval_days: 7
steps:
  - id: lettre
    after_days: 7
    channels: [email]
    template: lettre
    deadline_days: 10
"""
AS_OF = "2026-03-09"
PEAK_MIB = 200
"""An ordinary run peaks near 50 MiB; one gigabyte string passes it."""
TOO_LARGE = f"{TEMPLATE}:4: template: writes more than 4 million characters; stopped"
GIGABYTE = "10**9"
PROBE = """\
import atexit, sys

def peak(path=sys.argv[1]):
    with open("/proc/self/status") as status, open(path, "w") as out:
        out.write(next(line.split()[1] for line in status if line.startswith("VmHWM:")))

atexit.register(peak)
from relance_pipeline.cli.main import main
sys.argv = ["relance", *sys.argv[2:]]
main()
"""
"""`relance` that notes its own peak memory on exit. VmHWM is the process's own since it started: the rusage
of a child also counts the memory of the parent it was forked from (pytest's, in a long run)."""


def relance_peak(root: Path, *args: str) -> tuple[int, str, float]:
    """Exit code, output and peak resident memory (MiB) of one `relance` process."""
    peak = root.parent / "peak.txt"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(peak), "--repo", str(root), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr, int(peak.read_text()) / 1024


pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")


@pytest.mark.parametrize(
    "code",
    [
        f'{{{{ "x"|center({GIGABYTE}) }}}}',
        f'{{{{ "x"|indent({GIGABYTE}) }}}}',
        f'{{{{ "%*s"|format({GIGABYTE}, "") }}}}',
        f'{{{{ "x".ljust({GIGABYTE}) }}}}',
        f'{{{{ "x".zfill(width={GIGABYTE}) }}}}',
        '{{ "{:>1000000000}".format(1) }}',
        '{{ "%1000000000d" % 1 }}',
        '{{ "x"|replace("x", "x" * 1000)|replace("x", "x" * 1000)|replace("x", "x" * 1000) }}',
        '{{ ("x" * 100000).join(range(99999)|map("string")) }}',
        '{% set ns = namespace(s="x") %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}',
        '{% set ns = namespace(s="x") %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}',
        '{% set l = [0] %}{% for i in range(40) %}{{ l.extend(l) or "" }}{% endfor %}',
        f"{{{{ [1]|batch({GIGABYTE}, 0)|list }}}}",
    ],
)
def test_a_filter_or_method_asked_for_a_gigabyte_is_refused_at_its_line_before_it_allocates(
    example_repo: Path, code: str
) -> None:
    (example_repo / "policies/standard.yaml").write_text(ONE_STEP, encoding="utf-8")
    (example_repo / TEMPLATE).parent.mkdir(parents=True)
    (example_repo / TEMPLATE).write_text(f"{HEAD}{code}\n{{% endblock %}}\n", encoding="utf-8")
    for args in (("validate",), ("run", "--as-of", AS_OF)):
        status, output, peak = relance_peak(example_repo, *args)
        assert status == 1 and TOO_LARGE in output, (args, output)
        assert "Traceback" not in output
        assert peak < PEAK_MIB, f"{args[0]} peaked at {peak:.0f} MiB"
    drafted = {name.split("/")[2] for name in outbox_files(example_repo) if name.startswith(f"outbox/{AS_OF}/")}
    assert drafted == {"nordwind"}, "only the English client, whose template is untouched, gets its email"


def test_what_stays_within_the_budget_still_renders(example_repo: Path) -> None:
    code = (
        '{{ "x"|center(20)|trim }}|{{ "a\nb"|indent(2) }}|{{ "%5s"|format("ab") }}|{{ "x"|truncate(10**9) }}|'
        '{{ ",".join(["a", "b"]) }}|{{ "{:>4}".format(7) }}|{{ "aa"|replace("a", "bb") }}|{{ "x" ~ "y" }}'
    )
    (example_repo / "policies/standard.yaml").write_text(ONE_STEP, encoding="utf-8")
    (example_repo / TEMPLATE).parent.mkdir(parents=True)
    (example_repo / TEMPLATE).write_text(f"{HEAD}{code}\n{{% endblock %}}\n", encoding="utf-8")
    status, output, _ = relance_peak(example_repo, "run", "--as-of", AS_OF)
    assert status == 0, output
    drafted = [
        content.decode("utf-8")
        for name, content in outbox_files(example_repo).items()
        if name.startswith(f"outbox/{AS_OF}/atelier-ferrand/") and name.endswith(".email.txt")
    ]
    assert len(drafted) == 1 and "x|a\n  b|   ab|x|a,b|   7|bbbb|xy" in drafted[0]
