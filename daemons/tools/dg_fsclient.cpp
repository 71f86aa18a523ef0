// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// dg-fsclient: sends one request to disagg-stord, over TCP or RDMA, and
// prints the status and the result. Paths and strings may be any bytes
// (hex forms for NULs), and --raw-hex sends a hand-made frame, so hostile
// requests can be sent on purpose. Exit status: 0 when a reply came (and
// matched --expect, if given), 1 otherwise, 2 for bad arguments.
#include "cli.hpp"
#include "log.hpp"
#include "memclient.hpp"

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

const char *kUsage =
	"usage: dg-fsclient --connect ADDR[:PORT] [options] OP [PATH]\n"
	"OP: getattr setattr read write create mkdir mknod symlink link unlink rmdir\n"
	"    rename readlink readdir statfs fsync getxattr setxattr listxattr\n"
	"    removexattr, or status (the node's JSON), or raw (--raw-hex)\n"
	"  --transport tcp|rdma   (default tcp)\n"
	"  --bind ADDR            local address to connect from\n"
	"  --timeout SECONDS      per call (default 10)\n"
	"  --path-hex HEX         the path as hex bytes (instead of PATH)\n"
	"  --name2 STR, --name2-hex HEX   second string: new path, target, xattr name\n"
	"  --data STR, --data-hex HEX     data of a write or setxattr\n"
	"  --offset N --count N --mode OCTAL --uid N --gid N --rdev N\n"
	"  --as UID:GID[:G1,G2...]  the caller's credentials (default 0:0, no groups)\n"
	"  --flags N --valid N    raw dg_fs_req fields\n"
	"  --raw-hex HEX          with OP raw: send these bytes as one frame\n"
	"  --expect ERR           exit 1 unless the status is ERR (0, EXDEV, 18...)\n"
	"%s";

struct Args {
	client::Options conn;
	std::string op;
	std::string path, name2, raw;
	Bytes data;
	FsReq req;
	std::optional<std::string> expect;
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

std::string parse(int argc, char **argv, Args &a)
{
	a.conn.rdma = false;
	a.conn.port = kStordPort;
	a.conn.role = Role::kFs;
	a.conn.name = "dg-fsclient";
	a.conn.max_frame = kFsMsgMax;
	a.conn.data_buffer = kPageSize;
	std::vector<std::string> positional;
	bool have_path = false;
	std::string key_file, identity;
	for (int i = 1; i < argc; i++) {
		std::string_view arg = argv[i];
		if (arg.substr(0, 2) != "--" || arg == "--") {
			positional.emplace_back(arg);
			continue;
		}
		if (arg == "--help")
			return "help";
		if (i + 1 >= argc)
			return "option '" + std::string(arg) + "' needs a value";
		std::string_view v = argv[++i];
		std::string e;
		std::optional<Bytes> hex;
		if (arg == "--connect") {
			if (!parse_host_port(v, a.conn.host, a.conn.port, kStordPort))
				e = invalid(arg, v);
		} else if (arg == "--transport") {
			std::optional<TransportKind> t = parse_transport(v);
			if (!t)
				e = invalid(arg, v) + ": expected rdma or tcp";
			a.conn.rdma = t == TransportKind::kRdma;
		} else if (arg == "--bind") {
			a.conn.bind = v;
		} else if (arg == "--timeout") {
			std::uint32_t s = 0;
			e = set_u32(arg, v, s);
			a.conn.timeout_ms = static_cast<int>(std::min<std::uint32_t>(s, 3600) * 1000);
		} else if (arg == "--path-hex" || arg == "--name2-hex" || arg == "--data-hex" ||
			   arg == "--raw-hex") {
			if (!(hex = from_hex(v)))
				return invalid(arg, v) + ": expected hex bytes";
			if (arg == "--path-hex") {
				a.path = as_string(*hex);
				have_path = true;
			} else if (arg == "--name2-hex") {
				a.name2 = as_string(*hex);
			} else if (arg == "--data-hex") {
				a.data = *hex;
			} else {
				a.raw = as_string(*hex);
			}
		} else if (arg == "--name2") {
			a.name2 = v;
		} else if (arg == "--data") {
			auto b = std::as_bytes(std::span(v.data(), v.size()));
			a.data.assign(b.begin(), b.end());
		} else if (arg == "--offset") {
			std::string s(v);
			char *end = nullptr;
			a.req.offset = std::strtoull(s.c_str(), &end, 0);
			if (s.empty() || *end)
				e = invalid(arg, v);
		} else if (arg == "--count") {
			e = set_u32(arg, v, a.req.count);
		} else if (arg == "--mode") {
			e = set_u32(arg, v, a.req.mode, 8);
		} else if (arg == "--uid") {
			e = set_u32(arg, v, a.req.uid);
		} else if (arg == "--gid") {
			e = set_u32(arg, v, a.req.gid);
		} else if (arg == "--as") {
			e = set_cred(arg, v, a.req.cred);
		} else if (arg == "--rdev") {
			e = set_u32(arg, v, a.req.rdev, 0);
		} else if (arg == "--flags") {
			e = set_u32(arg, v, a.req.flags, 0);
		} else if (arg == "--valid") {
			e = set_u32(arg, v, a.req.valid, 0);
		} else if (arg == "--expect") {
			a.expect = v;
		} else if (arg == "--key-file") {
			key_file = v;
		} else if (arg == "--identity") {
			identity = v;
		} else {
			e = "unknown option '" + log::escape(arg) + "'";
		}
		if (!e.empty())
			return e;
	}
	if (positional.empty())
		return "no OP given";
	a.op = positional[0];
	if (positional.size() > 1) {
		a.path = positional[1];
		have_path = true;
	}
	if (positional.size() > 2)
		return "unexpected argument '" + log::escape(positional[2]) + "'";
	if (a.op != "status" && a.op != "raw" && !kOps.contains(a.op))
		return "unknown OP '" + log::escape(a.op) + "'";
	if (kOps.contains(a.op) && !have_path)
		return "OP " + a.op + " needs a PATH";
	return client::use_key_file(a.conn, key_file, identity);
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
	if (std::string e = parse(argc, argv, a); !e.empty()) {
		if (e == "help") {
			std::printf(kUsage, client::kKeyUsage);
			return 0;
		}
		std::fprintf(stderr, "dg-fsclient: %s\n", e.c_str());
		std::fprintf(stderr, kUsage, client::kKeyUsage);
		return 2;
	}
	if (a.op == "status")
		a.conn.role = Role::kCtl;
	std::string err;
	std::unique_ptr<client::Conn> c = client::Conn::open(a.conn, err);
	if (!c) {
		std::fprintf(stderr, "dg-fsclient: %s\n", err.c_str());
		return 1;
	}
	client::Reply r;
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
		if (m)
			print_body(m->body);
		else
			std::printf("undecodable reply: %s\n", std::string(to_string(m.error())).c_str());
	}
	c->bye();
	if (a.expect && !matches(*a.expect, r.status)) {
		std::fprintf(stderr, "dg-fsclient: expected %s, got %s\n", a.expect->c_str(),
			     errno_name(r.status).c_str());
		return 1;
	}
	return 0;
}
