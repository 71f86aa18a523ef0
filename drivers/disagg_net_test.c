// SPDX-License-Identifier: GPL-2.0
/*
 * disagg_net_test: exercises the transport API against a live memory node
 * when loaded, and refuses to load (returning the first error) if anything
 * is wrong. Used by selftests/transport; not for production nodes.
 *
 *   insmod disagg_net_test.ko addr=198.18.1.2:7470 src=198.18.1.1 pages=256
 *
 * It connects, asks the node for its capacity and one slab, writes @pages
 * pages with a pattern (half synchronously, half with many asynchronous
 * writes in flight), reads them back and compares every byte, checks that
 * a page never written reads as zeros and that an offset outside the slab
 * is refused, frees the slab and disconnects. Over RDMA the pages move by
 * one-sided RDMA WRITE and READ, over TCP as messages.
 *
 * With restart=1 it then waits (logging "waiting for the node to
 * restart") until the connection fails and comes back by itself, checks
 * that it was told the node restarted, and runs the round again.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/inet.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/completion.h>
#include <disagg/net.h>

static char *addr;
module_param(addr, charp, 0444);
MODULE_PARM_DESC(addr, "memory node, IP:PORT");
static char *src;
module_param(src, charp, 0444);
MODULE_PARM_DESC(src, "local address to connect from (optional)");
static char *transport = "rdma";
module_param(transport, charp, 0444);
MODULE_PARM_DESC(transport, "transport (rdma or tcp)");
static unsigned int pages = 256;
module_param(pages, uint, 0444);
MODULE_PARM_DESC(pages, "pages to write and read back");
static unsigned int queues;
module_param(queues, uint, 0444);
MODULE_PARM_DESC(queues, "queue pairs (0: one per CPU)");
static unsigned int timeout_ms = 5000;
module_param(timeout_ms, uint, 0444);
MODULE_PARM_DESC(timeout_ms, "connect and I/O timeout");
static bool restart;
module_param(restart, bool, 0444);
MODULE_PARM_DESC(restart, "after the first round, wait for the node to restart and run again");

/* Connection events seen, for restart=1. */
static DECLARE_COMPLETION(went_down);
static DECLARE_COMPLETION(came_back);
static int back_event = -1;

static void on_event(struct dg_conn *c, void *ctx, enum dg_conn_event ev)
{
	pr_info("connection event %d\n", ev);
	if (ev == DG_CONN_DOWN) {
		complete(&went_down);
	} else {
		WRITE_ONCE(back_event, ev);
		complete(&came_back);
	}
}

/* The node's MEM_EVICT: this test holds nothing worth moving. */
static int on_request(struct dg_conn *c, void *ctx, u16 opcode,
		      const void *payload, u32 len)
{
	pr_info("node request 0x%x, %u bytes: answered ENOENT\n", opcode, len);
	return -ENOENT;
}

/* Asynchronous writes in flight. */
struct async_ctl {
	atomic_t		left;
	atomic_t		err;	/* the first error */
	struct completion	done;
};

static void async_done(void *ctx, int err)
{
	struct async_ctl *a = ctx;

	if (err)
		atomic_cmpxchg(&a->err, 0, err);
	if (atomic_dec_and_test(&a->left))
		complete(&a->done);
}

/* The submitter holds one count of its own until async_wait(). */
static void async_init(struct async_ctl *a)
{
	atomic_set(&a->left, 1);
	atomic_set(&a->err, 0);
	init_completion(&a->done);
}

/*
 * Wait for what was posted; @ret is the posting error, if any, else the
 * first error a completion reported.
 */
static int async_wait(struct async_ctl *a, int ret)
{
	if (!atomic_dec_and_test(&a->left))
		wait_for_completion(&a->done);
	return ret ?: atomic_read(&a->err);
}

static void fill(struct page *page, u64 seed, u64 idx)
{
	u64 *p = page_address(page);
	unsigned int i;

	for (i = 0; i < PAGE_SIZE / sizeof(u64); i++)
		p[i] = seed ^ (idx << 32) ^ i;
}

static int check(struct page *page, u64 seed, u64 idx)
{
	u64 *p = page_address(page);
	unsigned int i;

	for (i = 0; i < PAGE_SIZE / sizeof(u64); i++) {
		if (p[i] != (seed ^ (idx << 32) ^ i)) {
			pr_err("page %llu word %u: got %016llx, want %016llx\n",
			       idx, i, p[i], seed ^ (idx << 32) ^ i);
			return -EILSEQ;
		}
	}
	return 0;
}

