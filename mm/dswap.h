/* SPDX-License-Identifier: GPL-2.0 */
/*
 * disagg_swap internals: memory nodes (nodes.c), the copies of each slab
 * and the work that keeps them (repl.c), the backing device (backing.c),
 * the prefetch cache (prefetch.c) and the block devices (swap.c).
 */
#ifndef DSWAP_H
#define DSWAP_H

#include <linux/kobject.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/wait.h>
#include <linux/atomic.h>
#include <disagg/net.h>

#define DSWAP_NODE_NAME_MAX	31
#define DSWAP_MAX_REPLICAS	3
/* Pages one rebuild step copies while the slab's writers wait. */
#define DSWAP_MOVE_BATCH	16

enum dswap_node_state {
	DSWAP_NODE_CONNECTING,
	DSWAP_NODE_UP,
	DSWAP_NODE_DRAINING,
	DSWAP_NODE_DOWN,
};

/**
 * struct dswap_node - a memory node, /sys/kernel/disagg/memory_nodes/NAME
 * @kobj: its sysfs directory; the node is freed when the last ref goes
 * @list: in dswap_nodes, under dswap_nodes_lock
 * @name: name given at add
 * @transport: "rdma" or "tcp"
 * @conn: connection, valid while the node is listed
 * @state: &enum dswap_node_state (DOWN here only after a forced removal)
 * @gone: removed by force: no copy may be placed or read here any more
 * @nr_slabs: copies of our slabs on this node
 * @active: calls and transfers on @conn in flight; the node is closed
 *	only when no copy refers to it and this is 0
 * @active_wq: woken when @active drops to 0
 * @reads, @writes: pages moved
 * @errors: failed page transfers and calls
 * @free: free bytes the node last reported
 * @timeout_ms: the connection's timeout; a read of a slab's only copy
 *	waits this long for the node to reconnect
 * @key: name of the key the connection authenticates with, or empty
 */
struct dswap_node {
	struct kobject		kobj;
	struct list_head	list;
	char			name[DSWAP_NODE_NAME_MAX + 1];
	char			transport[8];
	struct dg_conn		*conn;
	int			state;
	bool			gone;
	atomic_t		nr_slabs;
	atomic_t		active;
	wait_queue_head_t	active_wq;
	atomic64_t		reads;
	atomic64_t		writes;
	atomic64_t		errors;
	u64			free;
	unsigned int		timeout_ms;
	char			key[DG_NAME_MAX + 1];
};

/* Protects dswap_nodes, every node's list entry and state. */
extern struct mutex dswap_nodes_lock;

/* nodes.c */
int dswap_nodes_init(void);
void dswap_nodes_exit(void);
int dswap_node_pick(struct dswap_node **exclude, unsigned int nr_exclude,
		    struct dswap_node **out);
void dswap_node_get_active(struct dswap_node *n);
void dswap_node_put_active(struct dswap_node *n);
bool dswap_node_usable(struct dswap_node *n);
int dswap_node_alloc(struct dswap_node *n, u64 size, u64 tag,
		     struct dg_region *r, bool *resumed);
void dswap_node_free(struct dswap_node *n, u64 slab_id, u64 size);
void dswap_nodes_reap(void);

/**
 * struct dswap_copy - one copy of a slab on a memory node
 * @node: where
 * @r: the remote memory (its rkey changes when the connection does)
 * @tag: our name for it on @node, unique per allocation
 * @evict: the node asked for it back (MEM_EVICT)
 */
struct dswap_copy {
	struct dswap_node	*node;
	struct dg_region	r;
	u64			tag;
	bool			evict;
};

/**
 * struct dswap_slab - one slab of a device and its copies
 * @lock: protects everything below; taken with softirqs off (write
 *	completions run in softirq context)
 * @mutex: serialises changes of the copies that make calls: the first
 *	allocation, a rebuild or a move, a discard. Never taken under @lock.
 * @nr: valid copies, in @c[0..nr)
 * @filling: @fill is being filled: writes go to it too, reads do not
 * @fill_failed: a write to @fill failed; the fill must start over
 * @barrier: a fill step copies pages: new writes wait, @writers drains
 * @writers: page writes in flight to this slab's copies
 * @used: the slab has been given memory (and not discarded since)
 * @c: the copies
 * @fill: the copy a rebuild or a move is filling
 */
struct dswap_slab {
	spinlock_t		lock;
	struct mutex		mutex;
	u8			nr;
	bool			filling;
	bool			fill_failed;
	bool			barrier;
	bool			used;
	unsigned int		writers;
	struct dswap_copy	c[DSWAP_MAX_REPLICAS + 1];
	struct dswap_copy	fill;
};

/* Page index deltas the prefetcher votes a trend over (prefetch.c). */
#define DSWAP_PF_HISTORY	8

enum dswap_pf_mode {
	DSWAP_PF_OFF,
	DSWAP_PF_TREND,
};

struct dswap_pf_ent;

