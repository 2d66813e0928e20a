#include "text/prompt_store.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "text/detail/py_escape.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/line_reader.h"
#include "util/utf8.h"

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

fs::path user_prompts_dir() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg && fs::path(xdg).is_absolute())
    return fs::path(xdg) / "usermirror" / "prompts";
  if (const char* home = std::getenv("HOME"); home && *home)
    return fs::path(home) / ".local" / "share" / "usermirror" / "prompts";
  return {};
}

std::vector<fs::path> prompt_search_dirs(const std::optional<fs::path>& prompts_dir) {
  std::vector<fs::path> candidates;
  if (prompts_dir) candidates.push_back(*prompts_dir);
  if (const char* env = std::getenv("UM_PROMPTS_DIR"); env && *env) candidates.emplace_back(env);
  if (auto user = user_prompts_dir(); !user.empty()) candidates.push_back(user);
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
        "\n(the authors' prompts are not shipped: run `usermirror prompts import --from-repo <clone of the "
        "authors' repository>`, or `--from <released train jsonl>` for authors-default only)";
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

namespace {

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes the escapes of a non-raw Python str literal body (Python's string-literal rules).
std::string decode_escapes(std::string_view body) {
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\' || i + 1 >= body.size()) {
      out += c;
      continue;
    }
    char e = body[++i];
    auto hex_escape = [&](size_t digits) {
      uint32_t cp = 0;
      for (size_t k = 1; k <= digits; ++k) {
        if (i + k >= body.size()) return false;
        int v = hex_value(body[i + k]);
        if (v < 0) return false;
        cp = cp * 16 + static_cast<uint32_t>(v);
      }
      util::append_utf8(out, cp);
      i += digits;
      return true;
    };
    if (detail::append_simple_escape(e, out)) continue;
    switch (e) {
      case 'x':
        if (!hex_escape(2)) out += "\\x";
        break;
      case 'u':
        if (!hex_escape(4)) out += "\\u";
        break;
      case 'U':
        if (!hex_escape(8)) out += "\\U";
        break;
      default:
        if (e >= '0' && e <= '7') {
          uint32_t cp = static_cast<uint32_t>(e - '0');
          for (int k = 0; k < 2 && i + 1 < body.size() && body[i + 1] >= '0' && body[i + 1] <= '7'; ++k)
            cp = cp * 8 + static_cast<uint32_t>(body[++i] - '0');
          util::append_utf8(out, cp);
        } else {  // unknown escapes keep the backslash
          out += '\\';
          out += e;
        }
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> python_string_literals(std::string_view s) {
  std::vector<std::string> singles, groups;
  std::string group;
  size_t group_size = 0;
  bool adjacent = false;  // only whitespace, comments and line continuations since the last literal
  auto close_group = [&] {
    if (group_size > 1) groups.push_back(group);
    group.clear();
    group_size = 0;
  };
  for (size_t i = 0; i < s.size();) {
    char c = s[i];
    if (c == '#') {
      while (i < s.size() && s[i] != '\n') ++i;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\\') {
      ++i;
      continue;
    }
    if (c != '\'' && c != '"') {
      // An identifier, possibly a string prefix (r, u, b, f, rb, ...) directly before a quote.
      size_t start = i;
      while (i < s.size() && ident_char(s[i])) ++i;
      if (i == start) ++i;
      std::string_view word = s.substr(start, i - start);
      bool prefix = i < s.size() && (s[i] == '\'' || s[i] == '"') && word.size() <= 2 &&
                    std::all_of(word.begin(), word.end(), [](char p) { return std::strchr("rRuUbBfF", p); });
      if (!prefix) {
        adjacent = false;
        close_group();
        continue;
      }
      bool raw = word.find_first_of("rR") != std::string_view::npos;
      c = s[i];
      size_t q = (s.substr(i, 3) == std::string(3, c)) ? 3 : 1;
      size_t body = i + q, j = body;
      while (j < s.size() && s.substr(j, q) != std::string(q, c)) j += s[j] == '\\' ? 2 : 1;
      if (j >= s.size()) break;  // unterminated: stop
      std::string v = raw ? std::string(s.substr(body, j - body)) : decode_escapes(s.substr(body, j - body));
      i = j + q;
      if (!adjacent) close_group();
      singles.push_back(v);
      group += v;
      ++group_size;
      adjacent = true;
      continue;
    }
    // A literal without prefix.
    size_t q = (s.substr(i, 3) == std::string(3, c)) ? 3 : 1;
    size_t body = i + q, j = body;
    while (j < s.size() && s.substr(j, q) != std::string(q, c)) j += s[j] == '\\' ? 2 : 1;
    if (j >= s.size()) break;
    std::string v = decode_escapes(s.substr(body, j - body));
    i = j + q;
    if (!adjacent) close_group();
    singles.push_back(v);
    group += v;
    ++group_size;
    adjacent = true;
  }
  close_group();
  singles.insert(singles.end(), groups.begin(), groups.end());
  return singles;
}

namespace {

PromptImportResult import_from_repo(const PromptImportOptions& opts) {
  const fs::path file = opts.from_repo / "usermirrorer" / "generator" / "template.py";
  if (!fs::is_regular_file(file))
    throw util::Error("not a clone of the authors' repository: usermirrorer/generator/template.py not found",
                      {.file = file.string()});
  const std::string source = util::read_file(file);
  std::map<std::string, std::string> by_digest;
  for (auto& v : python_string_literals(source)) by_digest.emplace(sha256_hex(v), std::move(v));
  PromptImportResult result;
  result.distinct_system_prompts = by_digest.size();
  std::vector<std::pair<std::string_view, const std::string*>> found;
  for (auto [name, digest] :
       {std::pair<std::string_view, const std::string&>{kAuthorsDefaultPrompt, opts.default_sha256},
        {kAuthorsDirectPrompt, opts.direct_sha256}}) {
    auto it = by_digest.find(digest);
    if (it == by_digest.end())
      throw util::Error("no string literal with the SHA-256 of " + std::string(name) + " (" + digest +
                            ") among " + std::to_string(by_digest.size()) +
                            " literals; is this the authors' repository at the released version?",
                        {.file = file.string()});
    found.emplace_back(name, &it->second);
  }
  const fs::path out_dir = opts.out_dir.empty() ? user_prompts_dir() : opts.out_dir;
  if (out_dir.empty()) throw util::Error("no output directory: set --out, $XDG_DATA_HOME or $HOME");
  fs::create_directories(out_dir);
  for (const auto& [name, content] : found) {
    fs::path p = out_dir / (std::string(name) + ".txt");
    util::write_file_atomic(p, *content);
    result.written.push_back(PromptInfo{std::string(name), p, sha256_hex(*content), content->size()});
  }
  return result;
}

}  // namespace

PromptImportResult import_authors_prompts(const PromptImportOptions& opts) {
  if (opts.from.empty() == opts.from_repo.empty())
    throw util::Error(
        "give exactly one source: a released train set (--from) or a repository clone (--from-repo)");
  if (!opts.from_repo.empty()) return import_from_repo(opts);
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
  const fs::path out_dir = opts.out_dir.empty() ? user_prompts_dir() : opts.out_dir;
  if (out_dir.empty()) throw util::Error("no output directory: set --out, $XDG_DATA_HOME or $HOME");
  fs::create_directories(out_dir);
  auto write = [&](std::string_view name, const std::string& content) {
    fs::path p = out_dir / (std::string(name) + ".txt");
    util::write_file_atomic(p, content);
    result.written.push_back(PromptInfo{std::string(name), p, sha256_hex(content), content.size()});
  };
  write(kAuthorsDefaultPrompt, it->second);
  if (auto d = by_digest.find(opts.direct_sha256); d != by_digest.end())
    write(kAuthorsDirectPrompt, d->second);
  return result;
}

}  // namespace um::text
