"""Per-call instruction counts (callgrind) of agentotel through init() and of the raw SDK.

Run from the repository root (needs ``valgrind``; takes a few minutes)::

    python benchmarks/instructions.py [--calls 1000 3000] [--kinds tool llm]

Wall-clock times on a shared machine move by tens of percent from one run to the next;
the number of instructions a call executes does not. For each kind of call (the tool
call and the LLM call of ``benchmarks/calls.py``) and each side, a program is run under
``valgrind --tool=callgrind --separate-threads=yes`` twice, making ``N1`` and then ``N2``
calls after the same warm-up, exporting over OTLP/HTTP to a receiver in another process
(``benchmarks/otlp_sink.py``):

- ``raw``: the telemetry hand-written with the raw OpenTelemetry SDK (:class:`RawOTel`);
- ``agentotel``: ``agentotel.init()`` with its defaults and agentotel's instruments;
- ``agentotel, pipeline metrics off``: the same with ``pipeline_metrics=False``.

A call's cost is the difference of the two runs over ``N2 - N1`` (start-up and shutdown
cancel out): on the calling thread, and over all threads (the batch processor's worker
encodes, redacts and exports on its own thread). Under valgrind a run lasts minutes, so a
periodic metric export or two falls in the difference of every side; the figures to
compare are the calling thread's, and the ratios. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from otlp_sink import Sink  # noqa: E402

HERE = Path(__file__).resolve().parent
SIDES = ("raw", "agentotel", "agentotel-metrics-off")
WARM_UP = 200


def program(side: str, kind: str, calls: int) -> None:
    """The measured program: ``calls`` calls of ``kind`` on ``side`` after a warm-up."""
    from calls import RawOTel

    if side == "raw":
        raw = RawOTel(os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"])
        call = raw.tool_call if kind == "tool" else raw.llm_call
    else:
        from peers import setup_agentotel

        import agentotel

        if side == "agentotel-metrics-off":
            agentotel.init(pipeline_metrics=False)
        tool, llm, _ = setup_agentotel("")  # init() with the defaults, if not done above
        call = tool if kind == "tool" else llm
    for i in range(WARM_UP + calls):
        call(i)
    os._exit(0)


def instructions(out: Path) -> tuple[int, int]:
    """(calling thread, all threads) of one callgrind run's per-thread outputs."""
    totals: dict[int, int] = {}
    for path in out.parent.glob(f"{out.name}-*"):
        match = re.search(r"^(?:summary|totals):\s*(\d+)", path.read_text(), re.MULTILINE)
        if match:
            totals[int(path.name.rsplit("-", 1)[1])] = int(match.group(1))
    return totals.get(1, 0), sum(totals.values())


def measure(side: str, kind: str, calls: int, endpoint: str, folder: Path) -> tuple[int, int]:
    out = folder / f"{side}.{kind}.{calls}.out"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOTEL_"))},
           "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "PYTHONHASHSEED": "0"}
    subprocess.run(
        ["valgrind", "--tool=callgrind", "--separate-threads=yes",
         f"--callgrind-out-file={out}", sys.executable, __file__, "--program", side, kind,
         str(calls)],
        env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        timeout=3600,
    )
    return instructions(out)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, nargs=2, default=(1000, 3000),
                        metavar=("N1", "N2"), help="calls of the two runs (1000 3000)")
    parser.add_argument("--kinds", nargs="+", default=("tool", "llm"), choices=("tool", "llm"))
    parser.add_argument("--sides", nargs="+", default=SIDES, choices=SIDES)
    parser.add_argument("--program", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.program:
        side, kind, calls = args.program
        program(side, kind, int(calls))
        return
    first, second = args.calls
    print(f"instructions per call (callgrind), ({second} calls - {first} calls) / "
          f"{second - first}; Python {sys.version.split()[0]}")
    print(f"{'call':6}{'side':24}{'calling thread':>16}{'all threads':>14}{'ratio':>8}")
    with Sink() as sink, tempfile.TemporaryDirectory() as folder:
        for kind in args.kinds:
            baseline: int | None = None
            for side in args.sides:
                main_1, all_1 = measure(side, kind, first, sink.endpoint, Path(folder))
                main_2, all_2 = measure(side, kind, second, sink.endpoint, Path(folder))
                per_main = (main_2 - main_1) // (second - first)
                per_all = (all_2 - all_1) // (second - first)
                baseline = baseline or per_main
                print(f"{kind:6}{side:24}{per_main:16,}{per_all:14,}"
                      f"{per_main / baseline:8.3f}", flush=True)


if __name__ == "__main__":
    main()
