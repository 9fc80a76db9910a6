// The opt-in soak: mixed load on an echo and an ack server for REACTORD_SOAK_SECONDS
// (default 600), their RSS and fd counts sampled every round (about 2 s). It fails if either grows
// without bound: the peak of the last third of the run may not exceed the peak of the first third
// by more than 8 MiB of RSS or 64 descriptors, and once the load stops the descriptors are back
// at their baseline. Run with `ctest -C soak -L soak` (see docs/testing.md, "Soak").
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <vector>

#include "tests/fault/echo_load.h"
#include "tests/fault/fault_util.h"
#include "tests/support/test_client.h"

namespace reactord::testing {
namespace {

struct Sample {
  double at_s;
  long rss_kb;
  int fds;
};

// One round of mixed traffic against `echo` and `ack`: streaming clients that half-close, short
// connections, clients that reset mid-echo, a client that stops reading, ack lines.
void mixedRound(ServerProcess& echo, ServerProcess& ack, std::mt19937& random) {
  EchoLoad load(echo.port(), 40);
  load.closeSoon(milliseconds(2000));
  load.run(seconds(20));
  for (const auto& client : load.clients()) {
    EXPECT_TRUE(client.eof && !client.mismatch && client.received == client.sent)
        << "stream client " << client.seed;
  }
  for (int i = 0; i < 100; ++i) {
    auto client = TestClient::connect(echo.port());
    ASSERT_TRUE(client);
    EXPECT_EQ(client->exchange("short"), "short");
  }
  const std::string payload = randomBytes(256 << 10, random());
  for (int i = 0; i < 20; ++i) {
    auto client = TestClient::connect(echo.port());
    ASSERT_TRUE(client);
    client->sendUntilBlocked(payload.substr(0, 1 + random() % payload.size()), milliseconds(5));
    client->abort();
  }
  auto stalled = TestClient::connect(echo.port());
  ASSERT_TRUE(stalled);
  stalled->sendUntilBlocked(payload, milliseconds(100));
  for (int i = 0; i < 20; ++i) {
    auto client = TestClient::connect(ack.port());
    ASSERT_TRUE(client);
    std::string lines;
    for (int j = 0; j < 50; ++j) {
      lines += std::string(random() % 200, 'x') + "\n";
    }
    ASSERT_TRUE(client->sendAll(lines));
    EXPECT_EQ(client->readExactly(50 * 17).size(), 50u * 17);
  }
}

TEST(FaultSoak, MixedLoadKeepsMemoryAndDescriptorsBounded) {
  const char* env = std::getenv("REACTORD_SOAK_SECONDS");
  const double duration_s = env != nullptr ? std::atof(env) : 600.0;
  ServerProcess echo({"--workers=2", "--max_pending_bytes=65536", "--idle_timeout_s=60"});
  ServerProcess ack({"--workers=2", "--protocol=ack", "--max_message_bytes=4096"});
  const int echo_fds = echo.fdCount();
  const int ack_fds = ack.fdCount();
  std::mt19937 random(2026);
  std::vector<Sample> samples;
  const auto start = Clock::now();
  while (secondsSince(start) < duration_s) {
    mixedRound(echo, ack, random);
    if (::testing::Test::HasFatalFailure()) {
      return;
    }
    samples.push_back(
        {secondsSince(start), echo.rssKb() + ack.rssKb(), echo.fdCount() + ack.fdCount()});
    std::printf("soak t=%.0fs rss=%ld KiB fds=%d\n", samples.back().at_s, samples.back().rss_kb,
                samples.back().fds);
    std::fflush(stdout);
  }
  ASSERT_GE(samples.size(), 3u) << "run longer: REACTORD_SOAK_SECONDS";
  const size_t third = samples.size() / 3;
  long first_rss = 0, last_rss = 0;
  int first_fds = 0, last_fds = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    long& rss = i < third ? first_rss : last_rss;
    int& fds = i < third ? first_fds : last_fds;
    if (i < third || i >= samples.size() - third) {
      rss = std::max(rss, samples[i].rss_kb);
      fds = std::max(fds, samples[i].fds);
    }
  }
  EXPECT_LE(last_rss, first_rss + 8 * 1024 * kSanitizerMemoryFactor) << "RSS keeps growing";
  EXPECT_LE(last_fds, first_fds + 64) << "descriptors keep growing";
  EXPECT_TRUE(waitUntil([&] { return echo.fdCount() == echo_fds && ack.fdCount() == ack_fds; },
                        seconds(70)))
      << "fds after the load: " << echo.fdCount() << "+" << ack.fdCount() << ", baseline "
      << echo_fds << "+" << ack_fds;
  EXPECT_EQ(stopServer(echo), 0);
  EXPECT_EQ(stopServer(ack), 0);
  std::printf(
      "[ figure ] %zu rounds in %.0f s; RSS peak %ld KiB (first third) -> %ld KiB (last); "
      "fds peak %d -> %d\n",
      samples.size(), secondsSince(start), first_rss, last_rss, first_fds, last_fds);
}

}  // namespace
}  // namespace reactord::testing
