/**
 * `arca key create|list|delete`: manage access keys of a running cluster's users through its admin API, as
 * the root user (see admin-client.ts for where the endpoint and credentials come from).
 */
import { parseArgs } from 'node:util';
import { ArcaError } from '../common/errors.js';
import { adminRequest, adminTarget } from './admin-client.js';

const usage = `usage: arca key create USER [--access-key AK --secret-key SK] [--json]
       arca key list USER [--json]
       arca key delete ACCESS_KEY_ID

Talks to the cluster at ARCA_ENDPOINT as the root user (ARCA_ACCESS_KEY, ARCA_SECRET_KEY); both default to
the local cluster in --data (default ./.arca-data).`;

interface Key {
  accessKeyId: string;
  secretAccessKey?: string;
  user: string;
  account: string;
  createdAt: string;
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'access-key': { type: 'string' },
      'secret-key': { type: 'string' },
      json: { type: 'boolean' },
      data: { type: 'string', default: '.arca-data' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const [verb, arg, ...extra] = positionals;
  if (!arg || extra.length || !['create', 'list', 'delete'].includes(verb)) throw new ArcaError('BadRequest', `bad arguments\n${usage}`);
  const target = adminTarget(process.env, values.data);
  const out = (text: string) => process.stdout.write(`${text}\n`);
  switch (verb) {
    case 'create': {
      if ((values['access-key'] === undefined) !== (values['secret-key'] === undefined)) {
        throw new ArcaError('BadRequest', 'give both --access-key and --secret-key, or neither');
      }
      const { key } = (await adminRequest(target, 'POST', `users/${encodeURIComponent(arg)}/keys`, {
        accessKeyId: values['access-key'],
        secretAccessKey: values['secret-key'],
      })) as { key: Key };
      if (values.json) out(JSON.stringify(key, null, 2));
      else out(`created a key for user ${key.user}\n  access key: ${key.accessKeyId}\n  secret key: ${key.secretAccessKey}`);
      return 0;
    }
    case 'list': {
      const { keys } = (await adminRequest(target, 'GET', `users/${encodeURIComponent(arg)}/keys`)) as { keys: Key[] };
      if (values.json) out(JSON.stringify(keys, null, 2));
      else for (const k of keys) out(`${k.accessKeyId}  ${k.createdAt}`);
      return 0;
    }
    default: {
      await adminRequest(target, 'DELETE', `keys/${encodeURIComponent(arg)}`);
      out(`deleted access key ${arg}`);
      return 0;
    }
  }
}
