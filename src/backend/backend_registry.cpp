// The factory table kind -> backend. Built-in rows are listed here explicitly (a static-library
// self-registration would be dropped by the linker).
#include <mutex>

#include "backend/backend.h"
#include "backend/openai/openai_backend.h"
#ifdef UM_BACKEND_EMBEDDED
#include "backend/embedded/embedded_backend.h"
#endif
#include "util/error.h"

namespace um::backend {
namespace {

struct Table {
  std::mutex mu;
  std::map<std::string, BackendFactory> factories;
  Table() {
    factories["openai"] = [](const BackendSpec& s) { return make_openai_backend(s); };
#ifdef UM_BACKEND_EMBEDDED
    factories["local"] = [](const BackendSpec& s) { return make_embedded_backend(s); };
#endif
  }
};

Table& table() {
  static Table t;
  return t;
}

}  // namespace

void register_backend(const std::string& kind, BackendFactory factory) {
  std::lock_guard lock(table().mu);
  table().factories[kind] = std::move(factory);
}

std::vector<std::string> backend_kinds() {
  std::lock_guard lock(table().mu);
  std::vector<std::string> out;
  for (const auto& [k, f] : table().factories) out.push_back(k);
  return out;
}

std::unique_ptr<Backend> make_backend(const BackendSpec& spec) {
  BackendFactory f;
  {
    std::lock_guard lock(table().mu);
    auto it = table().factories.find(spec.kind);
    if (it != table().factories.end()) f = it->second;
  }
  if (!f) {
    std::string kinds;
    for (const auto& k : backend_kinds()) kinds += (kinds.empty() ? "" : ", ") + k;
    std::string hint = spec.kind == "local" ? " (the embedded engine is not part of this build)" : "";
    throw util::Error("backend spec '" + spec.text + "': unknown backend kind '" + spec.kind + "'" + hint +
                          "; available: " + kinds,
                      {.field = "backend"});
  }
  return f(spec);
}

std::unique_ptr<Backend> make_backend(std::string_view spec) {
  return make_backend(parse_backend_spec(spec));
}

}  // namespace um::backend
