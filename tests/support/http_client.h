#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace reactord::testing {

struct HttpResponse {
  int status = 0;                              // 0 when no valid response arrived
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  // A header's value ("" when absent); `name` in lower case.
  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// One HTTP/1.0 request over a raw loopback socket (the server closes after the response): enough
// for the admin endpoint, without a curl dependency. Every wait has a deadline. Test-thread-only.
HttpResponse httpRequest(uint16_t port, const std::string& method, const std::string& path,
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));

}  // namespace reactord::testing
