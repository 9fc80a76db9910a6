// The admin endpoint of the real binary: /metrics checked against what the test did, the format
// checked by a strict parser, readiness through a drain, methods and paths.
#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/http_client.h"
#include "tests/support/metrics_scrape.h"
#include "tests/support/prometheus_checker.h"
#include "tests/support/server_process.h"
#include "tests/support/test_client.h"

namespace reactord::testing {
namespace {

using Clock = std::chrono::steady_clock;

TEST(AdminTest, MetricsUnderLoadMatchWhatTheClientsDid) {
  ServerProcess server({"--workers=2", "--admin_port=-1"});
  const uint16_t admin = adminPort(server);
  ASSERT_NE(admin, 0) << server.log();

  constexpr int kClients = 20;
  std::vector<TestClient> clients;
  uint64_t sent = 0;
  for (int i = 0; i < kClients; ++i) {
    auto client = TestClient::connect(server.port());
    ASSERT_TRUE(client);
    const std::string data = randomBytes(1000 + 937 * i, i + 1);
    ASSERT_TRUE(client->exchange(data) == data);
    sent += data.size();
    clients.push_back(std::move(*client));
  }

  const auto all_echoed = [&](const PrometheusChecker& m) {
    return m.value("reactord_sent_bytes_total") == static_cast<double>(sent) &&
           m.value("reactord_connections_accepted_total") == kClients;
  };
  std::string text;
  const PrometheusChecker m = scrapeUntil(admin, all_echoed, &text);
  EXPECT_EQ(m.value("reactord_connections_accepted_total"), kClients) << text;
  EXPECT_EQ(m.value("reactord_connections_closed_total"), 0.0);
  EXPECT_EQ(m.value("reactord_active_connections"), kClients);
  EXPECT_EQ(m.value("reactord_received_bytes_total"), static_cast<double>(sent));
  EXPECT_EQ(m.value("reactord_sent_bytes_total"), static_cast<double>(sent));
  EXPECT_EQ(*m.value("reactord_worker_active_connections", {{"worker", "0"}}) +
                *m.value("reactord_worker_active_connections", {{"worker", "1"}}),
            kClients);
  EXPECT_EQ(*m.value("reactord_worker_received_bytes_total", {{"worker", "0"}}) +
                *m.value("reactord_worker_received_bytes_total", {{"worker", "1"}}),
            static_cast<double>(sent));
  // Every read is in the histogram, and the histogram's sum is the bytes read.
  EXPECT_EQ(m.value("reactord_read_size_bytes_count"), m.value("reactord_reads_total"));
  EXPECT_GE(*m.value("reactord_reads_total"), kClients);
  EXPECT_EQ(m.value("reactord_read_size_bytes_sum"), static_cast<double>(sent));
  EXPECT_EQ(m.value("reactord_connections_rejected_total", {{"reason", "max_connections"}}), 0.0);
  EXPECT_EQ(m.value("reactord_errors_total", {{"kind", "connection"}}), 0.0);
  EXPECT_EQ(m.value("reactord_draining"), 0.0);
  EXPECT_EQ(m.value("reactord_workers", {{"source", "--workers"}}), 2.0);
  EXPECT_GT(*m.value("reactord_start_time_seconds"), 1.6e9);
  EXPECT_GE(*m.value("reactord_uptime_seconds"), 0.0);

  // /stats has the same numbers.
  const HttpResponse stats = httpRequest(admin, "GET", "/stats");
  EXPECT_EQ(stats.status, 200);
  EXPECT_EQ(stats.header("content-type"), "application/json");
  EXPECT_NE(stats.body.find("\"total\":{\"active\":20,\"accepted\":20,\"closed\":0,"),
            std::string::npos)
      << stats.body;
  EXPECT_NE(stats.body.find("\"bytes_in\":" + std::to_string(sent) + ","), std::string::npos);

  clients.clear();
  const PrometheusChecker after = scrapeUntil(admin, [](const PrometheusChecker& c) {
    return c.value("reactord_active_connections") == 0.0;
  });
  EXPECT_EQ(after.value("reactord_active_connections"), 0.0);
  EXPECT_EQ(after.value("reactord_connections_closed_total"), kClients);
}

TEST(AdminTest, RejectionsAreCountedByReason) {
  ServerProcess server({"--workers=1", "--admin_port=-1", "--max_connections=2"});
  const uint16_t admin = adminPort(server);
  ASSERT_NE(admin, 0);
  auto a = TestClient::connect(server.port());
  auto b = TestClient::connect(server.port());
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->exchange("a") == "a");
  ASSERT_TRUE(b->exchange("b") == "b");
  auto c = TestClient::connect(server.port());
  ASSERT_TRUE(c);
  bool closed = false;
  c->readUntilClosed(milliseconds(5000), &closed);
  EXPECT_TRUE(closed);
  const PrometheusChecker m = scrapeUntil(admin, [](const PrometheusChecker& c) {
    return c.value("reactord_connections_rejected_total", {{"reason", "max_connections"}}) == 1.0;
  });
  EXPECT_EQ(m.value("reactord_connections_rejected_total", {{"reason", "max_connections"}}), 1.0);
  EXPECT_EQ(m.value("reactord_worker_connections_rejected_total",
                    {{"worker", "0"}, {"reason", "max_connections"}}),
            1.0);
  EXPECT_EQ(m.value("reactord_active_connections"), 2.0);
  EXPECT_EQ(m.value("reactord_connections_rejected_total", {{"reason", "max_connections_per_ip"}}),
            0.0);
}

TEST(AdminTest, PerIpRejectionsHaveTheirOwnReason) {
  ServerProcess server({"--workers=1", "--admin_port=-1", "--max_connections_per_ip=1"});
  const uint16_t admin = adminPort(server);
  ASSERT_NE(admin, 0);
  auto a = TestClient::connect(server.port());
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->exchange("a") == "a");
  auto b = TestClient::connect(server.port());
  ASSERT_TRUE(b);
  bool closed = false;
  b->readUntilClosed(milliseconds(5000), &closed);
  EXPECT_TRUE(closed);
  const PrometheusChecker m = scrapeUntil(admin, [](const PrometheusChecker& c) {
    return c.value("reactord_connections_rejected_total", {{"reason", "max_connections_per_ip"}}) ==
           1.0;
  });
  EXPECT_EQ(m.value("reactord_connections_rejected_total", {{"reason", "max_connections_per_ip"}}),
            1.0);
  EXPECT_EQ(m.value("reactord_connections_rejected_total", {{"reason", "max_connections"}}), 0.0);
  EXPECT_EQ(m.value("reactord_active_connections"), 1.0);
}

