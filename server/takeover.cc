#include "server/takeover.h"

#include <glog/logging.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <span>

#include "common/fd_message.h"
#include "common/unix_socket.h"

namespace reactord::server {
namespace {

using common::deadlineIn;
using Type = TakeoverMessage::Type;

// How long one side looks for the other's last words (an abort, a refusal) after a send to it
// failed because it had closed.
constexpr std::chrono::milliseconds kAbortGrace{200};

bool sendMessage(int channel, const TakeoverMessage& message, std::span<const int> fds,
                 std::chrono::milliseconds timeout, std::string* error) {
  return common::sendFdMessage(channel, message.encode(), fds, deadlineIn(timeout), error);
}

// One message received and decoded. `failure` is kNone when `message` holds a valid message.
struct Incoming {
  TakeoverFailure failure = TakeoverFailure::kNone;
  std::string error;
  TakeoverMessage message;
  std::vector<common::UniqueFd> fds;
};

Incoming receiveMessage(int channel, size_t max_fds, std::chrono::milliseconds timeout) {
  Incoming in;
  common::ReceiveResult received =
      common::receiveFdMessage(channel, kMaxTakeoverMessageBytes, max_fds, deadlineIn(timeout));
  switch (received.status) {
    case common::ReceiveStatus::kOk:
      break;
    case common::ReceiveStatus::kClosed:
      in.failure = TakeoverFailure::kUnreachable;
      in.error = "the peer closed the control connection";
      return in;
    case common::ReceiveStatus::kTimeout:
      in.failure = TakeoverFailure::kTimeout;
      in.error = "no answer within " + std::to_string(timeout.count()) + " ms";
      return in;
    default:
      in.failure = TakeoverFailure::kProtocol;
      in.error = received.error;
      return in;
  }
  const DecodeResult decoded = decodeTakeoverMessage(received.message.bytes);
  if (decoded.status == DecodeStatus::kWrongVersion) {
    in.failure = TakeoverFailure::kVersion;
    in.error = "the peer speaks " + decoded.error;
    return in;
  }
  if (decoded.status != DecodeStatus::kOk) {
    in.failure = TakeoverFailure::kProtocol;
    in.error = "malformed message: " + decoded.error;
    return in;
  }
  in.message = decoded.message;
  in.fds = std::move(received.message.fds);
  return in;
}

bool sameListenAddress(const common::SocketAddress& expected, const common::SocketAddress& actual) {
  return expected.family() == actual.family() && expected.ipString() == actual.ipString() &&
         (expected.port() == 0 || expected.port() == actual.port());
}

int intOption(int fd, int level, int name) {
  int value = -1;
  socklen_t length = sizeof value;
  return ::getsockopt(fd, level, name, &value, &length) == 0 ? value : -1;
}

// Empty when `fd` is a listening TCP socket bound to `address`; otherwise what it is instead.
std::string checkListener(int fd, const common::SocketAddress& address) {
  if (intOption(fd, SOL_SOCKET, SO_TYPE) != SOCK_STREAM ||
      intOption(fd, SOL_SOCKET, SO_PROTOCOL) != IPPROTO_TCP) {
    return "is not a TCP socket";
  }
  if (intOption(fd, SOL_SOCKET, SO_ACCEPTCONN) != 1) {
    return "is not listening";
  }
  const auto bound = common::SocketAddress::localOf(fd);
  if (!bound || bound->toString() != address.toString()) {
    return "is bound to " + (bound ? bound->toString() : std::string("nothing")) + ", not " +
           address.toString();
  }
  return {};
}

}  // namespace

const char* takeoverFailureName(TakeoverFailure failure) {
  static const char* const kNames[] = {"none",    "unreachable", "permission", "version",
                                       "refused", "mismatch",    "protocol",   "timeout"};
  return kNames[static_cast<int>(failure)];
}

bool TakeoverClient::fail(TakeoverFailure failure, std::string text, std::string* error) {
  failure_ = failure;
  *error = std::move(text);
  listeners_.clear();
  return false;
}

bool TakeoverClient::connectAndReceive(const std::string& path,
                                       const common::SocketAddress& expected, std::string* error) {
  common::UnixConnectResult connected =
      common::connectUnixSeqpacket(path, deadlineIn(timeouts_.step));
  if (!connected.fd.valid()) {
    nothing_listening_ = connected.error == ENOENT || connected.error == ECONNREFUSED;
    const bool permission = connected.error == EACCES || connected.error == EPERM;
    std::string text = "old process not reachable: " + connected.text;
    if (permission) {
      text = "permission denied on the control socket " + path +
             " (it is owner-only: run as the user of the old process)";
    } else if (connected.error == ECONNREFUSED) {
      text += " (no process listens there: it exited, or was started without --control_socket)";
    }
    return fail(permission                     ? TakeoverFailure::kPermission
                : connected.error == ETIMEDOUT ? TakeoverFailure::kTimeout
                                               : TakeoverFailure::kUnreachable,
                std::move(text), error);
  }
  return receive(std::move(connected.fd), expected, error);
}

bool TakeoverClient::receive(common::UniqueFd channel, const common::SocketAddress& expected,
                             std::string* error) {
  channel_ = std::move(channel);
  TakeoverMessage hello;
  hello.type = Type::kHello;
  hello.pid = ::getpid();
  std::string text;
  // An old process that refuses at once may have closed before the hello went out: its refusal
  // is still queued on the channel, so look for it before calling the old process unreachable.
  const bool said_hello = sendMessage(channel_.get(), hello, {}, timeouts_.step, &text);
  Incoming offer = receiveMessage(channel_.get(), 0, said_hello ? timeouts_.step : kAbortGrace);
  if (!said_hello && offer.message.type != Type::kRefused) {
    return fail(TakeoverFailure::kUnreachable, "old process not reachable: " + text, error);
  }
  if (offer.failure != TakeoverFailure::kNone) {
    return fail(offer.failure, "waiting for the old process's offer: " + offer.error, error);
  }
  if (offer.message.type == Type::kRefused) {
    const bool version = offer.message.reason.find("protocol version") != std::string::npos;
    return fail(version ? TakeoverFailure::kVersion : TakeoverFailure::kRefused,
                "the old process refused the takeover: " + offer.message.reason, error);
  }
  if (offer.message.type != Type::kOffer) {
    abort("expected an offer");
    return fail(TakeoverFailure::kProtocol,
                std::string("expected an offer, got ") + takeoverTypeName(offer.message.type),
                error);
  }
  old_pid_ = offer.message.pid;
  if (!receiveListeners(offer.message.count, expected, error)) {
    abort(*error);
    return false;
  }
  return true;
}

bool TakeoverClient::receiveListeners(uint32_t count, const common::SocketAddress& expected,
                                      std::string* error) {
  for (uint32_t index = 0; index < count; ++index) {
    Incoming in = receiveMessage(channel_.get(), 1, timeouts_.step);
    if (in.failure != TakeoverFailure::kNone) {
      return fail(in.failure, "receiving listener " + std::to_string(index) + ": " + in.error,
                  error);
    }
    if (in.message.type != Type::kListener || in.message.count != index || in.fds.size() != 1) {
      return fail(TakeoverFailure::kProtocol,
                  "expected listener " + std::to_string(index) + " with one descriptor, got " +
                      takeoverTypeName(in.message.type) + " with " + std::to_string(in.fds.size()),
                  error);
    }
    const auto bound = common::SocketAddress::localOf(in.fds[0].get());
    if (!bound || !sameListenAddress(expected, *bound)) {
      return fail(TakeoverFailure::kMismatch,
                  "address mismatch: the old process (pid " + std::to_string(old_pid_) +
                      ") listens on " + (bound ? bound->toString() : in.message.address) +
                      ", this one is configured for " + expected.toString() +
                      (expected.port() == 0 ? " (port 0: any)" : ""),
                  error);
    }
    const std::string problem = checkListener(in.fds[0].get(), *bound);
    if (!problem.empty() || bound->toString() != in.message.address) {
      return fail(TakeoverFailure::kMismatch,
                  "listener " + std::to_string(index) + " (announced as " + in.message.address +
                      ") " + (problem.empty() ? "is bound elsewhere" : problem),
                  error);
    }
    address_ = *bound;
    listeners_.push_back(std::move(in.fds[0]));
  }
  return true;
}

bool TakeoverClient::finish(int workers, std::string* error) {
  TakeoverMessage ready;
  ready.type = Type::kReady;
  ready.pid = ::getpid();
  ready.count = static_cast<uint32_t>(workers);
  if (!sendMessage(channel_.get(), ready, {}, timeouts_.step, error)) {
    channel_.reset();
    return false;
  }
  Incoming done = receiveMessage(channel_.get(), 0, timeouts_.step);
  channel_.reset();
  if (done.failure != TakeoverFailure::kNone) {
    *error = "waiting for the old process to stop accepting: " + done.error;
    return false;
  }
  if (done.message.type != Type::kDone) {
    *error = std::string("expected done, got ") + takeoverTypeName(done.message.type);
    return false;
  }
  return true;
}

void TakeoverClient::abort(const std::string& reason) {
  if (!channel_.valid()) {
    return;
  }
  TakeoverMessage message;
  message.type = Type::kAbort;
  message.reason = reason;
  std::string ignored;
  sendMessage(channel_.get(), message, {}, std::chrono::milliseconds(500), &ignored);
  channel_.reset();
}

void refuseTakeover(int channel, const std::string& reason, std::chrono::milliseconds timeout) {
  TakeoverMessage message;
  message.type = Type::kRefused;
  message.reason = reason;
  std::string ignored;
  sendMessage(channel, message, {}, timeout, &ignored);
}

TakeoverOutcome serveTakeover(int channel, TakeoverHost& host, TakeoverTimeouts timeouts) {
  TakeoverOutcome outcome;
  Incoming hello = receiveMessage(channel, 0, timeouts.step);
  if (hello.failure == TakeoverFailure::kVersion) {
    refuseTakeover(channel, hello.error + ": protocol version not supported", timeouts.step);
  } else if (hello.failure == TakeoverFailure::kProtocol) {
    refuseTakeover(channel, hello.error, timeouts.step);
  } else if (hello.failure == TakeoverFailure::kNone && hello.message.type != Type::kHello) {
    hello.error = std::string("expected hello, got ") + takeoverTypeName(hello.message.type);
    refuseTakeover(channel, hello.error, timeouts.step);
  }
  if (hello.failure != TakeoverFailure::kNone || hello.message.type != Type::kHello) {
    outcome.no_request = hello.failure == TakeoverFailure::kUnreachable;
    outcome.text = "takeover request refused: " + hello.error;
    return outcome;
  }
  const pid_t peer = hello.message.pid;
  const std::string who = "takeover by pid " + std::to_string(peer);
  if (const auto reason = host.refusal()) {
    refuseTakeover(channel, *reason, timeouts.step);
    outcome.text = who + " refused: " + *reason;
    return outcome;
  }
  TakeoverMessage offer;
  offer.type = Type::kOffer;
  offer.pid = ::getpid();
  common::SocketAddress address;
  const std::vector<common::UniqueFd> listeners = host.duplicateListeners(&address);
  if (listeners.empty() || listeners.size() > kMaxTakeoverListeners) {
    refuseTakeover(channel, "no listeners to hand over", timeouts.step);
    outcome.text = who + " refused: no listeners to hand over";
    return outcome;
  }
  offer.count = static_cast<uint32_t>(listeners.size());
  offer.address = address.toString();
  std::string error;
  bool sent = sendMessage(channel, offer, {}, timeouts.step, &error);
  for (uint32_t i = 0; sent && i < listeners.size(); ++i) {
    TakeoverMessage listener;
    listener.type = Type::kListener;
    listener.count = i;
    listener.address = offer.address;
    const int fd = listeners[i].get();
    sent = sendMessage(channel, listener, std::span<const int>(&fd, 1), timeouts.step, &error);
  }
  // A new process that gave up (abort) may have closed before every listener was sent: its
  // reason is still queued on the channel.
  if (sent) {
    LOG(INFO) << "takeover: sent " << listeners.size() << " listeners on " << offer.address
              << " to pid " << peer << "; waiting for it to serve them";
  }
  Incoming ready = receiveMessage(channel, 0, sent ? timeouts.ready : kAbortGrace);
  if (!sent && ready.message.type != Type::kAbort) {
    outcome.text = who + " failed while sending the listeners: " + error + "; still serving";
    return outcome;
  }
  if (ready.failure != TakeoverFailure::kNone) {
    outcome.text = who + " failed: " + ready.error + "; still serving";
    return outcome;
  }
  if (ready.message.type == Type::kAbort) {
    outcome.text = who + " aborted by the new process: " + ready.message.reason + "; still serving";
    return outcome;
  }
  if (ready.message.type != Type::kReady) {
    outcome.text = who + " failed: expected ready, got " + takeoverTypeName(ready.message.type) +
                   "; still serving";
    return outcome;
  }
  host.stopAccepting();
  TakeoverMessage done;
  done.type = Type::kDone;
  done.pid = ::getpid();
  const bool confirmed = sendMessage(channel, done, {}, timeouts.step, &error);
  outcome.handed_over = true;
  outcome.new_pid = peer;
  outcome.text = "handed " + std::to_string(listeners.size()) + " listeners over to pid " +
                 std::to_string(peer) + " (workers=" + std::to_string(ready.message.count) +
                 "); stopped accepting" + (confirmed ? "" : " (could not confirm: " + error + ")");
  return outcome;
}

}  // namespace reactord::server
