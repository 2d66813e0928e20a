#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <csignal>
#include <ctime>
#include <thread>

#include "serve/serve.h"

namespace um::serve {
namespace {

volatile std::sig_atomic_t g_stop_requested = 0;

void on_stop_signal(int) { g_stop_requested = 1; }

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

void block_stop_signals() {
  sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int run_server_until_signal(backend::Backend& backend, const ServeOptions& options,
                            const std::function<void(const std::string& url)>& on_ready) {
  // Threads started before the mask (libraries' pools created at load time) may still receive
  // SIGTERM/SIGINT: a handler that only sets a flag covers them; signals blocked everywhere stay
  // pending and are taken by sigtimedwait. Either way one watcher thread asks the server to stop,
  // and in-flight requests finish.
  g_stop_requested = 0;
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  struct sigaction old_term {
  }, old_int{};
  sigaction(SIGTERM, &sa, &old_term);
  sigaction(SIGINT, &sa, &old_int);
  sigset_t set = stop_signals();
  sigset_t old_mask;
  pthread_sigmask(SIG_BLOCK, &set, &old_mask);
  Server server(backend, options);
  int port = server.bind();
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    timespec tick{0, 100'000'000};
    while (!done.load()) {
      if (sigtimedwait(&set, nullptr, &tick) > 0 || g_stop_requested) {
        server.stop();
        return;
      }
    }
  });
  on_ready("http://" + options.host + ":" + std::to_string(port));
  server.run();
  done.store(true);
  watcher.join();
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  sigaction(SIGINT, &old_int, nullptr);
  return 0;
}

}  // namespace um::serve
