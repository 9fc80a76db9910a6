#include "common/owed_replies.h"

#include <gtest/gtest.h>

#include <string>

namespace reactord::common {
namespace {

constexpr std::string_view kReply = "Message received\n";
constexpr size_t kBatchReplies = 8;

std::string replies(size_t count) {
  std::string s;
  for (size_t i = 0; i < count; ++i) {
    s += kReply;
  }
  return s;
}

const RepeatedReply& ack() {
  static const std::string text = replies(kBatchReplies);
  static const RepeatedReply reply{kReply, text.data(), kBatchReplies};
  return reply;
}

// Writes everything owed in pieces of at most `step` bytes, as a socket taking that much at a time.
std::string drain(OwedReplies& owed, size_t step) {
  std::string out;
  while (!owed.empty()) {
    const std::string_view next = owed.next();
    EXPECT_FALSE(next.empty());
    const size_t n = std::min(step, next.size());
    out.append(next.substr(0, n));
    owed.consume(n);
  }
  return out;
}

TEST(OwedRepliesTest, OwesACountNotBytes) {
  OwedReplies owed;
  EXPECT_TRUE(owed.empty());
  EXPECT_EQ(owed.bytes(), 0u);
  owed.add(ack(), 1'000'000);  // what 1,000,000 bare newlines ask for: 17 MB owed, no buffer
  EXPECT_EQ(owed.bytes(), 17'000'000u);
  EXPECT_EQ(owed.count(), 1'000'000u);
  EXPECT_LE(sizeof owed, size_t{32});
  EXPECT_EQ(owed.next().size(), kBatchReplies * kReply.size());  // one batch at a time
}

TEST(OwedRepliesTest, PartialWritesKeepTheStreamExact) {
  for (size_t step : {1, 5, 17, 18, 40, 200}) {
    OwedReplies owed;
    owed.add(ack(), 3);
    owed.consume(5);  // a short write of the first reply
    owed.add(ack(), 20);
    EXPECT_EQ(owed.bytes(), 23 * kReply.size() - 5);
    EXPECT_EQ(drain(owed, step), replies(23).substr(5)) << "step " << step;
  }
}

TEST(OwedRepliesTest, TheLastLineComesAfterEveryReply) {
  for (size_t step : {3, 17, 1000}) {
    OwedReplies owed;
    owed.add(ack(), 10);
    owed.consume(20);
    owed.setLast("ERR message too long\n");
    EXPECT_EQ(owed.bytes(), 10 * kReply.size() - 20 + 21);
    EXPECT_EQ(drain(owed, step), replies(10).substr(20) + "ERR message too long\n");
  }
  OwedReplies only_error;
  only_error.setLast("ERR message timeout\n");
  only_error.consume(4);
  EXPECT_EQ(drain(only_error, 100), "message timeout\n");
}

}  // namespace
}  // namespace reactord::common
