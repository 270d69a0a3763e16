/** AbortMultipartUpload — https://docs.aws.amazon.com/AmazonS3/latest/API/API_AbortMultipartUpload.html */
import { emptyResponse, type Handler, ownBucket } from '../context.js';
import { deleteParts, deleteRecord, getUpload } from '../multipart.js';

export const abortMultipartUpload: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const key = req.key!;
  const uploadId = req.query.get('uploadId') ?? '';
  await getUpload(deps.store, bucket, key, uploadId);
  // The record goes first: from then on no part can be added, and the parts are garbage.
  await deleteRecord(deps.store, bucket, key, uploadId);
  await deleteParts(deps.store, bucket, key, uploadId);
  return emptyResponse(204);
};
