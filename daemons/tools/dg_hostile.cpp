// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// dg-hostile: a hostile memory or storage node, for testing the kernel
// clients (disagg_swap, disaggfs) against malformed replies.
//
// It listens like disagg-memd or disagg-stord (TCP only), answers HELLO in
// open mode (protocol major 2, no AUTH) and then, per --mode or a random
// schedule seeded by --seed, answers requests with malformed replies: bad
// lengths, opcodes, request ids and statuses, truncated and oversized
// frames, nonsense inside well-framed replies (huge counts, names past the
// frame, absurd attributes and slabs), random bytes, replies that never
// come or come one byte at a time, malformed HELLO replies, and requests of
// its own (heartbeats, MEM_EVICT, unknown opcodes). Requests it does not
// spoil get a plausible good answer (a memory node that keeps what is
// written to it; a storage node that makes attributes up), so a client can
// go on and meet the next bad reply.
//
// It counts the malformed frames it sent, by class, and prints the counts
// when it exits: after --max-bad of them, on SIGTERM/SIGINT, or never.
// Standalone on purpose: only include/disagg/proto.h and POSIX sockets, so
// it does not share bugs with the daemons' codec; the command line is
// CLI11's with the value parsers of daemons/lib/cli.hpp (tool_cli.hpp).
#include <disagg/proto.h>

#include "tool_cli.hpp"

#include <arpa/inet.h>
#include <endian.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using Buf = std::vector<std::uint8_t>;

// Classes of malformed frames, for the counts.
enum Class { kStray, kAnswer, kFraming, kHello, kNrClasses };
const char *const kClassName[kNrClasses] = { "stray", "answer", "framing", "hello" };

struct Mode {
	const char *name;
	Class cls;
	unsigned weight;	// in the random schedule (0: only by name)
	const char *what;
};

// Modes for requests other than HELLO. The stray ones send extra frames
// the client must drop, then a good reply; answers spoil the one reply;
// framing ones break the stream (the client must drop the connection).
const Mode kModes[] = {
	{ "stray-id", kStray, 10, "replies with ids nobody waits for, then the reply" },
	{ "near-id", kStray, 6, "replies with ids next to the request's (maybe in flight)" },
	{ "dup", kStray, 6, "the good reply twice" },
	{ "server-req", kStray, 6, "heartbeats, MEM_EVICT, STATUS and fs requests from the node" },
	{ "unknown-req", kStray, 4, "requests with unknown opcodes from the node" },
	{ "burst", kStray, 10, "--burst random well-framed replies with random ids" },
	{ "bad-status", kAnswer, 6, "status above 4095" },
	{ "status-payload", kAnswer, 6, "nonzero status with a payload" },
	{ "errno", kAnswer, 3, "a random errno 1..4095" },
	{ "short", kAnswer, 8, "payload shorter than the good one" },
	{ "long", kAnswer, 8, "payload longer than the good one" },
	{ "random-payload", kAnswer, 6, "random bytes of a random length as payload" },
	{ "content", kAnswer, 16, "well-sized reply with nonsense inside" },
	{ "wrong-op", kAnswer, 6, "the good payload under another opcode" },
	{ "len-over", kFraming, 2, "header length past DG_MAX_PAYLOAD, then close" },
	{ "len-short", kFraming, 2, "header says more than is sent, then the next frame" },
	{ "truncate", kFraming, 2, "part of a frame, then close" },
	{ "garbage", kFraming, 2, "random bytes" },
	{ "bad-magic", kFraming, 1, "a header with a wrong magic" },
	{ "bad-major", kFraming, 1, "a header with another major" },
	{ "oversize", kFraming, 1, "a frame of DG_MAX_PAYLOAD bytes" },
	{ "trickle", kFraming, 1, "the good reply one byte at a time" },
	{ "silent", kFraming, 0, "no reply at all" },
	{ "close", kFraming, 1, "close the connection instead of answering" },
};
constexpr int kNrModes = sizeof(kModes) / sizeof(kModes[0]);

const Mode kHelloModes[] = {
	{ "hello-major", kHello, 3, "dg_hello_reply.major 3" },
	{ "hello-hdr-major", kHello, 1, "header major 1" },
	{ "hello-features", kHello, 3, "features the client did not offer" },
	{ "hello-minor", kHello, 1, "a minor above the client's" },
	{ "hello-short", kHello, 3, "a 56-byte (protocol 1) reply" },
	{ "hello-long", kHello, 1, "a reply with extra bytes" },
	{ "hello-status", kHello, 2, "an error status, or one above 4095" },
	{ "hello-garbage", kHello, 1, "random bytes" },
	{ "hello-silent", kHello, 0, "no reply to HELLO" },
	{ "hello-newid", kHello, 1, "a good reply with a new server id (valid)" },
	// With --auth: the AUTH reply of a node that does not hold the key.
	{ "auth-mac", kHello, 3, "a well-formed reply with a wrong proof" },
	{ "auth-short", kHello, 1, "a reply shorter than dg_auth_reply" },
	{ "auth-long", kHello, 1, "a reply longer than dg_auth_reply" },
	{ "auth-status", kHello, 2, "an error status, one of 512 and up, or a status with a payload" },
	{ "auth-garbage", kHello, 1, "random bytes" },
	{ "auth-silent", kHello, 1, "no reply to AUTH" },
};
constexpr int kNrHelloModes = sizeof(kHelloModes) / sizeof(kHelloModes[0]);

struct Options {
	std::string host = "127.0.0.1";
	unsigned port = 0;
	bool fs = false;
	std::vector<int> modes;		// indexes in kModes; empty: none
	std::vector<int> hello_modes;	// indexes in kHelloModes
	unsigned hello_pct = 0;		// % of HELLOs spoiled
	std::uint64_t seed = 1;
	std::uint64_t max_bad = 0;	// 0: no limit
	std::uint64_t good_first = 0;	// requests answered well first
	unsigned burst = 32;
	unsigned good_pct = 0;		// % of requests answered well anyway
	bool auth = false;		// offer DG_FEAT_AUTH, spoil every AUTH reply
};

