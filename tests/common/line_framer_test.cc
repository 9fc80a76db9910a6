#include "common/line_framer.h"

#include <gtest/gtest.h>

#include <string>

namespace reactord::common {
namespace {

size_t feed(LineFramer& framer, const std::string& text, size_t max = 64) {
  const LineFramer::Scan scan = framer.feed(text.data(), text.size(), max);
  EXPECT_FALSE(scan.too_long) << text;
  return scan.complete;
}

TEST(LineFramerTest, CountsMergedMessagesInOneChunk) {
  LineFramer framer;
  EXPECT_EQ(feed(framer, "a\nbb\nccc\n"), 3u);
  EXPECT_EQ(framer.partialBytes(), 0u);
}

TEST(LineFramerTest, MessageSplitAcrossChunksCountsOnceWhenComplete) {
  LineFramer framer;
  EXPECT_EQ(feed(framer, "Hel"), 0u);
  EXPECT_EQ(framer.partialBytes(), 3u);
  EXPECT_EQ(feed(framer, "lo Wor"), 0u);
  EXPECT_EQ(feed(framer, "ld\nnext"), 1u);
  EXPECT_EQ(framer.partialBytes(), 4u);
}

TEST(LineFramerTest, EveryByteSplitGivesTheSameCount) {
  const std::string stream = "one\ntwo\n\nthree\nfour";
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    LineFramer framer;
    const size_t total = feed(framer, stream.substr(0, cut)) + feed(framer, stream.substr(cut));
    EXPECT_EQ(total, 4u) << "cut at " << cut;
    EXPECT_EQ(framer.partialBytes(), 4u) << "cut at " << cut;
  }
}

TEST(LineFramerTest, EmptyLineIsAMessage) {
  LineFramer framer;
  EXPECT_EQ(feed(framer, "\n\n"), 2u);
}

TEST(LineFramerTest, MessageAtTheLimitPassesOneMoreByteIsTooLong) {
  LineFramer framer;
  EXPECT_EQ(feed(framer, std::string(8, 'x') + "\n", 8), 1u);
  const std::string long_line = "ok\n" + std::string(9, 'y') + "\n";
  const LineFramer::Scan scan = framer.feed(long_line.data(), long_line.size(), 8);
  EXPECT_EQ(scan.complete, 1u);  // the message before the long one still counts
  EXPECT_TRUE(scan.too_long);
}

TEST(LineFramerTest, TooLongIsSeenBeforeTheNewlineArrives) {
  LineFramer framer;
  EXPECT_EQ(feed(framer, std::string(5, 'x'), 8), 0u);
  const std::string more(4, 'x');
  EXPECT_TRUE(framer.feed(more.data(), more.size(), 8).too_long);
}

TEST(LineFramerTest, CrLfEndsAMessageAndItsCrDoesNotCount) {
  LineFramer framer;
  // A 100-byte line sent as telnet sends it, with a limit of 100.
  EXPECT_EQ(feed(framer, std::string(100, 'x') + "\r\n", 100), 1u);
  EXPECT_EQ(framer.partialBytes(), 0u);
  const std::string long_line = std::string(101, 'x') + "\r\n";
  EXPECT_TRUE(framer.feed(long_line.data(), long_line.size(), 100).too_long);
}

TEST(LineFramerTest, CrLfSplitBetweenChunksAtTheLimit) {
  LineFramer framer;
  EXPECT_EQ(feed(framer, std::string(8, 'x') + "\r", 8), 0u);  // may be the "\r" of "\r\n"
  EXPECT_EQ(framer.partialBytes(), 9u);
  EXPECT_EQ(feed(framer, "\n", 8), 1u);
  // The same '\r' followed by anything but '\n' is part of the message: too long.
  EXPECT_EQ(feed(framer, std::string(8, 'x') + "\r", 8), 0u);
  const std::string next = "y";
  EXPECT_TRUE(framer.feed(next.data(), next.size(), 8).too_long);
}

TEST(LineFramerTest, OnlyTheCrRightBeforeTheNewlineIsIgnored) {
  LineFramer framer;
  const std::string two_crs = std::string(8, 'x') + "\r\r\n";  // 9 bytes of message
  EXPECT_TRUE(framer.feed(two_crs.data(), two_crs.size(), 8).too_long);
  LineFramer other;
  EXPECT_EQ(feed(other, "a\rb\r\n", 3), 1u);  // "a\rb": 3 bytes
}

}  // namespace
}  // namespace reactord::common
