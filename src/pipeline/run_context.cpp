#include "pipeline/run_context.h"

#include <optional>

#include "text/prompt_store.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace um::pipeline {
namespace fs = std::filesystem;

RunContext::RunContext(const RunConfig& c, const RunHooks& h, util::Summary& s)
    : config(c), hooks(h), summary(s), reference(c.compat == data::Compat::reference) {
  fs::create_directories(c.work);
  std::optional<fs::path> prompts_dir;
  if (!c.prompts_dir.empty()) prompts_dir = c.prompts_dir;
  system_prompt = text::load_prompt(c.system_prompt, prompts_dir);
  direct_prompt = text::load_prompt(c.direct_prompt, prompts_dir);
  prompt_file = c.work / "prompts" / (c.system_prompt + ".txt");
  util::write_file_atomic(prompt_file, system_prompt);

  teacher = c.models.teacher;
  student = c.models.student;
  predictor = c.models.predictor;
  if (teacher.empty() || student.empty() || predictor.empty()) {
    if (!hooks.tiny_model)
      throw util::Error("no backend configured for teacher/student/predictor",
                        {.file = c.config_file.string(), .field = "models"});
    std::string tiny = hooks.tiny_model(c);
    if (teacher.empty()) teacher = tiny;
    if (student.empty()) student = tiny;
    if (predictor.empty()) predictor = tiny;
  }

  // The eval length filter's tokenizer: the weak model's (the student), as the reference's run script.
  length_tokenizer = c.length_tokenizer;
  // compat = "reference" also needs it for evaluate's context limit (6,124 tokens of the simulator, run
  // here with the student's tokenizer as the length filter).
  if ((c.eval_max_tokens > 0 || reference) && length_tokenizer.empty()) {
    const std::string local = "local:";
    if (student.rfind(local, 0) != 0)
      throw util::Error(
          std::string(c.eval_max_tokens > 0 ? "eval_max_tokens"
                                            : "compat = \"reference\" (evaluate's context limit)") +
              " needs length_tokenizer when the student is not a local model",
          {.file = c.config_file.string(), .field = "run.length_tokenizer"});
    std::string dir = student.substr(local.size());
    length_tokenizer = dir.substr(0, dir.find('?'));
  }

  simulator = student;
  if (c.train.enabled) {
    if (!hooks.train || !hooks.trained_model_dir)
      throw util::Error("training is not available in this build", {.field = "train.enabled"});
    trained_model = hooks.trained_model_dir(c);
    simulator = "local:" + trained_model.string();
  }
  if (c.arena.enabled && !hooks.arena)
    throw util::Error("the arena is not available in this build", {.field = "arena.enabled"});
}

backend::Backend& RunContext::backend(const std::string& spec) {
  auto& slot = backends_[spec];
  if (!slot) slot = backend::make_backend(spec);
  return *slot;
}

}  // namespace um::pipeline
