// Configuration that is wrong must fail the start the same way wherever it comes from: the command
// line, a --flagfile (nested or not), or a FLAGS_<name> environment variable. Configuration that is
// right must take effect, with the command line over the environment over the defaults.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "tests/fault/fault_util.h"
#include "tests/support/test_client.h"

namespace reactord::testing {
namespace {

constexpr const char* kAck = "Message received\n";

// A file that removes itself at the end of the test.
class TempFile {
 public:
  explicit TempFile(const std::string& contents)
      : path_("/tmp/reactord-config-test-" + std::to_string(getpid()) + "-" +
              std::to_string(next_++)) {
    std::ofstream(path_) << contents;
  }
  ~TempFile() { unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  static inline int next_ = 0;
  std::string path_;
};

// What a client sees when it sends one line: the echo or the acknowledgement.
std::string answerTo(const ServerProcess& server) {
  auto client = TestClient::connect(server.port());
  if (!client || !client->sendAll("hello\n")) {
    return "(no connection)";
  }
  const std::string reply = client->readExactly(6, milliseconds(5000));
  return reply == "hello\n" ? "echo" : reply == std::string(kAck).substr(0, 6) ? "ack" : reply;
}

TEST(FaultConfig, FlagfileWithUnknownFlagExitsOneNamingFileAndFlag) {
  for (const char* typo : {"--max_conections=5", "--workrs=1", "-protocl=ack"}) {
    const TempFile flagfile(std::string("# a comment\n--workers=1\n") + typo + "\n");
    const RunResult result = runReactord({"--flagfile=" + flagfile.path()});
    EXPECT_EQ(result.exit_code, 1) << typo << ": " << result.output;
    EXPECT_NE(result.output.find(flagfile.path() + ":3"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find(typo), std::string::npos) << result.output;
  }
}

TEST(FaultConfig, FlagfileThatIsNotAReadableFileExitsOne) {
  const TempFile not_a_flag("port=7000\n");  // a line that is not a flag
  for (const std::string& path : {std::string("/tmp"), std::string("/nonexistent/flags"),
                                  not_a_flag.path(), std::string("")}) {
    const RunResult result = runReactord({"--flagfile=" + path});
    EXPECT_EQ(result.exit_code, 1) << path << ": " << result.output;
    EXPECT_NE(result.output.find("flagfile"), std::string::npos) << result.output;
  }
}

TEST(FaultConfig, NestedFlagfilesApplyInOrderAndALoopIsAnError) {
  const TempFile inner("--protocol=ack\n");
  const TempFile outer("--workers=1\n--flagfile=" + inner.path() + "\n");
  ServerProcess server({"--flagfile=" + outer.path()});
  EXPECT_EQ(answerTo(server), "ack");

  const TempFile loop("--workers=1\n");
  std::ofstream(loop.path()) << "--flagfile=" << loop.path() << "\n";
  const RunResult result = runReactord({"--flagfile=" + loop.path()});
  EXPECT_EQ(result.exit_code, 1) << result.output;
}

TEST(FaultConfig, EnvironmentSetsFlagsAndTheCommandLineWins) {
  ServerProcess from_environment({"--workers=1"}, true, 0, -1, {"FLAGS_protocol=ack"});
  EXPECT_EQ(answerTo(from_environment), "ack");
  ServerProcess overridden({"--workers=1", "--protocol=echo"}, true, 0, -1, {"FLAGS_protocol=ack"});
  EXPECT_EQ(answerTo(overridden), "echo");
  const TempFile flagfile("--protocol=ack\n");
  ServerProcess flagfile_from_environment({"--workers=1"}, true, 0, -1,
                                          {"FLAGS_flagfile=" + flagfile.path()});
  EXPECT_EQ(answerTo(flagfile_from_environment), "ack");
}

TEST(FaultConfig, EnvironmentVariableNamingNoFlagOrABadValueExitsOne) {
  for (const char* entry : {"FLAGS_workrs=1", "FLAGS_PORT=7000", "FLAGS_port=abc",
                            "FLAGS_port=70000", "FLAGS_protocol=http"}) {
    const RunResult result = runReactord({}, -1, {entry});
    EXPECT_EQ(result.exit_code, 1) << entry << ": " << result.output;
    const std::string variable = std::string(entry).substr(0, std::string(entry).find('='));
    EXPECT_NE(result.output.find(variable), std::string::npos) << entry << ": " << result.output;
  }
  const TempFile typo("--workrs=1\n");
  const RunResult result = runReactord({}, -1, {"FLAGS_flagfile=" + typo.path()});
  EXPECT_EQ(result.exit_code, 1) << result.output;
}

TEST(FaultConfig, TryfromenvWithAnUnknownFlagExitsOne) {
  const RunResult result = runReactord({"--tryfromenv=workrs"});
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("workrs"), std::string::npos) << result.output;
}

TEST(FaultConfig, HelpExitsZeroAndExplainsTheSources) {
  const RunResult result = runReactord({"--help"});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("FLAGS_"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("-max_pending_bytes ("), std::string::npos) << result.output;
}

}  // namespace
}  // namespace reactord::testing
