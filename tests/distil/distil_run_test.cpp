// run_distil's steps seen from outside: the option checks (messages and their order, before any file
// is read), the summary counts, the metrics table written apart from the pairs, and pass 2's two ways
// of reading (mapped plain files, gzip files read through) giving the same bytes.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "common/shared_data.h"
#include "distil/distil.h"
#include "distil/work_layout.h"
#include "support/synthetic_inputs.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/line_reader.h"

namespace um::distil {
namespace {

namespace fs = std::filesystem;

std::string error_of(const DistilOptions& o) {
  try {
    run_distil(o);
  } catch (const util::Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(DistilRun, OptionErrorsInOrderBeforeAnyFileIsRead) {
  const fs::path work = um::testing::temp_dir("distil_run_options");
  util::write_file_atomic(work / "system.txt", "prompt\n");
  DistilOptions ok;
  ok.work_dir = work;  // holds no inputs: a run that passes the checks fails on the first file
  ok.datasets = {"a", "b"};
  ok.system_prompt_file = work / "system.txt";
  ok.progress = false;
  EXPECT_EQ(error_of(ok), scenes_path(work, "a", "train").string() + ": input file not found");

  DistilOptions o = ok;
  o.datasets.clear();
  o.name = "";  // also wrong, reported later
  EXPECT_EQ(error_of(o), "no datasets given (--datasets A,B)");
  o = ok;
  o.name = "";
  EXPECT_EQ(error_of(o), "--name must be a plain file-name stem");
  o.name = "x/y";
  o.select = -1;
  EXPECT_EQ(error_of(o), "--name must be a plain file-name stem");
  o.name = "x";
  EXPECT_EQ(error_of(o), "--select must be >= 0");
  o.select = 0;
  o.filter_column = "nope";
  o.sampling_column = "nope";
  EXPECT_EQ(error_of(o), "unknown filter column 'nope' (a scene metric name or 'random')");
  o.filter_column = "random";
  EXPECT_EQ(error_of(o), "unknown sampling column 'nope' (entropy, logloss or random)");
  o.sampling_column = "logloss";
  o.datasets = {"a", "b", "a", "b"};
  EXPECT_EQ(error_of(o), "dataset 'a' given twice");
}

// Copies <from>'s inputs of `ds` into <to>, gzip-compressed under the same names.
void gzip_inputs(const fs::path& from, const fs::path& to, const std::string& ds) {
  for (const fs::path& rel :
       {fs::path("datasets") / (ds + "_train.jsonl"), fs::path("probs") / (ds + "_probs_strong.jsonl"),
        fs::path("probs") / (ds + "_probs_weak.jsonl")}) {
    fs::create_directories((to / rel).parent_path());
    const std::string bytes = util::read_file(from / rel);
    gzFile gz = gzopen((to / rel).string().c_str(), "wb");
    ASSERT_NE(gz, nullptr);
    ASSERT_EQ(gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
    ASSERT_EQ(gzclose(gz), Z_OK);
  }
}

class DistilRunFiles : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    plain_ = new fs::path(um::testing::temp_dir("distil_run_plain"));
    mixed_ = new fs::path(um::testing::temp_dir("distil_run_mixed"));
    // dsA alone selects more than 2 batches of pairs (kBatchLines = 256).
    write_synthetic_distil_inputs(*plain_, "dsA",
                                  {.scenes = 700, .rationales = 3, .rationale_chars = 60, .seed = 21});
    write_synthetic_distil_inputs(*plain_, "dsB",
                                  {.scenes = 300, .rationales = 3, .rationale_chars = 60, .seed = 22});
    // mixed: dsA gzip-compressed (pass 2 reads it through), dsB plain (pass 2 maps it).
    gzip_inputs(*plain_, *mixed_, "dsA");
    fs::copy_file(scenes_path(*plain_, "dsB", "train"), scenes_path(*mixed_, "dsB", "train"));
    fs::copy_file(probs_path(*plain_, "dsB", "strong"), probs_path(*mixed_, "dsB", "strong"));
    fs::copy_file(probs_path(*plain_, "dsB", "weak"), probs_path(*mixed_, "dsB", "weak"));
    for (const fs::path* w : {plain_, mixed_}) util::write_file_atomic(*w / "system.txt", "prompt \"q\"\n");
  }
  static void TearDownTestSuite() {
    delete plain_;
    delete mixed_;
  }
  static DistilResult run(const fs::path& work, int64_t select) {
    DistilOptions o;
    o.work_dir = work;
    o.datasets = {"dsA", "dsB"};
    o.name = "out";
    o.select = select;
    o.system_prompt_file = work / "system.txt";
    o.threads = 2;
    o.progress = false;
    return run_distil(o);
  }
  static fs::path* plain_;
  static fs::path* mixed_;
};
fs::path* DistilRunFiles::plain_ = nullptr;
fs::path* DistilRunFiles::mixed_ = nullptr;

TEST_F(DistilRunFiles, GzipInputsGiveTheSameBytesAsPlainOnes) {
  const DistilResult p = run(*plain_, 100000);
  const DistilResult m = run(*mixed_, 100000);
  ASSERT_GT(p.pairs, 2 * 256);
  EXPECT_EQ(m.pairs, p.pairs);
  EXPECT_EQ(m.scenes, p.scenes);
  EXPECT_EQ(m.dropped, p.dropped);
  EXPECT_EQ(m.rejected_from_weak, p.rejected_from_weak);
  for (auto file : {&DistilResult::pref_file, &DistilResult::sft_file, &DistilResult::metrics_file}) {
    const std::string want = util::read_file(p.*file);
    EXPECT_FALSE(want.empty());
    EXPECT_TRUE(util::read_file(m.*file) == want) << (m.*file);
  }
}

TEST_F(DistilRunFiles, SelectZeroWritesTheMetricsTableAndEmptyPairFiles) {
  const DistilResult all = run(*plain_, 100000);
  const std::string metrics = util::read_file(all.metrics_file);
  const DistilResult r = run(*plain_, 0);
  EXPECT_EQ(r.scenes, 1000);
  EXPECT_EQ(r.pairs, 0);
  EXPECT_EQ(r.rejected_from_weak, 0);
  EXPECT_EQ(r.candidates, all.candidates);
  int64_t dropped = 0;
  for (const auto& [reason, n] : r.dropped) dropped += n;
  EXPECT_EQ(dropped + r.candidates, r.scenes);
  // One metrics line per scene with decisions; only "selected" differs from the full run's table.
  std::string zero = util::read_file(r.metrics_file);
  EXPECT_EQ(std::count(zero.begin(), zero.end(), '\n'), r.scenes - r.dropped.at("no_decisions"));
  EXPECT_EQ(zero.find("\"selected\":true"), std::string::npos);
  std::string unselected = metrics;
  int64_t selected = 0;
  for (size_t at = 0; (at = unselected.find("\"selected\":true", at)) != std::string::npos; ++selected)
    unselected.replace(at, 15, "\"selected\":false");
  EXPECT_EQ(selected, all.pairs);
  EXPECT_TRUE(unselected == zero);
  EXPECT_TRUE(util::read_file(r.pref_file).empty());
  EXPECT_TRUE(util::read_file(r.sft_file).empty());
}

}  // namespace
}  // namespace um::distil
