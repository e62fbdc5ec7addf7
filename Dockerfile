# syntax=docker/dockerfile:1
# Switchboard, built and run on the Node line it is tested on (20.x). test/process/dockerfile.test.ts runs this
# file's RUN commands and CMD in a clean clone (docker itself is not available in CI), so edit both together.

# --- builder: full install (the build needs TypeScript and tsx), compile, then drop the dev dependencies -------
FROM node:20-bookworm-slim AS builder
WORKDIR /app
# better-sqlite3 ships prebuilt binaries for linux x64/arm64 on Node 20; the toolchain is only a fallback for
# other platforms, where it compiles from source.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY migrations ./migrations
RUN npm run build
RUN npm prune --omit=dev

# --- runtime: compiled JavaScript, production dependencies, migrations; no compiler, no shell scripts ---------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000 \
    DATABASE_URL=file:/data/switchboard.db
WORKDIR /app
COPY --from=builder --chown=node:node /app/package.json ./package.json
COPY --from=builder --chown=node:node /app/node_modules ./node_modules
COPY --from=builder --chown=node:node /app/dist ./dist
COPY --from=builder --chown=node:node /app/migrations ./migrations
RUN mkdir -p /data && chown node:node /data
VOLUME /data
USER node
EXPOSE 4000
# HOST=0.0.0.0 needs SWITCHBOARD_ADMIN_KEY (the gateway refuses to listen beyond loopback in open local mode):
#   docker run -e SWITCHBOARD_ADMIN_KEY=... -p 4000:4000 -v switchboard-data:/data switchboard
# slim has no curl: the check uses Node's own fetch. /healthz answers 503 while draining.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node is PID 1 and receives docker stop's SIGTERM itself (no npm or shell in between): it drains in-flight
# requests and streams for up to SWITCHBOARD_SHUTDOWN_GRACE_MS (keep it below docker stop's timeout, 10 s by default).
CMD ["node", "dist/index.js"]
