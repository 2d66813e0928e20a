// The `_usermirror` extension module: errors, JSON conversion, background workers.
#include <pybind11/stl.h>

#include <mutex>

#include "python/python.h"
#include "util/error.h"
#include "util/progress.h"

namespace um::python {

namespace {

struct Background {
  std::thread thread;
  std::shared_future<void> stopped;
};

std::mutex background_mu;
std::vector<Background>& background() {
  static auto* threads = new std::vector<Background>();  // never destroyed: joined at exit instead
  return *threads;
}

PyObject* error_type = nullptr;
PyObject* not_supported_type = nullptr;

void raise_error(PyObject* type, const util::Error& e) {
  py::object exc = py::reinterpret_steal<py::object>(PyObject_CallFunction(type, "s", e.what()));
  if (!exc) return;  // the constructor raised: that error is set
  const util::Location& w = e.where();
  exc.attr("message") = e.message();
  exc.attr("file") = w.file.empty() ? py::object(py::none()) : py::object(py::str(w.file));
  exc.attr("line") = w.line > 0 ? py::object(py::int_(w.line)) : py::object(py::none());
  exc.attr("field") = w.field.empty() ? py::object(py::none()) : py::object(py::str(w.field));
  exc.attr("record") = w.record.empty() ? py::object(py::none()) : py::object(py::str(w.record));
  PyErr_SetObject(type, exc.ptr());
}

}  // namespace

void adopt_background(std::thread t, std::shared_future<void> stopped) {
  std::lock_guard lock(background_mu);
  background().push_back({std::move(t), std::move(stopped)});
}

void join_background() {
  std::vector<Background> threads;
  {
    std::lock_guard lock(background_mu);
    threads.swap(background());
  }
  for (auto& b : threads) b.thread.join();
}

void wait_for_background() {
  for (;;) {
    std::shared_future<void> next;
    {
      std::lock_guard lock(background_mu);
      auto& all = background();
      for (auto it = all.begin(); it != all.end();) {
        if (it->stopped.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
          it->thread.join();
          it = all.erase(it);
        } else {
          if (!next.valid()) next = it->stopped;
          ++it;
        }
      }
    }
    if (!next.valid()) return;
    {
      py::gil_scoped_release release;
      next.wait_for(std::chrono::milliseconds(50));
    }
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  }
}

ProgressForwarder::ProgressForwarder(std::shared_ptr<util::CallControl> control, py::object progress)
    : control_(std::move(control)), progress_(std::move(progress)) {}

bool ProgressForwarder::absorb() {
  for (auto& r : control_->take()) {
    seen_ = true;
    auto& held = held_[r.bar];
    if (!held.final) held = std::move(r);
  }
  return seen_;
}

void ProgressForwarder::forward(bool all) {
  absorb();
  if (progress_.is_none()) {
    held_.clear();
    return;
  }
  auto now = std::chrono::steady_clock::now();
  const bool due = all || now - last_ >= std::chrono::milliseconds(100);
  for (auto it = held_.begin(); it != held_.end();) {
    if (!due && !it->second.final) {
      ++it;
      continue;
    }
    util::CallControl::Report r = std::move(it->second);
    it = held_.erase(it);
    progress_(r.label, r.done, r.total);
  }
  if (due) last_ = now;
}

bool wait_stopped(const std::shared_future<void>& done, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  for (;;) {
    {
      py::gil_scoped_release release;
      if (done.wait_for(std::chrono::milliseconds(50)) == std::future_status::ready) return true;
    }
    // A second Ctrl-C stops waiting (its KeyboardInterrupt is dropped: one is being raised).
    if (PyErr_CheckSignals() != 0) {
      PyErr_Clear();
      return false;
    }
    if (std::chrono::steady_clock::now() >= until) return false;
  }
}

void bind_errors(py::module_& m) {
  // Subclasses of RuntimeError; attributes are set by the translator below.
  error_type = PyErr_NewExceptionWithDoc(
      "usermirror.Error",
      "An error of the usermirror C++ code, with .message, .file, .line, .field and .record "
      "(None when unknown).",
      PyExc_RuntimeError, nullptr);
  not_supported_type = PyErr_NewExceptionWithDoc(
      "usermirror.NotSupported",
      "A feature, configuration or input kind usermirror deliberately does not support.", error_type,
      nullptr);
  m.add_object("Error", py::handle(error_type));
  m.add_object("NotSupported", py::handle(not_supported_type));
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const util::Cancelled&) {
      PyErr_SetNone(PyExc_KeyboardInterrupt);
    } catch (const util::NotSupported& e) {
      raise_error(not_supported_type, e);
    } catch (const util::Error& e) {
      raise_error(error_type, e);
    }
  });
}

nlohmann::json to_json(py::handle h) {
  if (h.is_none()) return nullptr;
  if (py::isinstance<py::bool_>(h)) return h.cast<bool>();
  if (py::isinstance<py::int_>(h)) return h.cast<int64_t>();
  if (py::isinstance<py::float_>(h)) return h.cast<double>();
  if (py::isinstance<py::str>(h)) return h.cast<std::string>();
  if (py::isinstance<py::dict>(h)) {
    nlohmann::json out = nlohmann::json::object();
    for (auto [k, v] : h.cast<py::dict>()) out[py::str(k).cast<std::string>()] = to_json(v);
    return out;
  }
  if (py::isinstance<py::list>(h) || py::isinstance<py::tuple>(h)) {
    nlohmann::json out = nlohmann::json::array();
    for (auto v : h) out.push_back(to_json(v));
    return out;
  }
  // numpy scalars and other numbers
  if (py::hasattr(h, "__index__")) return py::int_(py::reinterpret_borrow<py::object>(h)).cast<int64_t>();
  if (py::hasattr(h, "__float__")) return py::float_(py::reinterpret_borrow<py::object>(h)).cast<double>();
  throw util::Error("cannot turn a Python " + std::string(py::str(py::type::handle_of(h).attr("__name__"))) +
                    " into a JSON value");
}

}  // namespace um::python

PYBIND11_MODULE(_usermirror, m) {
  using namespace um::python;
  m.doc() = "usermirror's C++ core (use the `usermirror` package, not this module directly)";
  bind_errors(m);
  m.def("_join_background", [] {
    py::gil_scoped_release release;
    join_background();
  });
  m.def("_wait_background", &wait_for_background);
  bind_stages(m);
  bind_simulator(m);
#ifdef UM_HAVE_ARENA
  bind_arena(m);
  bind_env(m);
  m.attr("_have_arena") = true;
#else
  m.attr("_have_arena") = false;
#endif
#ifdef UM_BACKEND_EMBEDDED
  m.attr("_have_local") = true;
#else
  m.attr("_have_local") = false;
#endif
}
