// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// C++ codec for the disagg wire protocol (include/disagg/proto.h).
//
// Wire structures are never memcpy'd: every field is stored and loaded byte
// by byte in little-endian order at the offset proto.h gives it. Messages
// are plain host-order structs; reserved fields do not appear in them (they
// are written as zero and must read as zero). Each struct here has one table
// in proto.cpp binding its members to the proto.h fields, from which its
// encoder and decoder follow (see wire.hpp); adding a field means adding it
// to proto.h, to the struct here and to its table.
//
// Decoding never throws and never reads past the span it is given. It runs
// in three steps, each usable on its own:
//   decode_hdr()      the 24-byte header: magic, major, length bound
//   decode_frame()    header plus the @length payload bytes that follow it
//   decode_message()  opcode, status and the typed payload (Body)
// A framing error (is_framing_error()) means the byte stream can no longer be
// trusted and the connection should be closed; any other error leaves the
// framing intact and the peer can be answered with an error reply.
#pragma once

#include <disagg/proto.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace disagg::proto {

// Constants from proto.h.
inline constexpr std::uint32_t kMagic = DG_PROTO_MAGIC;
inline constexpr std::uint8_t kMajor = DG_PROTO_MAJOR;
inline constexpr std::uint8_t kMinor = DG_PROTO_MINOR;
inline constexpr std::uint32_t kMaxPayload = DG_MAX_PAYLOAD;
inline constexpr std::uint32_t kPageSize = DG_PAGE_SIZE;
inline constexpr std::size_t kNameMax = DG_NAME_MAX;
inline constexpr std::size_t kNonceLen = DG_NONCE_LEN;
inline constexpr std::size_t kMacLen = DG_MAC_LEN;
inline constexpr std::size_t kTokenLen = DG_TOKEN_LEN;
inline constexpr std::size_t kKeyMin = DG_KEY_MIN;
inline constexpr std::size_t kKeyMax = DG_KEY_MAX;
inline constexpr std::uint16_t kMemdPort = DG_MEMD_PORT;
inline constexpr std::uint16_t kStordPort = DG_STORD_PORT;
inline constexpr std::uint32_t kFeatRdma = DG_FEAT_RDMA;
inline constexpr std::uint32_t kFeatAuth = DG_FEAT_AUTH;
inline constexpr std::uint32_t kFeatMq = DG_FEAT_MQ;
inline constexpr std::uint32_t kFeatFsattr = DG_FEAT_FSATTR;
inline constexpr std::uint32_t kFeatRmattr = DG_FEAT_RMATTR;
inline constexpr std::uint32_t kFeatRdmaFs = DG_FEAT_RDMA_FS;
inline constexpr std::uint32_t kFeatKnown = DG_FEAT_KNOWN;
inline constexpr std::uint32_t kSlabResumed = DG_SLAB_RESUMED;
inline constexpr std::uint16_t kReplyBit = DG_OP_REPLY;
inline constexpr std::uint32_t kFsPathMax = DG_FS_PATH_MAX;
inline constexpr std::uint32_t kFsXattrNameMax = DG_FS_XATTR_NAME_MAX;
inline constexpr std::uint32_t kFsXattrSizeMax = DG_FS_XATTR_SIZE_MAX;
inline constexpr std::uint32_t kFsIoMax = DG_FS_IO_MAX;
inline constexpr std::size_t kFsMsgMax = DG_FS_MSG_MAX;
inline constexpr std::uint32_t kFsSegsMax = DG_FS_SEGS_MAX;
inline constexpr std::uint32_t kFsRdmaIoMax = DG_FS_RDMA_IO_MAX;
inline constexpr std::size_t kFsNameMax = 255;	// of one directory entry

