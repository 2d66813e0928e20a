#include "train/detail/train_metrics.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "util/atomic_file.h"
#include "util/error.h"
#include "util/json_writer.h"
#include "util/line_reader.h"

namespace um::train::detail {

namespace fs = std::filesystem;

void write_metrics(const fs::path& path, const std::vector<StepMetrics>& steps, bool dpo) {
  util::AtomicWriter out(path);
  util::JsonWriter w;
  for (const auto& s : steps) {
    w.clear();
    w.begin_object();
    w.key("step");
    w.value(s.step);
    w.key("loss");
    w.value(s.loss);
    w.key("lr");
    w.value(s.lr);
    w.key("grad_norm");
    w.value(s.grad_norm);
    w.key("tokens");
    w.value(s.tokens);
    w.key("target_tokens");
    w.value(s.target_tokens);
    w.key("seconds");
    w.value(s.seconds);
    w.key("tokens_per_s");
    w.value(s.seconds > 0 ? static_cast<double>(s.tokens) / s.seconds : 0.0);
    if (dpo) {
      w.key("rewards_chosen");
      w.value(s.chosen_reward);
      w.key("rewards_rejected");
      w.value(s.rejected_reward);
      w.key("rewards_margin");
      w.value(s.margin);
      w.key("rewards_accuracy");
      w.value(s.accuracy);
    }
    w.end_object();
    out.write(w.str());
    out.write("\n");
  }
  out.commit();
}

std::vector<StepMetrics> read_metrics(const fs::path& path, int64_t up_to_step) {
  std::vector<StepMetrics> out;
  if (!fs::exists(path)) return out;
  util::LineReader in(path);
  std::string_view line;
  while (in.next(line)) {
    if (line.empty()) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw util::Error(std::string("invalid JSON: ") + e.what(),
                        {.file = path.string(), .line = in.line_number()});
    }
    StepMetrics s;
    s.step = j.value("step", int64_t{0});
    if (s.step > up_to_step) break;
    s.loss = j.value("loss", 0.0);
    s.lr = j.value("lr", 0.0);
    s.grad_norm = j.value("grad_norm", 0.0);
    s.tokens = j.value("tokens", int64_t{0});
    s.target_tokens = j.value("target_tokens", int64_t{0});
    s.seconds = j.value("seconds", 0.0);
    s.chosen_reward = j.value("rewards_chosen", 0.0);
    s.rejected_reward = j.value("rewards_rejected", 0.0);
    s.margin = j.value("rewards_margin", 0.0);
    s.accuracy = j.value("rewards_accuracy", 0.0);
    out.push_back(s);
  }
  return out;
}

namespace {
// Reads metrics.jsonl and draws the loss (and DPO margin) per step.
constexpr const char* kPlotScript = R"PY(
import json, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
src, dst, dpo = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
rows = [json.loads(l) for l in open(src) if l.strip()]
steps = [r["step"] for r in rows]
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(steps, [r["loss"] for r in rows], label="loss", lw=1)
ax.set_xlabel("optimizer step")
ax.set_ylabel("loss")
if dpo:
    ax2 = ax.twinx()
    ax2.plot(steps, [r["rewards_margin"] for r in rows], color="tab:orange", label="reward margin", lw=1)
    ax2.set_ylabel("chosen - rejected reward")
ax.set_title("training loss")
fig.tight_layout()
fig.savefig(dst, dpi=100)
)PY";
}  // namespace

std::string plot_loss(const fs::path& metrics, const fs::path& png, bool dpo) {
  const char* py = "/usr/bin/python3";
  if (!fs::exists(py)) return "loss.png not written: /usr/bin/python3 is missing";
  const fs::path script = png.parent_path() / ".plot_loss.py";
  util::write_file_atomic(script, kPlotScript);
  const std::string cmd = std::string(py) + " '" + script.string() + "' '" + metrics.string() + "' '" +
                          png.string() + "' " + (dpo ? "1" : "0") + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return "loss.png not written: cannot start /usr/bin/python3";
  std::string output;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p)) output.append(buf, n);
  const int rc = pclose(p);
  fs::remove(script);
  if (rc != 0) {
    return "loss.png not written (needs python3-matplotlib): " +
           output.substr(output.size() > 300 ? output.size() - 300 : 0);
  }
  return "";
}

}  // namespace um::train::detail
