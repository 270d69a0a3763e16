# Arca image: the same build as a development checkout (`npm ci` compiles TypeScript in its prepare step).
FROM node:20-bookworm-slim
WORKDIR /opt/arca
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY ring ./ring
COPY storage-nodes ./storage-nodes
COPY src ./src
COPY test ./test
COPY bench ./bench
COPY deploy ./deploy
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/* \
 && npm ci && npm cache clean --force
ENTRYPOINT ["node", "/opt/arca/dist/src/cli/main.js"]
