/**
 * `arca image`: what a KVM host or an operator needs beyond the Glance clients.
 *
 *   arca image url ID [--expires SECONDS]    a signed, expiring URL of the image data, for QEMU's curl driver
 *                                            (`qemu-img convert URL …`, `-drive file=URL,readonly=on`)
 *   arca image import s3://BUCKET/KEY --name NAME [--disk-format raw] [--container-format bare]
 *                                            registers an existing S3 object as an image, without copying it
 */
import { parseArgs } from 'node:util';
import { ArcaError } from '../common/errors.js';
import { signedImageUrl } from '../images/signing.js';
import { callApi, connection, connectionOptions, requestToken } from './token.js';

const usage = `usage: arca image url ID [--expires SECONDS] [connection options]
       arca image import s3://BUCKET/KEY --name NAME [--disk-format raw] [--container-format bare]
                         [--visibility private|shared|community|public] [--token TOKEN] [connection options]

connection options: --endpoint URL (default $ARCA_IMAGE_URL, else http://127.0.0.1:9292)
                    --access-key AK --secret-key SK (default $ARCA_ACCESS_KEY/$ARCA_SECRET_KEY) | --data DIR`;

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'url') {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { ...connectionOptions, expires: { type: 'string', default: '3600' } } });
    if (positionals.length !== 1) throw new ArcaError('InvalidConfig', usage);
    const ttl = Number(values.expires);
    if (!Number.isInteger(ttl) || ttl < 1) throw new ArcaError('InvalidConfig', `--expires ${values.expires}: not a number of seconds`);
    const c = connection(values);
    process.stdout.write(`${signedImageUrl(c.endpoint, positionals[0], c.cred, Math.floor(Date.now() / 1000) + ttl)}\n`);
    return 0;
  }
  if (sub === 'import') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        ...connectionOptions,
        name: { type: 'string' },
        'disk-format': { type: 'string', default: 'raw' },
        'container-format': { type: 'string', default: 'bare' },
        visibility: { type: 'string' },
        token: { type: 'string' },
      },
    });
    if (positionals.length !== 1 || !/^s3:\/\/[^/]+\/.+/.test(positionals[0])) throw new ArcaError('InvalidConfig', usage);
    const c = connection(values);
    const token = values.token ?? (await requestToken(c, 300)).token;
    const created = (await callApi(`${c.endpoint}/v2/images`, {
      method: 'POST',
      token,
      body: {
        name: values.name ?? positionals[0].split('/').at(-1),
        disk_format: values['disk-format'],
        container_format: values['container-format'],
        ...(values.visibility ? { visibility: values.visibility } : {}),
      },
    })) as { id: string };
    try {
      const image = await callApi(`${c.endpoint}/v2/images/${created.id}/locations`, { method: 'POST', token, body: { url: positionals[0] } });
      process.stdout.write(`${JSON.stringify(image, null, 2)}\n`);
    } catch (err) {
      await callApi(`${c.endpoint}/v2/images/${created.id}`, { method: 'DELETE', token }).catch(() => undefined);
      throw err;
    }
    return 0;
  }
  process.stdout.write(`${usage}\n`);
  return sub === '-h' || sub === '--help' ? 0 : 2;
}
