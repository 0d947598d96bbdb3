# syntax=docker/dockerfile:1
# The project's image: the vcluster-preview CLI (compiled to dist/ by controlplane/build.mjs at image build), used by
# charts/vcluster for the `pki` init container and the `syncer` container, and by charts/vcluster-preview
# for the service's web and worker.
#   docker build -t ghcr.io/vcluster-preview/vcluster-preview:0.1.0 .

# helm, which the worker runs to install charts/vcluster, built from its module like the rest.
FROM golang:1.26-bookworm AS helm
RUN CGO_ENABLED=0 go install -ldflags "-s -w" helm.sh/helm/v4/cmd/helm@v4.3.1

# Production dependencies only, installed from the lock file.
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# Node.js 24 (a supported release; the embedded host builds the same image by recipe:
# controlplane/images/chart-recipes.ts).
FROM node:24-slim
ENV NODE_ENV=production
# A production process uses the binaries the image carries and never builds any.
ENV VCLUSTER_PREVIEW_BINARIES=/usr/local/bin
COPY --from=helm /go/bin/helm /usr/local/bin/helm
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
RUN node controlplane/build.mjs
# `vcluster-preview` on PATH: the chart's containers run it as their command.
RUN printf '#!/bin/sh\nexec node /app/cli/vcluster-preview.js "$@"\n' > /usr/local/bin/vcluster-preview \
  && chmod 0755 /usr/local/bin/vcluster-preview
# The chart runs it as 65532 with a read-only root file system; /tmp is an emptyDir there.
USER 65532:65532
ENTRYPOINT ["node", "/app/cli/vcluster-preview.js"]
CMD ["--help"]
