"""A child process that runs one job and reports its own peak memory, so the harness's memory stays out of it.

    python -m benchmarks.child baseline
    python -m benchmarks.child verify PATH [--no-signatures | --hash-only]
    python -m benchmarks.child audit PATH
    python -m benchmarks.child raw PATH

Prints one JSON object: the job's seconds, whether it succeeded, the process's peak RSS and the largest peak RSS
among the processes it waited for (verify's worker pools), both in KiB.

The peak is Linux's VmHWM, the high-water mark of this process's own memory. ``ru_maxrss`` would not do: Linux
carries it across fork and exec, so a child started by a big harness reports the harness's size.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def peak_rss_kib() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # elsewhere: the best there is


def main(argv: list[str]) -> int:
    mode, rest = argv[0], argv[1:]
    start = time.perf_counter()
    ok = True
    import tracechain  # every mode pays the import, so the baseline is comparable

    if mode == "verify":
        quick = "--hash-only" in rest
        ok = tracechain.verify(rest[0], signatures="--no-signatures" not in rest and not quick, contents=not quick).ok
    elif mode == "audit":
        audit = getattr(tracechain, "audit", None)
        if audit is None:
            print(json.dumps({"error": "tracechain has no audit() yet"}))
            return 2
        audit(rest[0])  # findings on synthetic events are expected: the job is to run the audit through
    elif mode == "raw":
        from benchmarks.suites.verify import raw_hash_loop

        raw_hash_loop(Path(rest[0]))
    elif mode != "baseline":
        print(json.dumps({"error": f"unknown mode {mode!r}"}))
        return 2
    seconds = time.perf_counter() - start
    own = peak_rss_kib()
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"mode": mode, "ok": ok, "seconds": seconds, "maxrss_kib": own, "children_maxrss_kib": children}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