static int parse_params(struct dg_conn_params *p)
{
	char *colon, host[64];
	int ret;

	if (!addr || strlen(addr) >= sizeof(host))
		return -EINVAL;
	strscpy(host, addr, sizeof(host));
	colon = strrchr(host, ':');
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	ret = inet_pton_with_scope(&init_net, AF_UNSPEC, host, colon + 1,
				   &p->addr);
	if (ret)
		return ret;
	if (src) {
		ret = inet_pton_with_scope(&init_net, AF_UNSPEC, src, NULL,
					   &p->src);
		if (ret)
			return ret;
	}
	p->role = DG_ROLE_SWAP;
	get_random_bytes(&p->client_id, sizeof(p->client_id));
	strscpy(p->name, "net-test", sizeof(p->name));
	p->nr_queues = queues;
	p->timeout_ms = timeout_ms;
	p->event = on_event;
	p->request = on_request;
	return 0;
}

/* Write pages [from, n) of @r asynchronously, one source page each. */
static int write_async_all(struct dg_conn *c, const struct dg_region *r,
			   u64 seed, u64 from, u64 n)
{
	struct async_ctl a;
	struct page **src;
	u64 i;
	int ret = 0;

	src = kcalloc(n - from, sizeof(*src), GFP_KERNEL);
	if (!src)
		return -ENOMEM;
	async_init(&a);
	for (i = from; i < n; i++) {
		src[i - from] = alloc_page(GFP_KERNEL);
		if (!src[i - from]) {
			ret = -ENOMEM;
			break;
		}
		fill(src[i - from], seed, i);
		atomic_inc(&a.left);
		ret = dg_page_write_async(c, r, i * PAGE_SIZE, src[i - from],
					  async_done, &a);
		if (ret) {
			atomic_dec(&a.left);
			break;
		}
	}
	ret = async_wait(&a, ret);
	for (i = 0; i < n - from; i++)
		if (src[i])
			__free_page(src[i]);
	kfree(src);
	return ret;
}

/*
 * Read pages [0, n) of @r back asynchronously, in batches of up to
 * DG_WRITE_BATCH_MAX pages all in flight at once, and check each.
 */
static int read_async_all(struct dg_conn *c, const struct dg_region *r,
			  u64 seed, u64 n)
{
	struct async_ctl a;
	struct page **dst;
	u64 i, nr;
	int ret = 0;

	dst = kcalloc(n, sizeof(*dst), GFP_KERNEL);
	if (!dst)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		dst[i] = alloc_page(GFP_KERNEL);
		if (!dst[i]) {
			ret = -ENOMEM;
			goto out;
		}
		memset(page_address(dst[i]), 0xa5, PAGE_SIZE);
	}
	async_init(&a);
	for (i = 0; i < n; i += nr) {
		nr = min_t(u64, DG_WRITE_BATCH_MAX, n - i);
		atomic_inc(&a.left);
		ret = dg_pages_read_async(c, r, i * PAGE_SIZE, dst + i, nr,
					  async_done, &a);
		if (ret) {
			atomic_dec(&a.left);
			break;
		}
	}
	ret = async_wait(&a, ret);
	for (i = 0; i < n && !ret; i++)
		ret = check(dst[i], seed, i);
out:
	for (i = 0; i < n; i++)
		if (dst[i])
			__free_page(dst[i]);
	kfree(dst);
	return ret;
}

#define ASYNC_CALLS	40	/* more than a connection's call table */

/*
 * ASYNC_CALLS MEM_INFO calls in flight at once, each reply checked
 * against @want; then a MEM_FREE of a slab that does not exist fails the
 * same way asynchronously as synchronously.
 */
