// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Table-driven codec behind proto.cpp: one table per wire struct, from which
// its encoder, decoder, wire size, equality and layout check follow.
//
// A table binds a host struct H (proto.hpp) to its C struct C (proto.h):
//
//	template <> struct Wire<MemRw> {
//		using H = MemRw;
//		using C = dg_mem_rw;
//		using Fields = std::tuple<DG_LE(slab_id), DG_LE(offset), DG_LE(len),
//					  DG_RESERVED(reserved)>;
//		static Errc check(const MemRw &m);	// optional
//	};
//
// Every entry takes its offset and width from the C struct (offsetof and
// sizeof through the DG_* macros below), and table_ok<H> checks at compile
// time that the entries cover sizeof(C) exactly, with no gap and no overlap,
// and that each host member is as wide as its wire field. A field added to
// proto.h in reserved space therefore fails to compile until the table
// names it.
//
// Entries (C field -> host member):
//   DG_LE(f)            little-endian integer (or enum) f -> f
//   DG_BOOL(f)          integer 0 or 1 -> bool f (other values: kBadValue)
//   DG_CONST(f, v, e)   integer always v (encode writes v; decode fails with e)
//   DG_RAW(f)           byte array f -> std::array<uint8_t, N> f
//   DG_LE_ARRAY(f)      array of integers f -> std::array f
//   DG_SUB(f)           nested struct f -> f, through its own table
//   DG_WHOLE(m)         the whole C struct -> host member m, through m's table
//   DG_NAME(len, buf, min, tail_zero)
//                       counted bytes in a fixed buffer -> std::string buf;
//                       len outside min..sizeof(buf): kBadNameLen; with
//                       tail_zero, bytes past len must be zero (kBadReserved)
//   DG_TAIL(len, m, pad)
//                       len bytes after the struct (after earlier tails),
//                       zero-padded to a multiple of pad -> m (string,
//                       string_view or ByteSpan); encode writes m.size()
//   DG_REST(m)          every byte after the struct -> ByteSpan m
//   DG_LIST(n, m, min)  n elements after the struct, each through the
//                       element type's table, each at least min bytes ->
//                       std::vector m
//   DG_RESERVED(f)      written zero, must read zero (kBadReserved)
//
// Decoding never throws and never reads outside the span. Its steps, and so
// which error a doubly malformed payload gets, are fixed:
//   1. size: at least sizeof(C); exactly, without tails, rest or list
//   2. this struct's reserved fields are zero
//   3. tails: the lengths add up to the payload (exactly, or at most for an
//      element of a list)
//   4. fixed fields in table order (nested structs decode whole here)
//   5. tails, rest and list in table order
//   6. the struct's check(), if it has one
// Encoding writes into a zeroed buffer of wire_size() bytes; reserved fields
// and padding stay zero. The caller has run check() first.
#pragma once

#include "proto.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

