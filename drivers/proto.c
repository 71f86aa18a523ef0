// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel side of the wire protocol in include/disagg/proto.h: building and
 * checking message headers. Nothing received is used before dg_hdr_check().
 */
#include <linux/module.h>
#include <disagg/net.h>

void dg_hdr_init(struct dg_hdr *h, u16 opcode, u32 length, u32 status,
		 u64 req_id)
{
	h->magic = cpu_to_le32(DG_PROTO_MAGIC);
	h->major = DG_PROTO_MAJOR;
	h->minor = DG_PROTO_MINOR;
	h->opcode = cpu_to_le16(opcode);
	h->length = cpu_to_le32(length);
	h->status = cpu_to_le32(status);
	h->req_id = cpu_to_le64(req_id);
}
EXPORT_SYMBOL_GPL(dg_hdr_init);

int dg_hdr_check(const struct dg_hdr *h, u32 max_payload)
{
	if (le32_to_cpu(h->magic) != DG_PROTO_MAGIC)
		return -EBADMSG;
	if (h->major != DG_PROTO_MAJOR)
		return -EPROTONOSUPPORT;
	if (le32_to_cpu(h->length) > min(max_payload, DG_MAX_PAYLOAD))
		return -EMSGSIZE;
	return 0;
}
EXPORT_SYMBOL_GPL(dg_hdr_check);
