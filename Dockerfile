# syntax=docker/dockerfile:1
# The syncer image: the vcluster-preview CLI (compiled to dist/ by cli/build.mjs at image build), used by
# charts/vcluster for the `pki` init container and the `syncer` container.
#   docker build -t ghcr.io/vcluster-preview/vcluster-preview:0.1.0 .

# Production dependencies only, installed from the lock file.
FROM node:20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY cli ./cli
COPY kube ./kube
COPY controlplane ./controlplane
COPY syncer ./syncer
COPY preview ./preview
COPY app ./app
COPY charts ./charts
# The root file system is read-only where the chart runs it: compile now, not at the first start.
RUN node cli/build.mjs
# `vcluster-preview` on PATH: the chart's containers run it as their command.
RUN printf '#!/bin/sh\nexec node /app/cli/vcluster-preview.js "$@"\n' > /usr/local/bin/vcluster-preview \
  && chmod 0755 /usr/local/bin/vcluster-preview
# The chart runs it as 65532 with a read-only root file system; /tmp is an emptyDir there.
USER 65532:65532
ENTRYPOINT ["node", "/app/cli/vcluster-preview.js"]
CMD ["--help"]
