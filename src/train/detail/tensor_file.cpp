#include "train/detail/tensor_file.h"

#include <exception>
#include <functional>
#include <string_view>

#include "util/atomic_file.h"
#include "util/error.h"

namespace um::train::detail {

void save_tensors(const std::vector<torch::Tensor>& tensors, const std::filesystem::path& file) {
  util::AtomicWriter out(file);
  std::exception_ptr write_error;
  // The zip writer calls this for every piece and checks that the byte count advanced; it must not
  // see an exception (it runs inside C code and destructors), so the first failure is kept, every
  // call reports success, and the failure is rethrown once torch::save returns.
  std::function<size_t(const void*, size_t)> sink = [&](const void* data, size_t n) -> size_t {
    if (!write_error) {
      try {
        out.write(std::string_view(static_cast<const char*>(data), n));
      } catch (...) {
        write_error = std::current_exception();
      }
    }
    return n;
  };
  try {
    torch::save(tensors, sink);
  } catch (const c10::Error& e) {
    throw util::Error(std::string("cannot serialise tensors: ") + e.what_without_backtrace(),
                      {.file = file.string()});
  }
  if (write_error) std::rethrow_exception(write_error);
  out.commit();
}

}  // namespace um::train::detail
