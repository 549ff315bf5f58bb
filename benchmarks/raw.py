"""The reference: an MPS file solved by raw ``highspy`` (``readModel`` + ``run``, only ``run``
timed), in a process of its own so that its peak memory is the solver's, not realloc's.

    python -m benchmarks.raw value.mps        # prints one JSON line
    python -m benchmarks.raw relaxed.mps --relaxation --scale 512

Imports nothing but highspy (no numpy, pandas or PuLP), the leanest process that can solve it.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import highspy

from realloc.optimizer.highs import LP_SCALE_STRATEGY, new_highs


def peak_rss_mb() -> float:
    """This process's peak resident set, MB: Linux's VmHWM (the high-water mark of this program's
    memory; ``ru_maxrss`` would carry over the parent's size across fork and exec), else
    ``ru_maxrss``."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 if sys.platform != "darwin" else rss / 2**20


def raw_highs_solve(mps: str, relaxation: bool = False, scale: float = 1.0) -> dict:
    """Solve the MPS file with raw highspy at realloc's MIP gap; only ``run()`` is timed.
    ``relaxation``: the file is an LP, solved with the option realloc sets for LP phases
    (``simplex_scale_strategy``); ``scale``: the file's costs are −value times this."""
    h = new_highs()
    h.setOptionValue("mip_rel_gap", 1e-4)  # realloc's default
    if relaxation:
        h.setOptionValue("simplex_scale_strategy", LP_SCALE_STRATEGY)
    status = h.readModel(str(mps))
    if status != highspy.HighsStatus.kOk:
        raise RuntimeError(f"HiGHS could not read {mps}: {status}")
    t0 = time.perf_counter()
    h.run()
    seconds = time.perf_counter() - t0
    info = h.getInfo()
    return {
        "seconds": seconds,
        "status": h.modelStatusToString(h.getModelStatus()),
        "objective_musd": -float(info.objective_function_value) / scale,
        "simplex_iterations": int(info.simplex_iteration_count),
        "peak_rss_mb": peak_rss_mb(),
    }


if __name__ == "__main__":
    args = sys.argv[1:]
    scale = float(args[args.index("--scale") + 1]) if "--scale" in args else 1.0
    print(json.dumps(raw_highs_solve(args[0], "--relaxation" in args, scale)))
