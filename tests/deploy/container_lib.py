"""Shared helpers of the container tests (tests/deploy/container_*_test.py, CTest label
`container`): the engine, the image under test, containers and networks that remove themselves,
health states, logs, and plain TCP clients. Python 3 standard library only.

Everything a test makes carries the label org.reactord.test-run=RUN (RUN: $REACTORD_TEST_RUN,
which deploy/test-containers.sh exports from deploy/container-engine.sh; "manual" when a test is
run by hand) and a name starting with reactord-test-, so that a test that dies leaves nothing that
`deploy/container-engine.sh down` cannot find.

A new test file: call `start("what it checks")` first (it skips, exit 77, without an engine, or
fails under REACTORD_CI=1), make containers with `Container(...)` inside `with` blocks, record
problems with `check(ok, what)`, end with `sys.exit(finish())`. Register it in
tests/deploy/CMakeLists.txt with `reactord_container_test(NAME FILE)`.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time

SKIP = 77
LABEL = "org.reactord.test-run"
RUN = os.environ.get("REACTORD_TEST_RUN", "manual")
# One image for every test of a run; container.image_build (a CTest fixture) builds it.
IMAGE = os.environ.get("REACTORD_TEST_IMAGE", f"reactord-test:{re.sub(r'[^a-z0-9_.-]', '-', RUN.lower())}")
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
_failures = []
_name = "container-test"


def log(msg):
    print(f"[{_name} {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def start(name):
    """Names the test in its log lines; skips (77) without an engine unless REACTORD_CI=1, where
    that fails the test."""
    global _name
    _name = name
    r = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True,
                       timeout=30) if _which("docker") else None
    if r is None or r.returncode != 0:
        why = "no docker client" if r is None else f"no engine answers: {r.stderr.strip()[:200]}"
        if os.environ.get("REACTORD_CI") == "1":
            print(f"FAIL: REACTORD_CI=1 and {why} (deploy/test-containers.sh starts one)")
            sys.exit(1)
        print(f"SKIP: {why} (deploy/test-containers.sh brings one up)")
        sys.exit(SKIP)


def need_image():
    """Fails unless the fixture's image exists (ctest -L container builds it first)."""
    if docker("image", "inspect", IMAGE, check=False).returncode != 0:
        print(f"FAIL: image {IMAGE} is missing: run the fixture container.image_build first "
              f"(ctest -L container does)")
        sys.exit(1)


def _which(program):
    return any(os.access(os.path.join(d, program), os.X_OK) for d in os.environ.get("PATH", "").split(":"))


def check(ok, what):
    """Records a failed expectation (the test goes on, to report every problem)."""
    log(("ok   " if ok else "FAIL ") + what)
    if not ok:
        _failures.append(what)
    return ok


def finish():
    for f in _failures:
        print(f"FAIL: {f}")
    print(f"{_name}: {'FAILED' if _failures else 'passed'}")
    return 1 if _failures else 0


def docker(*args, check=True, timeout=120, input=None):
    r = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, input=input)
    if check and r.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} exited {r.returncode}: {r.stderr.strip()}")
    return r


def unique(suffix):
    return f"reactord-test-{re.sub(r'[^a-zA-Z0-9_.-]', '-', RUN)}-{suffix}-{os.getpid()}"


