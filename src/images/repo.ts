/**
 * Image records and memberships, kept as small JSON objects in a system bucket through the ObjectStore, so
 * every proxy sees the same images:
 *
 *   images/<image id>               the ImageRecord
 *   members/<image id>/<account>    a MemberRecord
 *   tokens/<sha256 of token>        a stored API token (see tokens.ts)
 *
 * Each object's listing row carries the record itself (or, for a record too large for a listing row, the
 * fields lists filter and sort on, with `partial: true`), so listing images is one listing walk by key prefix
 * rather than one read per image.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { BucketInfo, ObjectStore } from '../proxy/object-store.js';
import type { ImageRecord } from './record.js';

/** The account that owns the image system bucket: Arca's own (no user can hold it). */
export const imagesSystemAccount = '.arca';

/** Largest record carried whole in its listing row (the row travels in node headers, base64-encoded). */
const maxListingRecordBytes = 6 * 1024;

export type MemberStatus = 'pending' | 'accepted' | 'rejected';

export interface MemberRecord {
  image_id: string;
  member_id: string;
  status: MemberStatus;
  created_at: string;
  updated_at: string;
}

/** A listing row's view of an image: the whole record, or (`partial`) the record without its properties. */
export type ImageRow = ImageRecord & { partial?: true };

async function readJson<T>(body: Readable, max = 1024 * 1024): Promise<T> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of body as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > max) {
      body.destroy();
      throw new Error('record too large');
    }
    chunks.push(c);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
}

export class ImageRepo {
  private bucket: Promise<BucketInfo> | undefined;

  /**
   * @param bucketName the system bucket (a name S3 cannot address)
   * @param policy its storage policy (records are small: a replicated policy suits them)
   */
  constructor(
    private readonly store: ObjectStore,
    private readonly bucketName: string,
    private readonly policy: string,
  ) {}

  /** The system bucket, created on first use (so a proxy starts even while nodes are still coming up). */
  private system(): Promise<BucketInfo> {
    this.bucket ??= (async () => {
      const existing = await this.store.getBucket(this.bucketName);
      if (existing) return existing;
      const outcome = await this.store.createBucket(imagesSystemAccount, this.bucketName, { policy: this.policy });
      if (outcome === 'taken') throw new Error(`the image system bucket ${this.bucketName} belongs to another account`);
      const created = await this.store.getBucket(this.bucketName);
      if (!created) throw new Error(`the image system bucket ${this.bucketName} is not readable after creation`);
      return created;
    })();
    this.bucket.catch(() => {
      this.bucket = undefined;
    });
    return this.bucket;
  }

  private async putJson(key: string, value: unknown, listing: Record<string, unknown>): Promise<void> {
    const body = Buffer.from(JSON.stringify(value));
    await this.store.putObject(await this.system(), key, {
      body: Readable.from([body]),
      contentType: 'application/json',
      listing,
      finish: () => ({ etag: createHash('md5').update(body).digest('hex') }),
    });
  }

  private async getJson<T>(key: string): Promise<T | undefined> {
    // Newest: records are read, changed and written back (status moves); an older copy must not be the base.
    const got = await this.store.getObject(await this.system(), key, { newest: true });
    return got ? readJson<T>(got.body) : undefined;
  }

  /** Every listing row under `prefix`, page by page. */
  private async *rows(prefix: string): AsyncGenerator<{ key: string; listing?: Record<string, unknown> }> {
    const bucket = await this.system();
    let marker: string | undefined;
    for (;;) {
      const page = await this.store.listObjects(bucket, { prefix, marker, limit: 10_000 });
      for (const e of page.entries) if ('key' in e) yield { key: e.key, listing: e.listing };
      const last = page.entries.at(-1);
      if (!page.truncated || !last) return;
      marker = 'key' in last ? last.key : last.prefix;
    }
  }

  async getImage(id: string): Promise<ImageRecord | undefined> {
    return this.getJson<ImageRecord>(`images/${id}`);
  }

  async putImage(r: ImageRecord): Promise<void> {
    const whole = JSON.stringify(r);
    const row: Record<string, unknown> =
      Buffer.byteLength(whole) <= maxListingRecordBytes ? { image: r } : { image: { ...r, properties: {}, partial: true } };
    await this.putJson(`images/${r.id}`, r, row);
  }

  async deleteImage(id: string): Promise<void> {
    await this.store.deleteObject(await this.system(), `images/${id}`);
  }

  /** Every image as its listing row has it; a `partial` row lacks properties (read the record for them). */
  async *listImages(): AsyncGenerator<ImageRow> {
    for await (const row of this.rows('images/')) {
      const image = row.listing?.image as ImageRow | undefined;
      if (image) yield image;
      else {
        // A row written without the record (should not happen): read it.
        const r = await this.getImage(row.key.slice('images/'.length));
        if (r) yield r;
      }
    }
  }

  async getMember(imageId: string, member: string): Promise<MemberRecord | undefined> {
    return this.getJson<MemberRecord>(`members/${imageId}/${member}`);
  }

  async putMember(m: MemberRecord): Promise<void> {
    await this.putJson(`members/${m.image_id}/${m.member_id}`, m, { member: m });
  }

  async deleteMember(imageId: string, member: string): Promise<boolean> {
    return (await this.store.deleteObject(await this.system(), `members/${imageId}/${member}`)).existed;
  }

  /** Members of one image, or (no image) every membership. */
  async listMembers(imageId?: string): Promise<MemberRecord[]> {
    const out: MemberRecord[] = [];
    for await (const row of this.rows(imageId ? `members/${imageId}/` : 'members/')) {
      const m = row.listing?.member as MemberRecord | undefined;
      if (m) out.push(m);
    }
    return out;
  }

  /** A small JSON document under `key` (tokens). */
  async putDoc(key: string, value: Record<string, unknown>): Promise<void> {
    await this.putJson(key, value, {});
  }

  async getDoc<T>(key: string): Promise<T | undefined> {
    return this.getJson<T>(key);
  }

  async deleteDoc(key: string): Promise<boolean> {
    return (await this.store.deleteObject(await this.system(), key)).existed;
  }

  async listDocs(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const row of this.rows(prefix)) keys.push(row.key);
    return keys;
  }
}
