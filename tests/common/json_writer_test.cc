#include "common/json_writer.h"

#include <gtest/gtest.h>

namespace reactord::common {
namespace {

TEST(JsonWriterTest, NestsAndSeparates) {
  JsonWriter out;
  out.beginObject();
  out.key("a").value(uint64_t{1});
  out.key("b").beginArray().value(true).value("x").value(0.5).beginObject().endObject().endArray();
  out.key("c").beginObject().key("d").value(false).key("e").null().endObject();
  out.endObject();
  EXPECT_EQ(out.take(), R"({"a":1,"b":[true,"x",0.5,{}],"c":{"d":false,"e":null}})");
}

TEST(JsonWriterTest, EscapesStrings) {
  JsonWriter out;
  out.value(std::string_view("q\" b\\ n\n t\t \x01"));
  EXPECT_EQ(out.take(), R"("q\" b\\ n\n t\t \u0001")");
}

TEST(JsonWriterTest, RecognisesNumbers) {
  for (const char* number : {"0", "-1", "12.5", "1e9", "2.5E-3", "0.0"}) {
    EXPECT_TRUE(isJsonNumber(number)) << number;
  }
  for (const char* text : {"", "-", "01", "1.", ".5", "1e", "nan", "1,2", "+1", "0x1"}) {
    EXPECT_FALSE(isJsonNumber(text)) << text;
  }
}

}  // namespace
}  // namespace reactord::common
