// torchtune / TRL configs: valid YAML / Python carrying the run's values (§9 defaults).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "common/shared_data.h"
#include "train/train.h"
#include "train/train_fixtures.h"
#include "util/error.h"

namespace um::train {
namespace {

std::string run(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[1024];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  EXPECT_EQ(pclose(p), 0) << cmd << "\n" << out;
  return out;
}

TEST(ExportConfigs, TorchtuneYamlCarriesTheRunValues) {
  auto dir = testing::tiny_train_model("qwen2", "export-tt");
  auto out = um::testing::temp_dir("train-export-tt");
  auto data = out / "pref.jsonl";
  std::ofstream(data) << "{}\n";
  ExportConfigOptions o;
  o.tool = "torchtune";
  o.model_dir = dir;
  o.data_path = data;
  o.out_dir = out;
  o.sft.lora.rank = 8;
  o.dpo.lora.rank = 4;
  auto files = export_configs(o);
  ASSERT_EQ(files.size(), 2u);
  const std::string py =
      "/usr/bin/python3 -c \"import sys, yaml; s = yaml.safe_load(open(sys.argv[1])); d = "
      "yaml.safe_load(open(sys.argv[2])); "
      "print(s['optimizer']['lr'], s['model']['_component_'], s['model']['embed_dim'], "
      "s['model']['num_kv_heads'], "
      "s['dataset']['conversation_column'], s['gradient_accumulation_steps'], "
      "s['lr_scheduler']['num_warmup_steps'], s['optimizer']['weight_decay'], "
      "d['optimizer']['lr'], d['optimizer']['weight_decay'], d['loss']['beta'], d['epochs'], "
      "d['model']['lora_rank'])\" ";
  const std::string got = run(py + (out / "sft.yaml").string() + " " + (out / "dpo.yaml").string());
  EXPECT_EQ(got,
            "0.0002 torchtune.models.qwen2.lora_qwen2 32 2 messages_chosen 4 10 0.01 1e-05 0.05 0.1 2 4\n");
}

TEST(ExportConfigs, TrlScriptIsPython) {
  auto dir = testing::tiny_train_model("llama", "export-trl");
  auto out = um::testing::temp_dir("train-export-trl");
  std::ofstream(out / "pref.jsonl") << "{}\n";
  ExportConfigOptions o;
  o.tool = "trl";
  o.model_dir = dir;
  o.data_path = out / "pref.jsonl";
  o.out_dir = out;
  auto files = export_configs(o);
  ASSERT_EQ(files.size(), 1u);
  run("/usr/bin/python3 -c \"import ast, sys; ast.parse(open(sys.argv[1]).read())\" " + files[0].string());
  o.tool = "axolotl";
  EXPECT_THROW(export_configs(o), util::NotSupported);
}

}  // namespace
}  // namespace um::train
