// The trained model as a Hugging Face directory: merged weights in the standard tensor names, the
// base model's config (dtype updated) and its tokenizer files, so model::Model::load, transformers
// and vLLM read it unchanged.
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>

#include "model/safetensors.h"
#include "train/detail/artifacts.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace um::train::detail {

namespace fs = std::filesystem;

namespace {
// A base-model file copied through util::AtomicWriter: a failing write (a full disk) is a util::Error
// naming the destination and leaves no partial file (docs/reliability.md). fs::copy_file threw
// std::filesystem_error and left a truncated tokenizer.json that looked complete; it also kept a
// read-only source's mode, so a later export over it failed for a non-root user.
void copy_file_atomic(const fs::path& from, const fs::path& to) {
  std::ifstream in(from, std::ios::binary);
  if (!in) throw util::Error("cannot open for reading", {.file = from.string()});
  util::AtomicWriter out(to);
  std::string buf(size_t{1} << 20, '\0');
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) out.write(std::string_view(buf.data(), static_cast<size_t>(in.gcount())));
  }
  if (in.bad()) throw util::Error("read failed", {.file = from.string()});
  out.commit();
}
}  // namespace

void export_hf(const CausalLM& m, const fs::path& source_dir, const fs::path& dir, const std::string& dtype) {
  model::ModelConfig c = m.config();
  std::string dt = dtype;
  if (dt.empty()) dt = c.torch_dtype == "float32" ? "f32" : "bf16";
  if (dt != "f32" && dt != "bf16") {
    throw util::NotSupported("export dtype '" + dt + "' is not supported (f32, bf16)",
                             {.field = "export_dtype"});
  }
  const bool bf16 = dt == "bf16";
  c.torch_dtype = bf16 ? "bfloat16" : "float32";
  fs::create_directories(dir);
  auto weights = m.merged_weights();
  std::vector<model::TensorSpec> specs;
  for (const auto& [name, t] : weights) {
    specs.push_back({name, bf16 ? model::StDType::BF16 : model::StDType::F32,
                     std::vector<int64_t>(t.sizes().begin(), t.sizes().end())});
  }
  model::write_safetensors(dir / "model.safetensors", specs, [&](size_t i, std::vector<uint8_t>& bytes) {
    torch::Tensor t = weights[i].second.to(bf16 ? torch::kBFloat16 : torch::kFloat).contiguous();
    bytes.resize(static_cast<size_t>(t.nbytes()));
    std::memcpy(bytes.data(), t.data_ptr(), bytes.size());
  });
  // A sharded base model leaves an index that would point at shards we do not write.
  fs::remove(dir / "model.safetensors.index.json");
  util::write_file_atomic(dir / "config.json", model::config_to_json(c));
  if (fs::exists(source_dir / "generation_config.json")) {
    copy_file_atomic(source_dir / "generation_config.json", dir / "generation_config.json");
  } else {
    util::write_file_atomic(dir / "generation_config.json", model::generation_config_to_json(c));
  }
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json",
                        "merges.txt", "tokenizer.model", "chat_template.jinja", "added_tokens.json"}) {
    if (fs::exists(source_dir / f)) copy_file_atomic(source_dir / f, dir / f);
  }
  if (fs::exists(source_dir / "original" / "tokenizer.model")) {  // Llama-3's tiktoken file (torchtune)
    fs::create_directories(dir / "original");
    copy_file_atomic(source_dir / "original" / "tokenizer.model", dir / "original" / "tokenizer.model");
  }
}

}  // namespace um::train::detail
