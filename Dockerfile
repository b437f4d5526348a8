# syntax=docker/dockerfile:1
# One image for every command: the container's command picks it (`worker`, `serve`, `emulator`,
# `purge ...`). The build stage compiles TypeScript; the runtime stage has production dependencies
# only, runs as the unprivileged `node` user under tini (signals reach Node, zombies are reaped).

ARG NODE_IMAGE=node:22-alpine

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS production-dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE}
RUN apk add --no-cache tini
ENV NODE_ENV=production
WORKDIR /app
COPY --from=production-dependencies /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
RUN chmod 0755 dist/bin/cli.js && ln -s /app/dist/bin/cli.js /usr/local/bin/dcs-cleanup
USER node
# 8080: `serve` (API_PORT); 9464: a worker's /metrics when METRICS_PORT=9464; 18080: `emulator`.
EXPOSE 8080 9464 18080
# Probes the API's /healthz; other commands override it (docker-compose.yml does for each service).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["dcs-cleanup", "healthcheck"]
ENTRYPOINT ["/sbin/tini", "--", "dcs-cleanup"]
CMD ["worker"]
