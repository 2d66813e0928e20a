#pragma once
// UTF-8 helpers: validation, decoding one code point, Latin-1 → UTF-8.
#include <cstdint>
#include <string>
#include <string_view>

namespace um::util {

// Decodes the code point starting at s[i]; returns its byte length, or 0 if the bytes there are
// not valid UTF-8 (overlong forms, surrogates and values above U+10FFFF are invalid).
size_t decode_utf8(std::string_view s, size_t i, uint32_t& cp);
// Appends the UTF-8 encoding of code point cp.
void append_utf8(std::string& out, uint32_t cp);
// True if every byte sequence in s is valid UTF-8. On failure, *bad_offset is the first bad byte.
bool is_valid_utf8(std::string_view s, size_t* bad_offset = nullptr);
// ISO-8859-1 bytes → UTF-8 (every byte maps to the code point of the same value).
std::string latin1_to_utf8(std::string_view s);

}  // namespace um::util
