// A training run under an injected write failure (issue 14, docs/reliability.md "Injected write
// failures"): RLIMIT_FSIZE is lowered in this process with SIGXFSZ ignored, so a write past the limit
// fails with EFBIG as on a full disk. The run must end with util::Error naming the file, leave no
// checkpoint or export that looks complete but is not, and a resumed run without the limit must end
// where an uninterrupted run ends. The same for DPO's reference log-probability cache.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "common/shared_data.h"
#include "train/train.h"
#include "train/train_fixtures.h"
#include "util/error.h"

namespace um::train {
namespace {

namespace fs = std::filesystem;

// Lowers the soft file-size limit for its lifetime (the hard limit is untouched, so it can be raised
// back); SIGXFSZ is ignored meanwhile so the failing write returns EFBIG instead of killing the test.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    rlimit rl = saved_;
    rl.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &rl);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, old_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit saved_{};
  void (*old_handler_)(int) = SIG_DFL;
};

std::string bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Regular files under root (relative path -> bytes).
std::map<std::string, std::string> tree(const fs::path& root) {
  std::map<std::string, std::string> out;
  if (!fs::exists(root)) return out;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) out[fs::relative(e.path(), root).string()] = bytes_of(e.path());
  return out;
}

TEST(TrainWriteFault, CheckpointAndExportFailCleanlyAndResumeMatches) {
  auto model = testing::tiny_train_model("llama", "fault");
  auto data = testing::token_sft_data(8, 512, 4);
  auto base = testing::fast_options(model, "fault-ref");
  base.steps = 6;
  base.grad_accum = 1;
  base.checkpoint_every = 3;
  base.export_model = true;
  const TrainResult ref = run_sft_tokens(base, data);
  ASSERT_TRUE(ref.finished);
  const auto ref_ckpt = tree(base.out_dir / "checkpoint");
  const auto ref_export = tree(ref.model_out);
  ASSERT_TRUE(ref_ckpt.count("trainable.pt") && ref_ckpt.count("state.json"));
  size_t ckpt_largest = 0, export_largest = 0;
  for (const auto& [_, b] : ref_ckpt) ckpt_largest = std::max(ckpt_largest, b.size());
  for (const auto& [_, b] : ref_export) export_largest = std::max(export_largest, b.size());

  // Limits: the first checkpoint's largest file cut in half; and, when the export has a larger file
  // than any checkpoint file, a limit that lets checkpoints through and cuts the export.
  std::vector<rlim_t> limits = {rlim_t{ckpt_largest / 2}};
  if (export_largest > ckpt_largest + 1) limits.push_back(rlim_t{(ckpt_largest + export_largest) / 2});
  for (rlim_t limit : limits) {
    SCOPED_TRACE("limit " + std::to_string(limit));
    auto o = base;
    o.out_dir = um::testing::temp_dir("train-out-fault-" + std::to_string(limit));
    std::string message;
    {
      FileSizeLimit cap(limit);
      try {
        run_sft_tokens(o, data);
        ADD_FAILURE() << "the run succeeded under the limit";
      } catch (const util::Error& e) {
        message = e.what();
      } catch (const std::exception& e) {
        ADD_FAILURE() << "not a util::Error: " << e.what();
      }
    }
    EXPECT_NE(message.find(o.out_dir.string()), std::string::npos) << "the error names no file: " << message;
    // A checkpoint left behind is a whole one: it loads (resume below) and holds every file.
    if (fs::exists(o.out_dir / "checkpoint")) {
      auto left = tree(o.out_dir / "checkpoint");
      EXPECT_EQ(left.size(), ref_ckpt.size());
    }
    // No export that looks complete: the model folder is absent or identical to the reference's.
    auto exported = tree(o.out_dir / "model");
    if (!exported.empty()) {
      for (const auto& [name, b] : exported) {
        ASSERT_TRUE(ref_export.count(name)) << name;
        EXPECT_TRUE(ref_export.at(name) == b) << "incomplete export file " << name;
      }
    }
    o.resume = true;
    const TrainResult again = run_sft_tokens(o, data);
    ASSERT_TRUE(again.finished);
    ASSERT_EQ(again.steps.size(), ref.steps.size());
    for (size_t i = 0; i < ref.steps.size(); ++i) EXPECT_EQ(again.steps[i].loss, ref.steps[i].loss) << i;
    EXPECT_TRUE(tree(o.out_dir / "checkpoint")["state.json"] == ref_ckpt.at("state.json"));
    auto export_again = tree(again.model_out);
    ASSERT_EQ(export_again.size(), ref_export.size());
    for (const auto& [name, b] : ref_export)
      EXPECT_TRUE(export_again[name] == b) << "export differs: " << name;
  }
}

