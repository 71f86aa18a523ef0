// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// dg-memclient: test client of disagg-memd. Connects over RDMA or TCP,
// allocates slabs, writes checksummed pages (RDMA WRITE or MEM_WRITE),
// reads them back (RDMA READ or MEM_READ), verifies every byte, frees, and
// prints a summary. Optional checks: that keys reach only their own slab
// (--isolation), and that the node reports all capacity free at the end
// (--expect-all-free). --answer-evict N plays a client that gives memory
// back: after writing its slabs it waits for N MEM_EVICTs, answers each at
// once (0 for its own slabs, ENOENT for others), reads the slab back and
// verifies every checked page (the data must still be there while the
// client "moves" it), then releases it with MEM_FREE. --resize SIZE asks
// the node (as an admin) to change its capacity. Exit status: 0 all good,
// 1 any failure or mismatch, 2 bad arguments.
#include "config.hpp"
#include "memclient.hpp"
#include "tool_cli.hpp"

#include <infiniband/verbs.h>
#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

using namespace disagg;
using namespace disagg::proto;
using client::Conn;
using client::Io;

namespace {

struct Args {
	client::Options conn;
	unsigned slabs = 2;
	std::uint64_t slab_size = 0;	// 0: the server's
	unsigned pages = 64;		// per slab
	std::uint64_t seed = 1;
	bool isolation = false;
	bool expect_all_free = false;
	bool status = false;
	bool keep = false;	// leave the slabs allocated, disconnect without BYE
	unsigned wait_bye = 0;	// seconds to wait for the node's BYE at the end
	std::uint64_t resize = 0;	// --resize: the new capacity
	unsigned answer_evict = 0;	// MEM_EVICTs to wait for and honour
	unsigned evict_wait = 120;	// ... for at most this many seconds
};

std::uint64_t random_id()
{
	std::uint64_t v = 0;
	if (::getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
	return v ? v : 1;
}

// ---- page contents: a header, pseudo-random bytes, an FNV-1a checksum

constexpr std::uint32_t kPageMagic = 0x47504744;	// "DGPG"

std::uint64_t fnv1a(const std::byte *p, std::size_t n)
{
	std::uint64_t h = 0xcbf29ce484222325ull;
	for (std::size_t i = 0; i < n; i++) {
		h ^= std::to_integer<std::uint64_t>(p[i]);
		h *= 0x100000001b3ull;
	}
	return h;
}

void put64(std::byte *p, std::uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = static_cast<std::byte>(v >> (8 * i));
}

std::uint64_t get64(const std::byte *p)
{
	std::uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= std::to_integer<std::uint64_t>(p[i]) << (8 * i);
	return v;
}

void fill_page(std::byte *p, std::uint64_t seed, std::uint64_t tag, std::uint64_t offset)
{
	put64(p, kPageMagic);
	put64(p + 8, tag);
	put64(p + 16, offset);
	put64(p + 24, seed);
	std::uint64_t x = seed * 0x9e3779b97f4a7c15ull ^ (tag << 32) ^ offset ^ 0x5bd1e995;
	for (std::size_t i = 32; i < kPageSize - 8; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		put64(p + i, x);
	}
	put64(p + kPageSize - 8, fnv1a(p, kPageSize - 8));
}

// Offsets of @pages pages spread over a slab, first and last page included.
std::vector<std::uint64_t> page_offsets(std::uint64_t slab_size, unsigned pages)
{
	const std::uint64_t n = slab_size / kPageSize;
	pages = static_cast<unsigned>(std::min<std::uint64_t>(pages, n));
	std::vector<std::uint64_t> out;
	for (unsigned i = 0; i < pages; i++)
		out.push_back(pages == 1 ? 0 : (i * (n - 1) / (pages - 1)) * kPageSize);
	return out;
}

struct Tally {
	std::uint64_t pages = 0, bad_pages = 0, bad_bytes = 0, bad_sums = 0;
	int failures = 0;
};

void check_failed(Tally &t, const std::string &what)
{
	std::printf("FAIL: %s\n", what.c_str());
	t.failures++;
}

void compare_pages(const MemSlab &slab, const Args &a, std::span<const std::byte> got_all,
		   std::span<const std::uint64_t> offs, Tally &t, const char *when)
{
	std::vector<std::byte> want(kPageSize);
	for (std::size_t i = 0; i < offs.size(); i++) {
		const std::byte *got = got_all.data() + i * kPageSize;
		fill_page(want.data(), a.seed, slab.tag, offs[i]);
		t.pages++;
		std::uint64_t diff = 0;
		for (std::size_t b = 0; b < kPageSize; b++)
			diff += got[b] != want[b];
		if (get64(got + kPageSize - 8) != fnv1a(got, kPageSize - 8))
			t.bad_sums++;
		if (diff) {
			if (t.bad_pages < 5)
				std::printf("mismatch %s: slab %llu offset %llu: %llu bytes differ\n",
					    when, static_cast<unsigned long long>(slab.slab_id),
					    static_cast<unsigned long long>(offs[i]),
					    static_cast<unsigned long long>(diff));
			t.bad_pages++;
			t.bad_bytes += diff;
		}
	}
}

// Calls @fn(ios, offsets) for the pages of @slab that get checked, in
// batches that fit the data buffer: ios[i] is the page at offsets[i], its
// buffer the i-th page of data_buffer(). Stops when @fn returns false.
template <class Fn>
void for_each_batch(Conn &c, const MemSlab &slab, const Args &a, Fn &&fn)
{
	const std::vector<std::uint64_t> offs = page_offsets(slab.size, a.pages);
	std::span<std::byte> buf = c.data_buffer();
	const std::size_t batch = buf.size() / kPageSize;
	for (std::size_t first = 0; first < offs.size(); first += batch) {
		const std::size_t n = std::min(batch, offs.size() - first);
		std::vector<Io> ios;
		for (std::size_t i = 0; i < n; i++)
			ios.push_back(Io{offs[first + i], {buf.data() + i * kPageSize, kPageSize}});
		if (!fn(std::span<const Io>(ios), std::span(offs).subspan(first, n)))
			return;
	}
}

// Reads a batch back over a 0xa5 pattern and compares it with what was
// written. False when the read failed (@what says what was being read).
bool read_back(Conn &c, const MemSlab &slab, const Args &a, std::span<const Io> ios,
	       std::span<const std::uint64_t> offs, Tally &t, const char *what,
	       const char *when)
{
	std::span<std::byte> buf = c.data_buffer().first(ios.size() * kPageSize);
	std::memset(buf.data(), 0xa5, buf.size());
	if (c.read(slab, ios) != 0) {
		check_failed(t, std::string(what) + " " + std::to_string(slab.slab_id) + ": " +
					c.error());
		return false;
	}
	compare_pages(slab, a, buf, offs, t, when);
	return true;
}

// A resumed slab still holds what an earlier run (same seed) wrote.
void verify_existing(Conn &c, const MemSlab &slab, const Args &a, Tally &t)
{
	for_each_batch(c, slab, a, [&](auto ios, auto offs) {
		return read_back(c, slab, a, ios, offs, t, "reading resumed slab", "after resume");
	});
}

// Write and read back every page of @slab in batches that fit the buffer.
void verify_slab(Conn &c, const MemSlab &slab, const Args &a, Tally &t)
{
	for_each_batch(c, slab, a, [&](auto ios, auto offs) {
		for (const Io &io : ios)
			fill_page(io.buf.data(), a.seed, slab.tag, io.offset);
		if (c.write(slab, ios) != 0) {
			check_failed(t, "writing slab " + std::to_string(slab.slab_id) + ": " + c.error());
			return false;
		}
		return read_back(c, slab, a, ios, offs, t, "reading slab", "after write");
	});
}

// A fresh slab must read as zeros.
void check_zero(Conn &c, const MemSlab &slab, Tally &t)
{
	std::span<std::byte> buf = c.data_buffer();
	std::memset(buf.data(), 0xa5, kPageSize);
	const std::uint64_t last = slab.size - kPageSize;
	for (std::uint64_t off : {std::uint64_t{0}, last}) {
		Io io{off, {buf.data(), kPageSize}};
		if (c.read(slab, {&io, 1})) {
			check_failed(t, "reading a new slab: " + c.error());
			return;
		}
		if (std::any_of(buf.begin(), buf.begin() + kPageSize,
				[](std::byte b) { return b != std::byte{0}; }))
			check_failed(t, "new slab " + std::to_string(slab.slab_id) +
					       " does not read as zeros at offset " + std::to_string(off));
	}
}

client::Options with_id(const client::Options &o, std::uint64_t id, const char *name)
{
	client::Options r = o;
	r.client_id = id;
	r.name = name;
	return r;
}

// An RDMA access that must fail: only an error completion counts; a
// timeout or a post failure proves nothing.
bool refused(int st)
{
	return st > 0;
}

std::string status_str(int st)
{
	if (st < 0)
		return std::string("not posted: ") + std::strerror(-st);
	return ibv_wc_status_str(static_cast<ibv_wc_status>(st));
}

// Keys and slab ids must reach only their own slab.
void isolation(const Args &a, Tally &t)
{
	std::string err;
	const std::uint64_t size = 2 * kPageSize;
	auto victim = Conn::open(with_id(a.conn, random_id(), "victim"), err);
	if (!victim)
		return check_failed(t, "isolation: victim: " + err);
	std::uint32_t st = 0;
	std::optional<MemSlab> vs = victim->alloc(size, 7, st);
	if (!vs)
		return check_failed(t, "isolation: victim alloc: " + std::string(std::strerror(static_cast<int>(st))));
	std::byte *vb = victim->data_buffer().data();
	fill_page(vb, a.seed, 7, 0);
	Io vio{0, {vb, kPageSize}};
	if (victim->write(*vs, {&vio, 1}))
		return check_failed(t, "isolation: victim write: " + victim->error());

	auto report = [&t](const char *what, bool good, const std::string &detail) {
		if (good)
			std::printf("isolation: %s: ok (%s)\n", what, detail.c_str());
		else
			check_failed(t, std::string("isolation: ") + what + ": " + detail);
	};

	if (a.conn.rdma) {
		// 1. Another connection's (addr, rkey).
		if (auto x = Conn::open(with_id(a.conn, random_id(), "attacker"), err)) {
			int s = x->raw_read(vs->addr, vs->rkey, kPageSize);
			report("other client's rkey", refused(s), status_str(s));
		} else {
			check_failed(t, "isolation: attacker: " + err);
		}
		// 2. A guessed rkey.
		if (auto x = Conn::open(with_id(a.conn, random_id(), "guesser"), err)) {
			std::uint32_t guess = static_cast<std::uint32_t>(random_id());
			if (guess == vs->rkey)
				guess ^= 0x100;
			int s = x->raw_read(vs->addr, guess, kPageSize);
			report("guessed rkey", refused(s), status_str(s));
		} else {
			check_failed(t, "isolation: guesser: " + err);
		}
		// 3. Own key, inside then just past its slab; reconnect to free it.
		const std::uint64_t oob_id = random_id();
		if (auto x = Conn::open(with_id(a.conn, oob_id, "bounds"), err)) {
			std::optional<MemSlab> s3 = x->alloc(size, 1, st);
			if (!s3) {
				check_failed(t, "isolation: bounds alloc failed");
			} else {
				int in = x->raw_read(s3->addr + size - kPageSize, s3->rkey, kPageSize);
				report("own rkey, last page", in == IBV_WC_SUCCESS, status_str(in));
				int out = x->raw_read(s3->addr + size, s3->rkey, kPageSize);
				report("own rkey, past the slab", refused(out), status_str(out));
			}
		}
		if (auto x = Conn::open(with_id(a.conn, oob_id, "bounds"), err)) {
			std::optional<MemSlab> s3 = x->alloc(size, 1, st);
			report("reconnect resumes the slab", s3 && (s3->flags & kSlabResumed),
			       s3 ? "flags " + std::to_string(s3->flags) : std::string(std::strerror(static_cast<int>(st))));
			if (s3 && x->free(s3->slab_id))
				check_failed(t, "isolation: free after resume failed");
			x->bye();
		} else {
			check_failed(t, "isolation: reconnect: " + err);
		}
		// 4. A key after its slab was freed.
		if (auto x = Conn::open(with_id(a.conn, random_id(), "stale"), err)) {
			std::optional<MemSlab> s4 = x->alloc(size, 1, st);
			if (s4 && x->free(s4->slab_id) == 0) {
				int s = x->raw_read(s4->addr, s4->rkey, kPageSize);
				report("rkey of a freed slab", refused(s), status_str(s));
			} else {
				check_failed(t, "isolation: stale: alloc/free failed");
			}
		}
	} else {
		// Slab ids over TCP: another client's, a wrong one, out of bounds.
		if (auto x = Conn::open(with_id(a.conn, random_id(), "attacker"), err)) {
			std::byte *b = x->data_buffer().data();
			Io io{0, {b, kPageSize}};
			int rc = x->read(*vs, {&io, 1});
			report("other client's slab id", rc == ENOENT, std::strerror(rc));
			MemSlab wrong = *vs;
			wrong.slab_id += 1000000;
			rc = x->read(wrong, {&io, 1});
			report("unknown slab id", rc == ENOENT, std::strerror(rc));
			std::optional<MemSlab> s4 = x->alloc(size, 1, st);
			if (s4 && x->free(s4->slab_id) == 0) {
				rc = x->read(*s4, {&io, 1});
				report("freed slab id", rc == ENOENT, std::strerror(rc));
			}
			x->bye();
		} else {
			check_failed(t, "isolation: attacker: " + err);
		}
		Io past{size, {vb, kPageSize}};
		int rc = victim->read(*vs, {&past, 1});
		report("own slab, past its end", rc == EINVAL, std::strerror(rc));
	}

	// The victim's page is intact and its connection still works.
	std::vector<std::byte> want(kPageSize);
	fill_page(want.data(), a.seed, 7, 0);
	std::memset(vb, 0, kPageSize);
	int rc = victim->read(*vs, {&vio, 1});
	report("victim's data intact", rc == 0 && std::memcmp(vb, want.data(), kPageSize) == 0,
	       rc ? victim->error() : "verified");
	if (victim->free(vs->slab_id))
		check_failed(t, "isolation: victim free failed");
	victim->bye();
}

// --answer-evict: wait for a.answer_evict MEM_EVICTs of our slabs (they
// are answered as they come, see main()); for each, check that the slab
// still holds what we wrote (a client moves the data after its answer, so
// the node must not have touched it), then release it. Slabs freed go
// into @released. A MEM_EVICT of a slab that is not ours is a failure.
void answer_evictions(Conn &c, const Args &a, const std::vector<MemSlab> &slabs,
		      std::set<std::uint64_t> &released, Tally &t)
{
	auto ours = [&](std::uint64_t id) -> const MemSlab * {
		for (const MemSlab &s : slabs)
			if (s.slab_id == id)
				return &s;
		return nullptr;
	};
	std::printf("waiting up to %u s for %u MEM_EVICTs\n", a.evict_wait, a.answer_evict);
	std::fflush(stdout);
	const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(a.evict_wait);
	while (released.size() < a.answer_evict) {
		const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
			deadline - std::chrono::steady_clock::now());
		int e = 0;
		// Wake every 10 s to send a HEARTBEAT: the node closes clients
		// that send nothing for its idle timeout.
		if (c.evictions().empty() &&
		    !c.wait_evict(static_cast<int>(std::min<long long>(left.count(), 10000)), e)) {
			if (e != ETIMEDOUT || left.count() <= 10000) {
				check_failed(t, "waiting for MEM_EVICT: " + std::to_string(released.size()) +
						       " of " + std::to_string(a.answer_evict) + " came: " +
						       std::strerror(e));
				break;
			}
			if (!c.call(Op::kHeartbeat).ok()) {
				check_failed(t, "heartbeat while waiting for MEM_EVICT: " + c.error());
				break;
			}
			continue;
		}
		const std::uint64_t id = c.evictions().front();
		c.evictions().pop_front();
		const MemSlab *s = ours(id);
		if (!s) {
			check_failed(t, "MEM_EVICT of slab " + std::to_string(id) + ", not ours");
			continue;
		}
		if (released.contains(id))
			continue;
		const std::uint64_t bad = t.bad_pages;
		verify_existing(c, *s, a, t);
		if (std::uint32_t st = c.free(id)) {
			check_failed(t, "MEM_FREE of evicted slab " + std::to_string(id) + ": " +
					       std::strerror(static_cast<int>(st)));
			break;
		}
		released.insert(id);
		std::printf("MEM_EVICT of slab %llu (tag %llu): %s, released\n",
			    static_cast<unsigned long long>(id), static_cast<unsigned long long>(s->tag),
			    t.bad_pages == bad ? "pages verified" : "PAGES DIFFER");
		std::fflush(stdout);
	}
}

// The command line into @a: -1 to go on, else the status to exit with.
int parse(int argc, char **argv, Args &a)
{
	CLI::App app{"dg-memclient: test client of disagg-memd. Connects over RDMA or TCP,\n"
		     "allocates slabs, writes checksummed pages, reads them back and verifies\n"
		     "every byte, frees, and prints a summary. Exit status: 0 all good, 1 any\n"
		     "failure or mismatch, 2 bad arguments.",
		     "dg-memclient"};
	tool::setup(app);
	std::string key_file, identity;
	tool::add_host_port(app, "--connect", "ADDR[:PORT]",
			    "the node (port " + std::to_string(kMemdPort) + " if not given)",
			    a.conn.host, a.conn.port, kMemdPort)
		->required();
	tool::add_transport(app, "rdma|tcp", "transport (default rdma)", a.conn.rdma);
	app.add_option("--bind", a.conn.bind, "local address to connect from")->type_name("ADDR");
	tool::add_uint(app, "--queues", "N",
		       "RDMA queue pairs, one PD (default 1); pages go\n"
		       "round-robin over them, messages on queue 0",
		       a.conn.queues, 1, 64);
	tool::add_uint(app, "--slabs", "N", "slabs to allocate (default 2)", a.slabs, 0, 4096);
	tool::add_size(app, "--slab-size", "bytes per slab (default: the node's slab size)",
		       a.slab_size, kPageSize);
	tool::add_uint(app, "--pages", "N", "pages written and verified per slab (default 64)",
		       a.pages, 1, 1u << 24);
	tool::add(app, "--client-id", "HEX", "client id (default random)",
		  [&a](const std::string &v) {
			  char *end = nullptr;
			  errno = 0;
			  a.conn.client_id = std::strtoull(v.c_str(), &end, 16);
			  if (v.empty() || *end || errno || !a.conn.client_id)
				  return invalid("--client-id", v) + ": expected nonzero hex";
			  return std::string();
		  });
	app.add_option("--name", a.conn.name, "client name shown by the node")->type_name("NAME");
	tool::add_uint(app, "--seed", "N", "data pattern seed (default 1)", a.seed, 0);
	app.add_flag("--isolation", a.isolation, "check that keys reach only their own slab");
	app.add_flag("--expect-all-free", a.expect_all_free,
		     "check that all capacity is free at the end");
	app.add_flag("--keep", a.keep,
		     "keep the slabs and vanish without BYE; a later run\n"
		     "with the same --client-id and --seed verifies them");
	tool::add_uint(app, "--wait-bye", "SECONDS",
		       "at the end, wait for the node's BYE (shutdown)", a.wait_bye, 1, 3600);
	app.add_flag("--status", a.status, "print the node's status JSON and exit");
	tool::add_size(app, "--resize",
		       "set the node's capacity (an admin key, or a node\n"
		       "without keys) and exit",
		       a.resize, kPageSize);
	tool::add_uint(app, "--answer-evict", "N",
		       "after writing, wait for N MEM_EVICTs; for each,\n"
		       "verify the slab's pages, then MEM_FREE it",
		       a.answer_evict, 1, 4096);
	tool::add_uint(app, "--evict-wait", "SECONDS", "how long --answer-evict waits (default 120)",
		       a.evict_wait, 1, 3600);
	tool::add(app, "--timeout", "SECONDS", "per call (default 10)", [&a](const std::string &v) {
		std::optional<std::uint64_t> n = parse_uint(v, 1, 3600);
		if (!n)
			return invalid("--timeout", v) + ": expected 1..3600";
		a.conn.timeout_ms = static_cast<int>(*n * 1000);
		return std::string();
	});
	tool::add_key_options(app, key_file, identity);
	if (int rc = tool::parse(app, "dg-memclient", argc, argv); rc >= 0)
		return rc;
	if (std::string err = client::use_key_file(a.conn, key_file, identity); !err.empty())
		return tool::usage_error("dg-memclient", err);
	return -1;
}

}  // namespace

