// The gflags validators both client tools hand to DEFINE_validator: what they accept, and that a
// refusal names the flag on stderr (gflags then exits 1).
#include "client/shared/flag_checks.h"

#include <gtest/gtest.h>

#include <string>

namespace reactord::client {
namespace {

TEST(FlagChecksTest, PortsAreOneTo65535) {
  EXPECT_TRUE(validPort("port", 1));
  EXPECT_TRUE(validPort("port", 65535));
  EXPECT_FALSE(validPort("port", 0));
  EXPECT_FALSE(validPort("port", 65536));
  EXPECT_FALSE(validPort("port", -1));
}

TEST(FlagChecksTest, RangesIncludeTheirBounds) {
  EXPECT_TRUE(validPositive("timeout_ms", 1));
  EXPECT_FALSE(validPositive("timeout_ms", 0));
  EXPECT_TRUE(validThreads("threads", 64));
  EXPECT_FALSE(validThreads("threads", 65));
  EXPECT_TRUE(validSocketBuffer("socket_buffer_bytes", 0));
  EXPECT_FALSE(validSocketBuffer("socket_buffer_bytes", -1));
  EXPECT_TRUE(validMessageBytes("message_bytes", 16 << 20));
  EXPECT_FALSE(validMessageBytes("message_bytes", (16 << 20) + 1));
  EXPECT_TRUE(validNonNegative("rate", 0));
  EXPECT_TRUE(validNonNegative("rate", 1e7));
  EXPECT_FALSE(validNonNegative("rate", -0.5));
  EXPECT_FALSE(validNonNegative("rate", 1e8));
}

TEST(FlagChecksTest, ProtocolsAndProxyHeadersByName) {
  EXPECT_TRUE(validProtocol("protocol", "echo"));
  EXPECT_TRUE(validProtocol("protocol", "ack"));
  EXPECT_FALSE(validProtocol("protocol", "smtp"));
  for (const char* kind : {"none", "v1", "v2", "v2-local"}) {
    EXPECT_TRUE(validProxyHeader("proxy_header", kind)) << kind;
  }
  EXPECT_FALSE(validProxyHeader("proxy_header", "v3"));
  EXPECT_FALSE(validProxyHeader("proxy_header", ""));
}

TEST(FlagChecksTest, ProxySourceIsEmptyOrANumericAddress) {
  EXPECT_TRUE(validProxySource("proxy_source", ""));
  EXPECT_TRUE(validProxySource("proxy_source", "203.0.113.9"));
  EXPECT_TRUE(validProxySource("proxy_source", "2001:db8::9"));
  EXPECT_FALSE(validProxySource("proxy_source", "localhost"));
  EXPECT_FALSE(validProxySource("proxy_source", "203.0.113.9:80"));
}

TEST(FlagChecksTest, ARefusalNamesTheFlagAndTheValue) {
  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(validChoice("mode", "storm", false, "pingpong or rate"));
  const std::string refused = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(refused.find("--mode"), std::string::npos) << refused;
  EXPECT_NE(refused.find("storm"), std::string::npos) << refused;

  ::testing::internal::CaptureStderr();
  EXPECT_TRUE(validChoice("mode", "rate", true, "pingpong or rate"));
  EXPECT_TRUE(validPort("port", 7000));
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");

  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(validPort("port", 0));
  const std::string out_of_range = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(out_of_range.find("--port"), std::string::npos) << out_of_range;
}

}  // namespace
}  // namespace reactord::client
