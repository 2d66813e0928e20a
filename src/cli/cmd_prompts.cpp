// `usermirror prompts import --from <released train jsonl> [--out DIR] [--expect-sha256 HEX]`
// `usermirror prompts list [--prompts-dir DIR]`
#ifdef UM_HAVE_TEXT
#include <fmt/format.h>

#include <iostream>

#include "cli/command_registry.h"
#include "text/prompt_store.h"

namespace um::cli {

int run_prompts_import(const text::PromptImportOptions& opts) {
  auto r = text::import_authors_prompts(opts);
  for (const auto& p : r.written) {
    fmt::print("{}\t{} bytes\tsha256 {}\t{}\n", p.name, p.bytes, p.sha256, p.path.string());
  }
  fmt::print("scanned {} rows, {} distinct system prompt(s)\n", r.rows, r.distinct_system_prompts);
  return 0;
}

int run_prompts_list(const std::optional<std::filesystem::path>& prompts_dir) {
  auto dirs = text::prompt_search_dirs(prompts_dir);
  fmt::print("# search order:{}\n", dirs.empty() ? " (no prompt directory exists)" : "");
  for (const auto& d : dirs) fmt::print("#   {}\n", d.string());
  for (const auto& p : text::list_prompts(prompts_dir)) {
    fmt::print("{}\t{}\t{}\t{}\n", p.name, p.bytes, p.sha256, p.path.string());
  }
  return 0;
}

Command prompts_command() {
  return {
      "prompts", "System prompts: list them, or import the authors' prompt from their released data",
      [](CLI::App& app) {
        app.require_subcommand(1);
        auto imp = std::make_shared<text::PromptImportOptions>();
        auto prompts_dir = std::make_shared<std::string>();
        CLI::App* import_cmd = app.add_subcommand(
            "import",
            "Extract the authors' system prompt(s) from the released train JSONL, checking SHA-256");
        import_cmd->add_option("--from", imp->from, "Released train set (JSONL, gzip allowed)")->required();
        import_cmd->add_option("--out", imp->out_dir, "Directory to write authors-default.txt into")
            ->capture_default_str();
        import_cmd
            ->add_option("--expect-sha256", imp->default_sha256,
                         "Digest the default prompt must have (default: the one in docs/method.md)")
            ->capture_default_str();
        CLI::App* list_cmd = app.add_subcommand("list", "List the prompts found, in search order");
        list_cmd->add_option("--prompts-dir", *prompts_dir, "Directory searched first");
        return [imp, prompts_dir, import_cmd] {
          if (import_cmd->parsed()) return run_prompts_import(*imp);
          std::optional<std::filesystem::path> dir;
          if (!prompts_dir->empty()) dir = *prompts_dir;
          return run_prompts_list(dir);
        };
      }};
}

}  // namespace um::cli
#endif  // UM_HAVE_TEXT
