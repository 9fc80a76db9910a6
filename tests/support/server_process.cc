#include "tests/support/server_process.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string_view>

namespace reactord::testing {
namespace {

void setLimit(int resource, rlim_t value) {
  const rlimit limit{value, value};
  setrlimit(resource, &limit);
}

pid_t spawn(const std::vector<std::string>& flags, int* output_fd, const ChildSetup& setup) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe2 failed");
  }
  std::vector<std::string> args = {REACTORD_BINARY};
  args.insert(args.end(), flags.begin(), flags.end());
  std::vector<char*> argv;
  for (auto& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    if (setup.close_stderr) {
      close(STDERR_FILENO);
    } else {
      dup2(pipe_fds[1], STDERR_FILENO);
    }
    if (setup.open_file_limit > 0) {
      setLimit(RLIMIT_NOFILE, static_cast<rlim_t>(setup.open_file_limit));
    }
    const int uid = setup.run_as_uid;
    if (uid >= 0 && (setgroups(0, nullptr) != 0 || setgid(uid) != 0 || setuid(uid) != 0)) {
      _exit(126);
    }
    for (const auto& [resource, value] : setup.limits) {
      setLimit(resource, value);
    }
    for (const std::string& entry : setup.environment) {
      const size_t equals = entry.find('=');
      setenv(entry.substr(0, equals).c_str(), entry.substr(equals + 1).c_str(), 1);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  *output_fd = pipe_fds[0];
  return pid;
}

// utime + stime of a /proc/.../stat file, in seconds.
double cpuSecondsFromStat(const std::string& path) {
  std::ifstream stat(path);
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string field;
  long ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14 || i == 15) {
      ticks += std::stol(field);  // utime, stime
    }
  }
  return static_cast<double>(ticks) / sysconf(_SC_CLK_TCK);
}

std::optional<int> decodeStatus(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  return -WTERMSIG(status);
}

}  // namespace

ServerProcess::ServerProcess(std::vector<std::string> flags, bool wait_listening,
                             int open_file_limit, int run_as_uid,
                             const std::vector<std::string>& environment)
    : ServerProcess(std::move(flags), ChildSetup{open_file_limit, run_as_uid, environment, {}},
                    wait_listening) {}

ServerProcess::ServerProcess(std::vector<std::string> flags, const ChildSetup& setup,
                             bool wait_listening) {
  flags.insert(flags.begin(), {"--port=0", "--stats_interval_s=0"});
  int output_fd = -1;
  pid_ = spawn(flags, &output_fd, setup);
  reader_ = std::thread([this, output_fd] { readLog(output_fd); });
  if (!wait_listening) {
    return;
  }
  if (!waitForLog("listening on ", milliseconds(10000))) {
    throw std::runtime_error("reactord did not start listening; its log:\n" + log());
  }
  const std::string text = log();
  const size_t at = text.find("listening on ");
  const size_t colon = text.find(" workers=", at);
  port_ = static_cast<uint16_t>(std::stoi(text.substr(text.rfind(':', colon) + 1)));
}

ServerProcess::~ServerProcess() {
  if (!exited_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  reader_.join();
  if (::testing::Test::HasFailure()) {
    std::fprintf(stderr, "--- reactord's log (pid %d) ---\n%s--- end of log ---\n", pid_,
                 log_.c_str());
  }
}

void ServerProcess::readLog(int fd) {
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) {
      std::lock_guard<std::mutex> lock(log_mutex_);
      log_.append(buffer, n);
      log_changed_.notify_all();
    }
  }
  close(fd);
  std::lock_guard<std::mutex> lock(log_mutex_);
  output_ended_ = true;
  log_changed_.notify_all();
}

void ServerProcess::signal(int signal_number) const { kill(pid_, signal_number); }

std::optional<int> ServerProcess::waitExit(milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      waitForOutputEnd(milliseconds(5000));  // so that log() has the last lines
      return decodeStatus(status);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
}

std::string ServerProcess::log() const {
  std::lock_guard<std::mutex> lock(log_mutex_);
  return log_;
}

bool ServerProcess::waitForLog(const std::string& needle, milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(log_mutex_);
  return log_changed_.wait_for(lock, timeout,
                               [&] { return log_.find(needle) != std::string::npos; });
}

bool ServerProcess::waitForOutputEnd(milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(log_mutex_);
  return log_changed_.wait_for(lock, timeout, [&] { return output_ended_; });
}

long ServerProcess::rssKb() const {
  const std::optional<std::string> rss = procStatusField(pid_, "VmRSS");
  return rss ? std::stol(*rss) : -1;
}

double ServerProcess::cpuSeconds() const {
  return cpuSecondsFromStat("/proc/" + std::to_string(pid_) + "/stat");
}

int ServerProcess::fdCount() const {
  DIR* dir = opendir(("/proc/" + std::to_string(pid_) + "/fd").c_str());
  if (dir == nullptr) {
    return -1;
  }
  int count = 0;
  while (const dirent* entry = readdir(dir)) {
    count += entry->d_name[0] != '.' ? 1 : 0;
  }
  closedir(dir);
  return count;
}

