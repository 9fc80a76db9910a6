#pragma once

#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>

namespace reactord::common {

// read/send for the per-message path, straight to the kernel. In a process with more than one
// thread, glibc's read() and send() are cancellation points that switch asynchronous cancellation
// on and off around every call: about 60 user-space instructions per echoed message, measured with
// callgrind (a fifth of the whole budget). reactord never cancels a thread, so it does without.
// Same results and errno as read(2) and send(2). On x86-64 the system call is made inline, which
// spares the call into libc's syscall() and its argument shuffle (about 8 instructions each way).
#if defined(__x86_64__)
namespace detail {
inline ssize_t syscallResult(long result) {
  if (__builtin_expect(result < 0, 0)) {
    errno = static_cast<int>(-result);
    return -1;
  }
  return result;
}
}  // namespace detail

inline ssize_t rawRead(int fd, void* buffer, size_t size) {
  long result;
  asm volatile("syscall"
               : "=a"(result)
               : "a"(SYS_read), "D"(fd), "S"(buffer), "d"(size)
               : "rcx", "r11", "memory");
  return detail::syscallResult(result);
}

// send(2) with MSG_NOSIGNAL: a peer that has gone yields EPIPE, never SIGPIPE.
inline ssize_t rawSend(int fd, const void* data, size_t size) {
  long result;
  register long flags asm("r10") = MSG_NOSIGNAL;
  register long address asm("r8") = 0;
  register long address_length asm("r9") = 0;
  asm volatile("syscall"
               : "=a"(result)
               : "a"(SYS_sendto), "D"(fd), "S"(data), "d"(size), "r"(flags), "r"(address),
                 "r"(address_length)
               : "rcx", "r11", "memory");
  return detail::syscallResult(result);
}
#else
inline ssize_t rawRead(int fd, void* buffer, size_t size) {
  return ::syscall(SYS_read, fd, buffer, size);
}

// send(2) with MSG_NOSIGNAL: a peer that has gone yields EPIPE, never SIGPIPE.
inline ssize_t rawSend(int fd, const void* data, size_t size) {
  return ::syscall(SYS_sendto, fd, data, size, MSG_NOSIGNAL, nullptr, 0);
}
#endif

}  // namespace reactord::common
