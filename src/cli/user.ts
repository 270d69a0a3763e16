/**
 * `arca user create|list|show|delete`: manage the users of a running cluster through its admin API, as the
 * root user (see admin-client.ts for where the endpoint and credentials come from).
 */
import { parseArgs } from 'node:util';
import { ArcaError } from '../common/errors.js';
import { adminRequest, adminTarget } from './admin-client.js';

const usage = `usage: arca user create NAME [--account ACCOUNT] [--access-key AK --secret-key SK] [--json]
       arca user list [--json]
       arca user show NAME [--json]
       arca user delete NAME

Talks to the cluster at ARCA_ENDPOINT as the root user (ARCA_ACCESS_KEY, ARCA_SECRET_KEY); both default to
the local cluster in --data (default ./.arca-data). A new user gets its own account unless --account names one.`;

interface User {
  name: string;
  account: string;
  createdAt: string;
}
interface Key {
  accessKeyId: string;
  secretAccessKey?: string;
  createdAt: string;
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      account: { type: 'string' },
      'access-key': { type: 'string' },
      'secret-key': { type: 'string' },
      json: { type: 'boolean' },
      data: { type: 'string', default: '.arca-data' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [verb, name, ...extra] = positionals;
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const needsName = verb === 'create' || verb === 'delete' || verb === 'show';
  if (!verb || (needsName && !name) || (!needsName && name) || extra.length || !['create', 'list', 'show', 'delete'].includes(verb)) {
    throw new ArcaError('BadRequest', `bad arguments\n${usage}`);
  }
  const target = adminTarget(process.env, values.data);
  const out = (text: string) => process.stdout.write(`${text}\n`);
  switch (verb) {
    case 'create': {
      if ((values['access-key'] === undefined) !== (values['secret-key'] === undefined)) {
        throw new ArcaError('BadRequest', 'give both --access-key and --secret-key, or neither');
      }
      const reply = (await adminRequest(target, 'POST', 'users', {
        name,
        account: values.account,
        accessKeyId: values['access-key'],
        secretAccessKey: values['secret-key'],
      })) as { user: User; key: Key };
      if (values.json) out(JSON.stringify(reply, null, 2));
      else out(`created user ${reply.user.name} in account ${reply.user.account}\n  access key: ${reply.key.accessKeyId}\n  secret key: ${reply.key.secretAccessKey}`);
      return 0;
    }
    case 'list': {
      const { users } = (await adminRequest(target, 'GET', 'users')) as { users: User[] };
      if (values.json) out(JSON.stringify(users, null, 2));
      else {
        const width = Math.max(4, ...users.map((u) => u.name.length));
        const accountWidth = Math.max(7, ...users.map((u) => u.account.length));
        out(`${'NAME'.padEnd(width)}  ${'ACCOUNT'.padEnd(accountWidth)}  CREATED`);
        for (const u of users) out(`${u.name.padEnd(width)}  ${u.account.padEnd(accountWidth)}  ${u.createdAt || "-"}`);
      }
      return 0;
    }
    case 'show': {
      const reply = (await adminRequest(target, 'GET', `users/${encodeURIComponent(name)}`)) as { user: User; keys: Key[] };
      if (values.json) out(JSON.stringify(reply, null, 2));
      else out(`user ${reply.user.name} in account ${reply.user.account}, created ${reply.user.createdAt}\n${reply.keys.map((k) => `  key ${k.accessKeyId} (created ${k.createdAt})`).join('\n')}`);
      return 0;
    }
    default: {
      await adminRequest(target, 'DELETE', `users/${encodeURIComponent(name)}`);
      out(`deleted user ${name} and its access keys`);
      return 0;
    }
  }
}