// Wire sizes: proto.h's (which asserts each), under the names the daemons use.
inline constexpr std::size_t kHdrSize = sizeof(dg_hdr);
inline constexpr std::size_t kHelloSize = sizeof(dg_hello);
inline constexpr std::size_t kHelloReplySize = sizeof(dg_hello_reply);
inline constexpr std::size_t kAuthSize = sizeof(dg_auth);
inline constexpr std::size_t kAuthReplySize = sizeof(dg_auth_reply);
inline constexpr std::size_t kCmPrivateSize = sizeof(dg_cm_private);
inline constexpr std::size_t kMemInfoSize = sizeof(dg_mem_info);
inline constexpr std::size_t kMemAllocSize = sizeof(dg_mem_alloc);
inline constexpr std::size_t kMemSlabSize = sizeof(dg_mem_slab);
inline constexpr std::size_t kMemFreeSize = sizeof(dg_mem_free);
inline constexpr std::size_t kMemRwSize = sizeof(dg_mem_rw);
inline constexpr std::size_t kMemResizeSize = sizeof(dg_mem_resize);
inline constexpr std::uint32_t kFsNgroups = DG_FS_NGROUPS;
inline constexpr std::size_t kFsReqSize = sizeof(dg_fs_req);
inline constexpr std::size_t kFsAttrSize = sizeof(dg_fs_attr);
inline constexpr std::size_t kFsWriteReplySize = sizeof(dg_fs_write_reply);
inline constexpr std::size_t kFsDirentSize = sizeof(dg_fs_dirent);
inline constexpr std::size_t kFsReaddirReplySize = sizeof(dg_fs_readdir_reply);
inline constexpr std::size_t kFsStatfsSize = sizeof(dg_fs_statfs);
inline constexpr std::size_t kFsXattrReplySize = sizeof(dg_fs_xattr_reply);
inline constexpr std::size_t kFsEntryReplySize = sizeof(dg_fs_entry_reply);
inline constexpr std::size_t kFsDirentPlusSize = sizeof(dg_fs_direntplus);
inline constexpr std::size_t kFsSegSize = sizeof(dg_fs_seg);
inline constexpr std::size_t kFsRdmaReadReplySize = sizeof(dg_fs_rdma_read_reply);
// The largest request (all strings and data at their limits) fits the
// message size both sides accept.
static_assert(kHdrSize + kFsReqSize + 2 * kFsPathMax + kFsIoMax <= kFsMsgMax);
static_assert(kHdrSize + kFsXattrReplySize + kFsXattrSizeMax <= kFsMsgMax);

// Largest dg_mem_rw.len: a page multiple such that a write (the dg_mem_rw
// plus its data) fits in one payload. 255 pages, not 256.
inline constexpr std::uint32_t kMaxRwLen =
	(kMaxPayload - kMemRwSize) / kPageSize * kPageSize;
static_assert(kMaxRwLen == 255 * kPageSize);

// Largest status a reply may carry: errno values below 512, since 512 and
// up are the kernel's own codes, which the kernel client refuses.
inline constexpr std::uint32_t kMaxErrno = 511;