Options opt;
std::atomic<bool> stopping{false};
std::atomic<std::uint64_t> nr_class[kNrClasses];
std::atomic<std::uint64_t> nr_mode[kNrModes + kNrHelloModes];
std::atomic<std::uint64_t> nr_good{0}, nr_requests{0}, nr_conns{0};
std::atomic<std::uint64_t> server_id;

std::uint64_t total_bad()
{
	std::uint64_t n = 0;

	for (auto &c : nr_class)
		n += c.load();
	return n;
}

// Pages written to the memory node: (slab, offset) -> page.
std::mutex store_lock;
std::map<std::pair<std::uint64_t, std::uint64_t>, Buf> store;
constexpr std::size_t kStoreMaxPages = 64 * 1024;	// 256 MiB
std::atomic<std::uint64_t> next_slab{1};

// Little-endian field access into byte buffers.
void put16(std::uint8_t *p, std::uint16_t v) { v = htole16(v); std::memcpy(p, &v, 2); }
void put32(std::uint8_t *p, std::uint32_t v) { v = htole32(v); std::memcpy(p, &v, 4); }
void put64(std::uint8_t *p, std::uint64_t v) { v = htole64(v); std::memcpy(p, &v, 8); }
std::uint16_t get16(const std::uint8_t *p) { std::uint16_t v; std::memcpy(&v, p, 2); return le16toh(v); }
std::uint32_t get32(const std::uint8_t *p) { std::uint32_t v; std::memcpy(&v, p, 4); return le32toh(v); }
std::uint64_t get64(const std::uint8_t *p) { std::uint64_t v; std::memcpy(&v, p, 8); return le64toh(v); }

template <typename T> void put_struct(Buf &b, const T &s)
{
	const auto *p = reinterpret_cast<const std::uint8_t *>(&s);

	b.insert(b.end(), p, p + sizeof(s));
}

void add_hdr(Buf &out, std::uint16_t op, std::uint32_t len, std::uint32_t status,
	     std::uint64_t id, std::uint32_t magic = DG_PROTO_MAGIC,
	     std::uint8_t major = DG_PROTO_MAJOR)
{
	std::uint8_t h[sizeof(dg_hdr)];

	put32(h, magic);
	h[4] = major;
	h[5] = DG_PROTO_MINOR;
	put16(h + 6, op);
	put32(h + 8, len);
	put32(h + 12, status);
	put64(h + 16, id);
	out.insert(out.end(), h, h + sizeof(h));
}

void add_frame(Buf &out, std::uint16_t op, std::uint32_t status, std::uint64_t id,
	       const Buf &payload)
{
	add_hdr(out, op, static_cast<std::uint32_t>(payload.size()), status, id);
	out.insert(out.end(), payload.begin(), payload.end());
}

bool write_all(int fd, const std::uint8_t *p, std::size_t len)
{
	while (len) {
		ssize_t n = ::send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= static_cast<std::size_t>(n);
	}
	return true;
}

bool write_all(int fd, const Buf &b) { return write_all(fd, b.data(), b.size()); }

bool read_all(int fd, std::uint8_t *p, std::size_t len)
{
	while (len) {
		if (stopping.load())
			return false;
		pollfd pfd = { fd, POLLIN, 0 };
		int r = ::poll(&pfd, 1, 200);

		if (r < 0 && errno != EINTR)
			return false;
		if (r <= 0)
			continue;
		ssize_t n = ::recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= static_cast<std::size_t>(n);
	}
	return true;
}

struct Request {
	std::uint16_t op;
	std::uint64_t id;
	Buf payload;
};

class Conn {
public:
	Conn(int fd, std::uint64_t seed) : fd_(fd), rng_(seed) {}
	~Conn() { ::close(fd_); }
	void run();

private:
	std::uint64_t rnd(std::uint64_t n) { return n ? rng_() % n : 0; }
	bool chance(unsigned pct) { return rnd(100) < pct; }
	std::uint32_t huge32() { return static_cast<std::uint32_t>(0x80000000u | rng_()); }
	std::uint64_t any64();
	Buf random_bytes(std::size_t n);
	void count(Class c, int mode_idx, std::uint64_t n = 1);
	bool good_now();
	bool hello(const Request &q);
	bool auth(const Request &q);
	bool answer(const Request &q);
	void good_reply(const Request &q, std::uint32_t &status, Buf &payload);
	void good_fs(const Request &q, std::uint32_t &status, Buf &payload);
	Buf spoil_content(const Request &q, const Buf &good);
	template <class Entry, class Fill>
	Buf spoiled_listing(Fill fill);
	Buf fs_attr(const std::string &path, bool sane = true);
	void add_server_requests(Buf &out);
	bool trickle(const Buf &b);

	int fd_;
	std::mt19937_64 rng_;
	std::uint64_t last_id_ = 0;
	std::uint64_t my_id_ = 1;	// ids of requests we send
};

Buf Conn::random_bytes(std::size_t n)
{
	Buf b(n);

	for (auto &x : b)
		x = static_cast<std::uint8_t>(rng_());
	return b;
}

void Conn::count(Class c, int mode_idx, std::uint64_t n)
{
	nr_class[c] += n;
	nr_mode[mode_idx] += n;
}

bool Conn::good_now()
{
	std::uint64_t n = nr_requests.fetch_add(1);

	return n < opt.good_first || (opt.modes.empty() && opt.hello_modes.empty()) ||
	       chance(opt.good_pct);
}

// The good hello reply in open mode.
Buf hello_reply(std::uint64_t sid, std::mt19937_64 &rng)
{
	dg_hello_reply r;

	std::memset(&r, 0, sizeof(r));
	r.major = htole16(DG_PROTO_MAJOR);
	r.minor = htole16(DG_PROTO_MINOR);
	r.features = htole32(opt.auth ? DG_FEAT_AUTH : 0);
	r.server_id = htole64(sid);
	for (auto &x : r.nonce)
		x = static_cast<std::uint8_t>(rng());
	for (auto &x : r.token)
		x = static_cast<std::uint8_t>(rng());
	Buf b;
	put_struct(b, r);
	return b;
}

