#pragma once
// Hugging Face tokenizers (tokenizer.json + tokenizer_config.json), encode and decode.
//
//   auto tok = um::text::Tokenizer::load("models/Qwen3-0.6B");        // dir or tokenizer.json
//   std::vector<int32_t> ids = tok.encode("Hello world", /*add_special_tokens=*/false);
//   std::string text = tok.decode(ids, /*skip_special_tokens=*/true);
//
// Supported (anything else throws util::NotSupported at load, never degrades silently):
//   model        BPE: byte-level (GPT-2, Qwen2/2.5/3, Llama-3.x, Mistral-Nemo) or character level
//                with byte_fallback/unk (SentencePiece conversions: Llama-2, Mistral); ignore_merges.
//   added tokens matched before normalisation (normalized=false) or after it (normalized=true),
//                leftmost-longest, with single_word / lstrip / rstrip. Always matched
//                (transformers' split_special_tokens=False).
//   normalizer   NFC NFD NFKC NFKD Lowercase Strip Replace Prepend Sequence.
//   pre_tokenizer Split (PCRE2, UTF+UCP+JIT) ByteLevel Digits Metaspace Whitespace
//                WhitespaceSplit Sequence.
//   post_processor TemplateProcessing ByteLevel RobertaProcessing BertProcessing Sequence.
//   decoder      ByteLevel Metaspace Replace Fuse Strip ByteFallback Sequence; then transformers'
//                clean_up_tokenization when tokenizer_config.json sets clean_up_tokenization_spaces
//                (absent = false, the transformers >= 4.45 default).
//
// Not applied: tokenizer_config.json add_bos_token / add_eos_token (transformers' LlamaTokenizerFast
// rebuilds its post-processor from them; here the tokenizer.json post_processor is used as is),
// truncation and padding (rejected at load), and offset trimming (trim_offsets).
//
// Invalid UTF-8 input is defined: each maximal ill-formed subsequence is replaced by U+FFFD before
// anything else, exactly as Python's bytes.decode('utf-8', 'replace') and Node's TextDecoder do,
// so ids equal what the Python and JavaScript libraries give for the same bytes read as text.
//
// Thread safety: a Tokenizer is immutable after load; every const method may be called from any
// number of threads at once (the BPE word cache is per thread: up to 2^17 words per tokenizer and
// thread, kept until the thread exits). Copies share the loaded state.
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace um::text {

namespace detail {
struct TokenizerImpl;
}

// ids[i] covers bytes [offsets[i].first, offsets[i].second) of the input passed to encode (for
// tokens inserted by the post-processor the range is empty, {0, 0}). Byte-level tokens may cover
// part of a multi-byte character; ranges are never trimmed of spaces.
struct Encoding {
  std::vector<int32_t> ids;
  std::vector<std::pair<uint32_t, uint32_t>> offsets;
};

class Tokenizer {
 public:
  // `path` is a model directory holding tokenizer.json (and optionally tokenizer_config.json) or a
  // tokenizer.json file (tokenizer_config.json is then looked up beside it).
  // Throws util::Error (with the file) on unreadable or malformed input.
  static Tokenizer load(const std::filesystem::path& path);
  // From the file contents; `config_json` may be empty.
  static Tokenizer from_json(std::string_view tokenizer_json, std::string_view config_json = {});

  // add_special_tokens = true applies the post-processor (e.g. Llama-3's <|begin_of_text|>), as
  // transformers' encode does by default.
  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = true) const;
  Encoding encode_with_offsets(std::string_view text, bool add_special_tokens = true) const;
  // Encodes every text, in parallel over `threads` (0 = all cores); result[i] = encode(texts[i]).
  std::vector<std::vector<int32_t>> encode_batch(const std::vector<std::string>& texts,
                                                 bool add_special_tokens = true, unsigned threads = 0) const;
  // Throws util::Error for an id that is neither in the vocabulary nor an added token.
  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const;

  // Vocabulary or added-token lookup, by the vocabulary's own spelling ("Ġhello" for byte-level).
  std::optional<int32_t> token_to_id(std::string_view token) const;
  std::optional<std::string> id_to_token(int32_t id) const;
  bool is_special(int32_t id) const;

  // From tokenizer_config.json (bos_token / eos_token / pad_token as strings or {"content": ...}).
  std::optional<int32_t> bos_id() const;
  std::optional<int32_t> eos_id() const;
  std::optional<int32_t> pad_id() const;
  std::optional<std::string> bos_token() const;
  std::optional<std::string> eos_token() const;

  // Number of distinct ids (vocabulary plus added tokens), as len(tokenizer) in transformers.
  size_t vocab_size() const;

 private:
  explicit Tokenizer(std::shared_ptr<const detail::TokenizerImpl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const detail::TokenizerImpl> impl_;
};

// Ids of the option letters "A", "B", ... (n of them): the first id of the encoding of the bare
// letter without special tokens, as the reference implementation defines them. Throws util::Error
// if two letters share an id or n is outside 1..26.
std::vector<int32_t> letter_token_ids(const Tokenizer& tok, int n);
// The id each letter gets when it follows `context` (default: the scoring prefix "Behavior: ["), i.e.
// the token a model actually emits there; -1 for a letter that merges with the context's last token.
// Decision (docs/chat-templates.md, "Letter tokens"): scoring uses letter_token_ids (the reference's
// definition); for Qwen2/2.5/3 and Llama-3.x the two agree (tested), and a tokenizer where they differ
// is reported by the embedded backend's check.
std::vector<int32_t> letter_token_ids_in_context(const Tokenizer& tok, int n,
                                                 std::string_view context = "Behavior: [");

// The `usermirror tokenize` stream: each input line is a JSON string; writes one JSON array of ids
// per line, in order. Lines are encoded in parallel blocks (`threads`, 0 = all cores). Throws
// util::Error naming `source` and the line for a line that is not a JSON string. Returns the
// number of lines.
int64_t encode_json_lines(const Tokenizer& tok, std::istream& in, std::ostream& out, bool add_special_tokens,
                          unsigned threads = 0, const std::string& source = "<stdin>");

}  // namespace um::text