enum class Op : std::uint16_t {
	kHello = DG_OP_HELLO,
	kAuth = DG_OP_AUTH,
	kHeartbeat = DG_OP_HEARTBEAT,
	kBye = DG_OP_BYE,
	kStatus = DG_OP_STATUS,
	kMemInfo = DG_OP_MEM_INFO,
	kMemAlloc = DG_OP_MEM_ALLOC,
	kMemFree = DG_OP_MEM_FREE,
	kMemRead = DG_OP_MEM_READ,
	kMemWrite = DG_OP_MEM_WRITE,
	kMemEvict = DG_OP_MEM_EVICT,
	kMemResize = DG_OP_MEM_RESIZE,
	kFsGetattr = DG_OP_FS_GETATTR,
	kFsSetattr = DG_OP_FS_SETATTR,
	kFsRead = DG_OP_FS_READ,
	kFsWrite = DG_OP_FS_WRITE,
	kFsCreate = DG_OP_FS_CREATE,
	kFsMkdir = DG_OP_FS_MKDIR,
	kFsMknod = DG_OP_FS_MKNOD,
	kFsSymlink = DG_OP_FS_SYMLINK,
	kFsLink = DG_OP_FS_LINK,
	kFsUnlink = DG_OP_FS_UNLINK,
	kFsRmdir = DG_OP_FS_RMDIR,
	kFsRename = DG_OP_FS_RENAME,
	kFsReadlink = DG_OP_FS_READLINK,
	kFsReaddir = DG_OP_FS_READDIR,
	kFsStatfs = DG_OP_FS_STATFS,
	kFsFsync = DG_OP_FS_FSYNC,
	kFsGetxattr = DG_OP_FS_GETXATTR,
	kFsSetxattr = DG_OP_FS_SETXATTR,
	kFsListxattr = DG_OP_FS_LISTXATTR,
	kFsRemovexattr = DG_OP_FS_REMOVEXATTR,
	kFsReaddirplus = DG_OP_FS_READDIRPLUS,
};

// Storage-node opcode (DG_OP_FS_*), reply bit ignored.
constexpr bool is_fs_op(std::uint16_t opcode)
{
	const auto op = static_cast<std::uint16_t>(opcode & ~kReplyBit);
	return op >= DG_OP_FS_GETATTR && op <= DG_OP_FS_READDIRPLUS;
}

enum class Role : std::uint32_t {
	kSwap = DG_ROLE_SWAP,
	kFs = DG_ROLE_FS,
	kCtl = DG_ROLE_CTL,
};

// "swap", "fs", "ctl" (for logs and status output).
const char *role_name(Role r);

enum class Errc : std::uint8_t {
	kOk = 0,
	// Framing errors: close the connection.
	kTooShort,	// fewer bytes than a header
	kBadMagic,	// magic is not kMagic
	kBadMajor,	// protocol major differs from ours
	kTooLong,	// length (or a payload to encode) > kMaxPayload
	kTruncated,	// fewer payload bytes than the header's length
	// Message errors: framing is intact.
	kBadOpcode,	// unknown opcode, or a reply that does not exist
	kBadStatus,	// status on a request, or > kMaxErrno on a reply
	kBadSize,	// payload size wrong for the opcode
	kBadReserved,	// a reserved field is not zero
	kBadNameLen,	// name longer than kNameMax
	kBadRole,	// unknown Role in a hello
	kBadAlign,	// offset/len/size not a multiple of kPageSize
	kBadValue,	// other field out of range: zero size, unknown flag...
	kBadBody,	// encoding: the Body does not fit the opcode
	kBadFeatures,	// hello reply grants a feature or minor not offered
};

std::string_view to_string(Errc e);

constexpr bool is_framing_error(Errc e)
{
	return e >= Errc::kTooShort && e <= Errc::kTruncated;
}

// A value or an error; never both. value() of an error is a default T.
template <class T>
class [[nodiscard]] Result {
public:
	Result(T v) : value_(std::move(v)) {}
	Result(Errc e) : err_(e) {}

	bool ok() const { return err_ == Errc::kOk; }
	explicit operator bool() const { return ok(); }
	Errc error() const { return err_; }

	const T &value() const & { return value_; }
	T &value() & { return value_; }
	T &&value() && { return std::move(value_); }
	const T &operator*() const & { return value_; }
	T &operator*() & { return value_; }
	const T *operator->() const { return &value_; }
	T *operator->() { return &value_; }

private:
	T value_{};
	Errc err_ = Errc::kOk;
};

using Bytes = std::vector<std::byte>;
using ByteSpan = std::span<const std::byte>;
using Nonce = std::array<std::uint8_t, kNonceLen>;
using Mac = std::array<std::uint8_t, kMacLen>;
using Token = std::array<std::uint8_t, kTokenLen>;

