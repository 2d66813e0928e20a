// `usermirror run` configuration keys added for the reference's run settings (issue 15).
#include "pipeline/run_config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "common/shared_data.h"
#include "util/error.h"

namespace um::pipeline {
namespace {

namespace fs = std::filesystem;

fs::path write_config(const std::string& name, const std::string& run_table) {
  fs::path dir = um::testing::temp_dir("run-config-" + name);
  std::ofstream(dir / "run.toml") << "[run]\nwork = \"work\"\n"
                                  << run_table << "\n[[datasets]]\nname = \"ml-1m\"\nraw = \"raw/ml-1m\"\n";
  return dir / "run.toml";
}

// The reference's run script length-filters the eval set at 6,144 tokens with the weak model's
// tokenizer (docs/method.md §3.6); run configs say so with eval_max_tokens.
TEST(RunConfig, EvalLengthFilter) {
  RunConfig off = load_run_config(write_config("off", ""));
  EXPECT_EQ(off.eval_max_tokens, 0);
  EXPECT_TRUE(off.length_tokenizer.empty());
  fs::path file = write_config("on", "eval_max_tokens = 6144\nlength_tokenizer = \"models/weak\"");
  RunConfig on = load_run_config(file);
  EXPECT_EQ(on.eval_max_tokens, 6144);
  EXPECT_EQ(on.length_tokenizer, fs::absolute(file).parent_path() / "models/weak");
  EXPECT_THROW(load_run_config(write_config("neg", "eval_max_tokens = -1")), util::Error);
}

// The shipped example of a realistic run filters the eval set as the reference's run script does.
TEST(RunConfig, ExampleRealFiltersTheEvalSet) {
  RunConfig c = load_run_config(um::testing::source_dir() / "configs/example-real.toml");
  EXPECT_EQ(c.eval_max_tokens, 6144);
  EXPECT_EQ(c.system_prompt, "reasoning-v1");
}

// prompts = "authors" selects the authors' prompts as `usermirror prompts import` names them.
TEST(RunConfig, AuthorsPrompts) {
  RunConfig ours = load_run_config(write_config("ours", ""));
  EXPECT_EQ(ours.system_prompt, "reasoning-v1");
  EXPECT_EQ(ours.direct_prompt, "direct-v1");
  RunConfig authors = load_run_config(write_config("authors", "prompts = \"authors\""));
  EXPECT_EQ(authors.system_prompt, "authors-default");
  EXPECT_EQ(authors.direct_prompt, "authors-direct");
  EXPECT_THROW(load_run_config(write_config("both", "prompts = \"authors\"\nsystem_prompt = \"x\"")),
               util::Error);
  EXPECT_THROW(load_run_config(write_config("bad", "prompts = \"theirs\"")), util::Error);
}

// [arena] history: 0 (default) keeps the reference's random window; N fixes it; out of range is an
// error naming the key.
TEST(RunConfig, ArenaHistoryWindow) {
  EXPECT_EQ(load_run_config(write_config("hist-default", "")).arena.history, 0);
  fs::path file = write_config("hist", "");
  std::ofstream(file, std::ios::app) << "\n[arena]\nhistory = 20\n";
  EXPECT_EQ(load_run_config(file).arena.history, 20);
  fs::path bad = write_config("hist-bad", "");
  std::ofstream(bad, std::ios::app) << "\n[arena]\nhistory = -1\n";
  try {
    load_run_config(bad);
    ADD_FAILURE() << "history = -1 was accepted";
  } catch (const util::Error& e) {
    EXPECT_NE(std::string(e.what()).find("history"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace um::pipeline
