#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "tests/support/prometheus_checker.h"
#include "tests/support/server_process.h"

namespace reactord::testing {

// The admin port of a server started with --admin_port=-1, from its log line
// "admin listening on 127.0.0.1:PORT" (waited for up to 10 s); 0 when it never came.
uint16_t adminPort(const ServerProcess& server);

// Scrapes /metrics until `done` holds for a valid exposition or 10 s pass; returns the last
// checker. Every scrape must be valid (a test failure otherwise). The counters are updated by the
// workers right after the bytes move, so the last few may land a moment after a client saw them:
// wait for them with `done`. `last_text` gets the last exposition.
PrometheusChecker scrapeUntil(uint16_t port,
                              const std::function<bool(const PrometheusChecker&)>& done,
                              std::string* last_text = nullptr);

}  // namespace reactord::testing
