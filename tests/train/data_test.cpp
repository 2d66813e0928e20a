// The data path on real tokenizer files: chat-template rendering, assistant-only targets, and an SFT run
// on a small distilled-style pref file whose option distribution after "Behavior: [" moves toward the
// labelled letters (read through the engine).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/shared_data.h"
#include "text/jinja.h"
#include "text/tokenizer.h"
#include "train/train.h"
#include "train/train_fixtures.h"
#include "util/error.h"
#include "util/line_reader.h"
#include "util/rng.h"

namespace um::train {
namespace {

using nlohmann::ordered_json;

const char* kSystem =
    "You are a sophisticated user behavior emulator. Given a user profile and an exposure list, write a "
    "first-person thought and then choose one behavior.\n";
const char* kTitles[] = {"Toy Story (1995) Animation|Children's|Comedy",
                         "Heat (1995) Action|Crime|Thriller",
                         "Casino (1995) Drama|Thriller",
                         "Sabrina (1995) Comedy|Romance",
                         "GoldenEye (1995) Action|Adventure|Thriller",
                         "Jumanji (1995) Adventure|Children's|Fantasy",
                         "Sense and Sensibility (1995) Drama|Romance",
                         "Babe (1995) Children's|Comedy|Drama"};

ordered_json msg(const std::string& role, const std::string& content) {
  return ordered_json{{"role", role}, {"content", content}};
}

std::string user_message(util::Rng& rng) {
  std::string history, options;
  for (int i = 0; i < 2; ++i) {
    history += std::string("A movie viewed ") + std::to_string(rng.uniform_int(2, 9)) + " days ago\n" +
               kTitles[rng.uniform_int(0, 7)] +
               " \nMy Behavior:\nRating: " + std::to_string(rng.uniform_int(1, 5)) + ".0/5.0\n\n";
  }
  for (int i = 0; i < 3; ++i)
    options += std::string("[") + char('A' + i) + "] " + kTitles[rng.uniform_int(0, 7)] + " \n\n";
  return "# User Profile\n## User Profile\nGender: " +
         std::string(rng.uniform01() < 0.5 ? "male" : "female") +
         "\nAge: 25-34\nOccupation: programmer\n\n\n## History\n" + history + "\n# Exposure List\n" + options;
}

struct Scene {
  ordered_json prompt;  // [system, user]
  std::string rationale;
  char label;
};

std::vector<Scene> scenes(int n, uint64_t seed) {
  util::Rng rng(seed);
  std::vector<Scene> out;
  for (int i = 0; i < n; ++i) {
    Scene s;
    s.prompt = ordered_json::array({msg("system", kSystem), msg("user", user_message(rng))});
    s.label = static_cast<char>('A' + rng.categorical({0.7, 0.2, 0.1}));
    s.rationale = "Thought:\nStimulus: I want something light tonight.\nEvaluation: This one fits my mood.";
    out.push_back(s);
  }
  return out;
}

// A pref file (reference doc §8.7 fields) with chosen = labelled letter, rejected = another letter.
std::filesystem::path write_pref_file(const std::vector<Scene>& sc, const std::string& tag) {
  auto path = um::testing::temp_dir("train-data-" + tag) / "demo_pref.jsonl";
  std::ofstream out(path);
  for (size_t i = 0; i < sc.size(); ++i) {
    const char wrong = sc[i].label == 'A' ? 'B' : 'A';
    ordered_json j;
    j["dataset"] = "ml-1m";
    j["user_id"] = std::to_string(i);
    j["item_id"] = std::to_string(100 + i);
    j["timestamp"] = 978300760000 + static_cast<int64_t>(i);
    auto chosen = sc[i].prompt, rejected = sc[i].prompt;
    chosen.push_back(msg("assistant", sc[i].rationale + "\nBehavior: [" + std::string(1, sc[i].label) + "]"));
    rejected.push_back(msg("assistant", sc[i].rationale + "\nBehavior: [" + std::string(1, wrong) + "]"));
    j["messages_chosen"] = chosen;
    j["messages_rejected"] = rejected;
    j["behavior_chosen"] = std::string(1, sc[i].label);
    j["behavior_rejected"] = std::string(1, wrong);
    out << j.dump() << "\n";
  }
  return path;
}

std::string chat_template(const std::filesystem::path& dir) {
  auto cfg = ordered_json::parse(util::read_file(dir / "tokenizer_config.json"));
  return cfg["chat_template"].get<std::string>();
}

TEST(Data, TargetsAreTheAssistantTurn) {
  UM_REQUIRE_SHARED(tok_dir, "tokenizers/qwen3");
  auto sc = scenes(3, 1);
  auto file = write_pref_file(sc, "targets");
  DataSummary sum;
  auto data = load_pref_data(file, tok_dir, 8192, &sum);
  ASSERT_EQ(data.size(), 3u);
  EXPECT_EQ(sum.examples, 3);
  EXPECT_EQ(sum.truncated, 0);
  auto tok = text::Tokenizer::load(tok_dir);
  for (size_t i = 0; i < data.size(); ++i) {
    const auto& e = data[i].chosen;
    std::vector<int32_t> prompt, target;
    for (size_t t = 0; t < e.ids.size(); ++t) (e.target[t] ? target : prompt).push_back(e.ids[t]);
    EXPECT_TRUE(tok.decode(prompt).ends_with("<|im_end|>\n<|im_start|>assistant\n")) << tok.decode(prompt);
    EXPECT_EQ(tok.decode(target), "<think>\n\n</think>\n\n" + sc[i].rationale + "\nBehavior: [" +
                                      std::string(1, sc[i].label) + "]<|im_end|>\n");
    // Chosen and rejected share the prompt tokens.
    EXPECT_EQ(
        std::vector<int32_t>(data[i].rejected.ids.begin(), data[i].rejected.ids.begin() + prompt.size()),
        prompt);
  }
  // SFT from the same file reads messages_chosen; max_seq_len truncation is counted.
  auto sft = load_sft_data(file, tok_dir, "", static_cast<int64_t>(data[0].chosen.ids.size()) - 3, &sum);
  EXPECT_EQ(sft.size(), 3u);
  EXPECT_GE(sum.truncated, 1);
}

TEST(Data, BadRecordsNameFileLineAndField) {
  UM_REQUIRE_SHARED(tok_dir, "tokenizers/qwen3");
  auto path = um::testing::temp_dir("train-data-bad") / "bad.jsonl";
  std::ofstream(path)
      << "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", "
         "\"content\": \"yo\"}]}\n{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}\n";
  try {
    load_sft_data(path, tok_dir, "", 8192, nullptr);
    FAIL() << "expected an error";
  } catch (const util::Error& e) {
    EXPECT_EQ(e.where().line, 2);
    EXPECT_EQ(e.where().field, "messages");
  }
}

// Mean probability of the labelled letter after "...Behavior: [" under the engine; `mean_dist` gets
// the mean distribution over A, B, C.
double mean_label_prob(const std::filesystem::path& model_dir, const std::vector<Scene>& sc,
                       std::vector<double>& mean_dist) {
  mean_dist.assign(3, 0.0);
  auto tok = text::Tokenizer::load(model_dir);
  text::JinjaTemplate tmpl(chat_template(model_dir));
  auto letters = text::letter_token_ids(tok, 3);
  auto m = model::Model::load(model_dir, {.dtype = model::DType::F32, .threads = 1});
  model::Session s(m);
  double sum = 0;
  for (const auto& x : sc) {
    ordered_json vars;
    vars["messages"] = x.prompt;
    vars["add_generation_prompt"] = true;
    std::string prefix = tmpl.render(vars) + "<think>\n\n</think>\n\n" + x.rationale + "\nBehavior: [";
    auto sc_ = model::score_options(s, tok.encode(prefix, false), letters);
    sum += sc_.probs[static_cast<size_t>(x.label - 'A')];
    for (size_t k = 0; k < 3; ++k) mean_dist[k] += sc_.probs[k] / static_cast<double>(sc.size());
  }
  return sum / static_cast<double>(sc.size());
}

TEST(Sft, OptionDistributionMovesTowardTheLabels) {
  UM_REQUIRE_SHARED(tok_dir, "tokenizers/qwen3");
  auto dir = testing::tiny_train_model("qwen3", "sft-text", 0);  // full vocabulary
  auto sc = scenes(12, 7);
  auto file = write_pref_file(sc, "sft-text");
  auto o = testing::fast_options(dir, "sft-text");
  o.data_path = file;
  o.steps = 40;
  o.grad_accum = 1;
  o.batch_size = 2;
  o.lr = 1e-2;
  o.warmup_steps = 4;
  o.export_model = true;
  o.plot = true;
  std::vector<double> d0, d1;
  const double before = mean_label_prob(dir, sc, d0);
  auto r = run_sft(o);
  EXPECT_EQ(r.data.examples, 12);
  ASSERT_TRUE(r.finished);
  EXPECT_LT(r.steps.back().loss, 0.5 * r.steps.front().loss);
  const double after = mean_label_prob(r.model_out, sc, d1);
  // Labels are A 70 %, B 20 %, C 10 % and the scenes do not determine them, so the best a model can do
  // is the marginal (mean p(label) = 0.54): the distribution must move toward it.
  EXPECT_GT(after, before + 0.05) << "before " << before << " after " << after;
  EXPECT_GT(d1[0], d0[0] + 0.1) << "p(A) before " << d0[0] << " after " << d1[0];
  EXPECT_GT(d1[0], d1[1]);
  EXPECT_GT(d1[0], d1[2]);
  EXPECT_EQ(r.plot_note, "");  // python3-matplotlib is in scripts/install-deps
  EXPECT_TRUE(std::filesystem::exists(o.out_dir / "loss.png"));
}

}  // namespace
}  // namespace um::train