namespace disagg::proto::wire {

// Specialised for every host struct that has a wire form.
template <class H>
struct Wire;

template <std::size_t N>
std::uint64_t load_le(const std::byte *p)
{
	static_assert(N == 1 || N == 2 || N == 4 || N == 8);
	std::uint64_t v = 0;
	for (std::size_t i = 0; i < N; i++)
		v |= std::to_integer<std::uint64_t>(p[i]) << (8 * i);
	return v;
}

template <std::size_t N>
void store_le(std::byte *p, std::uint64_t v)
{
	static_assert(N == 1 || N == 2 || N == 4 || N == 8);
	for (std::size_t i = 0; i < N; i++)
		p[i] = static_cast<std::byte>(v >> (8 * i));
}

inline bool all_zero(ByteSpan s)
{
	return std::all_of(s.begin(), s.end(), [](std::byte b) { return b == std::byte{0}; });
}

// memcpy() must not see the null pointer of an empty span, even for 0 bytes.
inline void copy_bytes(void *dst, const void *src, std::size_t n)
{
	if (n)
		std::memcpy(dst, src, n);
}

constexpr std::size_t padded(std::size_t n, std::size_t pad)
{
	return (n + pad - 1) / pad * pad;
}

// Host member type and class of a member pointer.
template <auto M>
struct MemberOf;
template <class H, class V, V H::*M>
struct MemberOf<M> {
	using host = H;
	using type = V;
};

// A string, string_view or ByteSpan member as bytes, and assigned from bytes.
inline ByteSpan as_span(std::string_view s)
{
	return std::as_bytes(std::span(s.data(), s.size()));
}
inline ByteSpan as_span(ByteSpan s) { return s; }

inline void assign(std::string &dst, ByteSpan src)
{
	dst.assign(reinterpret_cast<const char *>(src.data()), src.size());
}
inline void assign(std::string_view &dst, ByteSpan src)
{
	dst = std::string_view(reinterpret_cast<const char *>(src.data()), src.size());
}
inline void assign(ByteSpan &dst, ByteSpan src) { dst = src; }

template <class V>
bool same(const V &a, const V &b)
{
	if constexpr (std::is_same_v<V, ByteSpan>)
		return std::ranges::equal(a, b);
	else
		return a == b;
}

// Bytes [off, off + size) of the C struct that an entry stands for.
struct Range {
	std::size_t off = 0;
	std::size_t size = 0;
};

template <class H>
Errc decode_into(ByteSpan p, H &v, bool exact, std::size_t &used);
template <class H>
void put_struct(const H &v, std::span<std::byte> out);
template <class H>
std::size_t wire_size(const H &v);

// What an entry does not do, it inherits from here as a no-op.
struct Entry {
	static constexpr std::array<Range, 0> ranges{};
	static constexpr bool var = false;	// bytes after the C struct
	static constexpr bool tail = false;
	static bool zero(ByteSpan) { return true; }
	static std::uint64_t tail_len(ByteSpan) { return 0; }
	static Errc get(ByteSpan, auto &) { return Errc::kOk; }
	static Errc get_tail(ByteSpan, std::size_t &, auto &) { return Errc::kOk; }
	static void put(const auto &, std::span<std::byte>) {}
	static void put_tail(const auto &, std::span<std::byte>, std::size_t &) {}
	static std::size_t tail_size(const auto &) { return 0; }
	static bool equal(const auto &, const auto &) { return true; }
};

// An entry bound to host member M.
template <auto M>
struct Bound : Entry {
	using H = typename MemberOf<M>::host;
	using V = typename MemberOf<M>::type;
	static bool equal(const H &a, const H &b) { return same(a.*M, b.*M); }
};

template <auto M, std::size_t Off, std::size_t Size>
struct Le : Bound<M> {
	using typename Bound<M>::H;
	using typename Bound<M>::V;
	static_assert(sizeof(V) == Size, "host field and wire field differ in width");
	static constexpr std::array<Range, 1> ranges{{{Off, Size}}};
	static Errc get(ByteSpan p, H &h)
	{
		h.*M = static_cast<V>(load_le<Size>(p.data() + Off));
		return Errc::kOk;
	}
	static void put(const H &h, std::span<std::byte> out)
	{
		store_le<Size>(out.data() + Off, static_cast<std::uint64_t>(h.*M));
	}
};

template <auto M, std::size_t Off, std::size_t Size>
struct Bool : Bound<M> {
	using typename Bound<M>::H;
	static_assert(std::is_same_v<typename Bound<M>::V, bool>);
	static constexpr std::array<Range, 1> ranges{{{Off, Size}}};
	static Errc get(ByteSpan p, H &h)
	{
		const std::uint64_t v = load_le<Size>(p.data() + Off);
		if (v > 1)
			return Errc::kBadValue;
		h.*M = v;
		return Errc::kOk;
	}
	static void put(const H &h, std::span<std::byte> out)
	{
		store_le<Size>(out.data() + Off, h.*M ? 1 : 0);
	}
};

template <std::uint64_t Value, std::size_t Off, std::size_t Size, Errc E>
struct Const : Entry {
	static constexpr std::array<Range, 1> ranges{{{Off, Size}}};
	static Errc get(ByteSpan p, auto &)
	{
		return load_le<Size>(p.data() + Off) == Value ? Errc::kOk : E;
	}
	static void put(const auto &, std::span<std::byte> out)
	{
		store_le<Size>(out.data() + Off, Value);
	}
};

template <auto M, std::size_t Off, std::size_t Size>
struct Raw : Bound<M> {
	using typename Bound<M>::H;
	using typename Bound<M>::V;
	static_assert(std::is_same_v<V, std::array<std::uint8_t, Size>>,
		      "a byte array is a std::array of as many uint8_t");
	static constexpr std::array<Range, 1> ranges{{{Off, Size}}};
	static Errc get(ByteSpan p, H &h)
	{
		copy_bytes((h.*M).data(), p.data() + Off, Size);
		return Errc::kOk;
	}
	static void put(const H &h, std::span<std::byte> out)
	{
		copy_bytes(out.data() + Off, (h.*M).data(), Size);
	}
};

template <auto M, std::size_t Off, std::size_t Size, std::size_t Elem>
struct LeArray : Bound<M> {
	using typename Bound<M>::H;
	using typename Bound<M>::V;
	static_assert(sizeof(typename V::value_type) == Elem &&
			      std::tuple_size_v<V> * Elem == Size,
		      "host array and wire array differ in width or length");
	static constexpr std::array<Range, 1> ranges{{{Off, Size}}};
	static Errc get(ByteSpan p, H &h)
	{
		for (std::size_t i = 0; i < std::tuple_size_v<V>; i++)
			(h.*M)[i] = static_cast<typename V::value_type>(
				load_le<Elem>(p.data() + Off + i * Elem));
		return Errc::kOk;
	}
	static void put(const H &h, std::span<std::byte> out)
	{
		for (std::size_t i = 0; i < std::tuple_size_v<V>; i++)
			store_le<Elem>(out.data() + Off + i * Elem, (h.*M)[i]);
	}
};

template <auto M, std::size_t Off, std::size_t Size>
struct Sub : Bound<M> {
	using typename Bound<M>::H;
	using typename Bound<M>::V;
	static_assert(sizeof(typename Wire<V>::C) == Size, "nested struct of another size");
	static constexpr std::array<Range, 1> ranges{{{Off, Size}}};
	static Errc get(ByteSpan p, H &h)
	{
		std::size_t used;
		return decode_into(p.subspan(Off, Size), h.*M, true, used);
	}
	static void put(const H &h, std::span<std::byte> out)
	{
		put_struct(h.*M, out.subspan(Off, Size));
	}
};

template <auto M, std::size_t LenOff, std::size_t LenSize, std::size_t BufOff,
	  std::size_t BufSize, std::size_t Min, bool TailZero>
struct Name : Bound<M> {
	using typename Bound<M>::H;
	static_assert(std::is_same_v<typename Bound<M>::V, std::string>);
	static constexpr std::array<Range, 2> ranges{{{LenOff, LenSize}, {BufOff, BufSize}}};
	static Errc get(ByteSpan p, H &h)
	{
		const std::uint64_t len = load_le<LenSize>(p.data() + LenOff);
		if (len < Min || len > BufSize)
			return Errc::kBadNameLen;
		// With TailZero one name has one encoding.
		if (TailZero && !all_zero(p.subspan(BufOff + len, BufSize - len)))
			return Errc::kBadReserved;
		assign(h.*M, p.subspan(BufOff, len));
		return Errc::kOk;
	}
	static void put(const H &h, std::span<std::byte> out)
	{
		const std::string &s = h.*M;
		assert(s.size() <= BufSize);
		store_le<LenSize>(out.data() + LenOff, s.size());
		copy_bytes(out.data() + BufOff, s.data(), s.size());
	}
};

template <auto M, std::size_t LenOff, std::size_t LenSize, std::size_t Pad>
struct Tail : Bound<M> {
	using typename Bound<M>::H;
	static constexpr std::array<Range, 1> ranges{{{LenOff, LenSize}}};
	static constexpr bool var = true;
	static constexpr bool tail = true;
	static std::uint64_t tail_len(ByteSpan p)
	{
		return padded(load_le<LenSize>(p.data() + LenOff), Pad);
	}
	// Step 3 bounded the tails by the span.
	static Errc get_tail(ByteSpan p, std::size_t &off, H &h)
	{
		const std::size_t len = load_le<LenSize>(p.data() + LenOff);
		assign(h.*M, p.subspan(off, len));
		const std::size_t end = off + padded(len, Pad);
		if (!all_zero(p.subspan(off + len, end - off - len)))
			return Errc::kBadReserved;
		off = end;
		return Errc::kOk;
	}
	static void put(const H &h, std::span<std::byte> out)
	{
		store_le<LenSize>(out.data() + LenOff, (h.*M).size());
	}
	static void put_tail(const H &h, std::span<std::byte> out, std::size_t &off)
	{
		const ByteSpan s = as_span(h.*M);
		copy_bytes(out.data() + off, s.data(), s.size());
		off += padded(s.size(), Pad);
	}
	static std::size_t tail_size(const H &h) { return padded((h.*M).size(), Pad); }
};

template <auto M>
struct Rest : Bound<M> {
	using typename Bound<M>::H;
	static_assert(std::is_same_v<typename Bound<M>::V, ByteSpan>);
	static constexpr bool var = true;
	static Errc get_tail(ByteSpan p, std::size_t &off, H &h)
	{
		h.*M = p.subspan(off);
		off = p.size();
		return Errc::kOk;
	}
	static void put_tail(const H &h, std::span<std::byte> out, std::size_t &off)
	{
		copy_bytes(out.data() + off, (h.*M).data(), (h.*M).size());
		off += (h.*M).size();
	}
	static std::size_t tail_size(const H &h) { return (h.*M).size(); }
};

template <auto M, std::size_t CountOff, std::size_t CountSize, std::size_t MinElem>
struct List : Bound<M> {
	using typename Bound<M>::H;
	using typename Bound<M>::V;
	using E = typename V::value_type;
	static_assert(MinElem >= sizeof(typename Wire<E>::C));
	static constexpr std::array<Range, 1> ranges{{{CountOff, CountSize}}};
	static constexpr bool var = true;
	static Errc get_tail(ByteSpan p, std::size_t &off, H &h)
	{
		const std::uint64_t n = load_le<CountSize>(p.data() + CountOff);
		// Bound the count by the bytes there before reserving.
		if (n > (p.size() - off) / MinElem)
			return Errc::kBadSize;
		V &v = h.*M;
		v.reserve(n);
		for (std::uint64_t i = 0; i < n; i++) {
			E e;
			std::size_t used = 0;
			if (Errc err = decode_into(p.subspan(off), e, false, used); err != Errc::kOk)
				return err;
			v.push_back(std::move(e));
			off += used;
		}
		return Errc::kOk;
	}
	static void put(const H &h, std::span<std::byte> out)
	{
		store_le<CountSize>(out.data() + CountOff, (h.*M).size());
	}
	static void put_tail(const H &h, std::span<std::byte> out, std::size_t &off)
	{
		for (const E &e : h.*M) {
			const std::size_t n = wire_size(e);
			put_struct(e, out.subspan(off, n));
			off += n;
		}
	}
	static std::size_t tail_size(const H &h)
	{
		std::size_t n = 0;
		for (const E &e : h.*M)
			n += wire_size(e);
		return n;
	}
};

template <std::size_t Off, std::size_t Size>
struct Reserved : Entry {
	static constexpr std::array<Range, 1> ranges{{{Off, Size}}};
	static bool zero(ByteSpan p) { return all_zero(p.subspan(Off, Size)); }
};

// Calls f(Entry{}) for each entry in order; stops at the first error.
template <class... E, class F>
Errc each(std::tuple<E...> *, F &&f)
{
	Errc err = Errc::kOk;
	(void)((err = f(E{}), err == Errc::kOk) && ...);
	return err;
}

template <class H>
Errc for_fields(auto &&f)
{
	return each(static_cast<typename Wire<H>::Fields *>(nullptr), f);
}

// Layout check: do the entries' ranges tile [0, Size) exactly?
enum class Layout { kOk, kGap, kOverlap };

template <std::size_t Size, class... E>
constexpr Layout layout_of(std::tuple<E...> *)
{
	std::array<Range, (E::ranges.size() + ... + 0)> r{};
	std::size_t i = 0;
	((std::copy(E::ranges.begin(), E::ranges.end(), r.begin() + i), i += E::ranges.size()),
	 ...);
	std::sort(r.begin(), r.end(), [](Range a, Range b) { return a.off < b.off; });
	std::size_t pos = 0;
	for (const Range &x : r) {
		if (x.off > pos)
			return Layout::kGap;
		if (x.off < pos)
			return Layout::kOverlap;
		pos = x.off + x.size;
	}
	return pos < Size ? Layout::kGap : pos > Size ? Layout::kOverlap : Layout::kOk;
}

template <class C, class Fields>
constexpr Layout layout_of()
{
	return layout_of<sizeof(C)>(static_cast<Fields *>(nullptr));
}

template <class... E>
constexpr int count_tails(std::tuple<E...> *)
{
	return (0 + ... + int(E::tail));
}
template <class... E>
constexpr int count_var(std::tuple<E...> *)
{
	return (0 + ... + int(E::var));
}

template <class H>
struct Table {
	using W = Wire<H>;
	using C = typename W::C;
	using F = typename W::Fields;
	static constexpr bool var = count_var(static_cast<F *>(nullptr)) > 0;
	static constexpr bool tails = count_tails(static_cast<F *>(nullptr)) > 0;
	static_assert(layout_of<C, F>() == Layout::kOk,
		      "the table does not cover the C struct exactly (gap or overlap)");
	static_assert(!tails || count_var(static_cast<F *>(nullptr)) ==
					count_tails(static_cast<F *>(nullptr)),
		      "tails do not mix with a rest or a list");
	static_assert(count_var(static_cast<F *>(nullptr)) <= 1 || tails,
		      "at most one rest or list");
};

// True when the table of H has passed its checks (for tests).
template <class H>
inline constexpr bool table_ok = (sizeof(Table<H>) > 0);

template <class H>
Errc decode_into(ByteSpan p, H &v, bool exact, std::size_t &used)
{
	using T = Table<H>;
	constexpr std::size_t n = sizeof(typename T::C);
	if (p.size() < n || (exact && !T::var && p.size() != n))
		return Errc::kBadSize;
	bool zero = true;
	for_fields<H>([&](auto e) {
		zero = zero && decltype(e)::zero(p);
		return Errc::kOk;
	});
	if (!zero)
		return Errc::kBadReserved;
	if constexpr (T::tails) {
		// 64-bit sum: a few 32-bit lengths cannot overflow it.
		std::uint64_t total = n;
		for_fields<H>([&](auto e) {
			total += decltype(e)::tail_len(p);
			return Errc::kOk;
		});
		if (exact ? total != p.size() : total > p.size())
			return Errc::kBadSize;
	}
	if (Errc e = for_fields<H>([&](auto e) { return decltype(e)::get(p, v); }); e != Errc::kOk)
		return e;
	std::size_t off = n;
	if constexpr (T::var) {
		Errc err = for_fields<H>([&](auto e) { return decltype(e)::get_tail(p, off, v); });
		if (err != Errc::kOk)
			return err;
		if (exact && off != p.size())
			return Errc::kBadSize;
	}
	if constexpr (requires { T::W::check(v); }) {
		if (Errc e = T::W::check(v); e != Errc::kOk)
			return e;
	}
	used = off;
	return Errc::kOk;
}

// A payload that is exactly one H.
template <class H>
Result<H> decode(ByteSpan p)
{
	H v;
	std::size_t used;
	if (Errc e = decode_into(p, v, true, used); e != Errc::kOk)
		return e;
	return v;
}

template <class H>
std::size_t wire_size(const H &v)
{
	std::size_t n = sizeof(typename Table<H>::C);
	for_fields<H>([&](auto e) {
		n += decltype(e)::tail_size(v);
		return Errc::kOk;
	});
	return n;
}

// @out is zeroed and wire_size(v) bytes long.
template <class H>
void put_struct(const H &v, std::span<std::byte> out)
{
	assert(out.size() == wire_size(v));
	for_fields<H>([&](auto e) {
		decltype(e)::put(v, out);
		return Errc::kOk;
	});
	std::size_t off = sizeof(typename Table<H>::C);
	for_fields<H>([&](auto e) {
		decltype(e)::put_tail(v, out, off);
		return Errc::kOk;
	});
}

// Field by field through the table (spans compare their bytes).
template <class H>
bool equal(const H &a, const H &b)
{
	return for_fields<H>([&](auto e) {
		       return decltype(e)::equal(a, b) ? Errc::kOk : Errc::kBadValue;
	       }) == Errc::kOk;
}

}  // namespace disagg::proto::wire