TEST(AdminTest, ReadSizeHistogramBucketsEachRead) {
  ServerProcess server({"--workers=1", "--admin_port=-1"});
  const uint16_t admin = adminPort(server);
  ASSERT_NE(admin, 0);
  auto client = TestClient::connect(server.port());
  ASSERT_TRUE(client);
  // Ping-pong: the server's every read finds exactly what one send put there.
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(client->exchange("x") == "x");
  }
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client->exchange("abc") == "abc");
  }
  const PrometheusChecker m = scrapeUntil(admin, [](const PrometheusChecker& c) {
    return c.value("reactord_read_size_bytes_count") == 8.0;
  });
  EXPECT_EQ(m.value("reactord_read_size_bytes_bucket", {{"le", "1"}}), 5.0);
  EXPECT_EQ(m.value("reactord_read_size_bytes_bucket", {{"le", "2"}}), 5.0);
  EXPECT_EQ(m.value("reactord_read_size_bytes_bucket", {{"le", "4"}}), 8.0);
  EXPECT_EQ(m.value("reactord_read_size_bytes_bucket", {{"le", "+Inf"}}), 8.0);
  EXPECT_EQ(m.value("reactord_read_size_bytes_sum"), 14.0);
  EXPECT_EQ(m.value("reactord_worker_read_size_bytes_bucket", {{"worker", "0"}, {"le", "1"}}), 5.0);
}

