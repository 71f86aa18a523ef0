/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * disagg wire protocol, shared by the kernel modules (C) and the daemons (C++).
 *
 * Every message starts with a struct dg_hdr followed by @length bytes of
 * payload. All fields are fixed width and little endian; every structure has
 * explicit padding and its size is checked at compile time on both sides.
 * Variable-length fields (paths, names) are length-prefixed, never fixed
 * arrays. A receiver checks magic, major version and length before it looks
 * at anything else, and never trusts a length it has not bounded.
 *
 * Versioning: the major number changes when an existing message changes
 * layout or meaning; peers with different majors refuse each other. The minor
 * number grows with new optional messages or feature bits; peers use the
 * lower of the two minors and the intersection of their feature bits.
 */
#ifndef DISAGG_PROTO_H
#define DISAGG_PROTO_H

#include <linux/types.h>
#ifdef __KERNEL__
#include <linux/build_bug.h>
#define DG_STATIC_ASSERT(e, msg) static_assert(e, msg)
#elif defined(__cplusplus)
#define DG_STATIC_ASSERT(e, msg) static_assert(e, msg)
#else
#define DG_STATIC_ASSERT(e, msg) _Static_assert(e, msg)
#endif

#define DG_PROTO_MAGIC		0x47414744u	/* bytes "DGAG" on the wire */
#define DG_PROTO_MAJOR		2
#define DG_PROTO_MINOR		0

/* Largest payload any message may carry; bigger lengths are malformed. */
#define DG_MAX_PAYLOAD		(1u << 20)
/* Page size of remote-memory transfers, independent of the host's. */
#define DG_PAGE_SIZE		4096u
/* Longest name (node, client, key identity) carried in a message. */
#define DG_NAME_MAX		64u
/* Length of handshake nonces and HMAC-SHA256 digests. */
#define DG_NONCE_LEN		32u
#define DG_MAC_LEN		32u
/* Length of the token that lets extra RDMA queue pairs join a session. */
#define DG_TOKEN_LEN		16u

/* Default TCP/RDMA-CM ports. */
#define DG_MEMD_PORT		7470
#define DG_STORD_PORT		7471

/**
 * enum dg_opcode - message types
 *
 * A reply carries the request's opcode with %DG_OP_REPLY set, the request's
 * @req_id, and a status: 0, or a positive Linux errno value below 512 (the
 * kernel client takes anything else for a malformed reply).
 * A reply with a nonzero status has an empty payload; a server answers an
 * opcode it does not know with EOPNOTSUPP. Requests carry status 0.
 * %DG_OP_BYE has no reply; %DG_OP_MEM_EVICT's reply is empty. Either side
 * may send %DG_OP_HEARTBEAT. A server that requires authentication answers
 * every request but HELLO, AUTH and BYE with EACCES until AUTH succeeded,
 * and closes the connection after a failed AUTH. Opcodes with %DG_OP_REPLY set are not values
 * of this enum: hold opcodes in a u16.
 */
enum dg_opcode {
	DG_OP_HELLO		= 0x0001, /* struct dg_hello / dg_hello_reply */
	DG_OP_AUTH		= 0x0002, /* struct dg_auth / dg_auth_reply */
	DG_OP_HEARTBEAT		= 0x0003, /* empty / empty */
	DG_OP_BYE		= 0x0004, /* empty, no reply */
	DG_OP_STATUS		= 0x0005, /* empty / JSON text */

	/* memory node: 0x01xx */
	DG_OP_MEM_INFO		= 0x0100, /* empty / struct dg_mem_info */
	DG_OP_MEM_ALLOC		= 0x0101, /* struct dg_mem_alloc / dg_mem_slab */
	DG_OP_MEM_FREE		= 0x0102, /* struct dg_mem_free / empty */
	DG_OP_MEM_READ		= 0x0103, /* struct dg_mem_rw / page data (TCP) */
	DG_OP_MEM_WRITE		= 0x0104, /* struct dg_mem_rw + data / empty (TCP) */
	DG_OP_MEM_EVICT		= 0x0105, /* server->client: struct dg_mem_free */
	DG_OP_MEM_RESIZE	= 0x0106, /* struct dg_mem_resize / empty (admin) */

