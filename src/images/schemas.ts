/**
 * The JSON schemas served at `/v2/schemas/*`. glanceclient validates images against the served image schema
 * and builds its CLI options from it, so it is Glance's own (schemas/image.json, with `os_hash_value.maxLength`
 * 128 — glanceclient's bundled copy says 32 and then rejects SHA-512 values), loaded once at start.
 */
import imageSchema from './schemas/image.json' with { type: 'json' };

const memberSchema = {
  name: 'member',
  properties: {
    created_at: { type: 'string', description: 'Date and time of image member creation' },
    image_id: { type: 'string', description: 'An identifier for the image', pattern: '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$' },
    member_id: { type: 'string', description: 'An identifier for the image member (tenantId)' },
    schema: { type: 'string', readOnly: true },
    status: { type: 'string', enum: ['pending', 'accepted', 'rejected'], description: 'The status of this image member' },
    updated_at: { type: 'string', description: 'Date and time of last modification of image member' },
  },
};

/** Schemas by name (`image`, `images`, `member`, `members`). */
export const SCHEMAS: Readonly<Record<string, unknown>> = {
  image: imageSchema,
  images: {
    name: 'images',
    properties: {
      images: { type: 'array', items: imageSchema },
      schema: { type: 'string' },
      first: { type: 'string' },
      next: { type: 'string' },
    },
    links: [
      { rel: 'first', href: '{first}' },
      { rel: 'next', href: '{next}' },
      { rel: 'describedby', href: '{schema}' },
    ],
  },
  member: memberSchema,
  members: {
    name: 'members',
    properties: { members: { type: 'array', items: memberSchema }, schema: { type: 'string' } },
    links: [
      { rel: 'self', href: '{self}' },
      { rel: 'schema', href: '{schema}' },
    ],
  },
};