int main(int argc, char **argv)
{
	Args a;
	if (int rc = parse(argc, argv, a); rc >= 0)
		return rc;
	std::string err;
	const char *tname = a.conn.rdma ? "rdma" : "tcp";
	const std::string where = std::string(tname) + " " + a.conn.host + ":" +
				  std::to_string(a.conn.port);

	if (a.resize) {
		client::Options o = a.conn;
		o.role = Role::kCtl;
		auto c = Conn::open(o, err);
		if (!c) {
			std::fprintf(stderr, "dg-memclient: %s: %s\n", where.c_str(), err.c_str());
			return 1;
		}
		client::Reply r = c->call(Op::kMemResize, MemResize{a.resize});
		c->bye();
		if (!r.ok()) {
			std::fprintf(stderr, "dg-memclient: MEM_RESIZE to %llu: %s\n",
				     static_cast<unsigned long long>(a.resize),
				     r.err ? c->error().c_str() : std::strerror(static_cast<int>(r.status)));
			return 1;
		}
		std::printf("capacity set to %llu bytes\n", static_cast<unsigned long long>(a.resize));
		return 0;
	}

	if (a.status) {
		client::Options o = a.conn;
		o.role = Role::kCtl;
		auto c = Conn::open(o, err);
		std::optional<std::string> s = c ? c->status(err) : std::nullopt;
		if (!s) {
			std::fprintf(stderr, "dg-memclient: %s: %s\n", where.c_str(), err.c_str());
			return 1;
		}
		std::printf("%s\n", s->c_str());
		c->bye();
		return 0;
	}

	if (!a.conn.client_id)
		a.conn.client_id = random_id();
	Tally t;
	auto c = Conn::open(a.conn, err);
	if (!c) {
		std::fprintf(stderr, "dg-memclient: %s: %s\n", where.c_str(), err.c_str());
		return 1;
	}
	std::optional<MemInfo> info = c->info(err);
	if (!info) {
		std::fprintf(stderr, "dg-memclient: MEM_INFO: %s\n", err.c_str());
		return 1;
	}
	std::printf("connected: %s, client %016llx, protocol %u.%u, features %#x; node: capacity %llu, free %llu, slab size %llu, clients %u\n",
		    where.c_str(), static_cast<unsigned long long>(a.conn.client_id), kMajor,
		    c->negotiated().minor, c->negotiated().features,
		    static_cast<unsigned long long>(info->capacity),
		    static_cast<unsigned long long>(info->free),
		    static_cast<unsigned long long>(info->slab_size), info->nr_clients);
	if (a.conn.rdma && !(c->negotiated().features & kFeatRdma))
		check_failed(t, "RDMA connection without DG_FEAT_RDMA");
	const std::uint64_t slab_size = a.slab_size ? a.slab_size : info->slab_size;

	// Answered at once, from here on: a MEM_EVICT may come right after a
	// MEM_ALLOC resumed a slab the node wants back, before that call has
	// even returned (so the slab list cannot tell yet; it is checked when
	// the request is handled).
	std::set<std::uint64_t> released;	// freed after MEM_EVICT
	if (a.answer_evict)
		c->evict_answer = [&released](std::uint64_t id) -> std::uint32_t {
			return released.contains(id) ? ENOENT : 0;
		};

	std::vector<MemSlab> slabs;
	unsigned resumed = 0;
	for (unsigned i = 0; i < a.slabs; i++) {
		std::uint32_t st = 0;
		std::optional<MemSlab> s = c->alloc(slab_size, i, st);
		if (!s) {
			check_failed(t, "alloc of slab " + std::to_string(i) + ": " +
					       std::strerror(static_cast<int>(st)));
			break;
		}
		if (s->flags & kSlabResumed)
			resumed++;
		else
			check_zero(*c, *s, t);
		slabs.push_back(*s);
	}

	const auto t0 = std::chrono::steady_clock::now();
	for (const MemSlab &s : slabs) {
		if (s.flags & kSlabResumed)
			verify_existing(*c, s, a, t);
		verify_slab(*c, s, a, t);
	}
	if (resumed)
		std::printf("%u slabs resumed with their contents verified\n", resumed);
	const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

	// Asking again for a held tag gives the same slab.
	if (!slabs.empty()) {
		std::uint32_t st = 0;
		std::optional<MemSlab> again = c->alloc(slabs[0].size, slabs[0].tag, st);
		if (!again || again->slab_id != slabs[0].slab_id || !(again->flags & kSlabResumed) ||
		    again->rkey != slabs[0].rkey || again->addr != slabs[0].addr)
			check_failed(t, "a second MEM_ALLOC of tag 0 did not return the same slab");
	}

	if (a.isolation)
		isolation(a, t);

	if (a.answer_evict)
		answer_evictions(*c, a, slabs, released, t);

	if (a.wait_bye) {
		std::printf("waiting up to %u s for the node's bye\n", a.wait_bye);
		std::fflush(stdout);
		int e = 0;
		while (!c->got_bye() && !c->recv_frame(static_cast<int>(a.wait_bye) * 1000, e).empty())
			;
		if (c->got_bye())
			std::printf("node said bye\n");
		else
			check_failed(t, "no bye from the node: " + c->error());
	} else if (a.keep) {
		std::printf("keeping %zu slabs; disconnecting without bye\n", slabs.size());
	} else {
		for (const MemSlab &s : slabs) {
			if (released.contains(s.slab_id))
				continue;
			if (std::uint32_t st = c->free(s.slab_id))
				check_failed(t, "free of slab " + std::to_string(s.slab_id) + ": " +
						       std::strerror(static_cast<int>(st)));
		}
		c->bye();
	}
	c.reset();

	if (a.expect_all_free) {
		client::Options o = a.conn;
		o.role = Role::kCtl;
		o.client_id = 0;
		o.name = "dg-memclient-check";
		auto chk = Conn::open(o, err);
		std::optional<MemInfo> end;
		for (int i = 0; chk && i < 30; i++) {
			end = chk->info(err);
			if (!end || end->free == end->capacity)
				break;
			std::this_thread::sleep_for(std::chrono::milliseconds(100));
		}
		if (!end)
			check_failed(t, "final MEM_INFO: " + err);
		else if (end->free != end->capacity)
			check_failed(t, "node reports " + std::to_string(end->free) + " of " +
					       std::to_string(end->capacity) + " bytes free at the end");
		else
			std::printf("node reports all %llu bytes free\n",
				    static_cast<unsigned long long>(end->capacity));
		if (chk)
			chk->bye();
	}

	const double mib = static_cast<double>(t.pages * kPageSize) / (1 << 20);
	std::printf("dg-memclient: %s: %zu slabs, %llu pages (%.1f MiB) written and read back in %.2f s; "
		    "%llu bad pages, %llu bad bytes, %llu bad checksums, %d failed checks\n",
		    where.c_str(), slabs.size(), static_cast<unsigned long long>(t.pages), mib,
		    secs, static_cast<unsigned long long>(t.bad_pages),
		    static_cast<unsigned long long>(t.bad_bytes),
		    static_cast<unsigned long long>(t.bad_sums), t.failures);
	const bool good = t.bad_pages == 0 && t.bad_sums == 0 && t.failures == 0 &&
			  t.pages == static_cast<std::uint64_t>(slabs.size() + resumed + released.size()) *
					     page_offsets(slab_size, a.pages).size() &&
			  released.size() == a.answer_evict &&
			  slabs.size() == a.slabs;
	std::printf("%s\n", good ? "PASS" : "FAIL");
	return good ? 0 : 1;
}