// Five connections with known sizes and one with a known life: the connection histograms count
// each once, when it closes, in the bucket of its bytes and its duration, and their sums are the
// bytes the clients sent and got back.
TEST(AdminTest, ConnectionHistogramsMatchAKnownSetOfConnections) {
  ServerProcess server({"--workers=2", "--admin_port=-1"});
  const uint16_t admin = adminPort(server);
  ASSERT_NE(admin, 0);
  const size_t sizes[] = {0, 1, 100, 5000, 70000};  // buckets le=1, 1, 128, 8192, 131072
  size_t total = 0;
  for (size_t i = 0; i < std::size(sizes); ++i) {
    auto client = TestClient::connect(server.port());
    ASSERT_TRUE(client);
    const std::string data = randomBytes(sizes[i], static_cast<uint32_t>(i + 1));
    if (!data.empty()) {
      ASSERT_TRUE(client->exchange(data) == data);
    }
    client->shutdownWrite();
    bool closed = false;
    client->readUntilClosed(milliseconds(5000), &closed);
    ASSERT_TRUE(closed);
    total += data.size();
  }
  // One more, open for 400 ms as the client sees it: the server's view (accept to close) differs
  // by the accept and close delays, well inside (256, 512] ms even on a loaded machine.
  auto held = TestClient::connect(server.port());
  ASSERT_TRUE(held);
  ASSERT_TRUE(held->exchange("held") == "held");
  total += 4;
  std::this_thread::sleep_for(milliseconds(400));
  held->shutdownWrite();
  held->readUntilClosed(milliseconds(5000));

  const PrometheusChecker m = scrapeUntil(admin, [](const PrometheusChecker& c) {
    return c.value("reactord_connection_duration_seconds_count") == 6.0;
  });
  const auto bucket = [&](const char* family, const char* le) {
    return m.value(std::string(family) + "_bucket", {{"le", le}}).value_or(-1);
  };
  EXPECT_EQ(m.value("reactord_connection_received_bytes_count"), 6.0);
  EXPECT_EQ(m.value("reactord_connection_received_bytes_sum"), static_cast<double>(total));
  EXPECT_EQ(m.value("reactord_connection_sent_bytes_sum"), static_cast<double>(total));
  EXPECT_EQ(bucket("reactord_connection_received_bytes", "1"), 2.0);
  EXPECT_EQ(bucket("reactord_connection_received_bytes", "4"), 3.0);  // "held"
  EXPECT_EQ(bucket("reactord_connection_received_bytes", "128"), 4.0);
  EXPECT_EQ(bucket("reactord_connection_received_bytes", "4096"), 4.0);
  EXPECT_EQ(bucket("reactord_connection_received_bytes", "8192"), 5.0);
  EXPECT_EQ(bucket("reactord_connection_received_bytes", "65536"), 5.0);
  EXPECT_EQ(bucket("reactord_connection_received_bytes", "131072"), 6.0);
  EXPECT_EQ(bucket("reactord_connection_sent_bytes", "128"), 4.0);
  EXPECT_EQ(bucket("reactord_connection_sent_bytes", "+Inf"), 6.0);
  EXPECT_EQ(bucket("reactord_connection_duration_seconds", "0.256"), 5.0);
  EXPECT_EQ(bucket("reactord_connection_duration_seconds", "0.512"), 6.0);
  EXPECT_GE(*m.value("reactord_connection_duration_seconds_sum"), 0.256);
  // The histograms count closed connections only; the byte counters count every byte.
  EXPECT_EQ(m.value("reactord_received_bytes_total"), static_cast<double>(total));

  const HttpResponse stats = httpRequest(admin, "GET", "/stats");
  EXPECT_NE(stats.body.find("\"connection_in_bytes\":{\"count\":6,\"sum\":" +
                            std::to_string(total) + ",\"p50\":4,\"p90\":131072,"),
            std::string::npos)
      << stats.body;
  EXPECT_NE(stats.body.find("\"connection_ms\":{\"count\":6,"), std::string::npos);
}

TEST(AdminTest, ReadinessFailsFromTheStartOfTheDrainWhileConnectionsAreServed) {
  ServerProcess server({"--workers=2", "--admin_port=-1", "--drain_timeout_s=30"});
  const uint16_t admin = adminPort(server);
  ASSERT_NE(admin, 0);
  EXPECT_EQ(httpRequest(admin, "GET", "/readyz").status, 200);
  EXPECT_EQ(httpRequest(admin, "GET", "/healthz").status, 200);
  auto client = TestClient::connect(server.port());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->exchange("before") == "before");

  server.signal(SIGTERM);
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  HttpResponse ready = httpRequest(admin, "GET", "/readyz");
  while (ready.status != 503 && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
    ready = httpRequest(admin, "GET", "/readyz");
  }
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(ready.body, "draining\n");
  // The open connection keeps the drain going: still served, still not ready, still healthy.
  ASSERT_TRUE(client->exchange("during") == "during");
  EXPECT_EQ(httpRequest(admin, "GET", "/readyz").status, 503);
  EXPECT_EQ(httpRequest(admin, "GET", "/healthz").status, 200);
  PrometheusChecker m;
  const HttpResponse metrics = httpRequest(admin, "GET", "/metrics");
  EXPECT_TRUE(m.check(metrics.body).empty());
  EXPECT_EQ(m.value("reactord_draining"), 1.0);
  EXPECT_EQ(m.value("reactord_active_connections"), 1.0);

  client->shutdownWrite();
  bool closed = false;
  client->readUntilClosed(milliseconds(10000), &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(server.waitExit(milliseconds(10000)), 0);
  const std::string log = server.log();
  const size_t final_line = log.find("final ");
  const size_t admin_stop = log.find("shutdown: stopping the admin endpoint");
  ASSERT_NE(final_line, std::string::npos) << log;
  ASSERT_NE(admin_stop, std::string::npos) << log;
  EXPECT_LT(final_line, admin_stop) << "the admin endpoint must be the last thing stopped";
}

