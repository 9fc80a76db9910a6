#!/usr/bin/env python3
"""Stops one thread of a running process for a while, the others running on (a stalled reactord
worker, for a demonstration or a manual check of the watchdog): ptrace(PTRACE_SEIZE) and
PTRACE_INTERRUPT stop that thread alone, PTRACE_DETACH lets it go. The same mechanism as
tests/support/stopped_thread.h. Needs ptrace rights over the process (root, or the same user).

usage: stall_thread.py PID THREAD_NAME SECONDS     e.g. stall_thread.py 1234 reactord-w1 2.5
"""
import ctypes
import os
import sys
import time

PTRACE_DETACH = 17
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
WALL = 0x40000000


def find_thread(pid, name):
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/comm") as comm:
            if comm.read().strip() == name:
                return int(tid)
    sys.exit(f"stall_thread: no thread named {name} in process {pid}")


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.strip().splitlines()[-1])
    pid, name, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    tid = find_thread(pid, name)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    if libc.ptrace(PTRACE_SEIZE, tid, None, None) != 0:
        sys.exit(f"stall_thread: PTRACE_SEIZE {tid}: {os.strerror(ctypes.get_errno())}")
    libc.ptrace(PTRACE_INTERRUPT, tid, None, None)
    os.waitpid(tid, WALL)
    print(f"stall_thread: thread {tid} ({name}) stopped for {seconds} s", flush=True)
    time.sleep(seconds)
    libc.ptrace(PTRACE_DETACH, tid, None, None)
    print(f"stall_thread: thread {tid} resumed", flush=True)


if __name__ == "__main__":
    main()