bool Conn::hello(const Request &q)
{
	const std::uint16_t rop = DG_OP_HELLO | DG_OP_REPLY;
	Buf out, p = hello_reply(server_id.load(), rng_);
	bool spoil = !good_now() && !opt.hello_modes.empty() && chance(opt.hello_pct);

	if (!spoil) {
		add_frame(out, rop, 0, q.id, p);
		nr_good++;
		return write_all(fd_, out);
	}
	int m = opt.hello_modes[rnd(opt.hello_modes.size())];
	std::string name = kHelloModes[m].name;
	count(kHello, kNrModes + m);
	if (name == "hello-major") {
		put16(p.data(), DG_PROTO_MAJOR + 1);
	} else if (name == "hello-hdr-major") {
		add_hdr(out, rop, static_cast<std::uint32_t>(p.size()), 0, q.id,
			DG_PROTO_MAGIC, DG_PROTO_MAJOR - 1);
		out.insert(out.end(), p.begin(), p.end());
		write_all(fd_, out);
		return true;
	} else if (name == "hello-features") {
		put32(p.data() + 4, chance(50) ? DG_FEAT_RDMA | DG_FEAT_AUTH :
			static_cast<std::uint32_t>(rng_() | 0x80000000u));
	} else if (name == "hello-minor") {
		put16(p.data() + 2, DG_PROTO_MINOR + 1 + rnd(100));
	} else if (name == "hello-short") {
		p.resize(chance(50) ? 56 : rnd(sizeof(dg_hello_reply)));
	} else if (name == "hello-long") {
		auto extra = random_bytes(1 + rnd(4000));
		p.insert(p.end(), extra.begin(), extra.end());
	} else if (name == "hello-status") {
		std::uint32_t st = chance(50) ? EACCES : 4096 + rnd(1u << 30);
		add_frame(out, rop, st, q.id, chance(50) ? Buf() : p);
		return write_all(fd_, out);
	} else if (name == "hello-garbage") {
		return write_all(fd_, random_bytes(1 + rnd(200)));
	} else if (name == "hello-silent") {
		return true;
	} else if (name == "hello-newid") {
		server_id.store(rng_() | 1);
		p = hello_reply(server_id.load(), rng_);
	}
	add_frame(out, rop, 0, q.id, p);
	return write_all(fd_, out);
}

// --auth: we hold no key, so every AUTH reply is bad one way or another;
// a well-formed one carries a proof that cannot be right.
bool Conn::auth(const Request &q)
{
	static const std::vector<std::string> kAuthModes = {
		"auth-mac", "auth-short", "auth-long", "auth-status",
		"auth-garbage", "auth-silent",
	};
	const std::uint16_t rop = DG_OP_AUTH | DG_OP_REPLY;
	const std::string &name = kAuthModes[rnd(kAuthModes.size())];
	Buf out, p = random_bytes(sizeof(dg_auth_reply));
	int m = 0;

	for (int i = 0; i < kNrHelloModes; i++)
		if (name == kHelloModes[i].name)
			m = i;
	count(kHello, kNrModes + m);
	if (name == "auth-short") {
		p.resize(rnd(sizeof(dg_auth_reply)));
	} else if (name == "auth-long") {
		auto extra = random_bytes(1 + rnd(4000));
		p.insert(p.end(), extra.begin(), extra.end());
	} else if (name == "auth-status") {
		std::uint32_t st = chance(50) ? EKEYREJECTED : 512 + rnd(1u << 30);
		add_frame(out, rop, st, q.id, chance(50) ? Buf() : p);
		return write_all(fd_, out);
	} else if (name == "auth-garbage") {
		return write_all(fd_, random_bytes(1 + rnd(200)));
	} else if (name == "auth-silent") {
		return true;
	}
	add_frame(out, rop, 0, q.id, p);
	return write_all(fd_, out);
}

// A made-up file's attributes: "." and names starting with 'd' are
// directories, 'l' symlinks, the rest regular files.
Buf Conn::fs_attr(const std::string &path, bool sane)
{
	dg_fs_attr a;
	std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 :
				       path.rfind('/') + 1);
	std::uint32_t mode = 0100644;

	if (path == "." || (!base.empty() && base[0] == 'd'))
		mode = 040755;
	else if (!base.empty() && base[0] == 'l')
		mode = 0120777;
	std::memset(&a, 0, sizeof(a));
	a.ino = htole64((std::hash<std::string>{}(path) | 1) & 0x7fffffffffffffffull);
	a.dev = htole64(1);
	a.size = htole64(mode == 0100644 ? 8192 : 4096);
	a.blocks = htole64(16);
	a.atime_sec = a.mtime_sec = a.ctime_sec = htole64(1700000000);
	a.mode = htole32(mode);
	a.nlink = htole32(mode == 040755 ? 2 : 1);
	a.blksize = htole32(4096);
	Buf b;
	put_struct(b, a);
	(void)sane;
	return b;
}

