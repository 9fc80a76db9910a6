#!/usr/bin/env python3
"""Check 3 of the container tests: the image's HEALTHCHECK follows the configuration the server
runs with, however it is given, and fails when the server does not answer.

Containers of the image, each configured another way (the HEALTHCHECK command is the image's own;
only its timing is shortened with --health-interval=1s --health-retries=2):
  default          no arguments: port 7000, echo
  args             docker run IMAGE --port=7100 --protocol=ack
  env              -e FLAGS_port=7200 -e FLAGS_protocol=ack -e FLAGS_bind=::
  flagfile         -v FILE:/etc/reactord.flags IMAGE --flagfile=/etc/reactord.flags (port 7300, ack)
  oneshot          -e FLAGS_oneshot=true --port=7400
  ipc-none         --ipc=none (no /dev/shm) -e FLAGS_status_file=/tmp/reactord.status --port=7500:
                   the check takes the status file's path from the same variable
Each must turn healthy, the check's output naming the port and protocol it probed. Then reactord in
the `args` container is stopped with SIGSTOP: the container must turn unhealthy (the check is shown
to fail), and healthy again after SIGCONT.
"""

import os
import signal
import sys
import tempfile

import container_lib as lib


def main():
    lib.start("container.health")
    lib.need_image()
    work = tempfile.mkdtemp(prefix="reactord-health-")
    flagfile = os.path.join(work, "reactord.flags")
    with open(flagfile, "w") as f:
        f.write("# a flagfile as a user would mount it\n--port=7300\n--protocol=ack\n")
    os.chmod(work, 0o755)
    os.chmod(flagfile, 0o644)
    cases = [
        ("default", {}, [], [], "echo", 7000),
        ("args", {}, [], ["--port=7100", "--protocol=ack"], "ack", 7100),
        ("env", {"FLAGS_port": "7200", "FLAGS_protocol": "ack", "FLAGS_bind": "::"}, [], [], "ack", 7200),
        ("flagfile", {}, ["-v", f"{flagfile}:/etc/reactord.flags:ro"], ["--flagfile=/etc/reactord.flags"], "ack", 7300),
        ("oneshot", {"FLAGS_oneshot": "true"}, [], ["--port=7400"], "echo", 7400),
        ("ipc-none", {"FLAGS_status_file": "/tmp/reactord.status"}, ["--ipc=none"], ["--port=7500"], "echo", 7500),
    ]
    with lib.Network() as net:
        containers = {}
        try:
            for name, env, opts, args, _, _ in cases:
                containers[name] = lib.Container(f"health-{name}", args=args, network=net, env=env, options=opts).__enter__()
            for name, env, opts, args, protocol, port in cases:
                c = containers[name]
                how = " ".join(opts[:1] + [f"-e {k}={v}" for k, v in env.items()] + args) or "(defaults)"
                try:
                    c.wait_health("healthy", timeout=60)
                    ok = True
                except AssertionError as e:
                    ok = False
                    lib.log(str(e))
                last = c.health_log()[-1] if c.health_log() else (None, "")
                lib.check(ok and f"{protocol} round trip with 127.0.0.1:{port}" in last[1],
                          f"{name} ({how}): {c.health()}; check said: {last[1]!r}")

            # SIGSTOP: the process stays, its listeners stay open, nothing answers.
            c = containers["args"]
            pid = c.server_pid()
            os.kill(pid, signal.SIGSTOP)
            try:
                try:
                    c.wait_health("unhealthy", timeout=60)
                    stopped = True
                except AssertionError as e:
                    stopped = False
                    lib.log(str(e))
                last = c.health_log()[-1]
                lib.check(stopped and last[0] != 0,
                          f"reactord (host pid {pid}) stopped with SIGSTOP: {c.health()}; check exit {last[0]}: {last[1]!r}")
            finally:
                os.kill(pid, signal.SIGCONT)
            try:
                c.wait_health("healthy", timeout=60)
                back = True
            except AssertionError:
                back = False
            lib.check(back, f"after SIGCONT: {c.health()}")
        finally:
            for c in containers.values():
                c.__exit__(None, None, None)
    os.remove(flagfile)
    os.rmdir(work)
    return lib.finish()


if __name__ == "__main__":
    sys.exit(main())