	/* storage node: 0x02xx; struct dg_fs_req, see below */
	DG_OP_FS_GETATTR	= 0x0200, /* path / dg_fs_attr */
	DG_OP_FS_SETATTR	= 0x0201, /* path / dg_fs_attr */
	DG_OP_FS_READ		= 0x0202, /* path, offset, count / data */
	DG_OP_FS_WRITE		= 0x0203, /* path, offset, data / dg_fs_write_reply */
	DG_OP_FS_CREATE		= 0x0204, /* path, mode, flags / dg_fs_attr */
	DG_OP_FS_MKDIR		= 0x0205, /* path, mode / dg_fs_attr */
	DG_OP_FS_MKNOD		= 0x0206, /* path, mode, rdev / dg_fs_attr */
	DG_OP_FS_SYMLINK	= 0x0207, /* path, name2 = target / dg_fs_attr */
	DG_OP_FS_LINK		= 0x0208, /* path = existing, name2 = new / dg_fs_attr */
	DG_OP_FS_UNLINK		= 0x0209, /* path / empty */
	DG_OP_FS_RMDIR		= 0x020a, /* path / empty */
	DG_OP_FS_RENAME		= 0x020b, /* path = old, name2 = new, flags / empty */
	DG_OP_FS_READLINK	= 0x020c, /* path / target bytes */
	DG_OP_FS_READDIR	= 0x020d, /* path, offset = cookie, count / dirents */
	DG_OP_FS_STATFS		= 0x020e, /* path / dg_fs_statfs */
	DG_OP_FS_FSYNC		= 0x020f, /* path, flags / empty */
	DG_OP_FS_GETXATTR	= 0x0210, /* path, name2 = name, count / dg_fs_xattr_reply */
	DG_OP_FS_SETXATTR	= 0x0211, /* path, name2 = name, flags, value / empty */
	DG_OP_FS_LISTXATTR	= 0x0212, /* path, count / dg_fs_xattr_reply */
	DG_OP_FS_REMOVEXATTR	= 0x0213, /* path, name2 = name / empty */
	DG_OP_FS_READDIRPLUS	= 0x0214, /* as READDIR / dirents with attributes */

	DG_OP_REPLY		= 0x8000,
};

/**
 * struct dg_hdr - header of every message
 * @magic: %DG_PROTO_MAGIC
 * @major: %DG_PROTO_MAJOR of the sender
 * @minor: %DG_PROTO_MINOR of the sender
 * @opcode: an &enum dg_opcode value, with %DG_OP_REPLY on replies
 * @length: payload bytes that follow the header, at most %DG_MAX_PAYLOAD
 * @status: 0 on requests; on replies 0 or a positive errno value
 * @req_id: chosen by the requester, echoed in the reply
 */
struct dg_hdr {
	__le32	magic;
	__u8	major;
	__u8	minor;
	__le16	opcode;
	__le32	length;
	__le32	status;
	__le64	req_id;
};
DG_STATIC_ASSERT(sizeof(struct dg_hdr) == 24, "dg_hdr is 24 bytes");

/* Feature bits exchanged in the handshake. */
#define DG_FEAT_RDMA		(1u << 0)	/* one-sided RDMA page access */
#define DG_FEAT_AUTH		(1u << 1)	/* HMAC-SHA256 challenge-response */
#define DG_FEAT_MQ		(1u << 2)	/* messages on several queues */
#define DG_FEAT_RDMA_FS		(1u << 3)	/* file data one-sided: %DG_FS_IO_SEGS */
#define DG_FEAT_FSATTR		(1u << 4)	/* dg_fs_entry_reply, READDIRPLUS */
#define DG_FEAT_RMATTR		(1u << 5)	/* UNLINK, RMDIR: dg_fs_entry_reply */
#define DG_FEAT_KNOWN		(DG_FEAT_RDMA | DG_FEAT_AUTH | DG_FEAT_MQ | \
				 DG_FEAT_RDMA_FS | DG_FEAT_FSATTR | DG_FEAT_RMATTR)

/*
 * Messages on several queues (%DG_FEAT_MQ, RDMA only). Without it every
 * two-sided message travels on queue 0 of a connection. With it, a client
 * whose connect requests say @nr_queues (&struct dg_cm_private) sends its
 * requests on any of its first dg_mq_queues(@nr_queues) queue pairs (its
 * message queues; the others carry one-sided RDMA only), never more than
 * dg_mq_credits(@nr_queues) of them unanswered on one queue. The server
 * posts at least one receive more than that on every message queue and
 * answers each request on the queue pair it arrived on; its own requests
 * (HEARTBEAT, MEM_EVICT, BYE) go on queue 0, and the client answers them
 * there. HELLO and AUTH travel on queue 0 (the others join after them).
 * A reply is matched to its request by req_id, whichever queue it took.
 */
#define DG_MQ_WINDOW		16u	/* requests unanswered, all queues */

static inline unsigned int dg_mq_queues(unsigned int nr_queues)
{
	return nr_queues / 2 ? nr_queues / 2 : 1;
}

static inline unsigned int dg_mq_credits(unsigned int nr_queues)
{
	return (DG_MQ_WINDOW + dg_mq_queues(nr_queues) - 1) /
	       dg_mq_queues(nr_queues);
}