void Conn::good_fs(const Request &q, std::uint32_t &status, Buf &payload)
{
	if (q.payload.size() < sizeof(dg_fs_req)) {
		status = EINVAL;
		return;
	}
	const std::uint8_t *r = q.payload.data();
	std::uint32_t plen = get32(r), n2len = get32(r + 4), dlen = get32(r + 8);
	std::uint32_t cnt = get32(r + 36);
	if (sizeof(dg_fs_req) + std::uint64_t(plen) + n2len + dlen > q.payload.size()) {
		status = EINVAL;
		return;
	}
	std::string path(reinterpret_cast<const char *>(r) + sizeof(dg_fs_req), plen);

	switch (q.op) {
	case DG_OP_FS_GETATTR: case DG_OP_FS_SETATTR: case DG_OP_FS_CREATE:
	case DG_OP_FS_MKDIR: case DG_OP_FS_MKNOD: case DG_OP_FS_SYMLINK:
	case DG_OP_FS_LINK:
		payload = fs_attr(q.op == DG_OP_FS_LINK ?
			std::string(reinterpret_cast<const char *>(r) + sizeof(dg_fs_req) + plen, n2len) :
			path);
		break;
	case DG_OP_FS_READ: {
		std::uint64_t off = get64(r + 40);
		std::uint64_t n = off >= 8192 ? 0 : std::min<std::uint64_t>(cnt, 8192 - off);
		n = std::min<std::uint64_t>(n, DG_FS_IO_MAX);
		payload.assign(n, 'x');
		break;
	}
	case DG_OP_FS_WRITE: {
		dg_fs_write_reply w;
		Buf a = fs_attr(path);
		std::memset(&w, 0, sizeof(w));
		w.count = htole32(dlen);
		std::memcpy(&w.attr, a.data(), sizeof(w.attr));
		put_struct(payload, w);
		if (!dlen)
			status = EINVAL;
		break;
	}
	case DG_OP_FS_READLINK:
		payload.assign({ 't', 'a', 'r', 'g', 'e', 't' });
		break;
	case DG_OP_FS_READDIR: {
		// Three entries and the end, on the first call.
		dg_fs_readdir_reply h;
		h.nr = htole32(get64(r + 40) ? 0 : 3);
		h.eof = htole32(1);
		put_struct(payload, h);
		if (get64(r + 40))
			break;
		const char *names[] = { "file", "dir", "link" };
		const std::uint8_t types[] = { 8, 4, 10 };
		for (int i = 0; i < 3; i++) {
			dg_fs_dirent d;
			std::memset(&d, 0, sizeof(d));
			d.ino = htole64(100 + i);
			d.cookie = htole64(10 + i);
			d.name_len = htole16(static_cast<std::uint16_t>(std::strlen(names[i])));
			d.type = types[i];
			put_struct(payload, d);
			payload.insert(payload.end(), names[i], names[i] + std::strlen(names[i]));
			while (payload.size() % 8)
				payload.push_back(0);
		}
		break;
	}
	case DG_OP_FS_READDIRPLUS: {
		// READDIR's three entries, each with its attributes.
		dg_fs_readdir_reply h;
		h.nr = htole32(get64(r + 40) ? 0 : 3);
		h.eof = htole32(1);
		put_struct(payload, h);
		if (get64(r + 40))
			break;
		const char *names[] = { "file", "dir", "link" };
		const std::uint8_t types[] = { 8, 4, 10 };
		for (int i = 0; i < 3; i++) {
			dg_fs_direntplus d;
			Buf a = fs_attr(path + "/" + names[i]);
			std::memset(&d, 0, sizeof(d));
			std::memcpy(&d.attr, a.data(), sizeof(d.attr));
			d.cookie = htole64(10 + i);
			d.name_len = htole16(static_cast<std::uint16_t>(std::strlen(names[i])));
			d.type = types[i];
			put_struct(payload, d);
			payload.insert(payload.end(), names[i], names[i] + std::strlen(names[i]));
			while (payload.size() % 8)
				payload.push_back(0);
		}
		break;
	}
	case DG_OP_FS_STATFS: {
		dg_fs_statfs s;
		std::memset(&s, 0, sizeof(s));
		s.blocks = htole64(1 << 20);
		s.bfree = s.bavail = htole64(1 << 19);
		s.files = htole64(1 << 16);
		s.ffree = htole64(1 << 15);
		s.bsize = s.frsize = htole32(4096);
		s.namelen = htole32(255);
		put_struct(payload, s);
		break;
	}
	case DG_OP_FS_GETXATTR: case DG_OP_FS_LISTXATTR: {
		dg_fs_xattr_reply x;
		std::memset(&x, 0, sizeof(x));
		if (q.op == DG_OP_FS_GETXATTR && cnt) {
			x.size = htole32(std::min(cnt, 5u));
			put_struct(payload, x);
			payload.insert(payload.end(), { 'v', 'a', 'l', 'u', 'e' });
			payload.resize(sizeof(x) + std::min(cnt, 5u));
		} else {
			put_struct(payload, x);
		}
		break;
	}
	case DG_OP_FS_UNLINK: case DG_OP_FS_RMDIR: case DG_OP_FS_RENAME:
	case DG_OP_FS_FSYNC: case DG_OP_FS_SETXATTR: case DG_OP_FS_REMOVEXATTR:
		break;
	default:
		status = EOPNOTSUPP;
	}
}

void Conn::good_reply(const Request &q, std::uint32_t &status, Buf &payload)
{
	status = 0;
	payload.clear();
	switch (q.op) {
	case DG_OP_HEARTBEAT:
		return;
	case DG_OP_STATUS:
		payload.assign({ '{', '}' });
		return;
	case DG_OP_MEM_INFO: {
		dg_mem_info i;
		std::memset(&i, 0, sizeof(i));
		i.capacity = htole64(1ull << 30);
		i.free = htole64(1ull << 30);
		i.slab_size = htole64(4u << 20);
		i.nr_clients = htole32(1);
		put_struct(payload, i);
		return;
	}
	case DG_OP_MEM_ALLOC: {
		if (q.payload.size() != sizeof(dg_mem_alloc)) {
			status = EINVAL;
			return;
		}
		dg_mem_slab s;
		std::memset(&s, 0, sizeof(s));
		s.slab_id = htole64(get64(q.payload.data() + 8) + 1);	// tag + 1
		s.tag = htole64(get64(q.payload.data() + 8));
		s.size = htole64(get64(q.payload.data()));
		put_struct(payload, s);
		return;
	}
	case DG_OP_MEM_FREE:
		return;
	case DG_OP_MEM_READ: case DG_OP_MEM_WRITE: {
		if (q.payload.size() < sizeof(dg_mem_rw)) {
			status = EINVAL;
			return;
		}
		std::uint64_t slab = get64(q.payload.data());
		std::uint64_t off = get64(q.payload.data() + 8);
		std::uint32_t len = get32(q.payload.data() + 16);
		if (len % DG_PAGE_SIZE || len > DG_MEM_RW_MAX ||
		    (q.op == DG_OP_MEM_WRITE && q.payload.size() != sizeof(dg_mem_rw) + len)) {
			status = EINVAL;
			return;
		}
		std::lock_guard<std::mutex> g(store_lock);
		for (std::uint32_t o = 0; o < len; o += DG_PAGE_SIZE) {
			auto key = std::make_pair(slab, off + o);
			if (q.op == DG_OP_MEM_WRITE) {
				const auto *d = q.payload.data() + sizeof(dg_mem_rw) + o;
				if (store.size() < kStoreMaxPages || store.count(key))
					store[key] = Buf(d, d + DG_PAGE_SIZE);
			} else {
				auto it = store.find(key);
				if (it == store.end())
					payload.insert(payload.end(), DG_PAGE_SIZE, 0);
				else
					payload.insert(payload.end(), it->second.begin(),
						       it->second.end());
			}
		}
		return;
	}
	default:
		if (opt.fs && (q.op & 0xff00) == 0x0200)
			return good_fs(q, status, payload);
		status = EOPNOTSUPP;
	}
}

