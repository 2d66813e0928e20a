#include "text/tokenizer.h"

#include <simdjson.h>

#include <nlohmann/json.hpp>

#include "text/detail/tokenizer_impl.h"
#include "util/error.h"
#include "util/invalid_input.h"
#include "util/line_reader.h"
#include "util/thread_pool.h"

namespace um::text {

namespace detail {

using nlohmann::json;

namespace {

// bos_token & co. are strings, {"content": ...} objects (AddedToken dumps) or null.
std::optional<std::string> config_token(const json& config, const char* key) {
  if (!config.is_object() || !config.contains(key)) return std::nullopt;
  const json& v = config.at(key);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v.at("content").is_string()) {
    return v.at("content").get<std::string>();
  }
  if (v.is_null()) return std::nullopt;
  throw util::Error("expected a string, an object with \"content\", or null", {.field = key});
}

}  // namespace

TokenizerImpl::TokenizerImpl(const json& tok, const json& config, const BpeTables* tables) {
  if (tok.contains("truncation") && !tok.at("truncation").is_null()) {
    throw util::NotSupported("tokenizer.json truncation settings", {.field = "truncation"});
  }
  if (tok.contains("padding") && !tok.at("padding").is_null()) {
    throw util::NotSupported("tokenizer.json padding settings", {.field = "padding"});
  }
  bool byte_level = false;
  normalizer = make_normalizer(tok.value("normalizer", json()));
  pre_tokenizer = make_pre_tokenizer(tok.value("pre_tokenizer", json()), &byte_level);
  model = std::make_unique<BpeModel>(tok.at("model"), byte_level, tables);
  post = std::make_unique<PostProcessor>(tok.value("post_processor", json()));
  decoder = make_decoder(tok.value("decoder", json()));
  for (const auto& a : tok.value("added_tokens", json::array())) {
    AddedToken t;
    t.content = a.at("content").get<std::string>();
    t.id = a.at("id").get<int32_t>();
    t.special = a.value("special", false);
    t.lstrip = a.value("lstrip", false);
    t.rstrip = a.value("rstrip", false);
    t.normalized = a.value("normalized", !t.special);
    t.single_word = a.value("single_word", false);
    added_by_content[t.content] = t.id;
    added_by_id[t.id] = added.size();
    added.push_back(std::move(t));
  }
  raw_matcher = std::make_unique<AddedTokenMatcher>(added, false);
  norm_matcher = std::make_unique<AddedTokenMatcher>(added, true);
  if (config.is_object()) {
    const json& c = config.value("clean_up_tokenization_spaces", json(false));
    clean_up = c.is_boolean() && c.get<bool>();
    bos = config_token(config, "bos_token");
    eos = config_token(config, "eos_token");
    pad = config_token(config, "pad_token");
  }
}

std::optional<int32_t> TokenizerImpl::token_to_id(std::string_view token) const {
  auto it = added_by_content.find(std::string(token));
  if (it != added_by_content.end()) return it->second;
  return model->token_to_id(token);
}

void TokenizerImpl::encode(std::string_view input, bool add_special, std::vector<int32_t>& ids,
                           Offsets* offsets) const {
  TextBuf text;
  text.track = offsets != nullptr;
  if (!utf8_lossy(input, text)) {
    text.s.assign(input);
    if (text.track) {
      text.align.resize(input.size());
      for (uint32_t k = 0; k < input.size(); ++k) text.align[k] = {k, k + 1};
    }
  }
  size_t prev = 0;
  if (!raw_matcher->empty()) {
    std::vector<AddedMatch> matches;
    raw_matcher->find(text.s, matches);
    for (const AddedMatch& m : matches) {
      encode_segment(text, prev, m.b, ids, offsets);
      ids.push_back(m.id);
      if (offsets) {
        Span sp = text.span_of(m.b, m.e);
        offsets->emplace_back(sp.begin, sp.end);
      }
      prev = m.e;
    }
  }
  encode_segment(text, prev, text.s.size(), ids, offsets);
  if (add_special) post->apply(ids, offsets);
}

void TokenizerImpl::encode_segment(const TextBuf& text, size_t b, size_t e, std::vector<int32_t>& ids,
                                   Offsets* offsets) const {
  if (e <= b) return;
  TextBuf seg;
  seg.track = text.track;
  seg.append_from(text, b, e);
  if (normalizer) normalizer->apply(seg);
  if (norm_matcher->empty()) {
    encode_normalized(std::move(seg), b == 0, ids, offsets);
    return;
  }
  std::vector<AddedMatch> matches;
  norm_matcher->find(seg.s, matches);
  size_t prev = 0;
  auto plain = [&](size_t pb, size_t pe) {
    if (pe <= pb) return;
    TextBuf part;
    part.track = seg.track;
    part.append_from(seg, pb, pe);
    encode_normalized(std::move(part), b == 0 && pb == 0, ids, offsets);
  };
  for (const AddedMatch& m : matches) {
    plain(prev, m.b);
    ids.push_back(m.id);
    if (offsets) {
      Span sp = seg.span_of(m.b, m.e);
      offsets->emplace_back(sp.begin, sp.end);
    }
    prev = m.e;
  }
  plain(prev, seg.s.size());
}

void TokenizerImpl::encode_normalized(TextBuf&& buf, bool at_origin, std::vector<int32_t>& ids,
                                      Offsets* offsets) const {
  if (buf.s.empty()) return;
  PreTok p;
  p.buf = std::move(buf);
  p.pieces.push_back({0, static_cast<uint32_t>(p.buf.s.size()), at_origin});
  if (pre_tokenizer) pre_tokenizer->apply(p);
  std::vector<TokenSpan> spans;
  for (const Piece& pc : p.pieces) {
    std::string_view word(p.buf.s.data() + pc.b, pc.e - pc.b);
    if (offsets == nullptr) {
      model->encode(word, ids);
      continue;
    }
    spans.clear();
    model->encode_spans(word, spans);
    for (const TokenSpan& t : spans) {
      ids.push_back(t.id);
      Span sp = p.buf.span_of(pc.b + t.b, pc.b + t.e);
      offsets->emplace_back(sp.begin, sp.end);
    }
  }
}

std::string TokenizerImpl::decode(std::span<const int32_t> ids, bool skip_special) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    auto it = added_by_id.find(id);
    if (it != added_by_id.end()) {
      if (!(skip_special && added[it->second].special)) tokens.push_back(added[it->second].content);
      continue;
    }
    const std::string* t = model->id_to_token(id);
    if (t == nullptr)  // the caller's id (the embedded backend decodes only ids it can_decode)
      throw util::InvalidInput("token id " + std::to_string(id) + " is not in the vocabulary",
                               {.field = "ids"});
    tokens.push_back(*t);
  }
  std::string out;
  if (decoder) {
    decoder->decode_chain(tokens);
    for (const auto& t : tokens) out += t;
  } else {
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0) out.push_back(' ');
      out += tokens[i];
    }
  }
  return clean_up ? clean_up_tokenization(std::move(out)) : out;
}

}  // namespace detail

