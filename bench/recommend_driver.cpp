// The C++ side of bench/recommend_bench.py: prepares a dataset (if WORK/raws lacks it), splits it and
// trains the named built-in recommenders, printing one JSON line per recommender with the training
// wall time and an FNV-1a hash of every test user's top-10 (to compare runs, e.g. thread counts).
//
//   recommend_driver --raw ../shared/data/ml-1m --work /tmp/w --dataset ml-1m
//                    --split global-time:0.9 --threads 0 ease itemknn bpr
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "data/dataset_io.h"
#include "data/prepare.h"
#include "recommend/recommend.h"
#include "util/error.h"

using namespace um;

int main(int argc, char** argv) {
  std::filesystem::path raw, work;
  std::string dataset = "ml-1m", split_spec = "global-time:0.9";
  unsigned threads = 0;
  std::vector<std::string> specs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--raw")
      raw = next();
    else if (a == "--work")
      work = next();
    else if (a == "--dataset")
      dataset = next();
    else if (a == "--split")
      split_spec = next();
    else if (a == "--threads")
      threads = static_cast<unsigned>(std::stoul(next()));
    else
      specs.push_back(a);
  }
  try {
    if (!std::filesystem::exists(work / data::interaction_file(dataset)))
      data::prepare({.dataset = dataset, .raw_dir = raw, .work_dir = work});
    data::Dataset ds = data::load_dataset(work, dataset);
    auto split = recommend::make_split(ds, recommend::parse_split(split_spec));
    std::printf(
        "{\"what\": \"split\", \"train_items\": %zu, \"test_users\": %zu, \"train_interactions\": %lld}\n",
        split.train_items.size(), split.test_users.size(), static_cast<long long>(split.train_interactions));
    for (const auto& spec : specs) {
      auto t0 = std::chrono::steady_clock::now();
      auto rec = recommend::make_recommender(spec, split, {.seed = 1, .threads = threads});
      double train_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::vector<recommend::Query> qs;
      for (uint32_t u : split.test_users)
        qs.push_back(
            {.user = u, .history = split.train_items_of(u), .t_us = split.first_test_us(u), .k = 10});
      t0 = std::chrono::steady_clock::now();
      auto rs = rec->recommend_batch(qs);
      double rec_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      uint64_t h = 1469598103934665603ULL;
      for (const auto& r : rs)
        for (uint32_t i : r.items) h = (h ^ i) * 1099511628211ULL;
      std::printf(
          "{\"what\": \"%s\", \"train_s\": %.4f, \"recommend_s\": %.4f, \"users\": %zu, \"hash\": "
          "\"%016llx\"}\n",
          spec.c_str(), train_s, rec_s, qs.size(), static_cast<unsigned long long>(h));
      std::fflush(stdout);
    }
  } catch (const util::Error& e) {
    std::fprintf(stderr, "recommend_driver: %s\n", e.what());
    return 1;
  }
  return 0;
}