// --drain_delay_s: from SIGTERM on, /readyz says 503 while new connects are still accepted and
// served (a balancer has time to stop sending); after the delay the usual drain refuses them.
TEST(AdminTest, DrainDelayServesNewConnectsWhileNotReadyThenRefusesThem) {
  // 5 s: long enough that the connect below surely lands inside it on a loaded machine.
  constexpr int kDelayS = 5;
  ServerProcess server({"--workers=2", "--admin_port=-1", "--drain_timeout_s=20",
                        "--drain_delay_s=" + std::to_string(kDelayS)});
  const uint16_t admin = adminPort(server);
  ASSERT_NE(admin, 0);
  auto open_before = TestClient::connect(server.port());
  ASSERT_TRUE(open_before);
  ASSERT_TRUE(open_before->exchange("before") == "before");

  const auto sigterm = Clock::now();
  server.signal(SIGTERM);
  ASSERT_TRUE(server.waitForLog("drain delay: /readyz answers 503", milliseconds(5000)));
  EXPECT_EQ(httpRequest(admin, "GET", "/readyz").status, 503);
  // Not ready, yet a new client is accepted and served, by every listener still open.
  auto during = TestClient::connect(server.port());
  ASSERT_TRUE(during) << "a connect during the drain delay was refused";
  EXPECT_TRUE(during->exchange("during the delay") == "during the delay");
  EXPECT_EQ(listenerCount(server.port()), 2);
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - sigterm).count(), kDelayS)
      << "the machine was too slow for this test to land inside the delay";

  // After the delay: the drain closes the listeners and refuses new connects at once.
  ASSERT_TRUE(server.waitForLog("worker 1: listener closed", milliseconds(kDelayS * 1000 + 5000)));
  ASSERT_TRUE(server.waitForLog("worker 0: listener closed", milliseconds(5000)));
  EXPECT_GE(std::chrono::duration<double>(Clock::now() - sigterm).count(), kDelayS - 0.05);
  EXPECT_NE(server.log().find("drain delay: 5s over"), std::string::npos) << server.log();
  int error = 0;
  EXPECT_FALSE(TestClient::connect(server.port(), "127.0.0.1", &error));
  EXPECT_EQ(error, ECONNREFUSED);
  EXPECT_EQ(httpRequest(admin, "GET", "/readyz").status, 503);

  // Both connections are served to their end, then the server exits 0.
  for (auto* client : {&*open_before, &*during}) {
    ASSERT_TRUE(client->exchange("after") == "after");
    client->shutdownWrite();
    bool closed = false;
    client->readUntilClosed(milliseconds(10000), &closed);
    EXPECT_TRUE(closed);
  }
  EXPECT_EQ(server.waitExit(milliseconds(10000)), 0);
  EXPECT_EQ(server.statsLine()["forced_closed"], "0");
}

TEST(AdminTest, SecondSigtermDuringTheDrainDelayStopsAtOnce) {
  ServerProcess server({"--workers=1", "--admin_port=-1", "--drain_delay_s=60"});
  auto client = TestClient::connect(server.port());
  ASSERT_TRUE(client);
  server.signal(SIGTERM);
  ASSERT_TRUE(server.waitForLog("drain delay: /readyz answers 503", milliseconds(5000)));
  server.signal(SIGTERM);
  EXPECT_EQ(server.waitExit(milliseconds(10000)), 0);
  bool closed = false;
  client->readUntilClosed(milliseconds(2000), &closed);
  EXPECT_TRUE(closed);
  EXPECT_NE(server.log().find("immediate stop"), std::string::npos) << server.log();
}

