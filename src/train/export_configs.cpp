// `usermirror export torchtune|trl`: the same SFT/DPO jobs as configs for GPU clusters. Values come
// from the TrainOptions (defaults = reference doc §9); the model shape from the model's config.json,
// so torchtune's component builders reproduce the exact architecture.
#include <algorithm>
#include <sstream>

#include "model/arch/arch.h"
#include "model/config.h"
#include "train/train.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace um::train {

namespace {

namespace fs = std::filesystem;

std::string num(double v) {
  std::ostringstream ss;
  ss.precision(10);
  ss << v;
  std::string s = ss.str();
  // YAML 1.1 (PyYAML) reads "1e-05" as a string: floats always carry a '.'.
  const auto e = s.find('e');
  if (s.find('.') == std::string::npos) s.insert(e == std::string::npos ? s.size() : e, ".0");
  return s;
}

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string py_list(const std::vector<std::string>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + quote(v[i]);
  return s + "]";
}

std::vector<std::string> safetensors_files(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".safetensors") out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  if (out.empty()) throw util::Error("no .safetensors files", {.file = dir.string()});
  return out;
}

struct TorchtuneModel {
  std::string builder, lora_builder, tokenizer, model_type;
  std::string tokenizer_args;                                   // YAML lines (indented 2)
  std::vector<std::pair<std::string, std::string>> model_args;  // family-specific model-block lines
};

// The family's torchtune names come from the arch table (model/arch/arch.h); only the YAML is
// written here.
TorchtuneModel torchtune_model(const model::ModelConfig& c, const fs::path& dir) {
  const auto& spec = model::arch::find_by_family(c.family);
  if (!spec.torchtune)
    throw util::NotSupported("no torchtune mapping for family '" + c.family + "'", {.field = "architecture"});
  const model::arch::TorchtuneSpec tt = spec.torchtune(c);
  TorchtuneModel t{.builder = tt.builder,
                   .lora_builder = tt.lora_builder,
                   .tokenizer = tt.tokenizer,
                   .model_type = tt.model_type,
                   .tokenizer_args = "",
                   .model_args = tt.model_args};
  const std::string d = fs::absolute(dir).string();
  for (const auto& [arg, file] : tt.tokenizer_files)
    t.tokenizer_args += "  " + arg + ": " + quote(d + "/" + file) + "\n";
  return t;
}

std::string torchtune_model_block(const model::ModelConfig& c, const TorchtuneModel& t,
                                  const TrainOptions& o) {
  const bool lora = o.lora.rank > 0;
  std::string s = "model:\n  _component_: " + (lora ? t.lora_builder : t.builder) + "\n";
  s += "  vocab_size: " + std::to_string(c.vocab_size) + "\n";
  s += "  num_layers: " + std::to_string(c.num_layers) + "\n";
  s += "  num_heads: " + std::to_string(c.num_heads) + "\n";
  s += "  num_kv_heads: " + std::to_string(c.num_kv_heads) + "\n";
  s += "  embed_dim: " + std::to_string(c.hidden_size) + "\n";
  s += "  intermediate_dim: " + std::to_string(c.intermediate_size) + "\n";
  s += "  max_seq_len: " + std::to_string(o.max_seq_len) + "\n";
  s += "  norm_eps: " + num(c.rms_norm_eps) + "\n";
  s += "  rope_base: " + num(c.rope_theta) + "\n";
  for (const auto& [arg, value] : t.model_args) s += "  " + arg + ": " + value + "\n";
  if (c.rope_scaling.type == "llama3") s += "  scale_factor: " + num(c.rope_scaling.factor) + "\n";
  if (lora) {
    std::vector<std::string> attn;
    bool mlp = false;
    for (const auto& m : o.lora.targets) {
      if (m == "gate_proj" || m == "up_proj" || m == "down_proj") {
        mlp = true;
      } else {
        attn.push_back(m);
      }
    }
    s += "  lora_attn_modules: " + py_list(attn) + "\n";
    s += std::string("  apply_lora_to_mlp: ") + (mlp ? "True" : "False") + "\n";
    s += "  lora_rank: " + std::to_string(o.lora.rank) + "\n";
    s += "  lora_alpha: " + num(o.lora.alpha) + "\n";
    s += "  lora_dropout: " + num(o.lora.dropout) + "\n";
  }
  return s;
}

