/**
 * Who may see and change an image, as Glance's default policy has it. Owners are Arca accounts; the root user
 * is Glance's admin. An image the caller may not see is answered as missing (404), as Glance does.
 *
 *   public      everyone sees it and lists it
 *   community   everyone sees it; listed only with `visibility=community` (or to the owner)
 *   shared      the owner and its members see it; members list it once they accepted
 *   private     the owner only
 */
import type { Principal } from '../common/identity.js';
import { GlanceError } from './errors.js';
import type { ImageRecord } from './record.js';
import type { MemberStatus } from './repo.js';

export function isAdmin(p: Principal): boolean {
  return p.isRoot;
}

export function ownsImage(p: Principal, image: ImageRecord): boolean {
  return isAdmin(p) || image.owner === p.account;
}

/** Whether `p` may see `image`; `membership` is the caller's member status on it, if any. */
export function canSee(p: Principal, image: ImageRecord, membership: MemberStatus | undefined): boolean {
  if (ownsImage(p, image)) return true;
  switch (image.visibility) {
    case 'public':
    case 'community':
      return true;
    case 'shared':
      return membership !== undefined;
    case 'private':
      return false;
  }
}

/** 404 for an image the caller may not see. */
export function notFound(id: string): GlanceError {
  return new GlanceError('NotFound', `No image found with ID ${id}`);
}

/** Throws 403 unless `p` may change `image` (which it can already see). */
export function assertOwner(p: Principal, image: ImageRecord, what = 'modify this image'): void {
  if (!ownsImage(p, image)) throw new GlanceError('Forbidden', `You are not permitted to ${what}.`);
}
