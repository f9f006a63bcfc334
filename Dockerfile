# syntax=docker/dockerfile:1
#
# A Lyceum node in a container:
#
#   docker build -t lyceum .
#   docker run -d --name lyceum -v lyceum:/data \
#     -p 5101:5101 -p 4101:4101/tcp -p 4101:4101/udp lyceum
#   docker logs lyceum          # the one-time setup link for the first admin
#   docker exec lyceum lyceum stat
#
# The repo (identity, config.toml, content, database) lives on the /data
# volume; keep the volume and the node keeps its peer ID and its content.
# Release builds name their commit (otherwise `lyceum version` says
# "commit unknown", since .git is not sent to the builder):
#
#   docker build --build-arg LYCEUM_COMMIT=$(git rev-parse HEAD) -t lyceum .

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so that a change to the code does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG LYCEUM_COMMIT=""
# Pure Go (modernc.org/sqlite), so a static binary that needs no libc.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.commit=${LYCEUM_COMMIT}" \
      -o /out/lyceum ./cmd/lyceum \
 && /out/lyceum version \
 && mkdir -p /out/data

# distroless/static: CA certificates (the fediverse bridge speaks HTTPS),
# tzdata, no shell, no package manager, and the non-root user 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/lyceum /usr/local/bin/lyceum
# A new named volume takes this directory's owner, so the non-root user can
# write it. A bind mount keeps the host directory's owner: make it writable
# by uid 65532 (chown 65532:65532 DIR), or run with --user.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV LYCEUM_PATH=/data
VOLUME /data

# 5101: HTTP (web app, JSON API, /ipfs/ gateway, /metrics).
# 4101: the swarm, TCP and QUIC (UDP); publish both for other peers to dial
# this node.
EXPOSE 5101/tcp 4101/tcp 4101/udp

ENTRYPOINT ["lyceum"]
# The daemon listens for HTTP on 0.0.0.0 inside the container, or
# `docker run -p` could not reach it. WARNING: whatever publishes port 5101
# then exposes the node's web app, API and gateway to anyone who can reach
# the host: publish it on loopback (-p 127.0.0.1:5101:5101) or behind a TLS
# reverse proxy (gateway.trusted_proxies) unless the node is meant to be
# public, and open the setup link before anyone else does.
# The repo is created on the first run with the desktop profile (DHT mode
# chosen by reachability). An always-on node with its swarm port published
# can start with `daemon --profile server --http 0.0.0.0:5101` (or hq) on
# its first run instead; the profile is kept in /data/config.toml.
CMD ["daemon", "--http", "0.0.0.0:5101"]