/* Roles a client announces in its hello. */
enum dg_role {
	DG_ROLE_SWAP	= 1,	/* disagg_swap: remote memory */
	DG_ROLE_FS	= 2,	/* disaggfs: storage */
	DG_ROLE_CTL	= 3,	/* disaggctl and tests: status only */
};

/**
 * struct dg_hello - first message on every connection, client to server
 * @major: protocol major of the client (equal to the header's)
 * @minor: protocol minor of the client (equal to the header's)
 * @role: an &enum dg_role value
 * @features: DG_FEAT_* bits the client supports
 * @reserved0: zero
 * @client_id: random 64-bit id kept across reconnects, so a server can hand
 *	a returning client its resources back
 * @nonce: client's challenge for the server (used with %DG_FEAT_AUTH)
 * @name_len: bytes used in @name, at most %DG_NAME_MAX
 * @reserved: zero
 * @name: client's name, for logs; not NUL-terminated, any bytes (escape it
 *	before logging); bytes past @name_len are sent as zero and ignored
 */
struct dg_hello {
	__le16	major;
	__le16	minor;
	__le32	role;
	__le32	features;
	__le32	reserved0;
	__le64	client_id;
	__u8	nonce[DG_NONCE_LEN];
	__le16	name_len;
	__u8	reserved[6];
	__u8	name[DG_NAME_MAX];
};
DG_STATIC_ASSERT(sizeof(struct dg_hello) == 128, "dg_hello is 128 bytes");

/**
 * struct dg_hello_reply - server's answer to &struct dg_hello
 * @major: protocol major of the server
 * @minor: minor both sides use (the lower of the two)
 * @features: features both sides use (the intersection)
 * @reserved0: zero
 * @server_id: random id chosen when the server started; a change tells a
 *	reconnecting client the server restarted and lost its state
 * @nonce: server's challenge for the client (used with %DG_FEAT_AUTH)
 * @token: without %DG_FEAT_AUTH, the session's join token (see &struct
 *	dg_cm_private); with it, zero (the token comes in &struct dg_auth_reply)
 */
struct dg_hello_reply {
	__le16	major;
	__le16	minor;
	__le32	features;
	__le64	reserved0;
	__le64	server_id;
	__u8	nonce[DG_NONCE_LEN];
	__u8	token[DG_TOKEN_LEN];
};
DG_STATIC_ASSERT(sizeof(struct dg_hello_reply) == 72, "dg_hello_reply is 72 bytes");

/*
 * Authentication (%DG_FEAT_AUTH). Client and server share a secret per
 * client identity (the key's name). After HELLO, the client sends AUTH with
 * its identity and its proof; the server answers with its own proof and the
 * session's join token, or fails the call with EKEYREJECTED (unknown
 * identity or wrong proof: the two are not told apart) and closes. The
 * client then checks the server's proof and fails the connection with
 * EKEYREJECTED when it is wrong. A client that holds a key refuses a server
 * that does not offer %DG_FEAT_AUTH (EACCES); a server that has keys
 * answers a HELLO without %DG_FEAT_AUTH with EACCES.
 *
 * Each proof is HMAC-SHA256(secret, m) over this byte string m (integers
 * little endian), with @label the 8 bytes "DGAUTHC2" for the client's proof
 * and "DGAUTHS2" for the server's:
 *
 *	label[8] || client nonce[32] || server nonce[32] || server_id[8] ||
 *	client_id[8] || role[4] || id_len[2] || id[id_len]
 *
 * Both nonces are fresh random bytes per connection, so a recorded proof
 * is worth nothing on another connection; the labels keep a client's proof
 * from being reflected as the server's. Proofs are compared in constant
 * time. Nothing after the handshake is authenticated or encrypted: the
 * model is a network where hosts can connect to anything and forge
 * handshakes, not one where they can rewrite a live connection's packets.
 */
#define DG_AUTH_LABEL_LEN	8u
#define DG_AUTH_LABEL_CLIENT	"DGAUTHC2"
#define DG_AUTH_LABEL_SERVER	"DGAUTHS2"
/* Longest secret either side accepts, in bytes. */
#define DG_KEY_MAX		256u
/* Shortest secret either side accepts, in bytes. */
#define DG_KEY_MIN		16u

/**
 * struct dg_auth - the client's identity and proof of its secret
 * @mac: client proof, see above
 * @id_len: bytes used in @id, 1..%DG_NAME_MAX
 * @reserved: zero
 * @id: the identity (key name): printable ASCII without spaces; bytes past
 *	@id_len are sent as zero
 */
