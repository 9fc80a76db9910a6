#include "server/takeover_message.h"

#include <array>
#include <charconv>
#include <vector>

namespace reactord::server {
namespace {

constexpr std::string_view kPrefix = "reactord-takeover/";

struct TypeInfo {
  TakeoverMessage::Type type;
  const char* name;
  std::vector<std::string_view> fields;  // in wire order
};

const std::array<TypeInfo, 7>& types() {
  using T = TakeoverMessage::Type;
  static const std::array<TypeInfo, 7> kTypes = {{
      {T::kHello, "hello", {"pid"}},
      {T::kOffer, "offer", {"pid", "listeners", "address"}},
      {T::kListener, "listener", {"index", "address"}},
      {T::kReady, "ready", {"pid", "workers"}},
      {T::kDone, "done", {"pid"}},
      {T::kRefused, "refused", {"reason"}},
      {T::kAbort, "abort", {"reason"}},
  }};
  return kTypes;
}

const TypeInfo& infoOf(TakeoverMessage::Type type) { return types()[static_cast<size_t>(type)]; }

std::optional<uint64_t> parseNumber(std::string_view text, uint64_t max) {
  uint64_t value = 0;
  if (text.empty() || text.size() > 10) {
    return std::nullopt;
  }
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value > max) {
    return std::nullopt;
  }
  return value;
}

// Sets one field of `message` from its text; false when the value is not valid for it.
bool setField(std::string_view key, std::string_view value, TakeoverMessage* message) {
  if (key == "reason") {
    message->reason = std::string(value);
    return true;
  }
  if (key == "address") {
    // "1.2.3.4:80" or "[::1]:80": printable, no blanks, bounded by the message size anyway.
    if (value.empty() || value.find_first_of(" \t\r\n") != std::string_view::npos) {
      return false;
    }
    message->address = std::string(value);
    return true;
  }
  const bool is_pid = key == "pid";
  const auto number = parseNumber(value, is_pid ? 0x7fffffff : kMaxTakeoverListeners);
  if (!number || (is_pid && *number == 0) || (key == "listeners" && *number == 0)) {
    return false;
  }
  if (is_pid) {
    message->pid = static_cast<pid_t>(*number);
  } else {
    message->count = static_cast<uint32_t>(*number);
  }
  return true;
}

DecodeResult garbage(std::string error) {
  DecodeResult result;
  result.status = DecodeStatus::kGarbage;
  result.error = std::move(error);
  return result;
}

}  // namespace

const char* takeoverTypeName(TakeoverMessage::Type type) { return infoOf(type).name; }

std::string TakeoverMessage::encode() const {
  const TypeInfo& info = infoOf(type);
  std::string text =
      std::string(kPrefix) + std::to_string(kTakeoverProtocolVersion) + " " + info.name;
  for (std::string_view field : info.fields) {
    text += " ";
    text += field;
    text += "=";
    if (field == "pid") {
      text += std::to_string(pid);
    } else if (field == "address") {
      text += address;
    } else if (field == "reason") {
      std::string cleaned = reason.empty() ? "unspecified" : reason;
      for (char& c : cleaned) {
        if (c == '\n' || c == '\r' || c == '\0') {
          c = ' ';
        }
      }
      text += cleaned;
    } else {
      text += std::to_string(count);
    }
  }
  if (text.size() > kMaxTakeoverMessageBytes) {
    text.resize(kMaxTakeoverMessageBytes);
  }
  return text;
}

DecodeResult decodeTakeoverMessage(std::string_view text) {
  if (text.substr(0, kPrefix.size()) != kPrefix) {
    return garbage("not a takeover message");
  }
  text.remove_prefix(kPrefix.size());
  const size_t version_end = text.find(' ');
  const auto version = parseNumber(text.substr(0, version_end), 1000000);
  if (!version) {
    return garbage("no protocol version");
  }
  if (*version != kTakeoverProtocolVersion) {
    DecodeResult result;
    result.status = DecodeStatus::kWrongVersion;
    result.message.version = static_cast<int>(*version);
    result.error = "protocol version " + std::to_string(*version) + " (this reactord speaks " +
                   std::to_string(kTakeoverProtocolVersion) + ")";
    return result;
  }
  if (version_end == std::string_view::npos) {
    return garbage("no message type");
  }
  text.remove_prefix(version_end + 1);
  const size_t type_end = text.find(' ');
  const std::string_view type_name = text.substr(0, type_end);
  const TypeInfo* info = nullptr;
  for (const TypeInfo& candidate : types()) {
    if (type_name == candidate.name) {
      info = &candidate;
    }
  }
  if (info == nullptr) {
    return garbage("unknown message type '" + std::string(type_name.substr(0, 32)) + "'");
  }
  DecodeResult result;
  result.message.type = info->type;
  std::string_view rest = type_end == std::string_view::npos ? "" : text.substr(type_end);
  for (std::string_view field : info->fields) {
    const std::string expected = " " + std::string(field) + "=";
    if (rest.substr(0, expected.size()) != expected) {
      return garbage(std::string(info->name) + ": field '" + std::string(field) +
                     "' missing or out of order");
    }
    rest.remove_prefix(expected.size());
    const size_t end = field == "reason" ? std::string_view::npos : rest.find(' ');
    if (!setField(field, rest.substr(0, end), &result.message)) {
      return garbage(std::string(info->name) + ": bad value of '" + std::string(field) + "'");
    }
    rest = end == std::string_view::npos ? "" : rest.substr(end);
  }
  if (!rest.empty()) {
    return garbage(std::string(info->name) + ": unexpected bytes after the last field");
  }
  result.status = DecodeStatus::kOk;
  return result;
}

}  // namespace reactord::server
