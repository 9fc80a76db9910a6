#include "server/command_line.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <string>
#include <vector>

namespace reactord::server {
namespace {

using Args = std::vector<std::string>;

const std::set<std::string, std::less<>> kFlags = {"port", "protocol", "oneshot", "flagfile"};

CommandLine makeCommandLine() {
  return CommandLine([](std::string_view name) { return kFlags.count(name) > 0; },
                     [](std::string_view name, std::string_view value) {
                       return name != "port" ||
                              value.find_first_not_of("0123456789") == std::string_view::npos;
                     });
}

class CommandLineTest : public ::testing::Test {
 protected:
  ~CommandLineTest() override {
    for (const std::string& path : files_) {
      unlink(path.c_str());
    }
  }
  std::string file(const std::string& contents) {
    files_.push_back("/tmp/reactord-cl-test-" + std::to_string(getpid()) + "-" +
                     std::to_string(files_.size()));
    std::ofstream(files_.back()) << contents;
    return files_.back();
  }
  std::optional<Args> build(const Args& args, const Args& environment = {}) {
    error_.clear();
    return makeCommandLine().build(args, environment, &error_);
  }

  std::vector<std::string> files_;
  std::string error_;
};

TEST_F(CommandLineTest, EnvironmentComesBeforeTheCommandLine) {
  const auto args = build({"reactord", "--port=1"}, {"PATH=/bin", "FLAGS_port=2", "HOME=/"});
  ASSERT_TRUE(args) << error_;
  EXPECT_EQ(*args, (Args{"reactord", "--port=2", "--port=1"}));
}

TEST_F(CommandLineTest, EnvironmentNamingNoFlagOrWithABadValueIsAnError) {
  EXPECT_FALSE(build({"reactord"}, {"FLAGS_prot=1"}));
  EXPECT_NE(error_.find("FLAGS_prot"), std::string::npos) << error_;
  EXPECT_FALSE(build({"reactord"}, {"FLAGS_port=x"}));
  EXPECT_NE(error_.find("FLAGS_port=x"), std::string::npos) << error_;
}

TEST_F(CommandLineTest, FlagfilesExpandInPlaceWithCommentsAndBlanks) {
  const std::string inner = file("--oneshot\n");
  const std::string outer =
      file("# comment\n\n  --port=5  \r\n--flagfile=" + inner + "\n--nooneshot\n");
  const auto args = build({"reactord", "--port=1", "--flagfile", outer, "--protocol=ack"});
  ASSERT_TRUE(args) << error_;
  EXPECT_EQ(*args, (Args{"reactord", "--port=1", "--port=5", "--oneshot", "--nooneshot",
                         "--protocol=ack"}));
}

TEST_F(CommandLineTest, FlagfileFromTheEnvironmentComesFirst) {
  const std::string flags = file("--port=5\n");
  const auto args = build({"reactord"}, {"FLAGS_port=6", "FLAGS_flagfile=" + flags});
  ASSERT_TRUE(args) << error_;
  EXPECT_EQ(*args, (Args{"reactord", "--port=5", "--port=6"}));
}

TEST_F(CommandLineTest, FlagfileErrorsNameTheFileAndLine) {
  const std::string typo = file("--port=5\n--prot=1\n");
  EXPECT_FALSE(build({"reactord", "--flagfile=" + typo}));
  EXPECT_NE(error_.find(typo + ":2: unknown flag '--prot=1'"), std::string::npos) << error_;
  const std::string bare = file("port=5\n");
  EXPECT_FALSE(build({"reactord", "--flagfile=" + bare}));
  EXPECT_NE(error_.find("not a flag"), std::string::npos) << error_;
  EXPECT_FALSE(build({"reactord", "--flagfile=/tmp"}));
  EXPECT_NE(error_.find("not a regular file"), std::string::npos) << error_;
  EXPECT_FALSE(build({"reactord", "--flagfile=/nonexistent"}));
  EXPECT_FALSE(build({"reactord", "--flagfile="}));
  // --nofoo only for a flag foo.
  EXPECT_FALSE(build({"reactord", "--flagfile=" + file("--nosuch\n")}));
}

TEST_F(CommandLineTest, AFlagfileThatNamesItselfIsAnError) {
  const std::string self = file("");
  std::ofstream(self) << "--flagfile=" << self << "\n";
  EXPECT_FALSE(build({"reactord", "--flagfile=" + self}));
  EXPECT_NE(error_.find("nested"), std::string::npos) << error_;
}

TEST_F(CommandLineTest, UnknownCommandLineFlagsAreLeftToGflagsAndDashDashEndsTheFlags) {
  const auto args = build({"reactord", "--prot=1", "--", "--flagfile=x"});
  ASSERT_TRUE(args) << error_;
  EXPECT_EQ(*args, (Args{"reactord", "--prot=1", "--", "--flagfile=x"}));
}

}  // namespace
}  // namespace reactord::server