// A value at or past a boundary, or any.
std::uint64_t Conn::any64()
{
	switch (rnd(4)) {
	case 0: return ~0ull;
	case 1: return 1ull << 63;
	case 2: return 0ull;
	default: return static_cast<std::uint64_t>(rng_());
	}
}

// A READDIR or READDIRPLUS reply (@Entry: dg_fs_dirent or
// dg_fs_direntplus) of one bad entry: a huge count, a cookie out of range,
// a name that is empty, too long, not one component or past the frame,
// or the reply cut short. @fill sets the entry's own fields.
template <class Entry, class Fill>
Buf Conn::spoiled_listing(Fill fill)
{
	Buf d;
	dg_fs_readdir_reply h;
	Entry e;
	std::memset(&e, 0, sizeof(e));
	h.nr = htole32(chance(50) ? huge32() : 1 + rnd(5));
	h.eof = htole32(rnd(2));
	put_struct(d, h);
	fill(e);
	e.cookie = htole64(chance(70) ? 20 + rnd(100) : any64());
	e.type = static_cast<std::uint8_t>(rng_());
	std::string name = "n";
	switch (rnd(6)) {
	case 0: e.name_len = htole16(0xffff); break;	// past the frame
	case 1: e.name_len = 0; break;
	case 2: name = "a/b"; break;
	case 3: name = chance(50) ? "." : ".."; break;
	case 4: name = std::string("x\0y", 3); break;
	default: name.assign(256 + rnd(100), 'n'); break;	// > NAME_MAX
	}
	if (name.size() && e.name_len == 0 && rnd(6) != 1)
		e.name_len = htole16(static_cast<std::uint16_t>(name.size()));
	put_struct(d, e);
	d.insert(d.end(), name.begin(), name.end());
	if (chance(50))
		d.resize(d.size() - rnd(d.size() - sizeof(h) + 1));	// cut
	return d;
}

// The good reply's length kept, its fields made nonsense: the parsers'
// checks of counts, names, sizes and attributes.
Buf Conn::spoil_content(const Request &q, const Buf &good)
{
	Buf b = good;

	switch (q.op) {
	case DG_OP_MEM_INFO:
		b.resize(sizeof(dg_mem_info));
		put64(b.data(), any64());
		put64(b.data() + 8, any64());
		put64(b.data() + 16, any64());
		put32(b.data() + 24, huge32());
		return b;
	case DG_OP_MEM_ALLOC:
		b.resize(sizeof(dg_mem_slab));
		switch (rnd(4)) {
		case 0: put64(b.data() + 24, any64()); break;	// size
		case 1: put64(b.data() + 8, any64()); break;	// tag
		default:	// addr, rkey, id, flags: nonsense the client may take
			put64(b.data(), any64());
			put64(b.data() + 16, any64());
			put32(b.data() + 32, huge32());
			put32(b.data() + 36, huge32());
		}
		return b;
	case DG_OP_MEM_READ:
		return random_bytes(good.size());
	case DG_OP_FS_GETATTR: case DG_OP_FS_SETATTR: case DG_OP_FS_CREATE:
	case DG_OP_FS_MKDIR: case DG_OP_FS_MKNOD: case DG_OP_FS_SYMLINK:
	case DG_OP_FS_LINK: case DG_OP_FS_WRITE: {
		std::size_t a = q.op == DG_OP_FS_WRITE ? 8 : 0;
		if (b.size() < a + sizeof(dg_fs_attr))
			b.resize(a + sizeof(dg_fs_attr));
		if (q.op == DG_OP_FS_WRITE && chance(50)) {
			put32(b.data(), chance(50) ? 0 : huge32());	// count
			return b;
		}
		std::uint8_t *p = b.data() + a;
		switch (rnd(7)) {
		case 0: put32(p + 68, static_cast<std::uint32_t>(rng_())); break;	// mode
		case 1: put32(p + 68, 0170644); break;		// no such type
		case 2: put64(p + 16, any64()); break;		// size
		case 3: put32(p + 56 + 4 * rnd(3), huge32()); break;	// nsec
		case 4: put64(p, any64()); put64(p + 8, any64()); break;	// ino, dev
		case 5: put32(p + 72, huge32()); put64(p + 24, any64()); break;	// nlink, blocks
		default:	// times, ids, rdev, blksize
			put64(p + 32 + 8 * rnd(3), any64());
			put32(p + 76, huge32());
			put32(p + 80, huge32());
			put32(p + 84, huge32());
			put32(p + 88, static_cast<std::uint32_t>(rng_()));
		}
		return b;
	}
	case DG_OP_FS_READDIR:
		return spoiled_listing<dg_fs_dirent>(
			[&](dg_fs_dirent &e) { e.ino = htole64(rng_()); });
	case DG_OP_FS_READDIRPLUS:
		// READDIR's bad entries, and attributes no inode may take.
		return spoiled_listing<dg_fs_direntplus>([&](dg_fs_direntplus &e) {
			e.attr.mode = htole32(chance(50) ? static_cast<std::uint32_t>(rng_())
							 : 0170644);
			e.attr.ino = htole64(any64());
			e.attr.size = htole64(any64());
			e.attr.mtime_nsec = htole32(huge32());
		});
	case DG_OP_FS_GETXATTR: case DG_OP_FS_LISTXATTR: {
		if (b.size() < sizeof(dg_fs_xattr_reply))
			b.resize(sizeof(dg_fs_xattr_reply));
		std::uint32_t sz;
		switch (rnd(4)) {
		case 0: sz = huge32(); break;
		case 1: sz = DG_FS_XATTR_SIZE_MAX + 1; break;
		case 2: sz = static_cast<std::uint32_t>(b.size() - 8 + 1 + rnd(100)); break;
		default: sz = static_cast<std::uint32_t>(rnd(b.size())); break;
		}
		put32(b.data(), sz);
		if (q.op == DG_OP_FS_LISTXATTR && chance(50)) {	// no final NUL
			b.resize(8);
			put32(b.data(), 5);
			b.insert(b.end(), { 'u', 's', 'e', 'r', '.' });
		}
		return b;
	}
	case DG_OP_FS_READLINK:
		switch (rnd(3)) {
		case 0: return Buf();
		case 1: return Buf({ 'a', 0, 'b' });
		default: return Buf(DG_FS_PATH_MAX + 1 + rnd(100), 'p');
		}
	case DG_OP_FS_STATFS:
		b.resize(sizeof(dg_fs_statfs));
		for (int i = 0; i < 5; i++)
			put64(b.data() + 8 * i, any64());
		for (int i = 0; i < 4; i++)
			put32(b.data() + 40 + 4 * i, chance(30) ? 0 : huge32());
		return b;
	case DG_OP_FS_READ:
		return random_bytes(good.size() + 1 + rnd(DG_FS_IO_MAX));	// more than asked
	default:
		return random_bytes(good.size() ? good.size() : 1 + rnd(64));
	}
}

