#!/usr/bin/env python3
"""Check 2 of the container tests: --workers=0 (the default) follows the container's CPU limits,
read from reactord's log line `workers=N (from SOURCE)`:
  --cpus=1 gives 1, --cpus=1.5 gives 2 (a fraction rounds up), --cpuset-cpus=0 gives 1 (the
  affinity mask), and no limit gives the host's CPUs.
"""

import os
import sys

import container_lib as lib


def main():
    lib.start("container.workers")
    lib.need_image()
    host_cpus = len(os.sched_getaffinity(0))
    cases = [
        ("cpus1", ["--cpus=1"], 1, "cgroup"),
        ("cpus1.5", ["--cpus=1.5"], 2, "cgroup"),
        ("cpuset0", ["--cpuset-cpus=0"], 1, "affinity mask"),
        ("nolimit", [], host_cpus, "affinity mask"),
    ]
    if host_cpus < 2:
        lib.log(f"this host has {host_cpus} CPU: --cpus=1.5 gives {host_cpus} here")
        cases[1] = ("cpus1.5", ["--cpus=1.5"], host_cpus, "")
    containers = [lib.Container(name, options=opts, health_fast=False) for name, opts, _, _ in cases]
    try:
        for c in containers:
            c.__enter__()
        for c, (name, opts, want, source) in zip(containers, cases):
            c.wait_log("listening on", timeout=60)
            got = lib.workers_line(c.logs())
            shown = f"workers={got[0]} (from {got[1]})" if got else "no workers line"
            lib.check(got is not None and got[0] == want and source in got[1],
                      f"docker run {' '.join(opts) or '(no limit)'}: {shown}; want {want} from {source or 'anything'}")
    finally:
        for c in containers:
            if hasattr(c, "id"):
                c.__exit__(None, None, None)
    return lib.finish()


if __name__ == "__main__":
    sys.exit(main())