// dg_hdr; the magic is implied. opcode is raw: it may be unknown.
struct Hdr {
	std::uint8_t major = kMajor;
	std::uint8_t minor = kMinor;
	std::uint16_t opcode = 0;
	std::uint32_t length = 0;
	std::uint32_t status = 0;
	std::uint64_t req_id = 0;

	bool is_reply() const { return (opcode & kReplyBit) != 0; }
	bool operator==(const Hdr &) const = default;
};

// Payloads. Spans point into the buffer they were decoded from (or, when
// encoding, into the caller's data) and live no longer than it.

struct Empty {
	bool operator==(const Empty &) const = default;
};

struct Hello {
	std::uint16_t major = kMajor;
	std::uint16_t minor = kMinor;
	Role role = Role::kSwap;
	std::uint32_t features = 0;
	std::uint64_t client_id = 0;
	Nonce nonce{};
	std::string name;	// at most kNameMax bytes, not NUL-terminated

	bool operator==(const Hello &) const = default;
};

struct HelloReply {
	std::uint16_t major = kMajor;
	std::uint16_t minor = kMinor;
	std::uint32_t features = 0;
	std::uint64_t server_id = 0;
	Nonce nonce{};
	Token token{};	// without kFeatAuth: the join token; with it, zero

	bool operator==(const HelloReply &) const = default;
};

// An identity (key name): 1..kNameMax printable ASCII bytes, no spaces.
bool valid_identity(std::string_view id);

struct Auth {
	Mac mac{};
	std::string id;	// valid_identity()

	bool operator==(const Auth &) const = default;
};

struct AuthReply {
	Mac mac{};
	Token token{};

	bool operator==(const AuthReply &) const = default;
};

struct MemInfo {
	std::uint64_t capacity = 0;
	std::uint64_t free = 0;
	std::uint64_t slab_size = 0;
	std::uint32_t nr_clients = 0;

	bool operator==(const MemInfo &) const = default;
};

struct MemAlloc {
	std::uint64_t size = 0;
	std::uint64_t tag = 0;

	bool operator==(const MemAlloc &) const = default;
};

struct MemSlab {
	std::uint64_t slab_id = 0;
	std::uint64_t tag = 0;
	std::uint64_t addr = 0;
	std::uint64_t size = 0;
	std::uint32_t rkey = 0;
	std::uint32_t flags = 0;	// kSlabResumed

	bool operator==(const MemSlab &) const = default;
};

// DG_OP_MEM_FREE request, DG_OP_MEM_EVICT request.
struct MemFree {
	std::uint64_t slab_id = 0;

	bool operator==(const MemFree &) const = default;
};

// DG_OP_MEM_RESIZE request: a nonzero page multiple (the node checks it
// against its slab size).
struct MemResize {
	std::uint64_t capacity = 0;

	bool operator==(const MemResize &) const = default;
};

// DG_OP_MEM_READ request.
struct MemRw {
	std::uint64_t slab_id = 0;
	std::uint64_t offset = 0;
	std::uint32_t len = 0;

	bool operator==(const MemRw &) const = default;
};

// DG_OP_MEM_WRITE request: a dg_mem_rw and exactly rw.len bytes of data.
struct MemWrite {
	MemRw rw;
	ByteSpan data;

	bool operator==(const MemWrite &o) const;
};

// dg_fs_cred: who asks. The codec checks ngroups <= kFsNgroups and that
// reserved and the unused groups are zero.
struct FsCred {
	std::uint32_t uid = 0;
	std::uint32_t gid = 0;
	std::uint32_t ngroups = 0;
	std::array<std::uint32_t, kFsNgroups> groups{};

	bool operator==(const FsCred &) const = default;
};

