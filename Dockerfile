# reactord image: a build stage that builds and tests with the same scripts as CI, and a runtime
# stage FROM scratch that holds the three programs, tini, and the shared libraries they load
# (about 7 MB; docs/deploy.md says why not debian:bookworm-slim).
#
#   docker build -t reactord --build-arg REVISION=$(git rev-parse HEAD) .
#   docker run --rm -p 7000:7000 --cpus=2 reactord                   # --workers=0: 2, from the cgroup
#   docker run --rm -p 7100:7100 -e FLAGS_port=7100 -e FLAGS_protocol=ack reactord
#   docker run --rm -p 7100:7100 reactord --port=7100 --drain_delay_s=3
#
# Every RUN step is a script under deploy/ that CI (deploy/test.sh, tests/deploy) runs as well.
# deploy/lint.sh lints this file; tests/deploy (CTest label `container`) builds and runs it.

FROM debian:bookworm AS build
WORKDIR /src
# The dependencies first, in their own layer: it survives edits to the sources.
COPY deploy/install-deps.sh deploy/
RUN ["/src/deploy/install-deps.sh", "image"]
COPY . .
# Configure, build, and run the test suite of the normal build (CI also runs it under ASan and
# TSan, the deploy lint, which needs npm, and the container tests, which need an engine; the
# network-namespace tests skip themselves here: a build container may not create namespaces).
ENV REACTORD_LINT=0 REACTORD_QUICK=1 REACTORD_CONTAINERS=0
RUN ["/src/deploy/test.sh"]
RUN ["/src/deploy/stage-rootfs.sh", "/rootfs"]

FROM scratch AS runtime
COPY --from=build /rootfs/ /
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE=
ARG LICENSES=NOASSERTION
LABEL org.opencontainers.image.title="reactord" \
      org.opencontainers.image.description="Sharded-reactor TCP echo / acknowledgement server (libevent), with reactor-client and reactor-bench" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="${LICENSES}"
# uid:gid of the `reactord` user in the image's /etc/passwd; Kubernetes' runAsNonRoot needs
# numbers to check.
USER 10001:10001
# glog writes files under /tmp by default; a container logs to stderr. The status file tells the
# HEALTHCHECK where reactord listens and with which protocol, however it was configured
# (arguments, --flagfile, FLAGS_* variables); /dev/shm is a private writable tmpfs in every
# container, with --read-only too. The check takes the path from the same variable
# (--tryfromenv), so `-e FLAGS_status_file=...` moves both (needed with --ipc=none: no /dev/shm).
ENV GLOG_logtostderr=1 FLAGS_status_file=/dev/shm/reactord.status
EXPOSE 7000
# reactord drains on SIGTERM (--drain_delay_s, default 0, then --drain_timeout_s, default 5 s),
# inside docker stop's 10 s.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/reactor-client", "--check", "--tryfromenv=status_file", "--timeout_ms=2000"]
# tini as PID 1 forwards SIGTERM to reactord and reaps zombies. No CMD: the defaults (port 7000,
# --workers=0) hold unless arguments or FLAGS_* variables say otherwise; an argument in CMD would
# override the environment.
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/reactord"]
