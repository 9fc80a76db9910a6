#include "tests/support/haproxy_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "common/listen_socket.h"
#include "common/socket_address.h"
#include "tests/support/server_process.h"

namespace reactord::testing {
namespace {

using Clock = std::chrono::steady_clock;

// A loopback port that was free a moment ago: bound once to learn its number, then closed.
uint16_t freePort() {
  auto socket = common::openListenSocket(*common::SocketAddress::parse("127.0.0.1", 0), 1, false);
  return socket.fd.valid() ? common::SocketAddress::localOf(socket.fd.get())->port() : 0;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string config(uint16_t v1_port, uint16_t v2_port, uint16_t backend_port) {
  const std::string backend = "127.0.0.1:" + std::to_string(backend_port);
  return "global\n"
         "  maxconn 2000\n"
         "defaults\n"
         "  mode tcp\n"
         "  timeout connect 5s\n"
         "  timeout client 60s\n"
         "  timeout server 60s\n"
         "frontend v1\n"
         "  bind 127.0.0.1:" +
         std::to_string(v1_port) +
         "\n"
         "  default_backend v1\n"
         "backend v1\n"
         "  server reactord " +
         backend +
         " send-proxy\n"
         "frontend v2\n"
         "  bind 127.0.0.1:" +
         std::to_string(v2_port) +
         "\n"
         "  unique-id-format %{+X}o%ci:%cp_%fi:%fp_%Ts_%rt:%pid\n"
         "  default_backend v2\n"
         "backend v2\n"
         "  server reactord " +
         backend + " send-proxy-v2 proxy-v2-options crc32c,unique-id\n";
}

}  // namespace

std::string HaproxyProcess::binary() {
  for (const char* path : {"/usr/sbin/haproxy", "/usr/bin/haproxy"}) {
    if (access(path, X_OK) == 0) {
      return path;
    }
  }
  return {};
}

HaproxyProcess::HaproxyProcess(uint16_t backend_port) {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "reactord-haproxy.XXXXXX").string();
  dir_ = mkdtemp(pattern.data());
  v1_port_ = freePort();
  v2_port_ = freePort();
  const std::string config_path = dir_ + "/haproxy.cfg";
  std::ofstream(config_path) << config(v1_port_, v2_port_, backend_port);
  const std::string log_path = dir_ + "/haproxy.log";
  const std::string program = binary();
  pid_ = fork();
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // gone with the test, even a killed one
    const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    execl(program.c_str(), program.c_str(), "-db", "-f", config_path.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  // Listening sockets, seen in /proc/net/tcp: a test connection would reach the backend.
  for (const auto deadline = Clock::now() + std::chrono::seconds(10); Clock::now() < deadline;) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    if (listenerCount(v1_port_) > 0 && listenerCount(v2_port_) > 0) {
      started_ = true;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

HaproxyProcess::~HaproxyProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (waitpid(pid_, nullptr, WNOHANG) != pid_) {
      if (Clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string HaproxyProcess::log() const {
  return "--- haproxy.cfg ---\n" + readFile(dir_ + "/haproxy.cfg") + "--- haproxy's output ---\n" +
         readFile(dir_ + "/haproxy.log");
}

}  // namespace reactord::testing
