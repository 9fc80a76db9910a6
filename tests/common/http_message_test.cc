#include "common/http_message.h"

#include <gtest/gtest.h>

#include <string>

namespace reactord::common {
namespace {

HttpParse parse(std::string_view text, HttpRequestHead* head = nullptr, size_t max = 8192) {
  HttpRequestHead ignored;
  return parseHttpRequestHead(text, max, head != nullptr ? head : &ignored);
}

TEST(HttpMessageTest, ParsesMethodPathAndSize) {
  HttpRequestHead head;
  const std::string text = "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\nbody";
  ASSERT_EQ(parse(text, &head), HttpParse::kComplete);
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.path, "/metrics");
  EXPECT_EQ(head.size, text.size() - 4);
}

TEST(HttpMessageTest, AnyTokenIsAMethodCaseKept) {
  HttpRequestHead head;
  for (const std::string method : {"BREW", "get", "M-SEARCH", "X_Y!"}) {
    const std::string text = method + " / HTTP/1.0\r\n\r\n";  // the head's views point into it
    ASSERT_EQ(parse(text, &head), HttpParse::kComplete) << method;
    EXPECT_EQ(head.method, method);
  }
  EXPECT_EQ(parse("G(T / HTTP/1.0\r\n\r\n"), HttpParse::kBadRequest);
  EXPECT_EQ(parse(" GET / HTTP/1.0\r\n\r\n"), HttpParse::kBadRequest);
}

TEST(HttpMessageTest, IncompleteUntilTheEmptyLine) {
  const std::string text = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  for (size_t size = 0; size < text.size(); ++size) {
    EXPECT_EQ(parse(text.substr(0, size)), HttpParse::kIncomplete) << size;
  }
  EXPECT_EQ(parse(text), HttpParse::kComplete);
}

TEST(HttpMessageTest, LeadingEmptyLinesAndBareLineFeeds) {
  HttpRequestHead head;
  ASSERT_EQ(parse("\r\n\nGET /healthz HTTP/1.0\nHost: a\n\n", &head), HttpParse::kComplete);
  EXPECT_EQ(head.path, "/healthz");
}

TEST(HttpMessageTest, TargetForms) {
  HttpRequestHead head;
  ASSERT_EQ(parse("GET HTTP://host:9/readyz#f HTTP/1.1\r\n\r\n", &head), HttpParse::kComplete);
  EXPECT_EQ(head.path, "/readyz");
  ASSERT_EQ(parse("GET https://host HTTP/1.1\r\n\r\n", &head), HttpParse::kComplete);
  EXPECT_EQ(head.path, "/");
  ASSERT_EQ(parse("OPTIONS * HTTP/1.1\r\n\r\n", &head), HttpParse::kComplete);
  EXPECT_EQ(head.path, "*");
}

TEST(HttpMessageTest, BadRequestLinesAndHeaders) {
  for (const std::string text :
       {"GET /\r\n\r\n", "GET  / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1 x\r\n\r\n",
        "GET / HTTP/11\r\n\r\n", "GET / http/1.1\r\n\r\n", "GET /a\x01 HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nno colon\r\n\r\n", "GET / HTTP/1.1\r\n folded: x\r\n\r\n",
        "GET / HTTP/1.1\r\n: empty name\r\n\r\n"}) {
    EXPECT_EQ(parse(text), HttpParse::kBadRequest) << text;
  }
  EXPECT_EQ(parse("GET / HTTP/2.0\r\n\r\n"), HttpParse::kBadVersion);
  EXPECT_EQ(parse("GET / HTTP/0.9\r\n\r\n"), HttpParse::kBadVersion);
}

TEST(HttpMessageTest, TooLargeAtTheLimitNotBefore) {
  const std::string head = "GET / HTTP/1.1\r\nX: aaaa\r\n\r\n";  // 28 bytes
  EXPECT_EQ(parse(head, nullptr, head.size()), HttpParse::kComplete);
  EXPECT_EQ(parse(head, nullptr, head.size() - 1), HttpParse::kTooLarge);
  EXPECT_EQ(parse(head.substr(0, 20), nullptr, 20), HttpParse::kTooLarge);
  EXPECT_EQ(parse(head.substr(0, 19), nullptr, 20), HttpParse::kIncomplete);
}

TEST(HttpMessageTest, ResponseHasLengthDateAndClose) {
  const std::string date = httpDate(784111777);
  EXPECT_EQ(date, "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(formatHttpResponse(405, "Method Not Allowed", date, "text/plain", "no\n",
                               "Allow: GET, HEAD\r\n", true),
            "HTTP/1.1 405 Method Not Allowed\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
            "Content-Type: text/plain\r\nContent-Length: 3\r\nCache-Control: no-store\r\n"
            "Connection: close\r\nAllow: GET, HEAD\r\n\r\nno\n");
  const std::string head = formatHttpResponse(200, "OK", date, "text/plain", "12345", "", false);
  EXPECT_TRUE(
      head.ends_with("Content-Length: 5\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"))
      << head;
}

}  // namespace
}  // namespace reactord::common