struct dg_auth {
	__u8	mac[DG_MAC_LEN];
	__le16	id_len;
	__u8	reserved[6];
	__u8	id[DG_NAME_MAX];
};
DG_STATIC_ASSERT(sizeof(struct dg_auth) == 104, "dg_auth is 104 bytes");

/**
 * struct dg_auth_reply - the server's proof, and the join token
 * @mac: server proof, see above
 * @token: random, issued to this session only after it authenticated;
 *	queue pairs 1.. of an RDMA connection carry it in their
 *	&struct dg_cm_private to join the session
 */
struct dg_auth_reply {
	__u8	mac[DG_MAC_LEN];
	__u8	token[DG_TOKEN_LEN];
};
DG_STATIC_ASSERT(sizeof(struct dg_auth_reply) == 48, "dg_auth_reply is 48 bytes");

/**
 * struct dg_cm_private - private data of an RDMA CM connect request
 * @magic: %DG_PROTO_MAGIC
 * @major: protocol major of the client
 * @minor: protocol minor of the client
 * @qid: index of this queue pair among the client's, from 0
 * @nr_queues: queue pairs the client opens to this server
 * @reserved: zero
 * @client_id: as in &struct dg_hello
 * @token: zero on queue 0; on the others, the session's join token
 *
 * A client opens @nr_queues RC queue pairs to a node, each its own rdma_cm
 * connection. Queue 0 connects first and carries the handshake (HELLO,
 * AUTH) and other two-sided messages. The others connect after it: the
 * server puts a queue pair in queue 0's session (its protection domain, so
 * the remote keys of the client's slabs work on all of its queue pairs and
 * on no one else's) only when @token is that session's join token, @qid is
 * free and @nr_queues matches, and rejects it otherwise. A server without
 * keys issues a join token too, in the HELLO reply's stead: see
 * &struct dg_hello_reply.
 */
struct dg_cm_private {
	__le32	magic;
	__u8	major;
	__u8	minor;
	__le16	qid;
	__le16	nr_queues;
	__u8	reserved[6];
	__le64	client_id;
	__u8	token[DG_TOKEN_LEN];
};
DG_STATIC_ASSERT(sizeof(struct dg_cm_private) == 40, "dg_cm_private is 40 bytes");

/**
 * struct dg_mem_info - a memory node's capacity
 * @capacity: bytes the node exports
 * @free: bytes not handed to any client
 * @slab_size: bytes per slab the node hands out
 * @nr_clients: connected clients
 * @reserved: zero
 */
struct dg_mem_info {
	__le64	capacity;
	__le64	free;
	__le64	slab_size;
	__le32	nr_clients;
	__le32	reserved;
};
DG_STATIC_ASSERT(sizeof(struct dg_mem_info) == 32, "dg_mem_info is 32 bytes");

/**
 * struct dg_mem_alloc - ask for one slab
 * @size: slab size in bytes, a multiple of %DG_PAGE_SIZE
 * @tag: client's own number for the slab (its index in the device), echoed
 *	in &struct dg_mem_slab and in status output
 */
struct dg_mem_alloc {
	__le64	size;
	__le64	tag;
};
DG_STATIC_ASSERT(sizeof(struct dg_mem_alloc) == 16, "dg_mem_alloc is 16 bytes");

/**
 * struct dg_mem_slab - a slab given to the client
 * @slab_id: server's handle for the slab
 * @tag: the client's tag from &struct dg_mem_alloc
 * @addr: remote virtual address of the slab's first byte (RDMA)
 * @size: bytes in the slab
 * @rkey: remote key of the slab's own memory region (RDMA), else 0
 * @flags: %DG_SLAB_RESUMED when the client already held this tag (after a
 *	reconnect) and the slab keeps its contents; otherwise it is new and
 *	reads as zeros
 *
 * Allocation is idempotent per (client_id, tag): asking again for a tag the
 * client holds returns the same slab, with keys valid on this connection.
 */
struct dg_mem_slab {
	__le64	slab_id;
	__le64	tag;
	__le64	addr;
	__le64	size;
	__le32	rkey;
	__le32	flags;
};
#define DG_SLAB_RESUMED		(1u << 0)
DG_STATIC_ASSERT(sizeof(struct dg_mem_slab) == 40, "dg_mem_slab is 40 bytes");

/**
 * struct dg_mem_free - give a slab back (or, as %DG_OP_MEM_EVICT, be asked to)
 * @slab_id: the slab
 */
struct dg_mem_free {
	__le64	slab_id;
};
DG_STATIC_ASSERT(sizeof(struct dg_mem_free) == 8, "dg_mem_free is 8 bytes");