TEST(AdminTest, MethodsPathsAndHead) {
  ServerProcess server({"--workers=1", "--admin_port=-1"});
  const uint16_t admin = adminPort(server);
  ASSERT_NE(admin, 0);

  const HttpResponse get = httpRequest(admin, "GET", "/metrics");
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  ASSERT_FALSE(get.body.empty());
  EXPECT_EQ(get.header("content-length"), std::to_string(get.body.size()));

  const HttpResponse head = httpRequest(admin, "HEAD", "/metrics");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "") << "HEAD must not have a body";
  EXPECT_EQ(head.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_GT(std::stoul(head.header("content-length")), 0u);

  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "PATCH"}) {
    const HttpResponse response = httpRequest(admin, method, "/metrics");
    EXPECT_EQ(response.status, 405) << method;
    EXPECT_EQ(response.header("allow"), "GET, HEAD") << method;
  }
  EXPECT_EQ(httpRequest(admin, "GET", "/nope").status, 404);
  EXPECT_EQ(httpRequest(admin, "GET", "/").status, 404);
  EXPECT_EQ(httpRequest(admin, "GET", "/metrics?x=1").status, 200) << "a query is ignored";
  const HttpResponse health = httpRequest(admin, "GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
}

TEST(AdminTest, OffByDefault) {
  ServerProcess server({"--workers=1"});
  auto client = TestClient::connect(server.port());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->exchange("x") == "x");
  server.signal(SIGTERM);
  client->shutdownWrite();
  EXPECT_EQ(server.waitExit(milliseconds(10000)), 0);
  EXPECT_EQ(server.log().find("admin"), std::string::npos) << server.log();
}

TEST(AdminTest, BusyAdminPortExitsNonZeroNamingTheAddress) {
  ServerProcess first({"--workers=1", "--admin_port=-1"});
  const uint16_t admin = adminPort(first);
  ASSERT_NE(admin, 0);
  const RunResult second = runReactord({"--workers=1", "--admin_port=" + std::to_string(admin)});
  EXPECT_NE(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("127.0.0.1:" + std::to_string(admin)), std::string::npos)
      << second.output;
  // The first one is unaffected.
  EXPECT_EQ(httpRequest(admin, "GET", "/healthz").status, 200);
}

TEST(AdminTest, AdminPortOnTheServersOwnPortIsRefused) {
  ServerProcess first({"--workers=1"});
  const RunResult second = runReactord(
      {"--workers=1", "--admin_bind=0.0.0.0", "--admin_port=" + std::to_string(first.port())});
  EXPECT_NE(second.exit_code, 0) << second.output;
}

TEST(AdminTest, BadAdminFlagsExitOneNamingTheFlag) {
  for (const std::string& flag :
       {std::string("--admin_port=70000"), std::string("--admin_port=-2"),
        std::string("--admin_bind=localhost"), std::string("--stats_format=xml")}) {
    const RunResult result = runReactord({flag});
    EXPECT_EQ(result.exit_code, 1) << flag << ": " << result.output;
    EXPECT_NE(result.output.find(flag.substr(2, flag.find('=') - 2)), std::string::npos)
        << result.output;
  }
}

TEST(AdminTest, JsonStatsLinesHaveTheTextKeys) {
  ServerProcess server({"--workers=2", "--stats_format=json"});
  auto client = TestClient::connect(server.port());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->exchange("hello") == "hello");
  server.signal(SIGUSR1);
  ASSERT_TRUE(server.waitForLog("{\"event\":\"stats\"", milliseconds(5000))) << server.log();
  client->shutdownWrite();
  client->readUntilClosed(milliseconds(5000));
  server.signal(SIGTERM);
  EXPECT_EQ(server.waitExit(milliseconds(10000)), 0);
  const std::string log = server.log();
  const size_t final_at = log.find("{\"event\":\"final\",");
  ASSERT_NE(final_at, std::string::npos) << log;
  const std::string line = log.substr(final_at, log.find('\n', final_at) - final_at);
  EXPECT_EQ(line.back(), '}');
  for (const char* key : {"\"interval_s\":", "\"workers\":2,", "\"accepted\":1,", "\"bytes_in\":5,",
                          "\"bytes_out\":5,", "\"worker_active\":[", "\"worker_accepted\":["}) {
    EXPECT_NE(line.find(key), std::string::npos) << key << " in " << line;
  }
}

}  // namespace
}  // namespace reactord::testing
