// Pure logic of reactor-bench: payload streams, the send-time ring, the JSON report.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <string_view>

#include "client/reactor_bench/bench_report.h"
#include "client/reactor_bench/payload.h"
#include "client/reactor_bench/send_times.h"
#include "client/shared/protocol.h"
#include "tests/client/flat_json.h"

namespace reactord::client {
namespace {

TEST(PayloadTest, AnySliceOfAPeriodIsContiguous) {
  const Payload payload = Payload::echoStream();
  ASSERT_GE(payload.period(), Payload::kMinPeriod);
  for (uint64_t offset : {uint64_t{0}, uint64_t{12345}, uint64_t{payload.period() - 1},
                          uint64_t{7} * payload.period() + 99}) {
    // Byte i of the slice is the stream's byte offset + i, wrapping at the period.
    const char* slice = payload.at(offset);
    for (uint64_t i : {uint64_t{0}, uint64_t{1}, uint64_t{payload.period() - 1}}) {
      EXPECT_EQ(slice[i], *payload.at(offset + i)) << offset << "+" << i;
    }
  }
}

TEST(PayloadTest, EchoStreamUsesEveryByteValue) {
  const Payload payload = Payload::echoStream();
  std::set<unsigned char> seen(payload.at(0), payload.at(0) + 4096);
  EXPECT_EQ(seen.size(), 256u);
}

TEST(PayloadTest, AckRequestsAreLinesOfTheMessageSize) {
  for (size_t size : {size_t{2}, size_t{64}, size_t{1000}}) {
    const Payload payload = Payload::ackRequests(size);
    EXPECT_EQ(payload.period() % size, 0u);
    const std::string_view period(payload.at(0), payload.period());
    for (size_t i = 0; i < period.size(); ++i) {
      ASSERT_EQ(period[i] == '\n', i % size == size - 1) << "size " << size << " byte " << i;
    }
  }
}

TEST(PayloadTest, AckRepliesRepeatTheAcknowledgement) {
  const Payload payload = Payload::ackReplies();
  EXPECT_EQ(payload.period() % kAckReply.size(), 0u);
  EXPECT_EQ(std::string_view(payload.at(17 * 1000), 17), kAckReply);
}

TEST(SendTimesTest, KeepsOrderAcrossGrowthAndWrap) {
  SendTimes times;
  int64_t next_in = 0;
  int64_t next_out = 0;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < round % 7 + 3; ++i) {
      times.push(next_in++);
    }
    for (int i = 0; i < round % 5 + 1 && !times.empty(); ++i) {
      EXPECT_EQ(times.pop(), next_out++);
    }
  }
  EXPECT_EQ(times.size(), static_cast<size_t>(next_in - next_out));
  times.clear();
  EXPECT_TRUE(times.empty());
}

TEST(BenchReportTest, JsonHasExactlyTheDocumentedKeys) {
  BenchResult result;
  result.options.mode = BenchMode::kChurn;
  result.options.protocol = Protocol::kAck;
  result.duration_s = 2;
  result.window.messages = 1000;
  result.window.connects = 400;
  result.all.timeouts = 3;
  result.latency.record(150'000);
  result.client_cpu_s = 0.25;
  const auto json = testing::parseFlatJson(formatJson(result));
  ASSERT_TRUE(json.has_value()) << formatJson(result);
  std::set<std::string> keys;
  for (const auto& [key, value] : *json) {
    keys.insert(key);
  }
  const std::set<std::string> expected = {"mode",
                                          "protocol",
                                          "threads",
                                          "connections",
                                          "message_bytes",
                                          "pipeline",
                                          "duration_s",
                                          "messages",
                                          "msgs_per_s",
                                          "bytes_per_s",
                                          "connects",
                                          "connects_per_s",
                                          "errors.mismatches",
                                          "errors.resets",
                                          "errors.timeouts",
                                          "errors.connect_failures",
                                          "errors.connect_refused",
                                          "errors.connect_timeouts",
                                          "missed_connects",
                                          "latency_us.p50",
                                          "latency_us.p90",
                                          "latency_us.p99",
                                          "latency_us.p999",
                                          "latency_us.max",
                                          "client_cpu_s"};
  EXPECT_EQ(keys, expected);
  EXPECT_EQ(json->at("mode"), "churn");
  EXPECT_EQ(json->at("protocol"), "ack");
  EXPECT_DOUBLE_EQ(std::stod(json->at("msgs_per_s")), 500.0);
  EXPECT_DOUBLE_EQ(std::stod(json->at("bytes_per_s")), 500.0 * 64);
  EXPECT_DOUBLE_EQ(std::stod(json->at("connects_per_s")), 200.0);
  EXPECT_EQ(json->at("errors.timeouts"), "3");
  EXPECT_DOUBLE_EQ(std::stod(json->at("latency_us.max")), 150.0);
  EXPECT_TRUE(result.failed());
  EXPECT_NE(formatSummary(result).find("FAILED"), std::string::npos);
}

TEST(BenchReportTest, WarnsWhenTheClientItselfSentLate) {
  BenchResult result;
  result.options.mode = BenchMode::kRate;
  for (int i = 0; i < 100; ++i) {
    result.latency.record(3'000'000);   // 3 ms
    result.send_lag.record(2'500'000);  // 2.5 ms of it spent in the client
  }
  EXPECT_NE(clientLagWarning(result).find("sent late"), std::string::npos);
  EXPECT_NE(formatSummary(result).find("sent late"), std::string::npos);

  result.send_lag.reset();
  result.send_lag.record(20'000);  // 20 us: no weight in the figures
  EXPECT_EQ(clientLagWarning(result), "");
  result.options.mode = BenchMode::kPingPong;  // closed loop: no schedule to be late for
  result.send_lag.record(9'000'000);
  EXPECT_EQ(clientLagWarning(result), "");
}

}  // namespace
}  // namespace reactord::client
