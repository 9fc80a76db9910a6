#include "tests/support/http_client.h"

#include <algorithm>
#include <cctype>

#include "tests/support/test_client.h"

namespace reactord::testing {

HttpResponse httpRequest(uint16_t port, const std::string& method, const std::string& path,
                         std::chrono::milliseconds timeout) {
  HttpResponse response;
  auto client = TestClient::connect(port);
  if (!client || !client->sendAll(method + " " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")) {
    return response;
  }
  bool closed = false;
  const std::string text = client->readUntilClosed(timeout, &closed);
  const size_t head_end = text.find("\r\n\r\n");
  if (!closed || head_end == std::string::npos || text.compare(0, 7, "HTTP/1.") != 0) {
    return response;
  }
  response.status = std::stoi(text.substr(9, 3));
  size_t at = text.find("\r\n") + 2;
  while (at < head_end) {
    const size_t end = text.find("\r\n", at);
    const std::string line = text.substr(at, end - at);
    const size_t colon = line.find(':');
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    const size_t value = line.find_first_not_of(' ', colon + 1);
    response.headers[name] = value == std::string::npos ? "" : line.substr(value);
    at = end + 2;
  }
  response.body = text.substr(head_end + 4);
  return response;
}

}  // namespace reactord::testing