/**
 * struct dswap_prefetch - a device's prefetch cache (prefetch.c)
 * @lock: protects everything below but the knobs; taken with interrupts
 *	off (prefetch reads complete in softirq context, writes invalidate
 *	from any context). Taken inside a slab's lock, never around it.
 * @mode: &enum dswap_pf_mode, the `prefetch` knob (any time)
 * @pages: the `prefetch_pages` knob: size of the pool made at disksize
 * @ents: the pool, @nr entries each with a page of its own; NULL while
 *	the device has no tables (or the pool could not be had)
 * @nr: entries in @ents
 * @hash: entries in flight or ready, by page index; 1 << @hash_bits heads
 * @free: entries not in use
 * @fifo: entries in flight, ready or dead (invalidated in flight), oldest
 *	first: eviction takes the oldest ready one
 * @nr_cached: entries on @fifo
 * @inflight: prefetch reads posted and not completed; reset waits for 0
 * @wq: woken when a prefetch read completes
 * @hist: the last page index deltas the device read, a ring
 * @hist_pos: next slot of @hist
 * @hist_len: slots of @hist filled
 * @last: the page read last
 * @window: pages to keep read ahead along a trend (adaptive)
 * @hits: prefetched pages served since the last prefetch
 * @waste: prefetched pages dropped unused since the last prefetch
 */
struct dswap_prefetch {
	spinlock_t		lock;
	unsigned int		mode;
	unsigned int		pages;
	struct dswap_pf_ent	*ents;
	unsigned int		nr;
	struct hlist_head	*hash;
	unsigned int		hash_bits;
	struct list_head	free;
	struct list_head	fifo;
	unsigned int		nr_cached;
	unsigned int		inflight;
	wait_queue_head_t	wq;
	long			hist[DSWAP_PF_HISTORY];
	unsigned int		hist_pos;
	unsigned int		hist_len;
	unsigned long		last;
	unsigned int		window;
	unsigned int		hits;
	unsigned int		waste;
};

/* A remote slab we dropped and still owe the node a MEM_FREE for. */
struct dswap_orphan {
	struct list_head	list;
	struct dswap_node	*node;
	u64			slab_id;
	u64			size;
};

/**
 * struct dswap_dev - one /dev/dswapN
 * @disk: its gendisk
 * @id: N
 * @init_lock: held for reading by I/O and the repair work, for writing
 *	while the knobs below and the tables change (disksize, reset)
 * @disksize: bytes, 0 until set
 * @slab_size: bytes per slab, a power of two
 * @replicas: copies of each slab (1-3)
 * @synchronous: the disk has the synchronous feature (swap-in skips the
 *	swap cache and calls us directly)
 * @failover_ms: how long a read waits for one copy when another exists
 * @rebuild_rate_mb: MiB/s for rebuilds, drains and evictions (0: no limit)
 * @nr_slabs: entries in @slabs
 * @slabs: the slabs
 * @tag_gen: makes every remote allocation's tag unique
 * @written: page bitmap: the page's data is on its slab's copies
 * @lost: page bitmap: the page's data is gone, reads give -EIO
 * @inflight: asynchronous page reads and writes not completed yet
 * @inflight_wq: woken when @inflight drops to 0
 * @slab_wq: woken when a slab's barrier drops or its writers drain
 * @repair: the work that rebuilds, drains, evicts and frees orphans
 * @repair_lock: protects @orphans
 * @orphans: remote slabs to give back
 * @stopping: the device is being reset: the repair work stops
 * @bk: the backing device, or NULL (backing.c)
 * @bk_path: its path as given
 * @pf: the prefetch cache (prefetch.c)
 * @stats: counters, see remote_stat_show()
 */
struct dswap_dev {
	struct gendisk		*disk;
	int			id;
	struct rw_semaphore	init_lock;
	u64			disksize;
	u64			slab_size;
	unsigned int		replicas;
	bool			synchronous;
	unsigned int		failover_ms;
	unsigned int		rebuild_rate_mb;
	unsigned long		nr_slabs;
	struct dswap_slab	*slabs;
	atomic_t		tag_gen;
	unsigned long		*written;
	unsigned long		*lost;
	atomic_t		inflight;
	wait_queue_head_t	inflight_wq;
	wait_queue_head_t	slab_wq;
	struct delayed_work	repair;
	spinlock_t		repair_lock;
	struct list_head	orphans;
	bool			stopping;
	struct dswap_backing	*bk;
	char			bk_path[64];
	struct dswap_prefetch	pf;
	struct {
		atomic64_t	reads;
		atomic64_t	writes;
		atomic64_t	zero_reads;
		atomic64_t	failed_reads;
		atomic64_t	failed_writes;
		atomic64_t	discards;
		atomic64_t	write_xfers;
		atomic64_t	rebuilt_slabs;
		atomic64_t	read_failovers;
		atomic64_t	backing_reads;
		atomic64_t	prefetched;
		atomic64_t	prefetch_used;
		atomic64_t	prefetch_wasted;
	} stats;
};

