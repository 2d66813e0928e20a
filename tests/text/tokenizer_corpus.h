#pragma once
// The tokenizer exactness corpus: real texts from ../shared/data plus adversarial strings, and the
// binary-safe record file the JavaScript oracle (tests/oracles/tokenizer/encode.js) reads.
#include <filesystem>
#include <string>
#include <vector>

namespace um::testing {

// Every MovieLens title and genre list (ml-100k and ml-1m converted from Latin-1), Amazon Magazine
// reviews (text + summary), product titles and every 8th HTML description, MIND titles and every
// 4th abstract, KuaiRec captions, cover texts and tags, Last.fm tags (Latin-1), then
// adversarial_strings(); duplicates removed (first occurrence kept). `data` is ../shared/data.
std::vector<std::string> tokenizer_corpus(const std::filesystem::path& data);

// Hand-written hard cases: whitespace runs, CRLF, digit runs, contractions, special-token
// look-alikes, emoji ZWJ sequences, combining marks needing NFC, invalid UTF-8.
std::vector<std::string> adversarial_strings();

// Records "<byte length>\n<bytes>\n".
void write_corpus(const std::filesystem::path& path, const std::vector<std::string>& texts);

}  // namespace um::testing
