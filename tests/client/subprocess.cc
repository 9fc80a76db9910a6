#include "tests/client/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

#include "common/unique_fd.h"

namespace reactord::client::testing {
namespace {

using common::UniqueFd;

void makePipe(UniqueFd* read_end, UniqueFd* write_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe2 failed");
  }
  read_end->reset(fds[0]);
  write_end->reset(fds[1]);
}

pid_t spawn(const std::vector<std::string>& argv, int in_fd, int out_fd, int err_fd) {
  std::vector<char*> args;
  for (const std::string& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(in_fd, STDIN_FILENO);
    dup2(out_fd, STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    execv(args[0], args.data());
    _exit(127);
  }
  if (pid < 0) {
    throw std::runtime_error("fork failed");
  }
  return pid;
}

// Moves data between the child's pipes until both outputs are closed or the deadline passes.
bool pump(UniqueFd& in, std::string_view input, UniqueFd& out, UniqueFd& err, ProcessResult* result,
          std::chrono::steady_clock::time_point deadline) {
  fcntl(in.get(), F_SETFL, O_NONBLOCK);
  if (input.empty()) {
    in.reset();
  }
  while (out.valid() || err.valid()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return false;
    }
    pollfd fds[3] = {{out.get(), POLLIN, 0}, {err.get(), POLLIN, 0}, {in.get(), POLLOUT, 0}};
    if (poll(fds, 3, static_cast<int>(left.count())) < 0 && errno != EINTR) {
      return false;
    }
    char buffer[65536];
    UniqueFd* readers[2] = {&out, &err};
    std::string* sinks[2] = {&result->out, &result->err};
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents != 0) {
        const ssize_t n = read(readers[i]->get(), buffer, sizeof buffer);
        if (n > 0) {
          sinks[i]->append(buffer, static_cast<size_t>(n));
        } else if (n == 0 || errno != EINTR) {
          readers[i]->reset();
        }
      }
    }
    if (fds[2].revents != 0) {
      const ssize_t n = write(in.get(), input.data(), input.size());
      if (n > 0) {
        input.remove_prefix(static_cast<size_t>(n));
      }
      if (input.empty() || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        in.reset();
      }
    }
  }
  return true;
}

}  // namespace

ProcessResult runProcess(const std::vector<std::string>& argv, const std::string& input,
                         std::chrono::milliseconds timeout) {
  signal(SIGPIPE, SIG_IGN);  // a child that exits early must not kill the test
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  UniqueFd in_read, in_write, out_read, out_write, err_read, err_write;
  makePipe(&in_read, &in_write);
  makePipe(&out_read, &out_write);
  makePipe(&err_read, &err_write);
  const pid_t pid = spawn(argv, in_read.get(), out_write.get(), err_write.get());
  in_read.reset();
  out_write.reset();
  err_write.reset();
  ProcessResult result;
  if (!pump(in_write, input, out_read, err_read, &result, deadline)) {
    result.timed_out = true;
    kill(pid, SIGKILL);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  return result;
}

}  // namespace reactord::client::testing
