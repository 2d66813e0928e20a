#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <ctime>
#include <thread>

#include "serve/serve.h"

namespace um::serve {

int run_server_until_signal(backend::Backend& backend, const ServeOptions& options,
                            const std::function<void(const std::string& url)>& on_ready) {
  // SIGTERM/SIGINT are blocked in every thread (the server's workers inherit the mask) and taken
  // synchronously by one watcher thread, which asks the server to stop; in-flight requests finish.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigset_t old;
  pthread_sigmask(SIG_BLOCK, &set, &old);
  Server server(backend, options);
  int port = server.bind();
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    timespec tick{0, 200'000'000};
    while (!done.load()) {
      if (sigtimedwait(&set, nullptr, &tick) > 0) {
        server.stop();
        return;
      }
    }
  });
  on_ready("http://" + options.host + ":" + std::to_string(port));
  server.run();
  done.store(true);
  watcher.join();
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return 0;
}

}  // namespace um::serve
