// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "proto.hpp"

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstring>

namespace disagg::proto {
namespace {

// Byte-wise little-endian access to one field of a proto.h struct. Offsets
// and widths come from the C header itself (offsetof/sizeof), so the codec
// cannot drift from it; callers have checked the buffer's size first.

template <std::size_t N>
std::uint64_t load_le(ByteSpan in, std::size_t off)
{
	static_assert(N == 1 || N == 2 || N == 4 || N == 8);
	assert(off + N <= in.size());
	std::uint64_t v = 0;
	for (std::size_t i = 0; i < N; i++)
		v |= std::to_integer<std::uint64_t>(in[off + i]) << (8 * i);
	return v;
}

template <std::size_t N>
void store_le(std::span<std::byte> out, std::size_t off, std::uint64_t v)
{
	static_assert(N == 1 || N == 2 || N == 4 || N == 8);
	assert(off + N <= out.size());
	for (std::size_t i = 0; i < N; i++)
		out[off + i] = static_cast<std::byte>(v >> (8 * i));
}

// Load into @dst, whose width must be the field's.
template <std::size_t N, class T>
void get_le(ByteSpan in, std::size_t off, T &dst)
{
	static_assert(sizeof(T) == N, "host field and wire field differ in width");
	dst = static_cast<T>(load_le<N>(in, off));
}

template <std::size_t N, class T>
void put_le(std::span<std::byte> out, std::size_t off, T v)
{
	static_assert(sizeof(T) == N, "host field and wire field differ in width");
	store_le<N>(out, off, static_cast<std::uint64_t>(v));
}

bool all_zero(ByteSpan in, std::size_t off, std::size_t len)
{
	assert(off + len <= in.size());
	ByteSpan s = in.subspan(off, len);
	return std::all_of(s.begin(), s.end(),
			   [](std::byte b) { return b == std::byte{0}; });
}

// Byte arrays have no endianness. memcpy() must not see the null pointer of
// an empty span, even for zero bytes.
void get_bytes(ByteSpan in, std::size_t off, std::span<std::uint8_t> dst)
{
	assert(off + dst.size() <= in.size());
	if (!dst.empty())
		std::memcpy(dst.data(), in.data() + off, dst.size());
}

void put_bytes(std::span<std::byte> out, std::size_t off, ByteSpan src)
{
	assert(off + src.size() <= out.size());
	if (!src.empty())
		std::memcpy(out.data() + off, src.data(), src.size());
}

#define DG_GET(dst, in, type, member) \
	get_le<sizeof(type::member)>(in, offsetof(type, member), dst)
#define DG_PUT(out, type, member, v) \
	put_le<sizeof(type::member)>(out, offsetof(type, member), v)
#define DG_ZERO(in, type, member) \
	all_zero(in, offsetof(type, member), sizeof(type::member))

// The header, field by field, so a layout change in proto.h fails here.
static_assert(offsetof(dg_hdr, magic) == 0 && offsetof(dg_hdr, major) == 4 &&
	      offsetof(dg_hdr, minor) == 5 && offsetof(dg_hdr, opcode) == 6 &&
	      offsetof(dg_hdr, length) == 8 && offsetof(dg_hdr, status) == 12 &&
	      offsetof(dg_hdr, req_id) == 16);
static_assert(offsetof(dg_hello, nonce) == 24 &&
	      offsetof(dg_hello, name_len) == 56 && offsetof(dg_hello, name) == 64);
static_assert(sizeof(dg_hello::name) == kNameMax &&
	      sizeof(dg_hello::nonce) == kNonceLen &&
	      sizeof(dg_hello_reply::nonce) == kNonceLen &&
	      sizeof(dg_auth::mac) == kMacLen);
static_assert(offsetof(dg_hello_reply, token) == 56 && sizeof(dg_hello_reply::token) == kTokenLen &&
	      offsetof(dg_auth, id_len) == 32 && offsetof(dg_auth, reserved) == 34 &&
	      offsetof(dg_auth, id) == 40 && sizeof(dg_auth::id) == kNameMax &&
	      offsetof(dg_auth_reply, token) == 32 && sizeof(dg_auth_reply::mac) == kMacLen &&
	      sizeof(dg_auth_reply::token) == kTokenLen);

bool page_aligned(std::uint64_t v)
{
	return v % kPageSize == 0;
}

// Checks, one per payload type; the decoders have already checked sizes and
// reserved fields, which do not exist in the host structs.

Errc check_one(const Empty &) { return Errc::kOk; }
Errc check_one(const HelloReply &) { return Errc::kOk; }
Errc check_one(const AuthReply &) { return Errc::kOk; }

Errc check_one(const Auth &a)
{
	if (a.id.empty() || a.id.size() > kNameMax)
		return Errc::kBadNameLen;
	return valid_identity(a.id) ? Errc::kOk : Errc::kBadValue;
}
Errc check_one(const MemFree &) { return Errc::kOk; }
Errc check_one(const MemResize &m)
{
	if (m.capacity == 0)
		return Errc::kBadValue;
	return m.capacity % kPageSize ? Errc::kBadAlign : Errc::kOk;
}

Errc check_one(const Hello &h)
{
	if (h.role != Role::kSwap && h.role != Role::kFs && h.role != Role::kCtl)
		return Errc::kBadRole;
	if (h.name.size() > kNameMax)
		return Errc::kBadNameLen;
	return Errc::kOk;
}

Errc check_one(const MemInfo &m)
{
	if (m.free > m.capacity)
		return Errc::kBadValue;
	if (!page_aligned(m.slab_size))
		return Errc::kBadAlign;
	return m.slab_size ? Errc::kOk : Errc::kBadValue;
}

Errc check_one(const MemAlloc &m)
{
	if (m.size == 0)
		return Errc::kBadValue;
	return page_aligned(m.size) ? Errc::kOk : Errc::kBadAlign;
}

Errc check_one(const MemSlab &m)
{
	if (m.size == 0 || (m.flags & ~kSlabResumed))
		return Errc::kBadValue;
	return page_aligned(m.size) ? Errc::kOk : Errc::kBadAlign;
}

Errc check_one(const MemRw &m)
{
	if (!page_aligned(m.offset) || !page_aligned(m.len))
		return Errc::kBadAlign;
	if (m.len == 0 || m.len > kMaxRwLen)
		return Errc::kBadValue;
	if (m.offset > UINT64_MAX - m.len)
		return Errc::kBadValue;
	return Errc::kOk;
}

Errc check_one(const MemWrite &m)
{
	if (Errc e = check_one(m.rw); e != Errc::kOk)
		return e;
	return m.data.size() == m.rw.len ? Errc::kOk : Errc::kBadSize;
}

Errc check_one(const Data &d)
{
	return d.bytes.size() <= kMaxPayload ? Errc::kOk : Errc::kTooLong;
}

bool has_nul(std::string_view s)
{
	return s.find('\0') != std::string_view::npos;
}

Errc check_one(const FsReq &r)
{
	if (r.path.empty() || r.path.size() > kFsPathMax || r.name2.size() > kFsPathMax ||
	    r.data.size() > kFsIoMax)
		return Errc::kBadSize;
	if (has_nul(r.path) || has_nul(r.name2))
		return Errc::kBadValue;
	if (r.cred.ngroups > kFsNgroups)
		return Errc::kBadValue;
	for (std::size_t i = r.cred.ngroups; i < kFsNgroups; i++)
		if (r.cred.groups[i] != 0)
			return Errc::kBadReserved;
	return Errc::kOk;
}

Errc check_one(const FsAttr &) { return Errc::kOk; }
Errc check_one(const FsWriteReply &) { return Errc::kOk; }
Errc check_one(const FsStatfs &) { return Errc::kOk; }

Errc check_one(const FsReaddir &r)
{
	for (const FsDirent &e : r.entries)
		if (e.name.empty() || e.name.size() > kFsNameMax || has_nul(e.name) ||
		    e.name.find('/') != std::string::npos)
			return Errc::kBadValue;
	return Errc::kOk;
}

Errc check_one(const FsXattr &x)
{
	if (x.size > kFsXattrSizeMax)
		return Errc::kBadValue;
	if (!x.value.empty() && x.value.size() != x.size)
		return Errc::kBadSize;
	return Errc::kOk;
}

// Encoders, one per payload type, into a zeroed buffer of payload_size().

void put(const Empty &, std::span<std::byte>) {}

void put(const Hello &h, std::span<std::byte> out)
{
	DG_PUT(out, dg_hello, major, h.major);
	DG_PUT(out, dg_hello, minor, h.minor);
	DG_PUT(out, dg_hello, role, static_cast<std::uint32_t>(h.role));
	DG_PUT(out, dg_hello, features, h.features);
	DG_PUT(out, dg_hello, client_id, h.client_id);
	put_bytes(out, offsetof(dg_hello, nonce), std::as_bytes(std::span(h.nonce)));
	DG_PUT(out, dg_hello, name_len, static_cast<std::uint16_t>(h.name.size()));
	put_bytes(out, offsetof(dg_hello, name),
		  std::as_bytes(std::span(h.name.data(), h.name.size())));
}

void put(const HelloReply &h, std::span<std::byte> out)
{
	DG_PUT(out, dg_hello_reply, major, h.major);
	DG_PUT(out, dg_hello_reply, minor, h.minor);
	DG_PUT(out, dg_hello_reply, features, h.features);
	DG_PUT(out, dg_hello_reply, server_id, h.server_id);
	put_bytes(out, offsetof(dg_hello_reply, nonce),
		  std::as_bytes(std::span(h.nonce)));
	put_bytes(out, offsetof(dg_hello_reply, token), std::as_bytes(std::span(h.token)));
}

void put(const Auth &a, std::span<std::byte> out)
{
	put_bytes(out, offsetof(dg_auth, mac), std::as_bytes(std::span(a.mac)));
	DG_PUT(out, dg_auth, id_len, static_cast<std::uint16_t>(a.id.size()));
	put_bytes(out, offsetof(dg_auth, id), std::as_bytes(std::span(a.id.data(), a.id.size())));
}

void put(const AuthReply &a, std::span<std::byte> out)
{
	put_bytes(out, offsetof(dg_auth_reply, mac), std::as_bytes(std::span(a.mac)));
	put_bytes(out, offsetof(dg_auth_reply, token), std::as_bytes(std::span(a.token)));
}

void put(const MemInfo &m, std::span<std::byte> out)
{
	DG_PUT(out, dg_mem_info, capacity, m.capacity);
	DG_PUT(out, dg_mem_info, free, m.free);
	DG_PUT(out, dg_mem_info, slab_size, m.slab_size);
	DG_PUT(out, dg_mem_info, nr_clients, m.nr_clients);
}

void put(const MemAlloc &m, std::span<std::byte> out)
{
	DG_PUT(out, dg_mem_alloc, size, m.size);
	DG_PUT(out, dg_mem_alloc, tag, m.tag);
}

void put(const MemSlab &m, std::span<std::byte> out)
{
	DG_PUT(out, dg_mem_slab, slab_id, m.slab_id);
	DG_PUT(out, dg_mem_slab, tag, m.tag);
	DG_PUT(out, dg_mem_slab, addr, m.addr);
	DG_PUT(out, dg_mem_slab, size, m.size);
	DG_PUT(out, dg_mem_slab, rkey, m.rkey);
	DG_PUT(out, dg_mem_slab, flags, m.flags);
}

void put(const MemFree &m, std::span<std::byte> out)
{
	DG_PUT(out, dg_mem_free, slab_id, m.slab_id);
}

void put(const MemResize &m, std::span<std::byte> out)
{
	DG_PUT(out, dg_mem_resize, capacity, m.capacity);
}

void put(const MemRw &m, std::span<std::byte> out)
{
	DG_PUT(out, dg_mem_rw, slab_id, m.slab_id);
	DG_PUT(out, dg_mem_rw, offset, m.offset);
	DG_PUT(out, dg_mem_rw, len, m.len);
}

void put(const MemWrite &m, std::span<std::byte> out)
{
	put(m.rw, out);
	put_bytes(out, kMemRwSize, m.data);
}

void put(const Data &d, std::span<std::byte> out)
{
	put_bytes(out, 0, d.bytes);
}

ByteSpan bytes_of(std::string_view s)
{
	return std::as_bytes(std::span(s.data(), s.size()));
}

void put(const FsReq &r, std::span<std::byte> out)
{
	DG_PUT(out, dg_fs_req, path_len, static_cast<std::uint32_t>(r.path.size()));
	DG_PUT(out, dg_fs_req, name2_len, static_cast<std::uint32_t>(r.name2.size()));
	DG_PUT(out, dg_fs_req, data_len, static_cast<std::uint32_t>(r.data.size()));
	DG_PUT(out, dg_fs_req, flags, r.flags);
	DG_PUT(out, dg_fs_req, valid, r.valid);
	DG_PUT(out, dg_fs_req, mode, r.mode);
	DG_PUT(out, dg_fs_req, uid, r.uid);
	DG_PUT(out, dg_fs_req, gid, r.gid);
	DG_PUT(out, dg_fs_req, rdev, r.rdev);
	DG_PUT(out, dg_fs_req, count, r.count);
	DG_PUT(out, dg_fs_req, offset, r.offset);
	DG_PUT(out, dg_fs_req, atime_sec, r.atime_sec);
	DG_PUT(out, dg_fs_req, mtime_sec, r.mtime_sec);
	DG_PUT(out, dg_fs_req, atime_nsec, r.atime_nsec);
	DG_PUT(out, dg_fs_req, mtime_nsec, r.mtime_nsec);
	DG_PUT(out, dg_fs_req, cred.uid, r.cred.uid);
	DG_PUT(out, dg_fs_req, cred.gid, r.cred.gid);
	DG_PUT(out, dg_fs_req, cred.ngroups, r.cred.ngroups);
	for (std::size_t i = 0; i < kFsNgroups; i++)
		put_le<4>(out, offsetof(dg_fs_req, cred.groups) + 4 * i, r.cred.groups[i]);
	put_bytes(out, kFsReqSize, bytes_of(r.path));
	put_bytes(out, kFsReqSize + r.path.size(), bytes_of(r.name2));
	put_bytes(out, kFsReqSize + r.path.size() + r.name2.size(), r.data);
}

void put(const FsAttr &a, std::span<std::byte> out)
{
	DG_PUT(out, dg_fs_attr, ino, a.ino);
	DG_PUT(out, dg_fs_attr, dev, a.dev);
	DG_PUT(out, dg_fs_attr, size, a.size);
	DG_PUT(out, dg_fs_attr, blocks, a.blocks);
	DG_PUT(out, dg_fs_attr, atime_sec, a.atime_sec);
	DG_PUT(out, dg_fs_attr, mtime_sec, a.mtime_sec);
	DG_PUT(out, dg_fs_attr, ctime_sec, a.ctime_sec);
	DG_PUT(out, dg_fs_attr, atime_nsec, a.atime_nsec);
	DG_PUT(out, dg_fs_attr, mtime_nsec, a.mtime_nsec);
	DG_PUT(out, dg_fs_attr, ctime_nsec, a.ctime_nsec);
	DG_PUT(out, dg_fs_attr, mode, a.mode);
	DG_PUT(out, dg_fs_attr, nlink, a.nlink);
	DG_PUT(out, dg_fs_attr, uid, a.uid);
	DG_PUT(out, dg_fs_attr, gid, a.gid);
	DG_PUT(out, dg_fs_attr, rdev, a.rdev);
	DG_PUT(out, dg_fs_attr, blksize, a.blksize);
}

void put(const FsWriteReply &w, std::span<std::byte> out)
{
	DG_PUT(out, dg_fs_write_reply, count, w.count);
	put(w.attr, out.subspan(offsetof(dg_fs_write_reply, attr), kFsAttrSize));
}

void put(const FsReaddir &r, std::span<std::byte> out)
{
	DG_PUT(out, dg_fs_readdir_reply, nr, static_cast<std::uint32_t>(r.entries.size()));
	DG_PUT(out, dg_fs_readdir_reply, eof, std::uint32_t{r.eof});
	std::size_t off = kFsReaddirReplySize;
	for (const FsDirent &e : r.entries) {
		std::span<std::byte> d = out.subspan(off, fs_dirent_size(e.name.size()));
		DG_PUT(d, dg_fs_dirent, ino, e.ino);
		DG_PUT(d, dg_fs_dirent, cookie, e.cookie);
		DG_PUT(d, dg_fs_dirent, name_len, static_cast<std::uint16_t>(e.name.size()));
		DG_PUT(d, dg_fs_dirent, type, e.type);
		put_bytes(d, kFsDirentSize, bytes_of(e.name));
		off += d.size();
	}
}

void put(const FsStatfs &f, std::span<std::byte> out)
{
	DG_PUT(out, dg_fs_statfs, blocks, f.blocks);
	DG_PUT(out, dg_fs_statfs, bfree, f.bfree);
	DG_PUT(out, dg_fs_statfs, bavail, f.bavail);
	DG_PUT(out, dg_fs_statfs, files, f.files);
	DG_PUT(out, dg_fs_statfs, ffree, f.ffree);
	DG_PUT(out, dg_fs_statfs, bsize, f.bsize);
	DG_PUT(out, dg_fs_statfs, frsize, f.frsize);
	DG_PUT(out, dg_fs_statfs, namelen, f.namelen);
}

void put(const FsXattr &x, std::span<std::byte> out)
{
	DG_PUT(out, dg_fs_xattr_reply, size, x.size);
	put_bytes(out, kFsXattrReplySize, x.value);
}

std::size_t readdir_size(const FsReaddir &r)
{
	std::size_t n = kFsReaddirReplySize;
	for (const FsDirent &e : r.entries)
		n += fs_dirent_size(e.name.size());
	return n;
}

std::size_t payload_size(const Body &body)
{
	struct {
		std::size_t operator()(const Empty &) { return 0; }
		std::size_t operator()(const Hello &) { return kHelloSize; }
		std::size_t operator()(const HelloReply &) { return kHelloReplySize; }
		std::size_t operator()(const Auth &) { return kAuthSize; }
		std::size_t operator()(const AuthReply &) { return kAuthReplySize; }
		std::size_t operator()(const MemInfo &) { return kMemInfoSize; }
		std::size_t operator()(const MemAlloc &) { return kMemAllocSize; }
		std::size_t operator()(const MemSlab &) { return kMemSlabSize; }
		std::size_t operator()(const MemFree &) { return kMemFreeSize; }
		std::size_t operator()(const MemRw &) { return kMemRwSize; }
		std::size_t operator()(const MemResize &) { return kMemResizeSize; }
		std::size_t operator()(const MemWrite &m) { return kMemRwSize + m.data.size(); }
		std::size_t operator()(const Data &d) { return d.bytes.size(); }
		std::size_t operator()(const FsReq &r)
		{
			return kFsReqSize + r.path.size() + r.name2.size() + r.data.size();
		}
		std::size_t operator()(const FsAttr &) { return kFsAttrSize; }
		std::size_t operator()(const FsWriteReply &) { return kFsWriteReplySize; }
		std::size_t operator()(const FsReaddir &r) { return readdir_size(r); }
		std::size_t operator()(const FsStatfs &) { return kFsStatfsSize; }
		std::size_t operator()(const FsXattr &x) { return kFsXattrReplySize + x.value.size(); }
	} size;
	return std::visit(size, body);
}

// Wraps a typed decoder result into a Body result.
template <class T>
Result<Body> to_body(Result<T> r)
{
	if (!r)
		return r.error();
	return Body{std::move(r).value()};
}

// Decodes a success payload of the given kind; kNone is an unknown opcode.
Result<Body> decode_body(Kind kind, ByteSpan p)
{
	switch (kind) {
	case Kind::kNone:
		break;
	case Kind::kEmpty:
		if (!p.empty())
			return Errc::kBadSize;
		return Body{Empty{}};
	case Kind::kHello:
		return to_body(decode_hello(p));
	case Kind::kHelloReply:
		return to_body(decode_hello_reply(p));
	case Kind::kAuth:
		return to_body(decode_auth(p));
	case Kind::kAuthReply:
		return to_body(decode_auth_reply(p));
	case Kind::kMemInfo:
		return to_body(decode_mem_info(p));
	case Kind::kMemAlloc:
		return to_body(decode_mem_alloc(p));
	case Kind::kMemSlab:
		return to_body(decode_mem_slab(p));
	case Kind::kMemFree:
		return to_body(decode_mem_free(p));
	case Kind::kMemRw:
		return to_body(decode_mem_rw(p));
	case Kind::kMemWrite:
		return to_body(decode_mem_write(p));
	case Kind::kMemResize:
		return to_body(decode_mem_resize(p));
	case Kind::kData:
		return Body{Data{p}};
	case Kind::kFsReq:
		return to_body(decode_fs_req(p));
	case Kind::kFsAttr:
		return to_body(decode_fs_attr(p));
	case Kind::kFsWriteReply:
		return to_body(decode_fs_write_reply(p));
	case Kind::kFsReaddir:
		return to_body(decode_fs_readdir(p));
	case Kind::kFsStatfs:
		return to_body(decode_fs_statfs(p));
	case Kind::kFsXattr:
		return to_body(decode_fs_xattr(p));
	}
	return Errc::kBadOpcode;
}

// Status rules shared by encode_message() and decode_message().
Errc check_status(const Hdr &h)
{
	if (!h.is_reply())
		return h.status == 0 ? Errc::kOk : Errc::kBadStatus;
	return h.status <= kMaxErrno ? Errc::kOk : Errc::kBadStatus;
}

}  // namespace

bool MemWrite::operator==(const MemWrite &o) const
{
	return rw == o.rw && std::ranges::equal(data, o.data);
}

bool Data::operator==(const Data &o) const
{
	return std::ranges::equal(bytes, o.bytes);
}

bool FsReq::operator==(const FsReq &o) const
{
	return flags == o.flags && valid == o.valid && mode == o.mode && uid == o.uid &&
	       gid == o.gid && rdev == o.rdev && count == o.count && offset == o.offset &&
	       atime_sec == o.atime_sec && mtime_sec == o.mtime_sec &&
	       atime_nsec == o.atime_nsec && mtime_nsec == o.mtime_nsec && cred == o.cred &&
	       path == o.path &&
	       name2 == o.name2 && std::ranges::equal(data, o.data);
}

bool FsXattr::operator==(const FsXattr &o) const
{
	return size == o.size && std::ranges::equal(value, o.value);
}

std::string_view to_string(Errc e)
{
	switch (e) {
	case Errc::kOk: return "ok";
	case Errc::kTooShort: return "shorter than a header";
	case Errc::kBadMagic: return "bad magic";
	case Errc::kBadMajor: return "protocol major mismatch";
	case Errc::kTooLong: return "payload too long";
	case Errc::kTruncated: return "payload truncated";
	case Errc::kBadOpcode: return "unknown opcode";
	case Errc::kBadStatus: return "bad status";
	case Errc::kBadSize: return "wrong payload size";
	case Errc::kBadReserved: return "reserved field not zero";
	case Errc::kBadNameLen: return "name too long";
	case Errc::kBadRole: return "unknown role";
	case Errc::kBadAlign: return "not page aligned";
	case Errc::kBadValue: return "field out of range";
	case Errc::kBadBody: return "body does not match opcode";
	case Errc::kBadFeatures: return "features or minor not offered";
	}
	return "unknown error";
}

Kind payload_kind(std::uint16_t opcode)
{
	const bool reply = opcode & kReplyBit;
	switch (static_cast<Op>(opcode & ~kReplyBit)) {
	case Op::kHello:
		return reply ? Kind::kHelloReply : Kind::kHello;
	case Op::kAuth:
		return reply ? Kind::kAuthReply : Kind::kAuth;
	case Op::kHeartbeat:
		return Kind::kEmpty;
	case Op::kBye:
		return reply ? Kind::kNone : Kind::kEmpty;
	case Op::kStatus:
		return reply ? Kind::kData : Kind::kEmpty;
	case Op::kMemInfo:
		return reply ? Kind::kMemInfo : Kind::kEmpty;
	case Op::kMemAlloc:
		return reply ? Kind::kMemSlab : Kind::kMemAlloc;
	case Op::kMemFree:
	case Op::kMemEvict:
		return reply ? Kind::kEmpty : Kind::kMemFree;
	case Op::kMemRead:
		return reply ? Kind::kData : Kind::kMemRw;
	case Op::kMemWrite:
		return reply ? Kind::kEmpty : Kind::kMemWrite;
	case Op::kMemResize:
		return reply ? Kind::kEmpty : Kind::kMemResize;
	case Op::kFsGetattr:
	case Op::kFsSetattr:
	case Op::kFsCreate:
	case Op::kFsMkdir:
	case Op::kFsMknod:
	case Op::kFsSymlink:
	case Op::kFsLink:
		return reply ? Kind::kFsAttr : Kind::kFsReq;
	case Op::kFsRead:
	case Op::kFsReadlink:
		return reply ? Kind::kData : Kind::kFsReq;
	case Op::kFsWrite:
		return reply ? Kind::kFsWriteReply : Kind::kFsReq;
	case Op::kFsUnlink:
	case Op::kFsRmdir:
	case Op::kFsRename:
	case Op::kFsFsync:
	case Op::kFsSetxattr:
	case Op::kFsRemovexattr:
		return reply ? Kind::kEmpty : Kind::kFsReq;
	case Op::kFsReaddir:
		return reply ? Kind::kFsReaddir : Kind::kFsReq;
	case Op::kFsStatfs:
		return reply ? Kind::kFsStatfs : Kind::kFsReq;
	case Op::kFsGetxattr:
	case Op::kFsListxattr:
		return reply ? Kind::kFsXattr : Kind::kFsReq;
	}
	return Kind::kNone;
}

Kind kind_of(const Body &body)
{
	struct {
		Kind operator()(const Empty &) { return Kind::kEmpty; }
		Kind operator()(const Hello &) { return Kind::kHello; }
		Kind operator()(const HelloReply &) { return Kind::kHelloReply; }
		Kind operator()(const Auth &) { return Kind::kAuth; }
		Kind operator()(const AuthReply &) { return Kind::kAuthReply; }
		Kind operator()(const MemInfo &) { return Kind::kMemInfo; }
		Kind operator()(const MemAlloc &) { return Kind::kMemAlloc; }
		Kind operator()(const MemSlab &) { return Kind::kMemSlab; }
		Kind operator()(const MemFree &) { return Kind::kMemFree; }
		Kind operator()(const MemRw &) { return Kind::kMemRw; }
		Kind operator()(const MemWrite &) { return Kind::kMemWrite; }
		Kind operator()(const MemResize &) { return Kind::kMemResize; }
		Kind operator()(const Data &) { return Kind::kData; }
		Kind operator()(const FsReq &) { return Kind::kFsReq; }
		Kind operator()(const FsAttr &) { return Kind::kFsAttr; }
		Kind operator()(const FsWriteReply &) { return Kind::kFsWriteReply; }
		Kind operator()(const FsReaddir &) { return Kind::kFsReaddir; }
		Kind operator()(const FsStatfs &) { return Kind::kFsStatfs; }
		Kind operator()(const FsXattr &) { return Kind::kFsXattr; }
	} kind;
	return std::visit(kind, body);
}

Errc check(const Body &body)
{
	return std::visit([](const auto &m) { return check_one(m); }, body);
}

void encode_hdr(const Hdr &h, std::span<std::byte, kHdrSize> out)
{
	DG_PUT(out, dg_hdr, magic, kMagic);
	DG_PUT(out, dg_hdr, major, h.major);
	DG_PUT(out, dg_hdr, minor, h.minor);
	DG_PUT(out, dg_hdr, opcode, h.opcode);
	DG_PUT(out, dg_hdr, length, h.length);
	DG_PUT(out, dg_hdr, status, h.status);
	DG_PUT(out, dg_hdr, req_id, h.req_id);
}

Result<Hdr> decode_hdr(ByteSpan in)
{
	if (in.size() < kHdrSize)
		return Errc::kTooShort;
	std::uint32_t magic;
	DG_GET(magic, in, dg_hdr, magic);
	if (magic != kMagic)
		return Errc::kBadMagic;
	Hdr h;
	DG_GET(h.major, in, dg_hdr, major);
	if (h.major != kMajor)
		return Errc::kBadMajor;
	DG_GET(h.minor, in, dg_hdr, minor);
	DG_GET(h.opcode, in, dg_hdr, opcode);
	DG_GET(h.length, in, dg_hdr, length);
	if (h.length > kMaxPayload)
		return Errc::kTooLong;
	DG_GET(h.status, in, dg_hdr, status);
	DG_GET(h.req_id, in, dg_hdr, req_id);
	return h;
}

Result<Frame> decode_frame(ByteSpan in)
{
	Result<Hdr> h = decode_hdr(in);
	if (!h)
		return h.error();
	if (in.size() - kHdrSize < h->length)
		return Errc::kTruncated;
	return Frame{*h, in.subspan(kHdrSize, h->length)};
}

Result<Hello> decode_hello(ByteSpan p)
{
	if (p.size() != kHelloSize)
		return Errc::kBadSize;
	if (!DG_ZERO(p, dg_hello, reserved0) || !DG_ZERO(p, dg_hello, reserved))
		return Errc::kBadReserved;
	Hello h;
	std::uint16_t name_len;
	DG_GET(h.major, p, dg_hello, major);
	DG_GET(h.minor, p, dg_hello, minor);
	DG_GET(h.role, p, dg_hello, role);
	DG_GET(h.features, p, dg_hello, features);
	DG_GET(h.client_id, p, dg_hello, client_id);
	get_bytes(p, offsetof(dg_hello, nonce), h.nonce);
	DG_GET(name_len, p, dg_hello, name_len);
	if (name_len > kNameMax)
		return Errc::kBadNameLen;
	const std::byte *name = p.data() + offsetof(dg_hello, name);
	h.name.assign(reinterpret_cast<const char *>(name), name_len);
	if (Errc e = check_one(h); e != Errc::kOk)
		return e;
	return h;
}

Result<HelloReply> decode_hello_reply(ByteSpan p)
{
	if (p.size() != kHelloReplySize)
		return Errc::kBadSize;
	if (!DG_ZERO(p, dg_hello_reply, reserved0))
		return Errc::kBadReserved;
	HelloReply h;
	DG_GET(h.major, p, dg_hello_reply, major);
	DG_GET(h.minor, p, dg_hello_reply, minor);
	DG_GET(h.features, p, dg_hello_reply, features);
	DG_GET(h.server_id, p, dg_hello_reply, server_id);
	get_bytes(p, offsetof(dg_hello_reply, nonce), h.nonce);
	get_bytes(p, offsetof(dg_hello_reply, token), h.token);
	return h;
}

bool valid_identity(std::string_view id)
{
	if (id.empty() || id.size() > kNameMax)
		return false;
	for (char c : id)
		if (c <= ' ' || c > '~')
			return false;
	return true;
}

Result<Auth> decode_auth(ByteSpan p)
{
	if (p.size() != kAuthSize)
		return Errc::kBadSize;
	if (!DG_ZERO(p, dg_auth, reserved))
		return Errc::kBadReserved;
	Auth a;
	std::uint16_t id_len;
	get_bytes(p, offsetof(dg_auth, mac), a.mac);
	DG_GET(id_len, p, dg_auth, id_len);
	if (id_len == 0 || id_len > kNameMax)
		return Errc::kBadNameLen;
	// Bytes past id_len are zero: one identity has one encoding.
	if (!all_zero(p, offsetof(dg_auth, id) + id_len, kNameMax - id_len))
		return Errc::kBadReserved;
	const std::byte *id = p.data() + offsetof(dg_auth, id);
	a.id.assign(reinterpret_cast<const char *>(id), id_len);
	if (Errc e = check_one(a); e != Errc::kOk)
		return e;
	return a;
}

Result<AuthReply> decode_auth_reply(ByteSpan p)
{
	if (p.size() != kAuthReplySize)
		return Errc::kBadSize;
	AuthReply a;
	get_bytes(p, offsetof(dg_auth_reply, mac), a.mac);
	get_bytes(p, offsetof(dg_auth_reply, token), a.token);
	return a;
}

Result<MemInfo> decode_mem_info(ByteSpan p)
{
	if (p.size() != kMemInfoSize)
		return Errc::kBadSize;
	if (!DG_ZERO(p, dg_mem_info, reserved))
		return Errc::kBadReserved;
	MemInfo m;
	DG_GET(m.capacity, p, dg_mem_info, capacity);
	DG_GET(m.free, p, dg_mem_info, free);
	DG_GET(m.slab_size, p, dg_mem_info, slab_size);
	DG_GET(m.nr_clients, p, dg_mem_info, nr_clients);
	if (Errc e = check_one(m); e != Errc::kOk)
		return e;
	return m;
}

Result<MemAlloc> decode_mem_alloc(ByteSpan p)
{
	if (p.size() != kMemAllocSize)
		return Errc::kBadSize;
	MemAlloc m;
	DG_GET(m.size, p, dg_mem_alloc, size);
	DG_GET(m.tag, p, dg_mem_alloc, tag);
	if (Errc e = check_one(m); e != Errc::kOk)
		return e;
	return m;
}

Result<MemSlab> decode_mem_slab(ByteSpan p)
{
	if (p.size() != kMemSlabSize)
		return Errc::kBadSize;
	MemSlab m;
	DG_GET(m.slab_id, p, dg_mem_slab, slab_id);
	DG_GET(m.tag, p, dg_mem_slab, tag);
	DG_GET(m.addr, p, dg_mem_slab, addr);
	DG_GET(m.size, p, dg_mem_slab, size);
	DG_GET(m.rkey, p, dg_mem_slab, rkey);
	DG_GET(m.flags, p, dg_mem_slab, flags);
	if (Errc e = check_one(m); e != Errc::kOk)
		return e;
	return m;
}

Result<MemFree> decode_mem_free(ByteSpan p)
{
	if (p.size() != kMemFreeSize)
		return Errc::kBadSize;
	MemFree m;
	DG_GET(m.slab_id, p, dg_mem_free, slab_id);
	return m;
}

Result<MemResize> decode_mem_resize(ByteSpan p)
{
	if (p.size() != kMemResizeSize)
		return Errc::kBadSize;
	if (!DG_ZERO(p, dg_mem_resize, reserved))
		return Errc::kBadReserved;
	MemResize m;
	DG_GET(m.capacity, p, dg_mem_resize, capacity);
	if (Errc e = check_one(m); e != Errc::kOk)
		return e;
	return m;
}

Result<MemRw> decode_mem_rw(ByteSpan p)
{
	if (p.size() != kMemRwSize)
		return Errc::kBadSize;
	if (!DG_ZERO(p, dg_mem_rw, reserved))
		return Errc::kBadReserved;
	MemRw m;
	DG_GET(m.slab_id, p, dg_mem_rw, slab_id);
	DG_GET(m.offset, p, dg_mem_rw, offset);
	DG_GET(m.len, p, dg_mem_rw, len);
	if (Errc e = check_one(m); e != Errc::kOk)
		return e;
	return m;
}

Result<MemWrite> decode_mem_write(ByteSpan p)
{
	if (p.size() < kMemRwSize)
		return Errc::kBadSize;
	Result<MemRw> rw = decode_mem_rw(p.first(kMemRwSize));
	if (!rw)
		return rw.error();
	MemWrite m{*rw, p.subspan(kMemRwSize)};
	if (Errc e = check_one(m); e != Errc::kOk)
		return e;
	return m;
}

Result<FsReq> decode_fs_req(ByteSpan p)
{
	if (p.size() < kFsReqSize)
		return Errc::kBadSize;
	std::uint32_t path_len, name2_len, data_len;
	DG_GET(path_len, p, dg_fs_req, path_len);
	DG_GET(name2_len, p, dg_fs_req, name2_len);
	DG_GET(data_len, p, dg_fs_req, data_len);
	// 64-bit sum: three 32-bit lengths cannot overflow it.
	const std::uint64_t total = std::uint64_t{kFsReqSize} + path_len + name2_len + data_len;
	if (total != p.size())
		return Errc::kBadSize;
	FsReq r;
	DG_GET(r.flags, p, dg_fs_req, flags);
	DG_GET(r.valid, p, dg_fs_req, valid);
	DG_GET(r.mode, p, dg_fs_req, mode);
	DG_GET(r.uid, p, dg_fs_req, uid);
	DG_GET(r.gid, p, dg_fs_req, gid);
	DG_GET(r.rdev, p, dg_fs_req, rdev);
	DG_GET(r.count, p, dg_fs_req, count);
	DG_GET(r.offset, p, dg_fs_req, offset);
	DG_GET(r.atime_sec, p, dg_fs_req, atime_sec);
	DG_GET(r.mtime_sec, p, dg_fs_req, mtime_sec);
	DG_GET(r.atime_nsec, p, dg_fs_req, atime_nsec);
	DG_GET(r.mtime_nsec, p, dg_fs_req, mtime_nsec);
	DG_GET(r.cred.uid, p, dg_fs_req, cred.uid);
	DG_GET(r.cred.gid, p, dg_fs_req, cred.gid);
	DG_GET(r.cred.ngroups, p, dg_fs_req, cred.ngroups);
	if (!DG_ZERO(p, dg_fs_req, cred.reserved))
		return Errc::kBadReserved;
	for (std::size_t i = 0; i < kFsNgroups; i++)
		get_le<4>(p, offsetof(dg_fs_req, cred.groups) + 4 * i, r.cred.groups[i]);
	const char *base = reinterpret_cast<const char *>(p.data());
	r.path = std::string_view(base + kFsReqSize, path_len);
	r.name2 = std::string_view(base + kFsReqSize + path_len, name2_len);
	r.data = p.subspan(kFsReqSize + path_len + name2_len, data_len);
	if (Errc e = check_one(r); e != Errc::kOk)
		return e;
	return r;
}

Result<FsAttr> decode_fs_attr(ByteSpan p)
{
	if (p.size() != kFsAttrSize)
		return Errc::kBadSize;
	if (!DG_ZERO(p, dg_fs_attr, reserved))
		return Errc::kBadReserved;
	FsAttr a;
	DG_GET(a.ino, p, dg_fs_attr, ino);
	DG_GET(a.dev, p, dg_fs_attr, dev);
	DG_GET(a.size, p, dg_fs_attr, size);
	DG_GET(a.blocks, p, dg_fs_attr, blocks);
	DG_GET(a.atime_sec, p, dg_fs_attr, atime_sec);
	DG_GET(a.mtime_sec, p, dg_fs_attr, mtime_sec);
	DG_GET(a.ctime_sec, p, dg_fs_attr, ctime_sec);
	DG_GET(a.atime_nsec, p, dg_fs_attr, atime_nsec);
	DG_GET(a.mtime_nsec, p, dg_fs_attr, mtime_nsec);
	DG_GET(a.ctime_nsec, p, dg_fs_attr, ctime_nsec);
	DG_GET(a.mode, p, dg_fs_attr, mode);
	DG_GET(a.nlink, p, dg_fs_attr, nlink);
	DG_GET(a.uid, p, dg_fs_attr, uid);
	DG_GET(a.gid, p, dg_fs_attr, gid);
	DG_GET(a.rdev, p, dg_fs_attr, rdev);
	DG_GET(a.blksize, p, dg_fs_attr, blksize);
	return a;
}

Result<FsWriteReply> decode_fs_write_reply(ByteSpan p)
{
	if (p.size() != kFsWriteReplySize)
		return Errc::kBadSize;
	if (!DG_ZERO(p, dg_fs_write_reply, reserved))
		return Errc::kBadReserved;
	Result<FsAttr> a = decode_fs_attr(p.subspan(offsetof(dg_fs_write_reply, attr)));
	if (!a)
		return a.error();
	FsWriteReply w;
	DG_GET(w.count, p, dg_fs_write_reply, count);
	w.attr = *a;
	return w;
}

Result<FsReaddir> decode_fs_readdir(ByteSpan p)
{
	if (p.size() < kFsReaddirReplySize)
		return Errc::kBadSize;
	std::uint32_t nr, eof;
	DG_GET(nr, p, dg_fs_readdir_reply, nr);
	DG_GET(eof, p, dg_fs_readdir_reply, eof);
	if (eof > 1)
		return Errc::kBadValue;
	// Each entry takes at least 32 bytes: bound nr before reserving.
	if (nr > (p.size() - kFsReaddirReplySize) / fs_dirent_size(1))
		return Errc::kBadSize;
	FsReaddir r;
	r.eof = eof;
	r.entries.reserve(nr);
	std::size_t off = kFsReaddirReplySize;
	for (std::uint32_t i = 0; i < nr; i++) {
		if (p.size() - off < kFsDirentSize)
			return Errc::kBadSize;
		ByteSpan d = p.subspan(off);
		FsDirent e;
		std::uint16_t name_len;
		DG_GET(e.ino, d, dg_fs_dirent, ino);
		DG_GET(e.cookie, d, dg_fs_dirent, cookie);
		DG_GET(name_len, d, dg_fs_dirent, name_len);
		DG_GET(e.type, d, dg_fs_dirent, type);
		if (!DG_ZERO(d, dg_fs_dirent, reserved))
			return Errc::kBadReserved;
		const std::size_t len = fs_dirent_size(name_len);
		if (d.size() < len)
			return Errc::kBadSize;
		e.name.assign(reinterpret_cast<const char *>(d.data()) + kFsDirentSize, name_len);
		if (!all_zero(d, kFsDirentSize + name_len, len - kFsDirentSize - name_len))
			return Errc::kBadReserved;
		r.entries.push_back(std::move(e));
		off += len;
	}
	if (off != p.size())
		return Errc::kBadSize;
	if (Errc e = check_one(r); e != Errc::kOk)
		return e;
	return r;
}

Result<FsStatfs> decode_fs_statfs(ByteSpan p)
{
	if (p.size() != kFsStatfsSize)
		return Errc::kBadSize;
	if (!DG_ZERO(p, dg_fs_statfs, reserved))
		return Errc::kBadReserved;
	FsStatfs f;
	DG_GET(f.blocks, p, dg_fs_statfs, blocks);
	DG_GET(f.bfree, p, dg_fs_statfs, bfree);
	DG_GET(f.bavail, p, dg_fs_statfs, bavail);
	DG_GET(f.files, p, dg_fs_statfs, files);
	DG_GET(f.ffree, p, dg_fs_statfs, ffree);
	DG_GET(f.bsize, p, dg_fs_statfs, bsize);
	DG_GET(f.frsize, p, dg_fs_statfs, frsize);
	DG_GET(f.namelen, p, dg_fs_statfs, namelen);
	return f;
}

Result<FsXattr> decode_fs_xattr(ByteSpan p)
{
	if (p.size() < kFsXattrReplySize)
		return Errc::kBadSize;
	if (!DG_ZERO(p, dg_fs_xattr_reply, reserved))
		return Errc::kBadReserved;
	FsXattr x;
	DG_GET(x.size, p, dg_fs_xattr_reply, size);
	x.value = p.subspan(kFsXattrReplySize);
	if (Errc e = check_one(x); e != Errc::kOk)
		return e;
	return x;
}

Result<Message> decode_message(const Frame &f)
{
	const Hdr &h = f.hdr;
	if (f.payload.size() != h.length)
		return Errc::kBadSize;
	if (Errc e = check_status(h); e != Errc::kOk)
		return e;
	if (h.status != 0) {
		// An error reply answers any request, even one we do not know.
		if (!f.payload.empty())
			return Errc::kBadSize;
		return Message{h, Empty{}};
	}
	Result<Body> body = decode_body(payload_kind(h.opcode), f.payload);
	if (!body)
		return body.error();
	return Message{h, std::move(body).value()};
}

Result<Bytes> encode_message(const Message &m)
{
	Hdr h = m.hdr;
	if (h.major != kMajor)
		return Errc::kBadMajor;
	if (Errc e = check_status(h); e != Errc::kOk)
		return e;
	const Kind want = h.status != 0 ? Kind::kEmpty : payload_kind(h.opcode);
	if (want == Kind::kNone)
		return Errc::kBadOpcode;
	if (kind_of(m.body) != want)
		return Errc::kBadBody;
	if (Errc e = check(m.body); e != Errc::kOk)
		return e;
	const std::size_t n = payload_size(m.body);
	if (n > kMaxPayload)
		return Errc::kTooLong;
	h.length = static_cast<std::uint32_t>(n);

	Bytes out(kHdrSize + n);	// zeroed: reserved fields and padding
	std::span<std::byte> buf(out);
	encode_hdr(h, buf.first<kHdrSize>());
	std::visit([&](const auto &body) { put(body, buf.subspan(kHdrSize)); },
		   m.body);
	return out;
}

Result<Bytes> make_request(Op op, std::uint64_t req_id, const Body &body)
{
	Hdr h;
	h.opcode = static_cast<std::uint16_t>(op);
	h.req_id = req_id;
	return encode_message(Message{h, body});
}

Result<Bytes> make_reply(Op op, std::uint64_t req_id, const Body &body)
{
	Hdr h;
	h.opcode = static_cast<std::uint16_t>(op) | kReplyBit;
	h.req_id = req_id;
	return encode_message(Message{h, body});
}

Result<Bytes> make_error_reply(std::uint16_t opcode, std::uint64_t req_id,
			       std::uint32_t status)
{
	if (status == 0)
		return Errc::kBadStatus;	// a success reply has a body
	Hdr h;
	h.opcode = opcode | kReplyBit;
	h.status = status;
	h.req_id = req_id;
	return encode_message(Message{h, Empty{}});
}

Result<Bytes> make_error_reply(Op op, std::uint64_t req_id, std::uint32_t status)
{
	return make_error_reply(static_cast<std::uint16_t>(op), req_id, status);
}

Result<Negotiated> negotiate(const Hello &peer, std::uint16_t our_minor,
			     std::uint32_t our_features)
{
	if (peer.major != kMajor)
		return Errc::kBadMajor;
	return Negotiated{std::min(peer.minor, our_minor),
			  peer.features & our_features & kFeatKnown};
}

Result<Negotiated> check_hello_reply(const Hello &sent, const HelloReply &reply)
{
	if (reply.major != kMajor)
		return Errc::kBadMajor;
	if (reply.minor > sent.minor || (reply.features & ~sent.features) ||
	    (reply.features & ~kFeatKnown))
		return Errc::kBadFeatures;
	return Negotiated{reply.minor, reply.features};
}

#undef DG_GET
#undef DG_PUT
#undef DG_ZERO

const char *role_name(Role r)
{
	switch (r) {
	case Role::kSwap: return "swap";
	case Role::kFs: return "fs";
	case Role::kCtl: return "ctl";
	}
	return "?";
}

}  // namespace disagg::proto
