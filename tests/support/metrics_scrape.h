#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "tests/support/prometheus_checker.h"

namespace reactord::testing {

// Scrapes /metrics until `done` holds for a valid exposition or 10 s pass; returns the last
// checker. Every scrape must be valid (a test failure otherwise). The counters are updated by the
// workers right after the bytes move, so the last few may land a moment after a client saw them:
// wait for them with `done`. `last_text` gets the last exposition.
PrometheusChecker scrapeUntil(uint16_t port,
                              const std::function<bool(const PrometheusChecker&)>& done,
                              std::string* last_text = nullptr);

}  // namespace reactord::testing