def wait_until(predicate, timeout, what, interval=0.2):
    """Polls `predicate` until it returns a true value (returned) or `timeout` seconds pass
    (AssertionError naming `what`)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Network:
    """A user-defined bridge network (Docker's DNS works on it; the host reaches its containers
    by their addresses, through the bridge), removed on exit."""

    def __init__(self, suffix="net"):
        self.name = unique(suffix)

    def __enter__(self):
        docker("network", "create", "--label", f"{LABEL}={RUN}", self.name)
        return self

    def __exit__(self, *exc):
        docker("network", "rm", self.name, check=False)


class Container:
    """`docker run -d` of IMAGE (or `image`) with `args`; removed (docker rm -f) on exit, its log
    printed when the test failed."""

    def __init__(self, suffix, args=(), image=None, network=None, env=None, options=(), health_fast=True):
        self.name = unique(suffix)
        argv = ["run", "-d", "--name", self.name, "--label", f"{LABEL}={RUN}"]
        if network is not None:
            argv += ["--network", network.name]
        for key, value in (env or {}).items():
            argv += ["-e", f"{key}={value}"]
        if health_fast:
            # The image's own HEALTHCHECK command, checked every second instead of every 10 s, so
            # that a test sees its states in seconds. Only the timing changes.
            argv += ["--health-interval=1s", "--health-timeout=3s", "--health-retries=2",
                     "--health-start-period=2s"]
        self.argv = argv + list(options) + [image or IMAGE] + list(args)

    def __enter__(self):
        r = docker(*self.argv, check=False)
        if r.returncode != 0:
            raise AssertionError(f"docker {' '.join(self.argv)}: {r.stderr.strip()}")
        self.id = r.stdout.strip()
        return self

    def __exit__(self, *exc):
        if _failures or exc[0] is not None:
            print(f"--- docker logs {self.name} ---\n{self.logs()}--- end ---")
        docker("rm", "-f", self.name, check=False)

    def inspect(self):
        return json.loads(docker("inspect", self.name).stdout)[0]

    def logs(self):
        r = docker("logs", self.name, check=False)
        return r.stdout + r.stderr

    def wait_log(self, needle, timeout=30):
        return wait_until(lambda: needle in self.logs() or self._dead(needle), timeout, f"'{needle}' in the log of {self.name}")

    def _dead(self, needle):
        state = self.inspect()["State"]
        if not state["Running"] and needle not in self.logs():
            raise AssertionError(f"{self.name} exited {state['ExitCode']} before logging '{needle}':\n{self.logs()}")
        return False

    def health(self):
        health = self.inspect()["State"].get("Health")
        return health["Status"] if health else None

    def wait_health(self, status, timeout=60):
        return wait_until(lambda: self.health() == status, timeout, f"{self.name} to be {status} (it is {self.health()})")

    def health_log(self):
        """The last health check outputs: [(exit code, output)]."""
        health = self.inspect()["State"].get("Health") or {}
        return [(h["ExitCode"], h["Output"].strip()) for h in health.get("Log", [])]

    def ip(self):
        networks = self.inspect()["NetworkSettings"]["Networks"]
        return next(n["IPAddress"] for n in networks.values() if n["IPAddress"])

    def host_pid(self):
        """The host's pid of the container's PID 1 (tini)."""
        return self.inspect()["State"]["Pid"]

    def server_pid(self):
        """The host's pid of reactord (tini's child)."""
        with open(f"/proc/{self.host_pid()}/task/{self.host_pid()}/children") as f:
            return int(f.read().split()[0])

    def wait_exit(self, timeout=60):
        r = docker("wait", self.name, timeout=timeout)
        return int(r.stdout.strip())


def run_once(args=(), options=(), timeout=60):
    """`docker run --rm` IMAGE args: (exit code, stdout, stderr)."""
    r = docker("run", "--rm", "--label", f"{LABEL}={RUN}", *options, IMAGE, *args, check=False, timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def workers_line(text):
    """'workers=2 (from cgroup v1 ...)' of a reactord log: (count, source) or None."""
    m = re.search(r"workers=(\d+) \(from ([^)]*)\)", text)
    return (int(m.group(1)), m.group(2)) if m else None


def stats_line(text, label="final"):
    """The key=value pairs of reactord's last stats line labelled `label`."""
    lines = [l for l in text.splitlines() if f"] {label} " in l]
    if not lines:
        return {}
    return dict(kv.split("=", 1) for kv in lines[-1].split(f"] {label} ", 1)[1].split() if "=" in kv)


def exchange(host, port, data, timeout=10.0):
    """Connects, sends `data`, half-closes, and returns everything until the server closes."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def script_path(name):
    return os.path.join(REPO, "tests", "deploy", name)
