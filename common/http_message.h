#pragma once

#include <cstddef>
#include <ctime>
#include <string>
#include <string_view>

namespace reactord::common {

// What a small read-only HTTP/1.x endpoint needs of a request head: the method and the path.
// Views into the bytes parsed. A value type.
struct HttpRequestHead {
  std::string_view method;  // a token, case-sensitive (RFC 9110): "GET", "get", "BREW"
  std::string_view path;    // the target's path, without query and fragment: "/metrics"
  size_t size = 0;          // bytes of the head, its empty last line included
};

enum class HttpParse {
  kIncomplete,  // no empty line yet, within the size limit: read on
  kComplete,    // the head is filled in
  kBadRequest,  // not an HTTP/1.x request line, or a header line without a name (400)
  kTooLarge,    // no empty line within the size limit (431)
  kBadVersion,  // a well-formed request of another major version: HTTP/2.0, HTTP/0.9 (505)
};

// Parses the request head at the start of `input`: the request line "METHOD SP TARGET SP
// HTTP/1.x", header lines, an empty line. Lines end with "\r\n" or "\n"; empty lines before the
// request line are skipped (RFC 9112 2.2). Header fields are checked for a name and otherwise not
// interpreted; what follows the head (a body, another request) is not looked at. The head,
// skipped lines included, may take `max_bytes` at most. Pure; any thread.
HttpParse parseHttpRequestHead(std::string_view input, size_t max_bytes, HttpRequestHead* head);

// The Date header's value for `time`: "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 5.6.7).
std::string httpDate(std::time_t time);

// A complete HTTP/1.1 response that ends the connection: status line, Date, Content-Type,
// Content-Length (of `body`, also when the body is left out), Cache-Control: no-store,
// Connection: close, `extra_headers` ("Name: value\r\n" each), the empty line, then the body
// unless `with_body` is false (the answer to HEAD). Pure; any thread.
std::string formatHttpResponse(int status, std::string_view reason, std::string_view date,
                               std::string_view content_type, std::string_view body,
                               std::string_view extra_headers, bool with_body);

}  // namespace reactord::common
