/**
 * ImageService: the image records' domain operations — create, show, list, update, delete, tags,
 * deactivate/reactivate, members — with Glance's rules, over ImageRepo. Every change to a record is a
 * read-modify-write under a per-image lock of this proxy ({@link ImageService.mutate}); status changes go
 * through the status table. Proxies do not lock each other: two proxies changing one image at the same moment
 * is last-writer-wins, as for any object.
 */
import { randomUUID } from 'node:crypto';
import type { Principal } from '../common/identity.js';
import { Digester } from '../common/checksums.js';
import type { BucketInfo, ObjectStore } from '../proxy/object-store.js';
import { assertOwner, canSee, isAdmin, notFound, ownsImage } from './access.js';
import { applyCreate, applyPatch, checkTags, type PatchOp } from './attributes.js';
import { GlanceError } from './errors.js';
import { listed, type ListQuery, page, parseListQuery } from './listing.js';
import { glanceTime, type ImageRecord, newImageRecord } from './record.js';
import type { ImageRepo, MemberRecord, MemberStatus } from './repo.js';
import { moveStatus } from './status.js';
import type { ImageStores } from './stores.js';

/** The image service's settings (a slice of the proxy config). */
export interface ImagesConfig {
  /** Largest image accepted, bytes (Glance's `image_size_cap`). */
  sizeCap: number;
  /** Ports `web-download` may fetch from; empty allows any. */
  webDownloadPorts: readonly number[];
  /** How long this proxy reuses a record it read, for data reads (ms); changes elsewhere show after this. */
  recordCacheMs: number;
}

/** Glance's default `image_member_quota`. */
export const MEMBER_QUOTA = 128;

export class ImageService {
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly cache = new Map<string, { record: ImageRecord | undefined; until: number }>();
  private readonly memberCache = new Map<string, { status: MemberStatus | undefined; until: number }>();

  constructor(
    readonly store: ObjectStore,
    readonly repo: ImageRepo,
    readonly stores: ImageStores,
    readonly config: ImagesConfig,
    readonly log: (line: string) => void,
  ) {}

  // --- records -----------------------------------------------------------------------------------------