/**
 * struct dg_mem_resize - change a memory node's capacity at runtime
 * @capacity: bytes the node exports from now on: a multiple of its slab
 *	size (&struct dg_mem_info.slab_size), at least one slab
 * @reserved: zero
 *
 * Only an admin may ask (a key marked admin; on a node without keys, a
 * %DG_ROLE_CTL client): anyone else gets EPERM, a capacity that is not a
 * slab multiple, below one slab or above 2^50 EINVAL. Growing takes effect
 * at once. Shrinking below what clients hold makes the node ask them for
 * slabs back with %DG_OP_MEM_EVICT, and it refuses new slabs (ENOSPC)
 * until they have released enough; the reply does not wait for that.
 */
struct dg_mem_resize {
	__le64	capacity;
	__le64	reserved;
};
DG_STATIC_ASSERT(sizeof(struct dg_mem_resize) == 16, "dg_mem_resize is 16 bytes");

/**
 * struct dg_mem_rw - page read or write over a transport without RDMA
 * @slab_id: the slab
 * @offset: byte offset in the slab, a multiple of %DG_PAGE_SIZE
 * @len: bytes, a multiple of %DG_PAGE_SIZE, at most %DG_MEM_RW_MAX
 * @reserved: zero
 *
 * A write's data follows this structure in the same payload.
 */
struct dg_mem_rw {
	__le64	slab_id;
	__le64	offset;
	__le32	len;
	__le32	reserved;
};
DG_STATIC_ASSERT(sizeof(struct dg_mem_rw) == 24, "dg_mem_rw is 24 bytes");

/* Largest page-aligned transfer that fits one payload with its dg_mem_rw. */
#define DG_MEM_RW_MAX	((DG_MAX_PAYLOAD - sizeof(struct dg_mem_rw)) & ~(DG_PAGE_SIZE - 1))

/*
 * Storage-node messages.
 *
 * Every request is one struct dg_fs_req, then @path_len bytes of path, then
 * @name2_len bytes of a second string (a rename's or link's new path, a
 * symlink's target, an xattr name), then @data_len bytes of data (a write's
 * or setxattr's bytes). Strings are not NUL-terminated and may not contain
 * NUL bytes.
 *
 * A path is relative to the exported root: components separated by single
 * '/', no leading or trailing '/', no empty, "." or ".." component; the
 * root itself is ".". The server resolves every path beneath its root only
 * (no absolute paths, no "..", no symlink leading out, no magic links) and
 * answers a path it refuses with EXDEV, a malformed one with EINVAL. Paths
 * of the final component (create, unlink, rename...) are resolved as the
 * parent directory plus one name; symlinks in the final component are not
 * followed except by READ, WRITE, SETATTR's truncate, FSYNC and STATFS.
 * GETATTR describes the final component itself (lstat).
 *
 * The server keeps no state a client's correctness depends on: any request
 * can be sent again to a restarted server and means the same thing.
 *
 * Every request carries the caller's credentials (&struct dg_fs_cred, as
 * NFS's AUTH_SYS does): the server maps them by its export options (root
 * squashed by default) and acts with them, so its own permission checks
 * apply; a new file gets the caller's fsuid and fsgid as the server's
 * filesystem assigns them (a set-group-ID directory's group, for one).
 */

/* Longest path or second string, in bytes (PATH_MAX without the NUL). */
#define DG_FS_PATH_MAX		4095u
/* Longest xattr name and value (XATTR_NAME_MAX, XATTR_SIZE_MAX). */
#define DG_FS_XATTR_NAME_MAX	255u
#define DG_FS_XATTR_SIZE_MAX	65536u
/* Most data bytes one READ or WRITE carries. */
#define DG_FS_IO_MAX		65536u
/* Largest fs message, header included: what both sides must accept. */
#define DG_FS_MSG_MAX		(80u * 1024)

/* Most supplementary groups a request carries (AUTH_SYS's limit). */
#define DG_FS_NGROUPS		16u

/**
 * struct dg_fs_cred - who asks
 * @uid: the caller's fsuid (in the initial user namespace)
 * @gid: the caller's fsgid
 * @ngroups: entries used in @groups, 0..%DG_FS_NGROUPS (a caller with more
 *	sends the first %DG_FS_NGROUPS)
 * @reserved: zero
 * @groups: supplementary groups; entries past @ngroups are zero
 */
struct dg_fs_cred {
	__le32	uid;
	__le32	gid;
	__le32	ngroups;
	__le32	reserved;
	__le32	groups[DG_FS_NGROUPS];
};
DG_STATIC_ASSERT(sizeof(struct dg_fs_cred) == 80, "dg_fs_cred is 80 bytes");

