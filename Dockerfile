# syntax=docker/dockerfile:1
# stateroute: multi-stage build on Node 22 LTS (Node 20 reached end of life in April 2026).
#   docker build -t stateroute .
#   docker run -p 8080:8080 -v $PWD/config/production.example.yaml:/etc/stateroute/stateroute.yaml:ro \
#     -e AZURE_OPENAI_ENDPOINT -e AZURE_OPENAI_API_KEY -e STATEROUTE_KEY stateroute

FROM node:22-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:22-slim AS runtime
ENV NODE_ENV=production \
    STATEROUTE_CONFIG=/etc/stateroute/stateroute.yaml
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY config ./config
# The config is mounted here (see README, "Running in a container"); the ledger writes under /var/lib/stateroute.
RUN mkdir -p /etc/stateroute /var/lib/stateroute \
 && cp config/production.example.yaml /etc/stateroute/stateroute.yaml \
 && chown -R node:node /var/lib/stateroute
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
# The V8 flags the gateway is tuned and benchmarked with (src/cli/node-flags.ts says why: a young
# generation that may use ~128 MB more memory at the peak, no pretenuring of per-request objects, and
# an old generation allowed twice its live size between full GCs).
CMD ["node", "--max-semi-space-size=64", "--no-allocation-site-pretenuring", "--heap-growing-percent=100", "dist/cli/main.js", "serve"]
