#pragma once
// OpenAI Batch API files, for hosted models (docs/method.md §6): export a stage's generation requests as
// batch input JSONL and import a batch output file.
//
// Input line (key order as the reference writes it):
//   {"method":"POST","url":"/v1/chat/completions","custom_id":"<key>","body":{"n":10,"model":M,
//    "temperature":1.0,"top_p":0.9,"max_tokens":1024,"messages":[...],"stop":null}}
// Output line: {"id":..,"custom_id":..,"response":{"status_code":..,"request_id":..,"body":
//   <chat.completion>},"error":..}
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "backend/request.h"

namespace um::backend {

// Writes the batch input file atomically. Only chat-form requests are representable (util::Error
// otherwise); seed/top_k/min_p are written when set.
void write_batch_input(const std::filesystem::path& path, const std::vector<GenerateRequest>& requests,
                       const std::string& model);

struct BatchOutputRecord {
  std::string custom_id;
  std::optional<GenerateResult> result;  // set when status_code is 2xx and the body parsed
  std::string error;                     // why there is no result (API error object or status)
  int64_t line = 0;
};

// Reads a batch output file; a malformed line throws util::Error with file and line.
std::vector<BatchOutputRecord> read_batch_output(const std::filesystem::path& path);

}  // namespace um::backend