uint64_t ServerProcess::blockedSignals() const {
  const std::optional<std::string> mask = procStatusField(pid_, "SigBlk");
  return mask ? std::stoull(*mask, nullptr, 16) : 0;
}

std::map<std::string, std::string> ServerProcess::statsLine(const std::string& label) const {
  return parseStatsLine(log(), label);
}

std::map<std::string, long> stopAndCountFinal(ServerProcess& server) {
  server.signal(SIGTERM);
  EXPECT_EQ(server.waitExit(milliseconds(15000)), 0);
  std::map<std::string, long> numbers;
  for (const auto& [key, value] : server.statsLine("final")) {
    if (value.find(',') == std::string::npos) {
      numbers[key] = std::stol(value);
    }
  }
  return numbers;
}

double threadCpuSeconds(pid_t pid, const std::string& name) {
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  DIR* dir = opendir(tasks.c_str());
  if (dir == nullptr) {
    return -1;
  }
  double seconds = -1;
  while (const dirent* entry = readdir(dir)) {
    std::ifstream comm(tasks + "/" + entry->d_name + "/comm");
    std::string comm_name;
    if (entry->d_name[0] != '.' && std::getline(comm, comm_name) && comm_name == name) {
      seconds = cpuSecondsFromStat(tasks + "/" + entry->d_name + "/stat");
      break;
    }
  }
  closedir(dir);
  return seconds;
}

uint16_t adminPort(const ServerProcess& server) {
  const std::string needle = "admin listening on ";
  if (!server.waitForLog(needle, milliseconds(10000))) {
    return 0;
  }
  const std::string log = server.log();
  const size_t line_end = log.find('\n', log.find(needle));
  const size_t colon = log.rfind(':', line_end);
  return static_cast<uint16_t>(std::stoi(log.substr(colon + 1, line_end - colon - 1)));
}

std::optional<std::string> procStatusField(pid_t pid, const std::string& key) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  const std::string prefix = key + ":";
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(prefix, 0) == 0) {
      return line.substr(prefix.size());
    }
  }
  return std::nullopt;
}

std::map<std::string, std::string> parseStatsLine(const std::string& log,
                                                  const std::string& label) {
  std::map<std::string, std::string> result;
  const size_t at = log.rfind("] " + label + " ");
  if (at == std::string::npos) {
    return result;
  }
  const size_t end = log.find('\n', at);
  std::istringstream words(log.substr(at, end == std::string::npos ? end : end - at));
  std::string word;
  while (words >> word) {
    const size_t equals = word.find('=');
    if (equals != std::string::npos) {
      result[word.substr(0, equals)] = word.substr(equals + 1);
    }
  }
  return result;
}

std::vector<long> statsList(const std::string& value) {
  std::vector<long> numbers;
  std::istringstream items(value);
  std::string item;
  while (std::getline(items, item, ',')) {
    numbers.push_back(std::stol(item));
  }
  return numbers;
}

namespace {

// A listening TCP socket of this network namespace, from /proc/net/tcp or tcp6.
struct Listener {
  uint16_t port;
  std::string inode;
};

std::vector<Listener> listeners() {
  std::vector<Listener> result;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream file(table);
    std::string line;
    std::getline(file, line);  // header
    while (std::getline(file, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
      fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
          timeout >> inode;
      if (state == "0A") {
        const unsigned port = std::stoul(local.substr(local.rfind(':') + 1), nullptr, 16);
        result.push_back({static_cast<uint16_t>(port), inode});
      }
    }
  }
  return result;
}

}  // namespace

int listenerCount(uint16_t port) {
  const std::vector<Listener> all = listeners();
  return static_cast<int>(
      std::count_if(all.begin(), all.end(), [&](const Listener& l) { return l.port == port; }));
}

std::vector<uint16_t> listeningPorts(pid_t pid) {
  std::set<std::string> inodes;  // "socket:[12345]" -> "12345"
  const std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd";
  if (DIR* dir = opendir(fd_dir.c_str())) {
    while (const dirent* entry = readdir(dir)) {
      char target[64] = {};
      const std::string link = fd_dir + "/" + entry->d_name;
      if (readlink(link.c_str(), target, sizeof target - 1) > 0 &&
          std::string_view(target).starts_with("socket:[")) {
        inodes.insert(std::string(target + 8, std::strlen(target) - 9));
      }
    }
    closedir(dir);
  }
  std::set<uint16_t> ports;
  for (const Listener& listener : listeners()) {
    if (inodes.count(listener.inode) > 0) {
      ports.insert(listener.port);
    }
  }
  return {ports.begin(), ports.end()};
}

RunResult runReactord(const std::vector<std::string>& flags, int run_as_uid,
                      const std::vector<std::string>& environment) {
  return runReactord(flags, ChildSetup{0, run_as_uid, environment, {}});
}

RunResult runReactord(const std::vector<std::string>& flags, const ChildSetup& setup) {
  ServerProcess process(flags, setup, /*wait_listening=*/false);
  RunResult result;
  result.exit_code = process.waitExit(milliseconds(10000)).value_or(-1000);
  process.waitForOutputEnd(milliseconds(2000));
  result.output = process.log();
  return result;
}

}  // namespace reactord::testing
