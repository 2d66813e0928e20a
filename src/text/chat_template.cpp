#include "text/chat_template.h"

#include <fstream>
#include <sstream>

#include "text/detail/jinja_value.h"
#include "util/error.h"
#include "util/utf8.h"

namespace um::text {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw util::Error("cannot open file", {.file = p.string()});
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json read_json(const fs::path& p) {
  try {
    return json::parse(read_file(p));
  } catch (const json::parse_error& e) {
    throw util::Error(std::string("invalid JSON: ") + e.what(), {.file = p.string()});
  }
}

const char* const kSpecialTokenKeys[] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                         "pad_token", "cls_token", "mask_token"};

// A special token is a string or an AddedToken object {"content": ...}; null means unset.
void collect_special_tokens(const json& cfg, json& out) {
  for (const char* key : kSpecialTokenKeys) {
    if (out.contains(key) || !cfg.contains(key)) continue;
    const json& v = cfg[key];
    if (v.is_string() && !v.get<std::string>().empty()) {
      out[key] = v;
    } else if (v.is_object() && v.contains("content") && v["content"].is_string()) {
      out[key] = v["content"];
    }
  }
  if (!out.contains("additional_special_tokens") && cfg.contains("additional_special_tokens")) {
    json list = json::array();
    for (const auto& t : cfg["additional_special_tokens"]) {
      if (t.is_string()) list.push_back(t);
      if (t.is_object() && t.contains("content")) list.push_back(t["content"]);
    }
    if (!list.empty()) out["additional_special_tokens"] = list;
  }
}

// Python's str.strip(), lstrip() on whitespace.
std::string py_strip_ws(const std::string& s, bool left, bool right) {
  return detail::py_strip(s, detail::Value(), left, right);
}

// Byte offset reached by advancing `n_chars` code points from byte `pos`.
size_t advance_chars(const std::string& s, size_t pos, size_t n_chars) {
  for (size_t k = 0; k < n_chars && pos < s.size(); ++k) {
    ++pos;
    while (pos < s.size() && (static_cast<unsigned char>(s[pos]) & 0xc0) == 0x80) ++pos;
  }
  return pos;
}

}  // namespace

std::string cut_after_final_message(const std::string& rendered, const std::string& final_content) {
  const std::string stripped = py_strip_ws(final_content, true, true);
  const std::string lstripped = py_strip_ws(final_content, true, false);
  size_t loc = rendered.rfind(stripped);
  if (loc == std::string::npos) {
    throw util::Error(
        "continue_final_message is set but the final message does not appear in the chat after applying "
        "the chat template (the template may delete parts of the final message)");
  }
  // transformers compares and slices in code points; advancing by code points keeps that exact.
  const size_t lstripped_chars = detail::utf8_length(lstripped);
  const size_t end_l = advance_chars(rendered, loc, lstripped_chars);
  if (rendered.compare(loc, end_l - loc, final_content) == 0 && end_l - loc == final_content.size()) {
    return rendered.substr(0, end_l);
  }
  return rendered.substr(0, loc + stripped.size());
}

json to_json(const std::vector<ChatMessage>& messages) {
  json arr = json::array();
  for (const auto& m : messages) arr.push_back(json{{"role", m.role}, {"content", m.content}});
  return arr;
}

ChatTemplate::ChatTemplate(std::string source, json special_tokens, std::string origin)
    : source_(std::move(source)),
      special_tokens_(std::move(special_tokens)),
      template_(source_, std::move(origin)) {}