static int calls_async(struct dg_conn *c, const struct dg_mem_info *want)
{
	struct dg_mem_free fr = { .slab_id = cpu_to_le64(U64_MAX) };
	struct kvec q = { .iov_base = &fr, .iov_len = sizeof(fr) };
	struct dg_mem_info *info;
	struct async_ctl a;
	struct kvec v;
	u32 *len;
	int i, ret = 0, sync_err;

	info = kcalloc(ASYNC_CALLS, sizeof(*info), GFP_KERNEL);
	len = kcalloc(ASYNC_CALLS, sizeof(*len), GFP_KERNEL);
	if (!info || !len) {
		ret = -ENOMEM;
		goto out;
	}
	async_init(&a);
	for (i = 0; i < ASYNC_CALLS; i++) {
		v.iov_base = &info[i];
		v.iov_len = sizeof(info[i]);
		atomic_inc(&a.left);
		ret = dg_callv_async(c, DG_OP_MEM_INFO, NULL, 0, &v, 1, &len[i],
				     async_done, &a);
		if (ret) {
			atomic_dec(&a.left);
			break;
		}
	}
	ret = async_wait(&a, ret);
	for (i = 0; i < ASYNC_CALLS && !ret; i++) {
		if (len[i] != sizeof(*want) ||
		    info[i].capacity != want->capacity ||
		    info[i].slab_size != want->slab_size) {
			pr_err("asynchronous MEM_INFO %d: %u bytes, capacity %llu, slab %llu\n",
			       i, len[i], le64_to_cpu(info[i].capacity),
			       le64_to_cpu(info[i].slab_size));
			ret = -EBADMSG;
		}
	}
	if (ret) {
		pr_err("asynchronous calls: %d\n", ret);
		goto out;
	}

	sync_err = dg_callv(c, DG_OP_MEM_FREE, &q, 1, NULL, 0, NULL);
	async_init(&a);
	atomic_inc(&a.left);
	ret = dg_callv_async(c, DG_OP_MEM_FREE, &q, 1, NULL, 0, NULL,
			     async_done, &a);
	if (ret)
		atomic_dec(&a.left);
	ret = async_wait(&a, ret);
	if (sync_err >= 0 || ret != sync_err) {
		pr_err("MEM_FREE of no slab: %d, asynchronously %d\n",
		       sync_err, ret);
		ret = -EINVAL;
		goto out;
	}
	ret = 0;
	pr_info("%d calls in flight at once answered; an error reply fails both ways (%d)\n",
		ASYNC_CALLS, sync_err);
out:
	kfree(len);
	kfree(info);
	return ret;
}

