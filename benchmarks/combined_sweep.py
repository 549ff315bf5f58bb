"""Hand sweep of tests/combined.py's portfolios: ``python -m benchmarks.combined_sweep 0:200``
(add ``--stochastic`` for two- and three-path plans). Prints every failing seed."""

from __future__ import annotations

import sys
import tempfile
import traceback
from pathlib import Path

from tests.combined import combined_portfolio
from tests.combined_checks import plan_and_check


def main(argv: list[str]) -> int:
    lo, hi = (int(v) for v in argv[0].split(":"))
    stochastic = "--stochastic" in argv
    failed = 0
    for seed in range(lo, hi):
        try:
            p = combined_portfolio(seed)
            with tempfile.TemporaryDirectory() as tmp:
                bad = plan_and_check(p, Path(tmp) / "out", seed, stochastic)
        except Exception as e:  # a sweep reports every failing seed
            bad = [f"{type(e).__name__}: {e}", traceback.format_exc(limit=-3)]
        if bad:
            failed += 1
            print(f"seed {seed}: " + " | ".join(bad)[:1500], flush=True)
    print(f"{hi - lo} seeds, {failed} failing", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
