// Training data from chat JSONL files (our SFT file: `messages`; the pref file of reference doc §8.7:
// `messages_chosen` / `messages_rejected`). Each conversation is rendered with the model's chat template
// and tokenised without extra special tokens (as transformers' apply_chat_template(tokenize=True));
// the targets are the tokens after the rendering of all messages but the last with
// add_generation_prompt=True, which must be a token prefix of the full rendering.
#include <nlohmann/json.hpp>

#include "text/jinja.h"
#include "text/tokenizer.h"
#include "train/train.h"
#include "util/error.h"
#include "util/line_reader.h"

namespace um::train {

namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

struct ChatTokenizer {
  text::Tokenizer tok;
  std::unique_ptr<text::JinjaTemplate> tmpl;

  explicit ChatTokenizer(const fs::path& model_dir) : tok(text::Tokenizer::load(model_dir)) {
    std::string source;
    const fs::path cfg_path = model_dir / "tokenizer_config.json";
    if (fs::exists(model_dir / "chat_template.jinja")) {
      source = util::read_file(model_dir / "chat_template.jinja");
    } else if (fs::exists(cfg_path)) {
      auto cfg = ordered_json::parse(util::read_file(cfg_path));
      auto it = cfg.find("chat_template");
      if (it != cfg.end() && it->is_string()) {
        source = it->get<std::string>();
      } else if (it != cfg.end() && it->is_array()) {  // named templates: use "default"
        for (const auto& t : *it) {
          if (t.value("name", std::string()) == "default") source = t.value("template", std::string());
        }
      }
    }
    if (source.empty()) {
      throw util::Error("the model has no chat template (tokenizer_config.json chat_template)",
                        {.file = cfg_path.string(), .field = "chat_template"});
    }
    tmpl = std::make_unique<text::JinjaTemplate>(source, cfg_path.string());
  }

  std::string render(const ordered_json& messages, bool add_generation_prompt) const {
    ordered_json vars;
    vars["messages"] = messages;
    vars["add_generation_prompt"] = add_generation_prompt;
    vars["bos_token"] = tok.bos_token().value_or("");
    vars["eos_token"] = tok.eos_token().value_or("");
    return tmpl->render(vars);
  }

  // Tokens of the conversation; targets on the last (assistant) message.
  TokenExample encode(const ordered_json& messages, const util::Location& where) const {
    if (!messages.is_array() || messages.size() < 2) {
      throw util::Error("a conversation needs at least two messages", where);
    }
    const auto& last = messages.back();
    if (!last.is_object() || last.value("role", std::string()) != "assistant") {
      throw util::Error("the last message must be the assistant's (the training target)", where);
    }
    ordered_json prefix_msgs = ordered_json::array();
    for (size_t i = 0; i + 1 < messages.size(); ++i) prefix_msgs.push_back(messages[i]);
    const std::string full = render(messages, false);
    const std::string prefix = render(prefix_msgs, true);
    TokenExample e;
    e.ids = tok.encode(full, false);
    const auto pids = tok.encode(prefix, false);
    if (full.compare(0, prefix.size(), prefix) != 0 || pids.size() > e.ids.size() ||
        !std::equal(pids.begin(), pids.end(), e.ids.begin())) {
      throw util::Error(
          "the chat template's generation prompt is not a token prefix of the full conversation, "
          "so the assistant tokens cannot be located",
          where);
    }
    e.target.assign(e.ids.size(), 0);
    for (size_t i = pids.size(); i < e.ids.size(); ++i) e.target[i] = 1;
    return e;
  }
};

// Cuts to max_seq_len; returns whether it did.
bool truncate(TokenExample& e, int64_t max_len) {
  if (max_len <= 0 || static_cast<int64_t>(e.ids.size()) <= max_len) return false;
  e.ids.resize(static_cast<size_t>(max_len));
  e.target.resize(static_cast<size_t>(max_len));
  return true;
}

bool has_target(const TokenExample& e) {
  for (size_t i = 1; i < e.target.size(); ++i) {
    if (e.target[i]) return true;
  }
  return false;
}

template <typename Fn>
void for_each_record(const fs::path& data, Fn&& fn) {
  util::LineReader in(data);
  std::string_view line;
  while (in.next(line)) {
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    util::Location where{.file = data.string(), .line = in.line_number()};
    ordered_json j;
    try {
      j = ordered_json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw util::Error(std::string("invalid JSON: ") + e.what(), where);
    }
    fn(j, where);
  }
}

void too_long(const util::Location& where, int64_t max_len) {
  throw util::Error("the assistant turn starts after max_seq_len (" + std::to_string(max_len) +
                        ") tokens; raise --max-seq-len",
                    where);
}

}  // namespace

std::vector<TokenExample> load_sft_data(const fs::path& data, const fs::path& model_dir,
                                        const std::string& column, int64_t max_seq_len,
                                        DataSummary* summary) {
  ChatTokenizer ct(model_dir);
  std::vector<TokenExample> out;
  DataSummary s;
  std::string col = column;
  for_each_record(data, [&](const ordered_json& j, util::Location where) {
    if (col.empty()) col = j.contains("messages") ? "messages" : "messages_chosen";
    where.field = col;
    auto it = j.find(col);
    if (it == j.end()) throw util::Error("missing conversation column", where);
    TokenExample e = ct.encode(*it, where);
    s.truncated += truncate(e, max_seq_len);
    if (!has_target(e)) too_long(where, max_seq_len);
    for (size_t i = 1; i < e.target.size(); ++i) s.target_tokens += e.target[i];
    out.push_back(std::move(e));
  });
  s.examples = static_cast<int64_t>(out.size());
  if (out.empty()) throw util::Error("no training examples", {.file = data.string()});
  if (summary) *summary = s;
  return out;
}

std::vector<PrefExample> load_pref_data(const fs::path& data, const fs::path& model_dir, int64_t max_seq_len,
                                        DataSummary* summary) {
  ChatTokenizer ct(model_dir);
  std::vector<PrefExample> out;
  DataSummary s;
  for_each_record(data, [&](const ordered_json& j, util::Location where) {
    PrefExample p;
    for (const char* col : {"messages_chosen", "messages_rejected"}) {
      where.field = col;
      auto it = j.find(col);
      if (it == j.end()) throw util::Error("missing conversation column", where);
      TokenExample e = ct.encode(*it, where);
      s.truncated += truncate(e, max_seq_len);
      if (!has_target(e)) too_long(where, max_seq_len);
      for (size_t i = 1; i < e.target.size(); ++i) s.target_tokens += e.target[i];
      (col[9] == 'c' ? p.chosen : p.rejected) = std::move(e);
    }
    out.push_back(std::move(p));
  });
  s.examples = static_cast<int64_t>(out.size());
  if (out.empty()) throw util::Error("no preference pairs", {.file = data.string()});
  if (summary) *summary = s;
  return out;
}

}  // namespace um::train