/* dg_fs_req.valid bits for SETATTR (like the kernel's ATTR_*). */
#define DG_FS_SET_MODE		(1u << 0)
#define DG_FS_SET_UID		(1u << 1)
#define DG_FS_SET_GID		(1u << 2)
#define DG_FS_SET_SIZE		(1u << 3)
#define DG_FS_SET_ATIME		(1u << 4)	/* to @atime */
#define DG_FS_SET_MTIME		(1u << 5)	/* to @mtime */
#define DG_FS_SET_ATIME_NOW	(1u << 6)	/* to the server's clock */
#define DG_FS_SET_MTIME_NOW	(1u << 7)
#define DG_FS_SET_KNOWN		0xffu

/* dg_fs_req.flags: CREATE */
#define DG_FS_CREATE_EXCL	(1u << 0)	/* EEXIST if it exists */
/* RENAME (as renameat2) */
#define DG_FS_RENAME_NOREPLACE	(1u << 0)
#define DG_FS_RENAME_EXCHANGE	(1u << 1)
/* FSYNC */
#define DG_FS_FSYNC_DATA	(1u << 0)	/* fdatasync */
/* SETXATTR (as setxattr(2)) */
#define DG_FS_XATTR_CREATE	(1u << 0)
#define DG_FS_XATTR_REPLACE	(1u << 1)
/* WRITE */
#define DG_FS_WRITE_SYNC	(1u << 0)	/* durable before the reply */
/* READ and WRITE, with %DG_FEAT_RDMA_FS (see &struct dg_fs_seg) */
#define DG_FS_IO_SEGS		(1u << 8)	/* data part: segments, not data */
#define DG_FS_IO_INVALIDATE	(1u << 9)	/* reply by SEND with invalidate */

/**
 * struct dg_fs_req - every storage-node request
 * @path_len: bytes of path following this structure, 1..%DG_FS_PATH_MAX
 * @name2_len: bytes of the second string after the path, or 0
 * @data_len: bytes of data after the second string, or 0
 * @flags: DG_FS_* flags of the opcode
 * @valid: SETATTR: DG_FS_SET_* bits; else 0
 * @mode: CREATE, MKDIR, MKNOD: type and permission bits; SETATTR: new mode
 * @uid: SETATTR's new owner; else 0
 * @gid: SETATTR's new group; else 0
 * @rdev: MKNOD: device number (Linux new_encode_dev)
 * @count: READ, READDIR: most bytes wanted; GETXATTR, LISTXATTR: the
 *	caller's buffer size (0: only the size is wanted)
 * @offset: READ, WRITE: file offset; READDIR: cookie from the previous
 *	entry (0 at the start); SETATTR: new size
 * @atime_sec: SETATTR times (seconds since the epoch, nanoseconds)
 * @mtime_sec: see @atime_sec
 * @atime_nsec: see @atime_sec
 * @mtime_nsec: see @atime_sec
 * @cred: the caller
 */
struct dg_fs_req {
	__le32	path_len;
	__le32	name2_len;
	__le32	data_len;
	__le32	flags;
	__le32	valid;
	__le32	mode;
	__le32	uid;
	__le32	gid;
	__le32	rdev;
	__le32	count;
	__le64	offset;
	__le64	atime_sec;
	__le64	mtime_sec;
	__le32	atime_nsec;
	__le32	mtime_nsec;
	struct dg_fs_cred cred;
};
DG_STATIC_ASSERT(sizeof(struct dg_fs_req) == 152, "dg_fs_req is 152 bytes");

/*
 * One-sided file data (%DG_FEAT_RDMA_FS). A client offers the feature in its
 * HELLO; the server grants it over RDMA only (never over TCP) and to the fs
 * role only. With it, a READ or WRITE may carry %DG_FS_IO_SEGS: its data part
 * is then not file data but 1..%DG_FS_SEGS_MAX &struct dg_fs_seg (so
 * @data_len is a multiple of 16), naming memory of the client registered
 * with its protection domain, and @count is the transfer's size, the sum of
 * the segments' lengths, 1..%DG_FS_RDMA_IO_MAX. Every segment has a length
 * of at least 1 and @addr + @len does not wrap. A request that breaks one of
 * these rules is answered EINVAL and not carried out; one with
 * %DG_FS_IO_SEGS on a connection without the feature (TCP, or not
 * negotiated) EPROTO.
 *
 * READ: the server reads up to @count bytes from the file and puts them
 * into the segments in order with RDMA WRITE (it fills the first segment
 * before the second; a short read leaves the tail untouched), then sends
 * the reply, a &struct dg_fs_rdma_read_reply, on the same queue pair: RC
 * ordering makes the data visible before the reply arrives.
 * WRITE: the server fetches @count bytes from the segments with RDMA READ
 * and writes them to the file, then replies as to any WRITE
 * (&struct dg_fs_write_reply). A WRITE with segments carries no inline data.
 *
 * The client's memory must allow the server's access (REMOTE_WRITE for a
 * READ, REMOTE_READ for a WRITE) until the reply arrives; an access the
 * client's keys do not allow (a bad rkey, an address out of its region)
 * fails on the server's side and ends the whole connection, as any
 * completion error does. Errors found before any transfer (EINVAL, ENOENT,
 * EBUSY...) are ordinary error replies.
 *
 * Remote invalidation is the client's choice: with %DG_FS_IO_INVALIDATE
 * (only with %DG_FS_IO_SEGS, and then every segment must carry the same
 * @rkey, one memory region per request) the server sends the successful
 * reply as SEND with invalidate of that @rkey, as NFS/RDMA and NVMe/RDMA
 * servers do for fast-registration MRs. Without it the reply is a plain
 * SEND. A client must still check the receive completion (IBV_WC_WITH_INV)
 * and invalidate locally when the server did not: error replies are plain
 * SENDs. Memory registered by ibv_reg_mr() in user space cannot be
 * invalidated remotely (rxe and mlx5 refuse it with a remote access error),
 * so user-space clients leave the flag clear.
 */