static int run(struct dg_conn *c, struct page *wpage, struct page *rpage)
{
	struct dg_mem_info info;
	struct dg_mem_alloc req = {};
	struct dg_mem_slab slab;
	struct dg_mem_free fr = {};
	struct dg_region r;
	u64 seed, i, n, slab_size;
	u32 len;
	int ret, ret2;

	ret = dg_call(c, DG_OP_MEM_INFO, NULL, 0, &info, sizeof(info), &len);
	if (ret || len != sizeof(info)) {
		pr_err("MEM_INFO: %d (len %u)\n", ret, len);
		return ret ?: -EBADMSG;
	}
	slab_size = le64_to_cpu(info.slab_size);
	pr_info("node: capacity %llu, free %llu, slab %llu\n",
		le64_to_cpu(info.capacity), le64_to_cpu(info.free), slab_size);
	if (!slab_size || slab_size % PAGE_SIZE)
		return -EBADMSG;
	ret = calls_async(c, &info);
	if (ret)
		return ret;

	req.size = cpu_to_le64(slab_size);
	req.tag = cpu_to_le64(0);
	ret = dg_call(c, DG_OP_MEM_ALLOC, &req, sizeof(req), &slab,
		      sizeof(slab), &len);
	if (ret || len != sizeof(slab)) {
		pr_err("MEM_ALLOC: %d (len %u)\n", ret, len);
		return ret ?: -EBADMSG;
	}
	r.slab_id = le64_to_cpu(slab.slab_id);
	r.addr = le64_to_cpu(slab.addr);
	r.size = le64_to_cpu(slab.size);
	r.rkey = le32_to_cpu(slab.rkey);
	if (r.size != slab_size)
		return -EBADMSG;

	n = min_t(u64, pages, r.size / PAGE_SIZE - 1);
	get_random_bytes(&seed, sizeof(seed));
	for (i = 0; i < n / 2 && !ret; i++) {
		fill(wpage, seed, i);
		ret = dg_page_write(c, &r, i * PAGE_SIZE, wpage);
	}
	if (ret) {
		pr_err("write of page %llu: %d\n", i - 1, ret);
		goto free;
	}
	ret = write_async_all(c, &r, seed, n / 2, n);
	if (ret) {
		pr_err("asynchronous writes: %d\n", ret);
		goto free;
	}
	for (i = 0; i < n && !ret; i++) {
		memset(page_address(rpage), 0xa5, PAGE_SIZE);
		ret = dg_page_read(c, &r, i * PAGE_SIZE, rpage) ?:
		      check(rpage, seed, i);
	}
	if (ret) {
		pr_err("read back of page %llu: %d\n", i - 1, ret);
		goto free;
	}
	pr_info("%llu pages written and read back intact\n", n);

	ret = read_async_all(c, &r, seed, n);
	if (ret) {
		pr_err("asynchronous read back: %d\n", ret);
		goto free;
	}
	pr_info("%llu pages read back asynchronously intact\n", n);

	/* A read with a deadline of its own, shorter than the connection's. */
	memset(page_address(rpage), 0xa5, PAGE_SIZE);
	ret = dg_page_read_timeout(c, &r, 0, rpage, 2000) ?:
	      check(rpage, seed, 0);
	if (ret) {
		pr_err("read with a 2000 ms timeout: %d\n", ret);
		goto free;
	}
	pr_info("read with its own timeout intact\n");

	/* The last page was never written: zeros. */
	memset(page_address(rpage), 0xa5, PAGE_SIZE);
	ret = dg_page_read(c, &r, r.size - PAGE_SIZE, rpage);
	if (!ret && memchr_inv(page_address(rpage), 0, PAGE_SIZE)) {
		pr_err("a page never written is not zero\n");
		ret = -EILSEQ;
	}
	if (ret)
		goto free;
	if (dg_page_read(c, &r, r.size, rpage) != -EINVAL ||
	    dg_page_write(c, &r, 100, wpage) != -EINVAL) {
		pr_err("out-of-range or unaligned offset was not refused\n");
		ret = -EINVAL;
		goto free;
	}
	pr_info("unwritten page reads as zeros; bad offsets refused\n");

free:
	fr.slab_id = cpu_to_le64(r.slab_id);
	ret2 = dg_call(c, DG_OP_MEM_FREE, &fr, sizeof(fr), NULL, 0, &len);
	if (ret2)
		pr_err("MEM_FREE: %d\n", ret2);
	return ret ?: ret2;
}

static int __init dg_net_test_init(void)
{
	struct dg_conn_params *p;
	struct page *wpage, *rpage;
	struct dg_conn *c;
	int ret;

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	wpage = alloc_page(GFP_KERNEL);
	rpage = alloc_page(GFP_KERNEL);
	ret = -ENOMEM;
	if (!p || !wpage || !rpage)
		goto out;
	ret = parse_params(p);
	if (ret) {
		pr_err("bad addr= or src= (%d)\n", ret);
		goto out;
	}
	c = dg_conn_open(transport, p);
	if (IS_ERR(c)) {
		ret = PTR_ERR(c);
		pr_err("connect to %s: %d\n", addr, ret);
		goto out;
	}
	ret = run(c, wpage, rpage);
	if (!ret && restart) {
		pr_info("waiting for the node to restart\n");
		if (!wait_for_completion_timeout(&went_down, 120 * HZ) ||
		    !wait_for_completion_timeout(&came_back, 120 * HZ)) {
			pr_err("the connection did not fail and come back\n");
			ret = -ETIMEDOUT;
		} else if (READ_ONCE(back_event) != DG_CONN_RESTARTED) {
			pr_err("not told that the node restarted (event %d)\n",
			       back_event);
			ret = -EPROTO;
		} else {
			ret = dg_conn_wait_up(c, 30 * HZ);
			if (!ret)
				pr_info("reconnected to the restarted node\n");
			ret = ret ?: run(c, wpage, rpage);
		}
	}
	dg_conn_close(c);
	pr_info("%s\n", ret ? "FAILED" : "passed");
out:
	if (wpage)
		__free_page(wpage);
	if (rpage)
		__free_page(rpage);
	kfree(p);
	return ret;
}

static void __exit dg_net_test_exit(void)
{
}

module_init(dg_net_test_init);
module_exit(dg_net_test_exit);

MODULE_DESCRIPTION("disagg_net transport test");
MODULE_AUTHOR("disagg developers");
MODULE_LICENSE("GPL");
