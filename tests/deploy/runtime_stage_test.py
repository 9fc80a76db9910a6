#!/usr/bin/env python3
"""The Dockerfile's runtime stage, carried out without Docker, then run as a container would be.

No Docker engine runs here, so this test does by hand what `docker build` and `docker run` would
do with the last stage of the Dockerfile, read from the Dockerfile itself:

  FROM debian:bookworm-slim  a Debian bookworm minbase tree made by debootstrap (the same package
                             set as the slim image), cached in BUILD_DIR/deploy-rootfs/
  COPY [--from=build]        files from the source tree, or from deploy/stage-binaries.sh's output
                             for the build stage's /out
  RUN ["..."]                chroot into the tree (apt-get reaches Debian's archive)
  USER, ENV, ENTRYPOINT, CMD, HEALTHCHECK, STOPSIGNAL   recorded, then used to run it:

The "container" gets its own PID, network and mount namespaces (the ENTRYPOINT, tini, is PID 1),
only a loopback interface, the tree mounted read-only with a tmpfs on /tmp (as deploy/k8s's
readOnlyRootFilesystem), and runs as the USER with only the ENV. Then: the HEALTHCHECK command
passes, reactor-bench round-trips through it, reactord runs as that uid, and the STOPSIGNAL makes
reactord drain and the container exit 0. A second run in a cgroup with a one-CPU quota (what
`docker run --cpus=1` sets up) must log workers=1 from the cgroup.

With --full it carries out the build stage too, in its own tree (the toolchain, the build and the
whole suite: long, so not part of CTest), and takes the binaries from that tree's /out.

Exits 77 (skip) without root, debootstrap, unshare/nsenter, or the binaries; and where Debian's
archive cannot be reached to make the base tree.
usage: runtime_stage_test.py --repo DIR --build DIR
"""

import argparse
import fnmatch
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SKIP = 77
MIRROR = "http://deb.debian.org/debian"


