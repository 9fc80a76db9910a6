#include "common/http_message.h"

#include <algorithm>
#include <cstring>

namespace reactord::common {
namespace {

// tchar of RFC 9110 5.6.2: the characters of a method or a header name.
bool isTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr);
}

bool isToken(std::string_view text) {
  if (text.empty()) {
    return false;
  }
  for (const char c : text) {
    if (!isTokenChar(c)) {
      return false;
    }
  }
  return true;
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// The path of a request target: origin form "/p?q", absolute form "http://host/p?q", or "*".
std::string_view pathOf(std::string_view target) {
  for (const std::string_view scheme : {"http://", "https://"}) {
    if (target.size() >= scheme.size() &&
        std::equal(scheme.begin(), scheme.end(), target.begin(),
                   [](char a, char b) { return a == (b | 0x20); })) {
      const size_t slash = target.find('/', scheme.size());
      target = slash == std::string_view::npos ? "/" : target.substr(slash);
      break;
    }
  }
  return target.substr(0, target.find_first_of("?#"));
}

// Parses "METHOD SP TARGET SP HTTP/D.D" into `head`.
HttpParse parseRequestLine(std::string_view line, HttpRequestHead* head) {
  const size_t first = line.find(' ');
  const size_t second = first == std::string_view::npos ? first : line.find(' ', first + 1);
  if (second == std::string_view::npos) {
    return HttpParse::kBadRequest;
  }
  const std::string_view method = line.substr(0, first);
  const std::string_view target = line.substr(first + 1, second - first - 1);
  const std::string_view version = line.substr(second + 1);
  if (!isToken(method) || target.empty()) {
    return HttpParse::kBadRequest;
  }
  for (const char c : target) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return HttpParse::kBadRequest;
    }
  }
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !isDigit(version[5]) ||
      version[6] != '.' || !isDigit(version[7])) {
    return HttpParse::kBadRequest;
  }
  if (version[5] != '1') {
    return HttpParse::kBadVersion;
  }
  head->method = method;
  head->path = pathOf(target);
  return HttpParse::kComplete;
}

}  // namespace

HttpParse parseHttpRequestHead(std::string_view input, size_t max_bytes, HttpRequestHead* head) {
  bool seen_request_line = false;
  HttpRequestHead parsed;
  size_t at = 0;
  while (true) {
    const size_t newline = input.find('\n', at);
    if (newline == std::string_view::npos || newline >= max_bytes) {
      return input.size() >= max_bytes ? HttpParse::kTooLarge : HttpParse::kIncomplete;
    }
    std::string_view line = input.substr(at, newline - at);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    at = newline + 1;
    if (!seen_request_line) {
      if (line.empty()) {
        continue;  // an empty line before the request line
      }
      const HttpParse result = parseRequestLine(line, &parsed);
      if (result != HttpParse::kComplete) {
        return result;
      }
      seen_request_line = true;
    } else if (line.empty()) {
      parsed.size = at;
      *head = parsed;
      return HttpParse::kComplete;
    } else if (const size_t colon = line.find(':');
               colon == std::string_view::npos || !isToken(line.substr(0, colon))) {
      return HttpParse::kBadRequest;  // no "name:", or a folded line (RFC 9112 5.2)
    }
  }
}

std::string httpDate(std::time_t time) {
  std::tm parts{};
  gmtime_r(&time, &parts);
  char text[40];
  // strftime's %a and %b follow the locale, which is "C" in reactord (no setlocale call).
  const size_t size = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &parts);
  return std::string(text, size);
}

std::string formatHttpResponse(int status, std::string_view reason, std::string_view date,
                               std::string_view content_type, std::string_view body,
                               std::string_view extra_headers, bool with_body) {
  std::string response = "HTTP/1.1 " + std::to_string(status) + " ";
  response += reason;
  response += "\r\nDate: ";
  response += date;
  response += "\r\nContent-Type: ";
  response += content_type;
  response += "\r\nContent-Length: " + std::to_string(body.size());
  response += "\r\nCache-Control: no-store\r\nConnection: close\r\n";
  response += extra_headers;
  response += "\r\n";
  if (with_body) {
    response += body;
  }
  return response;
}

}  // namespace reactord::common
