// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// dg-fsclient: sends one request to disagg-stord, over TCP or RDMA, and
// prints the status and the result. Paths and strings may be any bytes
// (hex forms for NULs), and --raw-hex sends a hand-made frame, so hostile
// requests can be sent on purpose. Exit status: 0 when a reply came (and
// matched --expect, if given), 1 otherwise, 2 for bad arguments.
#include "log.hpp"
#include "memclient.hpp"
#include "tool_cli.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

using namespace disagg;
using namespace disagg::proto;

namespace {

struct Args {
	client::Options conn;
	std::string op;
	std::string path, name2, raw;
	Bytes data;
	FsReq req;
	std::optional<std::string> expect;
	unsigned segs = 1;		// --rdma-fs: segments per READ or WRITE
	std::string out_file;		// --out: a READ's data goes here
};

std::optional<Bytes> from_hex(std::string_view h)
{
	if (h.size() % 2)
		return std::nullopt;
	Bytes out;
	for (std::size_t i = 0; i < h.size(); i += 2) {
		unsigned v = 0;
		for (char c : h.substr(i, 2)) {
			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= static_cast<unsigned>(c - '0');
			else if (c >= 'a' && c <= 'f')
				v |= static_cast<unsigned>(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				v |= static_cast<unsigned>(c - 'A' + 10);
			else
				return std::nullopt;
		}
		out.push_back(static_cast<std::byte>(v));
	}
	return out;
}

std::string as_string(const Bytes &b)
{
	return std::string(reinterpret_cast<const char *>(b.data()), b.size());
}

const std::map<std::string, Op> kOps = {
	{"getattr", Op::kFsGetattr}, {"setattr", Op::kFsSetattr}, {"read", Op::kFsRead},
	{"write", Op::kFsWrite}, {"create", Op::kFsCreate}, {"mkdir", Op::kFsMkdir},
	{"mknod", Op::kFsMknod}, {"symlink", Op::kFsSymlink}, {"link", Op::kFsLink},
	{"unlink", Op::kFsUnlink}, {"rmdir", Op::kFsRmdir}, {"rename", Op::kFsRename},
	{"readlink", Op::kFsReadlink}, {"readdir", Op::kFsReaddir},
	{"statfs", Op::kFsStatfs}, {"fsync", Op::kFsFsync},
	{"getxattr", Op::kFsGetxattr}, {"setxattr", Op::kFsSetxattr},
	{"listxattr", Op::kFsListxattr}, {"removexattr", Op::kFsRemovexattr},
};

std::string set_u32(std::string_view name, std::string_view v, std::uint32_t &out, int base = 10)
{
	std::string s(v);
	char *end = nullptr;
	errno = 0;
	unsigned long long n = std::strtoull(s.c_str(), &end, base);
	if (s.empty() || *end || errno || n > UINT32_MAX)
		return invalid(name, v);
	out = static_cast<std::uint32_t>(n);
	return {};
}

// UID:GID[:G1,G2,...], at most kFsNgroups groups.
std::string set_cred(std::string_view name, std::string_view v, FsCred &out)
{
	FsCred c;
	const std::size_t a = v.find(':');
	if (a == std::string_view::npos)
		return invalid(name, v) + ": expected UID:GID[:GROUPS]";
	const std::size_t b = v.find(':', a + 1);
	std::string e = set_u32(name, v.substr(0, a), c.uid);
	if (e.empty())
		e = set_u32(name, v.substr(a + 1, b == std::string_view::npos ? b : b - a - 1), c.gid);
	for (std::size_t pos = b; e.empty() && pos != std::string_view::npos;) {
		const std::size_t next = v.find(',', pos + 1);
		if (c.ngroups == kFsNgroups)
			return invalid(name, v) + ": too many groups";
		e = set_u32(name, v.substr(pos + 1, next == std::string_view::npos
							 ? next : next - pos - 1),
			    c.groups[c.ngroups++]);
		pos = next;
	}
	if (e.empty())
		out = c;
	return e;
}

// The command line into @a: -1 to go on, else the status to exit with.
int parse(int argc, char **argv, Args &a)
{
	a.conn.rdma = false;
	a.conn.port = kStordPort;
	a.conn.role = Role::kFs;
	a.conn.name = "dg-fsclient";
	a.conn.max_frame = kFsMsgMax;
	a.conn.data_buffer = kPageSize;
	CLI::App app{"dg-fsclient: sends one request to disagg-stord, over TCP or RDMA, and\n"
		     "prints the status and the result. OP: getattr setattr read write create\n"
		     "mkdir mknod symlink link unlink rmdir rename readlink readdir statfs\n"
		     "fsync getxattr setxattr listxattr removexattr, or status (the node's\n"
		     "JSON), or raw (--raw-hex). Exit status: 0 when a reply came (and matched\n"
		     "--expect, if given), 1 otherwise, 2 for bad arguments.",
		     "dg-fsclient"};
	tool::setup(app);
	bool have_path = false;
	std::string key_file, identity, expect;
	app.add_option("OP", a.op, "the request")->required();
	CLI::Option *path_opt = app.add_option_function<std::string>(
		"PATH",
		[&a, &have_path](const std::string &v) {
			a.path = v;
			have_path = true;
		},
		"its path (or --path-hex)");
	tool::add_host_port(app, "--connect", "ADDR[:PORT]",
			    "the node (port " + std::to_string(kStordPort) + " if not given)",
			    a.conn.host, a.conn.port, kStordPort)
		->required();
	tool::add_transport(app, "tcp|rdma", "transport (default tcp)", a.conn.rdma);
	app.add_option("--bind", a.conn.bind, "local address to connect from")->type_name("ADDR");
	tool::add(app, "--timeout", "SECONDS", "per call (default 10, at most 3600)",
		  [&a](const std::string &v) {
			  std::uint32_t s = 0;
			  std::string e = set_u32("--timeout", v, s);
			  a.conn.timeout_ms = static_cast<int>(std::min<std::uint32_t>(s, 3600) * 1000);
			  return e;
		  });
	// Strings as hex bytes (NULs and all).
	auto hex = [](const char *name, auto store) {
		return [name, store](const std::string &v) {
			std::optional<Bytes> b = from_hex(v);
			if (!b)
				return invalid(name, v) + ": expected hex bytes";
			store(*b);
			return std::string();
		};
	};
	tool::add(app, "--path-hex", "HEX", "the path as hex bytes (instead of PATH)",
		  hex("--path-hex", [&a, &have_path](const Bytes &b) {
			  a.path = as_string(b);
			  have_path = true;
		  }))
		->excludes(path_opt);
	app.add_option("--name2", a.name2, "second string: new path, target, xattr name")
		->type_name("STR");
	tool::add(app, "--name2-hex", "HEX", "... as hex bytes",
		  hex("--name2-hex", [&a](const Bytes &b) { a.name2 = as_string(b); }));
	tool::add(app, "--data", "STR", "data of a write or setxattr", [&a](const std::string &v) {
		auto b = std::as_bytes(std::span(v.data(), v.size()));
		a.data.assign(b.begin(), b.end());
		return std::string();
	});
	tool::add(app, "--data-hex", "HEX", "... as hex bytes",
		  hex("--data-hex", [&a](const Bytes &b) { a.data = b; }));
	tool::add(app, "--data-file", "FILE", "... from a file", [&a](const std::string &v) {
		std::FILE *f = std::fopen(v.c_str(), "rb");
		if (!f)
			return invalid("--data-file", v) + ": " + std::strerror(errno);
		a.data.clear();
		std::byte buf[65536];
		std::size_t n;
		while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0)
			a.data.insert(a.data.end(), buf, buf + n);
		std::fclose(f);
		return std::string();
	});
	app.add_option("--out", a.out_file, "write a read's data to FILE (not printed then)")
		->type_name("FILE");
	app.add_flag("--rdma-fs", a.conn.rdma_fs,
		     "offer DG_FEAT_RDMA_FS (RDMA only); read and write then move the\n"
		     "data one-sided: the node writes into / reads from a buffer of\n"
		     "ours named by --segs segments (DG_FS_IO_SEGS)");
	tool::add(app, "--segs", "N", "with --rdma-fs: segments per read or write, 1-4 (default 1)",
		  [&a](const std::string &v) {
			  std::uint32_t n = 0;
			  std::string e = set_u32("--segs", v, n);
			  if (e.empty() && (n < 1 || n > kFsSegsMax))
				  e = invalid("--segs", v) + ": 1 to 4";
			  a.segs = n;
			  return e;
		  });
	tool::add(app, "--offset", "N", "dg_fs_req.offset (0x and 0 prefixes: hex, octal)",
		  [&a](const std::string &v) {
			  char *end = nullptr;
			  errno = 0;
			  a.req.offset = std::strtoull(v.c_str(), &end, 0);
			  if (v.empty() || *end || errno)
				  return invalid("--offset", v);
			  return std::string();
		  });
	// dg_fs_req's 32-bit fields, in base @base (0: C prefixes).
	auto u32 = [&app](const char *name, const char *help, std::uint32_t &out, int base) {
		tool::add(app, name, base == 8 ? "OCTAL" : "N", help,
			  [name, &out, base](const std::string &v) { return set_u32(name, v, out, base); });
	};
	u32("--count", "bytes to read, entries' bytes", a.req.count, 10);
	u32("--mode", "file mode, octal", a.req.mode, 8);
	u32("--uid", "owner of a setattr", a.req.uid, 10);
	u32("--gid", "group of a setattr", a.req.gid, 10);
	u32("--rdev", "device number of a mknod", a.req.rdev, 0);
	u32("--flags", "raw dg_fs_req.flags", a.req.flags, 0);
	u32("--valid", "raw dg_fs_req.valid", a.req.valid, 0);
	tool::add(app, "--as", "UID:GID[:G1,G2...]",
		  "the caller's credentials (default 0:0, no groups)",
		  [&a](const std::string &v) { return set_cred("--as", v, a.req.cred); });
	tool::add(app, "--raw-hex", "HEX", "with OP raw: send these bytes as one frame",
		  hex("--raw-hex", [&a](const Bytes &b) { a.raw = as_string(b); }));
	CLI::Option *expect_opt = app.add_option("--expect", expect,
		       "exit 1 unless the status is ERR (0, OK, EXDEV,\n"
		       "18...) or, with 'closed', unless the node closed\n"
		       "the connection")
		->type_name("ERR");
	tool::add_key_options(app, key_file, identity);
	if (int rc = tool::parse(app, "dg-fsclient", argc, argv); rc >= 0)
		return rc;
	if (expect_opt->count())
		a.expect = expect;
	std::string e;
	if (a.conn.rdma_fs && !a.conn.rdma)
		return tool::usage_error("dg-fsclient", "--rdma-fs needs --transport rdma");
	if (a.conn.rdma_fs) {
		// The registered buffer: the largest one-sided transfer we make.
		const std::size_t len = std::max<std::size_t>(
			{a.data.size(), a.req.count, kPageSize});
		a.conn.data_buffer = (len + kPageSize - 1) / kPageSize * kPageSize;
	}
	if (a.op != "status" && a.op != "raw" && !kOps.contains(a.op))
		e = "unknown OP '" + log::escape(a.op) + "'";
	else if (kOps.contains(a.op) && !have_path)
		e = "OP " + a.op + " needs a PATH";
	else
		e = client::use_key_file(a.conn, key_file, identity);
	return e.empty() ? -1 : tool::usage_error("dg-fsclient", e);
}

std::string errno_name(std::uint32_t e)
{
	if (e == 0)
		return "OK";
	const char *n = ::strerrorname_np(static_cast<int>(e));
	return n ? n : "E?";
}

// "EXDEV", "18", "0", "OK" against a status.
bool matches(const std::string &want, std::uint32_t status)
{
	if (want == "0" || want == "OK")
		return status == 0;
	if (!want.empty() && want[0] >= '0' && want[0] <= '9')
		return std::to_string(status) == want;
	return errno_name(status) == want;
}

void print_attr(const char *what, const FsAttr &a)
{
	std::printf("%s: ino %llu mode %o nlink %u uid %u gid %u size %llu rdev %#x "
		    "mtime %llu.%09u\n", what, static_cast<unsigned long long>(a.ino), a.mode,
		    a.nlink, a.uid, a.gid, static_cast<unsigned long long>(a.size), a.rdev,
		    static_cast<unsigned long long>(a.mtime_sec), a.mtime_nsec);
}

void print_body(const Body &body)
{
	std::string_view bytes;
	if (const auto *d = std::get_if<Data>(&body)) {
		bytes = std::string_view(reinterpret_cast<const char *>(d->bytes.data()),
					 d->bytes.size());
		std::printf("data: %zu bytes: \"%s\"\n", bytes.size(), log::escape(bytes).c_str());
	} else if (const auto *a = std::get_if<FsAttr>(&body)) {
		print_attr("attr", *a);
	} else if (const auto *w = std::get_if<FsWriteReply>(&body)) {
		std::printf("written: %u bytes\n", w->count);
		print_attr("attr", w->attr);
	} else if (const auto *r = std::get_if<FsReaddir>(&body)) {
		std::printf("entries: %zu, eof %d\n", r->entries.size(), r->eof);
		for (const FsDirent &e : r->entries)
			std::printf("  \"%s\" ino %llu type %u cookie %llu\n",
				    log::escape(e.name).c_str(),
				    static_cast<unsigned long long>(e.ino), e.type,
				    static_cast<unsigned long long>(e.cookie));
	} else if (const auto *s = std::get_if<FsStatfs>(&body)) {
		std::printf("statfs: blocks %llu bfree %llu bavail %llu files %llu ffree %llu "
			    "bsize %u frsize %u namelen %u\n",
			    static_cast<unsigned long long>(s->blocks),
			    static_cast<unsigned long long>(s->bfree),
			    static_cast<unsigned long long>(s->bavail),
			    static_cast<unsigned long long>(s->files),
			    static_cast<unsigned long long>(s->ffree), s->bsize, s->frsize, s->namelen);
	} else if (const auto *x = std::get_if<FsXattr>(&body)) {
		bytes = std::string_view(reinterpret_cast<const char *>(x->value.data()),
					 x->value.size());
		std::printf("xattr: size %u value \"%s\"\n", x->size, log::escape(bytes).c_str());
	}
}

// The request, built byte by byte so that strings the codec refuses (NULs)
// can be sent too: encoded with NULs replaced, then patched back.
Bytes build(Op op, const Args &a)
{
	std::string path = a.path, name2 = a.name2;
	std::replace(path.begin(), path.end(), '\0', 'x');
	std::replace(name2.begin(), name2.end(), '\0', 'x');
	FsReq req = a.req;
	req.path = path;
	req.name2 = name2;
	req.data = a.data;
	if (path.empty() || path.size() > kFsPathMax)
		req.path = "x";	// patched below: only lengths matter to the codec
	Result<Bytes> f = make_request(op, 1, req);
	if (!f)
		return {};
	Bytes out = std::move(f).value();
	// Put the real strings in, whatever their lengths.
	Bytes tail;
	auto add = [&tail](std::string_view s) {
		auto b = std::as_bytes(std::span(s.data(), s.size()));
		tail.insert(tail.end(), b.begin(), b.end());
	};
	add(a.path);
	add(a.name2);
	tail.insert(tail.end(), a.data.begin(), a.data.end());
	out.resize(kHdrSize + kFsReqSize);
	out.insert(out.end(), tail.begin(), tail.end());
	auto put32 = [&out](std::size_t off, std::size_t v) {
		for (int i = 0; i < 4; i++)
			out[off + i] = static_cast<std::byte>(v >> (8 * i));
	};
	put32(offsetof(dg_hdr, length), kFsReqSize + tail.size());
	put32(kHdrSize + offsetof(dg_fs_req, path_len), a.path.size());
	return out;
}

client::Reply call_raw(client::Conn &c, Op op, const Args &a);

// READ or WRITE with --rdma-fs: the data part names our buffer, split
// into a.segs segments (as equal as may be), instead of carrying data.
// @io: the buffer. Empty frame (error()) when it cannot be registered.
client::Reply call_rdma_fs(client::Conn &c, Op op, Args a, std::span<std::byte> &io)
{
	client::Reply r;
	const std::size_t len = op == Op::kFsWrite ? a.data.size() : a.req.count;
	if (len == 0 || len > c.data_buffer().size()) {
		r.err = EINVAL;
		return r;
	}
	io = c.data_buffer().first(len);
	if (op == Op::kFsWrite)
		std::copy(a.data.begin(), a.data.end(), io.begin());
	std::optional<std::uint32_t> rkey = c.reg_remote(io, op == Op::kFsRead);
	if (!rkey) {
		r.err = EIO;
		return r;
	}
	const std::size_t n = std::min<std::size_t>(a.segs, len);
	std::vector<FsSeg> segs;
	std::size_t pos = 0;
	for (std::size_t i = 0; i < n; i++) {
		const std::size_t piece = i + 1 == n ? len - pos : len / n;
		segs.push_back(FsSeg{reinterpret_cast<std::uintptr_t>(io.data() + pos),
				     static_cast<std::uint32_t>(piece), *rkey});
		pos += piece;
	}
	a.req.flags |= DG_FS_IO_SEGS;
	a.req.count = static_cast<std::uint32_t>(len);
	a.data = encode_fs_segs(segs);
	return call_raw(c, op, a);
}

client::Reply call_raw(client::Conn &c, Op op, const Args &a)
{
	client::Reply r;
	Bytes f = build(op, a);
	if (f.empty() || !c.send_raw(f)) {
		r.err = EIO;
		return r;
	}
	r.frame = c.recv_frame(a.conn.timeout_ms, r.err);
	if (r.frame.empty()) {
		r.err = r.err ? r.err : ECONNRESET;
		return r;
	}
	Result<Hdr> h = decode_hdr(r.frame);
	r.status = h ? h->status : EBADMSG;
	return r;
}

}  // namespace

