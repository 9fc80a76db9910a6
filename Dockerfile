# reactord image: a build stage that builds and tests with the same scripts as CI, and a slim
# runtime stage that holds the three programs and their runtime libraries only.
#
#   docker build -t reactord .
#   docker run --rm -p 7000:7000 --cpus=2 reactord              # --workers=0: 2, from cpu.max
#   docker run --rm -p 7000:7000 --sysctl net.ipv4.tcp_migrate_req=1 reactord --workers=4
#
# Every RUN step is a script under deploy/ that CI (deploy/test.sh, tests/deploy) runs as well.
# deploy/lint.sh lints this file.

FROM debian:bookworm AS build
WORKDIR /src
# The dependencies first, in their own layer: it survives edits to the sources.
COPY deploy/install-deps.sh deploy/
RUN ["/src/deploy/install-deps.sh", "test"]
COPY . .
# Configure, build, and run the test suite of the normal build (CI also runs it under ASan and
# TSan, and the deploy lint, which needs npm; the network-namespace tests skip themselves here:
# a build container may not create namespaces).
ENV REACTORD_LINT=0 REACTORD_QUICK=1
RUN ["/src/deploy/test.sh"]
RUN ["/src/deploy/stage-binaries.sh", "/out"]

FROM debian:bookworm-slim AS runtime
COPY deploy/install-runtime.sh /usr/local/lib/reactord/install-runtime.sh
RUN ["/usr/local/lib/reactord/install-runtime.sh"]
COPY --from=build /out/ /usr/local/bin/
# uid:gid of the `reactord` user that install-runtime.sh adds; Kubernetes' runAsNonRoot needs
# numbers to check.
USER 10001:10001
# glog writes files under /tmp by default; a container logs to stderr.
ENV GLOG_logtostderr=1
EXPOSE 7000
# reactord drains on SIGTERM (--drain_timeout_s, default 5 s), inside docker stop's 10 s.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/reactor-client", "--host=127.0.0.1", "--port=7000", "--check", "--timeout_ms=2000"]
# tini as PID 1 forwards SIGTERM to reactord and reaps zombies.
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/reactord"]
CMD ["--port=7000", "--workers=0"]
