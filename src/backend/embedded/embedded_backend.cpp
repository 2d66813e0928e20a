#include "backend/embedded/embedded_backend.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <random>
#include <span>
#include <thread>

#include "backend/simulation_requests.h"
#include "model/generate.h"
#include "model/model.h"
#include "model/sampling.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"
#include "util/error.h"
#include "util/invalid_input.h"
#include "util/rng.h"
#include "util/thread_pool.h"

namespace um::backend {
namespace {

constexpr size_t kStopWindowTokens = 64;
// Most option requests scored as one group (the pages of one user; bounds the batched forward).
constexpr size_t kMaxOptionGroup = 32;

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
    shared_steps_ = model::independent_decode_rows(*model_) >= kMaxStepRows;
    draw_threads_ = static_cast<unsigned>(std::max(load.threads, 0));
    for (int w = 0; w < workers; ++w) {
      threads_.emplace_back([this, prefix_cache] {
        Worker worker{model::Session(model_, prefix_cache), {}};
        work(worker);
      });
    }
  }

  ~EmbeddedBackend() override {
    std::deque<Job> orphans;
    {
      std::lock_guard lock(mu_);
      stop_ = true;
      orphans.swap(queue_);
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    for (auto& job : orphans) job.run(nullptr);  // nullptr worker: fail with "shut down"
  }

  std::string model_name() const override { return name_; }

  void submit_generate(std::vector<GenerateRequest> requests, GenerateCallback done) override {
    auto shared = std::make_shared<std::vector<GenerateRequest>>(std::move(requests));
    auto cb = std::make_shared<GenerateCallback>(std::move(done));
    for (size_t i = 0; i < shared->size(); ++i) {
      const size_t rows = static_cast<size_t>(std::max((*shared)[i].sampling.n, 1));
      enqueue({rows, [this, shared, cb, i](Worker* w) {
                 const GenerateRequest& req = (*shared)[i];
                 auto reply = [this, shared, cb, i](GenerateResult r, std::exception_ptr e) {
                   finish(e != nullptr);
                   (*cb)(i, std::move(r), e);
                 };
                 try {
                   if (!w)
                     throw util::Error("embedded backend shut down before the request ran",
                                       {.record = req.key});
                   join_generate(*w, req, reply);
                 } catch (...) {
                   reply(GenerateResult{}, std::current_exception());
                 }
               }});
    }
  }

  // Option requests: consecutive requests whose SharedPrefix hints name the same shared text (the
  // pages shown to one user) run as one group (model::score_option_group: the shared part once, the
  // rest batched). A group's results depend on its requests only, so a caller that always sends the
  // same groups (the arena re-asks whole groups) gets the same results on every run.
  void submit_options(std::vector<OptionRequest> requests, OptionCallback done) override {
    auto shared = std::make_shared<std::vector<OptionRequest>>(std::move(requests));
    auto cb = std::make_shared<OptionCallback>(std::move(done));
    for (size_t begin = 0; begin < shared->size();) {
      const std::string head = shared_prefix_key((*shared)[begin]);
      size_t end = begin + 1;
      while (!head.empty() && end < shared->size() && end - begin < kMaxOptionGroup &&
             shared_prefix_key((*shared)[end]) == head)
        ++end;
      enqueue({0, [this, shared, cb, begin, end](Worker* w) {
                 std::vector<OptionResult> rs(end - begin);
                 std::vector<std::exception_ptr> errs(end - begin);
                 if (!w) {
                   for (size_t i = begin; i < end; ++i)
                     errs[i - begin] = std::make_exception_ptr(util::Error(
                         "embedded backend shut down before the request ran", {.record = (*shared)[i].key}));
                 } else {
                   run_option_group(w->session, *shared, begin, end, rs, errs);
                 }
                 for (size_t i = begin; i < end; ++i) {
                   finish(errs[i - begin] != nullptr);
                   (*cb)(i, std::move(rs[i - begin]), errs[i - begin]);
                 }
               }});
      begin = end;
    }
  }

  BackendStats stats() const override {
    BackendStats st{requests_.load(), failed_.load(), requests_.load(), 0, 0};
    st.option_prompt_tokens = option_tokens_.load();
    st.option_prompt_tokens_cached = option_tokens_.load() - option_computed_.load();
    st.prompts_prefilled_together = prefills_together_.load();
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
  // Whether a request's optional cancel flag (GenerateRequest / OptionRequest::cancel) is set.
  static bool cancelled(const std::shared_ptr<const std::atomic<bool>>& flag) {
    return flag && flag->load(std::memory_order_relaxed);
  }
  // Token ids a request gives itself (prompt token ids, allowed_token_ids, letter_token_ids) must
  // name rows of the model: an id outside [0, vocab_size) is the client's mistake (InvalidInput,
  // answered 400 by serve), checked before the request touches the engine.
  void check_request_ids(std::span<const int32_t> ids, const char* field, const std::string& key) const {
    const int64_t vocab = model_->config().vocab_size;
    for (int32_t id : ids) {
      if (id < 0 || static_cast<int64_t>(id) >= vocab) {
        throw util::InvalidInput("token id " + std::to_string(id) +
                                     " is outside the model's vocabulary [0, " + std::to_string(vocab) + ")",
                                 {.field = field, .record = key});
      }
    }
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

  // Continuous batching. A worker owns a Session and the generate requests admitted to it; each
  // iteration it takes queued jobs (option requests run right away, between decode steps; generate
  // requests join the batch, their prompts prefilled together where that gives the same result as
  // alone: prefill_joining), then advances every running sample of every admitted
  // request by one token in one Session::append_batch. Requests leave the batch when their samples
  // finish or they are cancelled. A step holds at most kMaxStepRows samples (a request with more
  // samples than that runs alone), the bound up to which a decode row of the fused bf16 step does not
  // depend on the rest of the batch (model::independent_decode_rows), so a seeded request gives the
  // same result whatever runs beside it. Where rows do depend on the batch (f32 compute, no AVX-512
  // BF16), the admitted requests take turns: one forward per request per step, the same tokens as
  // alone, without the shared weight streaming (docs/benchmarks.md "Continuous batching").
  static constexpr size_t kMaxStepRows = 64;

  using Reply = std::function<void(GenerateResult, std::exception_ptr)>;
  struct Sent {  // streaming: how much text and how many tokens' logprobs a sample already sent
    size_t bytes = 0, tokens = 0;
  };
  // A generate request in a worker's batch. Heap-allocated: the options' callbacks point into it.
  struct Running {
    const GenerateRequest* req = nullptr;
    Reply reply;
    int64_t prompt_tokens = 0;
    std::vector<uint8_t> allowed;  // allowed_token_ids ∩ decodable ids (go.allowed points here)
    model::GenerateOptions go;
    std::vector<Sent> sent;
    std::vector<int32_t> prompt;  // until prefilled
    std::unique_ptr<model::Generation> gen;
  };
  struct Worker {
    model::Session session;
    std::vector<std::unique_ptr<Running>> running;
    std::vector<std::unique_ptr<Running>> joining;  // admitted this iteration, not yet prefilled
    size_t rows() const {
      size_t n = 0;
      for (const auto& r : running) n += r->gen->running();
      return n;
    }
  };
  struct Job {
    size_t rows = 0;                   // samples it adds to a decode batch (0: an option request)
    std::function<void(Worker*)> run;  // nullptr: the backend shut down before the job ran
  };

  void enqueue(Job job) {
    {
      std::lock_guard lock(mu_);
      if (!stop_) {
        queue_.push_back(std::move(job));
        cv_.notify_one();
        return;
      }
    }
    job.run(nullptr);
  }

  void work(Worker& w) {
    while (true) {
      std::vector<Job> jobs;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stop_ || !queue_.empty() || !w.running.empty(); });
        if (stop_) break;
        // Queued jobs join in order while the batch has room (an empty batch takes any job).
        size_t rows = w.rows();
        while (!queue_.empty() && (rows == 0 || rows + queue_.front().rows <= kMaxStepRows)) {
          rows += queue_.front().rows;
          jobs.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      for (auto& job : jobs) job.run(&w);
      prefill_joining(w);
      decode_step(w);
    }
    for (auto& r : w.running) {
      r->gen.reset();  // releases its sequences
      fail(*r,
           util::Error("embedded backend shut down before the request finished", {.record = r->req->key}));
    }
  }

  void fail(Running& r, const util::Error& e) { r.reply(GenerateResult{}, std::make_exception_ptr(e)); }

  // One decode step for every running sample of the worker's batch; finished, cancelled and failed
  // requests leave it (and are answered).
  void decode_step(Worker& w) {
    auto& running = w.running;
    for (auto& r : running) {
      if (r->gen->cancelled()) {
        r->gen.reset();
        fail(*r, util::Error("generation cancelled", {.record = r->req->key}));
      }
    }
    std::erase_if(running, [](const auto& r) { return !r->gen; });
    if (running.empty()) return;
    // One forward for the whole batch where decode rows do not depend on each other; otherwise one
    // per request (its samples together, as when it runs alone): the same tokens either way.
    std::vector<std::exception_ptr> errors(running.size());
    const size_t groups = shared_steps_ ? 1 : running.size();
    for (size_t g = 0; g < groups; ++g) {
      const size_t begin = shared_steps_ ? 0 : g, end = shared_steps_ ? running.size() : g + 1;
      std::vector<model::Append> step;
      std::vector<size_t> first;
      for (size_t i = begin; i < end; ++i) {
        first.push_back(step.size());
        running[i]->gen->add_to_step(step);
      }
      try {
        model::Logits l = w.session.append_batch(step);
        // Every row's draw (the sampler and logprobs: O(vocabulary) each) in one parallel loop; the
        // callbacks (stop strings, streaming) afterwards, request by request.
        std::vector<std::pair<size_t, size_t>> rows;  // (request, row of that request)
        for (size_t i = begin; i < end; ++i) {
          const size_t r = running[i]->gen->begin_take(l, first[i - begin]);
          for (size_t j = 0; j < r; ++j) rows.emplace_back(i, j);
        }
        util::parallel_for(rows.size(), draw_threads_,
                           [&](size_t k) { running[rows[k].first]->gen->draw(rows[k].second); });
        for (size_t i = begin; i < end; ++i) {
          try {
            running[i]->gen->end_take();
          } catch (...) {
            errors[i] = std::current_exception();
          }
        }
      } catch (...) {
        // One request's sequences could not be appended (forward() changes nothing then): step each
        // request alone so that only the one at fault fails.
        for (size_t i = begin; i < end; ++i) {
          try {
            std::vector<model::Append> own;
            running[i]->gen->add_to_step(own);
            running[i]->gen->take_step(w.session.append_batch(own), 0);
          } catch (...) {
            errors[i] = std::current_exception();
          }
        }
      }
    }
    for (size_t i = 0; i < running.size(); ++i) {
      Running& r = *running[i];
      if (errors[i]) {
        r.gen.reset();
        r.reply(GenerateResult{}, errors[i]);
      } else if (r.gen->done()) {
        complete(r);
      }
    }
    std::erase_if(running, [](const auto& r) { return !r->gen; });
  }

  // Answers a finished request and drops its Generation.
  void complete(Running& r) {
    GenerateResult out;
    std::exception_ptr err;
    try {
      std::vector<model::Completion> outs = r.gen->take_result();
      out.prompt_tokens = r.prompt_tokens;
      for (auto& c : outs) {
        Sample smp = finished_sample(c, r.req->sampling.stop);
        if (r.req->top_logprobs >= 0) {
          for (const auto& t : c.logprobs) smp.logprobs.push_back(token_logprob(t));
        }
        out.completion_tokens += static_cast<int64_t>(c.tokens.size());
        out.samples.push_back(std::move(smp));
      }
    } catch (...) {
      out = GenerateResult{};
      err = std::current_exception();
    }
    r.gen.reset();
    r.reply(std::move(out), err);
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
    const std::string text = template_.render(messages, o);
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

  // Admits a generate request to the worker: answered right away in the one-token scoring case,
  // otherwise set up and queued in w.joining, to be prefilled at the end of the iteration
  // (prefill_joining). Throws on a bad request.
  void join_generate(Worker& w, const GenerateRequest& req, const Reply& reply) {
    check_request_ids(req.prompt_tokens, "prompt", req.key);
    check_request_ids(req.allowed_token_ids, "allowed_token_ids", req.key);
    if (!req.allowed_token_ids.empty() &&
        std::none_of(req.allowed_token_ids.begin(), req.allowed_token_ids.end(),
                     [this](int32_t id) { return can_decode(id); })) {
      throw util::InvalidInput("no allowed token id has a token (only padding rows of the vocabulary)",
                               {.field = "allowed_token_ids", .record = req.key});
    }
    Encoded enc = prompt_ids(req);
    std::vector<int32_t> prompt = std::move(enc.ids);
    if (prompt.empty()) throw util::Error("empty prompt", {.record = req.key});
    const SamplingParams& sp = req.sampling;
    model::SamplingParams msp{sp.temperature, sp.top_k, sp.top_p, sp.min_p};
    const uint64_t seed = sp.seed ? *sp.seed : std::random_device{}();
    if (cancelled(req.cancel)) throw util::Error("generation cancelled", {.record = req.key});
    // The scoring case (one token, no streaming) keeps its single-prefill path.
    if ((req.top_logprobs >= 0 || !req.allowed_token_ids.empty()) && sp.max_tokens == 1 && !req.on_delta) {
      reply(one_token(w.session, prompt, enc.split, req, msp, seed), nullptr);
      return;
    }
    auto r = std::make_unique<Running>();
    Running& run = *r;
    run.req = &req;
    run.reply = reply;
    run.prompt_tokens = static_cast<int64_t>(prompt.size());
    if (!req.allowed_token_ids.empty()) {
      run.allowed.assign(static_cast<size_t>(model_->config().vocab_size), 0);
      for (int32_t id : req.allowed_token_ids) {  // in range: check_request_ids above
        run.allowed[static_cast<size_t>(id)] = can_decode(id) ? 1 : 0;
      }
    }
    model::GenerateOptions& go = run.go;
    go.n = sp.n;
    go.max_tokens = sp.max_tokens;
    go.sampling = msp;
    go.seed = seed;
    go.allowed = run.allowed.empty() ? model::TokenMask(decodable_) : model::TokenMask(run.allowed);
    go.top_logprobs = req.top_logprobs;
    go.cancel = req.cancel.get();
    go.prompt_split = enc.split;
    if (!sp.stop.empty()) {
      go.stop_check = [this, &sp](size_t, const std::vector<int32_t>& toks) -> int64_t {
        size_t from = toks.size() > kStopWindowTokens ? toks.size() - kStopWindowTokens : 0;
        std::string tail = decode(std::span<const int32_t>(toks).subspan(from), /*skip_special=*/true);
        return find_stop(tail, sp.stop) == std::string::npos ? -1 : static_cast<int64_t>(toks.size());
      };
    }
    run.sent.resize(static_cast<size_t>(std::max(sp.n, 0)));
    if (req.on_delta) {
      go.on_token = [this, &run](size_t i, const model::Completion& c) { stream(run, i, c); };
    }
    run.prompt = std::move(prompt);
    w.joining.push_back(std::move(r));
  }

  // Prefills the requests that joined this iteration and adds them to the batch (or answers those
  // already finished: max_tokens 0, samples that all stop at their first token). Runs of joiners
  // whose last prefill blocks may go through the model together with the same result as alone
  // (model::prefill_together_exact: bf16 small-batch rows, at most 64 rows) are prefilled in one
  // forward, streaming the weights once instead of once per prompt; the others alone.
  void prefill_joining(Worker& w) {
    std::vector<std::unique_ptr<Running>> joining = std::move(w.joining);
    w.joining.clear();
    std::erase_if(joining, [&](std::unique_ptr<Running>& r) {
      if (!cancelled(r->req->cancel)) return false;
      fail(*r, util::Error("generation cancelled", {.record = r->req->key}));
      return true;
    });
    std::vector<size_t> rows;
    for (const auto& r : joining)
      rows.push_back(model::Session::last_block_rows(r->prompt.size(), r->go.prompt_split));
    size_t i = 0;
    for (const size_t j : model::prefill_runs(*model_, rows)) {
      if (j - i < 2) {
        prefill_alone(w, std::move(joining[i]));
        i = j;
        continue;
      }
      std::vector<model::Session::PrefillPrompt> prompts;
      for (size_t k = i; k < j; ++k) {
        // A long prompt's blocks stop once its request is cancelled; the call then fails and the
        // fallback below answers the cancelled request and prefills the others alone.
        const GenerateRequest& req = *joining[k]->req;
        prompts.push_back(
            {joining[k]->prompt, joining[k]->go.prompt_split, [&req] { return cancelled(req.cancel); }});
      }
      model::Logits first;
      std::vector<model::SeqId> seqs;
      try {
        seqs = w.session.prefill_cached_together(prompts, &first);
      } catch (...) {
        // Nothing was left behind: each prompt alone, so that only one at fault fails.
        for (size_t k = i; k < j; ++k) prefill_alone(w, std::move(joining[k]));
        i = j;
        continue;
      }
      prefills_together_.fetch_add(static_cast<int64_t>(j - i));
      for (size_t k = i; k < j; ++k) {
        std::unique_ptr<Running>& r = joining[k];
        try {
          r->gen = std::make_unique<model::Generation>(w.session, seqs[k - i], first.row(k - i), r->go);
        } catch (...) {
          r->reply(GenerateResult{}, std::current_exception());
          continue;
        }
        admit(w, std::move(r));
      }
      i = j;
    }
  }

  void prefill_alone(Worker& w, std::unique_ptr<Running> r) {
    try {
      r->gen = std::make_unique<model::Generation>(w.session, r->prompt, r->go);
    } catch (...) {
      r->reply(GenerateResult{}, std::current_exception());
      return;
    }
    admit(w, std::move(r));
  }

  // A prefilled request joins the batch, or is answered when it has already finished.
  void admit(Worker& w, std::unique_ptr<Running> r) {
    r->prompt = {};
    if (r->gen->done()) {
      complete(*r);
      return;
    }
    w.running.push_back(std::move(r));
  }

  // Streaming: sends what is new and stable in sample i's text (and its tokens' logprobs).
  void stream(Running& run, size_t i, const model::Completion& c) const {
    const GenerateRequest& req = *run.req;
    SampleDelta d;
    d.sample = static_cast<int>(i);
    std::string text = decode(c.tokens, /*skip_special=*/true);
    size_t ready = text.size();
    if (!c.finish_reason.empty()) {
      Sample last = finished_sample(c, req.sampling.stop);
      text = std::move(last.text);
      ready = text.size();
      d.finish_reason = last.finish_reason;
    } else {
      ready = stable_prefix(text, req.sampling.stop);
    }
    Sent& sent = run.sent[i];
    if (ready > sent.bytes) {
      d.text = text.substr(sent.bytes, ready - sent.bytes);
      sent.bytes = ready;
    }
    if (req.top_logprobs >= 0 && (!d.text.empty() || !d.finish_reason.empty())) {
      for (size_t t = sent.tokens; t < c.logprobs.size(); ++t)
        d.logprobs.push_back(token_logprob(c.logprobs[t]));
      sent.tokens = c.logprobs.size();
    }
    if (!d.text.empty() || !d.logprobs.empty() || !d.finish_reason.empty()) req.on_delta(d);
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
    auto is_cancelled = [&req] { return cancelled(req.cancel); };
    model::SeqId seq;
    try {
      seq = s.prefill_cached(prompt, &last, split, is_cancelled);
    } catch (const util::Error&) {
      if (is_cancelled()) throw util::Error("generation cancelled", {.record = req.key});
      throw;
    }
    s.release(seq);
    std::span<const float> row = last.row(0);
    std::vector<float> lp = model::log_softmax(row);
    std::vector<float> masked(row.begin(), row.end());
    std::vector<int32_t> candidates;
    if (!req.allowed_token_ids.empty()) {
      std::fill(masked.begin(), masked.end(), -INFINITY);
      for (int32_t id : req.allowed_token_ids) {  // in range: join_generate's check_request_ids
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

  // A request's prompt ids, shared-prefix split and option letter ids.
  struct OptionInput {
    std::vector<int32_t> ids;
    size_t split = 0;
    std::vector<int32_t> letters;
  };
  OptionInput option_input(const OptionRequest& req) const {
    check_request_ids(req.letter_token_ids, "letter_token_ids", req.key);
    OptionInput in;
    if (req.prompt) {
      in.ids = tok_.encode(*req.prompt, /*add_special_tokens=*/true);
    } else {
      if (req.messages.empty() || req.messages.back().role != "assistant") {
        throw util::Error("option request needs messages ending in the open assistant prefix",
                          {.record = req.key});
      }
      text::ChatRenderOptions o;
      o.continue_final_message = true;
      Encoded enc = encode_messages(req.messages, o, req.shared_prefix);
      in.ids = std::move(enc.ids);
      in.split = enc.split;
    }
    if (in.ids.empty()) throw util::Error("empty prompt", {.record = req.key});
    in.letters = req.letter_token_ids;
    if (in.letters.empty()) {
      for (const auto& l : req.letters) {
        std::vector<int32_t> enc = tok_.encode(l, /*add_special_tokens=*/false);
        if (enc.empty())
          throw util::Error("option letter '" + l + "' encodes to no token", {.record = req.key});
        in.letters.push_back(enc[0]);
      }
    }
    if (in.letters.size() != req.letters.size()) {
      throw util::Error("letter_token_ids must have one id per letter", {.record = req.key});
    }
    return in;
  }

  static OptionResult option_result(const model::OptionScores& sc) {
    OptionResult r;
    r.probs = sc.probs;
    r.raw_logprobs.reserve(sc.probs.size());
    for (double p : sc.probs) r.raw_logprobs.push_back(std::log(p));  // letter-restricted log-softmax
    return r;
  }

  // Requests [begin, end) of `reqs` as one group: those that encode are scored together with the
  // split of the first of them; a request that fails to encode fails alone. Cancellation
  // (OptionRequest::cancel) is checked before every prefill block and block step
  // (model::score_option_group): a cancelled member is answered "option request cancelled" and never
  // changes the others' results; a group whose members are all cancelled stops there.
  void run_option_group(model::Session& s, const std::vector<OptionRequest>& reqs, size_t begin, size_t end,
                        std::vector<OptionResult>& out, std::vector<std::exception_ptr>& errs) {
    auto is_cancelled = [&reqs](size_t i) { return cancelled(reqs[i].cancel); };
    auto cancel_error = [&reqs](size_t i) {
      return std::make_exception_ptr(util::Error("option request cancelled", {.record = reqs[i].key}));
    };
    std::vector<size_t> ok;
    std::vector<std::vector<int32_t>> prompts, letters;
    size_t split = 0;
    for (size_t i = begin; i < end; ++i) {
      try {
        OptionInput in = option_input(reqs[i]);
        if (ok.empty()) split = in.split;
        ok.push_back(i - begin);
        prompts.push_back(std::move(in.ids));
        letters.push_back(std::move(in.letters));
      } catch (...) {
        errs[i - begin] = std::current_exception();
      }
    }
    if (ok.empty()) return;
    const size_t computed_before = s.tokens_computed();
    try {
      std::vector<model::OptionScores> sc = model::score_option_group(
          s, prompts, split, letters, [&](size_t j) { return is_cancelled(begin + ok[j]); });
      for (size_t j = 0; j < ok.size(); ++j) {
        if (is_cancelled(begin + ok[j])) {
          errs[ok[j]] = cancel_error(begin + ok[j]);
        } else {
          out[ok[j]] = option_result(sc[j]);
        }
      }
    } catch (...) {
      for (size_t j : ok)
        errs[j] = is_cancelled(begin + j) ? cancel_error(begin + j) : std::current_exception();
    }
    for (const auto& p : prompts) option_tokens_ += static_cast<int64_t>(p.size());
    option_computed_ += static_cast<int64_t>(s.tokens_computed() - computed_before);
  }

  std::string name_;
  std::shared_ptr<const model::Model> model_;
  std::vector<uint8_t> decodable_;  // empty = every id of the model's rows decodes
  bool shared_steps_ = false;       // one forward per decode step for all requests (see decode_step)
  unsigned draw_threads_ = 0;       // threads drawing a step's tokens (0 = cores, as the forward)
  text::Tokenizer tok_;
  text::ChatTemplate template_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
  std::atomic<int64_t> requests_{0}, failed_{0};
  std::atomic<int64_t> option_tokens_{0}, option_computed_{0};
  std::atomic<int64_t> prefills_together_{0};  // generate requests prefilled together with others
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