#define DG_FS_SEGS_MAX		4u
/* Most bytes one READ or WRITE with %DG_FS_IO_SEGS moves. */
#define DG_FS_RDMA_IO_MAX	(1024u * 1024)

/**
 * struct dg_fs_seg - a piece of client memory for one-sided file data
 * @addr: remote address of the first byte (as registered by the client)
 * @len: bytes, at least 1
 * @rkey: the client's remote key for it
 */
struct dg_fs_seg {
	__le64	addr;
	__le32	len;
	__le32	rkey;
};
DG_STATIC_ASSERT(sizeof(struct dg_fs_seg) == 16, "dg_fs_seg is 16 bytes");

/**
 * struct dg_fs_rdma_read_reply - answer to a READ with %DG_FS_IO_SEGS
 * @count: bytes read and written into the client's segments (0 at EOF)
 * @reserved: zero
 *
 * The payload of the READ reply instead of the data (which went by RDMA
 * WRITE); the client knows which form to expect from its request.
 */
struct dg_fs_rdma_read_reply {
	__le32	count;
	__le32	reserved;
};
DG_STATIC_ASSERT(sizeof(struct dg_fs_rdma_read_reply) == 8,
		 "dg_fs_rdma_read_reply is 8 bytes");

/**
 * struct dg_fs_attr - a file's attributes (from lstat)
 * @ino: inode number on the server
 * @dev: device of the server's filesystem; (@dev, @ino) is unique
 * @size: bytes
 * @blocks: 512-byte blocks allocated
 * @atime_sec: times, seconds since the epoch and nanoseconds
 * @mtime_sec: see @atime_sec
 * @ctime_sec: see @atime_sec
 * @atime_nsec: see @atime_sec
 * @mtime_nsec: see @atime_sec
 * @ctime_nsec: see @atime_sec
 * @mode: type and permission bits
 * @nlink: links
 * @uid: owner
 * @gid: group
 * @rdev: device number of a device file (new_encode_dev)
 * @blksize: preferred I/O size
 * @reserved: zero
 */
struct dg_fs_attr {
	__le64	ino;
	__le64	dev;
	__le64	size;
	__le64	blocks;
	__le64	atime_sec;
	__le64	mtime_sec;
	__le64	ctime_sec;
	__le32	atime_nsec;
	__le32	mtime_nsec;
	__le32	ctime_nsec;
	__le32	mode;
	__le32	nlink;
	__le32	uid;
	__le32	gid;
	__le32	rdev;
	__le32	blksize;
	__le32	reserved;
};
DG_STATIC_ASSERT(sizeof(struct dg_fs_attr) == 96, "dg_fs_attr is 96 bytes");

/**
 * struct dg_fs_write_reply - answer to a write
 * @count: bytes written
 * @reserved: zero
 * @attr: the file's attributes after the write
 */
struct dg_fs_write_reply {
	__le32			count;
	__le32			reserved;
	struct dg_fs_attr	attr;
};
DG_STATIC_ASSERT(sizeof(struct dg_fs_write_reply) == 104,
		 "dg_fs_write_reply is 104 bytes");

/**
 * struct dg_fs_dirent - one directory entry in a READDIR reply
 * @ino: inode number
 * @cookie: pass as the next READDIR's offset to continue after this entry
 * @name_len: bytes of name that follow, 1..255
 * @type: DT_* value
 * @reserved: zero
 *
 * The name follows, then zero padding to a multiple of 8 bytes. A READDIR
 * reply is a struct dg_fs_readdir_reply and then @nr entries; "." and ".."
 * are not sent. It holds at most @count bytes in all.
 */
