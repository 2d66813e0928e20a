#pragma once
// Hand-off from the light `usermirror` binary to `usermirror-engine`, the full command table built
// next to it (same folder, found through /proc/self/exe so symlinks and relative calls work).
#include <filesystem>

namespace um::cli {

// The engine binary beside the running executable (empty when /proc/self/exe is unreadable).
std::filesystem::path engine_path();

// Replaces this process with the engine, argv unchanged (so stdout, stderr and the exit code are the
// engine's). Returns only when that fails, after printing which path could not be started; the
// return value is then the exit code (127).
int exec_engine(char** argv);

}  // namespace um::cli
