/**
 * `arca hook deploy|list|show|delete|bind|unbind|bindings`: WebAssembly hooks of a running cluster through
 * its admin API, as the root user (admin-client.ts says where the endpoint and keys come from).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ArcaError } from '../common/errors.js';
import { adminRequest, adminTarget } from './admin-client.js';

const usage = `usage: arca hook deploy NAME MODULE.wasm [--manifest FILE.json]
       arca hook list | show NAME | delete NAME
       arca hook bind BUCKET NAME --on put|get|event [--prefix P] [--suffix S] [--target-bucket B] [--param K=V]...
       arca hook bindings BUCKET
       arca hook unbind BUCKET BINDING_ID

A hook is a WebAssembly module (the ABI is in docs/hooks.md) with a manifest; without --manifest, MODULE.json
beside the module is used when it exists, else {"triggers": ["put","get","event"], "mode": "transform"}.`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      manifest: { type: 'string' },
      on: { type: 'string' },
      prefix: { type: 'string' },
      suffix: { type: 'string' },
      'target-bucket': { type: 'string' },
      param: { type: 'string', multiple: true, default: [] },
      json: { type: 'boolean' },
      data: { type: 'string', default: '.arca-data' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const [verb, a, b, ...extra] = positionals;
  const bad = () => new ArcaError('BadRequest', `bad arguments\n${usage}`);
  const target = () => adminTarget(process.env, values.data);
  const out = (v: unknown) => process.stdout.write(`${typeof v === 'string' ? v : JSON.stringify(v, null, 2)}\n`);
  const enc = encodeURIComponent;
  switch (verb) {
    case 'deploy': {
      if (!a || !b || extra.length) throw bad();
      const module = readFileSync(b);
      const manifestFile = values.manifest ?? b.replace(/\.wasm$/, '.json');
      let manifest: unknown = { triggers: ['put', 'get', 'event'], mode: 'transform' };
      try {
        manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
      } catch (err) {
        if (values.manifest) throw new ArcaError('InvalidConfig', `${manifestFile}: ${(err as Error).message}`);
      }
      const { hook } = (await adminRequest(target(), 'PUT', `hooks/${enc(a)}`, { manifest, module: module.toString('base64') })) as { hook: unknown };
      out(values.json ? hook : `deployed hook ${a} (${module.length} bytes)`);
      return 0;
    }
    case 'list':
      out(((await adminRequest(target(), 'GET', 'hooks')) as { hooks: unknown[] }).hooks);
      return 0;
    case 'show':
      if (!a) throw bad();
      out(((await adminRequest(target(), 'GET', `hooks/${enc(a)}`)) as { hook: unknown }).hook);
      return 0;
    case 'delete':
      if (!a) throw bad();
      await adminRequest(target(), 'DELETE', `hooks/${enc(a)}`);
      out(`deleted hook ${a}`);
      return 0;
    case 'bind': {
      if (!a || !b || extra.length || !values.on) throw bad();
      const params: Record<string, string> = {};
      for (const p of values.param as string[]) {
        const eq = p.indexOf('=');
        if (eq <= 0) throw new ArcaError('BadRequest', `--param ${p}: want KEY=VALUE`);
        params[p.slice(0, eq)] = p.slice(eq + 1);
      }
      const { binding } = (await adminRequest(target(), 'POST', `buckets/${enc(a)}/hooks`, {
        hook: b,
        on: values.on,
        prefix: values.prefix,
        suffix: values.suffix,
        targetBucket: values['target-bucket'],
        params: Object.keys(params).length ? params : undefined,
      })) as { binding: { id: string } };
      out(values.json ? binding : `bound hook ${b} to ${a} on ${values.on} (binding ${binding.id})`);
      return 0;
    }
    case 'bindings':
      if (!a) throw bad();
      out(((await adminRequest(target(), 'GET', `buckets/${enc(a)}/hooks`)) as { bindings: unknown[] }).bindings);
      return 0;
    case 'unbind':
      if (!a || !b) throw bad();
      await adminRequest(target(), 'DELETE', `buckets/${enc(a)}/hooks/${enc(b)}`);
      out(`removed binding ${b} of ${a}`);
      return 0;
    default:
      throw bad();
  }
}
