// SPDX-License-Identifier: GPL-2.0
/*
 * disagg_net authentication: the connection's key from the kernel key
 * retention service, and the HMAC-SHA256 proofs of the handshake (see
 * include/disagg/proto.h, above struct dg_auth).
 *
 * A node or a mount names its key (key=NAME); the secret is the payload of
 * a "logon" key (or, failing that, a "user" key) described "disagg:NAME",
 * found in the keyrings of the process that adds the node or mounts. The
 * connection keeps a reference to the key and reads its payload at each
 * handshake, so "keyctl update" takes effect at the next reconnect and
 * "keyctl revoke" stops reconnects. The secret is never copied out of the
 * key except into the HMAC transform's key schedule.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <crypto/algapi.h>
#include <crypto/hash.h>
#include <keys/user-type.h>
#include <linux/err.h>
#include <linux/key.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include "internal.h"

/* Look up "disagg:@name" as a logon key, then as a user key. */
static struct key *dg_auth_find_key(const char *name)
{
	char desc[sizeof("disagg:") + DG_NAME_MAX];
	struct key *key;

	snprintf(desc, sizeof(desc), "disagg:%s", name);
	key = request_key(&key_type_logon, desc, NULL);
	if (IS_ERR(key) && PTR_ERR(key) == -ENOKEY)
		key = request_key(&key_type_user, desc, NULL);
	return key;
}