std::string torchtune_common(const model::ModelConfig& c, const TorchtuneModel& t, const TrainOptions& o,
                             const fs::path& model_dir, const std::string& output_dir) {
  std::string s = "output_dir: " + quote(output_dir) + "\n\n";
  s += torchtune_model_block(c, t, o) + "\n";
  s += "tokenizer:\n  _component_: " + t.tokenizer + "\n" + t.tokenizer_args +
       "  max_seq_len: " + std::to_string(o.max_seq_len) + "\n\n";
  s += "checkpointer:\n  _component_: torchtune.training.FullModelHFCheckpointer\n";
  s += "  checkpoint_dir: " + quote(fs::absolute(model_dir).string()) + "\n";
  s += "  checkpoint_files: " + py_list(safetensors_files(model_dir)) + "\n";
  s += "  recipe_checkpoint: null\n  output_dir: ${output_dir}\n  model_type: " + t.model_type + "\n";
  s += "resume_from_checkpoint: False\n";
  if (o.lora.rank > 0) s += "save_adapter_weights_only: False\n";
  s += "\n";
  s += "seed: " + std::to_string(o.seed) + "\nshuffle: True\n";
  s += "batch_size: " + std::to_string(o.batch_size) + "\n";
  s += "epochs: " + std::to_string(o.epochs) + "\n";
  s += "max_steps_per_epoch: " + (o.steps > 0 ? std::to_string(o.steps) : std::string("null")) + "\n";
  s += "gradient_accumulation_steps: " + std::to_string(o.grad_accum) + "\n";
  s += "optimizer:\n  _component_: torch.optim.AdamW\n  fused: True\n";
  s += "  lr: " + num(o.lr) + "\n  weight_decay: " + num(o.weight_decay) + "\n";
  s += "  betas: [" + num(o.beta1) + ", " + num(o.beta2) + "]\n  eps: " + num(o.eps) + "\n";
  s += "lr_scheduler:\n  _component_: torchtune.training.lr_schedulers.get_cosine_schedule_with_warmup\n";
  s += "  num_warmup_steps: " + std::to_string(o.warmup_steps) + "\n";
  s += "clip_grad_norm: " + (o.max_grad_norm > 0 ? num(o.max_grad_norm) : std::string("null")) + "\n\n";
  s += "device: cuda\ndtype: bf16\ncompile: True\n";
  s += "enable_activation_checkpointing: True\nenable_activation_offloading: False\n";
  s += "metric_logger:\n  _component_: torchtune.training.metric_logging.DiskLogger\n  log_dir: "
       "${output_dir}/logs\n";
  s += "log_every_n_steps: 1\nlog_peak_memory_stats: True\n";
  return s;
}

std::string torchtune_sft(const model::ModelConfig& c, const ExportConfigOptions& e,
                          const TorchtuneModel& t) {
  const auto& o = e.sft;
  std::string recipe = o.lora.rank > 0 ? "lora_finetune_single_device" : "full_finetune_single_device";
  std::string s = "# Generated by `usermirror export torchtune`: the SFT stage of usermirror's run.\n";
  s += "# Run: tune run " + recipe + " --config sft.yaml   (torchtune >= 0.6)\n";
  s += "# Loss on the assistant turn only (train_on_input False), as `usermirror train sft`.\n\n";
  s += torchtune_common(c, t, o, e.model_dir, fs::absolute(e.out_dir / "torchtune-sft").string());
  s += "\ndataset:\n  _component_: torchtune.datasets.chat_dataset\n  source: json\n";
  s += "  data_files: " + quote(fs::absolute(e.data_path).string()) + "\n";
  s += "  conversation_column: " + (o.column.empty() ? std::string("messages_chosen") : o.column) + "\n";
  s += "  conversation_style: openai\n  train_on_input: False\n  packed: False\n  split: train\n";
  s += "loss:\n  _component_: torchtune.modules.loss.CEWithChunkedOutputLoss\n";
  return s;
}

