/**
 * Image members (sharing with other accounts). https://docs.openstack.org/api-ref/image/v2/#sharing
 */
import { caller, empty, type Handler, json, readJson } from '../context.js';
import type { MemberRecord } from '../repo.js';

function memberView(m: MemberRecord): Record<string, unknown> {
  return { ...m, schema: '/v2/schemas/member' };
}

export const listMembers: Handler<'listMembers'> = async (req, { images }) => {
  const members = await images.listMembers(caller(req), req.op.id);
  return json(200, { members: members.map(memberView), schema: '/v2/schemas/members' });
};

export const addMember: Handler<'addMember'> = async (req, { images }) => json(200, memberView(await images.addMember(caller(req), req.op.id, await readJson(req))));

export const showMember: Handler<'showMember'> = async (req, { images }) => json(200, memberView(await images.showMember(caller(req), req.op.id, req.op.member)));

export const updateMember: Handler<'updateMember'> = async (req, { images }) =>
  json(200, memberView(await images.updateMember(caller(req), req.op.id, req.op.member, await readJson(req))));

export const deleteMember: Handler<'deleteMember'> = async (req, { images }) => {
  await images.deleteMember(caller(req), req.op.id, req.op.member);
  return empty(204);
};
