#pragma once
// Text buffers that remember where each byte came from in the caller's input, and the Unicode
// helpers the tokenizer pipeline needs (lossy UTF-8, NFC, White_Space, byte-level alphabet).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace um::text::detail {

// Byte range [begin, end) in the caller's original input.
struct Span {
  uint32_t begin = 0;
  uint32_t end = 0;
};

// A string plus, when `track` is set, the original span of every byte (align.size() == s.size()).
// Without tracking only `s` is maintained, which keeps the ids-only encode path cheap.
struct TextBuf {
  std::string s;
  std::vector<Span> align;
  bool track = false;

  // Appends `piece`; every byte gets the span `orig`.
  void append(std::string_view piece, Span orig);
  // Appends bytes [b, e) of `src` with their own spans.
  void append_from(const TextBuf& src, size_t b, size_t e);
  // The original span covered by bytes [b, e) (b < e).
  Span span_of(size_t b, size_t e) const { return {align[b].begin, align[e - 1].end}; }
};

// Replaces every maximal ill-formed subsequence (Unicode 15 §3.9, "substitution of maximal
// subparts") by U+FFFD, as Node's TextDecoder, Python's decode('utf-8', 'replace') and Rust's
// from_utf8_lossy do. Returns false (and leaves `out` untouched) when `in` is already valid;
// otherwise `out` holds the repaired text (each U+FFFD aligned to the bytes it replaces).
bool utf8_lossy(std::string_view in, TextBuf& out);

// NFC of `in`, appended to `out`. Normalises one grapheme cluster at a time so that every output
// byte can be attributed to the cluster it came from (composition never crosses a cluster).
void nfc_append(const TextBuf& in, TextBuf& out);
// Generic utf8proc normalisation (options are UTF8PROC_* flags) applied per cluster as above.
void utf8proc_append(const TextBuf& in, TextBuf& out, int options);
// Lower-cases every code point as Rust's char::to_lowercase (simple mappings plus U+0130).
void lowercase_append(const TextBuf& in, TextBuf& out);

// Unicode White_Space (what Rust's char::is_whitespace and Oniguruma's \s accept).
bool is_white_space(uint32_t cp);
// Rust char::is_numeric (general categories Nd, Nl, No).
bool is_numeric(uint32_t cp);
// Decodes the code point at s[i] of *valid* UTF-8; returns its length.
size_t next_cp(std::string_view s, size_t i, uint32_t& cp);

// GPT-2 byte-level alphabet: byte → code point that represents it in vocabularies, and back
// (-1 for code points outside the alphabet).
uint32_t byte_to_cp(uint8_t b);
int cp_to_byte(uint32_t cp);

}  // namespace um::text::detail