// Storage-node request: dg_fs_req, then path, name2 and data. The codec
// checks lengths (path 1..kFsPathMax, name2 at most kFsPathMax, data at
// most kFsIoMax, their sum exactly the payload), reserved bytes and NULs in
// the strings; what each opcode does with the fields is the server's.
// uid and gid are SETATTR's new owner only; the caller is cred.
struct FsReq {
	std::uint32_t flags = 0;
	std::uint32_t valid = 0;
	std::uint32_t mode = 0;
	std::uint32_t uid = 0;
	std::uint32_t gid = 0;
	std::uint32_t rdev = 0;
	std::uint32_t count = 0;
	std::uint64_t offset = 0;
	std::uint64_t atime_sec = 0;
	std::uint64_t mtime_sec = 0;
	std::uint32_t atime_nsec = 0;
	std::uint32_t mtime_nsec = 0;
	FsCred cred;
	std::string_view path;
	std::string_view name2;
	ByteSpan data;

	bool operator==(const FsReq &o) const;
};

// dg_fs_attr.
struct FsAttr {
	std::uint64_t ino = 0;
	std::uint64_t dev = 0;
	std::uint64_t size = 0;
	std::uint64_t blocks = 0;
	std::uint64_t atime_sec = 0;
	std::uint64_t mtime_sec = 0;
	std::uint64_t ctime_sec = 0;
	std::uint32_t atime_nsec = 0;
	std::uint32_t mtime_nsec = 0;
	std::uint32_t ctime_nsec = 0;
	std::uint32_t mode = 0;
	std::uint32_t nlink = 0;
	std::uint32_t uid = 0;
	std::uint32_t gid = 0;
	std::uint32_t rdev = 0;
	std::uint32_t blksize = 0;

	bool operator==(const FsAttr &) const = default;
};

// dg_fs_write_reply.
struct FsWriteReply {
	std::uint32_t count = 0;
	FsAttr attr;

	bool operator==(const FsWriteReply &) const = default;
};

// One dg_fs_dirent and its name (1..kFsNameMax bytes, no NUL or '/').
struct FsDirent {
	std::uint64_t ino = 0;
	std::uint64_t cookie = 0;
	std::uint8_t type = 0;
	std::string name;

	bool operator==(const FsDirent &) const = default;
};

// READDIR reply: dg_fs_readdir_reply and its entries, each padded to 8.
struct FsReaddir {
	bool eof = false;
	std::vector<FsDirent> entries;

	bool operator==(const FsReaddir &) const = default;
};
// Wire bytes of one entry with a @name_len-byte name.
constexpr std::size_t fs_dirent_size(std::size_t name_len)
{
	return kFsDirentSize + ((name_len + 7) & ~std::size_t{7});
}

// dg_fs_entry_reply (DG_FEAT_FSATTR): CREATE, MKDIR, MKNOD, SYMLINK,
// LINK and RENAME replies with the directories' attributes; with
// DG_FEAT_RMATTR also UNLINK and RMDIR (attr all zero). Such a reply
// decodes as FsEntry when its payload has exactly kFsEntryReplySize bytes
// (else as the opcode's old form: FsAttr, or Empty for RENAME, UNLINK and
// RMDIR).
struct FsEntry {
	FsAttr attr;
	FsAttr dir;
	FsAttr old_dir;

	bool operator==(const FsEntry &) const = default;
};
// Opcodes answered with FsEntry under DG_FEAT_FSATTR.
constexpr bool has_entry_reply(std::uint16_t opcode)
{
	switch (opcode & ~DG_OP_REPLY) {
	case DG_OP_FS_CREATE:
	case DG_OP_FS_MKDIR:
	case DG_OP_FS_MKNOD:
	case DG_OP_FS_SYMLINK:
	case DG_OP_FS_LINK:
	case DG_OP_FS_RENAME:
	case DG_OP_FS_UNLINK:
	case DG_OP_FS_RMDIR:
		return true;
	default:
		return false;
	}
}

// One dg_fs_direntplus and its name (rules as FsDirent's); attr.mode 0:
// no attributes (the entry went away before its lstat).
struct FsDirentPlus {
	FsAttr attr;
	std::uint64_t cookie = 0;
	std::uint8_t type = 0;
	std::string name;

