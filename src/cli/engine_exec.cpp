#include "cli/engine_exec.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace um::cli {

std::filesystem::path engine_path() {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return self.parent_path() / UM_ENGINE_NAME;
}

int exec_engine(char** argv) {
  const std::filesystem::path engine = engine_path();
  if (engine.empty()) {
    std::fprintf(stderr, "usermirror: error: cannot locate %s: /proc/self/exe is unreadable\n",
                 UM_ENGINE_NAME);
    return 127;
  }
  ::execv(engine.c_str(), argv);
  const int err = errno;
  std::fprintf(stderr,
               "usermirror: error: this command runs in the engine binary %s, which cannot be started: %s "
               "(it is built next to usermirror by the same build)\n",
               engine.c_str(), std::strerror(err));
  return 127;
}

}  // namespace um::cli
