#include "backend/embedded/embedded_backend.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <random>
#include <thread>

#include "model/generate.h"
#include "model/model.h"
#include "model/sampling.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"
#include "util/error.h"
#include "util/rng.h"

namespace um::backend {
namespace {

constexpr size_t kStopWindowTokens = 64;

std::vector<text::ChatMessage> chat_messages(const std::vector<Message>& messages) {
  std::vector<text::ChatMessage> out;
  out.reserve(messages.size());
  for (const auto& m : messages) out.push_back({m.role, m.content});
  return out;
}

// First occurrence of any stop string in `text`, or npos.
size_t find_stop(const std::string& text, const std::vector<std::string>& stops) {
  size_t best = std::string::npos;
  for (const auto& s : stops) best = std::min(best, text.find(s));
  return best;
}

class EmbeddedBackend final : public Backend {
 public:
  EmbeddedBackend(const std::filesystem::path& dir, model::LoadOptions load, int workers, size_t prefix_cache)
      : name_(dir.filename().string()),
        model_(model::Model::load(dir, load)),
        tok_(text::Tokenizer::load(dir)),
        template_(text::ChatTemplate::from_tokenizer_config(dir)) {
    build_decodable_mask();
    warn_if_letters_differ_in_context();
    for (int w = 0; w < workers; ++w) {
      threads_.emplace_back([this, prefix_cache] {
        model::Session session(model_, prefix_cache);
        work(session);
      });
    }
  }