struct dg_fs_dirent {
	__le64	ino;
	__le64	cookie;
	__le16	name_len;
	__u8	type;
	__u8	reserved[5];
};
DG_STATIC_ASSERT(sizeof(struct dg_fs_dirent) == 24, "dg_fs_dirent is 24 bytes");

/**
 * struct dg_fs_readdir_reply - head of a READDIR reply
 * @nr: entries that follow
 * @eof: 1 when the last entry of the directory is in this reply
 */
struct dg_fs_readdir_reply {
	__le32	nr;
	__le32	eof;
};
DG_STATIC_ASSERT(sizeof(struct dg_fs_readdir_reply) == 8,
		 "dg_fs_readdir_reply is 8 bytes");

/**
 * struct dg_fs_entry_reply - answer to a name change, with %DG_FEAT_FSATTR
 * @attr: the object the new name names, after the change (CREATE, MKDIR,
 *	MKNOD, SYMLINK: the new object; LINK: the linked file; RENAME: the
 *	file now at the new name)
 * @dir: the directory holding the new name, after the change
 * @old_dir: RENAME: the directory of the old name after the change (the
 *	same as @dir within one directory); else a copy of @dir
 *
 * With %DG_FEAT_FSATTR negotiated, CREATE, MKDIR, MKNOD, SYMLINK, LINK and
 * RENAME are answered with this instead of a struct dg_fs_attr (RENAME:
 * instead of an empty reply), so the client needs no GETATTR of the
 * object or of the directories afterwards. A reply of the old form is
 * still valid: a client accepts both (a node restarted without the
 * feature answers the old way).
 *
 * With %DG_FEAT_RMATTR negotiated too, UNLINK and RMDIR are answered with
 * this instead of an empty reply: @attr all zero (no object: the name is
 * gone), @dir the directory after the change, @old_dir a copy of @dir.
 */
struct dg_fs_entry_reply {
	struct dg_fs_attr	attr;
	struct dg_fs_attr	dir;
	struct dg_fs_attr	old_dir;
};
DG_STATIC_ASSERT(sizeof(struct dg_fs_entry_reply) == 288,
		 "dg_fs_entry_reply is 288 bytes");

/**
 * struct dg_fs_direntplus - one directory entry in a READDIRPLUS reply
 * @attr: the entry's attributes (lstat) when the reply was built; @attr.mode
 *	0 when the entry vanished between listing and lstat (no attributes)
 * @cookie: as &struct dg_fs_dirent
 * @name_len: as &struct dg_fs_dirent
 * @type: as &struct dg_fs_dirent
 * @reserved: zero
 *
 * READDIRPLUS (%DG_FEAT_FSATTR) takes READDIR's request and answers with a
 * struct dg_fs_readdir_reply and then @nr of these, each followed by its
 * name and zero padding to a multiple of 8 bytes; the entry's inode number
 * is @attr.ino.
 */
struct dg_fs_direntplus {
	struct dg_fs_attr	attr;
	__le64	cookie;
	__le16	name_len;
	__u8	type;
	__u8	reserved[5];
};
DG_STATIC_ASSERT(sizeof(struct dg_fs_direntplus) == 112,
		 "dg_fs_direntplus is 112 bytes");

/**
 * struct dg_fs_statfs - answer to STATFS (from statvfs)
 * @blocks: total blocks of @frsize bytes
 * @bfree: free blocks
 * @bavail: blocks free for unprivileged users
 * @files: inodes
 * @ffree: free inodes
 * @bsize: preferred block size
 * @frsize: fragment size (unit of the block counts)
 * @namelen: longest name
 * @reserved: zero
 */
struct dg_fs_statfs {
	__le64	blocks;
	__le64	bfree;
	__le64	bavail;
	__le64	files;
	__le64	ffree;
	__le32	bsize;
	__le32	frsize;
	__le32	namelen;
	__le32	reserved;
};
DG_STATIC_ASSERT(sizeof(struct dg_fs_statfs) == 56, "dg_fs_statfs is 56 bytes");

/**
 * struct dg_fs_xattr_reply - answer to GETXATTR and LISTXATTR
 * @size: bytes of the value (or of the NUL-separated name list)
 * @reserved: zero
 *
 * With a request @count of 0 only this structure is sent; otherwise the
 * value follows (ERANGE when it is longer than @count).
 */
struct dg_fs_xattr_reply {
	__le32	size;
	__le32	reserved;
};
DG_STATIC_ASSERT(sizeof(struct dg_fs_xattr_reply) == 8,
		 "dg_fs_xattr_reply is 8 bytes");

#endif /* DISAGG_PROTO_H */
