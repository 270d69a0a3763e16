"""Give a bucket of the Swift peer N listing rows at once, for the LIST-of-a-big-bucket workload.

usage: /usr/bin/python3 swift-populate.py PEER_DIR ACCOUNT CONTAINER COUNT NAME_FORMAT
  PEER_DIR     the data dir of /work/shared/peers/swift/start.sh (etc/, srv/N/node/sdbN)
  NAME_FORMAT  a str.format pattern for row i, e.g. 'obj-{:07d}'

Writes rows 0..COUNT-1 into every primary replica of the container's database through Swift's own
ContainerBroker.merge_items (what container replication uses), copying size, content type and etag from an
existing row (the harness PUTs one real object first). Object data is not written: a listing reads only the
container database. Rows already there are kept (merge by name and timestamp), so a second call is cheap.
Prints one JSON line: {"replicas": [object_count, ...], "inserted": n, "seconds": s}.
"""
import json
import os
import sys
import time

peer_dir, account, container, count, name_format = sys.argv[1:6]
count = int(count)
etc = os.path.join(peer_dir, 'etc')

import swift.common.utils as utils  # noqa: E402

# As start.sh's launcher does: read the peer's swift.conf, not /etc/swift/swift.conf.
utils.SWIFT_CONF_FILE = os.path.join(etc, 'swift.conf')
utils.HASH_PATH_PREFIX = b''
utils.HASH_PATH_SUFFIX = b''
utils.validate_hash_conf()

from swift.common.ring import Ring  # noqa: E402
from swift.common.utils import Timestamp, hash_path, storage_directory  # noqa: E402
from swift.container.backend import DATADIR, ContainerBroker  # noqa: E402

BATCH = 10000
t0 = time.time()
ring = Ring(etc, ring_name='container')
part, nodes = ring.get_nodes(account, container)
hsh = hash_path(account, container)
brokers = []
for node in nodes:
    number = node['device'][len('sdb'):]
    db = os.path.join(peer_dir, 'srv', number, 'node', node['device'], storage_directory(DATADIR, part, hsh), hsh + '.db')
    if not os.path.exists(db):
        sys.exit('swift-populate: no container database %s (create the bucket first)' % db)
    brokers.append(ContainerBroker(db, account=account, container=container))

template = None
for b in brokers:
    rows = b.list_objects_iter(1, '', None, None, None)
    if rows:
        name, created_at, size, content_type, etag = rows[0][:5]
        template = {'size': size, 'content_type': content_type, 'etag': etag}
        break
if template is None:
    sys.exit('swift-populate: the container has no row to copy (PUT one object first)')

created_at = Timestamp.now().internal
inserted = 0
for b in brokers:
    if b.get_info()['object_count'] >= count:
        continue
    for start in range(0, count, BATCH):
        items = [dict(template, name=name_format.format(i), created_at=created_at, deleted=0, storage_policy_index=0)
                 for i in range(start, min(count, start + BATCH))]
        b.merge_items(items)
        inserted += len(items)
print(json.dumps({'replicas': [b.get_info()['object_count'] for b in brokers], 'inserted': inserted,
                  'seconds': round(time.time() - t0, 1)}))
