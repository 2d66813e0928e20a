// `usermirror run CONFIG.toml`: the whole pipeline, resumable (pipeline/runner.h). This file only
// wires the hooks that need components the pipeline may not depend on (model, train).
#ifdef UM_HAVE_PIPELINE
#include <cstdio>

#include "cli/command_registry.h"
#include "pipeline/run_config.h"
#include "pipeline/runner.h"
#include "util/error.h"
#include "util/progress.h"
#ifdef UM_HAVE_MODEL
#include "model/init.h"
#endif
#ifdef UM_HAVE_TRAIN
#include "cli/train_hook.h"
#endif
#ifdef UM_HAVE_ARENA
#include "arena/arena.h"
#endif

namespace um::cli {
namespace fs = std::filesystem;

namespace {

#ifdef UM_HAVE_MODEL
std::string make_tiny_model(const pipeline::RunConfig& c) {
  fs::path dir = c.work / "models" / "tiny";
  std::fprintf(stderr,
               "\n*** WARNING: no teacher/student/predictor configured: using a TINY RANDOM model (%s).\n"
               "*** Its rationales and choices are meaningless; the run only exercises the pipeline.\n"
               "*** Point [models] teacher/student/predictor at real models, e.g.\n"
               "***   teacher = \"openai:http://gpu:8000/v1?model=Qwen2.5-14B-Instruct\"\n"
               "***   student = \"local:/models/Llama-3.2-3B-Instruct\"\n\n",
               dir.string().c_str());
  if (fs::exists(dir / "config.json")) return "local:" + dir.string();
  if (c.models.tiny_tokenizer.empty())
    throw util::Error("a tiny model needs a tokenizer folder",
                      {.file = c.config_file.string(), .field = "models.tiny_tokenizer"});
  model::InitOptions o;
  o.arch = "qwen3";
  o.layers = 2;
  o.hidden = 64;
  o.heads = 4;
  o.kv_heads = 2;
  o.tie_embeddings = true;
  o.tokenizer_dir = c.models.tiny_tokenizer;
  // Written to a temporary folder and renamed, so a killed run never leaves a partial model.
  fs::path tmp = dir;
  tmp += ".tmp";
  fs::remove_all(tmp);
  o.out_dir = tmp;
  o.seed = c.seed;
  o.dtype = "f32";
  model::init_random_model(o);
  fs::rename(tmp, dir);
  return "local:" + dir.string();
}
#endif

#ifdef UM_HAVE_ARENA
fs::path run_arena_stage(const pipeline::RunConfig& c, const std::string& protocol,
                         const std::string& simulator, util::Summary& summary) {
  arena::ArenaOptions o;
  o.work = c.work;
  o.dataset = c.arena.dataset;
  o.recommenders = c.arena.recommenders;
  o.simulator = simulator;
  o.mode = c.arena.mode;
  o.protocol = protocol;
  o.users = static_cast<size_t>(c.arena.users);
  o.page_size = static_cast<size_t>(c.arena.page_size);
  o.history = static_cast<size_t>(c.arena.history);
  o.rounds = static_cast<int>(c.arena.rounds);
  o.split = c.arena.split;
  o.name = protocol;
  o.seed = c.seed;
  o.threads = c.threads;
  o.system_prompt = c.arena.mode == "direct" ? c.direct_prompt : c.system_prompt;
  o.prompts_dir = c.prompts_dir;
  util::Summary own("arena " + protocol);
  arena::ArenaResult r = arena::run_arena(o, own);
  own.print("pages");
  std::string ranking;
  for (const auto& n : r.ranking) ranking += (ranking.empty() ? "" : " > ") + n;
  summary.set("arena " + protocol + " ranking", ranking);
  return r.report_json;
}
#endif

}  // namespace

int run_run(const fs::path& config_file, const fs::path& tiny_tokenizer) {
  pipeline::RunConfig c = pipeline::load_run_config(config_file);
  if (!tiny_tokenizer.empty()) c.models.tiny_tokenizer = tiny_tokenizer;
  util::Summary summary("run " + config_file.filename().string());
  pipeline::RunHooks hooks;
#ifdef UM_HAVE_MODEL
  hooks.tiny_model = make_tiny_model;
#endif
#ifdef UM_HAVE_TRAIN
  hooks.train = train_hook;
  hooks.trained_model_dir = trained_model_dir;
#endif
#ifdef UM_HAVE_ARENA
  hooks.arena = run_arena_stage;
#endif
  pipeline::RunReport r = pipeline::run_pipeline(c, hooks, summary);
  summary.count("stages run", static_cast<uint64_t>(r.stages_run));
  summary.count("stages skipped", static_cast<uint64_t>(r.stages_skipped));
  summary.set("work", c.work.string());
  summary.print();
  return 0;
}

Command run_command() {
  return {"run", "Run the whole pipeline from a TOML configuration (resumable; skips complete stages)",
          [](CLI::App& app) {
            auto file = std::make_shared<fs::path>();
            app.add_option("config", *file, "Pipeline configuration (TOML), e.g. configs/demo.toml")
                ->required()
                ->check(CLI::ExistingFile);
            auto tok = std::make_shared<fs::path>();
            app.add_option("--tiny-tokenizer", *tok,
                           "Override [models] tiny_tokenizer (tokenizer.json folder)");
            return [file, tok] { return run_run(*file, *tok); };
          }};
}

}  // namespace um::cli
#endif  // UM_HAVE_PIPELINE
