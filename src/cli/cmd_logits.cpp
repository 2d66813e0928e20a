// `usermirror logits`: forward pass on given token ids, float32 logits to a file, shape on stdout.
#ifdef UM_HAVE_MODEL
#include <fmt/core.h>

#include "cli/command_registry.h"
#include "model/model.h"
#include "util/error.h"

namespace um::cli {

namespace {
struct LogitsOptions {
  std::string model;
  std::string ids;
  bool all_positions = false;
  std::string dtype = "f32";
  std::string out;
};

std::vector<int32_t> parse_ids(const std::string& s) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    std::string tok = s.substr(i, j - i);
    try {
      size_t used = 0;
      long v = std::stol(tok, &used);
      if (used != tok.size() || v < 0 || v > INT32_MAX) throw std::invalid_argument(tok);
      ids.push_back(static_cast<int32_t>(v));
    } catch (const std::exception&) {
      throw util::Error("not a token id: '" + tok + "'", {.field = "--ids"});
    }
    i = j + 1;
  }
  return ids;
}

int run_logits(const LogitsOptions& o) {
  auto ids = parse_ids(o.ids);
  auto logits = model::logits_for_ids(o.model, ids, o.all_positions, model::parse_dtype(o.dtype));
  model::write_logits_f32(o.out, logits);
  fmt::print("{} {}\n", logits.rows, logits.cols);
  return 0;
}
}  // namespace

Command logits_command() {
  return {"logits", "Run the forward pass on token ids and write float32 logits",
          [](CLI::App& sub) -> std::function<int()> {
            auto o = std::make_shared<LogitsOptions>();
            sub.add_option("--model", o->model, "Hugging Face model directory")->required();
            sub.add_option("--ids", o->ids, "Comma-separated token ids, e.g. 1,2,3")->required();
            sub.add_flag("--all-positions", o->all_positions, "Write logits of every position (row-major)");
            sub.add_option("--dtype", o->dtype, "Compute dtype: f32 or bf16")->capture_default_str();
            sub.add_option("--out", o->out, "Output file (little-endian float32)")->required();
            return [o] { return run_logits(*o); };
          }};
}

}  // namespace um::cli

#endif  // UM_HAVE_MODEL
