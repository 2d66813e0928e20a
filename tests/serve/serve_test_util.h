#pragma once
// A Server over a backend on a free loopback port, run on its own thread for the test's lifetime.
#include <httplib.h>

#include <memory>
#include <string>
#include <thread>

#include "serve/serve.h"

namespace um::testing {

struct RunningServer {
  RunningServer(backend::Backend& be, serve::ServeOptions opts) {
    opts.host = "127.0.0.1";
    opts.port = 0;
    server = std::make_unique<serve::Server>(be, opts);
    port = server->bind();
    thread = std::thread([this] { server->run(); });
    httplib::Client probe("127.0.0.1", port);
    for (int i = 0; i < 200 && !probe.Get("/health"); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ~RunningServer() {
    server->stop();
    thread.join();
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port) + "/v1"; }
  std::unique_ptr<serve::Server> server;
  int port = 0;
  std::thread thread;
};

}  // namespace um::testing