int main(int argc, char **argv)
{
	Args a;
	if (int rc = parse(argc, argv, a); rc >= 0)
		return rc;
	if (a.op == "status")
		a.conn.role = Role::kCtl;
	std::string err;
	std::unique_ptr<client::Conn> c = client::Conn::open(a.conn, err);
	if (!c) {
		std::fprintf(stderr, "dg-fsclient: %s\n", err.c_str());
		return 1;
	}
	client::Reply r;
	std::span<std::byte> io;	// --rdma-fs: the buffer the node used
	if (a.op == "status") {
		r = c->call(Op::kStatus);
	} else if (a.op == "raw") {
		if (!c->send_raw(std::as_bytes(std::span(a.raw.data(), a.raw.size())))) {
			std::fprintf(stderr, "dg-fsclient: %s\n", c->error().c_str());
			return 1;
		}
		int rerr = 0;
		r.frame = c->recv_frame(a.conn.timeout_ms, rerr);
		if (r.frame.empty()) {
			std::printf("no reply: %s\n", rerr ? std::strerror(rerr) : "closed");
			return a.expect && *a.expect == "closed" ? 0 : 1;
		}
		Result<Hdr> h = decode_hdr(r.frame);
		r.status = h ? h->status : EBADMSG;
	} else if (a.conn.rdma_fs && (a.op == "read" || a.op == "write") &&
		   !(a.req.flags & DG_FS_IO_SEGS)) {
		// (With DG_FS_IO_SEGS in --flags the segments are the caller's
		// own, in --data-hex: sent as they are.)
		r = call_rdma_fs(*c, kOps.at(a.op), a, io);
	} else {
		r = call_raw(*c, kOps.at(a.op), a);
	}
	if (r.err) {
		std::printf("no reply: %s\n",
			    c->error().empty() ? std::strerror(r.err) : c->error().c_str());
		return a.expect && *a.expect == "closed" ? 0 : 1;
	}
	std::printf("status %u %s\n", r.status, errno_name(r.status).c_str());
	if (r.status == 0) {
		Result<Message> m = r.message();
		const Data *d = m ? std::get_if<Data>(&m->body) : nullptr;
		std::span<const std::byte> data;
		if (!m) {
			std::printf("undecodable reply: %s\n", std::string(to_string(m.error())).c_str());
		} else if (d && !io.empty()) {
			// One-sided: the reply says how much landed in our buffer.
			Result<std::uint32_t> n = decode_fs_rdma_read_reply(d->bytes);
			if (!n || *n > io.size()) {
				std::printf("bad one-sided read reply\n");
				return 1;
			}
			data = io.first(*n);
			std::printf("one-sided: %zu bytes in %u segments\n", data.size(), a.segs);
		} else if (d) {
			data = d->bytes;
		}
		if (d && !a.out_file.empty()) {
			std::FILE *f = std::fopen(a.out_file.c_str(), "wb");
			if (!f || std::fwrite(data.data(), 1, data.size(), f) != data.size() ||
			    std::fclose(f) != 0) {
				std::fprintf(stderr, "dg-fsclient: %s: %s\n", a.out_file.c_str(),
					     std::strerror(errno));
				return 1;
			}
			std::printf("data: %zu bytes to %s\n", data.size(), a.out_file.c_str());
		} else if (d) {
			print_body(Data{data});
		} else if (m) {
			print_body(m->body);
		}
	}
	c->bye();
	if (a.expect && !matches(*a.expect, r.status)) {
		std::fprintf(stderr, "dg-fsclient: expected %s, got %s\n", a.expect->c_str(),
			     errno_name(r.status).c_str());
		return 1;
	}
	return 0;
}