def log(msg):
    print(f"[runtime-stage {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def dockerfile_stages(dockerfile):
    """Each stage's (keyword, arguments) list, FROM first, continuations joined."""
    text = re.sub(r"\\\n", " ", open(dockerfile).read())
    stages = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((keyword, rest.strip()))
    return stages


def base_tree(cache):
    """A cached debootstrap --variant=minbase bookworm tree; made once, atomically."""
    base = os.path.join(cache, "bookworm-minbase")
    if os.path.exists(os.path.join(base, ".complete")):
        return base
    os.makedirs(cache, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=cache, prefix="debootstrap-")
    os.chmod(tmp, 0o755)  # it becomes "/": mkdtemp's 0700 would lock every other user out
    log(f"debootstrap --variant=minbase bookworm into {base} (once; about 2 minutes)")
    r = subprocess.run(["debootstrap", "--variant=minbase", "bookworm", tmp, MIRROR],
                       capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        tail = "\n".join((r.stdout + r.stderr).splitlines()[-5:])
        if "Failed getting release file" in tail or "Could not resolve" in tail or "Temporary failure" in tail:
            print(f"SKIP: Debian's archive is unreachable, no base tree: {tail}")
            sys.exit(SKIP)
        raise AssertionError(f"debootstrap failed:\n{tail}")
    open(os.path.join(tmp, ".complete"), "w").close()
    shutil.rmtree(base, ignore_errors=True)
    os.rename(tmp, base)
    return base


class Stage:
    """Carries out the runtime stage in `root`; records what `docker run` needs."""

    def __init__(self, repo, staged, root, run_timeout_s=600):
        self.repo, self.staged, self.root = repo, staged, root
        self.run_timeout_s = run_timeout_s
        self.workdir = "/"
        self.user = "0:0"
        self.env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
        self.entrypoint, self.cmd, self.healthcheck = [], [], []
        self.stopsignal = "SIGTERM"
        self.expose = []

    def apply(self, keyword, args):
        handler = getattr(self, f"do_{keyword.lower()}", None)
        if handler is None:
            raise AssertionError(f"{keyword} {args}: this test does not know that instruction")
        handler(args)

    def do_from(self, args):
        pass

    def do_workdir(self, args):
        self.workdir = os.path.join(self.workdir, args)
        os.makedirs(os.path.join(self.root, self.workdir.lstrip("/")), exist_ok=True)

    def context_ignore(self):
        """A copytree `ignore` from .dockerignore: "dir/", "**/name/", "*.o" style patterns."""
        patterns = []
        path = os.path.join(self.repo, ".dockerignore")
        if os.path.exists(path):
            for line in open(path):
                line = line.strip()
                if line and not line.startswith("#"):
                    patterns.append(line.rstrip("/"))

        def ignore(directory, names):
            rel_dir = os.path.relpath(directory, self.repo)
            dropped = set()
            for name in names:
                rel = os.path.normpath(os.path.join(rel_dir, name))
                for pat in patterns:
                    if pat.startswith("**/"):
                        if fnmatch.fnmatch(name, pat[3:]):
                            dropped.add(name)
                    elif fnmatch.fnmatch(rel, pat):
                        dropped.add(name)
            return dropped

        return ignore

    def do_copy(self, args):
        words = shlex.split(args)
        src_root = self.repo
        if words[0].startswith("--from="):
            # The build stage's /out is what deploy/stage-binaries.sh staged.
            src_root = self.staged
            words = words[1:]
        *sources, dest = words
        for src in sources:
            if src_root is self.staged:
                src = os.path.relpath(os.path.join("/", src), "/out")
            path = os.path.normpath(os.path.join(src_root, src))
            target = os.path.join(self.root, os.path.join(self.workdir, dest).lstrip("/"))
            if os.path.isdir(path):
                ignore = self.context_ignore() if src_root == self.repo else None
                shutil.copytree(path, target, dirs_exist_ok=True, ignore=ignore, symlinks=True)
            else:
                if dest.endswith("/"):
                    target = os.path.join(target, os.path.basename(path))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copy2(path, target)
        log(f"COPY {args}")

    def engine_files(self):
        """What Docker bind-mounts into every container and RUN: /etc/resolv.conf from the
        host, and an /etc/hosts naming localhost (a debootstrap tree has none)."""
        shutil.copy("/etc/resolv.conf", os.path.join(self.root, "etc/resolv.conf"))
        with open(os.path.join(self.root, "etc/hosts"), "w") as f:
            f.write("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")

    def do_run(self, args):
        argv = json.loads(args)
        self.engine_files()
        log(f"RUN {argv} (chroot)")
        script = 'mount -t proc proc "$1/proc" && shift && exec chroot "$@"'
        r = subprocess.run(["unshare", "--mount", "--fork", "sh", "-c", script, "sh", self.root, self.root,
                            "/bin/sh", "-c", 'cd "$0" && exec "$@"', self.workdir] + argv,
                           env=dict(self.env, HOME="/root", DEBIAN_FRONTEND="noninteractive"),
                           capture_output=True, text=True, timeout=self.run_timeout_s)
        print("\n".join(("    " + l) for l in (r.stdout + r.stderr).splitlines()[-6:]))
        if r.returncode != 0:
            raise AssertionError(f"RUN {argv} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")

    def do_user(self, args):
        self.user = args

    def do_env(self, args):
        for word in shlex.split(args):
            key, _, value = word.partition("=")
            self.env[key] = value

    def do_expose(self, args):
        self.expose += args.split()

    def do_stopsignal(self, args):
        self.stopsignal = args

    def do_healthcheck(self, args):
        self.healthcheck = json.loads(args[args.index("CMD") + 3:].strip())

    def do_entrypoint(self, args):
        self.entrypoint = json.loads(args)

    def do_cmd(self, args):
        self.cmd = json.loads(args)


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def run_container(stage, logfile, cgroup=None):
    """Starts ENTRYPOINT + CMD as a container would, inside `cgroup` (a directory) if given, with
    the host's /sys/fs/cgroup visible as Docker shows it; returns (unshare Popen, host pid of
    PID 1)."""
    env_args = [f"{k}={v}" for k, v in stage.env.items()]
    stage.engine_files()
    os.makedirs(os.path.join(stage.root, "sys/fs/cgroup"), exist_ok=True)
    script = (
        'root="$1"; user="$2"; shift 2; '
        'ip link set lo up && '
        'mount --make-rprivate / && '
        'mount --bind "$root" "$root" && mount -o remount,bind,ro "$root" && '
        'mount -t proc proc "$root/proc" && mount -t tmpfs -o size=16m tmpfs "$root/tmp" && '
        'mount --rbind /sys/fs/cgroup "$root/sys/fs/cgroup" && '
        'exec chroot --userspec="$user" "$root" /usr/bin/env -i "$@"'
    )
    argv = ["unshare", "--pid", "--net", "--mount", "--fork", "--kill-child", "sh", "-c", script, "sh", stage.root, stage.user] \
        + env_args + stage.entrypoint + stage.cmd

    def join_cgroup():
        if cgroup:
            with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
                f.write("0")  # this process; what it starts stays in the cgroup

    proc = subprocess.Popen(argv, stdout=logfile, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            preexec_fn=join_cgroup)
    deadline = time.monotonic() + 5
    while not children(proc.pid):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError("the container's PID 1 did not start")
        time.sleep(0.02)
    return proc, children(proc.pid)[0]


def in_container(stage, init_pid, argv, timeout):
    """Runs argv as the image's USER inside the container's network namespace (docker exec)."""
    return subprocess.run(["nsenter", f"--net=/proc/{init_pid}/ns/net", "chroot", f"--userspec={stage.user}",
                           stage.root, "/usr/bin/env", "-i"] + [f"{k}={v}" for k, v in stage.env.items()] + argv,
                          capture_output=True, text=True, timeout=timeout)


def cpu_limited_container(stage, work, failures):
    """`docker run --cpus=1`: the container in a cgroup with a quota of one CPU while the affinity
    mask holds more; --workers=0 must give workers=1, from the cgroup. cgroup v1 here (a cpu
    controller mounted at /sys/fs/cgroup/cpu); on a cgroup v2 host the fake-tree unit tests of
    the probe stand in."""
    v1 = "/sys/fs/cgroup/cpu"
    if os.cpu_count() < 2 or len(os.sched_getaffinity(0)) < 2:
        log("cpu-limited container: skipped, one CPU here")
        return
    if not (os.access(v1, os.W_OK) and os.path.exists(os.path.join(v1, "cpu.cfs_quota_us"))):
        log("cpu-limited container: skipped, no writable cgroup v1 cpu controller here")
        return
    cgroup = os.path.join(v1, f"reactord-runtime-stage-{os.getpid()}")
    os.mkdir(cgroup)
    proc = None
    try:
        with open(os.path.join(cgroup, "cpu.cfs_period_us"), "w") as f:
            f.write("100000")
        with open(os.path.join(cgroup, "cpu.cfs_quota_us"), "w") as f:
            f.write("100000")
        logpath = os.path.join(work, "container-cpus1.log")
        with open(logpath, "w") as logfile:
            proc, init_pid = run_container(stage, logfile, cgroup)
        deadline = time.monotonic() + 10
        while "listening on" not in open(logpath).read():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"reactord did not start in the cpu-limited container:\n{open(logpath).read()}")
            time.sleep(0.05)
        os.kill(init_pid, signal.SIGTERM)
        rc = proc.wait(timeout=10)
        out = open(logpath).read()
        workers = re.search(r"workers=(\d+) \(from ([^)]*)\)", out)
        log(f"--cpus=1 container: {workers.group(0) if workers else 'no workers line'}; exit {rc}")
        if not workers or workers.group(1) != "1" or "cgroup" not in workers.group(2):
            failures.append(f"container with a 1-CPU quota: want workers=1 from the cgroup, log says:\n{out}")
        if rc != 0:
            failures.append(f"cpu-limited container exit code {rc}")
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
        os.rmdir(cgroup)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", required=True)
    parser.add_argument("--build", required=True)
    parser.add_argument("--full", action="store_true",
                        help="carry out the build stage too (installs the toolchain, builds and runs the "
                             "suite in the tree: tens of minutes) instead of staging BUILD's binaries")
    args = parser.parse_args()
    repo, build = os.path.abspath(args.repo), os.path.abspath(args.build)

    if os.geteuid() != 0:
        print("SKIP: needs root (chroot, namespaces, debootstrap)")
        return SKIP
    for tool in ("debootstrap", "unshare", "nsenter", "chroot", "ip"):
        if not shutil.which(tool):
            print(f"SKIP: {tool} is missing (deploy/install-deps.sh deploy installs debootstrap)")
            return SKIP

    work = tempfile.mkdtemp(prefix="reactord-runtime-stage-")
    proc = None
    failures = []
    try:
        stages = dockerfile_stages(os.path.join(repo, "Dockerfile"))
        base = base_tree(os.path.join(build, "deploy-rootfs"))
        if args.full:
            # FROM debian:bookworm (the full image is minbase plus a few tools; the build stage
            # installs what it needs through deploy/install-deps.sh).
            build_root = os.path.join(work, "build-rootfs")
            subprocess.run(["cp", "-a", base, build_root], check=True)
            builder = Stage(repo, None, build_root, run_timeout_s=3600)
            log(f"build stage: {stages[0][0]}")
            for keyword, rest in stages[0]:
                builder.apply(keyword, rest)
            staged = os.path.join(build_root, "out")
        else:
            staged = os.path.join(work, "out")
            r = subprocess.run([os.path.join(repo, "deploy/stage-binaries.sh"), staged],
                               env=dict(os.environ, BUILD_DIR=build), capture_output=True, text=True)
            if r.returncode != 0:
                print(f"SKIP: the binaries are not built: {r.stderr.strip()}")
                return SKIP
        root = os.path.join(work, "rootfs")
        subprocess.run(["cp", "-a", base, root], check=True)

        stage = Stage(repo, staged, root)
        instructions = stages[-1]
        if not instructions or not instructions[0][1].startswith("debian:bookworm-slim"):
            raise AssertionError(f"the last stage is not FROM debian:bookworm-slim: {instructions[:1]}")
        for keyword, rest in instructions:
            stage.apply(keyword, rest)
        log(f"image: USER {stage.user}, ENTRYPOINT {stage.entrypoint}, CMD {stage.cmd}, "
            f"HEALTHCHECK {stage.healthcheck}, STOPSIGNAL {stage.stopsignal}, EXPOSE {stage.expose}")

        # What the image holds: the programs, and every library they need from its packages.
        for prog in ("reactord", "reactor-client", "reactor-bench"):
            r = subprocess.run(["chroot", root, "ldd", f"/usr/local/bin/{prog}"], capture_output=True, text=True)
            if r.returncode != 0 or "not found" in r.stdout:
                failures.append(f"{prog} in the image: ldd says\n{r.stdout}{r.stderr}")
        if os.path.exists(os.path.join(root, "usr/bin/g++")) or os.path.exists(os.path.join(root, "usr/bin/cmake")):
            failures.append("the runtime tree holds build tools")

        logpath = os.path.join(work, "container.log")
        with open(logpath, "w") as logfile:
            proc, init_pid = run_container(stage, logfile)
        deadline = time.monotonic() + 10
        while "listening on" not in open(logpath).read():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"reactord did not start in the container:\n{open(logpath).read()}")
            time.sleep(0.05)
        init_comm = open(f"/proc/{init_pid}/comm").read().strip()
        server_pids = children(init_pid)
        uid_line = ""
        if server_pids:
            uid_line = next(l for l in open(f"/proc/{server_pids[0]}/status") if l.startswith("Uid:"))
        want_uid = stage.user.split(":")[0]
        log(f"PID 1 is {init_comm}; reactord runs with {uid_line.strip()}")
        if init_comm != "tini":
            failures.append(f"PID 1 is {init_comm}, not tini")
        if not uid_line or uid_line.split()[1] != want_uid:
            failures.append(f"reactord does not run as uid {want_uid}: {uid_line.strip()}")

        health = in_container(stage, init_pid, stage.healthcheck, timeout=10)
        log(f"HEALTHCHECK exit {health.returncode}: {(health.stdout + health.stderr).strip()}")
        if health.returncode != 0:
            failures.append(f"HEALTHCHECK exited {health.returncode}")
        bench = in_container(stage, init_pid, ["reactor-bench", "--host=127.0.0.1", "--port=7000", "--mode=pingpong",
                                               "--connections=4", "--duration_s=1", "--warmup_s=0", "--json",
                                               "--progress=false"], timeout=30)
        log(f"reactor-bench in the container: exit {bench.returncode}: {bench.stdout.strip()[:200]}")
        if bench.returncode != 0:
            failures.append(f"reactor-bench exited {bench.returncode}: {bench.stderr.strip()[-300:]}")

        # docker stop: STOPSIGNAL to PID 1, which forwards it; the container's exit code is tini's.
        t0 = time.monotonic()
        os.kill(init_pid, getattr(signal, stage.stopsignal))
        try:
            rc = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            rc = None
        took = time.monotonic() - t0
        out = open(logpath).read()
        log(f"{stage.stopsignal} to PID 1: container exit {rc} after {took:.2f}s")
        if rc != 0:
            failures.append(f"container exit code {rc} after {stage.stopsignal} (docker stop wants 0 within 10 s)")
        if "draining" not in out:
            failures.append(f"reactord did not log 'draining' after {stage.stopsignal}")
        for line in out.splitlines():
            if re.search(r"workers=\d+ \(from|listening on|draining|final ", line):
                print("    " + line[:200])
        if failures:
            print("--- container log ---\n" + out)
        cpu_limited_container(stage, work, failures)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
        shutil.rmtree(work, ignore_errors=True)
    for f in failures:
        print(f"FAIL: {f}")
    print(f"runtime stage: {'FAILED' if failures else 'passed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
