#pragma once

#include <functional>
#include <string>
#include <thread>

namespace reactord::server {

// What to change after a start-up step failed with `error` (an errno value), for the end of the
// one-line message: "; the open-file limit (ulimit -n) is 12: raise it, or use fewer --workers
// ...". Empty when the error is not about a resource limit. Any thread.
std::string resourceHint(int error);

// Starts `body` on a new thread in `thread`. When the thread cannot be created (the limit on
// threads or address space), returns false with `error` = "cannot start the thread of WHAT: ..."
// and what to change, instead of throwing std::system_error. Any thread.
bool startThread(std::thread* thread, std::function<void()> body, const std::string& what,
                 std::string* error);

}  // namespace reactord::server
