#include "server/proxy_header_reader.h"

#include <glog/logging.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "common/socket_address.h"

namespace reactord::server {
namespace {

using common::ProxyHeaderParser;

std::string addressText(const sockaddr_storage& address) {
  return common::SocketAddress::of(address).toString();
}

}  // namespace

ProxyHeaderReader::ProxyHeaderReader(const ConnectionContext& context, ProxyHeaderOwner& owner,
                                     size_t read_bytes, common::UniqueFd fd,
                                     const sockaddr_storage& peer, uint32_t deadline_tick)
    : context_(context),
      owner_(owner),
      read_bytes_(read_bytes),
      fd_(std::move(fd)),
      peer_(peer),
      deadline_tick_(deadline_tick) {
  event_.assign(context_.base, fd_.get(), EV_READ | EV_PERSIST, &ProxyHeaderReader::onEvent, this);
  event_.add();
}

const sockaddr_storage& ProxyHeaderReader::clientAddress() const {
  return parser_.header().has_addresses ? parser_.header().source : peer_;
}

common::UniqueFd ProxyHeaderReader::takeFd() {
  event_.reset();
  return std::move(fd_);
}

void ProxyHeaderReader::onEvent(int /*fd*/, short /*what*/, void* self) {
  static_cast<ProxyHeaderReader*>(self)->onReadable();
}

void ProxyHeaderReader::onReadable() {
  char* const buffer = context_.scratch;
  const ssize_t n = ::recv(fd_.get(), buffer, read_bytes_, 0);
  if (n < 0) {
    if (errno != EAGAIN && errno != EINTR) {
      giveUp(std::strerror(errno));  // destroys this reader
    }
    return;
  }
  if (n == 0) {
    giveUp("closed by the client");
    return;
  }
  const ProxyHeaderParser::Step step = parser_.feed(buffer, static_cast<size_t>(n));
  if (step.status == ProxyHeaderParser::Status::kError) {
    refuse(parser_.error());
  } else if (step.status == ProxyHeaderParser::Status::kDone) {
    context_.stats->proxy_accepted.add();
    VLOG(1) << "fd " << fd_.get() << ": PROXY v" << header().version << " header, client "
            << addressText(clientAddress()) << (header().local ? " (LOCAL)" : "") << " via "
            << addressText(peer_);
    owner_.proxyHeaderDone(*this, buffer + step.consumed, static_cast<size_t>(n) - step.consumed);
  }
}

void ProxyHeaderReader::refuse(common::ProxyHeaderError error) {
  WorkerStats& stats = *context_.stats;
  switch (common::proxyHeaderErrorClass(error)) {
    case common::ProxyErrorClass::kNoHeader:
      stats.proxy_no_header.add();
      break;
    case common::ProxyErrorClass::kTooLong:
      stats.proxy_too_long.add();
      break;
    case common::ProxyErrorClass::kMalformed:
      stats.proxy_malformed.add();
      break;
  }
  LOG_EVERY_T(WARNING, 10) << "closing connections without a valid PROXY protocol header (this "
                           << "one from " << addressText(peer_) << ": "
                           << common::proxyHeaderErrorName(error) << ")";
  VLOG(1) << "fd " << fd_.get() << " from " << addressText(peer_)
          << ": PROXY header refused: " << common::proxyHeaderErrorName(error);
  owner_.proxyHeaderFailed(*this);
}

void ProxyHeaderReader::giveUp(const char* why) {
  context_.stats->proxy_incomplete.add();
  VLOG(1) << "fd " << fd_.get() << " from " << addressText(peer_)
          << ": gone before its PROXY header was complete (" << why << ")";
  owner_.proxyHeaderFailed(*this);
}

bool ProxyHeaderReader::expired(uint32_t now_tick) {
  if (static_cast<int32_t>(now_tick - deadline_tick_) < 0) {
    return false;
  }
  context_.stats->proxy_timeout.add();
  VLOG(1) << "fd " << fd_.get() << " from " << addressText(peer_)
          << ": no whole PROXY header after " << parser_.bytesConsumed()
          << " bytes, header timeout";
  return true;
}

}  // namespace reactord::server
