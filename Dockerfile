# The engine image used by docker-compose.yml. Debian 12 like our machines; ffmpeg from Debian.
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg fonts-dejavu-core fontconfig ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY bin ./bin
COPY models ./models
RUN npx tsc -p tsconfig.json && npm prune --omit=dev --ignore-scripts
ENV NODE_ENV=production
ENTRYPOINT ["/app/bin/sie"]