  /** Runs `fn` alone among this proxy's changes to image `id`. */
  async locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(id) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(id, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(id) === tail) this.locks.delete(id);
    }
  }

  private async read(id: string, cached: boolean): Promise<ImageRecord | undefined> {
    const now = Date.now();
    const hit = this.cache.get(id);
    if (cached && hit && hit.until > now) return hit.record;
    const record = await this.repo.getImage(id);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(id, { record, until: now + this.config.recordCacheMs });
    return record;
  }

  private async membership(p: Principal, image: ImageRecord, cached: boolean): Promise<MemberStatus | undefined> {
    if (image.visibility !== 'shared' || ownsImage(p, image)) return undefined;
    const key = `${image.id}/${p.account}`;
    const now = Date.now();
    const hit = this.memberCache.get(key);
    if (cached && hit && hit.until > now) return hit.status;
    const status = (await this.repo.getMember(image.id, p.account))?.status;
    if (this.memberCache.size > 10_000) this.memberCache.clear();
    this.memberCache.set(key, { status, until: now + this.config.recordCacheMs });
    return status;
  }

  /** The image if `p` may see it, else 404. `cached` allows a record up to `recordCacheMs` old (data reads). */
  async visible(p: Principal, id: string, cached = false): Promise<ImageRecord> {
    const r = await this.read(id, cached);
    if (!r || !canSee(p, r, await this.membership(p, r, cached))) throw notFound(id);
    return r;
  }

  private async write(r: ImageRecord): Promise<void> {
    await this.repo.putImage(r);
    this.cache.set(r.id, { record: r, until: Date.now() + this.config.recordCacheMs });
  }

  /**
   * Reads image `id` (404 unless `p` sees it), lets `fn` change a copy, stamps `updated_at` and writes it, all
   * under the image's lock. `fn` throws to change nothing.
   */
  async mutate(p: Principal | undefined, id: string, fn: (r: ImageRecord) => void | Promise<void>): Promise<ImageRecord> {
    return this.locked(id, async () => {
      const current = p ? await this.visible(p, id) : await this.read(id, false);
      if (!current) throw notFound(id);
      const r = structuredClone(current);
      await fn(r);
      r.updated_at = glanceTime();
      await this.write(r);
      return r;
    });
  }

  async create(p: Principal, body: unknown): Promise<ImageRecord> {
    const r = newImageRecord(randomUUID(), p.account);
    applyCreate(r, body, p);
    return this.locked(r.id, async () => {
      if (await this.repo.getImage(r.id)) throw new GlanceError('Conflict', `Image with identifier ${r.id} already exists!`);
      await this.write(r);
      return r;
    });
  }

  async update(p: Principal, id: string, ops: PatchOp[]): Promise<ImageRecord> {
    return this.mutate(p, id, (r) => {
      assertOwner(p, r);
      applyPatch(r, ops, p);
    });
  }

  /** Deletes the record, then the data it owns (a user's S3 object registered as an image stays). */
  async delete(p: Principal, id: string): Promise<void> {
    const r = await this.locked(id, async () => {
      const current = await this.visible(p, id);
      assertOwner(p, current, 'delete this image');
      if (current.protected) throw new GlanceError('Forbidden', `Image ${id} is protected and cannot be deleted.`);
      await this.repo.deleteImage(id);
      this.cache.delete(id);
      return current;
    });
    for (const loc of r.locations) {
      if (loc.external) continue;
      await this.deleteData(loc.bucket, loc.key);
    }
    await this.deleteData((await this.stores.default()).name, id);
    for (const m of await this.repo.listMembers(id)) await this.repo.deleteMember(id, m.member_id);
  }

  /** Deletes an image object, logging (not failing) when it cannot: the record is what clients see. */
  async deleteData(bucketName: string, key: string): Promise<void> {
    try {
      const bucket = await this.store.getBucket(bucketName);
      if (bucket) await this.store.deleteObject(bucket, key);
    } catch (err) {
      this.log(`images: could not delete ${bucketName}/${key}: ${(err as Error).message}`);
    }
  }

  /** MD5 and SHA-512 of an object, read once. */
  async digestObject(bucket: BucketInfo, key: string): Promise<{ md5: string; sha512: string }> {
    const got = await this.store.getObject(bucket, key);
    if (!got) throw new GlanceError('Conflict', `${bucket.name}/${key} disappeared while it was read.`);
    const d = new Digester({ md5: true, sha512: true });
    for await (const chunk of got.body as AsyncIterable<Buffer>) d.update(chunk);
    const r = d.digest();
    return { md5: r.md5Hex!, sha512: r.sha512Hex! };
  }

  async addTag(p: Principal, id: string, tag: string): Promise<void> {
    await this.mutate(p, id, (r) => {
      assertOwner(p, r);
      if (!r.tags.includes(tag)) r.tags = checkTags([...r.tags, tag]);
    });
  }

  async deleteTag(p: Principal, id: string, tag: string): Promise<void> {
    await this.mutate(p, id, (r) => {
      assertOwner(p, r);
      if (!r.tags.includes(tag)) throw new GlanceError('NotFound', `Tag ${tag} not found`);
      r.tags = r.tags.filter((t) => t !== tag);
    });
  }

  /** Deactivate (`active → deactivated`) or reactivate; the same status again is a no-op, as in Glance. */
  async setActive(p: Principal, id: string, active: boolean): Promise<void> {
    const target = active ? 'active' : 'deactivated';
    const current = await this.visible(p, id);
    assertOwner(p, current, `${active ? 'reactivate' : 'deactivate'} this image`);
    if (current.status === target) return;
    await this.mutate(p, id, (r) => {
      if (r.status !== 'active' && r.status !== 'deactivated') {
        throw new GlanceError('Forbidden', `Not allowed to ${active ? 'reactivate' : 'deactivate'} image in status '${r.status}'`);
      }
      moveStatus(r, target);
    });
  }

  // --- listing -----------------------------------------------------------------------------------------

  async list(p: Principal, params: URLSearchParams): Promise<{ images: ImageRecord[]; nextMarker?: string }> {
    const q: ListQuery = parseListQuery(params);
    const memberships = new Map<string, MemberStatus>();
    if (!isAdmin(p)) {
      for (const m of await this.repo.listMembers()) if (m.member_id === p.account) memberships.set(m.image_id, m.status);
    }
    const visible = new Map<string, ImageRecord>();
    const selected: ImageRecord[] = [];
    for await (let r of this.repo.listImages()) {
      const membership = memberships.get(r.id);
      if (!canSee(p, r, membership)) continue;
      if (r.partial && q.needsProperties) r = (await this.repo.getImage(r.id)) ?? r;
      visible.set(r.id, r);
      if (listed(p, r, membership, q) && q.predicates.every((f) => f(r))) selected.push(r);
    }
    const { images, more } = page(selected, q, visible);
    const whole = await Promise.all(images.map(async (r) => ('partial' in r ? ((await this.repo.getImage(r.id)) ?? r) : r)));
    return { images: whole, nextMarker: more ? whole.at(-1)?.id : undefined };
  }

  // --- members -----------------------------------------------------------------------------------------

  private async sharedImage(p: Principal, id: string): Promise<ImageRecord> {
    const r = await this.visible(p, id);
    if (r.visibility !== 'shared') throw new GlanceError('Forbidden', `Only shared images have members.`);
    return r;
  }

  async listMembers(p: Principal, id: string): Promise<MemberRecord[]> {
    const r = await this.sharedImage(p, id);
    const all = await this.repo.listMembers(id);
    return ownsImage(p, r) ? all : all.filter((m) => m.member_id === p.account);
  }

  async showMember(p: Principal, id: string, member: string): Promise<MemberRecord> {
    const r = await this.sharedImage(p, id);
    if (!ownsImage(p, r) && member !== p.account) throw new GlanceError('NotFound', `Member ${member} not found`);
    const m = await this.repo.getMember(id, member);
    if (!m) throw new GlanceError('NotFound', `Member ${member} not found`);
    return m;
  }

  async addMember(p: Principal, id: string, body: unknown): Promise<MemberRecord> {
    const member = (body as { member?: unknown } | undefined)?.member;
    if (typeof member !== 'string' || member === '' || member.length > 255) throw new GlanceError('BadRequest', 'Member to be added not specified');
    return this.locked(`${id}/members`, async () => {
      const r = await this.sharedImage(p, id);
      assertOwner(p, r, 'share this image');
      if (member === r.owner) throw new GlanceError('Conflict', 'The owner of an image cannot be its member.');
      if (await this.repo.getMember(id, member)) throw new GlanceError('Conflict', `Member ${member} already exists on image ${id}`);
      if ((await this.repo.listMembers(id)).length >= MEMBER_QUOTA) throw new GlanceError('RequestEntityTooLarge', `Attempted: ${MEMBER_QUOTA + 1}, Maximum: ${MEMBER_QUOTA}`);
      const now = glanceTime();
      const m: MemberRecord = { image_id: id, member_id: member, status: 'pending', created_at: now, updated_at: now };
      await this.repo.putMember(m);
      this.memberCache.delete(`${id}/${member}`);
      return m;
    });
  }

  /** Only the member itself accepts or rejects a share. */
  async updateMember(p: Principal, id: string, member: string, body: unknown): Promise<MemberRecord> {
    const status = (body as { status?: unknown } | undefined)?.status;
    if (status !== 'pending' && status !== 'accepted' && status !== 'rejected') throw new GlanceError('BadRequest', `Invalid status: ${JSON.stringify(status)}`);
    await this.sharedImage(p, id);
    if (member !== p.account) throw new GlanceError('Forbidden', 'Only the member may change its membership status.');
    const m = await this.repo.getMember(id, member);
    if (!m) throw new GlanceError('NotFound', `Member ${member} not found`);
    const updated: MemberRecord = { ...m, status, updated_at: glanceTime() };
    await this.repo.putMember(updated);
    this.memberCache.delete(`${id}/${member}`);
    return updated;
  }

  async deleteMember(p: Principal, id: string, member: string): Promise<void> {
    const r = await this.sharedImage(p, id);
    assertOwner(p, r, 'remove members of this image');
    if (!(await this.repo.deleteMember(id, member))) throw new GlanceError('NotFound', `Member ${member} not found`);
    this.memberCache.delete(`${id}/${member}`);
  }
}