	bool operator==(const FsDirentPlus &) const = default;
};

// READDIRPLUS reply: dg_fs_readdir_reply and its entries, each padded to 8.
struct FsReaddirPlus {
	bool eof = false;
	std::vector<FsDirentPlus> entries;

	bool operator==(const FsReaddirPlus &) const = default;
};
constexpr std::size_t fs_direntplus_size(std::size_t name_len)
{
	return kFsDirentPlusSize + ((name_len + 7) & ~std::size_t{7});
}

// dg_fs_statfs.
struct FsStatfs {
	std::uint64_t blocks = 0;
	std::uint64_t bfree = 0;
	std::uint64_t bavail = 0;
	std::uint64_t files = 0;
	std::uint64_t ffree = 0;
	std::uint32_t bsize = 0;
	std::uint32_t frsize = 0;
	std::uint32_t namelen = 0;

	bool operator==(const FsStatfs &) const = default;
};

// GETXATTR, LISTXATTR reply: dg_fs_xattr_reply and, unless only the size
// was asked for, exactly @size bytes of value.
struct FsXattr {
	std::uint32_t size = 0;
	ByteSpan value;

	bool operator==(const FsXattr &o) const;
};

// Unstructured payload: DG_OP_STATUS reply (JSON), DG_OP_MEM_READ reply
// (page data; its size is checked against the request by the caller).
struct Data {
	ByteSpan bytes;

	bool operator==(const Data &o) const;
};

using Body = std::variant<Empty, Hello, HelloReply, Auth, AuthReply, MemInfo, MemAlloc,
			  MemSlab, MemFree, MemRw, MemWrite, Data, FsReq, FsAttr,
			  FsWriteReply, FsReaddir, FsStatfs, FsXattr, MemResize, FsEntry,
			  FsReaddirPlus>;

// Which payload a message carries, from its raw opcode (reply bit included).
enum class Kind : std::uint8_t {
	kNone,	// no such message
	kEmpty,
	kHello,
	kHelloReply,
	kAuth,
	kAuthReply,
	kMemInfo,
	kMemAlloc,
	kMemSlab,
	kMemFree,
	kMemRw,
	kMemWrite,
	kData,
	kFsReq,
	kFsAttr,
	kFsWriteReply,
	kFsReaddir,
	kFsStatfs,
	kFsXattr,
	kMemResize,
	kFsEntry,
	kFsReaddirPlus,
};

Kind payload_kind(std::uint16_t opcode);
Kind kind_of(const Body &body);

// Header plus payload, as found in a buffer.
struct Frame {
	Hdr hdr;
	ByteSpan payload;	// exactly hdr.length bytes

	std::size_t wire_size() const { return kHdrSize + payload.size(); }
};

struct Message {
	Hdr hdr;
	Body body;
};

// Header. decode_hdr() checks size, magic, major and length bound only; an
// unknown opcode is left to decode_message() so it can be answered.
void encode_hdr(const Hdr &h, std::span<std::byte, kHdrSize> out);
Result<Hdr> decode_hdr(ByteSpan in);

// Header and payload at the start of @in; bytes after the frame are ignored
// (they belong to the next one).
Result<Frame> decode_frame(ByteSpan in);

// Field checks shared by encoders and decoders.
Errc check(const Body &body);

