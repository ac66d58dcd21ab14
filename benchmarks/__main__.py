"""`python -m benchmarks [NAME [ARGS...]]`: run one benchmark by name; without a name, the report (`run`), which
gives every figure side by side (letters, plan, memory, the steady night).

To add one, write `benchmarks/<name>_bench.py` with a `main(argv) -> int` and list it in BENCHMARKS.
"""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = {
    "run": "benchmarks.run_bench",
    "plan": "benchmarks.plan_bench",
    "render": "benchmarks.render_bench",
    "soak": "benchmarks.soak_bench",
    "journal": "benchmarks.journal_history_bench",
    "huge": "benchmarks.huge_bench",
    "statement": "benchmarks.statement_bench",
}
REPORT = "run"


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        print("benchmarks: " + ", ".join(BENCHMARKS))
        return 0
    if argv and argv[0] not in BENCHMARKS:
        print(f"unknown benchmark '{argv[0]}' (known: {', '.join(BENCHMARKS)})", file=sys.stderr)
        return 2
    chosen = [argv[0]] if argv else [REPORT]
    code = 0
    for name in chosen:
        module = importlib.import_module(BENCHMARKS[name])
        code = max(code, module.main(argv[1:] if argv else []))
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
