# One image for every command: the container's command picks it (`worker`, `serve`, `emulator`,
# `purge ...`). The build stage compiles TypeScript; the runtime stage has production dependencies
# only (no compiler, no TypeScript) and runs as the unprivileged `node` user.
#
# NODE_IMAGE: the official Debian slim image of one exact Node 22 release. Debian rather than Alpine
# because scripts/build-base-images.sh can make a stand-in for it where no registry is reachable
# (Debian packages and the glibc `node` binary of the npm registry), and a mirror or an internal
# registry is given the same way:
#   docker build --build-arg NODE_IMAGE=registry.example.cn/library/node:22.23.5-bookworm-slim .
# To update it: pick the newest 22.x of https://hub.docker.com/_/node, change the tag here and in
# docker-compose.yml, and NODE_VERSION in scripts/build-base-images.sh.
#
# No package is installed: every step works on any Debian- or Alpine-based Node image. Signals: Node
# handles SIGTERM/SIGINT itself (a graceful drain), so no init is needed for them; to reap zombies run
# with Docker's own init (`docker run --init`, compose `init: true`), as docker-compose.yml does.
# Plain Dockerfile syntax, no BuildKit-only feature: the legacy builder and BuildKit both build it.

ARG NODE_IMAGE=node:22.23.5-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the TypeScript build needs no install script (none of the dependencies compiles).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS production-dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    METRICS_PORT=9464 \
    METRICS_HOST=0.0.0.0
WORKDIR /app
COPY --from=production-dependencies /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
RUN chmod 0755 dist/bin/cli.js && ln -s /app/dist/bin/cli.js /usr/local/bin/dcs-cleanup
USER node
# 8080: `serve` (API_PORT); 9464: a worker's /metrics and /healthz; 18080: `emulator`.
EXPOSE 8080 9464 18080
# Matches the default command, `worker`: its /healthz fails once Redis has been away longer than
# WORKER_HEALTH_GRACE_MS. Other commands override it (docker-compose.yml does for each service).
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 CMD ["dcs-cleanup", "healthcheck", "--worker"]
ENTRYPOINT ["dcs-cleanup"]
CMD ["worker"]