namespace {

// tokenizer.json is large (11 MB for Qwen3) and almost all of it is the vocabulary and the merges.
// simdjson parses it; those two tables are read straight from its DOM, and only the small
// sections are converted to nlohmann::json for the pipeline factories.
std::shared_ptr<const detail::TokenizerImpl> build(std::string_view tokenizer_json,
                                                   const nlohmann::json& config) {
  using nlohmann::json;
  simdjson::dom::parser parser;
  simdjson::padded_string padded(tokenizer_json);
  simdjson::dom::object root = parser.parse(padded).get_object();
  json tok = json::object();
  json model = json::object();
  detail::BpeTables tables;
  for (auto [key, value] : root) {
    if (key != "model") {
      tok[std::string(key)] = json::parse(simdjson::minify(value));
      continue;
    }
    for (auto [mk, mv] : value.get_object()) {
      if (mk == "vocab") {
        simdjson::dom::object vocab = mv.get_object();
        tables.vocab.reserve(vocab.size());
        for (auto [token, id] : vocab) tables.vocab.emplace_back(token, static_cast<int32_t>(int64_t(id)));
      } else if (mk == "merges") {
        simdjson::dom::array merges = mv.get_array();
        tables.merges.reserve(merges.size());
        for (simdjson::dom::element m : merges) {
          if (m.is_string()) {
            std::string_view s = m.get_string();
            size_t sp = s.find(' ');
            if (sp == std::string_view::npos || s.find(' ', sp + 1) != std::string_view::npos) {
              throw util::Error("merge '" + std::string(s) + "' is not two tokens",
                                {.field = "model.merges"});
            }
            tables.merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
          } else {
            simdjson::dom::array pair = m.get_array();
            if (pair.size() != 2) throw util::Error("merge is not a pair", {.field = "model.merges"});
            tables.merges.emplace_back(std::string_view(pair.at(0)), std::string_view(pair.at(1)));
          }
        }
      } else {
        model[std::string(mk)] = json::parse(simdjson::minify(mv));
      }
    }
  }
  if (model.empty() && tables.vocab.empty()) throw util::Error("no \"model\" section", {.field = "model"});
  tok["model"] = std::move(model);
  return std::make_shared<const detail::TokenizerImpl>(tok, config, &tables);
}

}  // namespace

