#!/usr/bin/env python3
"""Check 6 of the container tests: deploy/compose brought up for real with docker-compose (Debian's
1.29), three reactord replicas behind HAProxy.

The shipped compose.yaml stays right for users; this test runs an adapted copy (PyYAML): the
images are the ones under test (the fixture's reactord image, and HAProxy built from
deploy/compose/haproxy/Dockerfile with --network=host), the haproxy.cfg path is absolute, nothing
is published on the host (the test reaches HAProxy at its address on the project's network), and
every container and the network carry the run's label. Everything else (replicas, CPU limits,
read-only, capabilities, sysctls, grace periods, the HAProxy config with its maxconn) is as
shipped. Then:
  1. it starts on this host (open-file hard limit 20,000): HAProxy runs, never restarted, and
     sees the three replicas UP;
  2. load through HAProxy (reconnecting_client.py: 6 clients, 20 requests per connection) spreads
     over the replicas: each gets at least 20 % of HAProxy's sessions;
  3. one replica is stopped (docker stop) mid-load: zero failed requests, it exits 0;
  4. deploy/compose/upgrade.sh to a new image under load: zero failed requests, and every replica
     then runs the new image.
--baseline also measures what a plain `docker-compose up -d` costs after an image change (the
recipe upgrade.sh replaces): not part of CTest.
"""

import argparse
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import yaml

import container_lib as lib

COMPOSE_DIR = os.path.join(lib.REPO, "deploy", "compose")


class Project:
    """The adapted compose project; `down` removes its containers, network and image tags."""

    def __init__(self, work):
        self.name = lib.unique("compose").lower().replace(".", "-")
        self.work = work
        self.file = os.path.join(work, "compose.yaml")
        self.reactord_image = f"{lib.IMAGE}-compose"
        self.haproxy_image = f"{lib.IMAGE}-haproxy"

    def adapt(self):
        with open(os.path.join(COMPOSE_DIR, "compose.yaml")) as f:
            spec = yaml.safe_load(f)
        label = {lib.LABEL: lib.RUN}
        server, lb = spec["services"]["reactord"], spec["services"]["haproxy"]
        server.pop("build", None)
        server["image"] = self.reactord_image
        lb.pop("build", None)
        lb["image"] = self.haproxy_image
        lb.pop("ports", None)
        lb["volumes"] = [v.replace("./haproxy.cfg", os.path.join(COMPOSE_DIR, "haproxy.cfg")) for v in lb["volumes"]]
        for svc in (server, lb):
            svc["labels"] = label
        # The shipped network keeps its fixed subnet: --proxy_protocol_from trusts that one.
        spec.setdefault("networks", {}).setdefault("default", {})["labels"] = label
        with open(self.file, "w") as f:
            yaml.safe_dump(spec, f)

    def compose(self, *args, timeout=300):
        argv = ["docker-compose", "-p", self.name, "-f", self.file, *args]
        lib.log(" ".join(argv))
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)

    def containers(self, service):
        ids = lib.docker("ps", "-q", "--filter", f"label=com.docker.compose.project={self.name}",
                         "--filter", f"label=com.docker.compose.service={service}").stdout.split()
        return [json.loads(lib.docker("inspect", i).stdout)[0] for i in ids]

    def down(self):
        r = self.compose("down", "--timeout", "15")
        if r.returncode != 0:
            lib.log(f"docker-compose down: {r.stderr.strip()[-500:]}")
        for image in (self.reactord_image, f"{self.reactord_image}-v2", self.haproxy_image):
            lib.docker("rmi", image, check=False)


def ip_of(container):
    return next(n["IPAddress"] for n in container["NetworkSettings"]["Networks"].values())


def haproxy_servers(haproxy_ip):
    """HAProxy's stats CSV: {server name: row} of the reactord backend's servers that have an address
    (the server-template's other slots are in MAINT (resolution))."""
    with urllib.request.urlopen(f"http://{haproxy_ip}:8404/;csv", timeout=5) as r:
        text = r.read().decode()
    rows = csv.DictReader(io.StringIO(text.lstrip("# ")))
    return {row["svname"]: row for row in rows if row["pxname"] == "reactord"
            and row["svname"] != "BACKEND" and not row["status"].startswith("MAINT")}


def up_servers(haproxy_ip):
    try:
        return sorted(name for name, row in haproxy_servers(haproxy_ip).items() if row["status"].startswith("UP"))
    except OSError:
        return []


def wait_all_healthy(project, count, timeout=180):
    def ready():
        replicas = project.containers("reactord")
        states = [c["State"].get("Health", {}).get("Status") for c in replicas]
        return len(replicas) == count and all(s == "healthy" for s in states)
    lib.wait_until(ready, timeout, f"{count} healthy reactord replicas", interval=1)


