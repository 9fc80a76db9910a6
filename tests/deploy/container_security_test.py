#!/usr/bin/env python3
"""Check 5 of the container tests: the image runs as uid/gid 10001 under tini (PID 1), with a
read-only root file system, with every capability dropped and no-new-privileges, and stays
healthy; reactor-client and reactor-bench work through `docker exec` (the libraries they load are
in the image); --help and --version exit 0 with their text; a bad flag or FLAGS_* variable exits 1
naming it; there is no shell in the image.
"""

import sys

import container_lib as lib


def proc_status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        return next(l.split(":", 1)[1].split() for l in f if l.startswith(key + ":"))


def main():
    lib.start("container.security")
    lib.need_image()
    opts = ["--read-only", "--cap-drop=ALL", "--security-opt=no-new-privileges"]
    with lib.Network() as net, lib.Container("secure", network=net, options=opts) as c:
        c.wait_health("healthy", timeout=60)
        lib.check(True, f"docker run {' '.join(opts)}: healthy ({c.health_log()[-1][1]})")
        pid = c.server_pid()
        uid, gid = proc_status(pid, "Uid"), proc_status(pid, "Gid")
        lib.check(set(uid) == {"10001"} and set(gid) == {"10001"}, f"reactord runs as Uid {uid} Gid {gid}")
        cap_eff = proc_status(pid, "CapEff")[0]
        cap_bnd = proc_status(pid, "CapBnd")[0]
        lib.check(int(cap_eff, 16) == 0 and int(cap_bnd, 16) == 0, f"capabilities: CapEff {cap_eff}, CapBnd {cap_bnd}")
        lib.check(proc_status(pid, "NoNewPrivs")[0] == "1", "NoNewPrivs 1")
        with open(f"/proc/{c.host_pid()}/comm") as f:
            comm = f.read().strip()
        lib.check(comm == "tini", f"PID 1 is {comm}")
        r = lib.docker("exec", c.name, "/usr/local/bin/reactor-client", "--check",
                       "--status_file=/dev/shm/reactord.status", check=False)
        lib.check(r.returncode == 0, f"docker exec reactor-client --check: exit {r.returncode}: {(r.stdout + r.stderr).strip()}")
        r = lib.docker("exec", c.name, "/usr/local/bin/reactor-bench", "--port=7000", "--connections=4",
                       "--duration_s=1", "--warmup_s=0", "--json", "--progress=false", check=False)
        bench = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr.strip()[-200:]
        lib.check(r.returncode == 0 and '"mismatches":0' in bench, f"docker exec reactor-bench: exit {r.returncode}: {bench[:160]}")
        reply = lib.exchange(c.ip(), 7000, b"hello from the host\n")
        lib.check(reply == b"hello from the host\n", f"echo through the container's address: {reply!r}")
        r = lib.docker("exec", c.name, "/bin/sh", "-c", "true", check=False)
        lib.check(r.returncode != 0, f"no shell in the image: docker exec /bin/sh exits {r.returncode}")

    code, out, err = lib.run_once(["--help"])
    lib.check(code == 0 and "-drain_delay_s (" in out + err and "-status_file (" in out + err,
              f"--help: exit {code}, {len((out + err).splitlines())} lines, lists -drain_delay_s and -status_file")
    code, out, err = lib.run_once(["--version"])
    lib.check(code == 0 and out.startswith("reactord version "), f"--version: exit {code}: {out.strip()!r}")
    code, out, err = lib.run_once(["--workrs=2"])
    lib.check(code == 1 and "workrs" in out + err, f"--workrs=2: exit {code}: {(out + err).strip()[:200]!r}")
    code, out, err = lib.run_once(options=["-e", "FLAGS_workrs=2"])
    lib.check(code == 1 and "FLAGS_workrs" in out + err, f"-e FLAGS_workrs=2: exit {code}: {(out + err).strip()[:200]!r}")
    return lib.finish()


if __name__ == "__main__":
    sys.exit(main())
