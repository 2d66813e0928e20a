#include "text/detail/tokenizer_text.h"

#include <utf8proc.h>

#include <array>
#include <cstdlib>
#include <memory>

#include "util/error.h"
#include "util/utf8.h"

namespace um::text::detail {

void TextBuf::append(std::string_view piece, Span orig) {
  s.append(piece);
  if (track) align.insert(align.end(), piece.size(), orig);
}

void TextBuf::append_from(const TextBuf& src, size_t b, size_t e) {
  s.append(src.s, b, e - b);
  if (!track) return;
  if (&src == this) {
    // Copying from ourselves: reserve first so that indexing stays valid while appending.
    align.reserve(align.size() + (e - b));
    for (size_t k = b; k < e; ++k) align.push_back(align[k]);
    return;
  }
  align.insert(align.end(), src.align.begin() + b, src.align.begin() + e);
}

namespace {

// Length of the longest prefix of s[i..] that is the start of a well-formed sequence
// (Unicode Table 3-7); 0 if s[i] cannot start one.
size_t maximal_subpart(std::string_view s, size_t i) {
  auto b0 = static_cast<uint8_t>(s[i]);
  size_t need = 0;
  uint8_t lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  size_t n = 1;
  for (size_t k = 0; k < need && i + n < s.size(); ++k) {
    auto b = static_cast<uint8_t>(s[i + n]);
    if (k == 0 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) break;
    ++n;
  }
  return n;
}

}  // namespace

bool utf8_lossy(std::string_view in, TextBuf& out) {
  size_t bad = 0;
  if (util::is_valid_utf8(in, &bad)) return false;
  out.s.clear();
  out.align.clear();
  auto keep = [&](size_t b, size_t e) {
    out.s.append(in.substr(b, e - b));
    if (out.track) {
      for (size_t k = b; k < e; ++k)
        out.align.push_back({static_cast<uint32_t>(k), static_cast<uint32_t>(k + 1)});
    }
  };
  keep(0, bad);
  size_t i = bad;
  while (i < in.size()) {
    uint32_t cp = 0;
    size_t n = util::decode_utf8(in, i, cp);
    if (n > 0) {
      keep(i, i + n);
      i += n;
      continue;
    }
    size_t len = std::max<size_t>(1, maximal_subpart(in, i));
    out.append("\xEF\xBF\xBD", {static_cast<uint32_t>(i), static_cast<uint32_t>(i + len)});
    i += len;
  }
  return true;
}

size_t next_cp(std::string_view s, size_t i, uint32_t& cp) {
  auto b0 = static_cast<uint8_t>(s[i]);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  if (b0 < 0xE0) {
    cp = ((b0 & 0x1Fu) << 6) | (static_cast<uint8_t>(s[i + 1]) & 0x3Fu);
    return 2;
  }
  if (b0 < 0xF0) {
    cp = ((b0 & 0x0Fu) << 12) | ((static_cast<uint8_t>(s[i + 1]) & 0x3Fu) << 6) |
         (static_cast<uint8_t>(s[i + 2]) & 0x3Fu);
    return 3;
  }
  cp = ((b0 & 0x07u) << 18) | ((static_cast<uint8_t>(s[i + 1]) & 0x3Fu) << 12) |
       ((static_cast<uint8_t>(s[i + 2]) & 0x3Fu) << 6) | (static_cast<uint8_t>(s[i + 3]) & 0x3Fu);
  return 4;
}

namespace {

struct FreeDeleter {
  void operator()(utf8proc_uint8_t* p) const { std::free(p); }
};

// Calls fn(b, e) for every grapheme cluster [b, e) of valid UTF-8 `s`.
template <class Fn>
void for_each_cluster(std::string_view s, Fn&& fn) {
  size_t start = 0;
  size_t i = 0;
  utf8proc_int32_t state = 0;
  uint32_t prev = 0;
  bool have_prev = false;
  while (i < s.size()) {
    uint32_t cp = 0;
    size_t n = next_cp(s, i, cp);
    if (have_prev && utf8proc_grapheme_break_stateful(static_cast<utf8proc_int32_t>(prev),
                                                      static_cast<utf8proc_int32_t>(cp), &state)) {
      fn(start, i);
      start = i;
    }
    prev = cp;
    have_prev = true;
    i += n;
  }
  if (start < s.size()) fn(start, s.size());
}

}  // namespace

void utf8proc_append(const TextBuf& in, TextBuf& out, int options) {
  const std::string& s = in.s;
  for_each_cluster(s, [&](size_t b, size_t e) {
    // A lone ASCII character is invariant under every normal form.
    if (e - b == 1 && static_cast<uint8_t>(s[b]) < 0x80) {
      out.append_from(in, b, e);
      return;
    }
    utf8proc_uint8_t* dst = nullptr;
    utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + b),
                                      static_cast<utf8proc_ssize_t>(e - b), &dst,
                                      static_cast<utf8proc_option_t>(options | UTF8PROC_STABLE));
    std::unique_ptr<utf8proc_uint8_t, FreeDeleter> guard(dst);
    if (n < 0) throw util::Error(std::string("unicode normalisation failed: ") + utf8proc_errmsg(n));
    std::string_view piece(reinterpret_cast<const char*>(dst), static_cast<size_t>(n));
    if (piece == std::string_view(s).substr(b, e - b)) {
      out.append_from(in, b, e);
    } else {
      out.append(piece, in.track ? in.span_of(b, e) : Span{});
    }
  });
}

void nfc_append(const TextBuf& in, TextBuf& out) { utf8proc_append(in, out, UTF8PROC_COMPOSE); }

void lowercase_append(const TextBuf& in, TextBuf& out) {
  const std::string& s = in.s;
  size_t i = 0;
  std::string tmp;
  while (i < s.size()) {
    uint32_t cp = 0;
    size_t n = next_cp(s, i, cp);
    auto lower = static_cast<uint32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp)));
    if (cp == 0x130) {
      // The one unconditional multi-character lowercase mapping (SpecialCasing.txt), which Rust's
      // char::to_lowercase applies: U+0130 → "i" + U+0307.
      out.append("i\xCC\x87", in.track ? in.span_of(i, i + n) : Span{});
    } else if (lower == cp) {
      out.append_from(in, i, i + n);
    } else {
      tmp.clear();
      util::append_utf8(tmp, lower);
      out.append(tmp, in.track ? in.span_of(i, i + n) : Span{});
    }
    i += n;
  }
}

bool is_white_space(uint32_t cp) {
  if (cp <= 0x20) return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D);
  switch (cp) {
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

bool is_numeric(uint32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return cat == UTF8PROC_CATEGORY_ND || cat == UTF8PROC_CATEGORY_NL || cat == UTF8PROC_CATEGORY_NO;
}

namespace {

struct ByteLevelTables {
  std::array<uint32_t, 256> to_cp{};
  std::array<int16_t, 324> to_byte{};  // every code point of the alphabet is below 324
  ByteLevelTables() {
    to_byte.fill(-1);
    uint32_t extra = 0;
    for (uint32_t b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      to_cp[b] = printable ? b : 256 + extra++;
      to_byte[to_cp[b]] = static_cast<int16_t>(b);
    }
  }
};

const ByteLevelTables& tables() {
  static const ByteLevelTables t;
  return t;
}

}  // namespace

uint32_t byte_to_cp(uint8_t b) { return tables().to_cp[b]; }

int cp_to_byte(uint32_t cp) { return cp < 324 ? tables().to_byte[cp] : -1; }

}  // namespace um::text::detail
