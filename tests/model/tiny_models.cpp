#include "model/tiny_models.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "common/shared_data.h"

namespace um::testing {

model::InitOptions tiny_options(const std::string& arch) {
  model::InitOptions o;
  o.arch = arch;
  o.layers = 2;
  o.hidden = 64;
  o.heads = 4;
  o.kv_heads = 4;
  o.intermediate = 96;
  o.vocab = 512;
  o.dtype = "f32";
  o.seed = 7;
  return o;
}

std::filesystem::path make_tiny_model(model::InitOptions o, const std::filesystem::path& tokenizer_dir,
                                      const std::string& tag) {
  o.tokenizer_dir = tokenizer_dir;
  o.out_dir = temp_dir("model-" + tag);
  model::init_random_model(o);
  return o.out_dir;
}

model::Logits numpy_logits(const std::filesystem::path& model_dir, const std::vector<int32_t>& ids,
                           bool all_positions) {
  std::string csv;
  for (auto id : ids) csv += (csv.empty() ? "" : ",") + std::to_string(id);
  auto out = model_dir / "numpy_logits.f32";
  std::string cmd = "/usr/bin/python3 " + (source_dir() / "tests/oracles/numpy_forward.py").string() +
                    " --model " + model_dir.string() + " --ids " + csv + " --out " + out.string() +
                    (all_positions ? " --all-positions" : "") + " > " + (model_dir / "numpy.txt").string();
  int rc = std::system(cmd.c_str());
  EXPECT_EQ(rc, 0) << cmd;
  model::Logits l;
  std::ifstream shape(model_dir / "numpy.txt");
  shape >> l.rows >> l.cols;
  l.data.resize(l.rows * l.cols);
  std::ifstream in(out, std::ios::binary);
  in.read(reinterpret_cast<char*>(l.data.data()),
          static_cast<std::streamsize>(l.data.size() * sizeof(float)));
  EXPECT_TRUE(in.good()) << "short oracle output";
  return l;
}

double max_rel_diff(const model::Logits& a, const model::Logits& b, double floor) {
  EXPECT_EQ(a.rows, b.rows);
  EXPECT_EQ(a.cols, b.cols);
  if (a.data.size() != b.data.size()) return INFINITY;
  double worst = 0;
  for (size_t i = 0; i < a.data.size(); ++i) {
    double d = std::abs(static_cast<double>(a.data[i]) - b.data[i]) /
               (std::abs(static_cast<double>(b.data[i])) + floor);
    if (!(d <= worst)) worst = d;  // NaN propagates as a failure
  }
  return worst;
}

}  // namespace um::testing