  ~EmbeddedBackend() override {
    std::deque<std::function<void(model::Session*)>> orphans;
    {
      std::lock_guard lock(mu_);
      stop_ = true;
      orphans.swap(queue_);
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    for (auto& job : orphans) job(nullptr);  // nullptr session: fail with "shut down"
  }

  std::string model_name() const override { return name_; }

  void submit_generate(std::vector<GenerateRequest> requests, GenerateCallback done) override {
    auto shared = std::make_shared<std::vector<GenerateRequest>>(std::move(requests));
    auto cb = std::make_shared<GenerateCallback>(std::move(done));
    for (size_t i = 0; i < shared->size(); ++i) {
      enqueue([this, shared, cb, i](model::Session* s) {
        const GenerateRequest& req = (*shared)[i];
        try {
          if (!s) throw util::Error("embedded backend shut down before the request ran", {.record = req.key});
          GenerateResult r = run_generate(*s, req);
          finish(false);
          (*cb)(i, std::move(r), nullptr);
        } catch (...) {
          finish(true);
          (*cb)(i, GenerateResult{}, std::current_exception());
        }
      });
    }
  }

  void submit_options(std::vector<OptionRequest> requests, OptionCallback done) override {
    auto shared = std::make_shared<std::vector<OptionRequest>>(std::move(requests));
    auto cb = std::make_shared<OptionCallback>(std::move(done));
    for (size_t i = 0; i < shared->size(); ++i) {
      enqueue([this, shared, cb, i](model::Session* s) {
        const OptionRequest& req = (*shared)[i];
        try {
          if (!s) throw util::Error("embedded backend shut down before the request ran", {.record = req.key});
          OptionResult r = run_options(*s, req);
          finish(false);
          (*cb)(i, std::move(r), nullptr);
        } catch (...) {
          finish(true);
          (*cb)(i, OptionResult{}, std::current_exception());
        }
      });
    }
  }

  BackendStats stats() const override {
    BackendStats st{requests_.load(), failed_.load(), requests_.load(), 0, 0};
    st.option_prompt_tokens = option_tokens_.load();
    st.option_prompt_tokens_cached = option_tokens_.load() - option_computed_.load();
    return st;
  }

 private:
  // Scoring uses the reference's letter ids (first token of the bare letter). They are the tokens a
  // model emits after "Behavior: [" only when the tokenizer keeps the letter a token of its own
  // there (true for Qwen2/2.5/3 and Llama-3.x); say so loudly when a tokenizer does otherwise.
  void warn_if_letters_differ_in_context() const {
    std::vector<int32_t> bare = text::letter_token_ids(tok_, 26);
    std::vector<int32_t> ctx = text::letter_token_ids_in_context(tok_, 26);
    std::string differ;
    for (size_t i = 0; i < bare.size(); ++i)
      if (ctx[i] != bare[i]) differ += static_cast<char>('A' + i);
    if (!differ.empty())
      std::fprintf(stderr,
                   "warning: %s: letters %s tokenize differently after \"Behavior: [\" than alone; option "
                   "probabilities use the bare-letter ids as the reference does\n",
                   name_.c_str(), differ.c_str());
  }

  // Ids the tokenizer can decode. Real configs pad the embedding (Qwen2.5: vocab_size 151,936 for
  // a 151,665-id tokenizer); the padding rows, and any id without a token, are masked before
  // sampling, so a generated id always decodes.
  void build_decodable_mask() {
    const size_t rows = static_cast<size_t>(model_->config().vocab_size);
    decodable_.assign(rows, 0);
    size_t usable = 0;
    for (size_t i = 0; i < rows; ++i) {
      if (tok_.id_to_token(static_cast<int32_t>(i)).has_value()) {
        decodable_[i] = 1;
        ++usable;
      }
    }
    if (usable == rows) decodable_.clear();  // nothing to mask: sample from the whole row
  }
  bool can_decode(int32_t id) const {
    if (id < 0) return false;
    if (decodable_.empty()) return static_cast<int64_t>(id) < model_->config().vocab_size;
    return static_cast<size_t>(id) < decodable_.size() && decodable_[static_cast<size_t>(id)] != 0;
  }
  // Decoding never fails a request: ids without a token (client-given or padding) are skipped.
  std::string decode(std::span<const int32_t> ids, bool skip_special) const {
    bool all = true;
    for (int32_t id : ids) all = all && can_decode(id);
    if (all) return tok_.decode(ids, skip_special);
    std::vector<int32_t> ok;
    for (int32_t id : ids)
      if (can_decode(id)) ok.push_back(id);
    return tok_.decode(ok, skip_special);
  }
  std::string token_text(int32_t id) const {
    int32_t one[1] = {id};
    return decode(one, /*skip_special=*/false);
  }
  backend::TokenLogprob token_logprob(const model::TokenLogprobs& t) const {
    TokenLogprob out{token_text(t.id), t.logprob, {}};
    for (const auto& [id, lp] : t.top) out.top.push_back({token_text(id), lp});
    return out;
  }

  void enqueue(std::function<void(model::Session*)> job) {
    {
      std::lock_guard lock(mu_);
      if (!stop_) {
        queue_.push_back(std::move(job));
        cv_.notify_one();
        return;
      }
    }
    job(nullptr);
  }

  void work(model::Session& session) {
    while (true) {
      std::function<void(model::Session*)> job;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (stop_) return;
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      job(&session);
    }
  }

  void finish(bool failed) {
    requests_.fetch_add(1);
    if (failed) failed_.fetch_add(1);
  }

  // A prompt's token ids and its shared-prefix split (Session::prefill_cached; 0 = none).
  struct Encoded {
    std::vector<int32_t> ids;
    size_t split = 0;
  };

  // Messages rendered with the chat template and encoded without special tokens. With a
  // SharedPrefix hint, the split is the number of leading tokens that the rendered text up to the
  // hinted point encodes to on its own and that the whole prompt begins with: a function of this
  // request alone, so results never depend on which requests came before. A template that does not
  // copy the message content verbatim gives no split (only block-aligned reuse).
  Encoded encode_messages(const std::vector<Message>& messages, const text::ChatRenderOptions& o,
                          const std::optional<SharedPrefix>& hint) const {
    Encoded e;
    const std::string text = template_.render(chat_messages(messages), o);
    e.ids = tok_.encode(text, /*add_special_tokens=*/false);
    if (!hint || hint->message >= messages.size() || hint->chars == 0) return e;
    const std::string& content = messages[hint->message].content;
    if (hint->chars > content.size()) return e;
    const size_t at = text.find(content);
    if (at == std::string::npos) return e;
    const std::vector<int32_t> head =
        tok_.encode(text.substr(0, at + hint->chars), /*add_special_tokens=*/false);
    const size_t lim = std::min(head.size(), e.ids.size());
    size_t n = 0;
    while (n < lim && head[n] == e.ids[n]) ++n;
    e.split = n;
    return e;
  }

  Encoded prompt_ids(const GenerateRequest& req) const {
    if (!req.prompt_tokens.empty()) return {req.prompt_tokens, 0};
    if (req.prompt) return {tok_.encode(*req.prompt, /*add_special_tokens=*/true), 0};
    if (req.messages.empty())
      throw util::Error("generate request has no messages or prompt", {.record = req.key});
    text::ChatRenderOptions o;
    o.continue_final_message = req.continue_final_message;
    o.add_generation_prompt = !req.continue_final_message;
    return encode_messages(req.messages, o, req.shared_prefix);
  }

  GenerateResult run_generate(model::Session& s, const GenerateRequest& req) {
    Encoded enc = prompt_ids(req);
    std::vector<int32_t> prompt = std::move(enc.ids);
    if (prompt.empty()) throw util::Error("empty prompt", {.record = req.key});
    const SamplingParams& sp = req.sampling;
    model::SamplingParams msp{sp.temperature, sp.top_k, sp.top_p, sp.min_p};
    const uint64_t seed = sp.seed ? *sp.seed : std::random_device{}();
    if (req.cancel && req.cancel->load()) throw util::Error("generation cancelled", {.record = req.key});
    // The scoring case (one token, no streaming) keeps its single-prefill path.
    if ((req.top_logprobs >= 0 || !req.allowed_token_ids.empty()) && sp.max_tokens == 1 && !req.on_delta) {
      return one_token(s, prompt, enc.split, req, msp, seed);
    }
    std::vector<uint8_t> allowed;  // allowed_token_ids ∩ decodable ids
    if (!req.allowed_token_ids.empty()) {
      allowed.assign(static_cast<size_t>(model_->config().vocab_size), 0);
      for (int32_t id : req.allowed_token_ids) {
        if (id < 0 || static_cast<size_t>(id) >= allowed.size()) {
          throw util::Error("allowed token id " + std::to_string(id) + " is outside the vocabulary",
                            {.field = "allowed_token_ids", .record = req.key});
        }
        allowed[static_cast<size_t>(id)] = can_decode(id) ? 1 : 0;
      }
    }
    model::GenerateOptions go;
    go.n = sp.n;
    go.max_tokens = sp.max_tokens;
    go.sampling = msp;
    go.seed = seed;
    go.allowed = allowed.empty() ? model::TokenMask(decodable_) : model::TokenMask(allowed);
    go.top_logprobs = req.top_logprobs;
    go.cancel = req.cancel.get();
    go.prompt_split = enc.split;
    if (!sp.stop.empty()) {
      go.stop_check = [&](size_t, const std::vector<int32_t>& toks) -> int64_t {
        size_t from = toks.size() > kStopWindowTokens ? toks.size() - kStopWindowTokens : 0;
        std::string tail = decode(std::span<const int32_t>(toks).subspan(from), /*skip_special=*/true);
        return find_stop(tail, sp.stop) == std::string::npos ? -1 : static_cast<int64_t>(toks.size());
      };
    }
    // Streaming: per sample, how much text and how many tokens' logprobs were already sent.
    struct Sent {
      size_t bytes = 0, tokens = 0;
    };
    std::vector<Sent> sent(static_cast<size_t>(std::max(sp.n, 0)));
    if (req.on_delta) {
      go.on_token = [&](size_t i, const model::Completion& c) {
        SampleDelta d;
        d.sample = static_cast<int>(i);
        std::string text = decode(c.tokens, /*skip_special=*/true);
        size_t ready = text.size();
        if (!c.finish_reason.empty()) {
          Sample last = finished_sample(c, sp.stop);
          text = std::move(last.text);
          ready = text.size();
          d.finish_reason = last.finish_reason;
        } else {
          ready = stable_prefix(text, sp.stop);
        }
        if (ready > sent[i].bytes) {
          d.text = text.substr(sent[i].bytes, ready - sent[i].bytes);
          sent[i].bytes = ready;
        }
        if (req.top_logprobs >= 0 && (!d.text.empty() || !d.finish_reason.empty())) {
          for (size_t t = sent[i].tokens; t < c.logprobs.size(); ++t)
            d.logprobs.push_back(token_logprob(c.logprobs[t]));
          sent[i].tokens = c.logprobs.size();
        }
        if (!d.text.empty() || !d.logprobs.empty() || !d.finish_reason.empty()) req.on_delta(d);
      };
    }
    std::vector<model::Completion> outs = model::generate(s, prompt, go);
    GenerateResult r;
    r.prompt_tokens = static_cast<int64_t>(prompt.size());
    for (auto& c : outs) {
      Sample smp = finished_sample(c, sp.stop);
      if (req.top_logprobs >= 0) {
        for (const auto& t : c.logprobs) smp.logprobs.push_back(token_logprob(t));
      }
      r.completion_tokens += static_cast<int64_t>(c.tokens.size());
      r.samples.push_back(std::move(smp));
    }
    return r;
  }

  // A finished completion's text: decoded without special tokens, cut before the first stop string.
  Sample finished_sample(const model::Completion& c, const std::vector<std::string>& stops) const {
    Sample smp;
    smp.text = decode(c.tokens, /*skip_special=*/true);
    smp.finish_reason = c.finish_reason;
    if (size_t pos = find_stop(smp.text, stops); pos != std::string::npos) {
      smp.text.resize(pos);
      smp.finish_reason = "stop";
    }
    return smp;
  }

  // How much of a running sample's text can be sent: not a trailing incomplete UTF-8 character
  // (decoded as U+FFFD until its last byte arrives) and not a tail that could still grow into a
  // stop string.
  static size_t stable_prefix(const std::string& text, const std::vector<std::string>& stops) {
    size_t end = text.size();
    static const std::string kReplacement = "\xEF\xBF\xBD";
    while (end >= kReplacement.size() &&
           text.compare(end - kReplacement.size(), kReplacement.size(), kReplacement) == 0)
      end -= kReplacement.size();
    size_t hold = 0;
    for (const auto& stop : stops) {
      for (size_t len = std::min(stop.size() - (stop.empty() ? 0 : 1), end); len > hold; --len) {
        if (text.compare(end - len, len, stop, 0, len) == 0) {
          hold = len;
          break;
        }
      }
    }
    return end - hold;
  }

  // One generated token per sample with its logprob and the top alternatives (the scoring case).
  GenerateResult one_token(model::Session& s, const std::vector<int32_t>& prompt, size_t split,
                           const GenerateRequest& req, const model::SamplingParams& msp, uint64_t seed) {
    model::Logits last;
    model::SeqId seq = s.prefill_cached(prompt, &last, split);
    s.release(seq);
    std::span<const float> row = last.row(0);
    std::vector<float> lp = model::log_softmax(row);
    std::vector<float> masked(row.begin(), row.end());
    std::vector<int32_t> candidates;
    if (!req.allowed_token_ids.empty()) {
      std::fill(masked.begin(), masked.end(), -INFINITY);
      for (int32_t id : req.allowed_token_ids) {
        if (id < 0 || static_cast<size_t>(id) >= row.size()) {
          throw util::Error("allowed token id " + std::to_string(id) + " is outside the vocabulary",
                            {.field = "allowed_token_ids", .record = req.key});
        }
        if (!can_decode(id)) continue;  // a padding row or an id without a token: never drawn or listed
        masked[static_cast<size_t>(id)] = row[static_cast<size_t>(id)];
        candidates.push_back(id);
      }
    } else {
      candidates.reserve(row.size());
      for (size_t i = 0; i < row.size(); ++i) {
        if (can_decode(static_cast<int32_t>(i))) {
          candidates.push_back(static_cast<int32_t>(i));
        } else {
          masked[i] = -INFINITY;  // padding rows and ids without a token are never drawn
        }
      }
    }
    std::vector<uint8_t> candidate_mask(row.size(), 0);
    for (int32_t id : candidates) candidate_mask[static_cast<size_t>(id)] = 1;
    const size_t k = std::min(candidates.size(), static_cast<size_t>(std::max(req.top_logprobs, 0)));
    std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(k),
                      candidates.end(), [&](int32_t a, int32_t b) {
                        return lp[static_cast<size_t>(a)] > lp[static_cast<size_t>(b)] ||
                               (lp[static_cast<size_t>(a)] == lp[static_cast<size_t>(b)] && a < b);
                      });
    GenerateResult r;
    r.prompt_tokens = static_cast<int64_t>(prompt.size());
    for (int i = 0; i < req.sampling.n; ++i) {
      util::Rng rng = util::Rng::stream(seed, "generate", static_cast<uint64_t>(i));
      int32_t id = model::sample(masked, msp, rng, candidate_mask);
      Sample smp;
      smp.text = token_text(id);
      smp.finish_reason = "length";
      if (req.top_logprobs >= 0) {
        TokenLogprob t{smp.text, lp[static_cast<size_t>(id)], {}};
        for (size_t j = 0; j < k; ++j) {
          t.top.push_back({token_text(candidates[j]), lp[static_cast<size_t>(candidates[j])]});
        }
        smp.logprobs.push_back(std::move(t));
      }
      r.samples.push_back(std::move(smp));
      r.completion_tokens += 1;
    }
    return r;
  }