std::string torchtune_dpo(const model::ModelConfig& c, const ExportConfigOptions& e, const TorchtuneModel& t,
                          const fs::path& policy_dir) {
  const auto& o = e.dpo;
  std::string recipe = o.lora.rank > 0 ? "lora_dpo_single_device" : "full_dpo_distributed";
  std::string s = "# Generated by `usermirror export torchtune`: the DPO stage of usermirror's run.\n";
  s += "# Run: tune run " + recipe + " --config dpo.yaml   (torchtune >= 0.6)\n";
  s += "# Policy and reference start from the same checkpoint (the SFT output).\n\n";
  s += torchtune_common(c, t, o, policy_dir, fs::absolute(e.out_dir / "torchtune-dpo").string());
  s += "ref_checkpointer:\n  _component_: torchtune.training.FullModelHFCheckpointer\n";
  s += "  checkpoint_dir: " + quote(fs::absolute(policy_dir).string()) + "\n";
  s += "  checkpoint_files: " + py_list(safetensors_files(policy_dir)) + "\n";
  s += "  recipe_checkpoint: null\n  output_dir: ${output_dir}\n  model_type: " + t.model_type + "\n";
  s += "\ndataset:\n  _component_: torchtune.datasets.preference_dataset\n  source: json\n";
  s += "  data_files: " + quote(fs::absolute(e.data_path).string()) + "\n";
  s += "  column_map:\n    chosen: messages_chosen\n    rejected: messages_rejected\n";
  s += "  train_on_input: False\n  split: train\n";
  s += "loss:\n  _component_: torchtune.rlhf.loss.DPOLoss\n";
  s += "  beta: " + num(e.dpo_loss.beta) + "\n  label_smoothing: " + num(e.dpo_loss.label_smoothing) + "\n";
  return s;
}

std::string trl_script(const ExportConfigOptions& e, const fs::path& dpo_model) {
  auto args = [](const TrainOptions& o) {
    std::string s;
    s += "    learning_rate=" + num(o.lr) + ",\n";
    s += "    weight_decay=" + num(o.weight_decay) + ",\n";
    s += "    adam_beta1=" + num(o.beta1) + ", adam_beta2=" + num(o.beta2) + ", adam_epsilon=" + num(o.eps) +
         ",\n";
    s += "    num_train_epochs=" + std::to_string(o.epochs) + ",\n";
    if (o.steps > 0) s += "    max_steps=" + std::to_string(o.steps) + ",\n";
    s += "    per_device_train_batch_size=" + std::to_string(o.batch_size) + ",\n";
    s += "    gradient_accumulation_steps=" + std::to_string(o.grad_accum) + ",\n";
    s += "    lr_scheduler_type=\"cosine\", warmup_steps=" + std::to_string(o.warmup_steps) + ",\n";
    s += "    max_grad_norm=" + num(o.max_grad_norm) + ",  # 0 = no clipping\n";
    s += "    max_length=" + std::to_string(o.max_seq_len) + ",\n";
    s += "    seed=" + std::to_string(o.seed) + ", bf16=True, gradient_checkpointing=True,\n";
    s += "    logging_steps=1, save_strategy=\"epoch\", report_to=\"none\",\n";
    return s;
  };
  auto lora = [](const TrainOptions& o) -> std::string {
    if (o.lora.rank <= 0) return "None";
    return "LoraConfig(r=" + std::to_string(o.lora.rank) + ", lora_alpha=" + num(o.lora.alpha) +
           ", lora_dropout=" + num(o.lora.dropout) + ", target_modules=" + py_list(o.lora.targets) +
           ", task_type=\"CAUSAL_LM\")";
  };
  const std::string out = fs::absolute(e.out_dir).string();
  std::string s = "#!/usr/bin/env python3\n";
  s += "# Generated by `usermirror export trl`: usermirror's SFT -> DPO run with TRL (>= 0.19) + peft.\n";
  s += "# Run: accelerate launch train_trl.py [sft|dpo|both]\n";
  s += "# Note: transformers' Trainer exempts biases and norm weights from weight decay; usermirror and\n";
  s += "# torchtune decay every trainable tensor.\n";
  s += "import sys\nfrom datasets import load_dataset\nfrom peft import LoraConfig\n";
  s += "from trl import DPOConfig, DPOTrainer, SFTConfig, SFTTrainer\n\n";
  s += "DATA = " + quote(fs::absolute(e.data_path).string()) + "\n";
  s += "MODEL = " + quote(fs::absolute(e.model_dir).string()) + "\n";
  s += "OUT = " + quote(out) + "\n";
  s += "stage = sys.argv[1] if len(sys.argv) > 1 else " + quote(e.stage) + "\n\n";
  s += "raw = load_dataset(\"json\", data_files=DATA, split=\"train\")\n";
  const std::string col = e.sft.column.empty() ? "messages_chosen" : e.sft.column;
  s += "# prompt/completion form: the loss covers the completion (assistant turn) only.\n";
  s += "sft_data = raw.map(lambda r: {\"prompt\": r[" + quote(col) + "][:-1], \"completion\": r[" +
       quote(col) + "][-1:]}, remove_columns=raw.column_names)\n";
  s += "dpo_data = raw.map(lambda r: {\"prompt\": r[\"messages_chosen\"][:-1], \"chosen\": "
       "r[\"messages_chosen\"][-1:],"
       " \"rejected\": r[\"messages_rejected\"][-1:]}, remove_columns=raw.column_names)\n\n";
  s += "sft_out = OUT + \"/trl-sft\"\n";
  s += "if stage in (\"sft\", \"both\"):\n";
  s += "    cfg = SFTConfig(output_dir=sft_out, completion_only_loss=True, packing=False,\n" + args(e.sft) +
       "    )\n";
  s += "    t = SFTTrainer(model=MODEL, args=cfg, train_dataset=sft_data, peft_config=" + lora(e.sft) + ")\n";
  s += "    t.train()\n";
  if (e.sft.lora.rank > 0) s += "    t.model = t.model.merge_and_unload()\n";
  s += "    t.save_model(sft_out)\n\n";
  s += "if stage in (\"dpo\", \"both\"):\n";
  s += "    policy = sft_out if stage == \"both\" else " + quote(fs::absolute(dpo_model).string()) + "\n";
  s += "    cfg = DPOConfig(output_dir=OUT + \"/trl-dpo\", loss_type=\"sigmoid\", beta=" +
       num(e.dpo_loss.beta) + ", label_smoothing=" + num(e.dpo_loss.label_smoothing) + ",\n" + args(e.dpo) +
       "    )\n";
  s += "    t = DPOTrainer(model=policy, ref_model=None, args=cfg, train_dataset=dpo_data, peft_config=" +
       lora(e.dpo) + ")\n";
  s += "    t.train()\n";
  if (e.dpo.lora.rank > 0) s += "    t.model = t.model.merge_and_unload()\n";
  s += "    t.save_model(OUT + \"/trl-dpo\")\n";
  return s;
}

}  // namespace