extern struct workqueue_struct *dswap_wq;

/* repl.c */
void dswap_slab_init(struct dswap_slab *s);
unsigned long dswap_degraded_slabs(struct dswap_dev *d);
int dswap_read_pages_async(struct dswap_dev *d, unsigned long pidx,
			   struct page **pages, unsigned int nr,
			   struct dswap_node **node, dg_done_fn done, void *ctx);
int dswap_read_page(struct dswap_dev *d, unsigned long pidx,
		    struct page *page);
int dswap_slab_populate(struct dswap_dev *d, unsigned long idx);
void dswap_free_slab(struct dswap_dev *d, unsigned long idx);
void dswap_repair_kick(struct dswap_dev *d);
void dswap_repair_stop(struct dswap_dev *d);
void dswap_repair_work(struct work_struct *work);
void dswap_dev_node_down(struct dswap_dev *d, struct dswap_node *n,
			 bool force);
void dswap_dev_node_resume(struct dswap_dev *d, struct dswap_node *n,
			   bool restarted);
int dswap_dev_evict(struct dswap_dev *d, struct dswap_node *n, u64 slab_id);
unsigned long dswap_slab_lose(struct dswap_dev *d, unsigned long idx);
void dswap_drop_copy_locked(struct dswap_dev *d, struct dswap_slab *s,
			    unsigned int i);

/* Write runs (repl.c): consecutive whole pages of one slab. */
struct dswap_wbio;
struct dswap_wrun;

/* The completion context of one copy's write in a run. */
struct dswap_wcopy {
	struct dswap_wrun	*run;
};

struct dswap_wrun {
	struct dswap_dev	*d;
	unsigned long		pidx;		/* first page's index */
	unsigned int		nr;
	atomic_t		pending;	/* copies not answered yet */
	bool			has_fill;	/* the last copy is a fill */
	bool			on_backing;	/* written there instead */
	bool			through;	/* and there too (one copy) */
	bool			marked;		/* written bits set at completion */
	unsigned int		nr_copies;
	struct dswap_copy	copies[DSWAP_MAX_REPLICAS + 1];
	int			copy_err[DSWAP_MAX_REPLICAS + 1];
	struct dswap_wcopy	wc[DSWAP_MAX_REPLICAS + 1];
	struct work_struct	work;		/* for the backing device */
	struct page		*pages[DG_WRITE_BATCH_MAX];
	struct dswap_wbio	*w[DG_WRITE_BATCH_MAX];
};
void dswap_wrun_start(struct dswap_wrun *run);
/* swap.c: every page of @run is written (@err 0) or failed */
void dswap_wrun_end(struct dswap_wrun *run, int err);

/* The devices, for nodes.c's events (swap.c). */
void dswap_node_down(struct dswap_node *n, bool force);
void dswap_node_resume(struct dswap_node *n, bool restarted);
int dswap_node_evict(struct dswap_node *n, u64 slab_id);
void dswap_kick_all(void);

/* backing.c */
struct dswap_backing;
int dswap_backing_open(struct dswap_dev *d, unsigned long pages);
void dswap_backing_close(struct dswap_dev *d);
void dswap_backing_write_start(struct dswap_dev *d, unsigned long pidx,
			       unsigned int nr);
void dswap_backing_write_done(struct dswap_dev *d, unsigned long pidx,
			      unsigned int nr);
bool dswap_backing_has(struct dswap_dev *d, unsigned long pidx);
int dswap_backing_read(struct dswap_dev *d, unsigned long pidx,
		       struct page *page);
int dswap_backing_write_pages(struct dswap_dev *d, unsigned long pidx,
			      struct page **pages, unsigned int nr);
void dswap_backing_forget(struct dswap_dev *d, unsigned long pidx);
unsigned long dswap_backing_lag(struct dswap_dev *d);
void dswap_backing_throttle(struct dswap_dev *d);

/*
 * prefetch.c. The read path calls dswap_prefetch_read() before reading a
 * page and dswap_prefetch_access() once the page was read (either way);
 * every path that changes a page's data calls dswap_prefetch_forget()
 * before the change is reported done (a write run's end, a discard), and
 * every change of a slab's copies calls dswap_prefetch_flush() after it
 * (under the slab's lock or later).
 */
void dswap_prefetch_init(struct dswap_dev *d);
void dswap_prefetch_start(struct dswap_dev *d);
void dswap_prefetch_stop(struct dswap_dev *d);
bool dswap_prefetch_read(struct dswap_dev *d, unsigned long pidx,
			 struct page *page);
void dswap_prefetch_access(struct dswap_dev *d, unsigned long pidx);
void dswap_prefetch_forget(struct dswap_dev *d, unsigned long pidx,
			   unsigned long nr);
void dswap_prefetch_flush(struct dswap_dev *d);
extern struct device_attribute dev_attr_prefetch;
extern struct device_attribute dev_attr_prefetch_pages;

#endif /* DSWAP_H */
