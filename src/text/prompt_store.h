#pragma once
// System prompts as versioned data files, found by name.
//
//   std::string sys = um::text::load_prompt("reasoning-v1", opts.prompts_dir);
//
// A prompt named N is the file N.txt, used byte for byte. Directories are searched in this order
// (first hit wins):
//   1. the --prompts-dir option (when given),
//   2. $UM_PROMPTS_DIR (when set),
//   3. <directory of the usermirror executable>/../share/usermirror/prompts (installed layout),
//   4. <directory of the executable>/../prompts,
//   5. the source tree's prompts/ (compiled in as UM_SOURCE_PROMPTS_DIR).
// Ours: reasoning-v1 (EKB-stage reasoning) and direct-v1. The authors' prompts cannot be shipped;
// `usermirror prompts import` extracts them from the released training data into authors-default.txt
// (and authors-direct.txt when present), after checking the SHA-256 digests in docs/method.md.
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
  std::filesystem::path from;  // released train JSONL (gzip allowed)
  std::filesystem::path out_dir = "prompts";
  std::string default_sha256 = std::string(kAuthorsDefaultSha256);
  std::string direct_sha256 = std::string(kAuthorsDirectSha256);
};

struct PromptImportResult {
  std::vector<PromptInfo> written;  // authors-default always; authors-direct when found
  size_t rows = 0;                  // data rows scanned
  size_t distinct_system_prompts = 0;
};

// Scans messages_chosen[0] / messages_rejected[0] (role "system") of every row, writes the prompt
// whose digest is default_sha256 to <out_dir>/authors-default.txt (and direct_sha256's to
// authors-direct.txt when present). Throws util::Error when no system prompt has default_sha256.
PromptImportResult import_authors_prompts(const PromptImportOptions& opts);

}  // namespace um::text