void Conn::add_server_requests(Buf &out)
{
	switch (rnd(5)) {
	case 0:
		add_hdr(out, DG_OP_HEARTBEAT, 0, 0, my_id_++);
		break;
	case 1: {
		Buf p(8);
		put64(p.data(), chance(50) ? rnd(300) : rng_());
		add_frame(out, DG_OP_MEM_EVICT, 0, my_id_++, p);
		break;
	}
	case 2:
		add_hdr(out, DG_OP_STATUS, 0, 0, my_id_++);
		break;
	case 3:
		add_frame(out, static_cast<std::uint16_t>(0x0200 + rnd(0x14)), 0, my_id_++,
			  random_bytes(rnd(200)));
		break;
	default:	// a request with a status and a payload
		add_frame(out, DG_OP_HEARTBEAT, static_cast<std::uint32_t>(rng_()), my_id_++,
			  random_bytes(1 + rnd(64)));
	}
}

bool Conn::trickle(const Buf &b)
{
	std::size_t slow = std::min<std::size_t>(b.size(), 256);

	for (std::size_t i = 0; i < slow; i++) {
		if (!write_all(fd_, &b[i], 1) || stopping.load())
			return false;
		std::this_thread::sleep_for(std::chrono::microseconds(200));
	}
	return write_all(fd_, b.data() + slow, b.size() - slow);
}

// Answer @q; false when the connection is to be closed.
bool Conn::answer(const Request &q)
{
	const std::uint16_t rop = q.op | DG_OP_REPLY;
	std::uint32_t status;
	Buf good, out;

	good_reply(q, status, good);
	if (good_now() || opt.modes.empty()) {
		add_frame(out, rop, status, q.id, good);
		nr_good++;
		return write_all(fd_, out);
	}
	int m = opt.modes[rnd(opt.modes.size())];
	std::string name = kModes[m].name;
	std::uint64_t n = 1;

	if (name == "stray-id" || name == "near-id" || name == "burst") {
		n = name == "burst" ? opt.burst : 1 + rnd(8);
		for (std::uint64_t i = 0; i < n; i++) {
			std::uint64_t id;
			if (name == "near-id")
				id = q.id + 1 + rnd(4) - (chance(50) ? 2 : 0);
			else if (chance(30))
				id = last_id_ > 200 ? last_id_ - 1 - rnd(200) : 0;
			else
				id = rng_() | (1ull << 62);
			std::uint16_t op = name == "burst" && chance(50) ?
				static_cast<std::uint16_t>(rng_() | DG_OP_REPLY) : rop;
			if (name == "burst" && chance(30))
				add_frame(out, op, static_cast<std::uint32_t>(rng_()), id,
					  random_bytes(rnd(64)));
			else
				add_frame(out, op, name == "burst" ? 0 : status, id,
					  name == "burst" ? random_bytes(rnd(128)) : good);
		}
		add_frame(out, rop, status, q.id, good);
	} else if (name == "dup") {
		add_frame(out, rop, status, q.id, good);
		add_frame(out, rop, status, q.id, good);
	} else if (name == "server-req" || name == "unknown-req") {
		n = 1 + rnd(4);
		for (std::uint64_t i = 0; i < n; i++) {
			if (name == "server-req")
				add_server_requests(out);
			else
				add_frame(out, static_cast<std::uint16_t>(0x0300 + rnd(0x7c00)) &
					  ~DG_OP_REPLY, 0, my_id_++, random_bytes(rnd(100)));
		}
		add_frame(out, rop, status, q.id, good);
	} else if (name == "bad-status") {
		std::uint32_t st = chance(50) ? 0xffffffffu - static_cast<std::uint32_t>(rnd(4)) :
			4096 + static_cast<std::uint32_t>(rnd(1u << 31));
		add_frame(out, rop, st, q.id, chance(50) ? Buf() : good);
	} else if (name == "status-payload") {
		add_frame(out, rop, 1 + static_cast<std::uint32_t>(rnd(4095)), q.id,
			  good.empty() ? random_bytes(1 + rnd(100)) : good);
	} else if (name == "errno") {
		add_frame(out, rop, 1 + static_cast<std::uint32_t>(rnd(4095)), q.id, Buf());
	} else if (name == "short") {
		Buf p = good;
		// Nothing to cut from an empty reply: a few bytes it lacks.
		p = good.empty() ? random_bytes(1 + rnd(8)) : Buf(good.begin(),
			good.begin() + static_cast<long>(rnd(good.size())));
		add_frame(out, rop, 0, q.id, p);
	} else if (name == "long") {
		Buf p = good;
		std::size_t limit = (opt.fs ? DG_FS_MSG_MAX :
			sizeof(dg_mem_rw) + 16 * DG_PAGE_SIZE) - sizeof(dg_hdr);
		std::size_t extra = chance(50) ? 1 + rnd(64) : 1 + rnd(limit);
		p.resize(std::min(p.size() + extra, limit), 0xa5);
		if (p.size() == good.size())	// at the limit already: longer than it
			n = 0;
		add_frame(out, rop, 0, q.id, p);
	} else if (name == "random-payload") {
		add_frame(out, rop, chance(80) ? 0 : static_cast<std::uint32_t>(rng_()), q.id,
			  random_bytes(rnd(chance(80) ? 256 : 65536)));
	} else if (name == "content") {
		add_frame(out, rop, 0, q.id, spoil_content(q, good));
	} else if (name == "wrong-op") {
		std::uint16_t op;
		do
			op = static_cast<std::uint16_t>(rng_() | DG_OP_REPLY);
		while (op == rop);
		add_frame(out, chance(50) ? (q.op ^ 1) | DG_OP_REPLY : op, status, q.id, good);
		// Without DG_OP_REPLY: the client must not take it for a reply.
		add_frame(out, q.op, status, q.id, good);
		n = 2;
	} else if (name == "len-over") {
		add_hdr(out, rop, chance(50) ? 0xffffffffu :
			DG_MAX_PAYLOAD + 1 + static_cast<std::uint32_t>(rnd(1u << 30)), 0, q.id);
		count(kModes[m].cls, m);
		write_all(fd_, out);
		return false;
	} else if (name == "len-short") {
		add_hdr(out, rop, static_cast<std::uint32_t>(good.size() + 8 + rnd(4096)), 0, q.id);
		out.insert(out.end(), good.begin(), good.end());
		add_frame(out, rop, 0, q.id, good);
	} else if (name == "truncate") {
		add_frame(out, rop, status, q.id, good);
		out.resize(rnd(out.size()));
		count(kModes[m].cls, m);
		write_all(fd_, out);
		return false;
	} else if (name == "garbage") {
		count(kModes[m].cls, m);
		write_all(fd_, random_bytes(1 + rnd(512)));
		return chance(50);
	} else if (name == "bad-magic" || name == "bad-major") {
		add_hdr(out, rop, static_cast<std::uint32_t>(good.size()), 0, q.id,
			name == "bad-magic" ? static_cast<std::uint32_t>(rng_()) : DG_PROTO_MAGIC,
			name == "bad-major" ? static_cast<std::uint8_t>(DG_PROTO_MAJOR + 1 + rnd(200)) :
			DG_PROTO_MAJOR);
		out.insert(out.end(), good.begin(), good.end());
	} else if (name == "oversize") {
		Buf p = random_bytes(DG_MAX_PAYLOAD);
		add_frame(out, rop, 0, q.id, p);
	} else if (name == "trickle") {
		add_frame(out, rop, status, q.id, good);
		count(kModes[m].cls, m);
		return trickle(out);
	} else if (name == "silent") {
		count(kModes[m].cls, m);
		return true;
	} else if (name == "close") {
		count(kModes[m].cls, m);
		return false;
	}
	if (n)
		count(kModes[m].cls, m, n);
	return write_all(fd_, out);
}

