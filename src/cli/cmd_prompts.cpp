// `usermirror prompts import --from-repo <clone of the authors' repository> [--out DIR]`
// `usermirror prompts import --from <released train jsonl> [--out DIR] [--expect-sha256 HEX]`
// `usermirror prompts list [--prompts-dir DIR]`
// Imports go to the user data directory (text::user_prompts_dir()), which every command searches.
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
  const auto user = text::user_prompts_dir();
  fmt::print("# user data directory (`prompts import` writes here): {}{}\n",
             user.empty() ? "(none: $XDG_DATA_HOME and $HOME unset)" : user.string(),
             !user.empty() && !std::filesystem::is_directory(user) ? " (not created yet)" : "");
  for (const auto& p : text::list_prompts(prompts_dir)) {
    fmt::print("{}\t{}\t{}\t{}\n", p.name, p.bytes, p.sha256, p.path.string());
  }
  return 0;
}

Command prompts_command() {
  return {"prompts", "System prompts: list them, or import the authors' prompts (checked by SHA-256)",
          [](CLI::App& app) {
            app.require_subcommand(1);
            auto imp = std::make_shared<text::PromptImportOptions>();
            auto prompts_dir = std::make_shared<std::string>();
            CLI::App* import_cmd = app.add_subcommand(
                "import",
                "Import the authors' system prompts (authors-default, authors-direct) from a local clone of "
                "their repository, or the default one from their released train JSONL, checking SHA-256");
            auto* from =
                import_cmd->add_option("--from", imp->from, "Released train set (JSONL, gzip allowed)");
            auto* repo = import_cmd->add_option("--from-repo", imp->from_repo,
                                                "Local clone of the authors' repository (reads "
                                                "usermirrorer/generator/template.py; both prompts)");
            from->excludes(repo);
            repo->excludes(from);
            import_cmd->add_option("--out", imp->out_dir,
                                   "Directory to write the prompts into (default: the user data directory, " +
                                       text::user_prompts_dir().string() + ")");
            import_cmd
                ->add_option("--expect-sha256", imp->default_sha256,
                             "Digest the default prompt must have (default: the one in docs/method.md §5.2)")
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