ChatTemplate ChatTemplate::from_tokenizer_config(const fs::path& dir, const std::string& template_name) {
  const fs::path cfg_path = dir / "tokenizer_config.json";
  const fs::path jinja_path = dir / "chat_template.jinja";
  json cfg = json::object();
  if (fs::exists(cfg_path)) cfg = read_json(cfg_path);
  json special = json::object();
  collect_special_tokens(cfg, special);
  if (fs::exists(dir / "special_tokens_map.json"))
    collect_special_tokens(read_json(dir / "special_tokens_map.json"), special);

  if (fs::exists(jinja_path) && template_name.empty()) {
    return ChatTemplate(read_file(jinja_path), special, jinja_path.string());
  }
  if (!fs::exists(cfg_path)) {
    throw util::Error(
        "no chat template: neither tokenizer_config.json nor chat_template.jinja exists in " + dir.string(),
        {.file = cfg_path.string()});
  }
  if (!cfg.contains("chat_template") || cfg["chat_template"].is_null()) {
    throw util::Error(
        "tokenizer_config.json has no 'chat_template' (and there is no chat_template.jinja "
        "beside it); this model has no chat template",
        {.file = cfg_path.string(), .field = "chat_template"});
  }
  const json& ct = cfg["chat_template"];
  if (ct.is_string()) {
    if (!template_name.empty() && template_name != "default") {
      throw util::Error("the model has a single chat template, not one named '" + template_name + "'",
                        {.file = cfg_path.string(), .field = "chat_template"});
    }
    return ChatTemplate(ct.get<std::string>(), special, cfg_path.string());
  }
  if (!ct.is_array()) {
    throw util::Error("'chat_template' must be a string or a list of {name, template}",
                      {.file = cfg_path.string(), .field = "chat_template"});
  }
  auto find = [&](const std::string& name) -> const json* {
    for (const auto& t : ct) {
      if (t.is_object() && t.value("name", "") == name && t.contains("template") &&
          t["template"].is_string()) {
        return &t["template"];
      }
    }
    return nullptr;
  };
  const std::string want = template_name.empty() ? "default" : template_name;
  const json* chosen = find(want);
  if (!chosen) {
    std::string names;
    for (const auto& t : ct) names += (names.empty() ? "" : ", ") + t.value("name", std::string("?"));
    throw util::Error("no chat template named '" + want + "' (available: " + names + ")",
                      {.file = cfg_path.string(), .field = "chat_template"});
  }
  ChatTemplate tpl(chosen->get<std::string>(), special, cfg_path.string() + " [" + want + "]");
  if (template_name.empty()) {
    if (const json* tool = find("tool_use")) {
      tpl.tool_use_ = std::make_shared<ChatTemplate>(tool->get<std::string>(), special,
                                                     cfg_path.string() + " [tool_use]");
    }
  }
  return tpl;
}

std::string ChatTemplate::render(const json& messages, const ChatRenderOptions& opts) const {
  if (!opts.tools.is_null() && tool_use_)
    return tool_use_->render(
        messages, {opts.add_generation_prompt, opts.continue_final_message, opts.extra, opts.tools});
  if (!messages.is_array()) throw util::Error("chat messages must be a JSON array");
  if (opts.continue_final_message && opts.add_generation_prompt) {
    throw util::Error(
        "continue_final_message and add_generation_prompt are not compatible: use "
        "continue_final_message to continue the final message, add_generation_prompt to "
        "start a new assistant message");
  }
  static const json kNull = nullptr;
  const json add_gen = opts.add_generation_prompt;
  JinjaTemplate::VarRefs vars;
  vars.reserve(8 + special_tokens_.size() + opts.extra.size());
  vars.emplace_back("messages", &messages);
  vars.emplace_back("tools", &opts.tools);
  vars.emplace_back("documents", &kNull);
  vars.emplace_back("add_generation_prompt", &add_gen);
  for (auto it = special_tokens_.begin(); it != special_tokens_.end(); ++it)
    vars.emplace_back(it.key(), &it.value());
  for (auto it = opts.extra.begin(); it != opts.extra.end(); ++it) vars.emplace_back(it.key(), &it.value());
  std::string rendered = template_.render(vars);
  if (!opts.continue_final_message) return rendered;
  if (messages.empty()) throw util::Error("continue_final_message needs at least one message");
  const json& last = messages.back();
  const json* content = last.contains("content") ? &last["content"] : nullptr;
  if (content && content->is_array()) {
    const json* text = nullptr;
    for (auto it = content->rbegin(); it != content->rend(); ++it) {
      if (it->is_object() && it->contains("text")) {
        text = &(*it)["text"];
        break;
      }
    }
    content = text;
  }
  if (!content || !content->is_string()) {
    throw util::Error("continue_final_message is set but the final message has no text content");
  }
  return cut_after_final_message(rendered, content->get<std::string>());
}

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages,
                                 const ChatRenderOptions& opts) const {
  return render(to_json(messages), opts);
}

}  // namespace um::text