// DPO's reference log-probabilities (out_dir/reference_logps.bin, written by the objective's
// prepare() before the first step) under the same fault: the run ends with util::Error naming the
// cache, no file by its name or a temporary of it is left (a short cache would be rejected on read,
// but must not look complete), and a rerun without the limit writes the uninterrupted run's bytes
// and trains to the same losses.
TEST(TrainWriteFault, DpoReferenceLogpsFailCleanlyAndRerunMatches) {
  auto model = testing::tiny_train_model("qwen3", "fault-dpo");
  auto data = testing::token_pref_data(8, 512, 21);
  TrainOptions base = dpo_defaults();
  base.model_dir = model;
  base.out_dir = um::testing::temp_dir("train-out-fault-dpo-ref");
  base.steps = 2;
  base.grad_accum = 1;
  base.batch_size = 2;
  base.warmup_steps = 0;
  base.checkpoint_every = 0;
  base.export_model = false;
  base.plot = false;
  base.threads = 1;
  DpoOptions d;
  d.beta = 0.1;
  const TrainResult ref = run_dpo_tokens(base, d, data);
  ASSERT_TRUE(ref.finished);
  const std::string cache = bytes_of(base.out_dir / "reference_logps.bin");
  ASSERT_EQ(cache.size(), 24 + 2 * sizeof(double) * data.size());  // magic, key, count, 2 per pair

  for (rlim_t limit : {rlim_t{0}, rlim_t{cache.size() / 2}, rlim_t{cache.size() - 1}}) {
    SCOPED_TRACE("limit " + std::to_string(limit));
    auto o = base;
    o.out_dir = um::testing::temp_dir("train-out-fault-dpo-" + std::to_string(limit));
    std::string message;
    {
      FileSizeLimit cap(limit);
      try {
        run_dpo_tokens(o, d, data);
        ADD_FAILURE() << "the run succeeded under the limit";
      } catch (const util::Error& e) {
        message = e.what();
      } catch (const std::exception& e) {
        ADD_FAILURE() << "not a util::Error: " << e.what();
      }
    }
    EXPECT_NE(message.find((o.out_dir / "reference_logps.bin").string()), std::string::npos)
        << "the error names no reference cache: " << message;
    for (const auto& e : fs::directory_iterator(o.out_dir))
      EXPECT_EQ(e.path().filename().string().find("reference_logps"), std::string::npos)
          << "left behind: " << e.path();
    const TrainResult again = run_dpo_tokens(o, d, data);
    ASSERT_TRUE(again.finished);
    EXPECT_TRUE(bytes_of(o.out_dir / "reference_logps.bin") == cache) << "the rerun's cache differs";
    ASSERT_EQ(again.steps.size(), ref.steps.size());
    for (size_t i = 0; i < ref.steps.size(); ++i) {
      EXPECT_EQ(again.steps[i].loss, ref.steps[i].loss) << i;
      EXPECT_EQ(again.steps[i].margin, ref.steps[i].margin) << i;
    }
  }
}

}  // namespace
}  // namespace um::train
