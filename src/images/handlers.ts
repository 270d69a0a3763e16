/**
 * One handler per operation kind; the mapped type makes a missing handler a compile error.
 */
import type { Handler } from './context.js';
import type { GlanceOpKind } from './operations.js';
import { addLocation, downloadData, stageData, uploadData } from './ops/data.js';
import { addTag, createImage, deactivate, deleteImage, deleteTag, listImages, reactivate, showImage, updateImage } from './ops/images.js';
import { addMember, deleteMember, listMembers, showMember, updateMember } from './ops/members.js';
import { createToken, importImage, importInfo, schema, storesInfo, versions } from './ops/meta.js';

export const handlers: { [K in GlanceOpKind]: Handler<K> } = {
  versions,
  schema,
  listImages,
  createImage,
  showImage,
  updateImage,
  deleteImage,
  uploadData,
  downloadData,
  stageData,
  importImage,
  addLocation,
  addTag,
  deleteTag,
  deactivate,
  reactivate,
  listMembers,
  addMember,
  showMember,
  updateMember,
  deleteMember,
  importInfo,
  storesInfo,
  createToken,
};
