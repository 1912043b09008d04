# Dockrev: one image for the API (default command) and the supervisor
# (`node dist/src/supervisor/main.js`). Multi-stage: the build stage compiles with every
# dependency, the runtime stage gets production dependencies and the compiled output only.
#
#   docker build -t dockrev .
#   docker build --build-arg BASE_IMAGE=<a local Node 20 bookworm image> --network host -t dockrev .
#
# BASE_IMAGE must be Debian 12 with Node 20 in /usr/local (the official slim image, or the local
# stand-in scripts/image/base-image.sh makes without an image registry).
ARG BASE_IMAGE=node:20-bookworm-slim

FROM ${BASE_IMAGE} AS build
# better-sqlite3 is compiled against this image's Node headers (no prebuilt download, so the build
# also works offline); make runs the project build.
RUN apt-get update \
 && apt-get install -y --no-install-recommends make python3 g++ \
 && rm -rf /var/lib/apt/lists/*
# A registry other than npmjs.org, when the builder passes one (scripts/image/build.sh does).
ARG npm_config_registry
ENV npm_config_nodedir=/usr/local \
    npm_config_build_from_source=true \
    npm_config_update_notifier=false
WORKDIR /src
COPY package.json package-lock.json ./
# Install scripts are off: the only one Dockrev needs is better-sqlite3's native build, run
# explicitly (ssh2 and cpu-features would build optional SSH accelerators nothing here uses).
RUN npm ci --no-audit --no-fund --ignore-scripts \
 && npm rebuild better-sqlite3
COPY . .
# `make build` is the project's build (whatever it grows to include); `-o` tells make that the
# dependencies installed above are current.
RUN make -o node_modules/.package-lock.json build \
 && find dist/src -name '*.test.js*' -delete \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund
# Of better-sqlite3's build only the binding is loaded; its sources and objects are 25 MB.
RUN cd node_modules/better-sqlite3 \
 && mv build/Release/better_sqlite3.node . && rm -rf build deps src \
 && mkdir -p build/Release && mv better_sqlite3.node build/Release/

FROM ${BASE_IMAGE} AS runtime
# Compose v1 and tini from Debian; of docker.io only the CLI (the daemon is the host's, reached
# through the mounted socket).
RUN apt-get update \
 && apt-get install -y --no-install-recommends docker-compose tini \
 && cd /tmp && apt-get download docker.io \
 && dpkg-deb --fsys-tarfile docker.io_*.deb | tar -xO ./usr/bin/docker >/usr/local/bin/docker \
 && chmod 0755 /usr/local/bin/docker && rm -f docker.io_*.deb \
 && rm -rf /var/lib/apt/lists/* \
 && docker --version && docker-compose version --short
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/src/generated/dockrev.openapi.json /src/src/generated/supervisor.openapi.json ./src/generated/
COPY --from=build /src/dist/src ./dist/src
ENV NODE_ENV=production \
    DOCKREV_HTTP_ADDR=0.0.0.0:50883 \
    DOCKREV_DB_PATH=/data/dockrev.sqlite3 \
    DOCKREV_SUPERVISOR_HTTP_ADDR=0.0.0.0:50884 \
    DOCKREV_SUPERVISOR_STATE_PATH=/data/supervisor/self-upgrade.json
# SQLite, backups (/data/backups) and the supervisor's state.
VOLUME /data
EXPOSE 50883
# Answers for whichever process this container runs: the API's /api/health or the supervisor.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "dist/src/healthcheck.js"]
ENTRYPOINT ["/usr/bin/tini", "--"]
# The flags of `npm start`: a small young generation keeps the resident set under 100 MB.
CMD ["node", "--max-semi-space-size=2", "--optimize-for-size", "dist/src/main.js"]

# Last, so that a different version or revision rebuilds nothing above.
ARG APP_EFFECTIVE_VERSION=
ARG VCS_REF=
ARG BUILD_DATE=
ENV APP_EFFECTIVE_VERSION=${APP_EFFECTIVE_VERSION}
LABEL org.opencontainers.image.title="Dockrev" \
      org.opencontainers.image.description="Self-hosted update manager for Docker Compose hosts (API and supervisor)" \
      org.opencontainers.image.source="https://github.com/IvanLi-CN/dockrev" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${APP_EFFECTIVE_VERSION}" \
      org.opencontainers.image.revision="${VCS_REF}" \
      org.opencontainers.image.created="${BUILD_DATE}"
