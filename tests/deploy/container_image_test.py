#!/usr/bin/env python3
"""Check 1 of the container tests, and the CTest fixture that the others share: `docker build` of
the repository's Dockerfile with a real engine. The build stage runs the normal build's test suite
(deploy/test.sh, its CTest summary must be in the build output); the image carries the OCI labels
(version equal to what reactord --version prints, the revision passed as a build argument); its
size is reported. `--remove` is the fixture's cleanup: it removes the image and the build stage's
image, and with them every layer the build made.

usage: container_image_test.py [--remove]
"""

import argparse
import json
import os
import subprocess
import sys
import time

import container_lib as lib


def revision():
    r = subprocess.run(["git", "-C", lib.REPO, "rev-parse", "HEAD"], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else "unknown"


def build():
    rev = revision()
    label = f"{lib.LABEL}={lib.RUN}"
    started = time.monotonic()
    # The build stage under its own tag first, so that --remove can take its layers away too
    # (the classic builder leaves an untagged build-stage image otherwise); the second build
    # reuses every one of its layers from the cache.
    steps = [["--target", "build", "-t", f"{lib.IMAGE}-build"], ["-t", lib.IMAGE]]
    output = ""
    for extra in steps:
        argv = ["docker", "build", "--network=host", "--force-rm", "--label", label, "--build-arg", f"REVISION={rev}",
                *extra, lib.REPO]
        lib.log(" ".join(argv))
        r = subprocess.run(argv, env={**os.environ, "DOCKER_BUILDKIT": "0"},
                           capture_output=True, text=True, timeout=1800)
        output += r.stdout + r.stderr
        if r.returncode != 0:
            print(output[-6000:])
            lib.check(False, f"docker build {' '.join(extra)} exited {r.returncode}")
            return
    took = time.monotonic() - started
    lib.check(True, f"docker build succeeded in {took:.0f} s")
    summary = [l for l in output.splitlines() if "tests passed" in l]
    lib.check(bool(summary) and "100% tests passed" in summary[-1],
              f"the build stage ran the test suite: {summary[-1].strip() if summary else 'no CTest summary in the build output'}")

    image = lib.docker("image", "inspect", lib.IMAGE).stdout
    info = json.loads(image)[0]
    labels = info["Config"]["Labels"] or {}
    for key in ("title", "description", "source", "version", "revision", "licenses"):
        lib.check(f"org.opencontainers.image.{key}" in labels, f"label org.opencontainers.image.{key}={labels.get(f'org.opencontainers.image.{key}')!r}")
    code, out, err = lib.run_once(["--version"])
    version = out.split()[-1] if out.split() else ""
    lib.check(code == 0 and labels.get("org.opencontainers.image.version") == version,
              f"label version {labels.get('org.opencontainers.image.version')!r} is what reactord --version says ({out.strip()!r})")
    lib.check(labels.get("org.opencontainers.image.revision") == rev, f"label revision is the build argument {rev}")
    size = info["Size"]
    lib.check(size < 20 * 1024 * 1024, f"image size {size} bytes ({size / 1e6:.1f} MB), under 20 MB")
    layers = lib.docker("history", "--format", "{{.Size}}\t{{.CreatedBy}}", lib.IMAGE).stdout
    lib.log("layers:\n" + "\n".join("    " + l[:150] for l in layers.splitlines()))


def remove():
    for image in (lib.IMAGE, f"{lib.IMAGE}-build"):
        r = lib.docker("rmi", "-f", image, check=False)
        lib.log(f"docker rmi {image}: {'removed' if r.returncode == 0 else r.stderr.strip()}")
    # Containers or networks a test that crashed left behind, and images of that run.
    for kind, ls in (("container", ["ps", "-aq"]), ("network", ["network", "ls", "-q"]), ("image", ["images", "-q"])):
        ids = lib.docker(*ls, "--filter", f"label={lib.LABEL}={lib.RUN}").stdout.split()
        if ids:
            rm = {"container": ["rm", "-f"], "network": ["network", "rm"], "image": ["rmi", "-f"]}[kind]
            lib.docker(*rm, *sorted(set(ids)), check=False)
            lib.log(f"removed {len(set(ids))} leftover {kind}(s) of run {lib.RUN}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--remove", action="store_true")
    args = parser.parse_args()
    lib.start("container.image_remove" if args.remove else "container.image_build")
    if args.remove:
        remove()
    else:
        build()
    return lib.finish()


if __name__ == "__main__":
    sys.exit(main())