std::vector<fs::path> export_configs(const ExportConfigOptions& e) {
  if (e.stage != "sft" && e.stage != "dpo" && e.stage != "both") {
    throw util::Error("stage must be sft, dpo or both", {.field = "stage"});
  }
  if (!fs::exists(e.data_path)) throw util::Error("data file not found", {.file = e.data_path.string()});
  const model::ModelConfig c = model::load_config(e.model_dir);
  fs::create_directories(e.out_dir);
  std::vector<fs::path> written;
  auto write = [&](const fs::path& p, const std::string& text) {
    util::write_file_atomic(p, text);
    written.push_back(p);
  };
  if (e.tool == "torchtune") {
    const TorchtuneModel t = torchtune_model(c, e.model_dir);
    if (e.stage != "dpo") write(e.out_dir / "sft.yaml", torchtune_sft(c, e, t));
    if (e.stage != "sft") {
      // After SFT the DPO stage starts from torchtune's SFT output (its epoch_N folder), else from the model.
      const fs::path policy =
          e.stage == "both" ? e.out_dir / "torchtune-sft" / ("epoch_" + std::to_string(e.sft.epochs - 1))
                            : e.model_dir;
      std::string dpo = torchtune_dpo(c, e, t, e.stage == "both" ? e.model_dir : policy);
      if (e.stage == "both") {
        dpo =
            "# checkpoint_dir below points at the base model's files; after sft.yaml finishes, point\n"
            "# checkpointer and ref_checkpointer at " +
            fs::absolute(policy).string() + "\n" + dpo;
      }
      write(e.out_dir / "dpo.yaml", dpo);
    }
  } else if (e.tool == "trl") {
    write(e.out_dir / "train_trl.py", trl_script(e, e.model_dir));
  } else {
    throw util::NotSupported("export target '" + e.tool + "' is not supported (torchtune, trl)",
                             {.field = "tool"});
  }
  return written;
}

}  // namespace um::train
