#!/usr/bin/env bash
# swift-peer.sh — run the load generator's workloads against the OpenStack Swift peer
# (/work/shared/peers/swift) through its S3 layer: one JSON line per workload on stdout.
#
# Usage: bench/load/swift-peer.sh [--keep-running] [--quick]
#   Starts the peer (fresh, in $SWIFT_PEER_DIR, default /tmp/arca-bench-swift, on port
#   $SWIFT_PEER_PORT, default 18080, storage ports 16010.., memcached 11411 — out of the way of
#   an Arca cluster on 8080), runs put/get/head/list/mixed/delete at 4 KiB, put/get/delete at
#   1 MiB and 64 MiB, then stops it (unless --keep-running).
#   --quick: fewer ops (a smoke test, ~30 s of load).
# Needs: npx tsc -p tsconfig.build.json (dist/bench/load/s3-load.js) and the Debian swift packages.
set -Eeuo pipefail
cd "$(dirname "$0")/../.."

PEERS=${PEERS:-/work/shared/peers}
DIR=${SWIFT_PEER_DIR:-/tmp/arca-bench-swift}
PORT=${SWIFT_PEER_PORT:-18080}
KEEP=0
QUICK=0
for a in "$@"; do
  case "$a" in
    --keep-running) KEEP=1 ;;
    --quick) QUICK=1 ;;
    *) echo "swift-peer.sh: unknown option $a" >&2; exit 2 ;;
  esac
done

"$PEERS/swift/start.sh" "$DIR" --port "$PORT" --base-port 16000 --memcached-port 11411 --fresh >&2
[ "$KEEP" = 1 ] || trap '"$PEERS/swift/stop.sh" "$DIR" >&2' EXIT

N4K=200 N1M=100 N64M=8
[ "$QUICK" = 1 ] && { N4K=50; N1M=20; N64M=2; }

load() {
  node dist/bench/load/s3-load.js --endpoint "http://127.0.0.1:$PORT" \
    --access-key test:tester --secret-key testing --bucket arcabench \
    --server-pid-dir "$DIR/run" "$@"
}
load --create-bucket --workload put --size 4KiB --concurrency 16 --count $N4K --prefix 4k/
load --workload get    --size 4KiB --concurrency 16 --count $N4K --prefix 4k/
load --workload head   --size 4KiB --concurrency 16 --count $N4K --prefix 4k/
load --workload list   --size 4KiB --concurrency 4  --count $((N4K / 4)) --prefix 4k/
load --workload mixed  --size 4KiB --concurrency 16 --count $N4K --prefix 4k/ --keys $N4K --mix get=70,put=30
load --workload put    --size 4KiB --concurrency 16 --count $N4K --prefix 4k-sha/ --payload sha256
load --workload delete --size 4KiB --concurrency 16 --count $N4K --prefix 4k/
load --workload delete --size 4KiB --concurrency 16 --count $N4K --prefix 4k-sha/
load --workload put    --size 1MiB --concurrency 8  --count $N1M --prefix 1m/
load --workload get    --size 1MiB --concurrency 8  --count $N1M --prefix 1m/
load --workload delete --size 1MiB --concurrency 8  --count $N1M --prefix 1m/
load --workload put    --size 64MiB --concurrency 2 --count $N64M --prefix 64m/
load --workload get    --size 64MiB --concurrency 2 --count $N64M --prefix 64m/
load --workload delete --size 64MiB --concurrency 2 --count $N64M --prefix 64m/
