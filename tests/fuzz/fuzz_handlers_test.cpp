// Seeded mutation fuzzing (docs/reliability.md) of two more parsers of outside input: the request
// handlers of `serve` called in-process (body parsing, request validation, a deterministic backend,
// answer building) and a model directory's config.json (model::parse_config).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/shared_data.h"
#include "fuzz/fuzz_mutator.h"
#include "model/config.h"
#include "model/safetensors.h"
#include "serve/api_error.h"
#include "serve/fake_backend.h"
#include "serve/openai_protocol.h"
#include "serve/simulate.h"
#include "util/error.h"
#include "util/invalid_input.h"

namespace um::fuzz {
namespace {

// ---- serve: POST /v1/chat/completions, /v1/completions, /v1/simulate ---------------------------

// What server.cpp's handler does with a body, without sockets: parse, validate, run on the backend,
// build the JSON answer and the server-sent events of a streamed one. A client's mistake must be an
// ApiError with a 4xx status (util::NotSupported and util::InvalidInput, a token id outside the
// backend's vocabulary, are answered 400 too); any other exception would be answered 500
// (internal_error) or 502 (backend_error) and fails the case. Every answer must be JSON.
void handle(int endpoint, const std::string& body, backend::Backend& be, const serve::ServeOptions& opts,
            const std::vector<std::string>& models) {
  try {
    nlohmann::json j = serve::parse_body(body);
    if (endpoint == 2) {
      if (!nlohmann::json::accept(serve::simulate(be, j, opts, models)))
        throw std::logic_error("simulate answered invalid JSON");
      return;
    }
    const bool chat = endpoint == 0;
    serve::ParsedGenerate p =
        chat ? serve::parse_chat_request(j, opts, models) : serve::parse_completion_request(j, opts, models);
    if (p.requests.empty() || (chat && p.requests.size() != 1))
      throw std::logic_error("parsed request count does not match the endpoint");
    std::vector<backend::GenerateResult> results;
    for (auto& f : be.generate(p.requests)) results.push_back(f.get());
    const std::string whole =
        chat ? serve::chat_response(p, results[0], "id", 0) : serve::completion_response(p, results, "id", 0);
    auto ans = nlohmann::json::parse(whole);  // throws (fails the case) when not JSON
    const size_t n = static_cast<size_t>(p.requests[0].sampling.n);
    if (ans.at("choices").size() != p.requests.size() * n)
      throw std::logic_error("answer has the wrong number of choices");
    // The events of the streamed answer.
    std::vector<std::string> events;
    if (chat) events.push_back(serve::chat_role_chunk(p, "id", 0, 0));
    size_t prompt = 0, completion = 0;
    for (size_t r = 0; r < results.size(); ++r) {
      prompt += static_cast<size_t>(results[r].prompt_tokens);
      completion += static_cast<size_t>(results[r].completion_tokens);
      for (size_t i = 0; i < results[r].samples.size(); ++i) {
        const auto& s = results[r].samples[i];
        backend::SampleDelta d{static_cast<int>(i), s.text, s.logprobs, ""};
        events.push_back(serve::stream_chunk(p, "id", 0, chat, r * n + i, d, 0));
        events.push_back(serve::stream_chunk(p, "id", 0, chat, r * n + i,
                                             {static_cast<int>(i), "", {}, s.finish_reason}, s.text.size()));
      }
    }
    events.push_back(
        serve::usage_chunk(p, "id", 0, chat, static_cast<int64_t>(prompt), static_cast<int64_t>(completion)));
    for (const auto& e : events) {
      if (!e.starts_with("data: ") || !e.ends_with("\n\n") ||
          !nlohmann::json::accept(e.substr(6, e.size() - 8)))
        throw std::logic_error("malformed stream event: " + e);
    }
  } catch (const serve::ApiError& e) {
    if (e.status < 400 || e.status > 499)
      throw std::logic_error("ApiError with status " + std::to_string(e.status) + ": " + e.what());
  } catch (const util::NotSupported&) {
  } catch (const util::InvalidInput& e) {
    if (e.where().field.empty())
      throw std::logic_error(std::string("InvalidInput names no parameter: ") + e.what());
  } catch (const util::Error& e) {
    throw std::logic_error(std::string("util::Error (answered 502) from a request: ") + e.what());
  }
}

TEST(Fuzz, ServeRequest) {
  testing::FakeBackend be("fake-sim");
  be.vocab_size = 1000;  // ids the mutations push past it must be answered 400 (util::InvalidInput)
  serve::ServeOptions opts;
  opts.max_tokens_limit = 32;  // the fake backend emits max_tokens words per sample
  opts.max_n = 8;
  const std::vector<std::string> models = {"fake-sim", "alias"};
  // The first byte picks the endpoint: 0 chat, 1 completions, 2 simulate.
  const std::vector<std::string> seeds = {
      std::string(1, '\0') +
          R"({"model":"fake-sim","messages":[{"role":"system","content":"s"},{"role":"user","content":"hi é"}],"max_tokens":4,"n":2,"seed":7,"temperature":0.7,"top_p":0.9,"stop":["[B]"],"logprobs":true,"top_logprobs":3,"stream":true,"stream_options":{"include_usage":true}})",
      std::string(1, '\0') +
          R"({"model":"alias","messages":[{"role":"user","content":"x"},{"role":"assistant","content":"Behavior: ["}],"continue_final_message":true,"add_generation_prompt":false,"max_completion_tokens":1,"min_p":0.1,"top_k":5})",
      std::string(1, '\1') +
          R"({"model":"fake-sim","prompt":["a","b"],"max_tokens":3,"n":2,"logprobs":2,"seed":1,"stop":"x","allowed_token_ids":[1,2,3]})",
      std::string(1, '\1') + R"({"model":"fake-sim","prompt":[[1,2,3],[4]],"max_tokens":2,"temperature":0})",
      std::string(1, '\1') +
          R"({"model":"fake-sim","prompt":[5,999999999],"max_tokens":2,"allowed_token_ids":[1000]})",
      std::string(1, '\2') +
          R"({"model":"fake-sim","messages":[{"role":"system","content":"s"},{"role":"user","content":"u"}],"options":4,"seed":3,"letter_token_ids":[32,33,34,35]})",
      std::string(1, '\2') +
          R"({"model":"fake-sim","messages":[{"role":"user","content":"u"}],"options":2,"letter_token_ids":[32,1000]})",
      std::string(1, '\2') +
          R"({"scene":{"text":{"profile":"Age: 25","history":"watched X","action_list":["<Movie> A","<Movie> B"]}},"mode":"reasoning","n":2,"max_tokens":6,"temperature":1.0,"top_p":0.8,"seed":5})",
      std::string(1, '\2') +
          R"({"text":{"profile":"p","history":"h","action_list":["a","b","c"]},"prompt":"direct-v1","letters":["A","B","C"]})"};
  fuzz("serve-request", seeds, 1500, [&](const std::string& in) {
    if (in.empty()) return;
    handle(static_cast<unsigned char>(in[0]) % 3, in.substr(1), be, opts, models);
  });
}

// ---- model directory config.json -------------------------------------------------------------

TEST(Fuzz, ModelConfig) {
  const std::vector<std::string> seeds = {
      // What `usermirror model init --arch qwen3` writes.
      R"({"architectures":["Qwen3ForCausalLM"],"attention_bias":false,"eos_token_id":151645,"head_dim":16,"hidden_act":"silu","hidden_size":64,"intermediate_size":256,"max_position_embeddings":32768,"model_type":"qwen3","num_attention_heads":4,"num_hidden_layers":2,"num_key_value_heads":2,"rms_norm_eps":1e-06,"rope_scaling":null,"rope_theta":1000000.0,"tie_word_embeddings":true,"torch_dtype":"float32","use_sliding_window":false,"vocab_size":151669})",
      // Llama 3.x: llama3 rope scaling, a list of eos ids, a bos id.
      R"({"architectures":["LlamaForCausalLM"],"bos_token_id":128000,"eos_token_id":[128001,128008,128009],"hidden_act":"silu","hidden_size":2048,"intermediate_size":8192,"max_position_embeddings":131072,"mlp_bias":false,"num_attention_heads":32,"num_hidden_layers":16,"num_key_value_heads":8,"rms_norm_eps":1e-05,"rope_scaling":{"factor":32.0,"high_freq_factor":4.0,"low_freq_factor":1.0,"original_max_position_embeddings":8192,"rope_type":"llama3"},"rope_theta":500000.0,"tie_word_embeddings":true,"torch_dtype":"bfloat16","vocab_size":128256})",
      // Qwen2.5 (qkv bias, sliding_window inactive), Mistral (sliding_window without the flag).
      R"({"architectures":["Qwen2ForCausalLM"],"attention_dropout":0.0,"bos_token_id":151643,"eos_token_id":151645,"hidden_act":"silu","hidden_size":896,"intermediate_size":4864,"max_position_embeddings":32768,"max_window_layers":21,"num_attention_heads":14,"num_hidden_layers":24,"num_key_value_heads":2,"rms_norm_eps":1e-06,"rope_theta":1000000.0,"sliding_window":32768,"tie_word_embeddings":true,"use_sliding_window":false,"vocab_size":151936})",
      R"({"architectures":["MistralForCausalLM"],"hidden_size":4096,"intermediate_size":14336,"num_attention_heads":32,"num_hidden_layers":32,"num_key_value_heads":8,"head_dim":128,"rope_theta":1000000.0,"sliding_window":null,"vocab_size":32768,"rope_scaling":{"type":"default"}})"};
  // A number beyond double's range, a non-string architecture or rope_type once escaped as
  // nlohmann's own exceptions; parse_config now turns every one into a util::Error naming the file
  // (any other exception fails the target).
  fuzz("model-config", seeds, 1500, [&](const std::string& in) {
    model::ModelConfig c = model::parse_config(in, "config.json");
    if (c.num_heads <= 0 || c.num_kv_heads <= 0 || c.head_dim <= 0 || c.num_heads % c.num_kv_heads != 0)
      throw std::logic_error("parse_config accepted an invalid head layout");
  });
}

// The model's own safetensors reader (memory-mapped; src/model/safetensors.cpp, torch-free): a
// mutated file must open or fail with util::Error, and every tensor it accepts must lie inside the
// file with as many bytes as its shape and dtype say (all of them are read, so a view past the mapping
// crashes the case).
TEST(Fuzz, ModelSafetensors) {
  namespace fs = std::filesystem;
  fs::path dir = testing::temp_dir("fuzz-model-safetensors");
  std::vector<model::TensorData> ts(3);
  ts[0] = {"model.embed_tokens.weight", model::StDType::F32, {4, 3}, std::vector<uint8_t>(48, 0x3f)};
  ts[1] = {"model.norm.weight", model::StDType::BF16, {3}, std::vector<uint8_t>(6, 0x40)};
  ts[2] = {"lm_head.weight", model::StDType::F16, {2, 2}, std::vector<uint8_t>(8, 0x3c)};
  model::write_safetensors(dir / "seed.safetensors", ts);
  std::ifstream in(dir / "seed.safetensors", std::ios::binary);
  const std::string seed((std::istreambuf_iterator<char>(in)), {});
  fuzz("model-safetensors", {seed, seed.substr(0, seed.size() - 5)}, 1500, [&](const std::string& bytes) {
    {
      std::ofstream out(dir / "in.safetensors", std::ios::binary | std::ios::trunc);
      out << bytes;
    }
    model::SafetensorsFile f(dir / "in.safetensors");
    uint64_t sum = 0;
    for (const auto& [name, t] : f.tensors()) {
      if (t.nbytes != static_cast<size_t>(t.numel()) * model::st_dtype_size(t.dtype))
        throw std::logic_error("tensor " + name + ": byte size does not match its shape");
      const auto* b = static_cast<const uint8_t*>(t.data);
      if (t.nbytes > bytes.size()) throw std::logic_error("tensor " + name + " is larger than the file");
      for (size_t i = 0; i < t.nbytes; ++i) sum += b[i];
    }
    (void)sum;
  });
}

// What the model-safetensors target found: a header number beyond double's range escaped as
// nlohmann's out_of_range, and a shape of negative or huge dimensions was checked only through an
// overflowing product. Each is now a util::Error naming the file; so is config.json's out-of-range
// number and a non-string architecture (model-config).
TEST(FuzzRegression, ModelFilesWithHostileNumbersAreErrors) {
  namespace fs = std::filesystem;
  fs::path dir = testing::temp_dir("fuzz-model-regressions");
  auto with_header = [](const std::string& header, size_t body) {
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i)
      out[static_cast<size_t>(i)] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
    return out + header + std::string(body, '\x3f');
  };
  for (const std::string& header :
       {std::string(R"({"w":{"dtype":"F32","shape":[-21e308],"data_offsets":[0,4]}})"),
        std::string(R"({"w":{"dtype":"F32","shape":[-1,-1],"data_offsets":[0,4]}})"),
        std::string(R"({"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}})")}) {
    {
      std::ofstream out(dir / "m.safetensors", std::ios::binary | std::ios::trunc);
      out << with_header(header, 4);
    }
    try {
      model::SafetensorsFile f(dir / "m.safetensors");
      ADD_FAILURE() << "accepted " << header;
    } catch (const util::Error& e) {
      EXPECT_NE(std::string(e.what()).find("m.safetensors"), std::string::npos) << e.what();
    }
  }
  for (const std::string& cfg :
       {std::string(R"({"architectures":[5],"hidden_size":8})"),
        std::string(R"({"architectures":["Qwen3ForCausalLM"],"hidden_size":1e999})")}) {
    try {
      model::parse_config(cfg, "config.json");
      ADD_FAILURE() << "accepted " << cfg;
    } catch (const util::Error& e) {
      EXPECT_NE(std::string(e.what()).find("config.json"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace um::fuzz
