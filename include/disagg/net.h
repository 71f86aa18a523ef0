/* SPDX-License-Identifier: GPL-2.0 */
/*
 * disagg_net: the transport module shared by disagg_swap and disaggfs.
 *
 * This header is the whole API other modules may use. The transport
 * backends (rdma, tcp) are added behind it by later changes.
 */
#ifndef DISAGG_NET_H
#define DISAGG_NET_H

#include <linux/kobject.h>
#include <disagg/proto.h>

/**
 * dg_sysfs_root - the /sys/kernel/disagg directory
 *
 * Owned by disagg_net; users add their own directories beneath it and
 * remove them before they unload (a module reference keeps it alive).
 *
 * Context: any.
 * Return: the kobject of /sys/kernel/disagg.
 */
struct kobject *dg_sysfs_root(void);

/**
 * dg_hdr_init - fill in a message header
 * @h: header to fill
 * @opcode: &enum dg_opcode value, with %DG_OP_REPLY for replies
 * @length: payload bytes that follow
 * @status: 0, or a positive errno value in a reply
 * @req_id: request id
 *
 * Context: any.
 */
void dg_hdr_init(struct dg_hdr *h, u16 opcode, u32 length, u32 status,
		 u64 req_id);

/**
 * dg_hdr_check - validate a header received from the network
 * @h: the header, as received (little endian)
 * @max_payload: largest payload the caller can accept, at most
 *	%DG_MAX_PAYLOAD
 *
 * Checks magic, major version and payload length. Never trusts anything
 * else in @h before this returns 0.
 *
 * Context: any.
 * Return: 0; -EBADMSG for a wrong magic; -EPROTONOSUPPORT for another
 * major version; -EMSGSIZE for a payload larger than @max_payload.
 */
int dg_hdr_check(const struct dg_hdr *h, u32 max_payload);

#endif /* DISAGG_NET_H */
