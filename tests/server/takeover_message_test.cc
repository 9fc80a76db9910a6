#include "server/takeover_message.h"

#include <gtest/gtest.h>

namespace reactord::server {
namespace {

using Type = TakeoverMessage::Type;

TEST(TakeoverMessage, EveryTypeRoundTrips) {
  TakeoverMessage offer;
  offer.type = Type::kOffer;
  offer.pid = 1234;
  offer.count = 3;
  offer.address = "[::]:7000";
  EXPECT_EQ(offer.encode(), "reactord-takeover/1 offer pid=1234 listeners=3 address=[::]:7000");
  const DecodeResult decoded = decodeTakeoverMessage(offer.encode());
  ASSERT_EQ(decoded.status, DecodeStatus::kOk) << decoded.error;
  EXPECT_EQ(decoded.message.type, Type::kOffer);
  EXPECT_EQ(decoded.message.pid, 1234);
  EXPECT_EQ(decoded.message.count, 3u);
  EXPECT_EQ(decoded.message.address, "[::]:7000");

  for (Type type :
       {Type::kHello, Type::kListener, Type::kReady, Type::kDone, Type::kRefused, Type::kAbort}) {
    TakeoverMessage message;
    message.type = type;
    message.pid = 77;
    message.count = 0;
    message.address = "127.0.0.1:1";
    message.reason = "a reason with spaces=and equals";
    const DecodeResult result = decodeTakeoverMessage(message.encode());
    ASSERT_EQ(result.status, DecodeStatus::kOk) << message.encode() << ": " << result.error;
    EXPECT_EQ(result.message.type, type);
    EXPECT_EQ(result.message.encode(), message.encode());
  }
}

TEST(TakeoverMessage, ReasonIsOneBoundedLine) {
  TakeoverMessage message;
  message.type = Type::kRefused;
  message.reason = "line one\nline two" + std::string(2000, 'x');
  const std::string text = message.encode();
  EXPECT_EQ(text.size(), kMaxTakeoverMessageBytes);
  EXPECT_EQ(text.find('\n'), std::string::npos);
  EXPECT_EQ(decodeTakeoverMessage(text).status, DecodeStatus::kOk);
}

TEST(TakeoverMessage, AnotherVersionIsToldApartFromGarbage) {
  const DecodeResult result = decodeTakeoverMessage("reactord-takeover/2 hello pid=5 newfield=1");
  EXPECT_EQ(result.status, DecodeStatus::kWrongVersion);
  EXPECT_EQ(result.message.version, 2);
  EXPECT_NE(result.error.find("protocol version 2"), std::string::npos) << result.error;
}

TEST(TakeoverMessage, MalformedMessagesAreGarbage) {
  for (const char* text : {
           "",
           "hello",
           "reactord-takeover/",
           "reactord-takeover/x hello pid=1",
           "reactord-takeover/1",
           "reactord-takeover/1 ",
           "reactord-takeover/1 goodbye pid=1",
           "reactord-takeover/1 hello",
           "reactord-takeover/1 hello pid=",
           "reactord-takeover/1 hello pid=0",
           "reactord-takeover/1 hello pid=-1",
           "reactord-takeover/1 hello pid=+1",
           "reactord-takeover/1 hello pid=99999999999",
           "reactord-takeover/1 hello pid=1 extra=2",
           "reactord-takeover/1 hello pid=1 ",
           "reactord-takeover/1 hello  pid=1",
           "reactord-takeover/1 offer listeners=1 pid=1 address=0.0.0.0:1",
           "reactord-takeover/1 offer pid=1 listeners=0 address=0.0.0.0:1",
           "reactord-takeover/1 offer pid=1 listeners=1025 address=0.0.0.0:1",
           "reactord-takeover/1 offer pid=1 listeners=1 address=",
           "reactord-takeover/1 listener index=0 address=a\tb",
           "reactord-takeover/1 ready pid=1 workers=1x",
       }) {
    EXPECT_EQ(decodeTakeoverMessage(text).status, DecodeStatus::kGarbage) << "'" << text << "'";
  }
  const std::string with_nul("reactord-takeover/1 hello pid=1\0", 32);
  EXPECT_EQ(decodeTakeoverMessage(with_nul).status, DecodeStatus::kGarbage);
}

}  // namespace
}  // namespace reactord::server
