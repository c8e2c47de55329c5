# syntax=docker/dockerfile:1
# One image for every Atelier process; the command picks the role:
#   api:       node packages/producer/src/bin/api.ts   (default)
#   worker:    node packages/worker/src/bin/worker.ts
#   simulator: node packages/simulator/src/bin/simulator.ts
# TypeScript runs natively on Node 24 (type stripping): there is no build step.

FROM node:24-bookworm-slim AS deps
WORKDIR /app
RUN npm install -g pnpm@12.4.2 && npm cache clean --force
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY packages/shared/package.json packages/shared/
COPY packages/store/package.json packages/store/
COPY packages/simulator/package.json packages/simulator/
COPY packages/worker/package.json packages/worker/
COPY packages/producer/package.json packages/producer/
RUN pnpm install --frozen-lockfile --prod

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
# A small young generation keeps RSS bounded under load (bench/RESULTS.md).
ENV NODE_OPTIONS=--max-semi-space-size=16
WORKDIR /app
COPY --from=deps --chown=node:node /app ./
COPY --chown=node:node packages/shared/src packages/shared/src
COPY --chown=node:node packages/store/src packages/store/src
COPY --chown=node:node packages/simulator/src packages/simulator/src
COPY --chown=node:node packages/worker/src packages/worker/src
COPY --chown=node:node packages/producer/src packages/producer/src
# The worker's submit journal (docker-compose.yml mounts a volume per worker here; a new volume
# takes this directory's owner).
RUN mkdir -p /var/lib/atelier/journal && chown node:node /var/lib/atelier/journal
USER node
EXPOSE 3000 9464
STOPSIGNAL SIGTERM
CMD ["node", "packages/producer/src/bin/api.ts"]
