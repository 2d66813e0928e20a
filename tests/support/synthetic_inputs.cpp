#include "support/synthetic_inputs.h"

#include <array>
#include <cmath>

#include "distil/distil.h"
#include "distil/reference_io.h"
#include "util/atomic_file.h"
#include "util/json_writer.h"
#include "util/rng.h"

namespace um::distil {

namespace {

constexpr const char* kWords[] = {"I",      "feel",      "the",        "movie",     "quality",
                                  "price",  "novel",     "because",    "\"great\"", "history",
                                  "prefer", "option",    "today",      "évaluer",   "and",
                                  "so",     "Stimulus:", "Knowledge:", "\n",        "rating"};

std::string words(util::Rng& rng, size_t chars) {
  std::string s;
  while (s.size() < chars) {
    if (!s.empty()) s += ' ';
    s += kWords[rng.uniform_int(0, std::size(kWords) - 1)];
  }
  return s;
}

void write_probs_line(util::JsonWriter& w, const SceneRecord& scene, util::Rng& rng,
                      const SyntheticSpec& spec, bool null_choice, double sharpness) {
  ProbsRecord r;
  r.user_id = scene.user_id;
  r.item_id = scene.item_id;
  r.has_choice = !null_choice;
  if (!null_choice) {
    for (int j = 0; j < spec.rationales; ++j) {
      r.decision_list.push_back("Thought:\n" + words(rng, spec.rationale_chars));
      // A rationale favours one option (the truth with probability `sharpness`), softmax of logits.
      const int fav = rng.uniform01() < sharpness
                          ? scene.item_pos
                          : static_cast<int>(rng.uniform_int(0, scene.choice_cnt - 1));
      std::array<double, kMaxOptions> logit{};
      double mx = -1e300;
      for (int k = 0; k < scene.choice_cnt; ++k) {
        logit[static_cast<size_t>(k)] = 3.0 * rng.uniform01() + (k == fav ? 4.0 * rng.uniform01() + 1 : 0);
        mx = std::max(mx, logit[static_cast<size_t>(k)]);
      }
      double sum = 0;
      for (int k = 0; k < scene.choice_cnt; ++k) sum += std::exp(logit[static_cast<size_t>(k)] - mx);
      LetterProbs d;
      const int omit = rng.uniform01() < spec.partial_fraction
                           ? static_cast<int>(rng.uniform_int(0, scene.choice_cnt - 1))
                           : -1;
      for (int k = 0; k < scene.choice_cnt; ++k)
        if (k != omit) d.set(k, std::exp(logit[static_cast<size_t>(k)] - mx) / sum);
      r.choice.push_back(d);
    }
  }
  r.n_decisions = r.decision_list.size();
  write_probs(w, r);
  w.newline();
}

SceneRecord synthetic_scene(const std::string& ds, const SyntheticSpec& spec, util::Rng& rng) {
  SceneRecord s;
  s.choice_cnt = static_cast<int>(rng.uniform_int(spec.min_options, spec.max_options));
  s.item_pos = static_cast<int>(rng.uniform_int(0, s.choice_cnt - 1));
  s.user_id = std::to_string(rng.uniform_int(1, 5000));
  s.item_id = std::to_string(rng.uniform_int(1, 20000));
  s.timestamp = 978300000000 + rng.uniform_int(0, 1000000000);
  s.dataset = ds;
  s.text.profile = "## User Profile\n" + words(rng, 200) + "\n";
  s.text.history = words(rng, 600) + "\n";
  for (int k = 0; k < s.choice_cnt; ++k) s.text.action_list.push_back(words(rng, 80) + " \n");
  return s;
}

}  // namespace

void write_synthetic_score_inputs(const std::filesystem::path& work, const std::string& ds,
                                  const SyntheticSpec& spec) {
  std::filesystem::create_directories(work / "datasets");
  std::filesystem::create_directories(work / "decisions");
  util::AtomicWriter train(scenes_path(work, ds, "train"));
  util::AtomicWriter strong(decisions_path(work, ds, "strong"));
  util::AtomicWriter weak(decisions_path(work, ds, "weak"));
  util::JsonWriter w;
  for (int64_t r = 0; r < spec.scenes; ++r) {
    util::Rng rng = util::Rng::stream(spec.seed, "synthetic/" + ds, static_cast<uint64_t>(r));
    const SceneRecord s = synthetic_scene(ds, spec, rng);
    write_scene(w, s, /*with_impressions=*/false);
    w.newline();
    train.write(w.str());
    w.clear();
    for (util::AtomicWriter* out : {&strong, &weak}) {
      std::vector<std::string> contents;
      for (int j = 0; j < spec.rationales; ++j) {
        const int pick = static_cast<int>(rng.uniform_int(0, s.choice_cnt - 1));
        contents.push_back("Thought:\n" + words(rng, spec.rationale_chars) + "\nBehavior: [" +
                           std::string(1, option_letter(pick)) + "]");
      }
      write_decisions(w, ds + "-" + std::to_string(r), "synthetic", contents);
      w.newline();
      out->write(w.str());
      w.clear();
    }
  }
  train.commit();
  strong.commit();
  weak.commit();
}

void write_synthetic_distil_inputs(const std::filesystem::path& work, const std::string& ds,
                                   const SyntheticSpec& spec) {
  std::filesystem::create_directories(work / "datasets");
  std::filesystem::create_directories(work / "probs");
  util::AtomicWriter train(scenes_path(work, ds, "train"));
  util::AtomicWriter strong(probs_path(work, ds, "strong"));
  util::AtomicWriter weak(probs_path(work, ds, "weak"));
  util::JsonWriter w;
  for (int64_t r = 0; r < spec.scenes; ++r) {
    util::Rng rng = util::Rng::stream(spec.seed, "synthetic/" + ds, static_cast<uint64_t>(r));
    const SceneRecord s = synthetic_scene(ds, spec, rng);
    write_scene(w, s, /*with_impressions=*/false);
    w.newline();
    train.write(w.str());
    w.clear();
    const bool null_choice = rng.uniform01() < spec.null_fraction;
    write_probs_line(w, s, rng, spec, null_choice, 0.6);
    strong.write(w.str());
    w.clear();
    write_probs_line(w, s, rng, spec, null_choice, 0.3);
    weak.write(w.str());
    w.clear();
  }
  train.commit();
  strong.commit();
  weak.commit();
}

}  // namespace um::distil
