#!/bin/sh
# Builds the rings of the compose topology once (four storage nodes, one device each, one zone each) into
# /etc/arca/rings; does nothing when they exist. Run by the `rings` service before the nodes start.
set -eu
dir=/etc/arca/rings
[ -f "$dir/object.ring.json.gz" ] && exit 0
mkdir -p "$dir"
arca() { node /opt/arca/dist/src/cli/main.js "$@"; }
for ring in account container object; do
  b="$dir/$ring.builder.json"
  arca ring create "$b" --part-power 10 --replicas 3 --min-part-hours 1
  for i in 1 2 3 4; do
    arca ring add "$b" --region 1 --zone "$i" --ip "node$i" --port 6200 --device "d$i" --weight 1
  done
  arca ring rebalance "$b" --output "$dir/$ring.ring.json.gz"
done