/* Whether @name can be sent as an identity: printable, no spaces. */
static bool dg_auth_name_ok(const char *name)
{
	size_t i, len = strlen(name);

	if (!len || len > DG_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (name[i] <= ' ' || name[i] > '~')
			return false;
	return true;
}

/* Give the HMAC transform @key's secret; under the key's semaphore. */
static int dg_auth_setkey(struct dg_conn *c)
{
	const struct user_key_payload *up;
	int ret;

	down_read(&c->key->sem);
	up = user_key_payload_locked(c->key);
	if (!up)
		ret = -EKEYREVOKED;
	else if (up->datalen < DG_KEY_MIN || up->datalen > DG_KEY_MAX)
		ret = -EKEYREJECTED;
	else
		ret = crypto_shash_setkey(c->hmac, up->data, up->datalen);
	up_read(&c->key->sem);
	return ret;
}

/**
 * dg_auth_init - find the key a connection names and get ready to use it
 * @c: connection whose &dg_conn_params.key is set
 *
 * Context: process context of the caller of dg_conn_open() (its keyrings
 * are searched).
 * Return: 0; -EINVAL for a bad key name; -ENOKEY when no such key exists;
 * -EKEYREVOKED, -EKEYEXPIRED, -EACCES as request_key() says;
 * -EKEYREJECTED for a secret shorter than %DG_KEY_MIN or longer than
 * %DG_KEY_MAX bytes; -ENOMEM; -ENOENT when the kernel has no hmac(sha256).
 */
int dg_auth_init(struct dg_conn *c)
{
	struct key *key;
	int ret;

	if (!dg_auth_name_ok(c->p.key)) {
		pr_err("%s: bad key name (1-%u printable characters, no spaces)\n",
		       dg_conn_name(c), DG_NAME_MAX);
		return -EINVAL;
	}
	key = dg_auth_find_key(c->p.key);
	if (IS_ERR(key)) {
		ret = PTR_ERR(key);
		pr_err("%s: no usable key \"disagg:%s\" (logon or user) in the caller's keyrings: %d\n",
		       dg_conn_name(c), c->p.key, ret);
		return ret;
	}
	c->hmac = crypto_alloc_shash("hmac(sha256)", 0, 0);
	if (IS_ERR(c->hmac)) {
		ret = PTR_ERR(c->hmac);
		c->hmac = NULL;
		key_put(key);
		pr_err("%s: cannot get hmac(sha256): %d\n", dg_conn_name(c), ret);
		return ret;
	}
	c->key = key;
	ret = dg_auth_setkey(c);
	if (ret) {
		pr_err("%s: key \"disagg:%s\" cannot be used (%d): the secret must be %u-%u bytes\n",
		       dg_conn_name(c), c->p.key, ret, DG_KEY_MIN, DG_KEY_MAX);
		dg_auth_release(c);
	}
	return ret;
}

/**
 * dg_auth_release - drop the key and the transform
 * @c: connection
 *
 * Context: process context.
 */
void dg_auth_release(struct dg_conn *c)
{
	if (c->hmac)
		crypto_free_shash(c->hmac);
	c->hmac = NULL;
	key_put(c->key);
	c->key = NULL;
}

/*
 * HMAC-SHA256 over label || client nonce || server nonce || server_id ||
 * client_id || role || id_len || id, into @mac.
 */
static int dg_auth_proof(struct dg_conn *c, const char *label,
			 const u8 *cnonce, const u8 *snonce, u8 *mac)
{
	SHASH_DESC_ON_STACK(desc, c->hmac);
	size_t id_len = strlen(c->p.key);
	__le64 sid = cpu_to_le64(c->server_id);
	__le64 cid = cpu_to_le64(c->p.client_id);
	__le32 role = cpu_to_le32(c->p.role);
	__le16 len = cpu_to_le16(id_len);
	int ret;

	desc->tfm = c->hmac;
	ret = crypto_shash_init(desc) ?:
	      crypto_shash_update(desc, label, DG_AUTH_LABEL_LEN) ?:
	      crypto_shash_update(desc, cnonce, DG_NONCE_LEN) ?:
	      crypto_shash_update(desc, snonce, DG_NONCE_LEN) ?:
	      crypto_shash_update(desc, (u8 *)&sid, sizeof(sid)) ?:
	      crypto_shash_update(desc, (u8 *)&cid, sizeof(cid)) ?:
	      crypto_shash_update(desc, (u8 *)&role, sizeof(role)) ?:
	      crypto_shash_update(desc, (u8 *)&len, sizeof(len)) ?:
	      crypto_shash_update(desc, c->p.key, id_len) ?:
	      crypto_shash_final(desc, mac);
	shash_desc_zero(desc);
	return ret;
}

/**
 * dg_auth_exchange - prove our key to the node and check its proof
 * @c: connection, with the hello reply's server id in &dg_conn.server_id
 * @cnonce: the nonce our hello carried
 * @snonce: the nonce of the node's hello reply
 * @token: set to the session's join token
 *
 * Context: process context, may sleep up to the connection's timeout.
 * Return: 0; -EKEYREJECTED when the node refused our proof or its own
 * proof was wrong; -EKEYREVOKED when the key was revoked; -EBADMSG for a
 * malformed reply; as dg_call() otherwise.
 */
int dg_auth_exchange(struct dg_conn *c, const u8 *cnonce, const u8 *snonce,
		     u8 *token)
{
	struct dg_auth_reply rep;
	u8 want[DG_MAC_LEN];
	struct dg_auth *a;
	unsigned int noio;
	size_t id_len = strlen(c->p.key);
	u32 len;
	int ret;

	a = kzalloc(sizeof(*a), GFP_NOIO);
	if (!a)
		return -ENOMEM;
	/* The swap device this connection serves may be what reclaim needs. */
	noio = memalloc_noio_save();
	ret = dg_auth_setkey(c) ?:
	      dg_auth_proof(c, DG_AUTH_LABEL_CLIENT, cnonce, snonce, a->mac);
	memalloc_noio_restore(noio);
	if (ret)
		goto out;
	a->id_len = cpu_to_le16(id_len);
	memcpy(a->id, c->p.key, id_len);

	ret = dg_call(c, DG_OP_AUTH, a, sizeof(*a), &rep, sizeof(rep), &len);
	if (ret == -EKEYREJECTED)
		dg_conn_err(c, "the node refused key \"disagg:%s\": it has no such key, or another secret\n",
			    c->p.key);
	if (ret)
		goto out;
	if (len != sizeof(rep)) {
		ret = -EBADMSG;
		goto out;
	}
	noio = memalloc_noio_save();
	ret = dg_auth_proof(c, DG_AUTH_LABEL_SERVER, cnonce, snonce, want);
	memalloc_noio_restore(noio);
	if (ret)
		goto out;
	if (crypto_memneq(want, rep.mac, DG_MAC_LEN)) {
		dg_conn_err(c, "the node's proof of key \"disagg:%s\" is wrong: it does not hold the key\n",
			    c->p.key);
		ret = -EKEYREJECTED;
		goto out;
	}
	memcpy(token, rep.token, DG_TOKEN_LEN);
out:
	memzero_explicit(want, sizeof(want));
	kfree_sensitive(a);
	return ret;
}
