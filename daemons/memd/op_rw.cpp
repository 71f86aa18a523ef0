// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// MEM_READ and MEM_WRITE: page access through messages, for transports
// without one-sided access (TCP). On RDMA the client reads and writes the
// slab itself, and these answer EOPNOTSUPP. Only slabs attached to this
// connection are reachable (another client's slab, a freed one or one not
// yet asked for again after a reconnect: ENOENT); the range must lie inside
// the slab (EINVAL). The codec has checked alignment and length.
#include "service.hpp"

#include <cerrno>
#include <cstring>

namespace disagg::memd {

using namespace proto;

namespace {

bool in_bounds(const Slab &slab, const MemRw &rw)
{
	return rw.len <= slab.size && rw.offset <= slab.size - rw.len;
}

}  // namespace

void MemService::op_read(Session &s, const Hdr &h, const MemRw &rw)
{
	if (transport_.one_sided())
		return reply_error(s, h.opcode, h.req_id, EOPNOTSUPP);
	Slab *slab = session_slab(s, rw.slab_id);
	if (!slab)
		return reply_error(s, h.opcode, h.req_id, ENOENT);
	if (!in_bounds(*slab, rw))
		return reply_error(s, h.opcode, h.req_id, EINVAL);
	reply(s, h, Data{ByteSpan(slab->mem + rw.offset, rw.len)});
}

void MemService::op_write(Session &s, const Hdr &h, const MemWrite &w)
{
	if (transport_.one_sided())
		return reply_error(s, h.opcode, h.req_id, EOPNOTSUPP);
	Slab *slab = session_slab(s, w.rw.slab_id);
	if (!slab)
		return reply_error(s, h.opcode, h.req_id, ENOENT);
	if (!in_bounds(*slab, w.rw) || w.data.size() != w.rw.len)
		return reply_error(s, h.opcode, h.req_id, EINVAL);
	std::memcpy(slab->mem + w.rw.offset, w.data.data(), w.rw.len);
	reply(s, h, Empty{});
}

}  // namespace disagg::memd