void Conn::run()
{
	nr_conns++;
	for (;;) {
		std::uint8_t h[sizeof(dg_hdr)];
		Request q;

		if (!read_all(fd_, h, sizeof(h)))
			return;
		std::uint32_t len = get32(h + 8);
		if (get32(h) != DG_PROTO_MAGIC || h[4] != DG_PROTO_MAJOR ||
		    len > DG_MAX_PAYLOAD) {
			std::fprintf(stderr, "dg-hostile: the client sent a bad header; closing\n");
			return;
		}
		q.op = get16(h + 6);
		q.id = get64(h + 16);
		q.payload.resize(len);
		if (!read_all(fd_, q.payload.data(), len))
			return;
		if (q.op & DG_OP_REPLY)
			continue;	// answers to our heartbeats
		if (q.op == DG_OP_BYE)
			return;
		bool ok = q.op == DG_OP_HELLO ? hello(q) :
			  opt.auth && q.op == DG_OP_AUTH ? auth(q) : answer(q);
		last_id_ = q.id;
		if (!ok || stopping.load())
			return;
		if (opt.max_bad && total_bad() >= opt.max_bad)
			stopping.store(true);
	}
}

void print_counts()
{
	std::printf("dg-hostile: malformed %llu (", static_cast<unsigned long long>(total_bad()));
	for (int c = 0; c < kNrClasses; c++)
		std::printf("%s%s %llu", c ? ", " : "", kClassName[c],
			    static_cast<unsigned long long>(nr_class[c].load()));
	std::printf("), good %llu, requests %llu, connections %llu\n",
		    static_cast<unsigned long long>(nr_good.load()),
		    static_cast<unsigned long long>(nr_requests.load()),
		    static_cast<unsigned long long>(nr_conns.load()));
	std::printf("dg-hostile: by mode:");
	for (int i = 0; i < kNrModes + kNrHelloModes; i++)
		if (nr_mode[i].load())
			std::printf(" %s=%llu", i < kNrModes ? kModes[i].name :
				    kHelloModes[i - kNrModes].name,
				    static_cast<unsigned long long>(nr_mode[i].load()));
	std::printf("\n");
	std::fflush(stdout);
}

// "" or the first word of @s that names no mode.
std::string parse_list(const std::string &s, bool hello, std::vector<int> &out)
{
	std::size_t pos = 0;

	while (pos <= s.size()) {
		std::size_t e = s.find(',', pos);
		std::string w = s.substr(pos, e == std::string::npos ? e : e - pos);
		bool found = false;
		int n = hello ? kNrHelloModes : kNrModes;
		for (int i = 0; i < n; i++) {
			const Mode &m = hello ? kHelloModes[i] : kModes[i];
			bool cls = (w == "stray" && m.cls == kStray) ||
				   (w == "answer" && m.cls == kAnswer) ||
				   (w == "framing" && m.cls == kFraming);
			// AUTH modes are drawn by --auth, never for a HELLO.
			bool auth_mode = hello && !std::strncmp(m.name, "auth-", 5);
			if ((w == m.name && !auth_mode) ||
			    ((w == "all" || cls) && m.weight && !auth_mode)) {
				// The weight makes it likelier in the draw.
				for (unsigned k = 0; k < (w == m.name ? 1 : m.weight); k++)
					out.push_back(i);
				found = true;
			}
		}
		if (!found)
			return w;
		if (e == std::string::npos)
			break;
		pos = e + 1;
	}
	return {};
}