// Table entries from C field names, inside a Wire<H> with members H and C.
#define DG_LE(f) ::disagg::proto::wire::Le<&H::f, offsetof(C, f), sizeof(C::f)>
#define DG_BOOL(f) ::disagg::proto::wire::Bool<&H::f, offsetof(C, f), sizeof(C::f)>
#define DG_CONST(f, v, e) ::disagg::proto::wire::Const<v, offsetof(C, f), sizeof(C::f), e>
#define DG_RAW(f) ::disagg::proto::wire::Raw<&H::f, offsetof(C, f), sizeof(C::f)>
#define DG_LE_ARRAY(f) \
	::disagg::proto::wire::LeArray<&H::f, offsetof(C, f), sizeof(C::f), sizeof(C::f[0])>
#define DG_SUB(f) ::disagg::proto::wire::Sub<&H::f, offsetof(C, f), sizeof(C::f)>
#define DG_WHOLE(m) ::disagg::proto::wire::Sub<&H::m, 0, sizeof(C)>
#define DG_NAME(len, buf, min, tail_zero)                                              \
	::disagg::proto::wire::Name<&H::buf, offsetof(C, len), sizeof(C::len),         \
				    offsetof(C, buf), sizeof(C::buf), min, tail_zero>
#define DG_TAIL(len, m, pad) \
	::disagg::proto::wire::Tail<&H::m, offsetof(C, len), sizeof(C::len), pad>
#define DG_REST(m) ::disagg::proto::wire::Rest<&H::m>
#define DG_LIST(n, m, min) \
	::disagg::proto::wire::List<&H::m, offsetof(C, n), sizeof(C::n), min>
#define DG_RESERVED(f) ::disagg::proto::wire::Reserved<offsetof(C, f), sizeof(C::f)>