  OptionResult run_options(model::Session& s, const OptionRequest& req) {
    std::vector<int32_t> ids;
    size_t split = 0;
    if (req.prompt) {
      ids = tok_.encode(*req.prompt, /*add_special_tokens=*/true);
    } else {
      if (req.messages.empty() || req.messages.back().role != "assistant") {
        throw util::Error("option request needs messages ending in the open assistant prefix",
                          {.record = req.key});
      }
      text::ChatRenderOptions o;
      o.continue_final_message = true;
      Encoded enc = encode_messages(req.messages, o, req.shared_prefix);
      ids = std::move(enc.ids);
      split = enc.split;
    }
    std::vector<int32_t> letters = req.letter_token_ids;
    if (letters.empty()) {
      for (const auto& l : req.letters) {
        std::vector<int32_t> enc = tok_.encode(l, /*add_special_tokens=*/false);
        if (enc.empty())
          throw util::Error("option letter '" + l + "' encodes to no token", {.record = req.key});
        letters.push_back(enc[0]);
      }
    }
    if (letters.size() != req.letters.size()) {
      throw util::Error("letter_token_ids must have one id per letter", {.record = req.key});
    }
    const size_t computed_before = s.tokens_computed();
    model::OptionScores sc = model::score_options(s, ids, letters, /*full_logprobs=*/false, split);
    option_tokens_ += static_cast<int64_t>(ids.size());
    option_computed_ += static_cast<int64_t>(s.tokens_computed() - computed_before);
    OptionResult r;
    r.probs = sc.probs;
    r.raw_logprobs.reserve(sc.probs.size());
    for (double p : sc.probs) r.raw_logprobs.push_back(std::log(p));  // letter-restricted log-softmax
    return r;
  }

  std::string name_;
  std::shared_ptr<const model::Model> model_;
  std::vector<uint8_t> decodable_;  // empty = every id of the model's rows decodes
  text::Tokenizer tok_;
  text::ChatTemplate template_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void(model::Session*)>> queue_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
  std::atomic<int64_t> requests_{0}, failed_{0};
  std::atomic<int64_t> option_tokens_{0}, option_computed_{0};
};

}  // namespace

std::unique_ptr<Backend> make_embedded_backend(const BackendSpec& spec) {
  SpecOptions opts(spec);
  if (spec.targets.size() != 1) {
    throw util::Error("backend spec '" + spec.text + "': local: takes exactly one model directory",
                      {.field = "backend"});
  }
  model::LoadOptions load;
  load.dtype = model::parse_dtype(opts.str("dtype", "bf16"));
  load.threads = static_cast<int>(opts.integer("threads", 0, 0, 1024));
  int workers = static_cast<int>(opts.integer("workers", 1, 1, 64));
  size_t prefix_cache = static_cast<size_t>(opts.integer("prefix_cache", 8, 0, 4096));
  opts.reject_unknown();
  return std::make_unique<EmbeddedBackend>(spec.targets[0], load, workers, prefix_cache);
}

}  // namespace um::backend