int listen_on(const std::string &host, unsigned port)
{
	addrinfo hints{}, *res;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	std::string ps = std::to_string(port);
	int r = ::getaddrinfo(host.c_str(), ps.c_str(), &hints, &res);
	if (r) {
		std::fprintf(stderr, "dg-hostile: %s: %s\n", host.c_str(), gai_strerror(r));
		return -1;
	}
	int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    ::bind(fd, res->ai_addr, res->ai_addrlen) || ::listen(fd, 16)) {
		std::fprintf(stderr, "dg-hostile: cannot listen on %s:%u: %s\n", host.c_str(),
			     port, std::strerror(errno));
		if (fd >= 0)
			::close(fd);
		fd = -1;
	}
	::freeaddrinfo(res);
	return fd;
}

void on_signal(int) { stopping.store(true); }

}  // namespace

int main(int argc, char **argv)
{
	CLI::App app{"dg-hostile: a memory or storage node (TCP only) that answers with\n"
		     "malformed replies, for the kernel clients' selftests. Prints the counts\n"
		     "of malformed frames when it exits (after --max-bad, SIGTERM or SIGINT).",
		     "dg-hostile"};
	disagg::tool::setup(app);
	bool list = false;
	std::uint16_t port = 0;
	opt.hello_pct = 50;
	disagg::tool::add_host_port(app, "--listen", "ADDR:PORT", "address and port to listen on",
				    opt.host, port, 0);
	disagg::tool::add(app, "--role", "mem|fs", "a memory node (default) or a storage node",
			  [](const std::string &v) {
				  if (v != "mem" && v != "fs")
					  return disagg::invalid("--role", v) + ": expected mem or fs";
				  opt.fs = v == "fs";
				  return std::string();
			  });
	disagg::tool::add(app, "--transport", "tcp", "tcp, the only one", [](const std::string &v) {
		if (disagg::parse_transport(v) != disagg::TransportKind::kTcp)
			return disagg::invalid("--transport", v) + ": only tcp";
		return std::string();
	});
	auto modes = [](const char *name, bool hello) {
		return [name, hello](const std::string &v) {
			std::vector<int> &out = hello ? opt.hello_modes : opt.modes;
			out.clear();
			if (std::string w = parse_list(v, hello, out); !w.empty())
				return disagg::invalid(name, v) + ": unknown mode '" + w +
				       "' (see --list)";
			return std::string();
		};
	};
	disagg::tool::add(app, "--mode", "LIST",
			  "comma-separated modes, or 'all' (every mode with a\n"
			  "weight), 'stray', 'answer', 'framing' (a class);\n"
			  "picked at random per request; none: all good",
			  modes("--mode", false));
	disagg::tool::add(app, "--hello", "LIST", "HELLO modes, or 'all'", modes("--hello", true));
	disagg::tool::add_uint(app, "--hello-pct", "P", "% of HELLOs spoiled (default 50)",
			       opt.hello_pct, 0, 100);
	app.add_flag("--auth", opt.auth,
		     "offer authentication and answer every AUTH badly\n"
		     "(auth-* modes: this node holds no key)");
	disagg::tool::add_uint(app, "--seed", "N", "random schedule (default 1)", opt.seed, 0);
	disagg::tool::add_uint(app, "--max-bad", "N", "exit after N malformed frames (0: never)",
			       opt.max_bad, 0);
	disagg::tool::add_uint(app, "--good-first", "N",
			       "answer the first N requests (HELLO included) well", opt.good_first, 0);
	disagg::tool::add_uint(app, "--good-pct", "P", "answer P% of the others well too",
			       opt.good_pct, 0, 100);
	disagg::tool::add_uint(app, "--burst", "N", "frames per 'burst' (default 32)", opt.burst, 1,
			       4096);
	app.add_flag("--list", list, "print the modes and exit");
	if (int rc = disagg::tool::parse(app, "dg-hostile", argc, argv); rc >= 0)
		return rc;
	if (list) {
		for (const auto &m : kModes)
			std::printf("%-16s %-8s %s\n", m.name, kClassName[m.cls], m.what);
		for (const auto &m : kHelloModes)
			std::printf("%-16s %-8s %s\n", m.name, kClassName[m.cls], m.what);
		return 0;
	}
	if (!port)
		return disagg::tool::usage_error("dg-hostile", "--listen ADDR:PORT is required");
	opt.port = port;

	struct sigaction sa{};
	sa.sa_handler = on_signal;
	::sigaction(SIGTERM, &sa, nullptr);
	::sigaction(SIGINT, &sa, nullptr);
	::signal(SIGPIPE, SIG_IGN);

	std::mt19937_64 seeder(opt.seed);
	server_id.store(seeder() | 1);
	int lfd = listen_on(opt.host, opt.port);
	if (lfd < 0)
		return 1;
	std::printf("dg-hostile: listening on %s:%u as a %s node, seed %llu\n",
		    opt.host.c_str(), opt.port, opt.fs ? "storage" : "memory",
		    static_cast<unsigned long long>(opt.seed));
	std::fflush(stdout);

	struct Worker {
		std::thread t;
		std::shared_ptr<std::atomic<bool>> done;
	};
	std::vector<Worker> workers;
	while (!stopping.load()) {
		// Reap the threads of closed connections.
		for (auto it = workers.begin(); it != workers.end();) {
			if (it->done->load()) {
				it->t.join();
				it = workers.erase(it);
			} else {
				++it;
			}
		}
		pollfd pfd = { lfd, POLLIN, 0 };
		if (::poll(&pfd, 1, 100) <= 0)
			continue;
		int fd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		int one = 1;
		::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		// A client that stops reading does not block us for ever.
		timeval tv = { 5, 0 };
		::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		std::uint64_t s = seeder();
		auto done = std::make_shared<std::atomic<bool>>(false);
		workers.push_back({ std::thread([fd, s, done] {
			Conn(fd, s).run();
			done->store(true);
		}), done });
	}
	::close(lfd);
	for (auto &w : workers)
		w.t.join();
	print_counts();
	return 0;
}
