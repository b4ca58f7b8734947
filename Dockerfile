# syntax=docker/dockerfile:1
# booktape in a container, for deploy/k8s (docs/DEPLOY.md, "Container image").
#   docker build -t booktape:0.1.0 .
# The build stage runs the scripts CI runs (scripts/install-deps.sh, scripts/build.sh), so
# every CI run exercises these steps; the runtime stage holds the binary, the libraries it
# links (tests/deploy checks the list against the binary) and rclone for `booktape upload`.

FROM debian:12 AS build
WORKDIR /src
COPY . .
RUN scripts/install-deps.sh && scripts/build.sh release booktape

FROM debian:12
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates \
      libdeflate0 \
      libhiredis0.14 \
      libmimalloc2.0 \
      libprometheus-cpp-core1.0 \
      libsimdjson14 \
      libssl3 \
      libsystemd0 \
      libyaml-cpp0.7 \
      rclone \
      zlib1g \
 && rm -rf /var/lib/apt/lists/*
# A fixed uid and gid: deploy/k8s's runAsUser, runAsGroup and fsGroup name them.
RUN groupadd --system --gid 10001 booktape \
 && useradd --system --uid 10001 --gid booktape --home-dir /var/lib/booktape \
      --shell /usr/sbin/nologin booktape \
 && install -d -o booktape -g booktape -m 0750 /var/lib/booktape
COPY --from=build /src/build/release/apps/booktape /usr/local/bin/booktape
COPY config/record.vps.yaml /etc/booktape/record.yaml
COPY docs/DEPLOY.md /usr/local/share/doc/booktape/DEPLOY.md
USER 10001:10001
WORKDIR /var/lib/booktape
VOLUME ["/var/lib/booktape"]
ENTRYPOINT ["/usr/local/bin/booktape"]
CMD ["record", "--config", "/etc/booktape/record.yaml"]