// Payload decoders: @p is exactly one payload.
Result<Hello> decode_hello(ByteSpan p);
Result<HelloReply> decode_hello_reply(ByteSpan p);
Result<Auth> decode_auth(ByteSpan p);
Result<AuthReply> decode_auth_reply(ByteSpan p);
Result<MemInfo> decode_mem_info(ByteSpan p);
Result<MemAlloc> decode_mem_alloc(ByteSpan p);
Result<MemSlab> decode_mem_slab(ByteSpan p);
Result<MemFree> decode_mem_free(ByteSpan p);
Result<MemRw> decode_mem_rw(ByteSpan p);
Result<MemWrite> decode_mem_write(ByteSpan p);
Result<MemResize> decode_mem_resize(ByteSpan p);
Result<FsReq> decode_fs_req(ByteSpan p);
Result<FsAttr> decode_fs_attr(ByteSpan p);
Result<FsWriteReply> decode_fs_write_reply(ByteSpan p);
Result<FsReaddir> decode_fs_readdir(ByteSpan p);
Result<FsStatfs> decode_fs_statfs(ByteSpan p);
Result<FsXattr> decode_fs_xattr(ByteSpan p);
Result<FsEntry> decode_fs_entry(ByteSpan p);
Result<FsReaddirPlus> decode_fs_readdirplus(ByteSpan p);

// One-sided file data (DG_FEAT_RDMA_FS, proto.h "One-sided file data").
struct FsSeg {
	std::uint64_t addr = 0;
	std::uint32_t len = 0;
	std::uint32_t rkey = 0;

	bool operator==(const FsSeg &) const = default;
};

struct FsSegs {
	std::array<FsSeg, kFsSegsMax> seg{};
	unsigned nr = 0;
	std::uint32_t total = 0;	// bytes, the request's count

	std::span<const FsSeg> view() const { return {seg.data(), nr}; }
};

// The segments of READ or WRITE @r that carries DG_FS_IO_SEGS, every field
// checked: 1..kFsSegsMax whole dg_fs_seg records in r.data, each len >= 1
// and addr + len not wrapping, their sum equal to r.count and at most
// kFsRdmaIoMax; with DG_FS_IO_INVALIDATE one rkey for all. kBadSize or
// kBadValue otherwise (EINVAL on the wire).
Result<FsSegs> decode_fs_segs(const FsReq &r);
// Client side: @segs as the data part of a request (what r.data points to).
Bytes encode_fs_segs(std::span<const FsSeg> segs);
// dg_fs_rdma_read_reply: the count from a READ-with-segments reply payload.
Result<std::uint32_t> decode_fs_rdma_read_reply(ByteSpan p);
Bytes encode_fs_rdma_read_reply(std::uint32_t count);

// Typed message from a frame: checks the status (0 on requests, at most
// kMaxErrno on replies), the opcode and the payload. An error reply (status
// not 0) has an empty payload, decodes as Empty and may carry any opcode:
// it can answer a request the replier did not know (e.g. EOPNOTSUPP).
Result<Message> decode_message(const Frame &f);

// Frame builders. encode_message() takes opcode, status, req_id and minor
// from m.hdr and computes length; it refuses anything decode_message() would
// refuse, so a frame it builds always decodes.
Result<Bytes> encode_message(const Message &m);
Result<Bytes> make_request(Op op, std::uint64_t req_id, const Body &body = Empty{});
Result<Bytes> make_reply(Op op, std::uint64_t req_id, const Body &body = Empty{});
// @status is a positive errno; @opcode is the request's, known or not.
Result<Bytes> make_error_reply(Op op, std::uint64_t req_id, std::uint32_t status);
Result<Bytes> make_error_reply(std::uint16_t opcode, std::uint64_t req_id,
			       std::uint32_t status);

// What both ends of a connection use after the handshake.
struct Negotiated {
	std::uint16_t minor = 0;
	std::uint32_t features = 0;

	bool operator==(const Negotiated &) const = default;
};

// Server side: the lower minor and the common known features.
Result<Negotiated> negotiate(const Hello &peer, std::uint16_t our_minor = kMinor,
			     std::uint32_t our_features = kFeatKnown);

// Client side: accept a reply only if it has our major and grants no minor
// or feature beyond what @sent offered.
Result<Negotiated> check_hello_reply(const Hello &sent, const HelloReply &reply);

}  // namespace disagg::proto
