// The `local:` backend on a tiny random Qwen3-architecture model with the real Qwen3 tokenizer and
// chat template (built only when the model and text components are).
#ifdef UM_BACKEND_EMBEDDED
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include "backend/backend.h"
#include "backend/simulation_requests.h"
#include "common/shared_data.h"
#include "model/init.h"
#include "model/model.h"
#include "text/chat_template.h"
#include "text/prompt.h"
#include "text/tokenizer.h"
#include "util/error.h"
#include "util/invalid_input.h"

namespace um::backend {
namespace {

std::filesystem::path tiny_qwen3(const std::filesystem::path& tokenizer_dir) {
  static std::filesystem::path dir;
  if (!dir.empty()) return dir;
  model::InitOptions o;
  o.arch = "qwen3";
  o.layers = 1;
  o.hidden = 32;
  o.heads = 2;
  o.kv_heads = 1;
  o.intermediate = 48;
  o.tie_embeddings = true;
  o.dtype = "f32";
  o.seed = 11;
  o.tokenizer_dir = tokenizer_dir;
  o.out_dir = um::testing::temp_dir("embedded-tiny");
  model::init_random_model(o);
  dir = o.out_dir;
  return dir;
}

TEST(EmbeddedBackend, OptionDistributionIsTheLetterSoftmaxOfAnIndependentForward) {
  UM_REQUIRE_SHARED(tok_dir, "tokenizers/qwen3");
  auto dir = tiny_qwen3(tok_dir);
  auto be = make_backend("local:" + dir.string() + "?dtype=f32");
  OptionRequest req{
      .key = "s/0",
      .messages = {{"system", "sys"}, {"user", "Pick one"}, {"assistant", "I like it.\nBehavior: ["}},
      .letters = {"A", "B", "C", "D", "E"}};
  OptionResult got = be->option_distribution_one(req);

  // Independent path: render + encode here, one uncached forward, softmax over the letter logits.
  auto tok = text::Tokenizer::load(dir);
  auto tpl = text::ChatTemplate::from_tokenizer_config(dir);
  std::string prompt = tpl.render(
      std::vector<text::ChatMessage>{
          {"system", "sys"}, {"user", "Pick one"}, {"assistant", "I like it.\nBehavior: ["}},
      {.continue_final_message = true});
  EXPECT_EQ(prompt.substr(prompt.size() - 11), "Behavior: [");
  auto ids = tok.encode(prompt, false);
  model::Logits l = model::logits_for_ids(dir, ids, false, model::DType::F32);
  auto letters = text::letter_token_ids(tok, 5);
  double mx = -1e300, z = 0;
  for (int32_t id : letters) mx = std::max(mx, static_cast<double>(l.row(0)[static_cast<size_t>(id)]));
  for (int32_t id : letters) z += std::exp(l.row(0)[static_cast<size_t>(id)] - mx);
  ASSERT_EQ(got.probs.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    double want = std::exp(l.row(0)[static_cast<size_t>(letters[i])] - mx) / z;
    EXPECT_NEAR(got.probs[i], want, 1e-5) << i;
  }
  EXPECT_EQ(got.missing_letters, 0);
}

// Pages shown to one user share the system prompt, profile and history: with the SharedPrefix hint
// the second page reuses the whole shared part (not just whole 128-token blocks) and its
// distribution is bit-identical to asking it alone on a fresh backend.
TEST(EmbeddedBackend, SharedPrefixHintReusesTheWholeSharedPartExactly) {
  UM_REQUIRE_SHARED(tok_dir, "tokenizers/qwen3");
  auto dir = tiny_qwen3(tok_dir);
  std::string history;
  for (int i = 0; i < 40; ++i) history += "Movie number " + std::to_string(i) + " (1995) - Drama; rated 4\n";
  auto page = [&](const std::string& a, const std::string& b) {
    text::SceneText scene{"Age: 25; Gender: female", {a, b}, history};
    OptionRequest r = direct_option_request("u/" + a, simulation_messages(scene, "You are a user."), 2);
    r.shared_prefix = scene_shared_prefix(scene);
    return r;
  };
  OptionRequest first = page("Heat (1995)", "Casino (1995)");
  OptionRequest second = page("Toy Story (1995)", "Jumanji (1995)");
  auto be = make_backend("local:" + dir.string() + "?dtype=f32");
  be->option_distribution_one(first);
  BackendStats before = be->stats();
  OptionResult warm = be->option_distribution_one(second);
  BackendStats after = be->stats();
  auto tok = text::Tokenizer::load(dir);
  auto tpl = text::ChatTemplate::from_tokenizer_config(dir);
  std::string rendered =
      tpl.render(text::scene_messages(text::SceneText{"Age: 25; Gender: female", {"x"}, history},
                                      "You are a user.", text::kBehaviorPrefix),
                 {.continue_final_message = true});
  const size_t head_chars = rendered.find("# Exposure List\n") + std::string("# Exposure List\n").size();
  const auto head_tokens = static_cast<int64_t>(tok.encode(rendered.substr(0, head_chars), false).size());
  ASSERT_GT(head_tokens, 200);  // longer than one block, not a block multiple
  EXPECT_EQ(after.option_prompt_tokens_cached - before.option_prompt_tokens_cached, head_tokens);

  auto fresh = make_backend("local:" + dir.string() + "?dtype=f32");
  OptionResult cold = fresh->option_distribution_one(second);
  ASSERT_EQ(cold.probs.size(), warm.probs.size());
  for (size_t i = 0; i < cold.probs.size(); ++i) EXPECT_EQ(cold.probs[i], warm.probs[i]) << i;
}

TEST(EmbeddedBackend, GenerationIsSeededAndCountsTokens) {
  UM_REQUIRE_SHARED(tok_dir, "tokenizers/qwen3");
  auto dir = tiny_qwen3(tok_dir);
  auto be = make_backend("local:" + dir.string() + "?dtype=f32&workers=2");
  GenerateRequest req{.key = "g", .messages = {{"system", "sys"}, {"user", "Tell me"}}};
  req.sampling.n = 3;
  req.sampling.max_tokens = 6;
  req.sampling.seed = 5;
  auto futures = be->generate({req, req});
  GenerateResult a = futures[0].get(), b = futures[1].get();
  ASSERT_EQ(a.samples.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(a.samples[i].text, b.samples[i].text);
  EXPECT_GT(a.prompt_tokens, 5);
  EXPECT_LE(a.completion_tokens, 18);
  EXPECT_GT(a.completion_tokens, 0);

  // One scored token with logprobs restricted to allowed ids (the /v1/completions scoring case).
  auto tok = text::Tokenizer::load(dir);
  auto letters = text::letter_token_ids(tok, 3);
  GenerateRequest one{.key = "o", .prompt = std::string("Behavior: [")};
  one.sampling.max_tokens = 1;
  one.top_logprobs = 3;
  one.allowed_token_ids = letters;
  GenerateResult r = be->generate_one(one);
  ASSERT_EQ(r.samples[0].logprobs.size(), 1u);
  ASSERT_EQ(r.samples[0].logprobs[0].top.size(), 3u);
  const std::string& t = r.samples[0].text;
  EXPECT_TRUE(t == "A" || t == "B" || t == "C") << t;
  // Any max_tokens: one logprob entry per generated token, every token an allowed letter.
  one.sampling.max_tokens = 3;
  one.sampling.seed = 4;
  r = be->generate_one(one);
  ASSERT_EQ(r.samples[0].logprobs.size(), static_cast<size_t>(r.completion_tokens));
  for (const auto& lp : r.samples[0].logprobs) {
    EXPECT_TRUE(lp.token == "A" || lp.token == "B" || lp.token == "C") << lp.token;
    EXPECT_LE(lp.logprob, 0.0);
    ASSERT_EQ(lp.top.size(), 3u);
    EXPECT_GE(lp.top[0].logprob, lp.top[1].logprob);
  }
}

// Streaming: the deltas of each sample concatenate to its text, arrive one token at a time, carry
// that token's logprobs, and end with the finish reason; the result equals the unstreamed one.
TEST(EmbeddedBackend, StreamedDeltasConcatenateToTheSamples) {
  UM_REQUIRE_SHARED(tok_dir, "tokenizers/qwen3");
  auto be = make_backend("local:" + tiny_qwen3(tok_dir).string() + "?dtype=f32");
  GenerateRequest req{.key = "s", .messages = {{"user", "Tell me something"}}};
  req.sampling.n = 2;
  req.sampling.max_tokens = 12;
  req.sampling.seed = 21;
  req.sampling.temperature = 1.0;
  req.top_logprobs = 2;
  GenerateResult plain = be->generate_one(req);
  std::vector<std::string> text(2), finish(2);
  std::vector<size_t> tokens(2, 0);
  int deltas = 0;
  req.on_delta = [&](const SampleDelta& d) {
    ASSERT_TRUE(d.sample == 0 || d.sample == 1);
    ASSERT_TRUE(finish[static_cast<size_t>(d.sample)].empty()) << "delta after the finish";
    text[static_cast<size_t>(d.sample)] += d.text;
    tokens[static_cast<size_t>(d.sample)] += d.logprobs.size();
    finish[static_cast<size_t>(d.sample)] = d.finish_reason;
    ++deltas;
  };
  GenerateResult streamed = be->generate_one(req);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(text[i], plain.samples[i].text);
    EXPECT_EQ(streamed.samples[i].text, plain.samples[i].text);
    EXPECT_EQ(finish[i], plain.samples[i].finish_reason);
    EXPECT_EQ(tokens[i], plain.samples[i].logprobs.size());
  }
  EXPECT_GT(deltas, 4);
}

// A cancelled request stops: the flag set from the first delta ends it with an error before the
// remaining tokens are generated.
TEST(EmbeddedBackend, CancelStopsTheRequest) {
  UM_REQUIRE_SHARED(tok_dir, "tokenizers/qwen3");
  auto be = make_backend("local:" + tiny_qwen3(tok_dir).string() + "?dtype=f32");
  GenerateRequest req{.key = "c", .messages = {{"user", "Go on"}}};
  req.sampling.max_tokens = 200;
  req.sampling.seed = 1;
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  req.cancel = cancel;
  int deltas = 0;
  req.on_delta = [&](const SampleDelta&) {
    ++deltas;
    cancel->store(true);
  };
  req.sampling.stop = {};
  EXPECT_THROW(be->generate_one(req), util::Error);
  EXPECT_EQ(deltas, 1);
}

// Continuous batching: seeded requests submitted together (decoded in shared steps, joining and
// leaving at different steps, one of them cancelled midway, an option request between steps) give
// exactly what each gives when it runs alone on a fresh backend: same text, finish reason, token
// counts and logprobs, for f32 and bf16 compute.
TEST(EmbeddedBackend, ConcurrentSeededRequestsEqualEachRunAlone) {
  UM_REQUIRE_SHARED(tok_dir, "tokenizers/qwen3");
  // Wider than tiny_qwen3: with hidden 32 and one layer, libtorch's f32 GEMM happened to give the same
  // bits at any row count, so batching f32 requests together would have gone unnoticed here.
  model::InitOptions o;
  o.arch = "qwen3";
  o.layers = 2;
  o.hidden = 64;
  o.heads = 4;
  o.kv_heads = 2;
  o.intermediate = 96;
  o.tie_embeddings = true;
  o.dtype = "f32";
  o.seed = 12;
  o.tokenizer_dir = tok_dir;
  o.out_dir = um::testing::temp_dir("embedded-batching");
  model::init_random_model(o);
  const std::string dir = o.out_dir.string();
  std::vector<GenerateRequest> reqs;
  for (int i = 0; i < 7; ++i) {
    GenerateRequest r{.key = "r" + std::to_string(i)};
    if (i % 3 == 2) {
      r.prompt = "Once upon a time " + std::to_string(i);
    } else {
      r.messages = {{"system", "You are user " + std::to_string(i)}, {"user", "Say something about films"}};
    }
    r.sampling.n = 1 + i % 3;
    r.sampling.max_tokens = 6 + 5 * i;
    r.sampling.seed = 100 + static_cast<uint64_t>(i);
    r.sampling.temperature = i == 0 ? 0.0 : 0.6 + 0.2 * i;
    r.sampling.top_p = i % 2 ? 0.9 : 1.0;
    r.sampling.top_k = i == 4 ? 40 : 0;
    if (i == 3) r.sampling.stop = {"e"};
    if (i % 2 == 0) r.top_logprobs = 2;
    reqs.push_back(std::move(r));
  }
  OptionRequest opt{.key = "opt",
                    .messages = {{"system", "sys"}, {"user", "Pick one"}, {"assistant", "Behavior: ["}},
                    .letters = {"A", "B", "C"}};
  for (const char* dtype : {"f32", "bf16"}) {
    SCOPED_TRACE(dtype);
    const std::string spec = "local:" + dir + "?dtype=" + dtype;
    std::vector<GenerateResult> alone;
    {
      auto be = make_backend(spec);
      for (const auto& r : reqs) alone.push_back(be->generate_one(r));
    }
    OptionResult opt_alone = make_backend(spec)->option_distribution_one(opt);

    auto be = make_backend(spec);
    std::vector<GenerateRequest> batch = reqs;
    // Which request each streamed delta belonged to, in order (shows that the requests interleaved).
    std::mutex mu;
    std::vector<int> order;
    std::atomic<bool> submitted{false};
    for (size_t i = 0; i < batch.size(); ++i) {
      batch[i].on_delta = [&, i](const SampleDelta&) {
        // The first request's first token waits until every request is queued, so they all join the
        // batch at the next step boundary, while it is running.
        while (i == 0 && !submitted.load()) std::this_thread::yield();
        std::lock_guard lock(mu);
        order.push_back(static_cast<int>(i));
      };
    }
    // One more request, cancelled after its third delta: it fails, the others are unaffected.
    GenerateRequest doomed{.key = "doomed", .messages = {{"user", "Keep talking"}}};
    doomed.sampling.max_tokens = 500;
    doomed.sampling.seed = 9;
    doomed.sampling.stop = {};
    auto flag = std::make_shared<std::atomic<bool>>(false);
    doomed.cancel = flag;
    int doomed_deltas = 0;
    doomed.on_delta = [&doomed_deltas, flag](const SampleDelta&) {
      if (++doomed_deltas == 3) flag->store(true);
    };
    batch.insert(batch.begin() + 1, doomed);
    std::vector<std::promise<GenerateResult>> promises(batch.size());
    std::vector<std::future<GenerateResult>> futures;
    for (auto& p : promises) futures.push_back(p.get_future());
    be->submit_generate(batch, [&](size_t i, GenerateResult&& r, std::exception_ptr e) {
      if (e) {
        promises[i].set_exception(e);
      } else {
        promises[i].set_value(std::move(r));
      }
    });
    auto opt_future = be->option_distribution({opt});
    submitted.store(true);
    EXPECT_THROW(futures[1].get(), util::Error);
    EXPECT_EQ(doomed_deltas, 3);
    OptionResult opt_batched = opt_future[0].get();
    EXPECT_EQ(opt_batched.probs, opt_alone.probs);
    for (size_t i = 0; i < reqs.size(); ++i) {
      SCOPED_TRACE(reqs[i].key);
      GenerateResult got = futures[i < 1 ? i : i + 1].get();
      const GenerateResult& want = alone[i];
      EXPECT_EQ(got.prompt_tokens, want.prompt_tokens);
      EXPECT_EQ(got.completion_tokens, want.completion_tokens);
      ASSERT_EQ(got.samples.size(), want.samples.size());
      for (size_t k = 0; k < want.samples.size(); ++k) {
        EXPECT_EQ(got.samples[k].text, want.samples[k].text) << k;
        EXPECT_EQ(got.samples[k].finish_reason, want.samples[k].finish_reason) << k;
        ASSERT_EQ(got.samples[k].logprobs.size(), want.samples[k].logprobs.size()) << k;
        for (size_t t = 0; t < want.samples[k].logprobs.size(); ++t) {
          EXPECT_EQ(got.samples[k].logprobs[t].token, want.samples[k].logprobs[t].token);
          EXPECT_EQ(got.samples[k].logprobs[t].logprob, want.samples[k].logprobs[t].logprob);
          ASSERT_EQ(got.samples[k].logprobs[t].top.size(), want.samples[k].logprobs[t].top.size());
          for (size_t j = 0; j < want.samples[k].logprobs[t].top.size(); ++j)
            EXPECT_EQ(got.samples[k].logprobs[t].top[j].logprob, want.samples[k].logprobs[t].top[j].logprob);
        }
      }
    }
    // The requests were decoded together: some request streamed a token between two of another's.
    size_t interleaved = 0;
    for (size_t j = 2; j < order.size(); ++j) {
      if (order[j] != order[j - 1] &&
          std::find(order.begin() + static_cast<std::ptrdiff_t>(j), order.end(), order[j - 1]) != order.end())
        ++interleaved;
    }
    EXPECT_GT(interleaved, 10u);
    // The requests that joined at one step boundary had their prompts prefilled in one forward where
    // that gives the same bits as alone (bf16 with the small-batch kernels), and never otherwise.
    const auto bf16 = model::Model::load(dir, {.dtype = model::DType::BF16});
    if (std::string(dtype) == "bf16" && model::independent_decode_rows(*bf16) > 1) {
      EXPECT_GE(be->stats().prompts_prefilled_together, 2);
    } else {
      EXPECT_EQ(be->stats().prompts_prefilled_together, 0);
    }
  }
}

// A padded vocabulary (config vocab_size above the tokenizer's ids, as in the real Qwen2.5 configs):
// the padding rows are never sampled and never listed, so no request fails decoding them.
TEST(EmbeddedBackend, PaddingRowsAreMaskedAndNeverFailARequest) {
  UM_REQUIRE_SHARED(tok_dir, "tokenizers/qwen3");
  const int64_t real = model::tokenizer_vocab_size(tok_dir / "tokenizer.json");
  model::InitOptions o;
  o.arch = "qwen3";
  o.layers = 1;
  o.hidden = 32;
  o.heads = 2;
  o.kv_heads = 1;
  o.intermediate = 48;
  o.tie_embeddings = true;
  o.dtype = "f32";
  o.seed = 5;
  o.vocab = real + 64;
  o.tokenizer_dir = tok_dir;
  o.out_dir = um::testing::temp_dir("embedded-padded");
  model::init_random_model(o);
  auto be = make_backend("local:" + o.out_dir.string() + "?dtype=f32");
  auto tok = text::Tokenizer::load(o.out_dir);
  const int32_t a = text::letter_token_ids(tok, 1)[0];
  // Half of the allowed ids are padding rows: without the mask they would be drawn (and the request
  // would fail decoding them); with it every token is the one real allowed id.
  GenerateRequest req{.key = "p", .prompt = std::string("Behavior: [")};
  std::vector<int32_t> padding;
  for (int64_t id = real; id < real + 64; ++id) padding.push_back(static_cast<int32_t>(id));
  req.allowed_token_ids = padding;
  req.allowed_token_ids.push_back(a);
  req.sampling.n = 4;
  req.sampling.max_tokens = 6;
  req.sampling.temperature = 1.5;
  req.sampling.seed = 3;
  req.sampling.stop = {};
  req.top_logprobs = 5;
  GenerateResult r = be->generate_one(req);
  for (const auto& smp : r.samples) {
    for (const auto& t : smp.logprobs) {
      EXPECT_EQ(t.token, "A");
      ASSERT_EQ(t.top.size(), 1u);  // only the decodable allowed id is listed
    }
  }
  req.sampling.max_tokens = 1;  // the one-token scoring path
  r = be->generate_one(req);
  for (const auto& smp : r.samples) EXPECT_EQ(smp.text, "A");
  // Unrestricted sampling at a high temperature never yields a padding id either.
  GenerateRequest free{.key = "f", .prompt = std::string("Hello")};
  free.sampling.n = 8;
  free.sampling.max_tokens = 16;
  free.sampling.temperature = 3.0;
  free.sampling.seed = 8;
  free.top_logprobs = 20;
  r = be->generate_one(free);
  for (const auto& smp : r.samples) {
    for (const auto& t : smp.logprobs)
      for (const auto& alt : t.top) EXPECT_FALSE(alt.token.empty());
  }
}

// Token ids a request gives that are not rows of the model (prompt token ids, allowed_token_ids,
// letter_token_ids) are the caller's mistake: util::InvalidInput naming the id, with the request's
// field (serve answers it 400, not 502). A bad member of an option page group fails alone: the
// others get what the group without it gets.
TEST(EmbeddedBackend, OutOfVocabularyRequestIdsAreInvalidInput) {
  UM_REQUIRE_SHARED(tok_dir, "tokenizers/qwen3");
  auto dir = tiny_qwen3(tok_dir);
  const int64_t vocab = model::tokenizer_vocab_size(tok_dir / "tokenizer.json");  // no padding rows
  const std::string spec = "local:" + dir.string() + "?dtype=f32";
  auto be = make_backend(spec);
  auto expect_invalid = [](const std::function<void()>& call, int32_t id, const std::string& field) {
    try {
      call();
      ADD_FAILURE() << field << ": accepted token id " << id;
    } catch (const util::InvalidInput& e) {
      EXPECT_EQ(e.where().field, field) << e.what();
      EXPECT_NE(std::string(e.what()).find("token id " + std::to_string(id) + " "), std::string::npos)
          << e.what();
    }
  };
  for (int64_t bad : {int64_t{-1}, vocab, int64_t{999999999}}) {
    const auto b = static_cast<int32_t>(bad);
    GenerateRequest g{.key = "g", .prompt_tokens = {1, b}};
    g.sampling.max_tokens = 2;
    expect_invalid([&] { be->generate_one(g); }, b, "prompt");
    GenerateRequest a{.key = "a", .prompt = std::string("hi")};
    a.allowed_token_ids = {5, b};
    a.sampling.max_tokens = 2;
    expect_invalid([&] { be->generate_one(a); }, b, "allowed_token_ids");
    a.sampling.max_tokens = 1;  // the one-token scoring path
    a.top_logprobs = 2;
    expect_invalid([&] { be->generate_one(a); }, b, "allowed_token_ids");
    OptionRequest o{.key = "o",
                    .messages = {{"user", "x"}, {"assistant", "Behavior: ["}},
                    .letters = {"A", "B"},
                    .letter_token_ids = {32, b}};
    expect_invalid([&] { be->option_distribution_one(o); }, b, "letter_token_ids");
  }

  std::string history;
  for (int i = 0; i < 20; ++i) history += "Movie number " + std::to_string(i) + " (1995) - Drama; rated 4\n";
  std::vector<OptionRequest> pages;
  for (const char* a : {"Heat (1995)", "Toy Story (1995)", "Casino (1995)"}) {
    text::SceneText scene{"Age: 25; Gender: female", {a, "Fargo (1996)"}, history};
    OptionRequest r =
        direct_option_request(std::string("u/") + a, simulation_messages(scene, "You are a user."), 2);
    r.shared_prefix = scene_shared_prefix(scene);
    pages.push_back(std::move(r));
  }
  std::vector<OptionResult> want;
  {
    auto fresh = make_backend(spec);
    for (auto& f : fresh->option_distribution({pages[0], pages[2]})) want.push_back(f.get());
  }
  std::vector<OptionRequest> with_bad = pages;
  with_bad[1].letter_token_ids = {32, static_cast<int32_t>(vocab)};
  auto fresh = make_backend(spec);
  auto futures = fresh->option_distribution(with_bad);
  EXPECT_EQ(futures[0].get().probs, want[0].probs);
  expect_invalid([&] { futures[1].get(); }, static_cast<int32_t>(vocab), "letter_token_ids");
  EXPECT_EQ(futures[2].get().probs, want[1].probs);
}

// Option requests honour OptionRequest::cancel. In a page group (one SharedPrefix key, computed as
// one model::score_option_group), cancelled members are answered "cancelled" and the others' results
// are bit-identical to the uncancelled group on a fresh backend; a group whose members are all
// cancelled computes nothing.
TEST(EmbeddedBackend, CancelledOptionRequestsStopAndLeaveTheirGroupUnchanged) {
  UM_REQUIRE_SHARED(tok_dir, "tokenizers/qwen3");
  // Wider than tiny_qwen3, whose f32 GEMM rows happen not to depend on the batch: here dropping the
  // cancelled rows from a block step would change the others' bits.
  model::InitOptions o;
  o.arch = "qwen3";
  o.layers = 2;
  o.hidden = 64;
  o.heads = 4;
  o.kv_heads = 2;
  o.intermediate = 96;
  o.tie_embeddings = true;
  o.dtype = "f32";
  o.seed = 13;
  o.tokenizer_dir = tok_dir;
  o.out_dir = um::testing::temp_dir("embedded-option-cancel");
  model::init_random_model(o);
  const std::filesystem::path dir = o.out_dir;
  std::string history;
  for (int i = 0; i < 40; ++i) history += "Movie number " + std::to_string(i) + " (1995) - Drama; rated 4\n";
  std::vector<OptionRequest> pages;
  for (const char* a : {"Heat (1995)", "Toy Story (1995)", "Casino (1995)", "Jumanji (1995)"}) {
    text::SceneText scene{"Age: 25; Gender: female", {a, "Fargo (1996)"}, history};
    OptionRequest r =
        direct_option_request(std::string("u/") + a, simulation_messages(scene, "You are a user."), 2);
    r.shared_prefix = scene_shared_prefix(scene);
    pages.push_back(std::move(r));
  }
  ASSERT_EQ(shared_prefix_key(pages[0]), shared_prefix_key(pages[3]));  // one group
  const std::string spec = "local:" + dir.string() + "?dtype=f32";
  std::vector<OptionResult> want;
  {
    auto uncancelled = make_backend(spec);
    for (auto& f : uncancelled->option_distribution(pages)) want.push_back(f.get());
  }

  auto gone = std::make_shared<std::atomic<bool>>(true);
  std::vector<OptionRequest> some = pages;
  some[1].cancel = gone;
  some[3].cancel = gone;
  some[0].cancel = std::make_shared<std::atomic<bool>>(false);  // a flag that stays false
  auto be = make_backend(spec);
  auto futures = be->option_distribution(some);
  for (size_t i = 0; i < some.size(); ++i) {
    if (i == 1 || i == 3) {
      try {
        futures[i].get();
        ADD_FAILURE() << "cancelled request " << i << " answered";
      } catch (const util::Error& e) {
        EXPECT_NE(std::string(e.what()).find("cancelled"), std::string::npos) << e.what();
      }
    } else {
      EXPECT_EQ(futures[i].get().probs, want[i].probs) << i;
    }
  }

  // Every member cancelled: no prompt token goes through the model.
  std::vector<OptionRequest> all = pages;
  for (auto& r : all) r.cancel = gone;
  auto fresh = make_backend(spec);
  const BackendStats before = fresh->stats();
  for (auto& f : fresh->option_distribution(all)) EXPECT_THROW(f.get(), util::Error);
  const BackendStats after = fresh->stats();
  EXPECT_EQ(after.option_prompt_tokens - after.option_prompt_tokens_cached,
            before.option_prompt_tokens - before.option_prompt_tokens_cached);
  EXPECT_EQ(after.failed - before.failed, 4);
}

TEST(EmbeddedBackend, SpecErrors) {
  EXPECT_THROW(make_backend("local:/nonexistent/model"), util::Error);
  EXPECT_THROW(make_backend("local:/a,/b"), util::Error);
  EXPECT_THROW(make_backend("local:/a?workers=0"), util::Error);
}

}  // namespace
}  // namespace um::backend
#endif  // UM_BACKEND_EMBEDDED
