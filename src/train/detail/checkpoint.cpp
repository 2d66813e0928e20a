// Checkpoint layout (out_dir/checkpoint/): trainable.pt (the trainable tensors in named_parameters
// order, torch::save), optimizer.pt (FlatAdamW state: step, flat moments; torch::save), state.json (magic,
// version, step, trainable names, fingerprint). A new checkpoint is written to checkpoint.tmp/ and renamed
// over the old one, so a kill leaves either the previous or the new one.
#include <fstream>

#include "train/detail/artifacts.h"
#include "train/detail/tensor_file.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/line_reader.h"

namespace um::train::detail {

namespace fs = std::filesystem;

namespace {
constexpr const char* kMagic = "usermirror-train-checkpoint";
// Version 1 held torch::optim::AdamW state (per-parameter, keyed by tensor address); 2 holds
// FlatAdamW's flat moments.
constexpr int kVersion = 2;

std::vector<std::pair<std::string, torch::Tensor>> trainable_named(const CausalLM& m) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (auto& [name, t] : m.named_parameters()) {
    if (t.requires_grad()) out.emplace_back(name, t);
  }
  return out;
}
}  // namespace

void save_checkpoint(const fs::path& out_dir, const CausalLM& m, const FlatAdamW& opt,
                     const CheckpointState& st) {
  const fs::path tmp = out_dir / "checkpoint.tmp", dst = out_dir / "checkpoint",
                 old = out_dir / "checkpoint.old";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  auto named = trainable_named(m);
  std::vector<torch::Tensor> tensors;
  nlohmann::ordered_json names = nlohmann::ordered_json::array();
  for (auto& [name, t] : named) {
    tensors.push_back(t.detach());
    names.push_back(name);
  }
  save_tensors(tensors, tmp / "trainable.pt");
  opt.save(tmp / "optimizer.pt");
  nlohmann::ordered_json j;
  j["magic"] = kMagic;
  j["version"] = kVersion;
  j["step"] = st.step;
  j["trainable"] = names;
  j["fingerprint"] = st.fingerprint;
  util::write_file_atomic(tmp / "state.json", j.dump(2) + "\n");
  fs::remove_all(old);
  if (fs::exists(dst)) fs::rename(dst, old);
  fs::rename(tmp, dst);
  fs::remove_all(old);
}

std::optional<CheckpointState> load_checkpoint(const fs::path& out_dir, CausalLM& m, FlatAdamW& opt,
                                               const nlohmann::ordered_json& expected) {
  const fs::path dir = out_dir / "checkpoint";
  const fs::path state_path = dir / "state.json";
  if (!fs::exists(state_path)) return std::nullopt;
  nlohmann::ordered_json j;
  try {
    j = nlohmann::ordered_json::parse(util::read_file(state_path));
  } catch (const nlohmann::json::exception& e) {
    throw util::Error(std::string("damaged checkpoint state: ") + e.what(), {.file = state_path.string()});
  }
  if (j.value("magic", std::string()) != kMagic) {
    throw util::Error("not a usermirror training checkpoint (magic)", {.file = state_path.string()});
  }
  if (j.value("version", 0) != kVersion) {
    throw util::Error("training checkpoint format " + std::to_string(j.value("version", 0)) +
                          ", this build reads " + std::to_string(kVersion) +
                          " (restart without --resume or use another --out)",
                      {.file = state_path.string(), .field = "version"});
  }
  const auto& fp = j["fingerprint"];
  for (const auto& [key, val] : expected.items()) {
    if (!fp.contains(key) || fp[key] != val) {
      throw util::Error("the checkpoint belongs to another run: '" + key + "' was " +
                            (fp.contains(key) ? fp[key].dump() : std::string("absent")) + ", now " +
                            val.dump() + " (use another --out or drop --resume)",
                        {.file = state_path.string(), .field = key});
    }
  }
  auto named = trainable_named(m);
  std::vector<torch::Tensor> tensors;
  torch::load(tensors, (dir / "trainable.pt").string());
  if (tensors.size() != named.size() || j["trainable"].size() != named.size()) {
    throw util::Error("checkpoint holds " + std::to_string(tensors.size()) +
                          " trainable tensors, the model " + std::to_string(named.size()),
                      {.file = dir.string()});
  }
  {
    torch::NoGradGuard ng;
    for (size_t i = 0; i < named.size(); ++i) {
      if (j["trainable"][i] != named[i].first || !tensors[i].sizes().equals(named[i].second.sizes())) {
        throw util::Error("checkpoint tensor does not match the model",
                          {.file = dir.string(), .field = named[i].first});
      }
      named[i].second.copy_(tensors[i]);
    }
  }
  opt.load(dir / "optimizer.pt");
  CheckpointState st;
  st.step = j.value("step", int64_t{0});
  st.fingerprint = fp;
  return st;
}

}  // namespace um::train::detail
