#include "tests/support/metrics_scrape.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "tests/support/http_client.h"

namespace reactord::testing {
namespace {

std::string problemsOf(const std::vector<std::string>& problems) {
  std::string text;
  for (const auto& problem : problems) {
    text += problem + "\n";
  }
  return text;
}

}  // namespace

PrometheusChecker scrapeUntil(uint16_t port,
                              const std::function<bool(const PrometheusChecker&)>& done,
                              std::string* last_text) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  PrometheusChecker checker;
  while (true) {
    const HttpResponse response = httpRequest(port, "GET", "/metrics");
    EXPECT_EQ(response.status, 200);
    const auto problems = checker.check(response.body);
    EXPECT_TRUE(problems.empty()) << problemsOf(problems) << response.body;
    if (last_text != nullptr) {
      *last_text = response.body;
    }
    if ((problems.empty() && done(checker)) || std::chrono::steady_clock::now() >= deadline) {
      return checker;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace reactord::testing
