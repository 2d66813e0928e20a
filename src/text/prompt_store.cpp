#include "text/prompt_store.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>

#include "util/atomic_file.h"
#include "util/error.h"
#include "util/line_reader.h"

#ifndef UM_SOURCE_PROMPTS_DIR
#define UM_SOURCE_PROMPTS_DIR ""
#endif

namespace um::text {
namespace fs = std::filesystem;

std::string sha256_hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr) != 1) {
    throw util::Error("SHA-256 computation failed (OpenSSL)");
  }
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

namespace {

std::optional<fs::path> exe_dir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return std::nullopt;
  return exe.parent_path();
}

void check_name(std::string_view name) {
  bool ok = !name.empty() && name.front() != '.' && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
  if (!ok)
    throw util::Error("invalid prompt name '" + std::string(name) + "' (letters, digits, '.', '_', '-')");
}

}  // namespace

std::vector<fs::path> prompt_search_dirs(const std::optional<fs::path>& prompts_dir) {
  std::vector<fs::path> candidates;
  if (prompts_dir) candidates.push_back(*prompts_dir);
  if (const char* env = std::getenv("UM_PROMPTS_DIR"); env && *env) candidates.emplace_back(env);
  if (auto dir = exe_dir()) {
    candidates.push_back(*dir / ".." / "share" / "usermirror" / "prompts");
    candidates.push_back(*dir / ".." / "prompts");
  }
  if (*UM_SOURCE_PROMPTS_DIR) candidates.emplace_back(UM_SOURCE_PROMPTS_DIR);
  std::vector<fs::path> out;
  for (const auto& c : candidates) {
    std::error_code ec;
    if (!fs::is_directory(c, ec)) continue;
    fs::path canon = fs::weakly_canonical(c, ec);
    if (std::find(out.begin(), out.end(), canon) == out.end()) out.push_back(canon);
  }
  if (prompts_dir && (out.empty() || out.front() != fs::weakly_canonical(*prompts_dir))) {
    throw util::Error("--prompts-dir is not a directory", {.file = prompts_dir->string()});
  }
  return out;
}

std::string load_prompt(std::string_view name, const std::optional<fs::path>& prompts_dir) {
  check_name(name);
  auto dirs = prompt_search_dirs(prompts_dir);
  for (const auto& d : dirs) {
    fs::path p = d / (std::string(name) + ".txt");
    if (fs::is_regular_file(p)) return util::read_file(p);
  }
  std::string searched;
  for (const auto& d : dirs) searched += "\n  " + d.string();
  std::string hint;
  if (name.rfind("authors-", 0) == 0) {
    hint =
        "\n(the authors' prompts are not shipped: run `usermirror prompts import --from <released train "
        "jsonl>`)";
  }
  throw util::Error("prompt '" + std::string(name) + "' not found; searched (as " + std::string(name) +
                    ".txt):" + (searched.empty() ? std::string(" no prompt directory exists") : searched) +
                    hint);
}

std::vector<PromptInfo> list_prompts(const std::optional<fs::path>& prompts_dir) {
  std::map<std::string, PromptInfo> found;
  for (const auto& d : prompt_search_dirs(prompts_dir)) {
    for (const auto& e : fs::directory_iterator(d)) {
      if (!e.is_regular_file() || e.path().extension() != ".txt") continue;
      std::string name = e.path().stem().string();
      if (found.count(name)) continue;
      std::string content = util::read_file(e.path());
      found[name] = PromptInfo{name, e.path(), sha256_hex(content), content.size()};
    }
  }
  std::vector<PromptInfo> out;
  for (auto& [k, v] : found) out.push_back(std::move(v));
  return out;
}

PromptImportResult import_authors_prompts(const PromptImportOptions& opts) {
  util::LineReader in(opts.from);
  std::map<std::string, std::string> by_digest;  // sha256 -> content
  PromptImportResult result;
  std::string_view line;
  while (in.next(line)) {
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    ++result.rows;
    nlohmann::json row;
    try {
      row = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      throw util::Error(std::string("invalid JSON: ") + e.what(),
                        {.file = opts.from.string(), .line = in.line_number()});
    }
    bool any = false;
    for (const char* field : {"messages_chosen", "messages_rejected"}) {
      if (!row.contains(field)) continue;
      const auto& msgs = row[field];
      if (!msgs.is_array() || msgs.empty() || !msgs[0].is_object() || msgs[0].value("role", "") != "system" ||
          !msgs[0].contains("content") || !msgs[0]["content"].is_string()) {
        throw util::Error("first message is not a system message with string content",
                          {.file = opts.from.string(), .line = in.line_number(), .field = field});
      }
      std::string content = msgs[0]["content"].get<std::string>();
      by_digest.emplace(sha256_hex(content), std::move(content));
      any = true;
    }
    if (!any) {
      throw util::Error(
          "row has neither messages_chosen nor messages_rejected (is this the released train set?)",
          {.file = opts.from.string(), .line = in.line_number()});
    }
  }
  result.distinct_system_prompts = by_digest.size();
  auto it = by_digest.find(opts.default_sha256);
  if (it == by_digest.end()) {
    std::string seen;
    for (const auto& [d, c] : by_digest) seen += "\n  " + d + " (" + std::to_string(c.size()) + " bytes)";
    throw util::Error("no system prompt with the expected SHA-256 " + opts.default_sha256 + " in " +
                          std::to_string(result.rows) + " rows; found:" + (seen.empty() ? " none" : seen),
                      {.file = opts.from.string(), .field = "messages_chosen[0].content"});
  }
  fs::create_directories(opts.out_dir);
  auto write = [&](std::string_view name, const std::string& content) {
    fs::path p = opts.out_dir / (std::string(name) + ".txt");
    util::write_file_atomic(p, content);
    result.written.push_back(PromptInfo{std::string(name), p, sha256_hex(content), content.size()});
  };
  write(kAuthorsDefaultPrompt, it->second);
  if (auto d = by_digest.find(opts.direct_sha256); d != by_digest.end())
    write(kAuthorsDirectPrompt, d->second);
  return result;
}

}  // namespace um::text
