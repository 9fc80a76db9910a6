#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace reactord::server {

// The takeover protocol's version. A peer speaking another version is refused with a message that
// names both; the version is the first thing decoded, so that every later version can still be
// told apart from garbage.
inline constexpr int kTakeoverProtocolVersion = 1;
// Bounds of the protocol: one message (SOCK_SEQPACKET, so one recvmsg) and the listeners of one
// handover (--workers tops out at 1024, and every worker may have opened one).
inline constexpr size_t kMaxTakeoverMessageBytes = 512;
inline constexpr uint32_t kMaxTakeoverListeners = 1024;

// One message of the takeover handshake, as a value. On the wire it is one line of text:
//   reactord-takeover/1 hello pid=4321                         new -> old: may I take over?
//   reactord-takeover/1 offer pid=1234 listeners=2 address=0.0.0.0:7000      old -> new
//   reactord-takeover/1 listener index=0 address=0.0.0.0:7000  old -> new, with 1 fd (SCM_RIGHTS)
//   reactord-takeover/1 ready pid=4321 workers=3               new -> old: serving; stop now
//   reactord-takeover/1 done pid=1234                          old -> new: stopped accepting
//   reactord-takeover/1 refused reason=...                     old -> new: not now, and why
//   reactord-takeover/1 abort reason=...                       new -> old: keep serving, and why
// Fields are exactly those listed, in that order; `reason` is last and runs to the end. A value
// type; any thread.
struct TakeoverMessage {
  enum class Type { kHello, kOffer, kListener, kReady, kDone, kRefused, kAbort };

  Type type = Type::kHello;
  int version = kTakeoverProtocolVersion;  // decode(): the version the peer spoke
  pid_t pid = 0;                           // hello, offer, ready, done
  uint32_t count = 0;                      // offer: listeners; listener: index; ready: workers
  std::string address;                     // offer, listener: "0.0.0.0:7000", "[::]:7000"
  std::string reason;                      // refused, abort

  // One line, at most kMaxTakeoverMessageBytes (a longer reason is cut, newlines become spaces).
  std::string encode() const;
};

const char* takeoverTypeName(TakeoverMessage::Type type);

enum class DecodeStatus {
  kOk,
  kWrongVersion,  // a takeover message of another version: `version` says which
  kGarbage,       // not a well-formed message of this protocol
};

struct DecodeResult {
  DecodeStatus status = DecodeStatus::kGarbage;
  TakeoverMessage message;  // kOk: the message; kWrongVersion: only `version`
  std::string error;        // otherwise: what is wrong, in one line
};

// Strict: unknown or missing fields, a field out of order, a number with a sign or too many
// digits, a count past kMaxTakeoverListeners, or bytes past the last field are garbage.
DecodeResult decodeTakeoverMessage(std::string_view text);

}  // namespace reactord::server
