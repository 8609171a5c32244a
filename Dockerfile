# calendar-sync-sidecar: multi-stage, production dependencies only, non-root, x86-64.
FROM --platform=linux/amd64 node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM --platform=linux/amd64 node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM --platform=linux/amd64 node:24-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The image's node user, by number: Kubernetes' runAsNonRoot can check a numeric user, not a name.
USER 1000:1000
EXPOSE 8080
# Binding 0.0.0.0 needs API_TOKENS (or ALLOW_UNAUTHENTICATED=true): the service refuses to start open otherwise.
# The check calls 127.0.0.1: with HOST set to one interface's address instead, override or disable it.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node, not npm, so SIGTERM reaches the process and the graceful shutdown runs.
CMD ["node", "dist/server.js"]
