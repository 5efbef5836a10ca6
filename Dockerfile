# Switchyard images, from the repository root. The last stage is the default.
#   OpenFaaS (classic watchdog):  faas-cli build -f deploy/openfaas/stack.yml   (or: docker build -t switchyard-openfaas .)
#   Kubernetes (nginx + fcgiwrap): docker build --target kubernetes -t switchyard .
# The Swift image is the toolchain the project is built and tested with (a test keeps them equal).

FROM swift:6.3.1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libssl-dev libyaml-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# One static multi-call binary; each function is a symlink to it (its name selects the function).
RUN swift build -c release --static-swift-stdlib -Xswiftc -static-executable --product switchyard \
 && install -D -m 0755 "$(swift build -c release --show-bin-path)/switchyard" /opt/switchyard/switchyard \
 && strip /opt/switchyard/switchyard \
 && mkdir -p /opt/switchyard/bin /opt/switchyard/functions \
 && for f in functions/*/; do n=$(basename "$f"); ln -s ../switchyard "/opt/switchyard/bin/$n"; \
      install -D -m 0644 "$f/function.yaml" "/opt/switchyard/functions/$n/function.yaml"; done

FROM ghcr.io/openfaas/classic-watchdog:0.3.3 AS watchdog

# Every function over CGI: nginx + fcgiwrap, started by entrypoint.sh as the pod's user (www-data).
FROM debian:bookworm-slim AS kubernetes
RUN apt-get update && apt-get install -y --no-install-recommends nginx fcgiwrap ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/switchyard /opt/switchyard
COPY deploy/cgi/nginx.conf /opt/switchyard/nginx.conf.in
COPY deploy/kubernetes/entrypoint.sh /opt/switchyard/entrypoint.sh
USER 33:33
EXPOSE 8080
ENTRYPOINT ["/opt/switchyard/entrypoint.sh"]

# One function under the OpenFaaS classic watchdog; `fprocess` (from stack.yml) names it.
FROM debian:bookworm-slim AS openfaas
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 app
COPY --from=watchdog /fwatchdog /usr/bin/fwatchdog
COPY --from=build /opt/switchyard /opt/switchyard
USER 10001
ENV fprocess=/opt/switchyard/bin/slash-dispatch
HEALTHCHECK --interval=10s CMD [ -e /tmp/.lock ] || exit 1
CMD ["fwatchdog"]
