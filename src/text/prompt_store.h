#pragma once
// System prompts as versioned data files, found by name.
//
//   std::string sys = um::text::load_prompt("reasoning-v1", opts.prompts_dir);
//
// A prompt named N is the file N.txt, used byte for byte. Directories are searched in this order
// (first hit wins):
//   1. the --prompts-dir option (when given),
//   2. $UM_PROMPTS_DIR (when set),
//   3. the user data directory, user_prompts_dir() ($XDG_DATA_HOME/usermirror/prompts, else
//      ~/.local/share/usermirror/prompts), where `usermirror prompts import` writes,
//   4. <directory of the usermirror executable>/../share/usermirror/prompts (installed layout),
//   5. <directory of the executable>/../prompts,
//   6. the source tree's prompts/ (compiled in as UM_SOURCE_PROMPTS_DIR).
// Ours: reasoning-v1 (EKB-stage reasoning) and direct-v1. The authors' prompts cannot be shipped:
// `usermirror prompts import --from-repo DIR` reads both from a local clone of the authors' repository
// (authors-default.txt and authors-direct.txt), `--from FILE` the default one from the released
// training data, each after checking the SHA-256 digests of docs/method.md §5.2.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace um::text {

inline constexpr std::string_view kDefaultReasoningPrompt = "reasoning-v1";
inline constexpr std::string_view kDefaultDirectPrompt = "direct-v1";
inline constexpr std::string_view kAuthorsDefaultPrompt = "authors-default";
inline constexpr std::string_view kAuthorsDirectPrompt = "authors-direct";
// docs/method.md §5.2.
inline constexpr std::string_view kAuthorsDefaultSha256 =
    "3cdd5660a3107ddaef034ef09d6797724d365295ae4ee8ed93ba465dcb616cb8";
inline constexpr std::string_view kAuthorsDirectSha256 =
    "fbbaad2809465fc1b665cef070dfaea3227f718f2b70c00c2c79ffd24df502a6";

// Lowercase hex SHA-256 of the bytes.
std::string sha256_hex(std::string_view bytes);

// The user data directory of the search order (position 3); empty when neither $XDG_DATA_HOME nor
// $HOME is set. It need not exist.
std::filesystem::path user_prompts_dir();

// The search order above, existing directories only.
std::vector<std::filesystem::path> prompt_search_dirs(
    const std::optional<std::filesystem::path>& prompts_dir = {});

// Contents of prompt `name` (letters, digits, '.', '_', '-'). Throws util::Error listing the
// directories searched when it is not found.
std::string load_prompt(std::string_view name, const std::optional<std::filesystem::path>& prompts_dir = {});

struct PromptInfo {
  std::string name;
  std::filesystem::path path;
  std::string sha256;
  size_t bytes = 0;
};
// Every prompt visible through the search order (first occurrence of each name), sorted by name.
std::vector<PromptInfo> list_prompts(const std::optional<std::filesystem::path>& prompts_dir = {});

struct PromptImportOptions {
  std::filesystem::path from;       // released train JSONL (gzip allowed), or
  std::filesystem::path from_repo;  // a local clone of the authors' repository
  std::filesystem::path out_dir;    // empty = user_prompts_dir()
  std::string default_sha256 = std::string(kAuthorsDefaultSha256);
  std::string direct_sha256 = std::string(kAuthorsDirectSha256);
};

struct PromptImportResult {
  std::vector<PromptInfo> written;  // authors-default always; authors-direct when found
  size_t rows = 0;                  // data rows scanned
  size_t distinct_system_prompts = 0;
};

// With `from`: scans messages_chosen[0] / messages_rejected[0] (role "system") of every row, writes
// the prompt whose digest is default_sha256 to <out_dir>/authors-default.txt (and direct_sha256's to
// authors-direct.txt when present; the released train set holds only the default one). Throws
// util::Error when no system prompt has default_sha256.
// With `from_repo`: reads <from_repo>/usermirrorer/generator/template.py, evaluates its Python string
// literals (each alone and each run of implicitly concatenated ones), and writes the two whose digests
// are default_sha256 and direct_sha256. Throws util::Error naming a digest that no literal has;
// nothing is written then.
PromptImportResult import_authors_prompts(const PromptImportOptions& opts);

// The values of the Python string literals in `source` (escapes decoded, raw strings kept, comments
// skipped), each alone, then each run of adjacent literals concatenated (implicit concatenation).
std::vector<std::string> python_string_literals(std::string_view source);

}  // namespace um::text
