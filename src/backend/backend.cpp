#include "backend/backend.h"

#include <cmath>

namespace um::backend {
namespace {

template <typename Result, typename Request, typename Submit>
std::vector<std::future<Result>> submit_with_futures(std::vector<Request> requests, Submit submit) {
  auto promises = std::make_shared<std::vector<std::promise<Result>>>(requests.size());
  std::vector<std::future<Result>> futures;
  futures.reserve(requests.size());
  for (auto& p : *promises) futures.push_back(p.get_future());
  submit(std::move(requests), [promises](size_t i, Result&& r, std::exception_ptr err) {
    if (err) {
      (*promises)[i].set_exception(err);
    } else {
      (*promises)[i].set_value(std::move(r));
    }
  });
  return futures;
}

}  // namespace

std::vector<std::future<GenerateResult>> Backend::generate(std::vector<GenerateRequest> requests) {
  return submit_with_futures<GenerateResult>(
      std::move(requests), [this](auto reqs, GenerateCallback cb) { submit_generate(std::move(reqs), cb); });
}

std::vector<std::future<OptionResult>> Backend::option_distribution(std::vector<OptionRequest> requests) {
  return submit_with_futures<OptionResult>(
      std::move(requests), [this](auto reqs, OptionCallback cb) { submit_options(std::move(reqs), cb); });
}

GenerateResult Backend::generate_one(GenerateRequest request) {
  std::vector<GenerateRequest> v;
  v.push_back(std::move(request));
  return generate(std::move(v))[0].get();
}

OptionResult Backend::option_distribution_one(OptionRequest request) {
  std::vector<OptionRequest> v;
  v.push_back(std::move(request));
  return option_distribution(std::move(v))[0].get();
}

OptionResult letter_distribution(const std::vector<double>& logprobs_or_nan) {
  OptionResult r;
  r.raw_logprobs = logprobs_or_nan;
  r.probs.resize(logprobs_or_nan.size());
  // exp(logprob) as reported, floor for missing letters, then renormalise — the reference's exact
  // arithmetic (the floor is absolute, so the logprobs are deliberately not shifted).
  double sum = 0;
  for (size_t i = 0; i < logprobs_or_nan.size(); ++i) {
    double lp = logprobs_or_nan[i];
    if (std::isnan(lp)) {
      ++r.missing_letters;
      r.probs[i] = kMissingLetterFloor;
    } else {
      r.probs[i] = std::exp(lp);
    }
    sum += r.probs[i];
  }
  if (sum > 0) {
    for (double& p : r.probs) p /= sum;
  }
  return r;
}

}  // namespace um::backend