namespace {

nlohmann::json parse_config(std::string_view config_json, const std::string& file) {
  if (config_json.empty()) return nlohmann::json();
  try {
    return nlohmann::json::parse(config_json);
  } catch (const nlohmann::json::exception& e) {
    throw util::Error(std::string("malformed tokenizer_config.json: ") + e.what(), {.file = file});
  }
}

// Builds the pipeline; every error names `file` (tokenizer.json).
std::shared_ptr<const detail::TokenizerImpl> build_reporting(std::string_view tokenizer_json,
                                                             const nlohmann::json& config,
                                                             const std::string& file) {
  auto located = [&](const util::Error& e) {
    util::Location where = e.where();
    if (where.file.empty()) where.file = file;
    return where;
  };
  try {
    return build(tokenizer_json, config);
  } catch (const util::NotSupported& e) {
    throw util::NotSupported(e.message(), located(e));
  } catch (const util::Error& e) {
    throw util::Error(e.message(), located(e));
  } catch (const simdjson::simdjson_error& e) {
    throw util::Error(std::string("malformed tokenizer.json: ") + e.what(), {.file = file});
  } catch (const nlohmann::json::exception& e) {
    throw util::Error(std::string("malformed tokenizer.json: ") + e.what(), {.file = file});
  }
}

}  // namespace

Tokenizer Tokenizer::from_json(std::string_view tokenizer_json, std::string_view config_json) {
  return Tokenizer(
      build_reporting(tokenizer_json, parse_config(config_json, "tokenizer_config.json"), "tokenizer.json"));
}

Tokenizer Tokenizer::load(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  fs::path file = fs::is_directory(path) ? path / "tokenizer.json" : path;
  if (!fs::exists(file)) throw util::Error("tokenizer.json not found", {.file = file.string()});
  fs::path config_file = file.parent_path() / "tokenizer_config.json";
  nlohmann::json config;
  if (fs::exists(config_file)) config = parse_config(util::read_file(config_file), config_file.string());
  return Tokenizer(build_reporting(util::read_file(file), config, file.string()));
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  std::vector<int32_t> ids;
  impl_->encode(text, add_special_tokens, ids, nullptr);
  return ids;
}

Encoding Tokenizer::encode_with_offsets(std::string_view text, bool add_special_tokens) const {
  Encoding enc;
  impl_->encode(text, add_special_tokens, enc.ids, &enc.offsets);
  return enc;
}

std::vector<std::vector<int32_t>> Tokenizer::encode_batch(const std::vector<std::string>& texts,
                                                          bool add_special_tokens, unsigned threads) const {
  std::vector<std::vector<int32_t>> out(texts.size());
  util::parallel_for(texts.size(), threads,
                     [&](size_t i) { impl_->encode(texts[i], add_special_tokens, out[i], nullptr); });
  return out;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  return impl_->decode(ids, skip_special_tokens);
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  return impl_->token_to_id(token);
}

std::optional<std::string> Tokenizer::id_to_token(int32_t id) const {
  auto it = impl_->added_by_id.find(id);
  if (it != impl_->added_by_id.end()) return impl_->added[it->second].content;
  if (const std::string* t = impl_->model->id_to_token(id)) return *t;
  return std::nullopt;
}

bool Tokenizer::is_special(int32_t id) const {
  auto it = impl_->added_by_id.find(id);
  return it != impl_->added_by_id.end() && impl_->added[it->second].special;
}

namespace {
std::optional<int32_t> id_of(const detail::TokenizerImpl& impl, const std::optional<std::string>& t) {
  if (!t) return std::nullopt;
  return impl.token_to_id(*t);
}
}  // namespace

std::optional<int32_t> Tokenizer::bos_id() const { return id_of(*impl_, impl_->bos); }
std::optional<int32_t> Tokenizer::eos_id() const { return id_of(*impl_, impl_->eos); }
std::optional<int32_t> Tokenizer::pad_id() const { return id_of(*impl_, impl_->pad); }
std::optional<std::string> Tokenizer::bos_token() const { return impl_->bos; }
std::optional<std::string> Tokenizer::eos_token() const { return impl_->eos; }

size_t Tokenizer::vocab_size() const {
  size_t n = impl_->model->size();
  for (const auto& [id, idx] : impl_->added_by_id) {
    if (impl_->model->id_to_token(id) == nullptr) ++n;
  }
  return n;
}

}  // namespace um::text