class Load:
    """reconnecting_client.py through HAProxy in the background, until stop()."""

    def __init__(self, host, work, name, duration_s):
        self.stop_file = os.path.join(work, f"{name}.stop")
        self.proc = subprocess.Popen(
            [sys.executable, lib.script_path("reconnecting_client.py"), "--host", host, "--port", "7000",
             "--connections", "6", "--requests_per_conn", "20", "--duration_s", str(duration_s),
             "--stop_when_exists", self.stop_file],
            stdout=subprocess.PIPE, text=True)
        self.started = time.monotonic()

    def stop(self):
        open(self.stop_file, "w").close()
        out, _ = self.proc.communicate(timeout=60)
        return json.loads(out.strip().splitlines()[-1])


def build_images(project):
    lib.docker("tag", lib.IMAGE, project.reactord_image)
    t0 = time.monotonic()
    r = subprocess.run(["docker", "build", "--network=host", "--force-rm", "--label", f"{lib.LABEL}={lib.RUN}",
                        "-t", project.haproxy_image, os.path.join(COMPOSE_DIR, "haproxy")],
                       env={**os.environ, "DOCKER_BUILDKIT": "0"}, capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        raise AssertionError(f"docker build of deploy/compose/haproxy failed:\n{(r.stdout + r.stderr)[-3000:]}")
    lib.log(f"HAProxy image built from deploy/compose/haproxy/Dockerfile in {time.monotonic() - t0:.0f} s")


def new_generation(project):
    """A new image for the service's tag: the image under test plus one label (an upgrade that
    changes the image ID, as a new release would)."""
    v2 = f"{project.reactord_image}-v2"
    dockerfile = f"FROM {lib.IMAGE}\nLABEL org.reactord.test.generation=2\n"
    lib.docker("build", "--label", f"{lib.LABEL}={lib.RUN}", "-t", v2, "-", input=dockerfile, timeout=300)
    lib.docker("tag", v2, project.reactord_image)
    return json.loads(lib.docker("image", "inspect", v2).stdout)[0]["Id"]


def start_and_spread(project, work):
    t0 = time.monotonic()
    r = project.compose("up", "-d")
    if not lib.check(r.returncode == 0, f"docker-compose up -d: exit {r.returncode} in {time.monotonic() - t0:.1f} s"):
        print(r.stdout + r.stderr)
        return None
    wait_all_healthy(project, 3)
    lb = project.containers("haproxy")[0]
    haproxy_ip = ip_of(lb)
    lib.wait_until(lambda: len(up_servers(haproxy_ip)) == 3, 60, "HAProxy to see 3 replicas UP", interval=0.5)
    lb = project.containers("haproxy")[0]
    with open(f"/proc/{lb['State']['Pid']}/limits") as f:
        nofile = next(l for l in f if l.startswith("Max open files")).split()[3:5]
    lib.check(lb["RestartCount"] == 0 and lb["State"]["Running"],
              f"HAProxy runs (restarts: {lb['RestartCount']}) with open files limit soft/hard {nofile[0]}/{nofile[1]}; "
              f"replicas UP: {up_servers(haproxy_ip)}")
    replicas = project.containers("reactord")
    cpus = sorted({c["HostConfig"]["NanoCpus"] / 1e9 for c in replicas})
    lib.check(cpus == [1.0], f"deploy.resources.limits.cpus reaches the replicas: NanoCpus {cpus}")
    memory = sorted({c["HostConfig"]["Memory"] for c in replicas})
    lib.check(memory == [256 << 20], f"deploy.resources.limits.memory reaches the replicas: Memory {memory}")
    replica_log = lib.docker("logs", replicas[0]["Id"], check=False)
    budget = [l for l in (replica_log.stdout + replica_log.stderr).splitlines() if "buffer budget" in l]
    lib.check(any("134217728 bytes" in l for l in budget),
              f"a replica derives its buffer budget from the limit: {budget[-1][-120:] if budget else 'no line'}")

    # Spread, then one replica stopped mid-load.
    before = {n: int(r["stot"]) for n, r in haproxy_servers(haproxy_ip).items()}
    load = Load(haproxy_ip, work, "spread", 120)
    time.sleep(5)  # five seconds of load before the stop (load, not a wait for a state)
    during = haproxy_servers(haproxy_ip)
    sessions = {n: int(r["stot"]) - before.get(n, 0) for n, r in during.items() if r["status"].startswith("UP")}
    total = sum(sessions.values())
    shares = {n: round(100 * s / total, 1) for n, s in sessions.items()} if total else {}
    lib.check(len(shares) == 3 and all(s >= 20 for s in shares.values()),
              f"load spread over the replicas (HAProxy sessions in 5 s: {sessions}, %: {shares})")
    victim = sorted(replicas, key=lambda c: c["Name"])[1]
    t0 = time.monotonic()
    lib.docker("stop", victim["Id"], timeout=60)
    stop_s = time.monotonic() - t0
    time.sleep(4)  # the others carry the load on for a while
    result = load.stop()
    code = lib.docker("inspect", "-f", "{{.State.ExitCode}}", victim["Id"]).stdout.strip()
    final = lib.stats_line(lib.docker("logs", victim["Id"]).stderr, "final")
    lib.check(result["failed_total"] == 0 and result["requests_ok"] > 0,
              f"replica {victim['Name'].strip('/')} stopped mid-load (docker stop took {stop_s:.1f} s, exit {code}, "
              f"forced_closed={final.get('forced_closed')}): {result['requests_ok']} requests ok, "
              f"{result['failed_total']} failed ({result['failures']}), {result['connect_retries']} connect retries")
    lib.check(code == "0", f"the stopped replica exited {code}")
    lib.docker("start", victim["Id"])
    wait_all_healthy(project, 3)
    lib.wait_until(lambda: len(up_servers(haproxy_ip)) == 3, 60, "HAProxy to see 3 replicas UP again", interval=0.5)
    return haproxy_ip


def upgrade(project, work, haproxy_ip):
    new_id = new_generation(project)
    load = Load(haproxy_ip, work, "upgrade", 600)
    time.sleep(2)
    t0 = time.monotonic()
    r = subprocess.run([os.path.join(COMPOSE_DIR, "upgrade.sh"), "-p", project.name, "-f", project.file],
                       capture_output=True, text=True, timeout=600)
    took = time.monotonic() - t0
    print("\n".join("    " + l for l in (r.stdout + r.stderr).splitlines()))
    time.sleep(2)
    result = load.stop()
    replicas = project.containers("reactord")
    images = sorted({c["Image"] == new_id for c in replicas})
    lib.check(r.returncode == 0 and len(replicas) == 3 and images == [True],
              f"upgrade.sh: exit {r.returncode} in {took:.0f} s; {len(replicas)} replicas, all on the new image: {images == [True]}")
    lib.check(result["failed_total"] == 0 and result["requests_ok"] > 0,
              f"upgrade under load: {result['requests_ok']} requests ok, {result['failed_total']} failed "
              f"({result['failures']}), {result['connect_retries']} connect retries")
    return new_id


def baseline(project, work, haproxy_ip):
    """A plain `docker-compose up -d` after an image change, under the same load."""
    v3 = f"{project.reactord_image}-v3"
    lib.docker("build", "--label", f"{lib.LABEL}={lib.RUN}", "-t", v3, "-",
               input=f"FROM {lib.IMAGE}\nLABEL org.reactord.test.generation=3\n", timeout=300)
    lib.docker("tag", v3, project.reactord_image)
    load = Load(haproxy_ip, work, "baseline", 600)
    time.sleep(2)
    t0 = time.monotonic()
    r = project.compose("up", "-d")
    took = time.monotonic() - t0
    wait_all_healthy(project, 3)
    time.sleep(2)
    result = load.stop()
    lib.log(f"BASELINE plain docker-compose up -d (exit {r.returncode}, {took:.1f} s): {result['requests_ok']} ok, "
            f"{result['failed_total']} failed {result['failures']}; first failure: {result['first_failure']}")
    lib.docker("rmi", v3, check=False)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", action="store_true", help="also measure a plain `docker-compose up -d` upgrade")
    args = parser.parse_args()
    lib.start("container.compose")
    lib.need_image()
    if shutil.which("docker-compose") is None:
        lib.check(False, "docker-compose is not installed (deploy/install-deps.sh container)")
        return lib.finish()
    work = tempfile.mkdtemp(prefix="reactord-compose-")
    project = Project(work)
    try:
        project.adapt()
        build_images(project)
        haproxy_ip = start_and_spread(project, work)
        if haproxy_ip:
            upgrade(project, work, haproxy_ip)
            if args.baseline:
                baseline(project, work, haproxy_ip)
    except Exception:
        lib._failures.append("exception (traceback below)")
        raise
    finally:
        if lib._failures:
            for c in project.containers("reactord") + project.containers("haproxy"):
                print(f"--- docker logs {c['Name']} (last 30 lines) ---")
                logs = lib.docker("logs", "--tail", "30", c["Id"], check=False)
                print(logs.stdout + logs.stderr)
        project.down()
        shutil.rmtree(work, ignore_errors=True)
    return lib.finish()


if __name__ == "__main__":
    sys.exit(main())
