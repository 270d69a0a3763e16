/**
 * The image status machine, as data: Glance's table of allowed moves (glance/domain `Image.valid_state_targets`).
 * Every status change goes through {@link moveStatus}, which refuses any move the table does not list.
 *
 *   queued ──upload──▶ saving ──▶ active ◀──▶ deactivated
 *     │  ▲               │          │
 *     │  └── failed ─────┘          └──▶ deleted
 *     ├──stage──▶ uploading ──import──▶ importing ──▶ active
 *     │                                   └── failed ──▶ queued
 *     └──▶ deleted
 */
import { GlanceError } from './errors.js';

export const IMAGE_STATUSES = ['queued', 'saving', 'uploading', 'importing', 'active', 'deactivated', 'killed', 'pending_delete', 'deleted'] as const;
export type ImageStatus = (typeof IMAGE_STATUSES)[number];

/** The allowed moves: `from → [to, …]`. A move to the same status is not a move and is never listed. */
export const STATUS_MOVES: Readonly<Record<ImageStatus, readonly ImageStatus[]>> = {
  queued: ['saving', 'uploading', 'importing', 'active', 'deleted'],
  saving: ['active', 'killed', 'deleted', 'queued'],
  uploading: ['importing', 'queued', 'deleted'],
  importing: ['active', 'deleted', 'queued'],
  active: ['pending_delete', 'deleted', 'deactivated'],
  deactivated: ['active', 'deleted'],
  killed: ['deleted'],
  pending_delete: ['deleted'],
  deleted: [],
};

/** True when the table allows `from → to`. */
export function canMove(from: ImageStatus, to: ImageStatus): boolean {
  return STATUS_MOVES[from].includes(to);
}

/** Sets `image.status` to `to`, or throws 409 Conflict (Glance's wording) when the table does not allow it. */
export function moveStatus(image: { status: ImageStatus }, to: ImageStatus): void {
  if (!canMove(image.status, to)) {
    throw new GlanceError('Conflict', `Image status transition from ${image.status} to ${to} is not allowed`);
  }
  image.status = to;
}
