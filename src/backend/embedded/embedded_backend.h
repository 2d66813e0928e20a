#pragma once
// The `local:` backend: the embedded libtorch engine (model/) with the model directory's own
// tokenizer and chat template (text/). Built only when the model and text components are.
//
// Spec: local:<HF model dir>[?dtype=bf16|f32][&workers=1][&threads=0][&prefix_cache=8]
//   workers: engine sessions serving requests in parallel (each has its own KV/prefix cache; torch
//   already spreads one forward over `threads` cores, so 1 is right on small machines).
//
// Continuous batching: each worker decodes the samples of all the generate requests it has admitted
// in one batched step (at most 64 samples a step; a request with more runs alone). Queued requests
// join at step boundaries (prompt prefilled with the prefix cache), finished or cancelled ones leave
// there, and option requests run between steps. A seeded request gives the same tokens as when it
// runs alone (a decode row does not depend on the other rows of its step: docs/benchmarks.md
// "Continuous batching"). Destroying the backend fails requests still queued or running.
//
// Generation: messages are rendered with the chat template (add_generation_prompt, or
// continue_final_message for an open assistant turn) and encoded without special tokens; a prompt
// string is encoded with them (as vLLM's completions endpoint does). Stop strings are found in the
// decoded text of the last 64 generated tokens. Per-token logprobs (the full-vocabulary
// log-softmax, as vLLM V1 reports them) and allowed_token_ids work for any max_tokens. Ids the
// tokenizer cannot decode (padding rows of a padded vocabulary, ids without a token) are masked
// before sampling and skipped when decoding, so no generated id fails a request; token ids a request
// gives (prompt token ids, allowed_token_ids, letter_token_ids) outside the model's rows fail it with
// util::InvalidInput (serve answers 400), as do allowed_token_ids without one decodable id. Streaming
// (GenerateRequest::on_delta) sends each sample's text token by token, holding back an incomplete
// UTF-8 character and any tail that may still become a stop string; GenerateRequest::cancel stops
// a request within one decode step or prefill block.
// Option distributions: model::score_options after the rendered open assistant prefix, over the
// letters' token ids (text::letter_token_ids unless the request gives them) — the exact
// letter-restricted softmax, no missing letters. A page group (one backend::shared_prefix_key) is
// one model::score_option_group; OptionRequest::cancel is checked before each of its prefill blocks
// and block steps: cancelled members are answered "option request cancelled" without changing the
// others' results (their shared rows are still computed while any member is live), and a group
// whose members are all cancelled stops there.
#include <memory>

#include "backend/backend.h"

namespace um::backend {

std::unique_ptr<Backend> make_embedded_backend(const BackendSpec& spec);

}  // namespace um::backend
